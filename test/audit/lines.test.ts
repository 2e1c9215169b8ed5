/**
 * The audit file's group lines built from canonical JSON as text (the caller's thread) and as UTF-8 bytes
 * joined by line breaks (the file's worker): the same lines, and a group whose line count is not the one
 * announced is refused.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { GENESIS_HASH } from '../../src/audit/index.js';
import { GroupLines } from '../../src/audit/lines.js';

const prev = Buffer.from(GENESIS_HASH, 'hex');
const jsons = ['{"a":"é"}', '{"b":"😀 \\u0000"}', '{}', '{"c":"€\\"\\\\"}'];

describe('audit group lines', () => {
  it('are the same built from text and from UTF-8 bytes', () => {
    const fromText = new GroupLines().build(prev, 5, jsons);
    const fromBytes = new GroupLines().buildFromBytes(prev, 5, Buffer.from(jsons.join('\n')), jsons.length);
    assert.deepEqual(fromBytes.bytes, fromText.bytes);
    assert.deepEqual(fromBytes.hash, fromText.hash);
    assert.equal(fromText.bytes.toString('utf8').split('\n').length, jsons.length + 1);
  });

  it('refuse bytes holding more or fewer lines than announced', () => {
    const bytes = Buffer.from(jsons.join('\n'));
    const lines = new GroupLines();
    assert.throws(
      () => lines.buildFromBytes(prev, 1, bytes, jsons.length - 1),
      /a group of 3 events came as more than 3 lines/,
    );
    assert.throws(
      () => lines.buildFromBytes(prev, 1, bytes, jsons.length + 1),
      /a group of 5 events came as 4 lines/,
    );
  });
});
