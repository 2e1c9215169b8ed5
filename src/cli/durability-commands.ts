/**
 * The command tree of `rialto journal ...` and `rialto snapshot ...`: options, help texts and exit codes; the
 * work is in journal-tools.ts and snapshot-tools.ts. Every command takes the data directory as `--dir` (else
 * RIALTO_DATA_DIR, else ./data) and fails with exit 1 when it does not exist.
 */
import type { Command } from 'commander';
import { JOURNAL_LIMITS } from '../journal/index.js';
import { ENGINE_DEFAULTS } from '../engine/index.js';
import { CliError, type ProgramIo } from './cli-io.js';
import {
  asCliError,
  followJournal,
  inspectJournal,
  inspectText,
  printRecords,
  printTail,
  verifyJournal,
  verifyText,
} from './journal-tools.js';
import { dirOption, requireDataDir, wholeNumber } from './options.js';
import { createNotices, createSnapshot, createText, listSnapshots, listText } from './snapshot-tools.js';

/** Bounds of the numeric options. */
const RECORDS_PRINTED_MAX = 1_000_000;
const RECORDS_PRINTED_DEFAULT = 100;
const TAIL_DEFAULT = 10;
const POLL_MS_MIN = 10;
const POLL_MS_MAX = 60_000;
const POLL_MS_DEFAULT = 500;

/** An action whose file-system and journal errors end as one line and exit 1 (asCliError). */
function guarded<A extends unknown[]>(action: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args) => {
    try {
      await action(...args);
    } catch (e) {
      throw asCliError(e);
    }
  };
}

const print = (io: ProgramIo, json: boolean | undefined, report: unknown, text: (r: never) => string): void =>
  io.stdout(json === true ? JSON.stringify(report) + '\n' : text(report as never));

export function addJournalCommands(program: Command, io: ProgramIo): void {
  const journal = program
    .command('journal')
    .description(
      "tools for a data directory's command journal (they only read: safe beside a running engine, take no lock)",
    );

  journal
    .command('verify')
    .summary('check every segment and record of the journal')
    .description(
      'Check every journal segment of the data directory: segment headers, record framing, CRC32C checksums, ' +
        'sequence and time continuity within and across segments, and that every command decodes. Prints ' +
        'the segments, records (with the first and last sequence number) and bytes, and any torn tail or ' +
        'corruption with its file and byte offset. A torn tail (the last write cut short, never ' +
        'acknowledged) is reported but is no failure: the engine cuts it at its next start. Reads only: ' +
        'it never cuts or changes a file. Exits 1 on corruption (damage anywhere else: the engine would ' +
        'refuse to start), on a segment of another format version, or when the directory is missing.',
    )
    .addOption(dirOption())
    .option('--json', 'print one JSON object instead of text')
    .action(
      guarded(async (opts: { dir: string; json?: boolean }) => {
        requireDataDir(opts.dir);
        const report = await verifyJournal(opts.dir, io);
        print(io, opts.json, report, verifyText);
        if (report.corruption !== null) throw new CliError(report.corruption.message);
      }),
    );

  journal
    .command('inspect')
    .summary('per-segment summary of the journal, or its records as JSON lines')
    .description(
      'Without --from or --limit: one line per journal segment (file, header version, first and last ' +
        'sequence number, record count, bytes) and any torn tail; records are checked but not decoded ' +
        '(verify does that). With --from or --limit: instead, up to --limit records from --from (default: ' +
        'the first), one JSON object per line: {"seq", "timeUs", "command"}, the command as the core takes ' +
        'it without its time (NaN, Infinity and -0, which a rejected command may hold, as strings); the ' +
        'scan stops once it has them. Exits 1 on damage it meets, or when --from is before the first record ' +
        'or more than one past the last.',
    )
    .addOption(dirOption())
    .option(
      '--from <seq>',
      'print records from this sequence number',
      wholeNumber('SEQ', 1, Number.MAX_SAFE_INTEGER),
    )
    .option(
      '--limit <n>',
      `print at most this many records (default ${RECORDS_PRINTED_DEFAULT})`,
      wholeNumber('N', 1, RECORDS_PRINTED_MAX),
    )
    .option('--json', 'print the summary as one JSON object instead of text')
    .action(
      guarded(async (opts: { dir: string; from?: number; limit?: number; json?: boolean }) => {
        requireDataDir(opts.dir);
        if (opts.from !== undefined || opts.limit !== undefined) {
          await printRecords(opts.dir, opts.from ?? null, opts.limit ?? RECORDS_PRINTED_DEFAULT, io);
          return;
        }
        const report = await inspectJournal(opts.dir);
        print(io, opts.json, report, inspectText);
        if (report.corruption !== null) throw new CliError(report.corruption.message);
      }),
    );

  journal
    .command('tail')
    .summary('print the last records as JSON lines, and optionally follow new ones')
    .description(
      'Print the last N records of the journal, one JSON object per line (as `journal inspect --from`). ' +
        'With --follow, keep polling for new records and print them as they become valid on disk, until ' +
        'interrupted (Ctrl-C, SIGINT or SIGTERM: exit 0). A poll rereads the newest segment only when the ' +
        'segment files or its size changed.',
    )
    .addOption(dirOption())
    .option(
      '-n, --lines <n>',
      `how many of the last records to print (default ${TAIL_DEFAULT})`,
      wholeNumber('N', 0, RECORDS_PRINTED_MAX),
    )
    .option('-f, --follow', 'keep printing new records until interrupted')
    .option(
      '--interval <ms>',
      `milliseconds between polls with --follow (default ${POLL_MS_DEFAULT})`,
      wholeNumber('MS', POLL_MS_MIN, POLL_MS_MAX),
    )
    .action(
      guarded(async (opts: { dir: string; lines?: number; follow?: boolean; interval?: number }) => {
        requireDataDir(opts.dir);
        const next = await printTail(opts.dir, opts.lines ?? TAIL_DEFAULT, io);
        if (opts.follow !== true) return;
        const stop = new AbortController();
        const abort = (): void => stop.abort();
        process.once('SIGINT', abort);
        process.once('SIGTERM', abort);
        try {
          await followJournal(opts.dir, next, opts.interval ?? POLL_MS_DEFAULT, io, stop.signal);
        } finally {
          process.off('SIGINT', abort);
          process.off('SIGTERM', abort);
        }
      }),
    );
}

