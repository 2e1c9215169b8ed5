/**
 * The exchange core against the bare book in machine instructions, not seconds: bench:core's two replays (the
 * whole core, and the bare book), each run under valgrind's callgrind, which counts every instruction the
 * process executes. Prints one JSON line.
 *
 *   npm run bench:core-instructions -- --ops FILE.bin [--cache-sim] [--v8-flags="FLAGS"]
 *
 * Why: bench:core's `ratioToBook` is a ratio of times, and on these shared machines the same build gave 0.35
 * and 0.42 an hour apart; a change worth a few percent cannot be seen in it. Instruction counts do not depend
 * on the machine's load. With node's `--single-threaded` (no background compiler: each function is optimized
 * at the same point of every run) and fixed hash and random seeds, two runs of one build give the same counts
 * to within a few in ten thousand, so an A/B of two builds reads off as a difference of counts. The counts
 * follow this file's own code too (the child's loops are optimized with the replays): compare two builds with
 * the same version of it.
 *
 * How: a child node process, under callgrind, replays the file three times through the book and three times
 * through the core (warm-up: the optimizing compiler's work is done by then), then once more through each,
 * marking each measured pass's start and end with a `chmod` of a scratch file, before which callgrind writes
 * its counters (`--dump-before=uv_fs_chmod`). The measured pass's counts over the file's operations are the
 * figures. `--cache-sim` adds callgrind's cache and branch simulation (first-level instruction and data
 * misses, last-level misses, mispredicted branches; a model of a machine, not this one's counters), about
 * twice as slow. Under valgrind the replay runs some fifty times slower: use a short file (the 200,000
 * operations of `--ops=200000`, a few minutes).
 *
 * Instructions are not time: in the runs of 2026-12-03 the core executed 1.8 times the book's instructions
 * per operation and took 2.6 times its time, its own part running at about half the book's instructions per
 * cycle (docs/performance.md, "The exchange core in instructions"). The counts say what a change removed; bench:core
 * says what that bought.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { makeCoreReplayer, ownersOf } from '../src/cli/core-workload.js';
import { makeReplayer, readWorkload } from '../src/cli/workload.js';
import { MATCHING_V8_FLAGS, tuneV8ForMatching } from '../src/ops/index.js';
import { benchArgs } from './common.js';

const WARMUP_PASSES = 3;
/** Below this many operations the counts include code not yet optimized (a warning is printed). */
const WARM_OPS_MIN = 100_000;
/** The counters callgrind writes, in its `events:` order, and the names they get here. */
const EVENT_NAMES: Record<string, string> = {
  Ir: 'instructions',
  I1mr: 'l1InstructionMisses',
  D1mr: 'l1DataReadMisses',
  D1mw: 'l1DataWriteMisses',
  ILmr: 'llInstructionMisses',
  DLmr: 'llDataReadMisses',
  DLmw: 'llDataWriteMisses',
  Bcm: 'condBranchMispredicts',
  Bim: 'indirectBranchMispredicts',
};

/** In the child, under callgrind: the warm-up, then the two measured passes between chmods of `marker`. */
function child(path: string, marker: string, v8Flags: string | undefined): void {
  if (v8Flags === undefined) tuneV8ForMatching();
  else for (const flag of v8Flags.split(' ').filter((f) => f !== '')) setFlagsFromString(flag);
  const w = readWorkload(path);
  const owners = ownersOf(w);
  // A loop of its own per replayer, as in bench:core: one loop over both made its `step` call see two
  // functions, and the book's count moved from 1,803 to 1,541 an operation.
  for (let k = 0; k < WARMUP_PASSES; k++) {
    const b = makeReplayer(w);
    for (let i = 0; i < w.count; i++) b.step(i);
    const c = makeCoreReplayer(w, owners);
    for (let i = 0; i < w.count; i++) c.step(i);
  }
  writeFileSync(marker, '');
  const core = makeCoreReplayer(w, owners);
  chmodSync(marker, 0o644);
  for (let i = 0; i < w.count; i++) core.step(i);
  chmodSync(marker, 0o644);
  const book = makeReplayer(w);
  chmodSync(marker, 0o644);
  for (let i = 0; i < w.count; i++) book.step(i);
  chmodSync(marker, 0o644);
}

