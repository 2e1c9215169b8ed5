/**
 * Validators' issues made readable: a union of constants (a field that takes one of a few words) is said once
 * as "must be one of: ...", also when the value has another type; an enum likewise; a lone constant names its
 * value; every other issue passes unchanged and in order.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { readableIssues, type SchemaIssue } from '../../../src/gateway/http/plugins/validation-issues.js';

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

  it('keeps a union of other schemas as it is (a nullable string, say)', () => {
    const issues = [type('/price'), { ...type('/price'), message: 'must be null' }, union('/price')];
    assert.deepEqual(messages(issues), [
      ['/price', 'must be string'],
      ['/price', 'must be null'],
      ['/price', 'must match a schema in anyOf'],
    ]);
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
