/**
 * Reference data per instrument behind a port (in memory here, in the query store in reference-store.ts) and the cache the
 * enrich stage reads on the hot path. `lookup` never waits: a fresh entry is a hit; a stale one is served while
 * one refresh runs; a missing one answers null (the tick is flagged missing_metadata) while it loads. A change
 * announced by the port drops the entry at once and reloads it. Time comes from an injectable clock (µs).
 */
import type { ReferenceData } from './tick.js';

export interface ReferenceDataPort {
  get(instrument: string): Promise<ReferenceData | null>;
  /**
   * Calls `listener` with an instrument whose reference data changed, or with null when changes may have been
   * missed (anything may have changed); returns a function that stops it.
   */
  onChange(listener: (instrument: string | null) => void): () => void;
}

export class InMemoryReferenceData implements ReferenceDataPort {
  private readonly records = new Map<string, ReferenceData>();
  private listeners: ((instrument: string | null) => void)[] = [];

  get(instrument: string): Promise<ReferenceData | null> {
    return Promise.resolve(this.records.get(instrument) ?? null);
  }

  set(record: ReferenceData): void {
    this.records.set(record.instrument, Object.freeze({ ...record }));
    for (const l of this.listeners) l(record.instrument);
  }

  delete(instrument: string): void {
    if (this.records.delete(instrument)) for (const l of this.listeners) l(instrument);
  }

  onChange(listener: (instrument: string | null) => void): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }
}

export interface ReferenceCacheOptions {
  readonly ttlUs: number;
  /** Entries kept at most; past it the oldest loaded is dropped. */
  readonly entriesMax: number;
  readonly clockUs: () => number;
}

export interface ReferenceCacheStats {
  hits: number;
  stale: number;
  misses: number;
  loads: number;
  loadErrors: number;
  invalidations: number;
}

interface Entry {
  value: ReferenceData | null;
  expiresUs: number;
}

export class ReferenceCache {
  private readonly entries = new Map<string, Entry>();
  private readonly loading = new Map<string, Promise<void>>();
  private readonly stopListening: () => void;
  readonly stats: ReferenceCacheStats = {
    hits: 0,
    stale: 0,
    misses: 0,
    loads: 0,
    loadErrors: 0,
    invalidations: 0,
  };

  constructor(
    private readonly port: ReferenceDataPort,
    private readonly options: ReferenceCacheOptions,
  ) {
    if (!Number.isSafeInteger(options.ttlUs) || options.ttlUs <= 0)
      throw new Error('reference cache: bad ttl');
    if (!Number.isSafeInteger(options.entriesMax) || options.entriesMax <= 0) {
      throw new Error('reference cache: bad entriesMax');
    }
    this.stopListening = port.onChange((instrument) => {
      this.stats.invalidations++;
      if (instrument === null) {
        // Changes were missed: nothing cached can be trusted. Entries reload at their next lookup.
        this.entries.clear();
        return;
      }
      this.entries.delete(instrument);
      void this.load(instrument);
    });
  }

  /** The instrument's reference data as cached now (null: none known yet); starts a load when stale or missing. */
  lookup(instrument: string): ReferenceData | null {
    const e = this.entries.get(instrument);
    if (e === undefined) {
      this.stats.misses++;
      void this.load(instrument);
      return null;
    }
    if (this.options.clockUs() >= e.expiresUs) {
      this.stats.stale++;
      void this.load(instrument);
    } else {
      this.stats.hits++;
    }
    return e.value;
  }

  /** Loads (or reloads) an instrument's entry; concurrent calls share one load. */
  load(instrument: string): Promise<void> {
    const running = this.loading.get(instrument);
    if (running !== undefined) return running;
    this.stats.loads++;
    const p = this.port
      .get(instrument)
      .then(
        (value) => this.put(instrument, value),
        () => {
          // Keep serving what was known; the next lookup after the TTL tries again.
          this.stats.loadErrors++;
        },
      )
      .finally(() => this.loading.delete(instrument));
    this.loading.set(instrument, p);
    return p;
  }

  close(): void {
    this.stopListening();
  }

  private put(instrument: string, value: ReferenceData | null): void {
    if (!this.entries.has(instrument) && this.entries.size >= this.options.entriesMax) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.set(instrument, { value, expiresUs: this.options.clockUs() + this.options.ttlUs });
  }
}
