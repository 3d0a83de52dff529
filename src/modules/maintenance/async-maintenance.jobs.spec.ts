/**
 * The maintenance jobs on PostgreSQL leave the same rows as the SQLite jobs: both databases get the parity
 * message set (corpus, status, adverts, companion and client rows), then each job runs on both with the same
 * clock (its cutoff in the middle of the stored timeline) and small chunks, and the canonical dumps are compared
 * after every job. The neighbor builder's edges are compared too, and a prune stops between chunks when asked.
 */
import type { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NOW, pipelineHarness, type PipelineHarness } from '../ingest/pipeline/pipeline.test-support';
import { openPostgresPool } from '../persistence/postgres/postgres-connection';
import { PostgresMaintenanceRepository } from '../persistence/postgres/postgres-maintenance.repository';
import { migratePostgres } from '../persistence/postgres/postgres-migrations';
import { PARITY_BATCH, PARITY_CONFIG, parityMessages, PostgresRun } from '../persistence/postgres/testing/postgres-pipeline-run';
import { createTestDatabase, type TestDatabase } from '../persistence/postgres/testing/postgres-test-database';
import { SqliteMaintenanceRepository } from '../persistence/sqlite/sqlite-maintenance.repository';
import { dumpPostgres, dumpSqlite } from '../persistence/testing/canonical-dump';
import { JobStoppedError, runToCompletion } from './chunked-job.runner';
import { DAY_MS } from './go-time-text';
import { NeighborEdgesBuilder } from './neighbor-edges.builder';
import { AsyncMaintenanceJobs } from './async-maintenance.jobs';
import { RetentionJobs, type RowTally } from './retention.jobs';

/** One day after the middle of the first pass (when every transmission is first seen): a 1-day retention cuts it in two. */
const CLOCK = NOW + DAY_MS + 240_000;
const CUTOFF = new Date(CLOCK - DAY_MS).toISOString().replace('.000Z', 'Z');
const CHUNK = 7;

