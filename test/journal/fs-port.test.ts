/**
 * The journal's two file system ports: node's callback calls (nodeFs) and its blocking calls (blockingNodeFs,
 * what the engine's worker gives its journal). Each operation gives the same result and leaves the same files
 * through either; a failing call answers with a rejected promise carrying node's error (never a throw at the
 * call); and a journal written through one port reads back through the other, across segment rolls.
 */
import { after, describe, it } from 'node:test';
import { deepEqual, equal, ok, rejects } from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from '../../src/core/index.js';
import { blockingNodeFs, nodeFs, openJournal, type JournalFs } from '../../src/journal/index.js';
import { TempDirs, sampleCommands, testClock } from './helpers.js';

const temp = new TempDirs();
after(() => temp.cleanup());

const PORTS: readonly [string, JournalFs][] = [
  ['nodeFs', nodeFs],
  ['blockingNodeFs', blockingNodeFs],
];

/** Runs the same sequence of operations in a fresh directory; returns what each answered and the files left. */
async function exercise(io: JournalFs): Promise<{ answers: unknown[]; files: Record<string, string> }> {
  const root = temp.make();
  const dir = join(root, 'a', 'b');
  const answers: unknown[] = [];
  await io.mkdir(dir);
  await io.mkdir(dir); // again: already there is fine
  const fd = await io.open(join(dir, 'one'), 'wx');
  const text = new TextEncoder().encode('hello, journal');
  answers.push(await io.write(fd, text, 0, text.length, 0));
  answers.push(await io.write(fd, text, 7, 7, 100));
  await io.fdatasync(fd);
  await io.fsync(fd);
  answers.push(await io.size(fd));
  await io.close(fd);
  const rw = await io.open(join(dir, 'one'), 'r+');
  const back = new Uint8Array(20);
  answers.push(await io.read(rw, back, 0, 20, 0));
  answers.push(Array.from(back));
  answers.push(await io.read(rw, back, 0, 20, 200)); // past the end: 0
  await io.truncate(rw, 5);
  answers.push(await io.size(rw));
  await io.close(rw);
  await io.rename(join(dir, 'one'), join(dir, 'two'));
  const other = await io.open(join(dir, 'three'), 'w');
  await io.close(other);
  await io.unlink(join(dir, 'three'));
  await io.syncDir(dir);
  answers.push((await io.readdir(dir)).sort());
  const files: Record<string, string> = {};
  for (const name of readdirSync(dir)) files[name] = readFileSync(join(dir, name), 'latin1');
  return { answers, files };
}

describe('journal file system ports', () => {
  it('answer every operation alike and leave the same files', async () => {
    const a = await exercise(nodeFs);
    const b = await exercise(blockingNodeFs);
    deepEqual(b, a);
    deepEqual(a.files, { two: 'hello' });
    equal(a.answers[2], 107);
  });

  for (const [name, io] of PORTS) {
    it(`${name}: a failing call answers with a rejected promise carrying node's error code`, async () => {
      const dir = temp.make();
      const codeOf = (code: string) => (e: unknown) => (e as NodeJS.ErrnoException).code === code;
      // Each call returns a promise even when it fails at once (no throw reaches the caller).
      const missing = io.open(join(dir, 'missing'), 'r');
      ok(missing instanceof Promise);
      await rejects(missing, codeOf('ENOENT'));
      const fd = await io.open(join(dir, 'x'), 'wx');
      await rejects(io.open(join(dir, 'x'), 'wx'), codeOf('EEXIST'));
      await io.close(fd);
      const bytes = new Uint8Array(4);
      await rejects(io.write(fd, bytes, 0, 4, 0), codeOf('EBADF'));
      await rejects(io.fdatasync(fd), codeOf('EBADF'));
      await rejects(io.read(fd, bytes, 0, 4, 0), codeOf('EBADF'));
      await rejects(io.readdir(join(dir, 'nope')), codeOf('ENOENT'));
      await rejects(io.unlink(join(dir, 'nope')), codeOf('ENOENT'));
      await rejects(io.syncDir(join(dir, 'nope')), codeOf('ENOENT'));
    });
  }

  for (const [writerName, writerIo] of PORTS) {
    for (const [readerName, readerIo] of PORTS) {
      it(`a journal written through ${writerName} reads back through ${readerName}`, async () => {
        const dir = temp.make();
        const clock = testClock();
        // Small segments: the writes roll over several files, each created and synced through the port.
        const { writer } = await openJournal({
          dir,
          clockUs: clock.clockUs,
          segmentBytes: 4096,
          fs: writerIo,
        });
        const sent: Command[] = [];
        for (let round = 0; round < 40; round++) {
          const batch = sampleCommands();
          sent.push(...batch);
          await writer.append(batch);
        }
        await writer.close();
        ok(readdirSync(dir).filter((n) => n.endsWith('.seg')).length > 2, 'several segments');
        const seen: [number, Command][] = [];
        const reopened = await openJournal(
          { dir, clockUs: clock.clockUs, segmentBytes: 4096, fs: readerIo },
          { fromSeq: 1, visit: (seq, _timeUs, command) => seen.push([seq, command]) },
        );
        await reopened.writer.close();
        equal(reopened.lastSeq, sent.length);
        deepEqual(
          seen.map(([seq]) => seq),
          sent.map((_, k) => k + 1),
        );
        deepEqual(
          seen.map(([, c]) => c.kind),
          sent.map((c) => c.kind),
        );
        deepEqual(reopened.notices, []);
      });
    }
  }
});
