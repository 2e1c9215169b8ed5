/**
 * The snapshot codec: every kind of value round-trips (typed-array blocks bit for bit, NaN payloads and -0
 * included) through a buffer that grows; the reader refuses truncated input, a wrong section tag, a count past
 * its bound, a bad flag, bad UTF-8 and unread bytes, each with a SnapshotError. IntMap restores its table.
 */
import { describe, it } from 'node:test';
import { deepEqual, equal, ok, throws } from 'node:assert/strict';
import { IntMap, SnapshotError, SnapshotReader, SnapshotWriter } from '../../src/collections/index.js';
import { Rng } from '../book/helpers.js';

const isSnapshotError = (e: unknown): boolean => e instanceof SnapshotError;

function sample(): Uint8Array {
  const w = new SnapshotWriter();
  w.tag('TEST');
  w.u8(200);
  w.bool(true);
  w.i32(-123456);
  w.u32(0xfffffffe);
  w.f64(-Infinity);
  w.string('Zürich €');
  w.f64s(sampleFloats());
  w.i32s(new Int32Array([-1, 7, 9]), 2);
  w.u8s(new Uint8Array(100_000).fill(3)); // past the initial 64 KiB
  return w.bytes().slice();
}

void describe('snapshot codec', () => {
  void it('round-trips every kind of value, typed arrays bit for bit', () => {
    const bytes = sample();
    const r = new SnapshotReader(bytes);
    r.tag('TEST');
    equal(r.u8(), 200);
    equal(r.bool(), true);
    equal(r.i32(), -123456);
    equal(r.u32(), 0xfffffffe);
    equal(r.f64(), -Infinity);
    equal(r.string(64), 'Zürich €');
    const f = new Float64Array(8);
    equal(r.f64sInto(f, 'floats'), 4);
    deepEqual([...new Uint32Array(f.buffer, 0, 8)], [...new Uint32Array(sampleFloats().buffer)]);
    const i = new Int32Array(2);
    r.i32sExact(i, 2, 'ints');
    deepEqual([...i], [-1, 7]);
    const u = new Uint8Array(100_000);
    r.u8sExact(u, 100_000, 'bytes');
    ok(u.every((x) => x === 3));
    r.end();
  });

  void it('refuses truncated and malformed input with a SnapshotError', () => {
    const bytes = sample();
    for (let n = 0; n < 120; n++) {
      throws(() => readSample(bytes.subarray(0, n)), isSnapshotError, `${n} bytes`);
    }
    throws(() => readSample(bytes.subarray(0, bytes.length - 1)), isSnapshotError, 'one byte short');
    throws(() => new SnapshotReader(bytes).tag('NOPE'), /expected section NOPE/);
    const flag = bytes.slice();
    flag[5] = 2;
    throws(() => readSample(flag), /neither 0 nor 1/);
    const utf8 = bytes.slice();
    utf8[26] = 0xff; // inside the string
    throws(() => readSample(utf8), /not UTF-8/);
    throws(() => new SnapshotReader(bytes.subarray(0, 4)).count('things', 3), isSnapshotError);
    const small = new SnapshotReader(sample());
    small.tag('TEST');
    throws(() => small.end(), /unread bytes/);
    // A block longer than its destination is refused rather than cut.
    const w = new SnapshotWriter();
    w.f64s(new Float64Array(5));
    throws(() => new SnapshotReader(w.bytes()).f64sInto(new Float64Array(4), 'five'), /above 4/);
  });

  void it('IntMap restores its table, iteration order included', () => {
    const rng = new Rng(1);
    const m = new IntMap(4);
    for (let k = 0; k < 5_000; k++) {
      const key = rng.chance(0.1) ? 2 ** 40 + rng.int(500) : rng.int(20_000);
      if (rng.chance(0.3)) m.delete(key);
      else m.set(key, rng.int(1_000_000));
    }
    const w = new SnapshotWriter();
    m.writeSnapshot(w);
    const restored = new IntMap();
    const r = new SnapshotReader(w.bytes());
    restored.readSnapshot(r);
    r.end();
    const entries = (x: IntMap): number[] => {
      const out: number[] = [];
      x.forEach((v, k) => out.push(k, v));
      return out;
    };
    deepEqual(entries(restored), entries(m));
    equal(restored.size, m.size);
    const bad = w.bytes().slice();
    bad[5] ^= 1; // the size
    throws(() => new IntMap().readSnapshot(new SnapshotReader(bad)), isSnapshotError);
  });
});

/** Floats whose bits matter: -0 and a NaN with a payload. */
function sampleFloats(): Float64Array {
  const f = new Float64Array([1.5, -0, NaN, 2 ** 53]);
  new DataView(f.buffer).setUint32(16, 0x7ff80001, true);
  return f;
}

function readSample(bytes: Uint8Array): void {
  const r = new SnapshotReader(bytes);
  r.tag('TEST');
  r.u8();
  r.bool();
  r.i32();
  r.u32();
  r.f64();
  r.string(64);
  r.f64sInto(new Float64Array(8), 'floats');
  r.i32sInto(new Int32Array(2), 'ints');
  r.u8sExact(new Uint8Array(100_000), 100_000, 'bytes');
  r.end();
}
