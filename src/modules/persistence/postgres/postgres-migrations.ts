import { Pool, type ClientBase } from 'pg';
import { SchemaMigrationError, type MigrationLog } from '../sqlite/migrations';
import { postgresSchemaStatements } from './postgres-schema';
import type { PostgresQueryable } from './postgres-connection';

/**
 * Schema migrations of the PostgreSQL engine: an ordered list of named steps, each applied once, in its own
 * transaction together with its `_migrations` row, so a crash never leaves a step half-done yet recorded.
 *
 * Several replicas may start at once. Every transaction here first takes a transaction-level advisory lock, so
 * they queue: the first applies a step, the others then find it recorded and skip it. A transaction-level lock
 * (not a session one) is released by COMMIT, ROLLBACK or a dropped connection, so it cannot outlive the run on
 * a pooled connection.
 */

/** Advisory lock key of the migration run; other advisory locks of this project must use other keys. */
export const POSTGRES_MIGRATION_LOCK_KEY = 7_036_152_849_113_001;

export interface PostgresMigration {
  /** Row in `_migrations`. */
  readonly name: string;
  readonly summary: string;
  run(client: ClientBase): Promise<void>;
}

export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = [
  {
    name: 'schema_v3',
    summary: 'create the v3 CoreScope tables and indexes',
    async run(client) {
      for (const statement of postgresSchemaStatements()) await client.query(statement);
    },
  },
];

export const POSTGRES_MIGRATIONS_TABLE_DDL = `CREATE TABLE IF NOT EXISTS _migrations (
    name text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
)`;

export interface PostgresMigrationReport {
  /** Steps applied by this run, in order (empty on an up-to-date database). */
  readonly applied: string[];
}

/**
 * Brings the database to the latest schema. Given a pool, it uses one connection of it for the whole run; a
 * client passed in must not be inside a transaction.
 */
export async function migratePostgres(
  target: PostgresQueryable,
  log: MigrationLog = () => {},
): Promise<PostgresMigrationReport> {
  if (!(target instanceof Pool)) return migrateOn(target, log);
  const client = await target.connect();
  let failure: Error | undefined;
  try {
    return await migrateOn(client, log);
  } catch (error) {
    failure = error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    // A connection whose run failed may be mid-transaction or broken: the pool discards it.
    client.release(failure);
  }
}

async function migrateOn(client: ClientBase, log: MigrationLog): Promise<PostgresMigrationReport> {
  try {
    await inLockedTransaction(client, () => client.query(POSTGRES_MIGRATIONS_TABLE_DDL));
  } catch (error) {
    throw new SchemaMigrationError('_migrations', error);
  }

  const applied: string[] = [];
  for (const migration of POSTGRES_MIGRATIONS) {
    let ran: boolean;
    try {
      ran = await inLockedTransaction(client, async () => {
        // Checked under the lock: a replica that held it before us may have applied the step meanwhile.
        const recorded = await client.query(`SELECT 1 FROM _migrations WHERE name = $1`, [migration.name]);
        if (recorded.rowCount !== 0) return false;
        log(`[migration] ${migration.name}: ${migration.summary}`);
        await migration.run(client);
        await client.query(`INSERT INTO _migrations (name) VALUES ($1)`, [migration.name]);
        return true;
      });
    } catch (error) {
      throw new SchemaMigrationError(migration.name, error);
    }
    if (ran) applied.push(migration.name);
  }
  return { applied };
}

async function inLockedTransaction<T>(client: ClientBase, work: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    await client.query(`SELECT pg_advisory_xact_lock($1)`, [POSTGRES_MIGRATION_LOCK_KEY]);
    const result = await work();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    // The original error is what matters; a ROLLBACK on a dead connection fails too.
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}
