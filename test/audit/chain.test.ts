/**
 * The audit chain's canonical form and hashes, and the property that matters: any single change to a stored
 * chain (an edited field or hash, a removed, reordered or inserted event) is detected, and the first broken
 * link is the one named.
 */
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  GENESIS_HASH,
  ChainChecker,
  canonicalBytes,
  canonicalJson,
  canonicalObject,
  chainEvents,
  chainHash,
  makeEvent,
  verifyChain,
  type AuditRecord,
} from '../../src/audit/index.js';
import { sampleEvent, sampleEvents } from './helpers.js';

describe('audit canonical form', () => {
  it('sorts keys at every depth, writes no white space and only integers', () => {
    assert.equal(
      canonicalJson({ b: 1, a: { d: [3, { z: null, y: 'x' }], c: false } }),
      '{"a":{"c":false,"d":[3,{"y":"x","z":null}]},"b":1}',
    );
    assert.equal(canonicalJson({ é: 1, Z: 2, a: 3 }), '{"Z":2,"a":3,"é":1}', 'by UTF-16 code units');
    assert.equal(canonicalJson(-0), '0');
    assert.throws(() => canonicalJson(1.5), TypeError);
    assert.throws(() => canonicalJson(2 ** 53), TypeError);
    assert.throws(() => canonicalJson({ a: undefined }), TypeError);
  });

  it('gives the documented bytes for an event (docs/audit.md)', () => {
    const e = makeEvent({
      id: '11111111-2222-4333-8444-555555555555',
      timeUs: 1_767_225_600_123_456,
      actor: { id: 'AbCdEfGh12345678', role: 'trader', ip: '10.0.0.7' },
      action: 'order.place',
      target: { kind: 'account', id: '1' },
      result: { status: 'ok', code: null },
      requestId: 'req-1',
      details: { symbol: 'BTC-USDT', side: 'buy', order_id: '42' },
    });
    const expected =
      '{"action":"order.place","actor":{"id":"AbCdEfGh12345678","ip":"10.0.0.7","role":"trader"},' +
      '"details":{"order_id":"42","side":"buy","symbol":"BTC-USDT"},"id":"11111111-2222-4333-8444-555555555555",' +
      '"requestId":"req-1","result":{"code":null,"status":"ok"},"seq":1,"target":{"id":"1","kind":"account"},' +
      '"timeUs":1767225600123456,"v":1}';
    assert.equal(canonicalBytes(1, e).toString('utf8'), expected);
    const h = createHash('sha256').update(Buffer.alloc(32)).update(expected, 'utf8').digest('hex');
    assert.equal(chainHash(GENESIS_HASH, 1, e), h, 'hash 1 = SHA-256(32 zero bytes || canonical bytes)');
  });

  it('writes every event exactly as canonicalJson writes its canonical object (property)', () => {
    const text = fc.oneof(fc.constant(null), fc.string(), fc.string({ unit: 'grapheme' }));
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        fc.record({
          id: fc.string({ minLength: 1 }),
          timeUs: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
          actor: fc.record({ id: text, role: text, ip: text }),
          action: fc.string({ minLength: 1 }),
          target: fc.record({ kind: fc.string({ minLength: 1 }), id: text }),
          result: fc.record({
            status: fc.constantFrom('ok' as const, 'refused' as const, 'failed' as const),
            code: text,
          }),
          requestId: text,
          details: fc.dictionary(
            fc.string(),
            fc.oneof(fc.integer(), fc.string(), fc.boolean(), fc.constant(null)),
          ),
        }),
        (seq, input) => {
          const e = makeEvent(input);
          assert.equal(canonicalBytes(seq, e).toString('utf8'), canonicalJson(canonicalObject(seq, e)));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('makes details fit: fractions and big integers as strings, control characters replaced, size bounded', () => {
    const e = makeEvent({
      id: 'x\u0000y',
      timeUs: 0,
      actor: { id: null, role: null, ip: null },
      action: 'a',
      target: { kind: 'k', id: null },
      result: { status: 'ok', code: null },
      requestId: null,
      details: { f: 1.5, big: 2n ** 64n, s: 'a\nb', u: undefined },
    });
    assert.equal(e.id, 'x?y');
    assert.deepEqual(e.details, { f: '1.5', big: '18446744073709551616', s: 'a?b' });
    assert.equal((makeEvent({ ...e, details: { s: 'x'.repeat(5000) } }).details.s as string).length, 256);
    const many = Object.fromEntries(Array.from({ length: 30 }, (_, k) => [`k${k}`, 'x'.repeat(200)]));
    const huge = makeEvent({ ...e, details: many });
    assert.equal(huge.details.truncated, true);
    assert.ok((huge.details.chars as number) > 4096);
  });
});

describe('audit chain', () => {
  it('numbers events from the head and links each hash to the one before', () => {
    const first = chainEvents(0, GENESIS_HASH, sampleEvents(3));
    assert.deepEqual(
      first.map((r) => r.seq),
      [1, 2, 3],
    );
    const more = chainEvents(3, first[2].hash, [sampleEvent(4)]);
    assert.equal(more[0].seq, 4);
    assert.equal(more[0].hash, chainHash(first[2].hash, 4, sampleEvent(4)));
    const r = verifyChain([...first, ...more]);
    assert.deepEqual(r, { ok: true, count: 4, headSeq: 4, headHash: more[0].hash });
    assert.deepEqual(verifyChain([]), { ok: true, count: 0, headSeq: 0, headHash: GENESIS_HASH });
  });

  it('checks page by page as it checks the whole', () => {
    const chain = chainEvents(0, GENESIS_HASH, sampleEvents(10));
    const c = new ChainChecker();
    for (let i = 0; i < chain.length; i += 3) assert.equal(c.add(chain.slice(i, i + 3)), true);
    assert.deepEqual(c.report(), verifyChain(chain));
  });

  // A chain of 2 to 30 events and one change to it; the expected first broken link of each change.
  type Tamper = (
    c: AuditRecord[],
    i: number,
    j: number,
  ) => { chain: AuditRecord[]; firstBroken: number } | null;
  const renumber = (c: AuditRecord[]): AuditRecord[] => c.map((r, k) => ({ ...r, seq: k + 1 }));
  const tampers: Record<string, Tamper> = {
    'edit a field': (c, i) => {
      const out = [...c];
      out[i] = { ...c[i], details: { ...c[i].details, n: -1 } };
      return { chain: out, firstBroken: i + 1 };
    },
    'edit the actor': (c, i) => {
      const out = [...c];
      out[i] = { ...c[i], actor: { ...c[i].actor, id: 'someone-else' } };
      return { chain: out, firstBroken: i + 1 };
    },
    'edit the result': (c, i) => {
      const out = [...c];
      out[i] = { ...c[i], result: { status: 'ok', code: c[i].result.code === null ? 'X' : null } };
      return { chain: out, firstBroken: i + 1 };
    },
    'replace a hash': (c, i) => {
      const out = [...c];
      const flipped = (c[i].hash[0] === '0' ? '1' : '0') + c[i].hash.slice(1);
      out[i] = { ...c[i], hash: flipped };
      return { chain: out, firstBroken: i + 1 };
    },
    'edit a field and recompute its hash': (c, i) => {
      if (i === c.length - 1) return null; // the last event: nothing after it to break (see --anchor)
      const out = [...c];
      const edited = { ...c[i], action: 'forged' };
      out[i] = { ...edited, hash: chainHash(i === 0 ? GENESIS_HASH : c[i - 1].hash, i + 1, edited) };
      return { chain: out, firstBroken: i + 2 };
    },
    'delete an event': (c, i) => {
      if (i === c.length - 1) return null; // truncation: only an anchor detects it
      return { chain: c.filter((_, k) => k !== i), firstBroken: i + 1 };
    },
    'delete an event and renumber': (c, i) => {
      if (i === c.length - 1) return null;
      return { chain: renumber(c.filter((_, k) => k !== i)), firstBroken: i + 1 };
    },
    'swap two events': (c, i, j) => {
      if (i === j) return null;
      const [a, b] = [Math.min(i, j), Math.max(i, j)];
      const out = [...c];
      [out[a], out[b]] = [c[b], c[a]];
      return { chain: out, firstBroken: a + 1 };
    },
    'swap two events and renumber': (c, i, j) => {
      if (i === j) return null;
      const [a, b] = [Math.min(i, j), Math.max(i, j)];
      const out = [...c];
      [out[a], out[b]] = [c[b], c[a]];
      return { chain: renumber(out), firstBroken: a + 1 };
    },
    'insert a forged event and renumber': (c, i) => {
      const forged: AuditRecord = { ...sampleEvent(999), seq: 0, hash: 'f'.repeat(64) };
      return { chain: renumber([...c.slice(0, i), forged, ...c.slice(i)]), firstBroken: i + 1 };
    },
    'insert a forged event with a correct hash and renumber': (c, i) => {
      const forged = sampleEvent(999);
      const hash = chainHash(i === 0 ? GENESIS_HASH : c[i - 1].hash, i + 1, forged);
      const out = renumber([...c.slice(0, i), { ...forged, seq: i + 1, hash }, ...c.slice(i)]);
      return { chain: out, firstBroken: i + 2 };
    },
  };

  for (const [name, tamper] of Object.entries(tampers)) {
    it(`detects any single change (${name}) and names the first broken link`, () => {
      fc.assert(
        fc.property(
          fc
            .integer({ min: 2, max: 30 })
            .chain((n) =>
              fc.tuple(
                fc.constant(n),
                fc.integer({ min: 0, max: n - 1 }),
                fc.integer({ min: 0, max: n - 1 }),
              ),
            ),
          fc.integer({ min: 1, max: 1000 }),
          ([n, i, j], pageRows) => {
            const chain = chainEvents(0, GENESIS_HASH, sampleEvents(n));
            const t = tamper(chain, i, j);
            if (t === null) return;
            const c = new ChainChecker();
            for (let k = 0; k < t.chain.length; k += pageRows) c.add(t.chain.slice(k, k + pageRows));
            const r = c.report();
            assert.equal(r.ok, false, `${name} at ${i} went unnoticed`);
            if (!r.ok) {
              assert.equal(r.broken.seq, t.firstBroken);
              assert.equal(r.checked, t.firstBroken - 1, 'every event before the break is good');
              if (r.broken.kind === 'hash') {
                const found = t.chain[t.firstBroken - 1];
                assert.equal(r.broken.found, found.hash);
                assert.notEqual(r.broken.expected, found.hash);
              }
            }
          },
        ),
        { numRuns: 150 },
      );
    });
  }
});
