/**
 * `rialto audit verify | tail`: the audit trail's file in the data directory (docs/audit.md). `verify` reads
 * the chain in order, a page at a time, recomputes every hash and names the first link that does not hold;
 * with `--table` it also checks the query store's `audit_events` against the file. `tail` prints the last
 * events. Reading the file takes no lock (it is safe beside a running venue); `--table` on the embedded store
 * (PGlite) takes the data directory's LOCK, so it runs while no venue does.
 */
import { existsSync, statSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import type { AuditRecord, ChainReport, TableComparison } from '../audit/index.js';
import { AUDIT_LIMITS } from '../audit/limits.js';
import type { VenueConfig } from '../ops/config/types.js';
import { CliError, type ProgramIo } from './cli-io.js';
import { withStore, type StoreOptions } from './cli-store.js';
import { configOption, loadCliConfig } from './serving.js';
import { wholeNumber } from './options.js';

/** The audit trail's code, loaded by the actions: building the command tree (every `rialto` run) needs none. */
const loadAudit = () => import('../audit/index.js');

/** A head recorded earlier (`SEQ:HASH`), which the chain must still contain. */
interface Anchor {
  readonly seq: number;
  readonly hash: string;
}

function anchorOf(value: string): Anchor {
  const m = /^([1-9][0-9]{0,15}):([0-9a-f]{64})$/.exec(value);
  if (m === null || !Number.isSafeInteger(Number(m[1])))
    throw new InvalidArgumentError(
      'An anchor is SEQ:HASH, as verify prints it (HASH: 64 lower-case hex digits).',
    );
  return { seq: Number(m[1]), hash: m[2] };
}

type VerifyOutcome = ChainReport & {
  readonly anchor?: string;
  readonly table?: TableComparison;
  readonly inbox?: number;
};

/** The data directory's audit file, which must exist unless nothing was ever recorded there. */
async function fileOf(config: VenueConfig): Promise<string> {
  const { auditFilePath } = await loadAudit();
  const path = auditFilePath(config.dataDir);
  if (!existsSync(config.dataDir)) throw new CliError(`no data directory at ${config.dataDir}`);
  return path;
}

/** Reads and checks the whole chain, page by page, with a progress bar on long runs. */
async function verifyFile(path: string, io: ProgramIo, anchor: Anchor | null): Promise<VerifyOutcome> {
  const total = existsSync(path) ? statSync(path).size : 0;
  const { verifyAuditFile } = await loadAudit();
  const bar = io.progress('verifying', total, 'bytes');
  let v;
  try {
    v = await verifyAuditFile(path, { anchorSeq: anchor?.seq, progress: (b) => bar.update(b) });
  } finally {
    bar.stop();
  }
  if (v.end.kind === 'torn') {
    io.stderr(
      `rialto: note: ${path} ends in ${v.end.bytes - v.end.offset} bytes that are not a whole event (at byte ` +
        `${v.end.offset}): a group being written, or one a crash cut short (never reported written); a venue ` +
        'cuts it at its start\n',
    );
  }
  const report = v.report;
  if (!report.ok || anchor === null) return report;
  if (v.anchorHash === null) {
    return {
      ...report,
      anchor: `the chain has ${report.count} events: event ${anchor.seq} of the anchor is gone (events were removed from its end)`,
    };
  }
  if (v.anchorHash !== anchor.hash) {
    return { ...report, anchor: `event ${anchor.seq} has hash ${v.anchorHash}, the anchor ${anchor.hash}` };
  }
  return report;
}

const recordJson = (r: AuditRecord) => ({
  seq: r.seq,
  time: new Date(Math.floor(r.timeUs / 1000)).toISOString(),
  actor: r.actor,
  action: r.action,
  target: r.target,
  result: r.result,
  requestId: r.requestId,
  details: r.details,
  id: r.id,
  hash: r.hash,
});

function recordLine(r: AuditRecord): string {
  const j = recordJson(r);
  const who = `${r.actor.id ?? '-'}(${r.actor.role ?? '-'})@${r.actor.ip ?? '-'}`;
  const on = `${r.target.kind}:${r.target.id ?? '-'}`;
  const result = r.result.code === null ? r.result.status : `${r.result.status} ${r.result.code}`;
  return `${r.seq}  ${j.time}  ${who}  ${r.action}  ${on}  ${result}  req=${r.requestId ?? '-'}  ${JSON.stringify(r.details)}`;
}

export function addAuditCommands(program: Command, io: ProgramIo): void {
  const audit = program
    .command('audit')
    .description('the audit trail: a SHA-256 hash chain in the data directory (audit.log)');

  audit
    .command('verify')
    .summary('check the audit chain and name the first broken link')
    .description(
      'Read every event of the audit file (DATA_DIR/audit.log) in order, recompute each hash from the previous ' +
        'one (docs/audit.md) and print "audit chain OK: N events, head SEQ:HASH", or exit 1 naming the first ' +
        'broken link: a missing or damaged event, or the event whose stored hash differs from the expected one ' +
        '(both printed). Record the head elsewhere and pass it back with --anchor to also detect events removed ' +
        "from the end or a chain rewritten from some point on. --table also checks the query store's " +
        'audit_events against the file (each row the same event; the table may lag behind the file). --json ' +
        'prints one JSON object.',
    )
    .option(
      '--anchor <seq:hash>',
      'a head printed by an earlier verify, which the chain must still hold',
      anchorOf,
    )
    .option('--table', "also check the query store's audit_events against the file")
    .option('--json', 'print one JSON object')
    .addOption(configOption())
    .action(async (opts: StoreOptions & { anchor?: Anchor; table?: boolean; json?: boolean }) => {
      const config = await loadCliConfig(opts, io);
      const { AuditInbox, AuditLog, compareTable, describeBreak } = await loadAudit();
      const path = await fileOf(config);
      let report = await verifyFile(path, io, opts.anchor ?? null);
      if (opts.table === true && report.ok) {
        const found = await withStore(config, 'rialto audit verify --table', false, async (store) =>
          store === null
            ? { table: { ok: true, rows: 0, lag: report.ok ? report.count : 0 } as const, inbox: 0 }
            : {
                table: await compareTable(path, new AuditLog(store)),
                inbox: store.kind === 'postgres' ? await new AuditInbox(store).count() : 0,
              },
        );
        report = { ...report, ...found };
      }
      if (opts.json === true) io.stdout(JSON.stringify(report) + '\n');
      if (!report.ok) {
        throw new CliError(
          `audit chain broken: ${describeBreak(report.broken)} (${report.checked} events before it are good)`,
        );
      }
      if (report.anchor !== undefined)
        throw new CliError(`audit chain does not hold the anchor: ${report.anchor}`);
      if (report.table !== undefined && !report.table.ok) {
        throw new CliError(
          `audit_events differs from the audit file at event ${report.table.seq}: ${report.table.why}`,
        );
      }
      if (opts.json !== true) {
        io.stdout(`audit chain OK: ${report.count} events, head ${report.headSeq}:${report.headHash}\n`);
        if (report.table?.ok === true) {
          io.stdout(
            `audit_events OK: ${report.table.rows} events as in the file, ${report.table.lag} not projected yet\n`,
          );
        }
      }
      if (report.inbox !== undefined && report.inbox > 0) {
        io.stderr(
          `rialto: note: ${report.inbox} events of \`rialto keys\` wait in audit_inbox for a venue to chain them\n`,
        );
      }
    });

  audit
    .command('tail')
    .summary('print the last audit events')
    .description(
      'Print the last N audit events (10 by default), oldest first, one per line: sequence, time, actor ' +
        '(id, role, address), action, target, result, request id and details; --json prints one JSON object ' +
        'per line. The events are printed as stored: run verify to check them.',
    )
    .option(
      '-n, --lines <n>',
      `how many (1 to ${AUDIT_LIMITS.tailRowsMax})`,
      wholeNumber('N', 1, AUDIT_LIMITS.tailRowsMax),
      10,
    )
    .option('--json', 'print JSON lines')
    .addOption(configOption())
    .action(async (opts: StoreOptions & { lines: number; json?: boolean }) => {
      const config = await loadCliConfig(opts, io);
      const { tailAuditFile } = await loadAudit();
      const rows = await tailAuditFile(await fileOf(config), opts.lines);
      if (rows.length === 0) io.stderr('no audit events\n');
      for (const r of rows)
        io.stdout((opts.json === true ? JSON.stringify(recordJson(r)) : recordLine(r)) + '\n');
    });
}
