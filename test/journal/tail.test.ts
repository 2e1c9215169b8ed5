/**
 * JournalTail: follows the journal a chunk at a time across segments, from any sequence number, only up to
 * what the caller says is durable, while the writer appends; a damaged durable record is JOURNAL_CORRUPT.
 */
import { strict as assert } from 'node:assert';
import { openSync, readSync, writeSync, closeSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import type { Command } from '../../src/core/index.js';
import { EngineHost } from '../../src/engine/index.js';
import { JournalReader, JournalTail } from '../../src/journal/index.js';
import {
  TempDirs,
  recordOffsets,
  segmentPaths,
  stream,
  submitStamped,
  writeThroughHost,
} from '../engine/helpers.js';
import { testClock } from './helpers.js';

async function scanned(dir: string): Promise<{ seq: number; timeUs: number; command: Command }[]> {
  const out: { seq: number; timeUs: number; command: Command }[] = [];
  await new JournalReader(dir).scan(1, (seq, timeUs, command) => out.push({ seq, timeUs, command }));
  return out;
}

describe('JournalTail', () => {
  const dirs = new TempDirs();
  after(() => dirs.cleanup());

  it('reads what the recovery scan reads, from any record, across segments, in bounded steps', async () => {
    const dir = dirs.make();
    await writeThroughHost(dir, stream(3, 600), { batch: 17, config: { segmentBytes: 8 * 1024 } });
    assert.ok(segmentPaths(dir).length > 3, 'several segments');
    const all = await scanned(dir);
    assert.equal(all.length, 600);
    for (const from of [1, 2, 150, 299, 600, 601]) {
      const tail = new JournalTail(dir);
      await tail.seek(from);
      assert.equal(tail.nextSeq, from);
      const got: { seq: number; timeUs: number; command: Command }[] = [];
      for (;;) {
        const n = await tail.read(600, 7, (seq, timeUs, command) => got.push({ seq, timeUs, command }));
        assert.ok(n <= 7);
        if (n === 0) break;
      }
      assert.deepEqual(got, all.slice(from - 1));
    }
    // Never past what is durable.
    const tail = new JournalTail(dir);
    const seen: number[] = [];
    assert.equal(await tail.read(40, 1000, (seq) => seen.push(seq)), 40);
    assert.equal(await tail.read(40, 1000, null), 0);
    assert.deepEqual(
      seen,
      Array.from({ length: 40 }, (_, k) => k + 1),
    );
    assert.equal(tail.nextSeq, 41);
  });

  it('follows a journal while the writer appends and rolls segments', async () => {
    const dir = dirs.make();
    const clock = testClock();
    const { host } = await EngineHost.open(
      { dir, snapshotEveryCommands: 0, snapshotEveryMs: 0, segmentBytes: 4 * 1024 },
      clock.clockUs,
    );
    const tail = new JournalTail(dir);
    const commands = stream(5, 400);
    const seen: number[] = [];
    try {
      for (let at = 0; at < commands.length; at += 23) {
        const part = commands.slice(at, at + 23);
        const out = submitStamped(host, part);
        await out.durable;
        const durable = at + part.length;
        while (tail.nextSeq <= durable) await tail.read(durable, 10, (seq) => seen.push(seq));
      }
    } finally {
      await host.close();
    }
    assert.deepEqual(
      seen,
      Array.from({ length: 400 }, (_, k) => k + 1),
    );
  });

  it('refuses a damaged durable record, naming the file', async () => {
    const dir = dirs.make();
    await writeThroughHost(dir, stream(9, 120), { batch: 10 });
    const [segment] = segmentPaths(dir);
    const at = recordOffsets(segment)[60].offset + 12;
    const fd = openSync(segment, 'r+');
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, at);
    b[0] ^= 0xff;
    writeSync(fd, b, 0, 1, at);
    closeSync(fd);
    const tail = new JournalTail(dir);
    await assert.rejects(tail.read(120, 1000, null), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'JOURNAL_CORRUPT');
      assert.match(e.message, /record 61/);
      return true;
    });
  });
});
