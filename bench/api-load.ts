/**
 * The load `bench:api` puts on the venue, whatever the transport: a seeded order mix over several accounts
 * and both instruments, and the two ways of running it.
 *
 * The mix, per operation: a cancel of one of the session's resting orders (`cancelShare`, when it has one),
 * a crossing order (`crossShare`: a limit or IOC order priced through the middle, so it trades against the
 * other sessions' resting orders), else a resting limit order a few ticks away from the middle. Each
 * operation names its session (an account and its key), so orders cross between accounts.
 *
 * - Saturation: `concurrency` loops, each sending an operation and the next as soon as the answer arrives
 *   (a closed loop): the venue's throughput with that many requests in flight.
 * - Fixed rate: an open loop that sends operation i at t0 + i / rate whatever the answers do, and measures
 *   each latency from that scheduled time, not from when it was actually sent, so that a stall of the venue
 *   (or of the bench) counts against every operation it delayed (no coordinated omission).
 */
import { performance } from 'node:perf_hooks';
import { LatencyHistogram } from './common.js';
import type { OpOutcome, OrderDriver, OrderOp } from './api-driver.js';

export interface InstrumentLoad {
  readonly symbol: string;
  /** The middle price and the tick, in ticks and as the number of decimals a price has. */
  readonly midTicks: number;
  readonly priceDecimals: number;
  /** Quantities are 1 to `qtyStepsMax` steps of `qtyStep` lots, written with `qtyDecimals` decimals. */
  readonly qtyStepLots: number;
  readonly qtyStepsMax: number;
  readonly qtyDecimals: number;
}

export interface MixOptions {
  readonly sessions: number;
  readonly instruments: readonly InstrumentLoad[];
  readonly cancelShare: number;
  readonly crossShare: number;
  /** Resting orders are 1 to this many ticks from the middle; crossing orders this far on the other side. */
  readonly spreadTicks: number;
  /** Every placement carries a client order id (as trading clients do), or none does. */
  readonly clientOrderIds: boolean;
  readonly seed: number;
}

/** The outcome counts of a run. */
export interface Tally {
  placed: number;
  cancelled: number;
  /** Answers that are not 2xx, by status and code (`409 ORDER_CANNOT_BE_CANCELLED`: filled meanwhile). */
  refused: Record<string, number>;
}

const newTally = (): Tally => ({ placed: 0, cancelled: 0, refused: {} });

/** A small seeded generator (mulberry32): the same seed gives the same mix. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer count of units as a decimal string with `decimals` decimals (exact: no floats involved). */
export function unitsText(units: number, decimals: number): string {
  if (decimals === 0) return String(units);
  const s = String(units).padStart(decimals + 1, '0');
  return `${s.slice(0, s.length - decimals)}.${s.slice(s.length - decimals)}`;
}

export class OrderMix {
  private readonly rand: () => number;
  /** Each session's resting orders (ids), from the answers. */
  private readonly resting: string[][];
  private readonly nextClientId: number[];
  private readonly prefix: string;
  private turn = 0;

  constructor(
    private readonly o: MixOptions,
    run: string,
  ) {
    if (!(o.cancelShare >= 0 && o.crossShare >= 0 && o.cancelShare + o.crossShare < 1)) {
      throw new RangeError('cancelShare + crossShare must be below 1');
    }
    this.rand = random(o.seed);
    this.resting = Array.from({ length: o.sessions }, () => []);
    this.nextClientId = new Array<number>(o.sessions).fill(0);
    this.prefix = run;
  }

  /** The next operation, for the sessions in turn. */
  next(): OrderOp {
    const session = this.turn;
    this.turn = (this.turn + 1) % this.o.sessions;
    const r = this.rand();
    const mine = this.resting[session];
    if (r < this.o.cancelShare && mine.length > 0) {
      // A random one of the session's resting orders, taken out at once so that it is cancelled only once.
      const k = Math.floor(this.rand() * mine.length);
      const orderId = mine[k];
      mine[k] = mine[mine.length - 1];
      mine.pop();
      return { kind: 'cancel', session, orderId };
    }
    const crossing = r >= 1 - this.o.crossShare;
    const inst = this.o.instruments[Math.floor(this.rand() * this.o.instruments.length)];
    const side = this.rand() < 0.5 ? 'buy' : 'sell';
    const away = crossing ? -this.o.spreadTicks : 1 + Math.floor(this.rand() * this.o.spreadTicks);
    const priceTicks = side === 'buy' ? inst.midTicks - away : inst.midTicks + away;
    const lots = inst.qtyStepLots * (1 + Math.floor(this.rand() * inst.qtyStepsMax));
    return {
      kind: 'place',
      session,
      symbol: inst.symbol,
      side,
      orderType: crossing && this.rand() < 0.5 ? 'ioc' : 'limit',
      price: unitsText(priceTicks, inst.priceDecimals),
      quantity: unitsText(lots, inst.qtyDecimals),
      clientOrderId: this.o.clientOrderIds ? `${this.prefix}-${this.nextClientId[session]++}` : null,
    };
  }

  /** Learns from an answer: a placed order that rests can be cancelled later. */
  settle(op: OrderOp, outcome: OpOutcome, tally: Tally): void {
    if (outcome.status >= 200 && outcome.status < 300) {
      if (op.kind === 'place') {
        tally.placed++;
        if (outcome.resting && outcome.orderId !== null) this.resting[op.session].push(outcome.orderId);
      } else tally.cancelled++;
      return;
    }
    const key = `${outcome.status} ${outcome.code ?? ''}`.trim();
    tally.refused[key] = (tally.refused[key] ?? 0) + 1;
  }
}

