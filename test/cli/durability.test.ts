/**
 * End-to-end tests of `rialto journal verify | inspect | tail` and `rialto snapshot list | create`: the built
 * CLI in a child process on data directories written through the engine's host in temporary directories,
 * undamaged and damaged, and beside a running engine. Output without a terminal carries no progress bar.
 */
import { strict as assert } from 'node:assert';
import { createInterface } from 'node:readline';
import { mkdirSync, readFileSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import type { Command } from '../../src/core/index.js';
import { Engine, EngineHost } from '../../src/engine/index.js';
import { LOCK_FILE_NAME, openJournal, snapshotFileName } from '../../src/journal/index.js';
import {
  TempDirs,
  fingerprint,
  recordOffsets,
  segmentPaths,
  stream,
  writeThroughHost,
  type Written,
} from '../engine/helpers.js';
import { CHILD_TIMEOUT_MS, MAIN, assertCleanFailure, rialto, run, startRialto } from './helpers.js';

const temp = new TempDirs();
after(() => temp.cleanup());

const COMMANDS = 600;

function flipByte(file: string, at: number): void {
  const bytes = readFileSync(file);
  bytes[at] ^= 0x10;
  writeFileSync(file, bytes);
}

function json<T>(text: string): T {
  return JSON.parse(text) as T;
}

interface RecordLine {
  seq: number;
  timeUs: number;
  command: Record<string, unknown>;
}

const lines = (text: string): RecordLine[] =>
  text
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => json<RecordLine>(l));

/** The command as a record line shows it: without its time (the record's). */
function shown(c: Command): Record<string, unknown> {
  const { timeUs: _time, ...fields } = c;
  return JSON.parse(JSON.stringify(fields)) as Record<string, unknown>;
}

function assertClean(r: { status: number | null; stderr: string }): void {
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '', 'nothing on stderr: no progress bar without a terminal');
}

