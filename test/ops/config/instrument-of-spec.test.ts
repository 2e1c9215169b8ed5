/**
 * An instrument read back from the core's spec (what the gateway's instrument table does after a restart)
 * is the instrument the configuration resolved: the same units, decimals, steps and spec, for every valid
 * combination of asset decimals and units.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  DEFAULT_ASSETS,
  DEFAULT_INSTRUMENTS,
  instrumentOfSpec,
  resolveInstrument,
  type AssetConfig,
  type ConfigProblem,
  type InstrumentEntry,
} from '../../../src/ops/index.js';

function resolved(entry: InstrumentEntry, assets: readonly AssetConfig[]) {
  const problems: ConfigProblem[] = [];
  const inst = resolveInstrument(entry, 'i', new Map(assets.map((a) => [a.code, a])), problems);
  return problems.length === 0 ? inst : null;
}

function readBack(entry: InstrumentEntry, assets: readonly AssetConfig[]) {
  const inst = resolved(entry, assets);
  if (inst === null) return null;
  const byId = new Map(assets.map((a) => [a.id, a]));
  const base = byId.get(inst.spec.baseAsset) as AssetConfig;
  const quote = byId.get(inst.spec.quoteAsset) as AssetConfig;
  return { inst, back: instrumentOfSpec(inst.spec, base, quote) };
}

/** A positive decimal string: digits times a power of ten. */
const decimalText = (digits: number, exponent: number): string => {
  const s = String(digits);
  if (exponent >= 0) return s + '0'.repeat(exponent);
  const padded = s.padStart(-exponent + 1, '0');
  return `${padded.slice(0, padded.length + exponent)}.${padded.slice(padded.length + exponent)}`;
};

describe('instrumentOfSpec', () => {
  it('gives back the example instruments as the configuration resolved them', () => {
    for (const entry of DEFAULT_INSTRUMENTS) {
      const r = readBack(entry, DEFAULT_ASSETS);
      assert.ok(r !== null, entry.symbol);
      assert.deepEqual(r.back, r.inst, entry.symbol);
    }
  });

  it('gives back any valid instrument exactly', () => {
    let checked = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 18 }),
        fc.integer({ min: 0, max: 18 }),
        fc.integer({ min: 1, max: 999 }),
        fc.integer({ min: -10, max: 4 }),
        fc.integer({ min: 1, max: 999 }),
        fc.integer({ min: -10, max: 4 }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 20 }),
        (baseDecimals, quoteDecimals, qtyDigits, qtyExp, priceDigits, priceExp, tickSteps, lotSteps) => {
          const assets: AssetConfig[] = [
            { id: 0, code: 'QQ', decimals: quoteDecimals },
            { id: 1, code: 'BB', decimals: baseDecimals },
          ];
          const qtyUnit = decimalText(qtyDigits, qtyExp);
          const priceUnit = decimalText(priceDigits, priceExp);
          const entry: InstrumentEntry = {
            id: 5,
            symbol: 'BB-QQ',
            base: 'BB',
            quote: 'QQ',
            priceUnit,
            qtyUnit,
            tickSize: decimalText(priceDigits * tickSteps, priceExp),
            lotSize: decimalText(qtyDigits * lotSteps, qtyExp),
            maxQty: decimalText(qtyDigits * lotSteps * 1000, qtyExp),
            makerFee: '-0.0001',
            takerFee: '0.0002',
          };
          const r = readBack(entry, assets);
          // Units finer than an asset's minor unit are refused by the configuration: nothing to read back.
          if (r === null) return;
          assert.deepEqual(r.back, r.inst, JSON.stringify(entry));
          checked++;
        },
      ),
      { numRuns: 2_000 },
    );
    assert.ok(checked > 500, `most generated instruments are valid ones (${checked} of 2000)`);
  });

  it('refuses a spec with assets other than its own', () => {
    const r = readBack(DEFAULT_INSTRUMENTS[0], DEFAULT_ASSETS);
    assert.ok(r !== null);
    assert.throws(() => instrumentOfSpec(r.inst.spec, DEFAULT_ASSETS[2], DEFAULT_ASSETS[0]), /not its own/);
  });
});
