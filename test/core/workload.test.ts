/**
 * The shared order-book workload through the whole core, as bench:core runs it (1,000 funded accounts, fees
 * and risk limits on), on a 100,000-operation file generated at test time: every operation's result equals
 * expected.bin, the final book equals meta.json's, nothing is refused by risk, the ledger audits clean and
 * the holds equal the held balances.
 */
import { after, describe, it } from 'node:test';
import { equal, fail, ok } from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EVENT_STRIDE, EventType } from '../../src/book/index.js';
import { CORE_WORKLOAD, coreStepResult, makeCoreReplayer } from '../../src/cli/core-workload.js';
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

void describe('shared workload through the core', () => {
  void it('matches the reference results and final book, with fees, holds and limits in the path', () => {
    if (!existsSync(resolve(GENERATOR)))
      fail(`the shared workload generator is missing: ${resolve(GENERATOR)}`);
    dir = mkdtempSync(join(tmpdir(), 'rialto-core-workload-'));
    const out = join(dir, 'core');
    const gen = spawnSync(process.execPath, [GENERATOR, `--ops=${OPS}`, '--seed=9', `--out=${out}`], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    equal(gen.status, 0, gen.stderr);
    const path = `${out}.bin`;
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
});
