/**
 * Every reject code of the core has a sentence for API errors, the table has no code the core lacks, and an
 * error's message ends with its code's sentence while `details.reason` keeps the code's name.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { BookReject } from '../../../src/book/index.js';
import { CoreReject } from '../../../src/core/index.js';
import { rejectError } from '../../../src/gateway/trading/errors.js';
import { SENTENCE_CODES, rejectSentence } from '../../../src/gateway/trading/reject-sentences.js';
import { LedgerReject } from '../../../src/ledger/index.js';
import { RiskReject } from '../../../src/risk/index.js';

const ALL_CODES = [BookReject, LedgerReject, RiskReject, CoreReject].flatMap((table) => Object.values(table));

describe('reject sentences', () => {
  it('has a sentence for every code of the book, ledger, risk gate and core, and for no other', () => {
    for (const code of ALL_CODES) assert.notEqual(rejectSentence(code), null, `code ${code}`);
    assert.deepEqual([...SENTENCE_CODES].sort(), [...ALL_CODES].sort());
    assert.equal(rejectSentence(4242), null);
  });

  it('ends an error message with the sentence, and keeps the name in details', () => {
    const e = rejectError(RiskReject.InsufficientFunds, 'the order was rejected', { order_id: '3' });
    assert.equal(e.code, 'INSUFFICIENT_FUNDS');
    assert.equal(
      e.message,
      "the order was rejected: the account's available balance does not cover the order's hold",
    );
    assert.deepEqual(e.details, { order_id: '3', reject_code: 3005, reason: 'InsufficientFunds' });
    assert.equal(rejectError(4242, 'refused').message, 'refused');
  });
});
