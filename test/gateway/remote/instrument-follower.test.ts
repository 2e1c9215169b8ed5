/**
 * The engine's process learns instruments defined after its start from the batch that defines them (the
 * commands' records), before the next listener hears of that batch: a trade in the same batch is attributed to
 * its symbol. Refused definitions name nothing.
 */
import { after, describe, it } from 'node:test';
import { deepEqual } from 'node:assert/strict';
import { join } from 'node:path';
import type { Command } from '../../../src/core/index.js';
import { Engine } from '../../../src/engine/index.js';
import { instrumentFollower } from '../../../src/gateway/remote/processes.js';
import { TempDirs } from '../../engine/helpers.js';

const temp = new TempDirs();
after(() => temp.cleanup());

describe('engine process: instruments defined after the start', () => {
  it('are known from their own batch, with their asset codes; a refused definition is not', async () => {
    const engine = await Engine.start({
      dir: join(temp.make(), 'data'),
      snapshotEveryCommands: 0,
      snapshotEveryMs: 0,
      publishRecords: true,
    });
    try {
      await engine.submit([
        { kind: 'addAsset', timeUs: 0, asset: 1, code: 'BTC', decimals: 8 },
        { kind: 'addAsset', timeUs: 0, asset: 2, code: 'USD', decimals: 2 },
      ]);
      const defined: string[] = [];
      const learn = await instrumentFollower(
        engine,
        { defineInstrument: (id, symbol, base, quote) => defined.push(`${id}:${symbol}:${base}/${quote}`) },
        { warn: () => undefined, info: () => undefined },
      );
      // What a later listener of the same batch sees (the market data side runs right after the follower).
      const seenByBatch: string[][] = [];
      const unsubscribe = engine.subscribe((b) => {
        learn(b);
        seenByBatch.push([...defined]);
      });
      const batch: Command[] = [
        { kind: 'addAsset', timeUs: 0, asset: 3, code: 'ETH', decimals: 8 },
        {
          kind: 'defineInstrument',
          timeUs: 0,
          spec: { instrument: 7, symbol: 'ETH-USD', baseAsset: 3, quoteAsset: 2 },
        },
        // Refused: base and quote the same asset.
        {
          kind: 'defineInstrument',
          timeUs: 0,
          spec: { instrument: 8, symbol: 'BAD', baseAsset: 1, quoteAsset: 1 },
        },
        {
          kind: 'defineInstrument',
          timeUs: 0,
          spec: { instrument: 9, symbol: 'BTC-USD', baseAsset: 1, quoteAsset: 2 },
        },
      ];
      await engine.submit(batch);
      unsubscribe();
      deepEqual(defined, ['7:ETH-USD:ETH/USD', '9:BTC-USD:BTC/USD']);
      // Learnt inside the batch's own dispatch, not later from a report.
      deepEqual(seenByBatch.at(-1), defined);
    } finally {
      await engine.close();
    }
  });
});
