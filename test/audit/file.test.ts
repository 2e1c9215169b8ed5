/**
 * The audit file: groups appended durably continue the chain across reopening, every line verifies, a torn
 * tail (a group cut short by a crash) is cut at the next open while damage with good lines after it refuses
 * the open and is named by verify, a failed write is cut back so that its retry is clean, and a process killed
 * while appending keeps every group it was told was written.
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  AUDIT_CHECKPOINT_NAME,
  AuditFile,
  AuditFileError,
  AuditFileReader,
  auditCheckpointOf,
  findAuditLine,
  DetailShape,
  GENESIS_HASH,
  auditFilePath,
  chainEvents,
  makeFixedEvent,
  tailAuditFile,
  verifyAuditFile,
  type AuditFileHandle,
} from '../../src/audit/index.js';
import { sampleEvent, sampleEvents } from './helpers.js';

const tempDir = (): string => mkdtempSync(join(tmpdir(), 'rialto-audit-file-'));

async function fileWith(n: number): Promise<string> {
  const dir = tempDir();
  const f = await AuditFile.open(dir);
  await f.append(sampleEvents(n));
  await f.close();
  return dir;
}

describe('audit file', () => {
  it('appends groups, continues the chain after reopening, and every line verifies', async () => {
    const dir = tempDir();
    const f = await AuditFile.open(dir);
    assert.deepEqual(f.head, { seq: 0, hash: GENESIS_HASH });
    await f.append(sampleEvents(3));
    await f.append([sampleEvent(4)]);
    await f.close();
    const again = await AuditFile.open(dir);
    const head = await again.append([sampleEvent(5)]);
    await again.close();
    // The same hashes as chaining the five events in one go.
    const expected = chainEvents(0, GENESIS_HASH, sampleEvents(5));
    assert.deepEqual(head, { seq: 5, hash: expected[4].hash });
    const v = await verifyAuditFile(auditFilePath(dir));
    assert.deepEqual(v.report, { ok: true, count: 5, headSeq: 5, headHash: expected[4].hash });
    assert.deepEqual(await tailAuditFile(auditFilePath(dir), 2), expected.slice(3));
  });

  it("on a worker thread, writes the same lines as on the caller's, and continues the chain either way", async () => {
    const byCaller = tempDir();
    const byWorker = tempDir();
    // The last group's text is not ASCII (its bytes go to the worker as UTF-8), one of its events made by
    // makeFixedEvent.
    const odd = (i: number, text: string) => ({ ...sampleEvent(i), details: { text, n: i } });
    const fixed = makeFixedEvent({
      ...sampleEvent(10),
      shape: new DetailShape(['symbol', 'note']),
      values: ['ÉTH-€', 'line\nbreak "quoted" \u2028 😀 \ud800'],
    });
    const groups = [
      sampleEvents(3),
      [sampleEvent(4)],
      sampleEvents(7).slice(4),
      [odd(8, 'é'), odd(9, '😀\u0000'), fixed, odd(11, '')],
    ];
    const caller = await AuditFile.open(byCaller);
    const worker = await AuditFile.open(byWorker, { thread: 'worker' });
    for (const g of groups) {
      const a = await caller.append(g);
      const b = await worker.append(g);
      assert.deepEqual(b, a);
      assert.equal(worker.size, caller.size);
    }
    await caller.close();
    await worker.close();
    assert.deepEqual(readFileSync(auditFilePath(byWorker)), readFileSync(auditFilePath(byCaller)));
    // Reopened on a worker after the caller's lines, and the other way round: one chain.
    const again = await AuditFile.open(byCaller, { thread: 'worker' });
    const head = await again.append([sampleEvent(12)]);
    await again.close();
    const expected = chainEvents(0, GENESIS_HASH, [...groups.flat(), sampleEvent(12)]);
    assert.deepEqual(head, { seq: 12, hash: expected[11].hash });
    const v = await verifyAuditFile(auditFilePath(byCaller));
    assert.deepEqual(v.report, { ok: true, count: 12, headSeq: 12, headHash: expected[11].hash });
  });

  it('cuts a torn tail at the next open: a partial line, or damaged lines with nothing good after them', async () => {
    for (const tear of ['partial', 'damaged-last-lines', 'zeros'] as const) {
      const dir = await fileWith(4);
      const path = auditFilePath(dir);
      const good = statSync(path).size;
      const lines = readFileSync(path, 'utf8').split('\n');
      if (tear === 'partial') appendFileSync(path, lines[0].slice(0, 40));
      if (tear === 'damaged-last-lines') appendFileSync(path, lines[1].replace('"seq"', '"sEq"') + '\nxx\n');
      if (tear === 'zeros') appendFileSync(path, Buffer.alloc(300));
      const torn = await verifyAuditFile(path);
      assert.equal(torn.report.ok, true, `${tear}: verify reports, does not fail`);
      assert.equal(torn.end.kind, 'torn', tear);
      const notes: string[] = [];
      const f = await AuditFile.open(dir, { onRepair: (m) => notes.push(m) });
      assert.equal(statSync(path).size, good, `${tear}: cut back to the last good line`);
      assert.match(notes[0], new RegExp(`cut a torn tail of \\d+ bytes at byte ${good} \\(after event 4\\)`));
      assert.equal((await f.append([sampleEvent(5)])).seq, 5);
      await f.close();
      assert.equal((await verifyAuditFile(path)).report.ok, true, `${tear}: appended after the cut`);
    }
  });

  it('refuses to open on damage with good lines after it, and verify names the event', async () => {
    const dir = await fileWith(6);
    const path = auditFilePath(dir);
    // Without a checkpoint (a file of an earlier version, or one never closed cleanly) the open reads it all.
    rmSync(join(dir, AUDIT_CHECKPOINT_NAME));
    const text = readFileSync(path, 'utf8');
    const lines = text.split('\n');
    const at = Buffer.byteLength(lines.slice(0, 2).join('\n') + '\n');
    lines[2] = lines[2].replace('req-3', 'req-X'); // the CRC no longer holds
    writeFileSync(path, lines.join('\n'));
    await assert.rejects(
      AuditFile.open(dir),
      (e: unknown) =>
        e instanceof AuditFileError && e.message.includes(`at byte ${at} (where event 3 should be)`),
    );
    const v = await verifyAuditFile(path);
    assert.equal(v.report.ok, false);
    if (!v.report.ok) {
      assert.deepEqual(v.report.broken, {
        kind: 'damaged',
        seq: 3,
        offset: at,
        why: 'a damaged line, with good lines after it',
      });
      assert.equal(v.report.checked, 2);
    }
  });

  it('names the first event changed with its CRC recomputed, by its hash', async () => {
    const dir = await fileWith(6);
    const path = auditFilePath(dir);
    const records = chainEvents(0, GENESIS_HASH, sampleEvents(6));
    const lines = readFileSync(path, 'utf8').split('\n');
    // Rewrite line 4 as a forger would: a changed actor, a fresh CRC, the old hash.
    const { auditLineText, canonicalEventJson } = await import('../../src/audit/index.js');
    const forged = { ...records[3], actor: { ...records[3].actor, id: 'mallory' } };
    lines[3] = auditLineText(4, records[3].hash, canonicalEventJson(4, forged)).trimEnd();
    writeFileSync(path, lines.join('\n'));
    const v = await verifyAuditFile(path);
    assert.equal(v.report.ok, false);
    if (!v.report.ok) {
      assert.equal(v.report.broken.kind, 'hash');
      assert.equal(v.report.broken.seq, 4);
    }
  });

  it('cuts a failed write back, so that the retried group is appended cleanly', async () => {
    const dir = await fileWith(2);
    const path = auditFilePath(dir);
    let failNextSync = true;
    const { open } = await import('node:fs/promises');
    const handle = async (p: string): Promise<AuditFileHandle> => {
      const fh = await open(p, 'a');
      return {
        write: async (b) => void (await fh.write(b)),
        sync: async () => {
          if (failNextSync) {
            failNextSync = false;
            throw new Error('EIO: fdatasync failed');
          }
          await fh.datasync();
        },
        truncate: async (n) => {
          await fh.truncate(n);
          await fh.datasync();
        },
        close: () => fh.close(),
      };
    };
    const f = await AuditFile.open(dir, { openHandle: handle });
    const size = statSync(path).size;
    await assert.rejects(f.append([sampleEvent(3), sampleEvent(4)]), /EIO/);
    assert.equal(statSync(path).size, size, 'the written group is cut back');
    assert.equal(f.head.seq, 2);
    assert.equal((await f.append([sampleEvent(3), sampleEvent(4)])).seq, 4);
    await f.close();
    const v = await verifyAuditFile(path);
    assert.equal(v.report.ok && v.report.count, 4);
  });

  it('keeps every group a killed process was told was written', { timeout: 60_000 }, async () => {
    const dir = tempDir();
    const audit = new URL('../../src/audit/index.js', import.meta.url).href;
    const helpers = new URL('./helpers.js', import.meta.url).href;
    const script = `
      const { AuditFile } = await import(${JSON.stringify(audit)});
      const { sampleEvent } = await import(${JSON.stringify(helpers)});
      const f = await AuditFile.open(${JSON.stringify(dir)});
      for (let i = 1; ; i += 10) {
        const group = Array.from({ length: 10 }, (_, k) => sampleEvent(i + k));
        const head = await f.append(group);
        process.stdout.write(head.seq + '\\n');
      }`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('.', import.meta.url)),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let acked = 0;
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        const seqs = d.toString().trim().split('\n').map(Number);
        acked = Math.max(acked, ...seqs);
        if (acked >= 300 && child.exitCode === null) child.kill('SIGKILL');
      });
      child.on('exit', () => resolve());
    });
    assert.ok(acked >= 300);
    const v = await verifyAuditFile(auditFilePath(dir));
    assert.equal(v.report.ok, true, JSON.stringify(v.report));
    if (v.report.ok) assert.ok(v.report.count >= acked, `${v.report.count} events on disk, ${acked} acked`);
    const f = await AuditFile.open(dir);
    assert.ok(f.head.seq >= acked);
    await f.close();
    // A tear inside the last group: the open cuts it and the head is a whole group.
    const path = auditFilePath(dir);
    truncateSync(path, statSync(path).size - 37);
    const cut = await AuditFile.open(dir);
    assert.equal(cut.head.seq, (v.report.ok ? v.report.count : 0) - 1);
    await cut.close();
  });
});

const checkpointOf = (dir: string): { seq: number; hash: string; bytes: number } =>
  JSON.parse(readFileSync(join(dir, AUDIT_CHECKPOINT_NAME), 'utf8')) as {
    seq: number;
    hash: string;
    bytes: number;
  };

/** Every line of the file, read from its start. */
async function allLines(path: string) {
  const lines = [];
  for await (const page of new AuditFileReader(path).pages(1000)) lines.push(...page);
  return lines;
}