/** A dump's totals by event name (its `events:` line names the columns of its `summary:` line). */
function dumpTotals(file: string): Record<string, number> {
  const text = readFileSync(file, 'utf8');
  const events = /^events: (.*)$/m.exec(text)?.[1].trim().split(/\s+/);
  const totals = /^(?:summary|totals): (.*)$/m.exec(text)?.[1].trim().split(/\s+/).map(Number);
  if (events === undefined || totals === undefined) throw new Error(`${file}: no events or totals`);
  return Object.fromEntries(events.map((e, k) => [e, totals[k] ?? 0]));
}

function perOp(totals: Record<string, number>, ops: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [event, name] of Object.entries(EVENT_NAMES)) {
    if (totals[event] !== undefined) out[name] = +(totals[event] / ops).toFixed(1);
  }
  return out;
}

function run(path: string, cacheSim: boolean, v8Flags: string | undefined): void {
  const version = spawnSync('valgrind', ['--version'], { encoding: 'utf8' });
  if (version.status !== 0) {
    console.error('bench:core-instructions needs valgrind (Debian: apt-get install valgrind)');
    process.exit(2);
  }
  const ops = readWorkload(path).count;
  if (ops < WARM_OPS_MIN) {
    // Three passes of a short file leave hot functions unoptimized: 2,000 operations counted some 12,600
    // instructions each for the core, against about 3,250 at 200,000.
    console.error(
      `bench:core-instructions: ${ops} operations are too few for the passes to be warm; use ${WARM_OPS_MIN} or more`,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'rialto-cg-'));
  try {
    const out = join(dir, 'cg.out');
    const args = [
      '--tool=callgrind',
      '--dump-before=uv_fs_chmod',
      `--callgrind-out-file=${out}`,
      // V8 writes and patches machine code in anonymous memory: valgrind must see those writes.
      '--smc-check=all-non-file',
      ...(cacheSim ? ['--cache-sim=yes', '--branch-sim=yes'] : []),
      process.execPath,
      '--single-threaded',
      // The same hash seed every run: hash tables then lay out (and probe) alike, so counts repeat.
      '--hash-seed=1',
      '--random-seed=1',
      fileURLToPath(import.meta.url),
      '--child',
      '--ops',
      path,
      '--marker',
      join(dir, 'marker'),
      ...(v8Flags === undefined ? [] : [`--v8-flags=${v8Flags}`]),
    ];
    const started = performance.now();
    const r = spawnSync('valgrind', args, { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0)
      throw new Error(`callgrind failed (exit ${String(r.status)}): ${r.stderr.slice(-2000)}`);
    // Dumps 1 to 4: the warm-up, the core's pass, the gap, the book's pass (and the rest in cg.out itself).
    const dumps = readdirSync(dir)
      .filter((f) => /^cg\.out\.\d+$/.test(f))
      .sort((a, b) => Number(a.split('.')[2]) - Number(b.split('.')[2]));
    if (dumps.length < 4) throw new Error(`callgrind wrote ${dumps.length} dumps, expected 4`);
    const core = perOp(dumpTotals(join(dir, dumps[1])), ops);
    const book = perOp(dumpTotals(join(dir, dumps[3])), ops);
    console.log(
      JSON.stringify({
        bench: 'core-instructions',
        file: basename(path),
        ops,
        node: process.version,
        valgrind: version.stdout.trim(),
        cacheSim,
        v8Flags: v8Flags ?? MATCHING_V8_FLAGS.join(' '),
        core,
        book,
        instructionRatioToBook: +(book.instructions / core.instructions).toFixed(3),
        seconds: Math.round((performance.now() - started) / 1000),
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const { values } = benchArgs('core-instructions', {
  options: {
    ops: { type: 'string' },
    'cache-sim': { type: 'boolean', default: false },
    child: { type: 'boolean', default: false },
    marker: { type: 'string' },
    /** Instead of the venue's own (MATCHING_V8_FLAGS): to see what an inlining budget does, say. */
    'v8-flags': { type: 'string' },
  },
});
if (values.ops === undefined) {
  console.error(`bench:core-instructions: --ops FILE.bin is needed. Make a short workload with:
  node ../shared/bench/orderbook/gen-workload.js --ops=200000 --seed=42 --out=/tmp/orderbook-bench/ops-200k-s42`);
  process.exit(2);
}
try {
  if (values.child) {
    if (values.marker === undefined) throw new Error('--child needs --marker');
    child(values.ops, values.marker, values['v8-flags']);
  } else run(values.ops, values['cache-sim'], values['v8-flags']);
} catch (e) {
  console.error(`bench:core-instructions: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}
