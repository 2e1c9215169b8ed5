/**
 * The served view: per instrument its latest trade price, best bid and offer and last bar per interval. A port,
 * so that a Redis projection can take the same calls later; the in-memory one is here.
 */
import type { Bar } from '../bars/index.js';

export interface LatestState {
  instrument: string;
  lastPrice: number | null;
  lastSize: number | null;
  lastTimeUs: number | null;
  lastTimeNs: number | null;
  bidPrice: number | null;
  bidSize: number | null;
  askPrice: number | null;
  askSize: number | null;
  quoteTimeUs: number | null;
  /** The last bar emitted per interval name (a correction replaces it only if it is the same or a later bar). */
  bars: Record<string, Bar>;
}

export interface LatestProjection {
  trade(instrument: string, price: number, size: number, timeUs: number, timeNs: number): void;
  quote(
    instrument: string,
    bidPrice: number,
    bidSize: number,
    askPrice: number,
    askSize: number,
    timeUs: number,
  ): void;
  bar(instrument: string, interval: string, bar: Bar): void;
}

const orNull = (n: number): number | null => (Number.isNaN(n) ? null : n);

export class InMemoryLatest implements LatestProjection {
  private readonly states = new Map<string, LatestState>();

  get(instrument: string): Readonly<LatestState> | undefined {
    return this.states.get(instrument);
  }

  instruments(): string[] {
    return [...this.states.keys()];
  }

  trade(instrument: string, price: number, size: number, timeUs: number, timeNs: number): void {
    const s = this.state(instrument);
    // Event time decides: a trade older than the latest one shown does not replace it.
    if (
      s.lastTimeUs !== null &&
      (timeUs < s.lastTimeUs || (timeUs === s.lastTimeUs && timeNs < (s.lastTimeNs ?? 0)))
    ) {
      return;
    }
    s.lastPrice = price;
    s.lastSize = size;
    s.lastTimeUs = timeUs;
    s.lastTimeNs = timeNs;
  }

  quote(
    instrument: string,
    bidPrice: number,
    bidSize: number,
    askPrice: number,
    askSize: number,
    timeUs: number,
  ): void {
    const s = this.state(instrument);
    if (s.quoteTimeUs !== null && timeUs < s.quoteTimeUs) return;
    s.bidPrice = orNull(bidPrice);
    s.bidSize = orNull(bidSize);
    s.askPrice = orNull(askPrice);
    s.askSize = orNull(askSize);
    s.quoteTimeUs = timeUs;
  }

  bar(instrument: string, interval: string, bar: Bar): void {
    const s = this.state(instrument);
    const shown = s.bars[interval];
    if (shown === undefined || bar.startUs >= shown.startUs) s.bars[interval] = bar;
  }

  private state(instrument: string): LatestState {
    let s = this.states.get(instrument);
    if (s === undefined) {
      s = {
        instrument,
        lastPrice: null,
        lastSize: null,
        lastTimeUs: null,
        lastTimeNs: null,
        bidPrice: null,
        bidSize: null,
        askPrice: null,
        askSize: null,
        quoteTimeUs: null,
        bars: {},
      };
      this.states.set(instrument, s);
    }
    return s;
  }
}
