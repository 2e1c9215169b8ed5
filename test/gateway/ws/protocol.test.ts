/**
 * The `/ws` protocol's parsing of one message: a refusal names the request's id, the code and, for a message
 * that fails its op's schema, the field in plain words.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { parseRequest } from '../../../src/gateway/ws/index.js';

const place = {
  op: 'place',
  id: 'p1',
  symbol: 'BTC-USDT',
  side: 'buy',
  order_type: 'limit',
  price: '100',
  quantity: '1',
};

describe('the /ws protocol', () => {
  it('takes a request that fits its op', () => {
    const parsed = parseRequest(JSON.stringify(place));
    assert.equal(parsed.ok, true);
  });

  it('names an unknown field in plain words, with the request id', () => {
    const parsed = parseRequest(JSON.stringify({ ...place, colour: 'red' }));
    assert.equal(parsed.ok, false);
    if (parsed.ok) return;
    assert.equal(parsed.id, 'p1');
    assert.equal(parsed.code, 'VALIDATION_ERROR');
    assert.equal(parsed.message, 'invalid place at /colour: is not a field of this request');
    const issues = parsed.details.issues as { path: string; message: string }[];
    assert.ok(
      issues.every((i) => !/schema is false/.test(i.message)),
      JSON.stringify(issues),
    );
  });

  it('says once which words a field takes, for a wrong word or a value of another type', () => {
    for (const [field, value, words] of [
      ['side', 'sideways', 'buy, sell'],
      ['side', 7, 'buy, sell'],
      ['time_in_force', 'forever', 'gtc, ioc, fok, day, gtd'],
    ] as const) {
      const parsed = parseRequest(JSON.stringify({ ...place, [field]: value }));
      assert.equal(parsed.ok, false);
      if (parsed.ok) return;
      assert.equal(parsed.message, `invalid place at /${field}: must be one of: ${words}`);
      assert.deepEqual(parsed.details, {
        issues: [{ path: `/${field}`, message: `must be one of: ${words}` }],
      });
    }
  });

  it('refuses what is not JSON, or not an object, or an unknown op', () => {
    const cases: [string, string][] = [
      ['{bad', 'BAD_JSON'],
      ['[1,2]', 'BAD_JSON'],
      [JSON.stringify({ op: 'sell', id: 1 }), 'UNKNOWN_OP'],
    ];
    for (const [text, code] of cases) {
      const parsed = parseRequest(text);
      assert.equal(parsed.ok, false, text);
      if (!parsed.ok) assert.equal(parsed.code, code, text);
    }
  });
});