export function addSnapshotCommands(program: Command, io: ProgramIo): void {
  const snapshot = program
    .command('snapshot')
    .description('list and take snapshots of the state in a data directory');

  snapshot
    .command('list')
    .summary('list the snapshots, each valid or why not')
    .description(
      'List the snapshot files of the data directory, newest first: file, the sequence number it covers, ' +
        'bytes, and whether recovery would accept it (header, name, length and payload checksums, and a ' +
        'payload that decodes into a core) with the state hash it holds, or why not. Temporary files left ' +
        'by a write in progress or interrupted are listed last. Reads only; takes no lock.',
    )
    .addOption(dirOption())
    .option('--json', 'print one JSON object instead of text')
    .action(
      guarded(async (opts: { dir: string; json?: boolean }) => {
        requireDataDir(opts.dir);
        print(io, opts.json, await listSnapshots(opts.dir), listText);
      }),
    );

  snapshot
    .command('create')
    .summary('rebuild the state offline and write a snapshot of it')
    .description(
      'Rebuild the state as an engine starting on the data directory would (the newest valid snapshot, ' +
        'then the journal after it, which is checked whole before it is replayed) and write a snapshot of ' +
        'the state after the last record, ' +
        'atomically (temporary file, fsync, rename, fsync of the directory), keeping the newest --keep ' +
        'snapshots. Prints the file and the state hash; writes nothing when the newest valid snapshot ' +
        'already covers the last record. Changes no journal file: a torn tail is reported and left for the ' +
        "engine to cut. Takes the directory's LOCK, so it fails (exit 1, naming the holder) while an engine " +
        'or another snapshot create holds it. Exits 1 on a damaged journal or one without records.',
    )
    .addOption(dirOption())
    .option(
      '--keep <n>',
      `snapshots to keep; older ones are removed (default ${ENGINE_DEFAULTS.snapshotsKept}, as the engine's)`,
      wholeNumber('N', 1, JOURNAL_LIMITS.snapshotsKeptMax),
    )
    .option('--json', 'print one JSON object instead of text')
    .action(
      guarded(async (opts: { dir: string; keep?: number; json?: boolean }) => {
        requireDataDir(opts.dir);
        const report = await createSnapshot(opts.dir, opts.keep ?? ENGINE_DEFAULTS.snapshotsKept, io);
        io.stderr(createNotices(report));
        print(io, opts.json, report, createText);
      }),
    );
}
