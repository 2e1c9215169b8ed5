#!/usr/bin/env node
// Runs every compiled test file (dist/test/**/*.test.js) with node's test runner, whose closing summary
// (`# pass N`, `# fail N`) CI reads. Node 20's --test does not expand globs, so the files are listed here.
// Usage: node scripts/run-tests.js [substring ...]   (only files whose path contains one of the substrings)
//
// Files run concurrently, each in a process of its own: RIALTO_TEST_CONCURRENCY of them at a time (default:
// one more than the CPUs, at least 2; node's own default is one fewer, a single file on 2 cores). Much of
// the suite waits (for child processes, sockets, PostgreSQL, NATS), so more files than CPUs keep them busy;
// the files are isolated for it (ephemeral ports, schemas, databases, streams and key prefixes of their own).
// The longest files start first, so that none of them starts last and holds up the end. At the end the
// slowest files are listed (RIALTO_TEST_TIMES=N lines, 0 for none; default 15).
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

/**
 * Files that take minutes, longest first (their order only; a file missing here runs all the same). From CI's
 * slowest-files list (2026-12-01, after `rialto` stopped loading what a command does not use): the image
 * build, then the files that run many `rialto` processes or venues.
 */
const LONGEST_FIRST = [
  'deploy/image.test.js',
  'backup/backup.test.js',
  'cli/config-keys.test.js',
  'core/invariants.test.js',
  'ops/outage.test.js',
  'gateway/remote/split.test.js',
  'cli/md-run.test.js',
  'cli/audit.test.js',
  'cli/start.test.js',
  'cli/durability.test.js',
  'engine/crash.test.js',
];

function walk(dir) {
  let out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out = out.concat(walk(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

function wholeNumber(name, fallback) {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  if (!/^\d+$/.test(text)) {
    console.error(`${name} must be a whole number, not ${JSON.stringify(text)}`);
    process.exit(2);
  }
  return Number(text);
}

/** The environment without the runner's own settings (the tests' RIALTO_TEST_PG_BIN and such stay). */
const RUNNER_SETTINGS = new Set(['RIALTO_TEST_CONCURRENCY', 'RIALTO_TEST_TIMES']);
function withoutRunnerSettings(env) {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !RUNNER_SETTINGS.has(k)));
}

const rank = (f) => {
  const k = LONGEST_FIRST.findIndex((s) => f.endsWith(s));
  return k === -1 ? LONGEST_FIRST.length : k;
};

const filters = process.argv.slice(2);
const files = walk('dist/test')
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
if (files.length === 0) {
  console.error('no test files found under dist/test (run `npm run build` first)');
  process.exit(1);
}
const concurrency = Math.max(
  1,
  wholeNumber('RIALTO_TEST_CONCURRENCY', Math.max(2, availableParallelism() + 1)),
);
const slowest = wholeNumber('RIALTO_TEST_TIMES', 15);

const timesDir = mkdtempSync(join(tmpdir(), 'rialto-test-times-'));
const timesFile = join(timesDir, 'times.jsonl');
const r = spawnSync(
  process.execPath,
  [
    '--test',
    `--test-concurrency=${concurrency}`,
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    `--test-reporter=${join(import.meta.dirname, 'test-times.js')}`,
    `--test-reporter-destination=${timesFile}`,
    ...files,
  ],
  // The runner's own settings are not the venue's: tests that check `rialto` warns of no unknown RIALTO_*
  // variable would see them.
  { stdio: 'inherit', env: withoutRunnerSettings(process.env) },
);
if (slowest > 0) {
  try {
    const times = readFileSync(timesFile, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l))
      .sort((a, b) => b.ms - a.ms);
    console.log(`\nslowest test files (${files.length} files, ${concurrency} at a time):`);
    for (const t of times.slice(0, slowest)) {
      console.log(
        `${(t.ms / 1000).toFixed(1).padStart(8)} s  ${String(t.tests).padStart(4)} tests  ${relative(process.cwd(), t.file)}`,
      );
    }
  } catch (e) {
    console.error(`no test times: ${e instanceof Error ? e.message : String(e)}`);
  }
}
rmSync(timesDir, { recursive: true, force: true });
process.exit(r.status ?? 1);