export interface SaturationResult {
  readonly opsPerSec: number;
  readonly ops: number;
  readonly seconds: number;
  readonly tally: Tally;
  readonly latencyMs: { p50: number; p99: number };
}

/**
 * `concurrency` closed loops for `warmupSeconds` (not counted) then `seconds` (counted). `onMeasure` is told
 * when the counted part starts and ends (the caller reads the server's CPU time there).
 */
export async function saturate(
  driver: OrderDriver,
  mix: OrderMix,
  concurrency: number,
  warmupSeconds: number,
  seconds: number,
  onMeasure: (phase: 'start' | 'end') => void,
): Promise<SaturationResult> {
  const tally = newTally();
  const latencies = new LatencyHistogram();
  let measuring = false;
  let stop = false;
  let ops = 0;
  const loop = async (): Promise<void> => {
    while (!stop) {
      const op = mix.next();
      const sentAt = performance.now();
      const outcome = await driver.send(op);
      if (measuring) {
        latencies.record((performance.now() - sentAt) * 1000);
        ops++;
        mix.settle(op, outcome, tally);
      } else mix.settle(op, outcome, newTally());
    }
  };
  const loops = Array.from({ length: concurrency }, () => loop());
  await sleep(warmupSeconds * 1000);
  onMeasure('start');
  measuring = true;
  const t0 = performance.now();
  await sleep(seconds * 1000);
  measuring = false;
  const elapsed = (performance.now() - t0) / 1000;
  onMeasure('end');
  stop = true;
  await Promise.all(loops);
  return {
    opsPerSec: Math.round(ops / elapsed),
    ops,
    seconds: round(elapsed, 2),
    tally,
    latencyMs: { p50: ms(latencies.percentile(0.5)), p99: ms(latencies.percentile(0.99)) },
  };
}

export interface FixedRateResult {
  readonly rate: number;
  readonly ops: number;
  /** Operations answered per second over the counted part (below `rate`: the venue fell behind). */
  readonly answeredPerSec: number;
  readonly tally: Tally;
  /** From each operation's scheduled send time to its answer. */
  readonly latencyMs: { p50: number; p99: number; p999: number; max: number };
  /** From the scheduled time to the actual send: the bench's own timer and queueing (part of the above). */
  readonly sendLagMs: { p50: number; p99: number };
  readonly inFlightMax: number;
}

/**
 * The open loop: operation i is due at t0 + i / rate; a timer sends every operation that is due (and at most
 * `inFlightMax` at once: past it, operations wait and their wait counts). The first `warmupSeconds` of
 * operations are sent but not counted.
 */
export async function fixedRate(
  driver: OrderDriver,
  mix: OrderMix,
  rate: number,
  warmupSeconds: number,
  seconds: number,
  inFlightMax: number,
  onMeasure: (phase: 'start' | 'end') => void,
): Promise<FixedRateResult> {
  const tally = newTally();
  const latencies = new LatencyHistogram();
  const lags = new LatencyHistogram();
  const intervalMs = 1000 / rate;
  const warmupOps = Math.round(rate * warmupSeconds);
  const total = warmupOps + Math.round(rate * seconds);
  let sent = 0;
  let answered = 0;
  let inFlight = 0;
  let inFlightSeen = 0;
  let firstCountedAt = 0;
  let lastAnsweredAt = 0;
  const t0 = performance.now() + 10;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      while (sent < total && t0 + sent * intervalMs <= now && inFlight < inFlightMax) {
        const i = sent++;
        const scheduled = t0 + i * intervalMs;
        const counted = i >= warmupOps;
        if (i === warmupOps) {
          onMeasure('start');
          firstCountedAt = scheduled;
        }
        if (counted) lags.record((now - scheduled) * 1000);
        inFlight++;
        inFlightSeen = Math.max(inFlightSeen, inFlight);
        const op = mix.next();
        void driver.send(op).then((outcome) => {
          const at = performance.now();
          inFlight--;
          if (counted) {
            latencies.record((at - scheduled) * 1000);
            mix.settle(op, outcome, tally);
          } else mix.settle(op, outcome, newTally());
          if (++answered === total) {
            lastAnsweredAt = at;
            onMeasure('end');
            resolve();
          }
        });
      }
      if (sent < total) setTimeout(tick, 0);
    };
    setTimeout(tick, 0);
  });
  const countedOps = total - warmupOps;
  return {
    rate,
    ops: countedOps,
    answeredPerSec: Math.round(countedOps / ((lastAnsweredAt - firstCountedAt) / 1000)),
    tally,
    latencyMs: {
      p50: ms(latencies.percentile(0.5)),
      p99: ms(latencies.percentile(0.99)),
      p999: ms(latencies.percentile(0.999)),
      max: ms(latencies.percentile(1)),
    },
    sendLagMs: { p50: ms(lags.percentile(0.5)), p99: ms(lags.percentile(0.99)) },
    inFlightMax: inFlightSeen,
  };
}

const sleep = (msToWait: number): Promise<void> => new Promise((r) => setTimeout(r, msToWait));
const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;
const ms = (us: number): number => round(us / 1000, 3);
