/**
 * Validators' issues made readable: a union of constants (a field that takes one of a few words) is said once
 * as "must be one of: ...", also when the value has another type; an enum likewise; a lone constant names its
 * value; a pattern is said in words, a missing property is required, a union of described branches is one
 * sentence; every other issue passes unchanged and in order.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import {
  patternWords,
  readableIssues,
  type SchemaIssue,
} from '../../../src/gateway/http/plugins/validation-issues.js';
import { WS_REQUEST_SCHEMAS } from '../../../src/gateway/ws/protocol.js';
import { call, openVenue, tempDir, testConfig } from '../helpers.js';

const konst = (path: string, value: unknown): SchemaIssue => ({
  instancePath: path,
  keyword: 'const',
  message: 'must be equal to constant',
  params: { allowedValue: value },
});
const union = (path: string): SchemaIssue => ({
  instancePath: path,
  keyword: 'anyOf',
  message: 'must match a schema in anyOf',
  params: {},
});
const type = (path: string): SchemaIssue => ({
  instancePath: path,
  keyword: 'type',
  message: 'must be string',
  params: { type: 'string' },
});
const messages = (issues: readonly SchemaIssue[]): [string, string][] =>
  readableIssues(issues).map((i) => [i.instancePath, i.message]);

describe('readable validation issues', () => {
  it('says a union of constants once, where its first constant was', () => {
    const issues = [type('/qty'), konst('/side', 'buy'), konst('/side', 'sell'), union('/side'), type('/x')];
    assert.deepEqual(messages(issues), [
      ['/qty', 'must be string'],
      ['/side', 'must be one of: buy, sell'],
      ['/x', 'must be string'],
    ]);
  });

  it("drops the branches' type errors of a union of constants given a value of another type", () => {
    const issues = [type('/tif'), konst('/tif', 'gtc'), type('/tif'), type('/tif'), union('/tif')];
    assert.deepEqual(messages(issues), [['/tif', 'must be one of: gtc']]);
  });

  it('says a union of other schemas once, by its branches (a nullable string, say)', () => {
    const issues = [
      type('/price'),
      { ...type('/price'), message: 'must be null', params: { type: 'null' } },
      union('/price'),
    ];
    assert.deepEqual(messages(issues), [['/price', 'must be a string or null']]);
  });

  it('names a lone constant, and the values of an enum', () => {
    const lone = [konst('/op', 'place')];
    const enumIssue: SchemaIssue = {
      instancePath: '/role',
      keyword: 'enum',
      message: 'must be equal to one of the allowed values',
      params: { allowedValues: ['viewer', 'admin'] },
    };
    assert.deepEqual(messages([...lone, enumIssue]), [
      ['/op', 'must be "place"'],
      ['/role', 'must be one of: viewer, admin'],
    ]);
  });

  it('passes issues without params or keywords through', () => {
    const bare: SchemaIssue = { instancePath: '', message: 'must be object' };
    assert.deepEqual(readableIssues([bare]), [bare]);
  });
});

describe('validation issues in words', () => {
  const issue = (path: string, keyword: string, message: string, params: object): SchemaIssue => ({
    instancePath: path,
    keyword,
    message,
    params,
  });

  it('says a pattern in words, and leaves one it has no words for as the validator said it', () => {
    const decimal = issue('/price', 'pattern', 'must match pattern "^[0-9]+(\\.[0-9]+)?$"', {
      pattern: '^[0-9]+(\\.[0-9]+)?$',
    });
    const digits = issue('/depth', 'pattern', 'must match pattern "^[0-9]{1,3}$"', {
      pattern: '^[0-9]{1,3}$',
    });
    const unknown = issue('/x', 'pattern', 'must match pattern "^x$"', { pattern: '^x$' });
    assert.deepEqual(messages([decimal, digits, unknown]), [
      ['/price', 'must be a decimal number as a string, such as "100.25"'],
      ['/depth', 'must be a whole number of at most 3 digits'],
      ['/x', 'must match pattern "^x$"'],
    ]);
  });

  it('says a missing property is required, at its own path for TypeBox (ajv names it in params)', () => {
    const ajv = issue('', 'required', "must have required property 'symbol'", { missingProperty: 'symbol' });
    const typebox = issue('/spec', 'required', 'must have required properties a, b', {
      requiredProperties: ['a', 'b'],
    });
    assert.deepEqual(messages([ajv, typebox]), [
      ['', 'is required'],
      ['/spec/a', 'is required'],
      ['/spec/b', 'is required'],
    ]);
    assert.deepEqual(
      readableIssues([ajv])[0].params,
      { missingProperty: 'symbol' },
      'the REST envelope appends it',
    );
  });

  it('says a union of described branches as one sentence, where the union was', () => {
    const id = [
      issue('/order_id', 'pattern', 'must match pattern "^[1-9][0-9]{0,15}$"', {
        pattern: '^[1-9][0-9]{0,15}$',
      }),
      issue('/order_id', 'type', 'must be integer', { type: 'integer' }),
      union('/order_id'),
    ];
    assert.deepEqual(messages(id), [
      [
        '/order_id',
        'must be an id as a string, such as "42" (a whole number from 1, of at most 16 digits) or a whole number',
      ],
    ]);
    // A branch without words (a minimum, say) leaves the union as the validator said it.
    const mixed = [issue('/n', 'minimum', 'must be >= 1', { limit: 1 }), type('/n'), union('/n')];
    assert.deepEqual(messages(mixed), [
      ['/n', 'must be >= 1'],
      ['/n', 'must be string'],
      ['/n', 'must match a schema in anyOf'],
    ]);
  });

  it('has words for every pattern of the REST API (its OpenAPI document) and of the WebSocket requests', async () => {
    const venue = await openVenue(testConfig(tempDir()));
    try {
      const doc = await call(venue, 'GET', '/docs', null);
      const patterns = new Set<string>();
      const walk = (v: unknown): void => {
        if (Array.isArray(v)) for (const x of v) walk(x);
        else if (typeof v === 'object' && v !== null) {
          for (const [k, x] of Object.entries(v)) {
            if (k === 'pattern' && typeof x === 'string') patterns.add(x);
            else walk(x);
          }
        }
      };
      walk(doc.body);
      walk(WS_REQUEST_SCHEMAS);
      assert.ok(patterns.size >= 15, `patterns found: ${patterns.size}`);
      for (const p of patterns) assert.notEqual(patternWords(p), null, `no words for ${p}`);
    } finally {
      await venue.close();
    }
  });
});
