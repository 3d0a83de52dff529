/**
 * Same messages, same rows: the real-packet corpus (twice, the second pass from other observers), observer
 * status messages with metadata and metrics, adverts (valid, foreign-signed, tampered → dropped_packets),
 * companion-bridge text and client receptions go through the real pipeline into SQLite (its batch writer)
 * and into PostgreSQL (the unit-of-work writer), in the same batches; both databases are dumped to canonical
 * JSON (surrogate ids replaced by natural keys) and compared table by table. Also: the same messages in other
 * batch sizes give the same PostgreSQL rows, a message whose writes fail is skipped alone, two writers storing
 * the same advert at the same moment leave one transmission with one advert count, and the same message stored
 * twice (a redelivery, or two replicas without a share group) is counted once in observers.packet_count.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  advertHex,
  identity,
  NOW,
  packetTopic,
  pipelineHarness,
  uniquePacket,
  type HarnessMessage,
  type PipelineHarness,
} from '../../ingest/pipeline/pipeline.test-support';
import { dumpPostgres, dumpSqlite } from '../testing/canonical-dump';
import { openPostgresPool } from './postgres-connection';
import { migratePostgres } from './postgres-migrations';
import { PARITY_BATCH, PARITY_CONFIG, parityMessages, PostgresRun } from './testing/postgres-pipeline-run';
import { createTestDatabase, type TestDatabase } from './testing/postgres-test-database';

describe('PostgreSQL engine: the same rows as SQLite', () => {
  const all = parityMessages();
  let sqlite: PipelineHarness;
  let database: TestDatabase;
  let pool: Pool;

  beforeAll(async () => {
    sqlite = await pipelineHarness({ config: PARITY_CONFIG });
    sqlite.sendAll(all, PARITY_BATCH);
    database = await createTestDatabase();
    pool = await openPostgresPool(database.url);
    await migratePostgres(pool, () => undefined);
    await new PostgresRun(pool, sqlite).sendAll(all, PARITY_BATCH);
  }, 120_000);

  afterAll(async () => {
    await pool?.end();
    await database?.drop();
    await sqlite?.close();
  });

  it('every table holds the same rows (ids aside)', async () => {
    const expected = dumpSqlite(sqlite.db);
    const actual = await dumpPostgres(pool);
    // The run wrote every kind of row: otherwise an empty table on both sides would pass.
    for (const table of ['transmissions', 'observations', 'observers', 'nodes', 'observer_metrics', 'dropped_packets', 'client_receptions']) {
      expect(expected[table]?.length ?? 0, table).toBeGreaterThan(0);
    }
    const nodes = expected.nodes ?? [];
    expect(nodes.some((n) => n.foreign_advert === 1)).toBe(true);
    expect(nodes.some((n) => n.battery_mv !== null && n.temperature_c !== null)).toBe(true);
    expect(nodes.some((n) => n.default_scope !== null)).toBe(true);
    expect(nodes.some((n) => Number(n.advert_count) > 1)).toBe(true);
    expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
    // Every table that differs named at once, then the first difference in full.
    const differing = Object.keys(expected).filter((table) => !isDeepStrictEqual(actual[table], expected[table]));
    expect(differing).toEqual([]);
    for (const table of Object.keys(expected)) expect(actual[table], table).toEqual(expected[table]);
  });

  it('other batch sizes (1 and 500) give the same rows', async () => {
    for (const size of [1, 500]) {
      const other = await createTestDatabase();
      const otherPool = await openPostgresPool(other.url);
      try {
        await migratePostgres(otherPool, () => undefined);
        await new PostgresRun(otherPool, sqlite).sendAll(all, size);
        expect(await dumpPostgres(otherPool), `batch size ${size}`).toEqual(await dumpPostgres(pool));
      } finally {
        await otherPool.end();
        await other.drop();
      }
    }
  }, 120_000);
});

describe('PostgreSQL writer: failures and concurrent writers', () => {
  let harness: PipelineHarness;
  let database: TestDatabase;
  let pool: Pool;

  beforeAll(async () => {
    harness = await pipelineHarness({ config: PARITY_CONFIG });
    database = await createTestDatabase();
    pool = await openPostgresPool(database.url);
    await migratePostgres(pool, () => undefined);
  });

  afterAll(async () => {
    await pool?.end();
    await database?.drop();
    await harness?.close();
  });

  it('a message whose writes fail is skipped alone; the rest of its batch is stored', async () => {
    const run = new PostgresRun(pool, harness);
    const real = run.repository.insertTransmission.bind(run.repository);
    const poison = 'poison-raw-hex';
    // A value PostgreSQL refuses (a NUL byte in text), only for one message: a data error, not infrastructure.
    run.repository.insertTransmission = (row) => real(row.rawHex === poison ? { ...row, rawHex: 'bad\u0000' } : row);
    const batch: HarnessMessage[] = [1, 2, 3].map((n) => ({ topic: packetTopic(`fail-${n}`), payload: { raw: uniquePacket(700 + n) }, nowMs: NOW + n }));
    const poisoned = run.pipeline.preparer.prepare.bind(run.pipeline.preparer);
    run.pipeline.preparer.prepare = (message) => {
      const prepared = poisoned(message);
      if (message.topic === packetTopic('fail-2') && prepared.kind === 'packet') return { ...prepared, rawHex: poison };
      return prepared;
    };
    await run.batch(batch);
    expect(run.failed).toEqual([packetTopic('fail-2')]);
    const { rows } = await pool.query<{ id: string }>("SELECT id FROM observers WHERE id LIKE 'fail-%' ORDER BY id");
    expect(rows.map((r) => r.id)).toEqual(['fail-1', 'fail-3']);
  });

  it('a redelivered message (same observer, packet and path) updates its observation and counts once; SQLite counts it twice', async () => {
    const again: HarnessMessage[] = [
      { topic: packetTopic('redelivered'), payload: { raw: uniquePacket(801), SNR: 1.5 }, nowMs: NOW },
      { topic: packetTopic('redelivered'), payload: { raw: uniquePacket(801), SNR: 2.5, RSSI: -70 }, nowMs: NOW + 1000 },
    ];
    const run = new PostgresRun(pool, harness);
    await run.batch(again.slice(0, 1));
    await run.batch(again.slice(1)); // another batch: the conflict is the database's, not the batch's merge
    await run.batch(again.slice(1)); // and once more in the same batch as nothing else
    const { rows } = await pool.query<{ packet_count: string; snr: number; rssi: number }>(
      `SELECT o.packet_count, b.snr, b.rssi FROM observers o JOIN observations b ON b.observer_idx = o.rowid WHERE o.id = 'redelivered'`,
    );
    expect(rows.map((r) => [Number(r.packet_count), r.snr, r.rssi])).toEqual([[1, 2.5, -70]]);
    harness.sendAll(again, 1);
    harness.sendAll(again.slice(1), 1);
    expect(harness.value("SELECT packet_count FROM observers WHERE id = 'redelivered'")).toBe(3);
  });

  /** Two writers (replicas) that have both looked the hash up before either inserts: the race the unique keys settle. */
  async function race(first: HarnessMessage[], second: HarnessMessage[]): Promise<void> {
    const a = new PostgresRun(pool, harness);
    const b = new PostgresRun(pool, harness);
    let arrived = 0;
    let release!: () => void;
    const bothPrefetched = new Promise<void>((resolve) => (release = resolve));
    for (const run of [a, b]) {
      const prefetch = run.repository.prefetch.bind(run.repository);
      run.repository.prefetch = async (client, keys) => {
        await prefetch(client, keys);
        if (++arrived === 2) release();
        await bothPrefetched;
      };
    }
    await Promise.all([a.batch(first), b.batch(second)]);
    expect(arrived).toBe(2);
  }

  it('two writers storing the same advert from two observers at once: one transmission, both observations, advert_count 1', async () => {
    const advert = advertHex(identity(31), { nodeType: 2, name: 'Twice' });
    const batchFor = (observer: string): HarnessMessage[] => [{ topic: packetTopic(observer), payload: { raw: advert, origin: observer }, nowMs: NOW }];
    await race(batchFor('twin-a'), batchFor('twin-b'));
    const { rows: tx } = await pool.query<{ id: string }>("SELECT id FROM transmissions WHERE decoded_json LIKE '%Twice%'");
    expect(tx).toHaveLength(1);
    const { rows: obs } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM observations WHERE transmission_id = $1', [tx[0].id]);
    expect(Number(obs[0].n)).toBe(2);
    const { rows: node } = await pool.query<{ advert_count: string }>("SELECT advert_count FROM nodes WHERE name = 'Twice'");
    expect(node.map((r) => Number(r.advert_count))).toEqual([1]);
  });

  it('two writers storing the same message at once (replicas without a share group): one observation, packet_count 1', async () => {
    const message: HarnessMessage[] = [{ topic: packetTopic('both-see-it'), payload: { raw: uniquePacket(802) }, nowMs: NOW }];
    await race(message, message);
    const { rows } = await pool.query<{ packet_count: string; n: string }>(
      `SELECT o.packet_count, (SELECT count(*) FROM observations b WHERE b.observer_idx = o.rowid) AS n FROM observers o WHERE o.id = 'both-see-it'`,
    );
    expect(rows.map((r) => [Number(r.packet_count), Number(r.n)])).toEqual([[1, 1]]);
  });
});
