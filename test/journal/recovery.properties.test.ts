/**
 * Recovery as properties, over random journals:
 * - a process killed part-way through any write (the file holds a prefix of that write, and nothing cleans up
 *   after it) loses no acknowledged command, and what comes back is exactly a prefix of what was appended;
 * - one flipped byte anywhere in the journal's files either stops the start with JOURNAL_CORRUPT or, when it
 *   hits the very last record, cuts just that record and reports it; it never changes what is replayed.
 */
import { after, describe, it } from 'node:test';
import { deepEqual, equal, ok } from 'node:assert/strict';
import { cpSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import type { Command } from '../../src/core/index.js';
import { JournalError, JournalErrorCode, JournalNoticeCode, openJournal } from '../../src/journal/index.js';
import { TempDirs, TestFs, placeOrder, testClock } from './helpers.js';

const temp = new TempDirs();
/** Directories of one property run, removed after it. */
const scratch = new TempDirs();
after(() => {
  temp.cleanup();
  scratch.cleanup();
});

async function replayAll(dir: string): Promise<{ commands: Command[]; seqs: number[]; notices: string[] }> {
  const commands: Command[] = [];
  const seqs: number[] = [];
  const opened = await openJournal(
    { dir, clockUs: testClock().clockUs, segmentBytes: 4096 },
    {
      fromSeq: 1,
      visit: (seq, _t, c) => {
        seqs.push(seq);
        commands.push(c);
      },
    },
  );
  await opened.writer.close();
  return { commands, seqs, notices: opened.notices.map((n) => n.code) };
}

describe('recovery properties', () => {
  void it('a kill part-way through any write loses nothing acknowledged and keeps a prefix', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 12 }),
        fc.nat(),
        fc.double({ min: 0, max: 1, noNaN: true }),
        async (batches, crashPick, fraction) => {
          const dir = scratch.make();
          const io = new TestFs();
          // A killed process runs no clean-up: the partial write stays as it is.
          io.truncate = () => Promise.reject(new Error('killed'));
          const { writer } = await openJournal({
            dir,
            clockUs: testClock().clockUs,
            segmentBytes: 4096,
            fs: io,
          });
          const crashAt = crashPick % batches.length;
          const appended: Command[] = [];
          let acked = 0;
          for (let b = 0; b < batches.length; b++) {
            const cmds = Array.from({ length: batches[b] }, (_, i) => placeOrder(appended.length + i + 1));
            if (b === crashAt) io.failWritesAfterBytes = Math.floor(fraction * (32 + batches[b] * 68));
            const result = await writer.append(cmds).then(
              () => true,
              () => false,
            );
            appended.push(...cmds);
            if (!result) break;
            acked = appended.length;
          }
          const { commands, seqs } = await replayAll(dir);
          ok(commands.length >= acked, `${commands.length} recovered, ${acked} acknowledged`);
          ok(commands.length <= appended.length);
          deepEqual(commands, appended.slice(0, commands.length));
          deepEqual(
            seqs,
            commands.map((_, i) => i + 1),
          );
          // And the journal takes appends again after the repair.
          const again = await openJournal({ dir, clockUs: testClock().clockUs, segmentBytes: 4096 });
          equal((await again.writer.append([placeOrder(0)])).firstSeq, commands.length + 1);
          await again.writer.close();
          scratch.cleanup();
        },
      ),
      { numRuns: 60 },
    );
  });

  void it('a flipped byte anywhere is either reported as corruption or cuts only the last record', async () => {
    const original = temp.make();
    const { writer } = await openJournal({ dir: original, clockUs: testClock().clockUs, segmentBytes: 4096 });
    for (let i = 0; i < 15; i++)
      await writer.append(Array.from({ length: 10 }, (_, k) => placeOrder(i * 10 + k + 1)));
    await writer.close();
    const expected = (await replayAll(original)).commands;
    equal(expected.length, 150);
    const files = readdirSync(original).sort();
    const sizes = files.map((f) => readFileSync(join(original, f)).length);
    const total = sizes.reduce((a, b) => a + b, 0);

    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: total - 1 }),
        fc.integer({ min: 0, max: 7 }),
        async (at, bit) => {
          const dir = temp.make();
          cpSync(original, dir, { recursive: true });
          let f = 0;
          let offset = at;
          while (offset >= sizes[f]) offset -= sizes[f++];
          const path = join(dir, files[f]);
          const bytes = readFileSync(path);
          bytes[offset] ^= 1 << bit;
          writeFileSync(path, bytes);
          try {
            const { commands, notices } = await replayAll(dir);
            // Only the last record of the last segment can be taken for a torn write.
            equal(f, files.length - 1, `flip at ${files[f]}:${offset} recovered silently`);
            ok(offset >= sizes[f] - 68, `flip at ${offset} of ${sizes[f]} was cut as a tail`);
            deepEqual(notices, [JournalNoticeCode.TailTruncated]);
            deepEqual(commands, expected.slice(0, 149));
          } catch (e) {
            ok(e instanceof JournalError && e.code === JournalErrorCode.Corrupt, String(e));
            equal(e.file, path);
          }
          scratch.cleanup();
        },
      ),
      { numRuns: 300 },
    );
  });
});
