/**
 * What the engine's recovery, failure and lock tests share: a seeded command stream, data directories written
 * through the engine's host, a clean replay to compare state hashes with, the record offsets of a segment (to
 * damage one record), and a fingerprint of a directory's files (to show nothing was changed).
 */
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExchangeCore, type Command } from '../../src/core/index.js';
import { EngineHost } from '../../src/engine/index.js';
import type { BatchOutcome, EngineConfig } from '../../src/engine/index.js';
import { RandomCommands } from '../core/random-commands.js';
import { testClock } from '../journal/helpers.js';

/** Temporary directories, each removed by cleanup(). */
export class TempDirs {
  private readonly dirs: string[] = [];

  make(): string {
    const dir = mkdtempSync(join(tmpdir(), 'rialto-engine-'));
    this.dirs.push(dir);
    return dir;
  }

  /** A fresh copy of `dir` (so that each case damages its own). */
  copy(dir: string): string {
    const to = this.make();
    cpSync(dir, to, { recursive: true });
    return to;
  }

  cleanup(): void {
    for (const dir of this.dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}

/** The first `n` commands of the seeded random venue (its setup, then random order flow). */
export function stream(seed: number, n: number): Command[] {
  const gen = new RandomCommands(seed);
  const out = gen.setup().slice(0, n);
  while (out.length < n) out.push(gen.next());
  return out;
}

/** The state hash of a fresh core that executed `commands` (with the times the sequencer gave them). */
export function cleanReplayHash(commands: readonly Command[]): string {
  const core = new ExchangeCore();
  for (const c of commands) {
    core.events.clear();
    core.execute(c);
  }
  return core.stateHash();
}

/**
 * Submits a batch to the host and gives the commands the time the sequencer stamped on the batch (what a
 * replay of the journal executes them with), without relying on the host to write it into the caller's objects.
 */
export function submitStamped(host: EngineHost, commands: Command[]): BatchOutcome {
  const out = host.submit(commands);
  for (const c of commands) c.timeUs = out.timeUs;
  return out;
}

export interface Written {
  /** The commands, stamped with their times by the sequencer, in sequence order. */
  commands: Command[];
  /** The state hash after the last of them, as the engine had it. */
  hash: string;
}

/**
 * Writes `commands` through an EngineHost on `dir` in batches of `batch`, each made durable before the next,
 * taking a snapshot after each sequence number in `snapshotsAt` (multiples of `batch`), and closes it (which writes a snapshot of
 * the end state too).
 */
export async function writeThroughHost(
  dir: string,
  commands: Command[],
  options: { batch?: number; snapshotsAt?: number[]; config?: Partial<EngineConfig> } = {},
): Promise<Written> {
  const batch = options.batch ?? 20;
  const snapshotsAt = new Set(options.snapshotsAt ?? []);
  const { host } = await EngineHost.open(
    { dir, snapshotEveryCommands: 0, snapshotEveryMs: 0, ...options.config },
    testClock().clockUs,
  );
  for (let at = 0; at < commands.length; at += batch) {
    const part = commands.slice(at, at + batch);
    await submitStamped(host, part).durable;
    if (snapshotsAt.has(at + part.length)) await host.snapshot();
  }
  const hash = host.stateHash();
  await host.close();
  return { commands, hash };
}

/** The segment files of `dir`, in sequence order (full paths). */
export function segmentPaths(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => /^journal-\d{20}\.seg$/.test(n))
    .sort()
    .map((n) => join(dir, n));
}

export function snapshotPaths(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => /^snapshot-\d{20}\.snap$/.test(n))
    .sort()
    .map((n) => join(dir, n));
}

/** The byte offset and sequence number of every record in a segment, walking the frames (format: 32-byte header, u32 length, u32 crc, f64 seq ...). */
export function recordOffsets(segment: string): { offset: number; seq: number }[] {
  const bytes = readFileSync(segment);
  const out: { offset: number; seq: number }[] = [];
  let at = 32;
  while (at + 8 <= bytes.length) {
    const length = bytes.readUInt32LE(at);
    if (at + 8 + length > bytes.length) break;
    out.push({ offset: at, seq: bytes.readDoubleLE(at + 8) });
    at += 8 + length;
  }
  return out;
}

/** Name → SHA-256 of every file in `dir`: equal fingerprints mean nothing was added, removed or changed. */
export function fingerprint(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) {
    out[name] = createHash('sha256')
      .update(readFileSync(join(dir, name)))
      .digest('hex');
  }
  return out;
}