describe('maintenance jobs on PostgreSQL: the same rows as on SQLite', () => {
  let sqlite: PipelineHarness;
  let database: TestDatabase;
  let pool: Pool;
  let sqliteJobs: RetentionJobs;
  let postgresJobs: AsyncMaintenanceJobs;
  const logs: { sqlite: string[]; postgres: string[] } = { sqlite: [], postgres: [] };

  beforeAll(async () => {
    const messages = parityMessages();
    sqlite = await pipelineHarness({ config: PARITY_CONFIG });
    sqlite.sendAll(messages, PARITY_BATCH);
    database = await createTestDatabase();
    pool = await openPostgresPool(database.url);
    await migratePostgres(pool, () => undefined);
    await new PostgresRun(pool, sqlite).sendAll(messages, PARITY_BATCH);
    sqliteJobs = sqliteJobsAt(CLOCK);
    postgresJobs = postgresJobsAt(CLOCK);
  }, 120_000);

  function sqliteJobsAt(clock: number): RetentionJobs {
    return new RetentionJobs(new SqliteMaintenanceRepository(sqlite.db), {
      log: (line) => logs.sqlite.push(line),
      deleteChunkRows: CHUNK,
      incrementalVacuumPages: 16,
      now: () => clock,
    });
  }

  function postgresJobsAt(clock: number): AsyncMaintenanceJobs {
    return new AsyncMaintenanceJobs(new PostgresMaintenanceRepository(pool), { log: (line) => logs.postgres.push(line), deleteChunkRows: () => CHUNK, now: () => clock });
  }

  afterAll(async () => {
    await pool?.end();
    await database?.drop();
    await sqlite?.close();
  });

  async function expectSameRows(): Promise<void> {
    const expected = dumpSqlite(sqlite.db);
    const actual = await dumpPostgres(pool);
    for (const table of Object.keys(expected)) expect(actual[table], table).toEqual(expected[table]);
  }

  it('starts from the same rows, with old and recent data on both sides of the cutoff', async () => {
    await expectSameRows();
    expect(sqlite.count('observer_metrics', "observer_id = 'EARLYBIRD'")).toBeGreaterThan(0);
    expect(sqlite.count('transmissions', 'first_seen < ?', CUTOFF)).toBeGreaterThan(100);
    expect(sqlite.count('transmissions', 'first_seen >= ?', CUTOFF)).toBeGreaterThan(100);
  });

  it.each([
    // Nodes are heard again in the second pass: their cutoff sits later, between the two passes' last adverts.
    ['MoveStaleNodes', () => sqliteJobsAt(CLOCK + 480_000).moveStaleNodes(1), () => postgresJobsAt(CLOCK + 480_000).moveStaleNodes(1)],
    ['RemoveStaleObservers', () => sqliteJobs.removeStaleObservers(1), () => postgresJobs.removeStaleObservers(1)],
    ['PruneOldMetrics', () => runToCompletion(sqliteJobs.pruneOldMetrics(1)), () => postgresJobs.pruneOldMetrics(1)],
    ['PruneDroppedPackets', () => runToCompletion(sqliteJobs.pruneDroppedPackets(1)), () => postgresJobs.pruneDroppedPackets(1)],
    ['PruneOldPackets', () => runToCompletion(sqliteJobs.pruneOldPackets(1)), () => postgresJobs.pruneOldPackets(1)],
    ['PruneOldClientReceptions', () => runToCompletion(sqliteJobs.pruneOldClientReceptions(1)), () => postgresJobs.pruneOldClientReceptions(1)],
  ] as const)('%s: same count, same log line, same rows', async (_name, onSqlite, onPostgres) => {
    logs.sqlite.length = 0;
    logs.postgres.length = 0;
    const counted = onSqlite();
    expect(await onPostgres()).toBe(counted);
    expect(logs.postgres).toEqual(logs.sqlite);
    await expectSameRows();
  });

  it('the retention runs above really removed rows (the comparison is not of two untouched databases)', () => {
    expect(sqlite.count('inactive_nodes'), 'inactive_nodes').toBeGreaterThan(0);
    expect(sqlite.count('nodes'), 'active nodes').toBeGreaterThan(0);
    expect(sqlite.count('observers', 'inactive = 1'), 'inactive observers').toBeGreaterThan(0);
    // RemoveStaleObservers took the metrics of the inactive observers with it.
    expect(sqlite.count('observer_metrics', "observer_id = 'EARLYBIRD'"), 'metrics of an inactive observer').toBe(0);
    expect(sqlite.count('observer_metrics'), 'metrics of active observers').toBeGreaterThan(0);
    expect(sqlite.count('transmissions', 'first_seen < ?', CUTOFF)).toBe(0);
    expect(sqlite.count('transmissions')).toBeGreaterThan(100);
  });

  it('the neighbor builder finds the same edges; pruning them removes the same rows', async () => {
    const sqliteBuilder = new NeighborEdgesBuilder(new SqliteMaintenanceRepository(sqlite.db));
    let built = 0;
    for (let edges = sqliteBuilder.build(); edges > 0; edges = sqliteBuilder.build()) built += edges;
    let postgresBuilt = 0;
    for (let edges = await postgresJobs.buildNeighborEdges(); edges > 0; edges = await postgresJobs.buildNeighborEdges()) postgresBuilt += edges;
    expect(postgresBuilt).toBe(built);
    expect(sqlite.count('neighbor_edges')).toBeGreaterThan(0);
    await expectSameRows();
    const tally: RowTally = { rows: 0 };
    expect(await postgresJobs.pruneNeighborEdges(1, tally)).toBe(runToCompletion(sqliteJobs.pruneNeighborEdges(1)));
    await expectSameRows();
  });

  it('a chunked prune stops between chunks when asked, keeping what it committed', async () => {
    const before = Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM observer_metrics')).rows[0].n);
    let chunks = 0;
    const stopAfterTwo = { shouldStop: () => ++chunks >= 2 };
    const everything = 400; // days: every metric row is older than that cutoff once the clock is far enough
    const farJobs = new AsyncMaintenanceJobs(new PostgresMaintenanceRepository(pool), { log: () => undefined, deleteChunkRows: () => 1, now: () => CLOCK + everything * DAY_MS });
    await expect(farJobs.pruneOldMetrics(1, undefined, stopAfterTwo)).rejects.toBeInstanceOf(JobStoppedError);
    const after = Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM observer_metrics')).rows[0].n);
    expect(before - after).toBe(2);
  });
});
