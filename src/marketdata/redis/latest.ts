/**
 * The latest-price projection in Redis, for readers in other processes (the gateway's routes, dashboards):
 * per instrument one hash with its latest trade, best bid and offer and last bar per interval.
 *
 * The pipeline calls the projection synchronously per tick, millions of times a second; Redis cannot take a
 * command per tick. So calls are merged here, per instrument, into what changed since the last write (bounded
 * by instruments × intervals, not by ticks), and written every `flushIntervalMs` (or as soon as `dirtyMax`
 * entries are waiting) in one pipelined round trip.
 *
 * Writes are monotonic by event time, in Redis itself: a Lua script per kind compares the stored time (a
 * trade's µs and ns, a quote's µs, a bar's start, end and revision) and keeps the newer, so a redelivered or
 * reordered message, another process writing older data, or a retried flush never moves a value back. A
 * failed write keeps its entries for the next flush (merged with anything newer).
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import type * as IORedis from 'ioredis';
import type { Bar } from '../bars/index.js';
import type { LatestProjection, LatestState } from '../pipeline/index.js';

export interface RedisLatestOptions {
  /** Every key starts with it (`rialto:md:latest:BTC-USDT`). */
  readonly keyPrefix: string;
  readonly flushIntervalMs: number;
  /** Instruments and bars waiting to be written that trigger a write at once. */
  readonly dirtyMax: number;
}

export const REDIS_LATEST_DEFAULTS: Readonly<RedisLatestOptions> = Object.freeze({
  keyPrefix: 'rialto:md:',
  flushIntervalMs: 50,
  dirtyMax: 1_000,
});

export interface RedisLatestCounters {
  /** Script calls that changed Redis, and those that found something newer there (left unchanged). */
  applied: number;
  stale: number;
  flushes: number;
  /** Flushes that failed (their entries stay for the next one). */
  failures: number;
}

const KEY_PREFIX = /^[A-Za-z0-9:_.-]{0,64}$/;

/** KEYS: the instrument's hash, the set of instruments. ARGV: instrument, price, size, time µs, time ns. */
const TRADE_LUA = `
local t = redis.call('HMGET', KEYS[1], 'time_us', 'time_ns')
if t[1] then
  local us, ns, nus, nns = tonumber(t[1]), tonumber(t[2]), tonumber(ARGV[4]), tonumber(ARGV[5])
  if nus < us or (nus == us and nns < ns) then return 0 end
end
redis.call('HSET', KEYS[1], 'price', ARGV[2], 'size', ARGV[3], 'time_us', ARGV[4], 'time_ns', ARGV[5])
redis.call('SADD', KEYS[2], ARGV[1])
return 1`;

/** ARGV: instrument, bid price, bid size, ask price, ask size ('' for an empty side), time µs. */
const QUOTE_LUA = `
local t = redis.call('HGET', KEYS[1], 'quote_time_us')
if t and tonumber(ARGV[6]) < tonumber(t) then return 0 end
redis.call('HSET', KEYS[1], 'bid_price', ARGV[2], 'bid_size', ARGV[3], 'ask_price', ARGV[4],
  'ask_size', ARGV[5], 'quote_time_us', ARGV[6])
redis.call('SADD', KEYS[2], ARGV[1])
return 1`;

/**
 * ARGV: instrument, interval, start µs, end µs, revision, the bar as JSON. A bar replaces the one shown when
 * (start, end, revision) is not less: a later bar, or a correction of the same one.
 */
const BAR_LUA = `
local f = 'bar:' .. ARGV[2]
local k = redis.call('HGET', KEYS[1], f .. ':key')
if k then
  local s, e, r = string.match(k, '^(%d+) (%d+) (%d+)$')
  s, e, r = tonumber(s), tonumber(e), tonumber(r)
  local ns, ne, nr = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
  if ns < s or (ns == s and (ne < e or (ne == e and nr < r))) then return 0 end
end
redis.call('HSET', KEYS[1], f, ARGV[6], f .. ':key', ARGV[3] .. ' ' .. ARGV[4] .. ' ' .. ARGV[5])
redis.call('SADD', KEYS[2], ARGV[1])
return 1`;

class Script {
  readonly sha: string;
  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }
}
const SCRIPTS = { trade: new Script(TRADE_LUA), quote: new Script(QUOTE_LUA), bar: new Script(BAR_LUA) };

interface PendingTrade {
  price: number;
  size: number;
  timeUs: number;
  timeNs: number;
}
interface PendingQuote {
  bidPrice: number;
  bidSize: number;
  askPrice: number;
  askSize: number;
  timeUs: number;
}
interface Pending {
  trade: PendingTrade | null;
  quote: PendingQuote | null;
  bars: Map<string, Bar>;
}

