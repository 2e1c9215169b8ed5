/**
 * Crash recovery through the real engine (worker thread, journal files, fsync, snapshots): a child process
 * feeds a seeded command stream and reports what was acknowledged; the parent kills it with SIGKILL at random
 * moments (some the moment a snapshot's temporary file appears, so they land in the middle of its write), restarts it on the same
 * directory, and checks that every acknowledged command survived. At the end the recovered state's hash must
 * equal a clean replay of the whole journal, and the journal must hold exactly the stream, in order.
 */
import { describe, it } from 'node:test';
import { equal, ok } from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, watch } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ExchangeCore, type Command } from '../../src/core/index.js';
import { JournalReader, commandBytes } from '../../src/journal/index.js';
import { RandomCommands } from '../core/random-commands.js';

const CHILD = fileURLToPath(new URL('./crash-child.js', import.meta.url));
const KILLS = 22;
const TOTAL = 150_000;
const SNAPSHOT_EVERY = 1_500;

interface RunOutcome {
  start: number;
  snapshotSeq: number;
  acked: number;
  done: { hash: string; lastSeq: number } | null;
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/**
 * When to kill a run: once it has acknowledged `acks` more commands than it recovered, then `ms` later. The
 * acknowledgements make the kill points depend on progress rather than on the machine's speed (a slow, busy
 * machine still gets past snapshots); the delay puts them anywhere, in a batch or in a snapshot.
 */
interface KillPoint {
  acks: number;
  ms: number;
  /** Also kill the moment a snapshot's temporary file appears (the acks and ms then only as a fallback). */
  inSnapshot?: boolean;
}

/** The snapshot store's temporary files (src/journal/snapshots.ts): present only while a write is under way. */
const isSnapshotTemp = (name: string): boolean => name.startsWith('snapshot-') && name.endsWith('.tmp');

/** Runs the child once; kills it at `kill` (never, with null). */
function runChild(dir: string, seed: number, kill: KillPoint | null): Promise<RunOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dir, String(seed), String(TOTAL), String(SNAPSHOT_EVERY)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: RunOutcome = {
      start: -1,
      snapshotSeq: 0,
      acked: -1,
      done: null,
      code: null,
      signal: null,
      stderr: '',
    };
    child.stderr.on('data', (b: Buffer) => (out.stderr += b.toString()));
    // inotify tells of the temporary file as it is created; the write and its fsync take longer than the kill.
    const watcher =
      kill?.inSnapshot === true
        ? watch(dir, (_event, name) => {
            if (name !== null && isSnapshotTemp(name)) child.kill('SIGKILL');
          })
        : null;
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      const [word, a, b] = line.split(' ');
      if (word === 'start') {
        out.start = Number(a);
        out.snapshotSeq = Number(b);
        out.acked = out.start;
        if (kill !== null && kill.acks === 0) setTimeout(() => child.kill('SIGKILL'), kill.ms);
      } else if (word === 'ack') {
        const before = out.acked;
        out.acked = Math.max(out.acked, Number(a));
        const due = kill !== null && kill.acks > 0 && before - out.start < kill.acks;
        if (due && out.acked - out.start >= kill.acks) setTimeout(() => child.kill('SIGKILL'), kill.ms);
      } else if (word === 'done') out.done = { hash: a, lastSeq: Number(b) };
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      watcher?.close();
      out.code = code;
      out.signal = signal;
      resolve(out);
    });
  });
}

void describe('engine crash recovery', () => {
  void it(`loses nothing acknowledged over ${KILLS} SIGKILLs and recovers to a clean replay's state`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'rialto-crash-'));
    try {
      const seed = 4242;
      let rng = 12345;
      const random = (n: number): number => {
        rng = (rng * 48271) % 2147483647;
        return rng % n;
      };
      let acked = 0;
      let kills = 0;
      let fromSnapshot = 0;
      let inSnapshotKills = 0;
      let final: { hash: string; lastSeq: number } | null = null;
      for (let run = 0; final === null; run++) {
        ok(run < KILLS + 5, 'the stream should finish soon after the last kill');
        const killing = kills < KILLS;
        // A few kills right after start-up (during recovery or the first batches), the rest after progress.
        // A few kills right after start-up (during recovery or the first batches), some the moment a snapshot
        // write begins, the rest after progress.
        const inSnapshot = run % 4 === 1;
        const kill = killing
          ? inSnapshot
            ? { acks: 4 * SNAPSHOT_EVERY, ms: 0, inSnapshot }
            : { acks: run % 5 === 0 ? 0 : 200 + random(5_000), ms: random(30) }
          : null;
        const tempsBefore = new Set(readdirSync(dir).filter(isSnapshotTemp));
        const out = await runChild(dir, seed, kill);
        // A new temporary snapshot file left behind: this kill landed in the middle of a snapshot's write.
        const leftTemp = readdirSync(dir).some((n) => isSnapshotTemp(n) && !tempsBefore.has(n));
        if (out.signal === 'SIGKILL' && leftTemp) inSnapshotKills++;
        ok(out.start >= 0, `run ${run} did not start: ${out.stderr}`);
        // Every command acknowledged before the kill is in the recovered journal.
        ok(out.start >= acked, `run ${run} recovered ${out.start} commands, ${acked} were acknowledged`);
        if (out.snapshotSeq > 0) fromSnapshot++;
        acked = Math.max(acked, out.acked);
        if (out.signal === 'SIGKILL') kills++;
        else {
          equal(out.code, 0, out.stderr);
          final = out.done;
        }
      }
      ok(kills >= 20, `killed ${kills} times`);
      ok(fromSnapshot > 0, 'some restarts began from a snapshot');
      t.diagnostic(
        `${kills} kills, ${inSnapshotKills} in a snapshot's write, ${fromSnapshot} starts from a snapshot`,
      );
      ok(inSnapshotKills > 0, 'some kills landed in the middle of a snapshot write');
      ok(final !== null);
      equal(final.lastSeq, TOTAL);

      // A clean replay of the whole journal, and the journal against the stream.
      const core = new ExchangeCore();
      const gen = new RandomCommands(seed);
      const stream: Command[] = gen.setup();
      let replayed = 0;
      let mismatches = 0;
      await new JournalReader(dir).scan(1, (_seq, _timeUs, command) => {
        const expected = stream.shift() ?? gen.next();
        expected.timeUs = command.timeUs;
        if (!sameBytes(commandBytes(expected), commandBytes(command))) mismatches++;
        core.events.clear();
        core.execute(command);
        replayed++;
      });
      equal(replayed, TOTAL);
      equal(mismatches, 0, 'the journal holds the stream, in order');
      equal(core.stateHash(), final.hash);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
