import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type BetterSqlite3 from 'better-sqlite3';
import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import { maskDatabaseUrl } from '../../common/masking/mask-broker-url';
import { APP_CONFIG, type AppConfig } from '../../config/config.types';
import type { AsyncMigrationRunner, BackgroundJobOutcome } from './sqlite/async-migration-runner';
import { startDefaultScopeBackfill } from './sqlite/background-jobs';
import type { IngestStore } from './ingest-store';
import { SqliteIngestStore } from './sqlite/sqlite-ingest.store';
import { openDatabase, type OpenedDatabase } from './sqlite/open-database';
import type { AsyncMaintenanceRepository } from './repositories/async-maintenance.repository';
import type { MaintenanceLeaderLock } from './repositories/maintenance-leader-lock';
import type { MaintenanceRepository } from './repositories/maintenance.repository';
import { openPostgresPool } from './postgres/postgres-connection';
import { PostgresIngestStore } from './postgres/postgres-ingest.store';
import { PostgresLeaderLock } from './postgres/postgres-leader-lock';
import { PostgresMaintenanceRepository } from './postgres/postgres-maintenance.repository';
import { migratePostgres } from './postgres/postgres-migrations';
import { SqliteIngestRepository } from './sqlite/sqlite-ingest.repository';
import { SqliteMaintenanceRepository } from './sqlite/sqlite-maintenance.repository';
import { SqliteBatchWriter } from './sqlite/sqlite-batch-writer';
import { WriterPerf } from './writer/writer-perf';
import { errorText } from '../../common/errors/error-text';
import { checkAutoVacuum, checkpointWal, runIncrementalVacuum, type AutoVacuumCheckResult } from './sqlite/sqlite-maintenance';

/**
 * Owns the database of the Nest application, on the engine `db.engine` names.
 *
 * SQLite (default): the single connection, opened and migrated in onModuleInit (the background
 * migrations/backfills start there and run on their own), checkpointed and closed on shutdown. Repositories use
 * `connection` (raw better-sqlite3, prepared statements); `dataSource` is the TypeORM view of the same
 * connection. Never run two transactions at once on it (ecosystem-notes §4.3).
 *
 * PostgreSQL: a pool on `db.url`, migrated at start (safe with several replicas starting at once); ingest goes
 * through `ingestStore`. The SQLite-only members (connection, maintenance repository, WAL and vacuum helpers,
 * background migrations) throw there; callers check `engine`.
 */
@Injectable()
export class DatabaseService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Database');
  private opened: OpenedDatabase | undefined;
  private pool: Pool | undefined;
  private store?: IngestStore;
  private singleWriter?: SqliteBatchWriter;
  private maintenance?: MaintenanceRepository;
  /** Wait and hold on the writer per component (ingestor-spec §6.4), for the stats file and /metrics. */
  readonly writerPerf: WriterPerf;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.writerPerf = new WriterPerf(config.slowWriterMs, (line) => this.logger.warn(line));
  }

  /** `sqlite` or `postgres` (db.engine). */
  get engine(): 'sqlite' | 'postgres' {
    return this.config.db.engine;
  }

  async onModuleInit(): Promise<void> {
    if (this.engine === 'postgres') return this.openPostgres(this.config.db.url ?? '');
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

  private async openPostgres(url: string): Promise<void> {
    try {
      this.pool = await openPostgresPool(url, { log: (line) => this.logger.warn(line) });
      const report = await migratePostgres(this.pool, (line) => this.logger.log(line));
      this.logger.log(`PostgreSQL opened: ${maskDatabaseUrl(url)} (migrations applied now: ${report.applied.length})`);
    } catch (error) {
      await this.pool?.end().catch(() => undefined);
      this.pool = undefined;
      // The pool's errors are masked already; the URL is masked once more in case a driver repeated it.
      throw new Error(`db: ${maskDatabaseUrl(errorText(error))}`, { cause: error });
    }
  }

  get isOpen(): boolean {
    if (this.engine === 'postgres') return this.pool !== undefined;
    return this.opened !== undefined && this.opened.dataSource.isInitialized;
  }

  /** What the ingest writer commits through, on either engine. */
  get ingestStore(): IngestStore {
    if (this.store) return this.store;
    if (this.engine === 'postgres') {
      if (!this.pool) throw new Error('DatabaseService: the database is not open yet (onModuleInit has not run)');
      this.store = new PostgresIngestStore(this.pool);
    } else {
      this.store = new SqliteIngestStore(this.writer, new SqliteIngestRepository(this.connection));
    }
    return this.store;
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

  /** The maintenance jobs' port on PostgreSQL (each call its own transaction on the pool). */
  get postgresMaintenanceRepository(): AsyncMaintenanceRepository {
    if (this.engine !== 'postgres' || !this.pool) throw new Error('DatabaseService: PostgreSQL-only operation');
    return new PostgresMaintenanceRepository(this.pool);
  }

  /** Maintenance leadership among the replicas on this PostgreSQL database (its own connection; start() it). */
  createLeaderLock(replicaId: string, log: (line: string) => void): MaintenanceLeaderLock {
    if (this.engine !== 'postgres') throw new Error('DatabaseService: PostgreSQL-only operation');
    return new PostgresLeaderLock({ url: this.config.db.url ?? '', replicaId, log });
  }

  /** The maintenance jobs' port, on the single writer. */
  get maintenanceRepository(): MaintenanceRepository {
    this.maintenance ??= new SqliteMaintenanceRepository(this.connection, this.writer);
    return this.maintenance;
  }

  /** Readiness: the database answers a trivial query. Throws what the engine threw. */
  async ping(): Promise<void> {
    if (this.engine === 'postgres') {
      if (!this.pool) throw new Error('PostgreSQL pool is not open');
      await this.pool.query('SELECT 1');
      return;
    }
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
    const pool = this.pool;
    this.pool = undefined;
    await pool?.end();
  }

  private requireOpened(): OpenedDatabase {
    if (this.engine === 'postgres') throw new Error('DatabaseService: SQLite-only operation on the PostgreSQL engine');
    if (!this.opened) throw new Error('DatabaseService: the database is not open yet (onModuleInit has not run)');
    return this.opened;
  }
}