describe('audit file checkpoint', () => {
  it('is written at close, names the head, and the next open reads only what follows it', async () => {
    const dir = await fileWith(6);
    const path = auditFilePath(dir);
    const lines = await allLines(path);
    assert.deepEqual(checkpointOf(dir), { seq: 6, hash: lines[5].hash, bytes: statSync(path).size });
    // Damage before the checkpoint is not read by the open (verify finds it); a line appended after the
    // checkpoint and damaged is, and refuses the open.
    const text = readFileSync(path, 'utf8').split('\n');
    text[2] = text[2].replace('req-3', 'req-X');
    writeFileSync(path, text.join('\n'));
    const f = await AuditFile.open(dir);
    assert.equal(f.head.seq, 6);
    await f.append([sampleEvent(7), sampleEvent(8)]);
    await f.close();
    assert.equal(checkpointOf(dir).seq, 8);
    const v = await verifyAuditFile(path);
    assert.equal(v.report.ok, false, 'verify still reads the whole file');
    if (!v.report.ok) assert.equal(v.report.broken.seq, 3);

    const dir2 = await fileWith(6);
    const path2 = auditFilePath(dir2);
    const at = statSync(path2).size;
    const f2 = await AuditFile.open(dir2, { checkpointEveryBytes: Number.MAX_SAFE_INTEGER });
    await f2.append([sampleEvent(7)]);
    await f2.append([sampleEvent(8)]);
    // Killed without a close: the checkpoint stays at event 6.
    const after = readFileSync(path2, 'utf8').split('\n');
    after[6] = after[6].replace('req-7', 'req-X');
    writeFileSync(path2, after.join('\n'));
    assert.equal(checkpointOf(dir2).bytes, at);
    await assert.rejects(
      AuditFile.open(dir2),
      (e: unknown) =>
        e instanceof AuditFileError && e.message.includes(`at byte ${at} (where event 7 should be)`),
    );
  });

  it('is written while appending, every checkpointEveryBytes, so that a crash leaves a recent one', async () => {
    const dir = tempDir();
    const path = auditFilePath(dir);
    const f = await AuditFile.open(dir, { thread: 'worker', checkpointEveryBytes: 4096 });
    let written = 0;
    let checkpoints = 0;
    for (let i = 1; i <= 200; i += 10) {
      await f.append(Array.from({ length: 10 }, (_, k) => sampleEvent(i + k)));
      const size = statSync(path).size;
      if (existsSync(join(dir, AUDIT_CHECKPOINT_NAME)) && checkpointOf(dir).bytes !== written) {
        // A new checkpoint names the head the append just made durable, 4,096 bytes or more after the last.
        const cp = checkpointOf(dir);
        assert.equal(cp.bytes, size);
        assert.equal(cp.seq, i + 9);
        assert.ok(cp.bytes - written >= 4096);
        written = cp.bytes;
        checkpoints++;
      }
      assert.ok(size - written < 4096 + 10 * 1024, 'never more than the interval and a group behind');
    }
    assert.ok(checkpoints >= 10, `${checkpoints} checkpoints`);
    // No close (a crash): the open starts at the checkpoint and finds the same head as a full read.
    const point = await auditCheckpointOf(dir);
    assert.equal(point?.bytes, written);
    const again = await AuditFile.open(dir);
    assert.equal(again.head.seq, 200);
    assert.equal(again.size, statSync(path).size);
    await again.close();
    await f.close();
  });

  it('is not believed unless the line it names ends where it says, with its number and hash', async () => {
    const cases: [string, (dir: string) => void][] = [
      ['missing', (dir) => rmSync(join(dir, AUDIT_CHECKPOINT_NAME))],
      ['not JSON', (dir) => writeFileSync(join(dir, AUDIT_CHECKPOINT_NAME), '{"seq":6,')],
      ['zeros', (dir) => writeFileSync(join(dir, AUDIT_CHECKPOINT_NAME), Buffer.alloc(64))],
      [
        'past the end',
        (dir) => {
          const cp = checkpointOf(dir);
          writeFileSync(join(dir, AUDIT_CHECKPOINT_NAME), JSON.stringify({ ...cp, bytes: cp.bytes + 10 }));
        },
      ],
      [
        'inside a line',
        (dir) => {
          const cp = checkpointOf(dir);
          writeFileSync(join(dir, AUDIT_CHECKPOINT_NAME), JSON.stringify({ ...cp, bytes: cp.bytes - 10 }));
        },
      ],
      [
        'another number',
        (dir) => {
          const cp = checkpointOf(dir);
          writeFileSync(join(dir, AUDIT_CHECKPOINT_NAME), JSON.stringify({ ...cp, seq: 5 }));
        },
      ],
      [
        'another hash',
        (dir) => {
          const cp = checkpointOf(dir);
          writeFileSync(join(dir, AUDIT_CHECKPOINT_NAME), JSON.stringify({ ...cp, hash: GENESIS_HASH }));
        },
      ],
      [
        'another file',
        (dir) => writeFileSync(auditFilePath(dir), readFileSync(auditFilePath(dir)).subarray(0, 0)),
      ],
    ];
    for (const [name, spoil] of cases) {
      const dir = await fileWith(6);
      spoil(dir);
      assert.equal(await auditCheckpointOf(dir), null, name);
      // The open reads the whole file: the same head, and damage anywhere refuses it.
      const f = await AuditFile.open(dir);
      const expected = name === 'another file' ? 0 : 6;
      assert.equal(f.head.seq, expected, name);
      await f.append([sampleEvent(expected + 1)]);
      await f.close();
      assert.equal((await verifyAuditFile(auditFilePath(dir))).report.ok, true, name);
    }
  });

  it('does not keep a torn tail after it from being cut', async () => {
    const dir = await fileWith(4);
    const path = auditFilePath(dir);
    const good = statSync(path).size;
    appendFileSync(path, readFileSync(path, 'utf8').slice(0, 50));
    const notes: string[] = [];
    const f = await AuditFile.open(dir, { onRepair: (m) => notes.push(m) });
    assert.equal(statSync(path).size, good);
    assert.equal(notes.length, 1);
    assert.equal((await f.append([sampleEvent(5)])).seq, 5);
    await f.close();
  });
});

