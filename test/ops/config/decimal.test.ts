/** Exact decimals: parsing, the checks of a decimal string, exact quotients, canonical text. */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  decimalProblem,
  exactQuotient,
  formatDecimal,
  fractionDigits,
  multiply,
  parseDecimal,
  shift,
  toSafeInteger,
} from '../../../src/ops/config/decimal.js';

describe('config decimals', () => {
  it('accepts plain decimal strings and refuses everything else', () => {
    for (const ok of ['0', '1', '0.01', '-0.0001', '65000', '123.456000'])
      assert.equal(decimalProblem(ok), '', ok);
    for (const bad of ['', '.5', '5.', '1e-2', '01', '+1', '0x10', ' 1', '1,5', 'NaN', 'Infinity', '1.2.3']) {
      assert.match(decimalProblem(bad), /decimal number written as a string/, JSON.stringify(bad));
    }
    assert.match(decimalProblem('0.' + '1'.repeat(19)), /at most 18 digits/);
    assert.match(decimalProblem('1'.repeat(41)), /at most 40 characters/);
  });

  it('parses into units and scale, and formats canonically', () => {
    assert.deepEqual(parseDecimal('0.0100'), { units: 100n, scale: 4 });
    assert.equal(formatDecimal(parseDecimal('0.0100')), '0.01');
    assert.equal(formatDecimal(parseDecimal('-12.50')), '-12.5');
    assert.equal(formatDecimal(parseDecimal('100')), '100');
    assert.equal(fractionDigits(parseDecimal('0.0100')), 2);
    assert.throws(() => parseDecimal('1e5'));
  });

  it('divides exactly or not at all', () => {
    assert.equal(exactQuotient(parseDecimal('0.05'), parseDecimal('0.01')), 5n);
    assert.equal(exactQuotient(parseDecimal('0.015'), parseDecimal('0.01')), null);
    assert.equal(exactQuotient(parseDecimal('100'), parseDecimal('0.0001')), 1_000_000n);
    assert.equal(formatDecimal(shift(parseDecimal('0.0001'), 8)), '10000');
    assert.equal(formatDecimal(multiply(parseDecimal('0.0001'), parseDecimal('0.01'))), '0.000001');
    assert.equal(toSafeInteger(2n ** 53n), null);
    assert.equal(toSafeInteger(2n ** 53n - 1n), Number.MAX_SAFE_INTEGER);
  });

  it('formats what it parses, for any decimal', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }),
        fc.integer({ min: 0, max: 18 }),
        (units, scale) => {
          const text = formatDecimal({ units, scale });
          assert.equal(decimalProblem(text), '');
          const back = parseDecimal(text);
          // Same value: a × 10^b.scale = b × 10^a.scale
          assert.equal(units * 10n ** BigInt(back.scale), back.units * 10n ** BigInt(scale));
        },
      ),
    );
  });
});
