/**
 * The benchmarks' command lines (bench/common.ts `benchArgs`): --help prints the usage made from the options
 * and exits 0; an unknown option is refused with its reason and the usage, exit 2, before any work starts (no
 * stack trace, no venue started).
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';

interface Outcome {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const run = (bench: string, ...args: string[]): Promise<Outcome> =>
  new Promise((resolve) => {
    execFile(
      process.execPath,
      [`dist/bench/${bench}.js`, ...args],
      { timeout: 60_000 },
      (error, stdout, stderr) =>
        resolve({
          status: error === null ? 0 : typeof error.code === 'number' ? error.code : null,
          stdout,
          stderr,
        }),
    );
  });

/** Every benchmark whose source parses its command line through benchArgs. */
const benches = readdirSync('bench')
  .filter((f) => f.endsWith('.ts') && f !== 'common.ts')
  .map((f) => f.slice(0, -'.ts'.length))
  .filter((name) => readFileSync(`bench/${name}.ts`, 'utf8').includes('benchArgs('));

describe('bench command lines', () => {
  it('covers the benchmarks that take options', () => {
    for (const name of ['api', 'journal', 'journal-io', 'md', 'views'])
      assert.ok(benches.includes(name), name);
  });

  it('--help prints the options and exits 0, for every benchmark', async () => {
    const outcomes = await Promise.all(benches.map((name) => run(name, '--help')));
    benches.forEach((name, k) => {
      const r = outcomes[k];
      assert.equal(r.status, 0, `${name}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^usage: npm run bench:${name} -- \\[options\\]`), name);
      assert.match(r.stdout, /^ {2}--[a-z]/m, name);
    });
  });

  // Two of them: the refusal is benchArgs' own code, the same for all (each process costs a second of CPU).
  it('an unknown option is refused with exit 2 and the usage', async () => {
    const refusing = ['api', 'journal'];
    const outcomes = await Promise.all(refusing.map((name) => run(name, '--no-such-option')));
    refusing.forEach((name, k) => {
      const r = outcomes[k];
      assert.equal(r.status, 2, name);
      assert.match(r.stderr, new RegExp(`^bench:${name}: Unknown option '--no-such-option'`), name);
      assert.match(r.stderr, /usage: npm run bench:/, name);
      assert.doesNotMatch(r.stderr, /\n\s+at /, `${name}: no stack trace`);
      assert.equal(r.stdout, '', name);
    });
  });

  it('names the value an option takes and its default', async () => {
    const r = await run('api', '-h');
    assert.equal(r.status, 0);
    assert.match(r.stdout, /--rate RATE \(default "10000"\)/);
    assert.match(r.stdout, /--keep\n/);
  });
});
