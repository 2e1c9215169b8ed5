/**
 * Records framed outside the writer (frameCommand, as the engine's main thread does) and appended with
 * appendRecords: the journal holds exactly what append would have written for the same commands and clock,
 * malformed batches are refused with nothing sequenced, and the framed commands decode back as they were.
 */
import { after, describe, it } from 'node:test';
import { deepEqual, equal, rejects, throws } from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from '../../src/core/index.js';
import {
  JournalErrorCode,
  RECORD_BYTES_MAX,
  decodeFramedCommands,
  frameCommand,
  openJournal,
} from '../../src/journal/index.js';
import { TempDirs, placeOrder, sampleCommands, testClock } from './helpers.js';

const temp = new TempDirs();
after(() => temp.cleanup());

function framed(commands: readonly Command[]): Uint8Array {
  const out = new Uint8Array(commands.length * RECORD_BYTES_MAX);
  let at = 0;
  for (const c of commands) at = frameCommand(c, out, at);
  return out.slice(0, at);
}

function journalBytes(dir: string): Buffer[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith('.seg'))
    .sort()
    .map((n) => readFileSync(join(dir, n)));
}

const isCode = (code: string) => (e: unknown) => (e as { code?: string }).code === code;

describe('framed records', () => {
  void it('append and appendRecords write the same bytes for the same commands and clock', async () => {
    const batches = [sampleCommands(), [placeOrder(1), placeOrder(2)], sampleCommands().slice(3, 9)];
    const a = temp.make();
    const b = temp.make();
    const viaAppend = await openJournal({ dir: a, clockUs: testClock().clockUs });
    const viaRecords = await openJournal({ dir: b, clockUs: testClock().clockUs });
    for (const batch of batches) {
      const copy = batch.map((c) => ({ ...c }));
      const [x, y] = await Promise.all([
        viaAppend.writer.append(batch),
        viaRecords.writer.appendRecords(framed(copy), copy.length),
      ]);
      deepEqual(y, x);
    }
    await viaAppend.writer.close();
    await viaRecords.writer.close();
    deepEqual(journalBytes(b), journalBytes(a));
  });

  void it('decodes framed commands back as they were (times left 0)', () => {
    const commands = sampleCommands();
    deepEqual(decodeFramedCommands(framed(commands), commands.length), commands);
  });

  void it('refuses bytes that are not the announced records, sequencing nothing', async () => {
    const dir = temp.make();
    const { writer } = await openJournal({ dir, clockUs: testClock().clockUs });
    const good = framed([placeOrder(1), placeOrder(2)]);
    const invalid = (e: unknown): boolean => isCode(JournalErrorCode.InvalidArgument)(e);
    await rejects(writer.appendRecords(good, 3), invalid);
    await rejects(writer.appendRecords(good, 1), invalid);
    await rejects(writer.appendRecords(good, 0), invalid);
    await rejects(writer.appendRecords(good.subarray(0, good.length - 1), 2), invalid);
    const zeroLength = good.slice();
    zeroLength.fill(0, 0, 4);
    await rejects(writer.appendRecords(zeroLength, 2), invalid);
    equal(writer.sequencedSeq, 0);
    const ok = await writer.appendRecords(good, 2);
    deepEqual([ok.firstSeq, ok.lastSeq], [1, 2]);
    await writer.close();
  });

  void it('decodeFramedCommands refuses what is not framed commands', () => {
    const good = framed([placeOrder(1)]);
    throws(() => decodeFramedCommands(good, 2), isCode(JournalErrorCode.InvalidArgument));
    throws(() => decodeFramedCommands(good.subarray(0, 20), 1), isCode(JournalErrorCode.InvalidArgument));
    const bad = good.slice();
    bad[8 + 16] = 99; // the kind byte
    throws(() => decodeFramedCommands(bad, 1), isCode(JournalErrorCode.CommandMalformed));
  });

  void it('frameCommand refuses a command the codec cannot record', () => {
    const out = new Uint8Array(RECORD_BYTES_MAX);
    const c = { kind: 'addAsset', timeUs: 0, asset: 1, code: 'X'.repeat(300), decimals: 2 } as Command;
    throws(() => frameCommand(c, out, 0), isCode(JournalErrorCode.CommandUnencodable));
  });
});