/** Whether `b` may replace `a` as the last bar of its interval: (start, end, revision) not less. */
export function barNotOlder(a: Bar, b: Bar): boolean {
  if (b.startUs !== a.startUs) return b.startUs > a.startUs;
  if (b.endUs !== a.endUs) return b.endUs > a.endUs;
  return b.revision >= a.revision;
}

const text = (n: number): string => (Number.isNaN(n) ? '' : String(n));
const num = (s: string | undefined): number | null => (s === undefined || s === '' ? null : Number(s));

export class RedisLatest implements LatestProjection {
  private readonly o: RedisLatestOptions;
  private pending = new Map<string, Pending>();
  private dirty = 0;
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  private readonly c: RedisLatestCounters = { applied: 0, stale: 0, flushes: 0, failures: 0 };
  /** The last failure, for a health check or a log; null once a flush succeeds. */
  lastError: Error | null = null;

  constructor(
    private readonly redis: Redis,
    options: Partial<RedisLatestOptions> = {},
  ) {
    this.o = { ...REDIS_LATEST_DEFAULTS, ...options };
    if (!KEY_PREFIX.test(this.o.keyPrefix)) throw new Error('redis latest: bad key prefix');
    if (!Number.isSafeInteger(this.o.flushIntervalMs) || this.o.flushIntervalMs < 1)
      throw new Error('redis latest: bad flushIntervalMs');
    if (!Number.isSafeInteger(this.o.dirtyMax) || this.o.dirtyMax < 1)
      throw new Error('redis latest: bad dirtyMax');
  }

  /** The hash of one instrument. */
  keyOf(instrument: string): string {
    return `${this.o.keyPrefix}latest:${instrument}`;
  }

  /** The set of instruments that have a hash. */
  get instrumentsKey(): string {
    return `${this.o.keyPrefix}instruments`;
  }

  counters(): RedisLatestCounters {
    return { ...this.c };
  }

  trade(instrument: string, price: number, size: number, timeUs: number, timeNs: number): void {
    const p = this.entry(instrument);
    const t = p.trade;
    if (t !== null && (timeUs < t.timeUs || (timeUs === t.timeUs && timeNs < t.timeNs))) return;
    if (t === null) this.touch();
    p.trade = { price, size, timeUs, timeNs };
  }

  quote(
    instrument: string,
    bidPrice: number,
    bidSize: number,
    askPrice: number,
    askSize: number,
    timeUs: number,
  ): void {
    const p = this.entry(instrument);
    if (p.quote !== null && timeUs < p.quote.timeUs) return;
    if (p.quote === null) this.touch();
    p.quote = { bidPrice, bidSize, askPrice, askSize, timeUs };
  }

  bar(instrument: string, interval: string, bar: Bar): void {
    const p = this.entry(instrument);
    const shown = p.bars.get(interval);
    if (shown !== undefined && !barNotOlder(shown, bar)) return;
    if (shown === undefined) this.touch();
    p.bars.set(interval, bar);
  }

  /** Writes everything waiting; rejects when Redis did not take it (it stays waiting for the next flush). */
  flush(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const next = this.writing.catch(() => undefined).then(() => this.write());
    this.writing = next;
    return next;
  }

  /** Writes what is waiting (the pipeline has stopped calling); the Redis client stays the caller's. */
  close(): Promise<void> {
    return this.flush();
  }

  /** The instrument's state as Redis holds it (what other processes read). */
  async get(instrument: string): Promise<LatestState | undefined> {
    const h = await this.redis.hgetall(this.keyOf(instrument));
    if (Object.keys(h).length === 0) return undefined;
    const bars: Record<string, Bar> = {};
    for (const [field, value] of Object.entries(h)) {
      if (field.startsWith('bar:') && !field.endsWith(':key')) bars[field.slice(4)] = barFromJson(value);
    }
    return {
      instrument,
      lastPrice: num(h.price),
      lastSize: num(h.size),
      lastTimeUs: num(h.time_us),
      lastTimeNs: num(h.time_ns),
      bidPrice: num(h.bid_price),
      bidSize: num(h.bid_size),
      askPrice: num(h.ask_price),
      askSize: num(h.ask_size),
      quoteTimeUs: num(h.quote_time_us),
      bars,
    };
  }

  private entry(instrument: string): Pending {
    let p = this.pending.get(instrument);
    if (p === undefined) {
      p = { trade: null, quote: null, bars: new Map() };
      this.pending.set(instrument, p);
    }
    return p;
  }

