/**
 * Rebuilding the views at start: every command of the journal, from the first, through a fresh core on this
 * thread, each command's records fed to the views exactly as the engine would have published them. The
 * engine recovers its own state from a snapshot, but the views need the history a snapshot does not keep
 * (ended orders, trades), so they replay the whole journal. This reads files only, takes no lock, and is
 * meant to run while the engine holds the data directory and before any command is submitted.
 */
import { ExchangeCore, type AssetInfo, type Command, type InstrumentSpec } from '../../core/index.js';
import { JournalReader, executeByKind } from '../../journal/index.js';
import type { Views } from './views.js';

export interface ReplayReport {
  /** Commands replayed (the journal's last sequence number). */
  commands: number;
  /** The fresh core's state hash afterwards: equal to the engine's, or the views are not the engine's. */
  stateHash: string;
  /** The assets and instruments the journal has set up (what a start need not submit again). */
  assets: readonly number[];
  instruments: readonly number[];
  /** The same, whole: the gateway's instrument table starts from them (instruments/table.ts). */
  assetList: readonly AssetInfo[];
  instrumentSpecs: readonly Readonly<InstrumentSpec>[];
  ms: number;
}

/** Another projection rebuilt by the same replay: each command's records as the views get them. */
export type ReplayListener = (seq: number, timeUs: number, events: Float64Array, count: number) => void;

/**
 * What else learns from the commands themselves (the client order ids their places carry), with each command's
 * core records (`count` of them in `events`, valid during the call).
 */
export type CommandListener = (command: Command, events: Float64Array, count: number) => void;

/** How often a long replay or catch-up before listening says how far it is (docs/deployment.md, start time). */
export const REPLAY_PROGRESS_MS = 5_000;

/** What a replay or catch-up before listening says of how far it is: `doing` (what), done of total and %. */
export function progressMessage(
  doing: string,
  done: number,
  total: number,
): { percent: number; text: string } {
  const percent = Math.floor((100 * done) / total);
  return { percent, text: `${doing} before listening: ${done} of ${total} records (${percent}%)` };
}

/**
 * How far a replay is, for a start that takes minutes (the whole journal, about 12 µs a record on two cores:
 * docs/deployment.md, start time): `report` gets the commands replayed and the total, at most every `everyMs`.
 */
export interface ReplayProgress {
  readonly everyMs: number;
  report(replayed: number, total: number): void;
}

/**
 * Replays the journal in `dir` up to `lastSeq` into `views` (which must be new), and into `also`; `commands`
 * sees each command; `progress` hears how far it is.
 */
export async function replayJournalInto(
  dir: string,
  lastSeq: number,
  views: Views,
  also: ReplayListener | null = null,
  commands: CommandListener | null = null,
  progress: ReplayProgress | null = null,
): Promise<ReplayReport> {
  const started = performance.now();
  if (views.venue.lastSeq !== 0) throw new Error('views: replay into views that have seen commands');
  const core = new ExchangeCore();
  let replayed = 0;
  let reportAt = progress === null ? Infinity : started + progress.everyMs;
  if (lastSeq > 0) {
    await new JournalReader(dir).scan(1, (seq, timeUs, command, kind) => {
      if (seq > lastSeq) return;
      core.events.clear();
      executeByKind(core, command, kind);
      views.applyCommand(seq, timeUs, core.events.data, 0, core.events.count);
      also?.(seq, timeUs, core.events.data, core.events.count);
      commands?.(command, core.events.data, core.events.count);
      replayed++;
      // A clock read per command is some 40 ns against the 12 µs the command took.
      if (progress !== null && performance.now() >= reportAt) {
        progress.report(replayed, lastSeq);
        reportAt = performance.now() + progress.everyMs;
      }
    });
  }
  core.events.clear();
  if (replayed !== lastSeq) throw new Error(`views: replayed ${replayed} commands of ${lastSeq}`);
  return {
    commands: replayed,
    stateHash: core.stateHash(),
    assets: core.assetList().map((a) => a.asset),
    instruments: core.instrumentList().map((i) => i.instrument),
    assetList: core.assetList().map((a) => ({ ...a })),
    instrumentSpecs: core.instrumentList().map((i) => ({ ...i })),
    ms: Math.round(performance.now() - started),
  };
}
