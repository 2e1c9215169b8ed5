/**
 * The API boundary's numbers: decimal strings to ticks, lots and minor units exactly or not at all, and
 * back; the gateway's table of risk and ledger reject names equal to those subsystems' own.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  amountToMinor,
  averagePrice,
  lotsToQty,
  minorToAmount,
  priceToTicks,
  qtyToLots,
  rejectName,
  ticksToPrice,
} from '../../src/gateway/index.js';
import { LedgerReject, ledgerRejectName } from '../../src/ledger/index.js';
import { RiskReject, riskRejectName } from '../../src/risk/index.js';
import { testConfig, tempDir } from './helpers.js';

const btc = testConfig(tempDir()).instruments[0];

/** The conversion as BigInt arithmetic says it (the model the number fast path is held to). */
function unitsByBigInt(text: string, unitText: string, step: number): number | null {
  if (!/^(0|[1-9][0-9]{0,19})(\.[0-9]{1,8})?$/.test(text)) return null;
  const dec = (t: string): [bigint, number] => {
    const point = t.indexOf('.');
    return point < 0 ? [BigInt(t), 0] : [BigInt(t.replace('.', '')), t.length - point - 1];
  };
  const [units, scale] = dec(text);
  const [unitUnits, unitScale] = dec(unitText);
  const num = units * 10n ** BigInt(unitScale);
  const den = unitUnits * 10n ** BigInt(scale);
  if (num % den !== 0n) return null;
  const n = num / den;
  if (n <= 0n || n > BigInt(Number.MAX_SAFE_INTEGER) || Number(n) % step !== 0) return null;
  return Number(n);
}

describe('API units', () => {
  it('convert exactly or refuse', () => {
    assert.deepEqual(priceToTicks('60000.5', btc), { ok: true, value: 6_000_050 });
    assert.deepEqual(qtyToLots('0.0003', btc), { ok: true, value: 3 });
    for (const bad of ['60000.001', '0', '-1', '1e3', '01', '1.', '.5', '1.123456789', '9'.repeat(25)]) {
      assert.equal(priceToTicks(bad, btc).ok, false, bad);
    }
    assert.equal(qtyToLots('0.00005', btc).ok, false);
    assert.deepEqual(amountToMinor('1.5', 6), { ok: true, value: 1_500_000 });
    assert.equal(amountToMinor('1.1234567', 6).ok, false);
    assert.equal(ticksToPrice(6_000_050, btc), '60000.50');
    assert.equal(lotsToQty(3, btc), '0.0003');
    assert.equal(minorToAmount(1_500_000, 6), '1.500000');
    assert.equal(averagePrice(6_000_000n * 2n + 6_000_001n, 3, btc), '60000.003333');
    assert.equal(averagePrice(0n, 0, btc), null);
  });

  it('convert as BigInt arithmetic does, for prices and quantities of every size and unit', () => {
    const digits = (min: number, max: number): fc.Arbitrary<string> =>
      fc.array(fc.constantFrom(...'0123456789'), { minLength: min, maxLength: max }).map((d) => d.join(''));
    const text = fc.oneof(
      fc
        .tuple(fc.constantFrom('1', '2', '9', '60000'), digits(0, 19), fc.option(digits(1, 8)))
        .map(([lead, rest, frac]) => `${lead}${rest}${frac === null ? '' : `.${frac}`}`),
      fc
        .tuple(fc.nat({ max: 2 ** 53 }), fc.option(digits(1, 8)))
        .map(([whole, frac]) => `${whole}${frac === null ? '' : `.${frac}`}`),
      fc.constantFrom('0', '0.0', '0.00000001', '9007199254740991', '9007199254740993', '1.5', '60000.50'),
      fc.string({ maxLength: 12 }),
    );
    const unit = fc.constantFrom(
      '1',
      '0.01',
      '0.0001',
      '0.5',
      '0.25',
      '5',
      '100',
      '0.00000001',
      '0.000000000001',
      '123.456',
    );
    fc.assert(
      fc.property(text, unit, fc.constantFrom(1, 2, 5, 10), (t, u, step) => {
        const inst = {
          ...btc,
          priceUnit: u,
          qtyUnit: u,
          spec: { ...btc.spec, tickSize: step, lotSize: step },
        };
        const expected = unitsByBigInt(t, u, step);
        for (const got of [priceToTicks(t, inst), qtyToLots(t, inst)]) {
          assert.deepEqual(got.ok ? got.value : null, expected, `${t} in units of ${u}, step ${step}`);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('name every risk and ledger reject as those subsystems do', () => {
    for (const code of Object.values(RiskReject)) assert.equal(rejectName(code), riskRejectName(code));
    for (const code of Object.values(LedgerReject)) assert.equal(rejectName(code), ledgerRejectName(code));
  });
});