  /** One more entry waiting: write soon, or now when many wait. */
  private touch(): void {
    this.dirty++;
    if (this.dirty >= this.o.dirtyMax) {
      this.flush().catch(() => undefined);
    } else if (this.timer === null) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.flush().catch(() => undefined);
      }, this.o.flushIntervalMs);
      this.timer.unref();
    }
  }

  private async write(): Promise<void> {
    const taken = this.pending;
    if (taken.size === 0) return;
    this.pending = new Map();
    this.dirty = 0;
    this.c.flushes++;
    try {
      await this.send(taken);
      this.lastError = null;
    } catch (e) {
      this.c.failures++;
      this.lastError = e instanceof Error ? e : new Error(String(e));
      this.restore(taken);
      throw this.lastError;
    }
  }

  /** One pipeline of script calls; on NOSCRIPT (a fresh or restarted Redis) loads them and sends it again. */
  private async send(taken: Map<string, Pending>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const pipe = this.redis.pipeline();
      const set = this.instrumentsKey;
      for (const [name, p] of taken) {
        const key = this.keyOf(name);
        const t = p.trade;
        if (t !== null)
          pipe.evalsha(SCRIPTS.trade.sha, 2, key, set, name, t.price, t.size, t.timeUs, t.timeNs);
        const q = p.quote;
        if (q !== null) {
          const args = [text(q.bidPrice), text(q.bidSize), text(q.askPrice), text(q.askSize), q.timeUs];
          pipe.evalsha(SCRIPTS.quote.sha, 2, key, set, name, ...args);
        }
        for (const [interval, b] of p.bars) {
          const json = JSON.stringify(barJson(b));
          pipe.evalsha(SCRIPTS.bar.sha, 2, key, set, name, interval, b.startUs, b.endUs, b.revision, json);
        }
      }
      const results = (await pipe.exec()) ?? [];
      const noScript = results.some(([e]) => e instanceof Error && e.message.startsWith('NOSCRIPT'));
      if (noScript && attempt === 0) {
        for (const s of Object.values(SCRIPTS)) await this.redis.script('LOAD', s.source);
        continue; // the scripts are monotonic, so the calls that did run before are safe to repeat
      }
      for (const [e, r] of results) {
        if (e !== null) throw e;
        if (r === 1) this.c.applied++;
        else this.c.stale++;
      }
      return;
    }
  }

  /** Puts entries whose write failed back, under anything newer that came meanwhile. */
  private restore(taken: Map<string, Pending>): void {
    for (const [name, p] of taken) {
      const t = p.trade;
      if (t !== null) this.trade(name, t.price, t.size, t.timeUs, t.timeNs);
      const q = p.quote;
      if (q !== null) this.quote(name, q.bidPrice, q.bidSize, q.askPrice, q.askSize, q.timeUs);
      for (const [interval, b] of p.bars) this.bar(name, interval, b);
    }
  }
}

interface BarJson {
  spec: number;
  start_us: number;
  start_ns: number;
  end_us: number;
  end_ns: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  /** A decimal string: the exact sum of price × size may pass 2^53. */
  notional: string;
  count: number;
  revision: number;
}

function barJson(b: Bar): BarJson {
  return {
    spec: b.spec,
    start_us: b.startUs,
    start_ns: b.startNs,
    end_us: b.endUs,
    end_ns: b.endNs,
    open: b.open,
    high: b.high,
    low: b.low,
    close: b.close,
    volume: b.volume,
    notional: b.notional.toString(),
    count: b.count,
    revision: b.revision,
  };
}

function barFromJson(s: string): Bar {
  const j = JSON.parse(s) as BarJson;
  return {
    spec: j.spec,
    startUs: j.start_us,
    startNs: j.start_ns,
    endUs: j.end_us,
    endNs: j.end_ns,
    open: j.open,
    high: j.high,
    low: j.low,
    close: j.close,
    volume: j.volume,
    notional: BigInt(j.notional),
    count: j.count,
    revision: j.revision,
  };
}

// ioredis is loaded when a client is made, not with this module (which every venue imports through the market
// data's index). It is CommonJS, so require loads it at once.
const require = createRequire(import.meta.url);
const ioredis = (): typeof IORedis => require('ioredis') as typeof IORedis;

/**
 * A Redis client for the projection, every option that matters set: commands fail at once while
 * disconnected (the projection keeps its entries and retries), a command gets `commandTimeoutMs`, and
 * reconnection backs off to two seconds and never gives up.
 */
export function createLatestRedisClient(url: string, commandTimeoutMs = 2_000): Redis {
  const client = new (ioredis().Redis)(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 2_000,
    commandTimeout: commandTimeoutMs,
    retryStrategy: (attempt: number) => Math.min(attempt * 100, 2_000),
    lazyConnect: false,
  });
  // Errors surface through the projection's failed flushes; without a listener ioredis would print each.
  client.on('error', () => undefined);
  return client;
}