/** A file of 3,000 events in groups of 100, about a megabyte. */
async function largeFile(): Promise<{ dir: string; path: string }> {
  const dir = tempDir();
  const f = await AuditFile.open(dir);
  for (let i = 1; i <= 3000; i += 100)
    await f.append(Array.from({ length: 100 }, (_, k) => sampleEvent(i + k)));
  await f.close();
  return { dir, path: auditFilePath(dir) };
}

describe('findAuditLine', () => {
  it('finds each event of a large file by bisecting, as a read from the start finds it', async () => {
    const { dir, path } = await largeFile();
    assert.ok(statSync(path).size > 4 * 256 * 1024, 'larger than what is read line by line');
    const lines = await allLines(path);
    for (const seq of [1, 2, 99, 100, 101, 1499, 1500, 2047, 2999, 3000]) {
      assert.deepEqual(await findAuditLine(path, seq), lines[seq - 1], `event ${seq}`);
    }
    for (let k = 0; k < 200; k++) {
      const seq = 1 + ((k * 7919) % 3000);
      assert.deepEqual(await findAuditLine(path, seq), lines[seq - 1], `event ${seq}`);
    }
    assert.equal(await findAuditLine(path, 3001), null);
    assert.equal(await findAuditLine(join(dir, 'none.log'), 1), null);
  });

  it('reads from the start when it lands on damage, and finds what lies before it', async () => {
    const { path } = await largeFile();
    const lines = await allLines(path);
    // Every line from 1,000 on damaged: each probe past it lands on damage.
    const text = readFileSync(path, 'utf8').split('\n');
    for (let i = 999; i < 3000; i++) text[i] = text[i].replace('"seq"', '"sEq"');
    writeFileSync(path, text.join('\n'));
    for (const seq of [1, 500, 998, 999]) assert.deepEqual(await findAuditLine(path, seq), lines[seq - 1]);
    assert.equal(await findAuditLine(path, 1000), null);
    assert.equal(await findAuditLine(path, 2500), null);
  });
});
