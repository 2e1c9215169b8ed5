/**
 * LOBSTER rebuild benchmark: generates a message file of a realistic mix (about half submits, the rest
 * cancels, deletes and executions of live orders, a few hidden executions, cross trades and halts) and
 * rebuilds it as `rialto md lobster` does, rows written to /dev/null. Prints one JSON line.
 *
 *   npm run bench:md-lobster -- [--messages 2000000] [--levels 10] [--seed 1] [--keep]
 *
 * The file goes to a temporary directory under os.tmpdir(), removed at the end unless --keep.
 */
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { replayLobsterFiles } from '../src/marketdata/index.js';
import { benchArgs, peakRssMB, xorshift32 } from './common.js';

const { values: args } = benchArgs('md-lobster', {
  options: {
    messages: { type: 'string', default: '2000000' },
    levels: { type: 'string', default: '10' },
    seed: { type: 'string', default: '1' },
    keep: { type: 'boolean', default: false },
  },
});
const MESSAGES = Number(args.messages);
const LEVELS = Number(args.levels);
const MID = 1_000_000;
const TICK = 100;
const BAND_TICKS = 50;

function generate(path: string, count: number, seed: number): void {
  const state = xorshift32(seed);
  const int = (n: number): number => state() % n;
  const ids: number[] = [];
  const prices: number[] = [];
  const dirs: number[] = [];
  const lefts: number[] = [];
  let nextId = 1;
  let ns = 34_200e9;
  let lines: string[] = [];
  const fd = openSync(path, 'w');
  for (let i = 0; i < count; i++) {
    ns += 1 + int(1_000_000);
    const t = `${Math.floor(ns / 1e9)}.${String(ns % 1e9).padStart(9, '0')}`;
    const roll = int(100);
    if (roll < 2) {
      lines.push(`${t},${roll === 0 ? 5 : 6},0,${1 + int(100)},${MID},1`);
    } else if (roll < 50 || ids.length < 100) {
      const dir = int(2) === 0 ? 1 : -1;
      const price = MID - dir * (1 + int(BAND_TICKS)) * TICK;
      const size = 1 + int(500);
      ids.push(nextId);
      prices.push(price);
      dirs.push(dir);
      lefts.push(size);
      lines.push(`${t},1,${nextId++},${size},${price},${dir}`);
    } else {
      const k = int(ids.length);
      const type = roll < 70 ? 4 : roll < 85 ? 2 : 3;
      const left = lefts[k];
      const size = type === 3 ? left : 1 + int(left);
      lines.push(`${t},${type},${ids[k]},${size},${prices[k]},${dirs[k]}`);
      if (size === left) {
        // Swap-remove: the order is gone.
        const last = ids.length - 1;
        ids[k] = ids[last];
        prices[k] = prices[last];
        dirs[k] = dirs[last];
        lefts[k] = lefts[last];
        ids.pop();
        prices.pop();
        dirs.pop();
        lefts.pop();
      } else lefts[k] = left - size;
    }
    if (lines.length === 10_000) {
      writeSync(fd, lines.join('\n') + '\n');
      lines = [];
    }
  }
  if (lines.length > 0) writeSync(fd, lines.join('\n') + '\n');
  closeSync(fd);
}

const dir = mkdtempSync(join(tmpdir(), 'rialto-bench-lobster-'));
try {
  const file = join(dir, 'messages.csv');
  generate(file, MESSAGES, Number(args.seed));
  const result = await replayLobsterFiles({ messages: file, levels: LEVELS, output: '/dev/null' });
  console.log(
    JSON.stringify({
      bench: 'md-lobster',
      messages: result.report.messages,
      levels: LEVELS,
      seconds: +result.seconds.toFixed(3),
      messagesPerSec: result.messagesPerSec,
      inputMB: +(statSync(file).size / 2 ** 20).toFixed(1),
      outputMB: +(result.bytesOut / 2 ** 20).toFixed(1),
      issuesTotal: result.report.issuesTotal,
      peakRssMB: peakRssMB(),
    }),
  );
} finally {
  if (args.keep) console.error(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
