/** Backups of a venue's data directory and query store, and their restore (docs/operations.md). */
export {
  BackupError,
  BackupErrorCode,
  checkBackup,
  createBackup,
  restoreBackup,
  type BackupReport,
  type BackupSource,
  type RestoreReport,
  type RestoreTarget,
} from './backup.js';
export { MANIFEST_FILE, parseManifest, type BackupManifest, type TableFingerprint } from './manifest.js';
export { fingerprintTables } from './tables.js';