describe('rialto journal and snapshot (built CLI)', () => {
  /** 600 commands in 4 KiB segments, snapshots after 200, 400 and (at close) 600. */
  let base = '';
  let written: Written;
  let segmentFiles: string[] = [];

  before(async () => {
    base = temp.make();
    written = await writeThroughHost(base, stream(23, COMMANDS), {
      snapshotsAt: [200, 400],
      config: { segmentBytes: 4096 },
    });
    segmentFiles = segmentPaths(base);
    assert.ok(segmentFiles.length >= 4, `${segmentFiles.length} segments`);
  });

  describe('help', () => {
    it('lists the commands and options, and says where the data directory comes from', () => {
      const journal = rialto('journal', '--help');
      assert.equal(journal.status, 0);
      for (const name of ['verify', 'inspect', 'tail'])
        assert.match(journal.stdout, new RegExp(`^\\s+${name} `, 'm'));
      const snapshot = rialto('snapshot', '--help');
      assert.equal(snapshot.status, 0);
      for (const name of ['list', 'create']) assert.match(snapshot.stdout, new RegExp(`^\\s+${name} `, 'm'));
      const inspect = rialto('journal', 'inspect', '--help');
      assert.match(inspect.stdout, /^Usage: rialto journal inspect /);
      assert.match(inspect.stdout, /--from <seq>/);
      assert.match(inspect.stdout, /--limit <n>/);
      assert.match(inspect.stdout, /-d, --dir <path>[\s\S]*\(default: "\.\/data", env: RIALTO_DATA_DIR\)/);
      const tail = rialto('journal', 'tail', '--help');
      assert.match(tail.stdout, /-n, --lines <n>/);
      assert.match(tail.stdout, /-f, --follow/);
      assert.match(rialto('snapshot', 'create', '--help').stdout, /--keep <n>/);
    });
  });

  describe('progress', () => {
    it('draws a bar on stderr when it is a terminal (under script(1)), and clears it', (t) => {
      const script = spawnSync('script', ['--version'], { encoding: 'utf8' });
      if (script.error !== undefined || script.status !== 0) {
        t.skip('script(1) is not installed: no pseudo-terminal to run the CLI in');
        return;
      }
      const dir = temp.copy(base);
      unlinkSync(join(dir, snapshotFileName(600)));
      for (const [args, label] of [
        [['journal', 'verify', '--dir', dir], 'verifying'],
        [['snapshot', 'create', '--dir', dir], 'replaying'],
      ] as const) {
        const command = [process.execPath, MAIN, ...args].join(' ');
        const r = spawnSync('script', ['-qec', command, '/dev/null'], {
          encoding: 'utf8',
          timeout: CHILD_TIMEOUT_MS,
        });
        assert.equal(r.status, 0, r.stdout);
        assert.match(r.stdout, new RegExp(`${label} \\[[=-]{30}\\] \\d+%`), 'a bar was drawn');
        assert.ok(r.stdout.includes('\u001b[2K'), 'and cleared (erase line)');
      }
    });
  });

  describe('journal verify', () => {
    it('reports segments, records, sequence range and bytes of a sound journal', () => {
      const bytes = segmentFiles.reduce((n, f) => n + statSync(f).size, 0);
      const r = rialto('journal', 'verify', '--dir', base);
      assertClean(r);
      assert.equal(
        r.stdout,
        `journal ${base}: ${segmentFiles.length} segments, ${COMMANDS} records (seq 1 .. ${COMMANDS}), ${bytes} bytes: ok\n`,
      );
      const report = json<Record<string, unknown>>(
        rialto('journal', 'verify', '--dir', base, '--json').stdout,
      );
      assert.deepEqual(report, {
        dir: base,
        ok: true,
        segments: segmentFiles.length,
        records: COMMANDS,
        firstSeq: 1,
        lastSeq: COMMANDS,
        bytes,
        tornTail: null,
        corruption: null,
      });
    });

    it('takes the directory from RIALTO_DATA_DIR, else ./data', () => {
      const env = run(['journal', 'verify'], undefined, { env: { RIALTO_DATA_DIR: base } });
      assertClean(env);
      assert.match(env.stdout, new RegExp(`^journal ${base}: .*: ok$`, 'm'));
      const parent = temp.make();
      const data = join(parent, 'data');
      mkdirSync(data);
      const none = run(['journal', 'verify'], undefined, { cwd: parent });
      assertClean(none);
      assert.equal(none.stdout, 'journal ./data: 0 segments, 0 records, 0 bytes: ok\n');
    });

    it('reports a torn tail with file and offset, exits 0, and leaves it in place', () => {
      const dir = temp.copy(base);
      const last = segmentPaths(dir).pop() ?? '';
      const records = recordOffsets(last);
      const lastRecord = records[records.length - 1];
      const size = statSync(last).size;
      truncateSync(last, size - 7);
      const before = fingerprint(dir);
      const r = rialto('journal', 'verify', '--dir', dir, '--json');
      assertClean(r);
      const report = json<{ ok: boolean; records: number; tornTail: Record<string, unknown> }>(r.stdout);
      assert.equal(report.ok, true);
      assert.equal(report.records, COMMANDS - 1);
      assert.equal(report.tornTail.file, last);
      assert.equal(report.tornTail.offset, lastRecord.offset);
      assert.equal(report.tornTail.bytes, size - 7 - lastRecord.offset);
      const text = rialto('journal', 'verify', '--dir', dir);
      assert.match(text.stdout, /: ok, with a torn tail$/m);
      assert.ok(text.stdout.includes(`torn tail: ${last} at byte ${lastRecord.offset}, `), text.stdout);
      assert.deepEqual(fingerprint(dir), before, 'verify changed nothing');
    });

    it('exits 1 on a flipped byte in an old record, naming file and offset, and changes nothing', () => {
      const dir = temp.copy(base);
      const segment = segmentPaths(dir)[1];
      const victim = recordOffsets(segment)[2];
      flipByte(segment, victim.offset + 8 + 18);
      const before = fingerprint(dir);
      const r = rialto('journal', 'verify', '--dir', dir);
      assert.equal(r.status, 1);
      assert.match(r.stdout, /checked before the damage, \d+ bytes: CORRUPT$/m);
      assert.equal(
        r.stderr,
        `rialto: JOURNAL_CORRUPT: record checksum mismatch (${segment} at byte ${victim.offset})\n`,
      );
      const report = json<{ ok: boolean; records: number; corruption: Record<string, unknown> }>(
        rialto('journal', 'verify', '--dir', dir, '--json').stdout,
      );
      assert.equal(report.ok, false);
      assert.equal(
        report.records,
        recordOffsets(segmentPaths(dir)[0]).length,
        'the first segment checked out',
      );
      assert.equal(report.corruption.code, 'JOURNAL_CORRUPT');
      assert.equal(report.corruption.file, segment);
      assert.equal(report.corruption.offset, victim.offset);
      assert.deepEqual(fingerprint(dir), before);
    });

    it('fails cleanly on a missing directory or a file', () => {
      const missing = join(temp.make(), 'nope');
      assertCleanFailure(
        rialto('journal', 'verify', '--dir', missing),
        1,
        /^rialto: no such data directory: .*nope$/m,
      );
      assertCleanFailure(
        rialto('journal', 'verify', '--dir', segmentFiles[0]),
        1,
        /^rialto: not a directory: /m,
      );
    });
  });

  describe('journal inspect', () => {
    it('prints one line per segment with version, sequence range, records and bytes', () => {
      const r = rialto('journal', 'inspect', '--dir', base);
      assertClean(r);
      const out = r.stdout.split('\n');
      assert.equal(out[0], `journal ${base}: ${segmentFiles.length} segments`);
      assert.match(out[1], /^\s+file\s+version\s+first seq\s+last seq\s+records\s+bytes$/);
      let first = 1;
      for (const [i, file] of segmentFiles.entries()) {
        const records = recordOffsets(file).length;
        const cells = out[2 + i].trim().split(/\s+/);
        assert.deepEqual(cells, [
          file.slice(-32),
          '1',
          String(first),
          String(first + records - 1),
          String(records),
          String(statSync(file).size),
        ]);
        first += records;
      }
      assert.equal(first, COMMANDS + 1);
      const report = json<{ segments: { records: number; version: number }[]; tornTail: unknown }>(
        rialto('journal', 'inspect', '--dir', base, '--json').stdout,
      );
      assert.equal(report.segments.length, segmentFiles.length);
      assert.equal(
        report.segments.reduce((n, s) => n + s.records, 0),
        COMMANDS,
      );
      assert.equal(report.tornTail, null);
    });

    it('prints records as JSON lines from --from, at most --limit', () => {
      const r = rialto('journal', 'inspect', '--dir', base, '--from', '597', '--limit', '50');
      assertClean(r);
      const got = lines(r.stdout);
      assert.deepEqual(
        got.map((l) => l.seq),
        [597, 598, 599, 600],
      );
      for (const l of got) {
        const c = written.commands[l.seq - 1];
        assert.equal(l.timeUs, c.timeUs);
        assert.deepEqual(l.command, shown(c));
      }
      const firstTwo = lines(rialto('journal', 'inspect', '--dir', base, '--limit', '2').stdout);
      assert.deepEqual(
        firstTwo.map((l) => [l.seq, l.command.kind]),
        [
          [1, written.commands[0].kind],
          [2, written.commands[1].kind],
        ],
      );
      const across = lines(
        rialto('journal', 'inspect', '--dir', base, '--from', '100', '--limit', '300').stdout,
      );
      assert.equal(across.length, 300, 'across segments');
      assert.ok(across.every((l, i) => l.seq === 100 + i));
    });

    it('writes the numbers JSON cannot hold, which a rejected command may carry, as strings', async () => {
      const dir = temp.make();
      const { writer } = await openJournal({ dir, clockUs: () => 1_000 });
      const odd: Command = {
        kind: 'cancelOrder',
        timeUs: 0,
        accountId: -0,
        instrument: NaN,
        orderId: Infinity,
      };
      await writer.append([{ kind: 'advanceTime', timeUs: 0 }, odd]);
      await writer.close();
      const r = rialto('journal', 'inspect', '--dir', dir, '--from', '2');
      assertClean(r);
      assert.equal(
        r.stdout,
        '{"seq":2,"timeUs":1000,"command":{"kind":"cancelOrder","accountId":"-0","instrument":"NaN","orderId":"Infinity"}}\n',
      );
    });

    it('refuses bad --from and --limit values as usage errors, and a --from outside the journal', () => {
      for (const from of ['abc', '0', '-3', '1.5', '1e3', '']) {
        const r = rialto('journal', 'inspect', '--dir', base, '--from', from);
        assertCleanFailure(
          r,
          2,
          /error: option '--from <seq>' argument '.*' is invalid\. SEQ must be a whole number from 1 to \d+\./,
        );
      }
      for (const limit of ['0', 'ten', '1000001']) {
        const r = rialto('journal', 'inspect', '--dir', base, '--limit', limit);
        assertCleanFailure(
          r,
          2,
          /error: option '--limit <n>' argument '.*' is invalid\. N must be a whole number from 1 to 1000000\./,
        );
      }
      const justPastTheEnd = rialto('journal', 'inspect', '--dir', base, '--from', '601');
      assertClean(justPastTheEnd);
      assert.equal(justPastTheEnd.stdout, '', 'no record yet: nothing to print');
      assertCleanFailure(
        rialto('journal', 'inspect', '--dir', base, '--from', '700'),
        1,
        /^rialto: JOURNAL_MISSING: records from 700 were asked for; the journal ends at 600 /m,
      );
    });

    it('prints the segments before damage and exits 1 naming file and offset', () => {
      const dir = temp.copy(base);
      const segment = segmentPaths(dir)[2];
      const victim = recordOffsets(segment)[0];
      flipByte(segment, victim.offset + 4); // the stored checksum itself
      const r = rialto('journal', 'inspect', '--dir', dir);
      assert.equal(r.status, 1);
      assert.match(r.stdout, /^journal .*: 2 segments before the damage$/m);
      assert.ok(r.stderr.includes(`(${segment} at byte ${victim.offset})`), r.stderr);
    });
  });

  describe('journal tail', () => {
    it('prints the last N records (10 by default), none for -n 0 or an empty directory', () => {
      const three = lines(rialto('journal', 'tail', '--dir', base, '-n', '3').stdout);
      assert.deepEqual(
        three.map((l) => l.seq),
        [598, 599, 600],
      );
      assert.deepEqual(three[2].command, shown(written.commands[599]));
      const ten = rialto('journal', 'tail', '--dir', base);
      assertClean(ten);
      assert.deepEqual(
        lines(ten.stdout).map((l) => l.seq),
        Array.from({ length: 10 }, (_, i) => 591 + i),
      );
      assert.equal(rialto('journal', 'tail', '--dir', base, '-n', '0').stdout, '');
      const empty = rialto('journal', 'tail', '--dir', temp.make());
      assertClean(empty);
      assert.equal(empty.stdout, '');
      assertCleanFailure(
        rialto('journal', 'tail', '--dir', base, '-n', 'x'),
        2,
        /N must be a whole number from 0/,
      );
    });

    it('stops quietly (exit 0, nothing on stderr) when the reader closes the pipe', async () => {
      const child = startRialto(['journal', 'inspect', '--dir', base, '--limit', '600']);
      const killer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      // Like `| head -c 1`: read one chunk, then close the reading end.
      child.stdout.once('data', () => child.stdout.destroy());
      const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
      clearTimeout(killer);
      assert.equal(stderr, '');
      assert.equal(code, 0);
    });

    it('--follow prints records as an engine appends them, until SIGINT (exit 0)', async () => {
      const dir = temp.copy(base);
      const child = startRialto(['journal', 'tail', '--dir', dir, '-n', '1', '--follow', '--interval', '20']);
      const killer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      const seen: number[] = [];
      const waiters: { seq: number; resolve: () => void }[] = [];
      createInterface({ input: child.stdout }).on('line', (line) => {
        seen.push(json<RecordLine>(line).seq);
        for (const w of waiters) if (seen.includes(w.seq)) w.resolve();
      });
      const sawSeq = (seq: number): Promise<void> =>
        seen.includes(seq) ? Promise.resolve() : new Promise((resolve) => waiters.push({ seq, resolve }));
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      try {
        await sawSeq(600);
        // An engine appends two batches while the tail follows (the directory's lock is the engine's).
        const { host } = await EngineHost.open({ dir, snapshotEveryCommands: 0, snapshotEveryMs: 0 });
        const more = stream(23, COMMANDS + 30).slice(COMMANDS);
        await host.submit(more.slice(0, 10)).durable;
        await sawSeq(610);
        await host.submit(more.slice(10)).durable;
        await host.close();
        await sawSeq(630);
        child.kill('SIGINT');
        assert.equal(await exited, 0, stderr);
      } finally {
        clearTimeout(killer);
        child.kill('SIGKILL');
      }
      assert.deepEqual(
        seen,
        Array.from({ length: 31 }, (_, i) => 600 + i),
        'each record once, in order',
      );
      assert.equal(stderr, '');
    });
  });

  describe('snapshot list', () => {
    it('lists each snapshot with its sequence number, size, and state hash', () => {
      const r = rialto('snapshot', 'list', '--dir', base, '--json');
      assertClean(r);
      const report = json<{
        snapshots: { file: string; seq: number; bytes: number; valid: boolean; stateHash: string | null }[];
        recoveryStartsAfterSeq: number;
      }>(r.stdout);
      assert.deepEqual(
        report.snapshots.map((s) => [s.file, s.seq, s.valid]),
        [600, 400, 200].map((seq) => [snapshotFileName(seq), seq, true]),
      );
      assert.equal(report.snapshots[0].stateHash, written.hash);
      assert.equal(report.snapshots[0].bytes, statSync(join(base, snapshotFileName(600))).size);
      assert.equal(report.recoveryStartsAfterSeq, 600);
      const text = rialto('snapshot', 'list', '--dir', base);
      assert.match(text.stdout, /^snapshots in .*: 3, recovery starts from seq 600$/m);
      assert.match(
        text.stdout,
        new RegExp(`^  ${snapshotFileName(600)}  seq 600  +\\d+ bytes  valid, state ${written.hash}$`, 'm'),
      );
    });

    it('says why a snapshot is not valid, and lists temporary files', () => {
      const dir = temp.copy(base);
      truncateSync(join(dir, snapshotFileName(600)), 100);
      flipByte(join(dir, snapshotFileName(400)), 32 + 64);
      writeFileSync(join(dir, `${snapshotFileName(700)}.tmp`), 'partial');
      const before = fingerprint(dir);
      const r = rialto('snapshot', 'list', '--dir', dir);
      assertClean(r);
      assert.match(r.stdout, /^snapshots in .*: 4, recovery starts from seq 200$/m);
      assert.match(
        r.stdout,
        /seq 600 +100 bytes {2}invalid: header says \d+ payload bytes, the file holds 68$/m,
      );
      assert.match(r.stdout, /seq 400 +\d+ bytes {2}invalid: payload checksum mismatch$/m);
      assert.match(r.stdout, /seq 200 +\d+ bytes {2}valid, state [0-9a-f]{64}$/m);
      assert.match(
        r.stdout,
        /snapshot-00000000000000000700\.snap\.tmp {2}seq 700 +7 bytes {2}invalid: temporary file/,
      );
      assert.deepEqual(fingerprint(dir), before, 'list changed nothing');
      assert.equal(rialto('snapshot', 'list', '--dir', temp.make()).stdout.trim().endsWith(': none'), true);
      assertCleanFailure(rialto('snapshot', 'list', '--dir', join(dir, 'nope')), 1, /no such data directory/);
    });
  });

  describe('snapshot create', () => {
    it('rebuilds the state offline, writes a snapshot an engine then starts from, and prints the state hash', async () => {
      const dir = temp.copy(base);
      unlinkSync(join(dir, snapshotFileName(600)));
      const segmentsBefore = segmentPaths(dir).map((f) => readFileSync(f).toString('hex'));
      const r = rialto('snapshot', 'create', '--dir', dir);
      assertClean(r);
      assert.equal(
        r.stdout,
        `wrote ${snapshotFileName(600)} (${statSync(join(dir, snapshotFileName(600))).size} bytes): the state ` +
          `after seq 600, from snapshot 400 and 200 records replayed\nstate hash ${written.hash}\n`,
      );
      assert.deepEqual(
        segmentPaths(dir).map((f) => readFileSync(f).toString('hex')),
        segmentsBefore,
        'no journal file changed',
      );
      const again = json<{ written: boolean; seq: number; stateHash: string }>(
        rialto('snapshot', 'create', '--dir', dir, '--json').stdout,
      );
      assert.deepEqual([again.written, again.seq, again.stateHash], [false, 600, written.hash]);
      const engine = await Engine.start({ dir });
      try {
        assert.equal(engine.recovery.snapshotSeq, 600);
        assert.equal(engine.recovery.replayed, 0);
        assert.equal(await engine.stateHash(), written.hash);
      } finally {
        await engine.close();
      }
    });

    it('replays the whole journal when no snapshot is valid, reports what it passed over, keeps --keep', () => {
      const dir = temp.copy(base);
      for (const seq of [200, 400, 600]) truncateSync(join(dir, snapshotFileName(seq)), 10);
      const r = rialto('snapshot', 'create', '--dir', dir, '--keep', '1', '--json');
      assert.equal(r.status, 0, r.stderr);
      const report = json<{ fromSnapshotSeq: number; replayed: number; stateHash: string; file: string }>(
        r.stdout,
      );
      assert.deepEqual([report.fromSnapshotSeq, report.replayed, report.stateHash], [0, 600, written.hash]);
      assert.equal(
        r.stderr,
        [600, 400, 200]
          .map((seq) => `rialto: passed over ${snapshotFileName(seq)}: 10 bytes, shorter than a header\n`)
          .join(''),
      );
      assert.deepEqual(
        Object.keys(fingerprint(dir)).filter((n) => n.endsWith('.snap')),
        [snapshotFileName(600)],
        'only the newest is kept',
      );
    });

    it('refuses while an engine holds the directory, naming it, and goes ahead after it closed', async () => {
      const dir = temp.copy(base);
      const engine = await Engine.start({ dir });
      let r;
      try {
        r = rialto('snapshot', 'create', '--dir', dir);
      } finally {
        await engine.close();
      }
      assertCleanFailure(
        r,
        1,
        new RegExp(
          `^rialto: DATA_DIR_LOCKED: ${dir} is locked by pid ${process.pid} \\(engine, since [^)]+\\), which is ` +
            `running \\(${join(dir, LOCK_FILE_NAME)}\\)$`,
          'm',
        ),
      );
      assert.equal(rialto('snapshot', 'create', '--dir', dir).status, 0);
    });

    it('goes ahead over the lock of a process that is gone', () => {
      const dir = temp.copy(base);
      const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
        encoding: 'utf8',
      });
      const holder = {
        pid: Number(gone.stdout),
        host: hostname(),
        boot: '',
        startTicks: -1,
        token: 'x',
        purpose: 'engine',
        since: '',
      };
      writeFileSync(join(dir, LOCK_FILE_NAME), JSON.stringify(holder));
      const r = rialto('snapshot', 'create', '--dir', dir);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(Object.keys(fingerprint(dir)).includes(LOCK_FILE_NAME), false, 'released');
    });

    it('exits 1 on a damaged journal (file and offset) or one without records, writing nothing', () => {
      const dir = temp.copy(base);
      unlinkSync(join(dir, snapshotFileName(600)));
      const segments = segmentPaths(dir);
      const segment = segments[segments.length - 2]; // not the last: damage there is never a torn tail
      const victim = recordOffsets(segment)[0];
      assert.ok(victim.seq > 400, 'after the snapshot recovery starts from');
      flipByte(segment, victim.offset + 8 + 20);
      const before = fingerprint(dir);
      assertCleanFailure(
        rialto('snapshot', 'create', '--dir', dir),
        1,
        new RegExp(
          `^rialto: JOURNAL_CORRUPT: record checksum mismatch \\(${segment} at byte ${victim.offset}\\)$`,
          'm',
        ),
      );
      assert.deepEqual(fingerprint(dir), before, 'nothing written, no lock left');
      const empty = temp.make();
      assertCleanFailure(
        rialto('snapshot', 'create', '--dir', empty),
        1,
        /holds no records: there is no state to snapshot$/m,
      );
      assertCleanFailure(
        rialto('snapshot', 'create', '--dir', join(empty, 'nope')),
        1,
        /no such data directory/,
      );
    });
  });
});
