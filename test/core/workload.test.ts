/**
 * The shared order-book workload through the whole core, as bench:core runs it (1,000 funded accounts, fees
 * and risk limits on), on a 100,000-operation file generated at test time: every operation's result equals
 * expected.bin, the final book equals meta.json's, nothing is refused by risk, the ledger audits clean and
 * the holds equal the held balances.
 */
import { after, describe, it } from 'node:test';
import { deepEqual, equal, fail, ok } from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EVENT_STRIDE, EventType } from '../../src/book/index.js';
import {
  CORE_WORKLOAD,
  coreCommandAt,
  coreStepResult,
  makeCoreReplayer,
  ownersOf,
  setupCommands,
} from '../../src/cli/core-workload.js';
import { ExchangeCore } from '../../src/core/index.js';
import {
  expectedPathOf,
  finalBookOf,
  readExpected,
  readExpectedFinalBook,
  readWorkload,
  sameFinalBook,
} from '../../src/cli/workload.js';

const GENERATOR = '../shared/bench/orderbook/gen-workload.js';
const OPS = 100_000;
let dir = '';

after(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

function generate(name: string, args: readonly string[]): string {
  if (!existsSync(resolve(GENERATOR)))
    fail(`the shared workload generator is missing: ${resolve(GENERATOR)}`);
  if (dir === '') dir = mkdtempSync(join(tmpdir(), 'rialto-core-workload-'));
  const out = join(dir, name);
  const gen = spawnSync(process.execPath, [GENERATOR, ...args, `--out=${out}`], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  equal(gen.status, 0, gen.stderr);
  return `${out}.bin`;
}

void describe('shared workload through the core', () => {
  void it('matches the reference results and final book, with fees, holds and limits in the path', () => {
    const path = generate('core', [`--ops=${OPS}`, '--seed=9']);
    const w = readWorkload(path);
    const expected = readExpected(expectedPathOf(path), w.count);
    const r = makeCoreReplayer(w);
    let mismatches = 0;
    let trades = 0;
    for (let i = 0; i < w.count; i++) {
      r.step(i);
      if (coreStepResult(r, w, i) !== expected[i]) mismatches++;
      const d = r.core.events.data;
      for (let k = 0; k < r.core.events.count; k++) {
        const o = k * EVENT_STRIDE;
        if (d[o] === EventType.TradeExecuted) trades++;
        if (d[o] === EventType.OrderRejected)
          ok(d[o + 8] < 3000, `operation ${i}: refused by risk (${d[o + 8]})`);
      }
    }
    equal(mismatches, 0);
    ok(trades > 10_000, `trades ${trades}`);
    const book = r.core.book(CORE_WORKLOAD.instrument);
    const final = readExpectedFinalBook(path);
    ok(book !== undefined && final !== undefined);
    ok(sameFinalBook(finalBookOf(book), final), 'final book equals meta.json');
    equal(r.core.ledger.audit(), '');
    for (const [key, held] of r.core.holdsByAccountAsset()) {
      const [account, asset] = key.split(':').map(Number);
      equal(r.core.ledger.held(account, asset), held, key);
    }
  });

  void it('the typed entry points (placeOrder, cancelOrder, amendOrder) do exactly what execute does', () => {
    // The ecore profile moves orders (amends) as well as placing and cancelling them.
    const w = readWorkload(generate('ecore', ['--profile=ecore', '--ops=20000', '--seed=5']));
    const owners = ownersOf(w);
    const typed = makeCoreReplayer(w, owners);
    const generic = new ExchangeCore({ bookCapacityOrders: 1 << 16 });
    for (const cmd of setupCommands(w)) generic.execute(cmd);
    // The book leaves fields a record type does not use as the buffer had them: start both buffers at zero
    // and zero what each step wrote, so that records compare field by field.
    generic.events.clear();
    generic.events.data.fill(0);
    typed.core.events.data.fill(0);
    const kinds = new Set<string>();
    for (let i = 0; i < w.count; i++) {
      typed.step(i);
      const cmd = coreCommandAt(w, owners, i);
      cmd.timeUs = CORE_WORKLOAD.startTimeUs + 1 + i; // as the replayer stamps it
      kinds.add(cmd.kind);
      generic.events.clear();
      generic.execute(cmd);
      const n = generic.events.count * EVENT_STRIDE;
      equal(typed.core.events.count, generic.events.count, `operation ${i}: record count`);
      deepEqual(typed.core.events.data.subarray(0, n), generic.events.data.subarray(0, n), `operation ${i}`);
      typed.core.events.data.fill(0, 0, n);
      generic.events.data.fill(0, 0, n);
    }
    deepEqual([...kinds].sort(), ['amendOrder', 'cancelOrder', 'placeOrder']);
    equal(typed.core.stateHash(), generic.stateHash());
  });
});
