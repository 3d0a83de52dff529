import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type BetterSqlite3 from 'better-sqlite3';
import type { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../../config/config.types';
import type { AsyncMigrationRunner, BackgroundJobOutcome } from './async-migration-runner';
import { startDefaultScopeBackfill } from './background-jobs';
import { openDatabase, type OpenedDatabase } from './open-database';
import type { MaintenanceRepository } from './repositories/maintenance.repository';
import { SqliteMaintenanceRepository } from './repositories/sqlite-maintenance.repository';
import { SqliteBatchWriter } from './writer/sqlite-batch-writer';
import { WriterPerf } from './writer/writer-perf';
import { errorText } from './sqlite-introspection';
import { checkAutoVacuum, checkpointWal, runIncrementalVacuum, type AutoVacuumCheckResult } from './sqlite-maintenance';

/**
 * Owns the single SQLite connection for the Nest application: opens and migrates it in onModuleInit (the
 * background migrations/backfills start there and run on their own), checkpoints and closes it on shutdown.
 * Repositories use `connection` (raw better-sqlite3, prepared statements); `dataSource` is the TypeORM view of
 * the same connection. Never run two transactions at once on it (ecosystem-notes §4.3).
 */
@Injectable()
export class DatabaseService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Database');
  private opened: OpenedDatabase | undefined;
  private singleWriter?: SqliteBatchWriter;
  private maintenance?: MaintenanceRepository;
  /** Wait and hold on the writer per component (ingestor-spec §6.4), for the stats file and /metrics. */
  readonly writerPerf: WriterPerf;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.writerPerf = new WriterPerf(config.slowWriterMs, (line) => this.logger.warn(line));
  }

  async onModuleInit(): Promise<void> {
    try {
      this.opened = await openDatabase(this.config.dbPath, { logger: (line) => this.logger.log(line), tuning: this.config.sqlite });
    } catch (error) {
      // Same wording as CoreScope's fatal `db: …` line; the caller decides to exit.
      throw new Error(`db: ${errorText(error)}`, { cause: error });
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  get isOpen(): boolean {
    return this.opened !== undefined && this.opened.dataSource.isInitialized;
  }

  get connection(): BetterSqlite3.Database {
    return this.requireOpened().connection;
  }

  get dataSource(): DataSource {
    return this.requireOpened().dataSource;
  }

  /** The one writer on the connection: ingest batches and maintenance jobs both commit through it. */
  get writer(): SqliteBatchWriter {
    this.singleWriter ??= new SqliteBatchWriter(this.connection);
    return this.singleWriter;
  }

  /** The maintenance jobs' port, on the single writer. */
  get maintenanceRepository(): MaintenanceRepository {
    this.maintenance ??= new SqliteMaintenanceRepository(this.connection, this.writer);
    return this.maintenance;
  }

  /** Readiness: the database answers a trivial query. Throws what the engine threw. */
  ping(): void {
    this.connection.prepare('SELECT 1').get();
  }

  get asyncMigrations(): AsyncMigrationRunner {
    return this.requireOpened().asyncMigrations;
  }

  /** §7.1 step 9 with `db.vacuumOnStartup`. Synchronous and possibly long (full VACUUM). */
  checkAutoVacuum(): AutoVacuumCheckResult {
    return checkAutoVacuum(this.connection, this.config.db.vacuumOnStartup, (line) => this.logger.log(line));
  }

  /** `PRAGMA incremental_vacuum(db.incrementalVacuumPages)`. */
  runIncrementalVacuum(): void {
    runIncrementalVacuum(this.connection, this.config.db.incrementalVacuumPages);
  }

  checkpointWal(): void {
    checkpointWal(this.connection, (line) => this.logger.log(line));
  }

  /** §7.1 step 10: starts the tracked default_scope backfill when region keys are configured. */
  startDefaultScopeBackfill(hasRegionKeys: boolean): Promise<BackgroundJobOutcome> | undefined {
    return startDefaultScopeBackfill(this.asyncMigrations, hasRegionKeys);
  }

  /** Cancels background jobs at their next chunk boundary, checkpoints the WAL (TRUNCATE), closes. Idempotent. */
  async close(): Promise<void> {
    await this.opened?.close();
  }

  private requireOpened(): OpenedDatabase {
    if (!this.opened) throw new Error('DatabaseService: the database is not open yet (onModuleInit has not run)');
    return this.opened;
  }
}
