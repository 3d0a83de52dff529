export { PersistenceModule } from './persistence.module';
export { DatabaseService } from './database.service';
export {
  openDatabase,
  createDataSource,
  rawConnectionOf,
  SQLITE_BUSY_TIMEOUT_MS,
  SQLITE_SYNCHRONOUS_MODE,
  type OpenDatabaseOptions,
  type OpenedDatabase,
} from './sqlite/open-database';
export {
  AsyncMigrationRunner,
  BackgroundJobCancelledError,
  type AsyncMigrationRecord,
  type AsyncMigrationStatus,
  type BackgroundJob,
  type BackgroundJobContext,
  type BackgroundJobOutcome,
} from './sqlite/async-migration-runner';
export {
  backfillDefaultScope,
  startDefaultScopeBackfill,
  startBootBackgroundJobs,
  DEFAULT_SCOPE_BACKFILL_MARKER,
  PATH_JSON_BACKFILL_MARKER,
  type DefaultScopeBackfillResult,
} from './sqlite/background-jobs';
export { hopsFromRawHex } from './sqlite/raw-hex-hops';
export { migrateSchema, findMissingServerSchema, SchemaMigrationError, type MigrationReport } from './sqlite/migrations';
export { checkAutoVacuum, checkpointWal, runIncrementalVacuum } from './sqlite/sqlite-maintenance';
