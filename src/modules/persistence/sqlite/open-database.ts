import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { DataSource } from 'typeorm';
import { CONFIG_DEFAULTS } from '../../../config/config.defaults';
import type { SqliteTuning } from '../../../config/config.types';
import { AsyncMigrationRunner } from './async-migration-runner';
import { startBootBackgroundJobs } from './background-jobs';
import { migrateSchema, type MigrationReport } from './migrations';
import { checkpointWal } from './sqlite-maintenance';

/**
 * `synchronous` for the writer connection. CoreScope does not set it, so SQLite's FULL applies there (an fsync
 * of the WAL on every commit). In WAL mode NORMAL is the usual choice: commits stay atomic and the file cannot
 * be corrupted, a process crash loses nothing, and only an OS crash or power cut can drop the last few commits
 * (fsync happens at checkpoints). For a stream of radio packets that is the right trade against fsync latency
 * on every group commit. Change to 'FULL' here to match the reference exactly.
 */
export const SQLITE_SYNCHRONOUS_MODE: 'NORMAL' | 'FULL' = 'NORMAL';

/** busy_timeout (TypeORM's `timeout` option): how long a write waits for a lock held by another process. */
export const SQLITE_BUSY_TIMEOUT_MS = 5000;

export interface OpenDatabaseOptions {
  readonly logger?: (line: string) => void;
  /** Writer connection tuning (config `sqlite`); CONFIG_DEFAULTS.sqlite when absent. */
  readonly tuning?: SqliteTuning;
  /**
   * Start the async migrations and boot backfills right away (default true). Tests that need to seed data
   * before those jobs run pass false and call startBootBackgroundJobs themselves.
   */
  readonly startBackgroundJobs?: boolean;
}

export interface OpenedDatabase {
  readonly dbPath: string;
  readonly dataSource: DataSource;
  /** The raw better-sqlite3 handle behind the DataSource: the single connection everything shares. */
  readonly connection: BetterSqlite3.Database;
  readonly asyncMigrations: AsyncMigrationRunner;
  readonly migrationReport: MigrationReport;
  /** Cancels background jobs, checkpoints the WAL (TRUNCATE) and closes the connection. Idempotent. */
  close(): Promise<void>;
}

/**
 * The TypeORM DataSource on better-sqlite3 with the connection settings of ingestor-spec §4.1. TypeORM opens
 * the file, runs `prepareDatabase`, then sets `foreign_keys = ON` and `journal_mode = WAL`; TypeORM keeps a
 * single connection for SQLite, which is exactly CoreScope's `max_open_conns = 1`. The schema is never
 * synchronised from entities: migrations.ts owns it.
 */
export function createDataSource(dbPath: string, tuning: SqliteTuning = CONFIG_DEFAULTS.sqlite): DataSource {
  return new DataSource({
    type: 'better-sqlite3',
    database: dbPath,
    synchronize: false,
    migrationsRun: false,
    entities: [],
    enableWAL: true,
    timeout: SQLITE_BUSY_TIMEOUT_MS,
    prepareDatabase: (db: BetterSqlite3.Database) => {
      // Takes effect only on a new file, before its first table exists, and must precede journal_mode.
      // Existing files keep their mode until a VACUUM (the maintenance module's CheckAutoVacuum).
      db.pragma('auto_vacuum = INCREMENTAL');
      db.pragma(`synchronous = ${SQLITE_SYNCHRONOUS_MODE}`);
      // Page cache and checkpoint size. With SQLite's defaults (2 MiB, checkpoint every 1 000 WAL pages) a
      // group commit of new transmissions spills pages mid-transaction, re-reads index pages through
      // syscalls and checkpoints (with an fsync) every few batches. Measured on the 2-core machine by
      // replaying the rows of a 100 000-message e2e run with our statements in 500-message transactions
      // (the method of ../shared/tools/sqlite-bench.mjs, pragmas varied): 17 200 rows/s with the defaults,
      // 22 500 with 8 MiB + 10 000 pages, 23 300 with 16 MiB + 10 000, 27 800–32 100 with 32 MiB + 10 000,
      // 40 300 with 16 MiB + 10 000 at 2 000 messages per transaction. The cache counts toward RSS; the WAL
      // grows to about 40 MiB between checkpoints. Negative cache_size = KiB.
      db.pragma(`cache_size = ${-Math.trunc(tuning.cacheSizeMiB * 1024)}`);
      db.pragma(`wal_autocheckpoint = ${Math.trunc(tuning.walAutocheckpointPages)}`);
    },
  });
}

export function rawConnectionOf(dataSource: DataSource): BetterSqlite3.Database {
  return (dataSource.driver as unknown as { databaseConnection: BetterSqlite3.Database }).databaseConnection;
}

/**
 * Opens (creating folder and file if needed) and migrates the CoreScope database at `dbPath`, then starts the
 * background jobs. Usable without Nest (CLI, tests). Failures reject with the cause; a schema failure carries
 * `applying schema: <step>: …` and leaves the connection closed.
 */
export async function openDatabase(dbPath: string, options: OpenDatabaseOptions = {}): Promise<OpenedDatabase> {
  const log = options.logger ?? (() => {});
  await mkdir(path.dirname(dbPath), { recursive: true });

  const tuning = options.tuning ?? CONFIG_DEFAULTS.sqlite;
  const dataSource = createDataSource(dbPath, tuning);
  await dataSource.initialize();
  const connection = rawConnectionOf(dataSource);

  let migrationReport: MigrationReport;
  let asyncMigrations: AsyncMigrationRunner;
  try {
    const journalMode = String(connection.pragma('journal_mode', { simple: true }));
    if (journalMode !== 'wal') log(`[db] WARNING: journal_mode is ${journalMode}, not wal (filesystem without WAL support?)`);
    log(
      `SQLite config: busy_timeout=${SQLITE_BUSY_TIMEOUT_MS}ms, single connection, journal=${journalMode}, ` +
        `synchronous=${SQLITE_SYNCHRONOUS_MODE}, cache=${tuning.cacheSizeMiB}MiB, wal_autocheckpoint=${tuning.walAutocheckpointPages} pages`,
    );
    migrationReport = migrateSchema(connection, log);
    asyncMigrations = new AsyncMigrationRunner(connection, log);
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }

  if (options.startBackgroundJobs !== false) startBootBackgroundJobs(asyncMigrations, connection);
  log(`SQLite opened: ${dbPath}`);

  let closing: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    await asyncMigrations.shutdown();
    if (!dataSource.isInitialized) return;
    checkpointWal(connection, log);
    await dataSource.destroy();
  };

  return {
    dbPath,
    dataSource,
    connection,
    asyncMigrations,
    migrationReport,
    close: () => (closing ??= close()),
  };
}
