/**
 * What the commands that open the configured query store outside a venue share (`keys`, `audit verify
 * --table`, `md run`, `md prune`): the data directory's LOCK for the embedded store (PGlite allows one process
 * at a time, and a running venue holds the lock), and the audit event of a command that changes something.
 */
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import type { AuditEventInput, Outcome } from '../audit/index.js';
import { JournalError, DirLock } from '../journal/index.js';
import type { VenueConfig } from '../ops/config/types.js';
import { tuneV8ForOneShot } from '../ops/v8-tuning.js';
import { StoreError } from '../store/port.js';
import type { Store } from '../store/index.js';
import { CliError } from './cli-io.js';

// The command tree is built for every `rialto` run: the store's drivers and the audit trail are loaded by the
// actions that use them, so that `rialto --help` does not pay for them.
const loadStore = async () => ({
  ...(await import('../store/open.js')),
  ...(await import('../store/migrations.js')),
});
const loadAudit = () => import('../audit/index.js');

export interface StoreOptions {
  config?: string;
}

/**
 * The data directory's lock when the store is the embedded one (null for PostgreSQL, which many processes
 * share). Fails with the holder's name (a venue running there, another command) as a CliError.
 */
export async function lockEmbeddedStore(config: VenueConfig, purpose: string): Promise<DirLock | null> {
  if (config.database.kind !== 'pglite') return null;
  try {
    return await DirLock.acquire(config.dataDir, purpose);
  } catch (e) {
    if (e instanceof JournalError) throw new CliError(e.message);
    throw e;
  }
}

/**
 * Runs `work` with the migrated store of `config`, or with null when the embedded store does not exist and
 * `create` is false (nothing to list or revoke). Closes the store and releases the lock whatever happens.
 */
export async function withStore<T>(
  config: VenueConfig,
  purpose: string,
  create: boolean,
  work: (store: Store | null) => Promise<T>,
): Promise<T> {
  const db = config.database;
  if (db.kind === 'pglite' && !create && !existsSync(db.dir)) return work(null);
  let lock: DirLock | null = null;
  let store: Store | null = null;
  try {
    lock = await lockEmbeddedStore(config, purpose);
    if (lock !== null) tuneV8ForOneShot();
    const { migrate, openStore } = await loadStore();
    store = await openStore(db, { create });
    await migrate(store);
    return await work(store);
  } catch (e) {
    if (e instanceof StoreError || e instanceof JournalError) throw new CliError(e.message);
    throw e;
  } finally {
    await store?.close();
    await lock?.release();
  }
}

/** Who runs the command line, for the audit trail: `cli:<user>` (the operating system's user name). */
function cliActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli:unknown';
  }
}

/** What a command did, for its audit event. */
export interface CliAuditEvent {
  readonly action: string;
  readonly target: { readonly kind: string; readonly id: string | null };
  readonly result: Outcome;
  readonly details: Readonly<Record<string, unknown>>;
}

/**
 * Records a command in the audit trail, written at once (no queue: one event, and a failure is the
 * command's). With PGlite the command holds the data directory's lock: the event is appended to the audit file
 * there and projected into the table. On PostgreSQL a venue may be running on another data directory, maybe
 * another machine: the event goes to the store's inbox, and a venue chains it into its file (at once when one
 * runs, else at its next start). Nothing is recorded without a store (a revoke on a data directory that has
 * none).
 */
export async function auditCli(config: VenueConfig, store: Store | null, e: CliAuditEvent): Promise<void> {
  if (store === null) return;
  const { AuditInbox, auditEventId, makeEvent } = await loadAudit();
  const event = makeEvent({
    id: auditEventId(),
    timeUs: Date.now() * 1000,
    actor: { id: cliActor(), role: 'operator', ip: null },
    action: e.action,
    target: e.target,
    result: e.result,
    requestId: null,
    details: e.details,
  });
  try {
    if (store.kind === 'postgres') await new AuditInbox(store).add(event);
    else await appendUnderLock(config.dataDir, store, event);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    const of = e.target.id === null ? e.target.kind : `${e.target.kind} ${e.target.id}`;
    throw new CliError(`${e.action} of ${of} is done, but its audit event was not written: ${why}`);
  }
}

/** Appends an event to the audit file of `dir` (its lock held) and brings the table up to it. */
async function appendUnderLock(dir: string, store: Store, event: AuditEventInput): Promise<void> {
  const { AuditFile, AuditLog, AuditProjection, seedFromTable } = await loadAudit();
  const file = await AuditFile.open(dir);
  try {
    await seedFromTable(file, new AuditLog(store));
    await file.append([event]);
    const table = new AuditProjection(new AuditLog(store), file.path, { durableSeq: () => file.head.seq });
    await table.catchUp();
    await table.close();
  } finally {
    await file.close();
  }
}
