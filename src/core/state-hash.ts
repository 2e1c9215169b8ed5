/**
 * The core's state hash: SHA-256 over a canonical walk of everything that decides what later commands do
 * (clock, accounts, instruments and their books, ledger balances, positions, live orders' holds), and over
 * nothing that depends on allocation (slots, capacities). Two cores that executed the same commands agree.
 */
import { createHash } from 'node:crypto';
import type { Ledger, Positions } from '../ledger/index.js';
import type { InstrumentSpec } from './instruments.js';

export interface CoreStateParts {
  clockUs: number;
  day: number;
  venueKill: boolean;
  accounts: number[];
  instruments: { spec: InstrumentSpec; halted: boolean; bookHash: string }[];
  ledger: Ledger;
  positions: Positions;
  orders: number[];
}

export function coreStateHash(s: CoreStateParts): string {
  const h = createHash('sha256');
  const numbers = (xs: ArrayLike<number>): void => {
    h.update(new Uint8Array(Float64Array.from(xs).buffer));
  };
  numbers([s.clockUs, s.day, s.venueKill ? 1 : 0]);
  numbers(s.accounts);
  for (const i of s.instruments) {
    h.update(JSON.stringify(i.spec));
    numbers([i.halted ? 1 : 0]);
    h.update(i.bookHash);
  }
  const balances: number[] = [];
  s.ledger.forEachBalance((a, kind, asset, customer, b) => balances.push(a, kind, asset, customer, b));
  numbers(balances);
  const p = s.positions;
  const positions: number[] = [];
  p.forEach((slot) =>
    positions.push(
      p.account[slot],
      p.instrument[slot],
      p.qty[slot],
      p.cost[slot],
      p.realized[slot],
      p.fees[slot],
    ),
  );
  numbers(positions);
  numbers(s.orders);
  return h.digest('hex');
}
