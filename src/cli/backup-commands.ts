/**
 * `rialto backup DEST` and `rialto restore SRC`: the work is in src/backup; here, options, help texts and
 * exit codes. Both read the configuration as `rialto start` does (--config, RIALTO_CONFIG, ./rialto.yaml, the
 * environment), to find the data directory and the query store.
 */
import type { Command } from 'commander';
import type { BackupManifest } from '../backup/index.js';
import { CliError, type ProgramIo } from './cli-io.js';
import type { StoreOptions } from './cli-store.js';
import { configOption, loadCliConfig } from './serving.js';
import { packageVersion } from './program.js';

/** The backup code, loaded by the actions: building the command tree (every `rialto` run) needs none. */
const loadBackup = () => import('../backup/index.js');

async function guarded<T>(work: () => Promise<T>): Promise<T> {
  const { BackupError } = await loadBackup();
  try {
    return await work();
  } catch (e) {
    if (e instanceof BackupError) throw new CliError(`${e.code}: ${e.message}`);
    throw e;
  }
}

const stateLine = (m: BackupManifest): string =>
  `journal to sequence ${m.state.lastSeq} (snapshot ${m.state.snapshotSeq}), state hash ${m.state.stateHash}`;

const mib = (bytes: number): string => `${(bytes / (1 << 20)).toFixed(1)} MiB`;

export function addBackupCommands(program: Command, io: ProgramIo): void {
  program
    .command('backup')
    .argument('<dest>', 'a new or empty directory to write the backup into')
    .summary('back up the journal, snapshots and query store, and verify the copy')
    .description(
      'Copy the data directory (journal segments, snapshots, client order ids, the audit log) and the ' +
        "query store into DEST: PGlite's files with the embedded store, a pg_dump (custom format) of the " +
        'database with PostgreSQL (DATABASE_URL; needs pg_dump on the PATH). Every file is hashed, read back ' +
        'and the copied journal recovered before manifest.json is written last, naming each file with its ' +
        'SHA-256, the recovered state hash and a fingerprint of every query table. With PostgreSQL it runs ' +
        'beside a running venue (the dump is one consistent snapshot; the journal is append-only). With the ' +
        "embedded store it takes the data directory's lock, so stop the venue first. On failure nothing is " +
        'left in DEST. Exits 1 on any failure, with a code and the reason.',
    )
    .addOption(configOption())
    .option('--json', 'print the manifest as one JSON object')
    .action(async (dest: string, opts: StoreOptions & { json?: boolean }) => {
      const config = await loadCliConfig(opts, io);
      const { createBackup } = await loadBackup();
      const report = await guarded(() =>
        createBackup(
          {
            dataDir: config.dataDir,
            database: config.database,
            rialtoVersion: packageVersion(),
            onStep: opts.json === true ? undefined : (s) => io.stderr(`rialto backup: ${s}\n`),
          },
          dest,
        ),
      );
      if (opts.json === true) {
        io.stdout(JSON.stringify(report.manifest) + '\n');
        return;
      }
      const m = report.manifest;
      io.stdout(
        `backup written to ${report.dest}: ${m.files.length} files${m.postgresDump === null ? '' : ' and a PostgreSQL dump'}, ` +
          `${mib(report.bytes)}; ${stateLine(m)}; ${Object.keys(m.tables).length} query tables\n`,
      );
    });

  program
    .command('restore')
    .argument('<src>', 'a directory written by `rialto backup`')
    .summary('restore a backup into an empty data directory (and database), and verify it')
    .description(
      'Check every file of the backup against its manifest (size and SHA-256), copy it into the configured ' +
        'data directory, which must be absent or empty, restore the PostgreSQL dump into the configured ' +
        'database, which must have no tables (pg_restore, one transaction), then recover the restored ' +
        "journal and compare the state hash, the last sequence number and every query table's fingerprint " +
        'with the manifest. A failed restore empties the data directory again. With --check, only check the ' +
        'backup (files and recovery) and write nothing. Exits 1 on any failure, naming what differs.',
    )
    .addOption(configOption())
    .option('--check', 'verify the backup without restoring it')
    .option('--json', 'print one JSON object')
    .action(async (src: string, opts: StoreOptions & { check?: boolean; json?: boolean }) => {
      const { checkBackup, restoreBackup } = await loadBackup();
      if (opts.check === true) {
        const m = await guarded(() => checkBackup(src));
        if (opts.json === true)
          io.stdout(JSON.stringify({ ok: true, state: m.state, files: m.files.length }) + '\n');
        else io.stdout(`backup OK: ${m.files.length} files match the manifest; ${stateLine(m)}\n`);
        return;
      }
      const config = await loadCliConfig(opts, io);
      const report = await guarded(() =>
        restoreBackup(src, {
          dataDir: config.dataDir,
          database: config.database,
          onStep: opts.json === true ? undefined : (s) => io.stderr(`rialto restore: ${s}\n`),
        }),
      );
      if (opts.json === true) {
        io.stdout(
          JSON.stringify({
            ok: true,
            state: report.manifest.state,
            files: report.files,
            tables: report.tables,
          }) + '\n',
        );
        return;
      }
      io.stdout(
        `restored into ${config.dataDir}: ${report.files} files, ${mib(report.bytes)}; ${stateLine(report.manifest)}; ` +
          `${report.tables} query tables match the backup\n`,
      );
    });
}
