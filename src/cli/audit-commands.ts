/**
 * `rialto audit verify | tail`: the audit trail in the configured query store (docs/audit.md). `verify` reads
 * the chain in order, a page at a time, recomputes every hash and names the first link that does not hold;
 * `tail` prints the last events. With the embedded store (PGlite) they take the data directory's LOCK, so they
 * run while no venue does; on PostgreSQL they run beside one.
 */
import { InvalidArgumentError, type Command } from 'commander';
import {
  AUDIT_LIMITS,
  AuditLog,
  ChainChecker,
  GENESIS_HASH,
  describeBreak,
  type AuditRecord,
  type ChainReport,
} from '../audit/index.js';
import { CliError, type ProgramIo } from './cli-io.js';
import { configOption, loadCliConfig, withStore, type StoreOptions } from './keys-commands.js';
import { wholeNumber } from './options.js';

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

type VerifyOutcome = ChainReport & { readonly anchor?: string };

/** Reads and checks the whole chain, page by page, with a progress bar on long runs. */
async function verifyLog(log: AuditLog, io: ProgramIo, anchor: Anchor | null): Promise<VerifyOutcome> {
  const total = (await log.head()).seq;
  const bar = io.progress('verifying', total, 'events');
  const checker = new ChainChecker();
  let anchorSeen: AuditRecord | null = null;
  try {
    for await (const page of log.pages(AUDIT_LIMITS.verifyPageRows)) {
      if (anchor !== null && anchorSeen === null) anchorSeen = page.find((r) => r.seq === anchor.seq) ?? null;
      const good = checker.add(page);
      bar.update(checker.count);
      if (!good) break;
    }
  } finally {
    bar.stop();
  }
  const report = checker.report();
  if (!report.ok || anchor === null) return report;
  if (anchorSeen === null) {
    return {
      ...report,
      anchor: `the chain has ${report.count} events: event ${anchor.seq} of the anchor is gone (events were removed from its end)`,
    };
  }
  if (anchorSeen.hash !== anchor.hash) {
    return {
      ...report,
      anchor: `event ${anchor.seq} has hash ${anchorSeen.hash}, the anchor ${anchor.hash}`,
    };
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
    .description('the audit trail: a SHA-256 hash chain in the configured store');

  audit
    .command('verify')
    .summary('check the audit chain and name the first broken link')
    .description(
      'Read every audit event in order, recompute each hash from the previous one (docs/audit.md) and print ' +
        '"audit chain OK: N events, head SEQ:HASH", or exit 1 naming the first broken link: a missing event, ' +
        'or the event whose stored hash differs from the expected one (both printed). Record the head ' +
        'elsewhere and pass it back with --anchor to also detect events removed from the end or a chain ' +
        'rewritten from some point on. --json prints one JSON object.',
    )
    .option(
      '--anchor <seq:hash>',
      'a head printed by an earlier verify, which the chain must still hold',
      anchorOf,
    )
    .option('--json', 'print one JSON object')
    .addOption(configOption())
    .action(async (opts: StoreOptions & { anchor?: Anchor; json?: boolean }) => {
      const config = loadCliConfig(opts, io);
      const report = await withStore(
        config,
        'rialto audit verify',
        false,
        async (store): Promise<VerifyOutcome> =>
          store === null
            ? { ok: true, count: 0, headSeq: 0, headHash: GENESIS_HASH }
            : verifyLog(new AuditLog(store), io, opts.anchor ?? null),
      );
      if (opts.json === true) io.stdout(JSON.stringify(report) + '\n');
      if (!report.ok) {
        throw new CliError(
          `audit chain broken: ${describeBreak(report.broken)} (${report.checked} events before it are good)`,
        );
      }
      if (report.anchor !== undefined)
        throw new CliError(`audit chain does not hold the anchor: ${report.anchor}`);
      if (opts.json !== true) {
        io.stdout(`audit chain OK: ${report.count} events, head ${report.headSeq}:${report.headHash}\n`);
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
      const config = loadCliConfig(opts, io);
      const rows = await withStore(config, 'rialto audit tail', false, async (store) =>
        store === null ? [] : new AuditLog(store).tail(opts.lines),
      );
      if (rows.length === 0) io.stderr('no audit events\n');
      for (const r of rows)
        io.stdout((opts.json === true ? JSON.stringify(recordJson(r)) : recordLine(r)) + '\n');
    });
}
