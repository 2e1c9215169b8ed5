/**
 * The API boundary's numbers: decimal strings to ticks, lots and minor units exactly or not at all, and
 * back; the gateway's table of risk and ledger reject names equal to those subsystems' own.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
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

  it('name every risk and ledger reject as those subsystems do', () => {
    for (const code of Object.values(RiskReject)) assert.equal(rejectName(code), riskRejectName(code));
    for (const code of Object.values(LedgerReject)) assert.equal(rejectName(code), ledgerRejectName(code));
  });
});
