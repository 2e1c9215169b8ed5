/**
 * The gateway frames a turn's messages to a client itself (TextFrames) instead of through `ws.send`: the bytes
 * must be those `ws` writes for the same messages, one after another (its `Sender.frame`, unmasked, FIN, text
 * opcode), for texts of any characters (UTF-8 of several bytes, lone surrogates, which both encode as U+FFFD)
 * and buffers, at the payload lengths where the header changes (125/126, 65,535/65,536).
 */
import { strict as assert } from 'node:assert';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { TextFrames, textFrameHeaderBytes } from '../../../src/gateway/ws/frames.js';

interface FrameOptions {
  readonly fin: boolean;
  readonly opcode: number;
  readonly mask: boolean;
  readonly readOnly: boolean;
  readonly rsv1: boolean;
}
/** `ws`'s framing, which its type definitions do not declare. */
const { Sender } = createRequire(import.meta.url)('ws') as {
  Sender: { frame(data: Buffer, options: FrameOptions): Buffer[] };
};

const WS_TEXT: FrameOptions = { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false };

function wsBytes(messages: readonly (Buffer | string)[]): Buffer {
  const parts: Buffer[] = [];
  for (const m of messages) parts.push(...Sender.frame(typeof m === 'string' ? Buffer.from(m) : m, WS_TEXT));
  return Buffer.concat(parts);
}

function framed(messages: readonly (Buffer | string)[]): { bytes: Buffer | null; held: number } {
  const frames = new TextFrames();
  for (const m of messages) frames.add(m, typeof m === 'string' ? Buffer.byteLength(m) : m.length);
  const held = frames.bytes;
  assert.equal(frames.count, messages.length);
  const bytes = frames.take();
  assert.equal(frames.bytes, 0, 'nothing held once taken');
  assert.equal(frames.take(), null, 'a second take has nothing');
  return { bytes, held };
}

/** A text of about `n` UTF-16 units, of any characters. */
const text = (max: number): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ maxLength: max, unit: 'grapheme' }),
    fc.string({ maxLength: max, unit: 'binary' }),
    fc.string({ maxLength: max }),
  );
const message: fc.Arbitrary<Buffer | string> = fc.oneof(
  text(300),
  fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
);

describe('TextFrames', () => {
  it('writes the bytes ws writes for the same messages', () => {
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 20 }), (messages) => {
        const { bytes, held } = framed(messages);
        const expected = wsBytes(messages);
        assert.ok(bytes !== null);
        assert.equal(held, expected.length, 'held bytes are the frames, headers included');
        assert.deepEqual(bytes, expected);
      }),
      { numRuns: 300 },
    );
  });

  it('switches headers at 126 and 65,536 bytes as ws does', () => {
    for (const n of [0, 1, 125, 126, 127, 65_535, 65_536, 70_000]) {
      const ascii = 'x'.repeat(n);
      const buffer = Buffer.alloc(n, 0x41);
      // A multi-byte character straddling the boundary: the payload length is in bytes, not characters.
      const wide = n >= 3 ? 'é'.repeat(Math.floor(n / 2)) : 'é';
      for (const m of [ascii, buffer, wide, [ascii, buffer, wide]]) {
        const messages = Array.isArray(m) ? m : [m];
        const { bytes } = framed(messages);
        assert.deepEqual(bytes, wsBytes(messages), `payload ${n}`);
      }
      assert.equal(textFrameHeaderBytes(n), Sender.frame(buffer, WS_TEXT)[0].length);
    }
  });

  it('holds nothing after clear', () => {
    const frames = new TextFrames();
    frames.add('{"type":"pong","id":null}', 25);
    frames.clear();
    assert.equal(frames.bytes, 0);
    assert.equal(frames.take(), null);
  });

  it('refuses a text whose byte length was given wrong', () => {
    const frames = new TextFrames();
    frames.add('é', 1);
    assert.throws(() => frames.take(), /payload took/);
  });
});
