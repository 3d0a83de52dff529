import type BetterSqlite3 from 'better-sqlite3';
import { errorText } from '../../../common/errors/error-text';

/**
 * The PRAGMA-level maintenance of ingestor-spec §5.2 that belongs to the connection rather than to any table:
 * auto_vacuum check (with the optional one-time VACUUM), incremental vacuum, WAL checkpoint. The schedules that
 * call them live with the maintenance jobs.
 */

const AUTO_VACUUM_INCREMENTAL = 2;
const AUTO_VACUUM_NAMES: Readonly<Record<number, string>> = { 0: 'NONE', 1: 'FULL', 2: 'INCREMENTAL' };

export interface AutoVacuumCheckResult {
  /** auto_vacuum mode before the check (0 NONE, 1 FULL, 2 INCREMENTAL). */
  readonly modeBefore: number;
  readonly vacuumed: boolean;
}

/**
 * CheckAutoVacuum: reports the mode; on a database that is not INCREMENTAL and with `vacuumOnStartup`, switches
 * it with a full VACUUM. That VACUUM blocks the connection (and the event loop) for as long as it takes and
 * needs about twice the file size in free disk. Observers are referenced by rowid (observations.observer_idx);
 * SQLite's VACUUM keeps rowids when it copies a table unchanged, which the persistence specs check.
 */
export function checkAutoVacuum(
  db: BetterSqlite3.Database,
  vacuumOnStartup: boolean,
  log: (line: string) => void = () => {},
): AutoVacuumCheckResult {
  const modeBefore = Number(db.pragma('auto_vacuum', { simple: true }));
  if (modeBefore === AUTO_VACUUM_INCREMENTAL) {
    log('[db] auto_vacuum=INCREMENTAL');
    return { modeBefore, vacuumed: false };
  }
  const name = AUTO_VACUUM_NAMES[modeBefore] ?? String(modeBefore);
  log(
    `[db] auto_vacuum=${name} — DB needs one-time VACUUM to enable incremental auto-vacuum. ` +
      'Set db.vacuumOnStartup: true in config to migrate (one-time, needs ~2x DB size free disk).',
  );
  if (!vacuumOnStartup) return { modeBefore, vacuumed: false };

  log('[db] vacuumOnStartup: running one-time VACUUM to enable incremental auto-vacuum (this may take a while)...');
  const startedAt = Date.now();
  db.pragma('auto_vacuum = INCREMENTAL');
  db.exec('VACUUM');
  log(`[db] VACUUM complete in ${((Date.now() - startedAt) / 1000).toFixed(1)}s`);
  return { modeBefore, vacuumed: true };
}

/** `PRAGMA incremental_vacuum(pages)`; harmless on a database that is not in INCREMENTAL mode. */
export function runIncrementalVacuum(db: BetterSqlite3.Database, pages: number): void {
  db.pragma(`incremental_vacuum(${Math.max(0, Math.trunc(pages))})`);
}

export interface WalCheckpointResult {
  readonly busy: boolean;
  readonly logFrames: number;
  readonly checkpointedFrames: number;
}

/** `PRAGMA wal_checkpoint(TRUNCATE)`; logs only when the WAL held frames. Errors are logged, never thrown. */
export function checkpointWal(
  db: BetterSqlite3.Database,
  log: (line: string) => void = () => {},
): WalCheckpointResult | undefined {
  try {
    const [row] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number; log: number; checkpointed: number }[];
    const result = { busy: row.busy !== 0, logFrames: row.log, checkpointedFrames: row.checkpointed };
    if (result.logFrames > 0) {
      log(
        `[db] WAL checkpoint: ${result.checkpointedFrames}/${result.logFrames} frames checkpointed ` +
          `(blocked=${result.busy})`,
      );
    }
    return result;
  } catch (error) {
    log(`[db] WAL checkpoint error: ${errorText(error)}`);
    return undefined;
  }
}
