/**
 * Valid LOBSTER message streams for the tests: a known starting book (five bid and five ask levels, two orders
 * each, submitted first), then a seeded random flow of all seven message types that keeps the book uncrossed
 * and refers only to live orders with sizes they have, so the rebuild must report no issue at all.
 */
import type { Msg } from './reference.js';

export const MID = 1_000_000;
export const TICK = 100;

/** mulberry32: a small seeded generator, so that a failing stream can be regenerated from its seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Live {
  id: number;
  price: number;
  dir: number;
  left: number;
}

/** The known book: order ids 1..20, bids MID - k·TICK and asks MID + (k + 1)·TICK for k = 0..4. */
export function knownBook(t0: number): Msg[] {
  const msgs: Msg[] = [];
  let id = 1;
  for (let k = 0; k < 5; k++) {
    for (let j = 0; j < 2; j++) {
      msgs.push({
        t: t0 + msgs.length,
        type: 1,
        id: id++,
        size: 100 * (k + 1) + j,
        price: MID - k * TICK,
        dir: 1,
      });
      msgs.push({
        t: t0 + msgs.length,
        type: 1,
        id: id++,
        size: 50 * (k + 1) + j,
        price: MID + (k + 1) * TICK,
        dir: -1,
      });
    }
  }
  return msgs;
}

export function generateDay(seed: number, count: number): Msg[] {
  const random = rng(seed);
  const int = (n: number): number => Math.floor(random() * n);
  let t = 34_200 * 1e9;
  const msgs = knownBook(t);
  t += msgs.length;
  const live: Live[] = msgs.map((m) => ({ id: m.id, price: m.price, dir: m.dir, left: m.size }));
  let nextId = 1000;
  let halted = false;
  const best = (dir: number): number | undefined => {
    let b: number | undefined;
    for (const o of live)
      if (o.dir === dir && (b === undefined || (dir === 1 ? o.price > b : o.price < b))) b = o.price;
    return b;
  };
  while (msgs.length < count) {
    t += 1 + int(2_000_000);
    const roll = random();
    if (roll < 0.02) {
      // A halt and its end come as a pair: -1 starts it, then 0 (quoting) or 1 (trading) resumes.
      msgs.push({ t, type: 7, id: 0, size: 0, price: halted ? (random() < 0.5 ? 0 : 1) : -1, dir: -1 });
      halted = !halted;
      continue;
    }
    if (roll < 0.06) {
      const type = roll < 0.04 ? 5 : 6;
      msgs.push({
        t,
        type,
        id: type === 5 ? 0 : nextId++,
        size: 1 + int(300),
        price: MID + (int(21) - 10) * TICK,
        dir: random() < 0.5 ? 1 : -1,
      });
      continue;
    }
    if (roll < 0.5 || live.length < 6) {
      const dir = random() < 0.5 ? 1 : -1;
      const opposite = best(-dir);
      const limit = opposite === undefined ? MID : opposite - dir * TICK;
      const price = limit - dir * int(8) * TICK;
      if (price <= 0) continue;
      const o = { id: nextId++, price, dir, left: 1 + int(500) };
      live.push(o);
      msgs.push({ t, type: 1, id: o.id, size: o.left, price, dir });
      continue;
    }
    const at = roll < 0.65 ? liveAtBest(live, random() < 0.5 ? 1 : -1, best) : int(live.length);
    const o = live[at < 0 ? int(live.length) : at];
    const type = roll < 0.65 ? 4 : roll < 0.8 ? 2 : 3;
    const size = type === 3 ? o.left : type === 2 && o.left > 1 ? 1 + int(o.left - 1) : 1 + int(o.left);
    msgs.push({ t, type: type === 2 && o.left === 1 ? 3 : type, id: o.id, size, price: o.price, dir: o.dir });
    o.left -= size;
    if (o.left === 0) live.splice(live.indexOf(o), 1);
  }
  return msgs;
}

function liveAtBest(live: Live[], dir: number, best: (dir: number) => number | undefined): number {
  const b = best(dir);
  return live.findIndex((o) => o.dir === dir && o.price === b);
}
