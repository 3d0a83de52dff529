import Database from 'better-sqlite3';
import type BetterSqlite3 from 'better-sqlite3';
import type { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateSchema } from '../sqlite/migrations';
import { openPostgresPool } from '../postgres/postgres-connection';
import { migratePostgres } from '../postgres/postgres-migrations';
import { POSTGRES_TABLES, type PostgresTableName } from '../postgres/postgres-schema';
import { createTestDatabase, type TestDatabase } from '../postgres/testing/postgres-test-database';
import { dumpPostgres, dumpSqlite, type CanonicalDump } from './canonical-dump';

type FixtureValue = string | number | null;

interface FixtureRow {
  readonly table: PostgresTableName;
  /** Observations name their transmission by `transmission_hash` and their observer by `observer_id`. */
  readonly values: Readonly<Record<string, FixtureValue>>;
}

/** A row in every table, with integers, doubles (negative, fractional), NULLs and both defaults in play. */
const FIXTURE: readonly FixtureRow[] = [
  {
    table: 'nodes',
    values: { public_key: 'aa01', name: 'Alpha', role: 'repeater', lat: 52.1, lon: -0.5, advert_count: 3 },
  },
  { table: 'nodes', values: { public_key: 'aa02', name: null, battery_mv: 4100, temperature_c: -3.25, multibyte_sup: 1 } },
  { table: 'inactive_nodes', values: { public_key: 'bb01', name: 'Old', last_seen: '2024-01-01T00:00:00Z' } },
  { table: 'observers', values: { id: 'obs-a', name: 'Observer A', iata: 'LHR', packet_count: 7, noise_floor: -112.5 } },
  { table: 'observers', values: { id: 'obs-b', name: 'Observer B', uptime_secs: 86_400, inactive: 1 } },
  {
    table: 'transmissions',
    values: {
      raw_hex: '1100',
      hash: 'h-one',
      first_seen: '2025-01-02T03:04:05Z',
      payload_type: 4,
      last_seen: 1_735_787_045,
      created_at: '2025-01-02 03:04:05',
    },
  },
  {
    table: 'transmissions',
    values: { raw_hex: '1500', hash: 'h-two', first_seen: '2025-01-02T03:05:00Z', payload_type: 5, channel_hash: 'Public' },
  },
  {
    table: 'observations',
    values: {
      transmission_hash: 'h-one',
      observer_id: 'obs-a',
      snr: 7.5,
      rssi: -80,
      score: 1,
      path_json: '["aa"]',
      timestamp: 1_735_787_045,
    },
  },
  {
    table: 'observations',
    values: { transmission_hash: 'h-one', observer_id: 'obs-b', snr: -2, rssi: -101, timestamp: 1_735_787_046 },
  },
  {
    table: 'observations',
    values: { transmission_hash: 'h-two', observer_id: null, snr: 0, timestamp: 1_735_787_100, raw_hex: '1500ff' },
  },
  {
    table: 'observer_metrics',
    values: { observer_id: 'obs-a', timestamp: '2025-01-02T03:00:00Z', noise_floor: -110.25, packets_sent: 99 },
  },
  { table: 'neighbor_edges', values: { node_a: 'aa01', node_b: 'aa02', count: 4, last_seen: '2025-01-02T03:04:05Z' } },
  { table: 'dropped_packets', values: { hash: 'h-bad', raw_hex: '12', reason: 'signature', observer_id: 'obs-a' } },
  {
    table: 'client_receptions',
    values: {
      rx_pubkey: 'cc01',
      heard_key: 'aa01',
      heard_keylen: 32,
      rssi: -90,
      snr: 4.75,
      lat: 51.5,
      lon: -0.125,
      rx_at: '2025-01-02T03:04:05Z',
      ingested_at: '2025-01-02T03:04:06Z',
      src: 'app',
    },
  },
  { table: 'client_observers', values: { pubkey: 'cc01', name: 'Phone', last_seen: '2025-01-02T03:04:05Z' } },
];

interface InsertOptions {
  /** Each table's rows in reverse order. */
  readonly reversed?: boolean;
  /** Burn ids first (insert and delete), so every surrogate id differs from an unshifted database's. */
  readonly shiftIds?: boolean;
  /** Values that differ from the fixture, by `table.column` of the nth row of that table. */
  readonly overrides?: Readonly<Record<string, FixtureValue>>;
}

type Execute = (sql: string, values: FixtureValue[]) => Promise<void> | void;

/** INSERT text for both engines: `placeholder(n)` is `?` for SQLite, `$n` for PostgreSQL. */
function insertStatement(row: FixtureRow, placeholder: (n: number) => string): { sql: string; values: FixtureValue[] } {
  const columns: string[] = [];
  const expressions: string[] = [];
  const values: FixtureValue[] = [];
  for (const [column, value] of Object.entries(row.values)) {
    values.push(value);
    const parameter = placeholder(values.length);
    if (row.table === 'observations' && column === 'transmission_hash') {
      columns.push('transmission_id');
      expressions.push(`(SELECT id FROM transmissions WHERE hash = ${parameter})`);
    } else if (row.table === 'observations' && column === 'observer_id') {
      columns.push('observer_idx');
      expressions.push(`(SELECT rowid FROM observers WHERE id = ${parameter})`);
    } else {
      columns.push(column);
      expressions.push(parameter);
    }
  }
  return { sql: `INSERT INTO ${row.table} (${columns.join(', ')}) VALUES (${expressions.join(', ')})`, values };
}

async function insertFixture(execute: Execute, placeholder: (n: number) => string, options: InsertOptions = {}) {
  if (options.shiftIds) {
    for (const table of ['transmissions', 'observers', 'dropped_packets', 'client_receptions'] as const) {
      const burner = FIXTURE.find((row) => row.table === table);
      if (!burner) continue;
      for (let i = 0; i < 3; i += 1) {
        const { sql, values } = insertStatement(burner, placeholder);
        await execute(sql, values);
        await execute(`DELETE FROM ${table}`, []);
      }
    }
  }
  for (const table of POSTGRES_TABLES) {
    const rows = FIXTURE.filter((row) => row.table === table).map((row, nth) => {
      const values = { ...row.values };
      for (const [key, value] of Object.entries(options.overrides ?? {})) {
        const [overrideTable, column, overrideNth] = key.split('.');
        if (overrideTable === table && Number(overrideNth) === nth) values[column] = value;
      }
      return { table, values };
    });
    if (options.reversed) rows.reverse();
    for (const row of rows) {
      const { sql, values } = insertStatement(row, placeholder);
      await execute(sql, values);
    }
  }
}

async function sqliteWithFixture(options: InsertOptions = {}): Promise<BetterSqlite3.Database> {
  const db = new Database(':memory:');
  migrateSchema(db);
  await insertFixture((sql, values) => void db.prepare(sql).run(...values), () => '?', options);
  return db;
}

describe('canonical dump', () => {
  const opened: BetterSqlite3.Database[] = [];
  const sqlite = async (options?: InsertOptions) => {
    const db = await sqliteWithFixture(options);
    opened.push(db);
    return db;
  };

  afterAll(() => {
    for (const db of opened) db.close();
  });

  it('has every table, each row once, without surrogate ids and with natural keys for references', async () => {
    const dump = dumpSqlite(await sqlite());
    expect(Object.keys(dump)).toEqual([...POSTGRES_TABLES]);
    for (const table of POSTGRES_TABLES) {
      expect(dump[table].length, table).toBe(FIXTURE.filter((row) => row.table === table).length);
    }
    expect(dump.transmissions[0]).not.toHaveProperty('id');
    expect(dump.observations.map(({ transmission_hash, observer_id }) => [transmission_hash, observer_id])).toEqual([
      ['h-one', 'obs-a'],
      ['h-one', 'obs-b'],
      ['h-two', null],
    ]);
    for (const row of dump.observations) {
      expect(Object.keys(row)).not.toEqual(expect.arrayContaining(['id']));
      expect(row).not.toHaveProperty('transmission_id');
      expect(row).not.toHaveProperty('observer_idx');
    }
  });

  it('two SQLite databases with the same rows inserted in another order, with other ids, dump equal', async () => {
    const first = await sqlite();
    const second = await sqlite({ reversed: true, shiftIds: true });
    const ids = (db: BetterSqlite3.Database) => db.prepare(`SELECT id FROM transmissions ORDER BY hash`).pluck().all();
    expect(ids(second)).not.toEqual(ids(first));
    const observerIdx = (db: BetterSqlite3.Database) =>
      db.prepare(`SELECT observer_idx FROM observations ORDER BY timestamp`).pluck().all();
    expect(observerIdx(second)).not.toEqual(observerIdx(first));
    expect(dumpSqlite(second)).toEqual(dumpSqlite(first));
  });

  it.each([
    ['a plain value', { 'nodes.name.0': 'Alfa' }],
    ['a double', { 'observations.snr.1': -2.5 }],
    ['NULL for a value', { 'client_receptions.rssi.0': null }],
    ["an observation's observer", { 'observations.observer_id.1': 'obs-a' }],
    ["an observation's transmission", { 'observations.transmission_hash.0': 'h-two' }],
  ])('a changed value dumps different: %s', async (_case, overrides) => {
    expect(dumpSqlite(await sqlite({ overrides }))).not.toEqual(dumpSqlite(await sqlite()));
  });

  it('reduces the wall-clock defaults to their shape unless asked to keep them', async () => {
    const db = await sqlite();
    expect(dumpSqlite(db).dropped_packets[0].dropped_at).toBe('YYYY-MM-DD HH:MM:SS');
    expect(dumpSqlite(db, { keepWallClock: true }).dropped_packets[0].dropped_at).toMatch(
      /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/,
    );
    // Written by the fixture in the same shape: masked too; another shape would be kept.
    const createdAt = dumpSqlite(db).transmissions.map((row) => row.created_at);
    expect(createdAt).toEqual(['YYYY-MM-DD HH:MM:SS', 'YYYY-MM-DD HH:MM:SS']);
    db.prepare(`UPDATE transmissions SET created_at = '2025-01-02T03:04:05Z'`).run();
    expect(dumpSqlite(db).transmissions.map((row) => row.created_at)).toEqual(Array(2).fill('2025-01-02T03:04:05Z'));
  });

  describe('SQLite against PostgreSQL', () => {
    let database: TestDatabase;
    let pool: Pool;
    let expected: CanonicalDump;

    beforeAll(async () => {
      database = await createTestDatabase();
      pool = await openPostgresPool(database.url);
      await migratePostgres(pool);
      await insertFixture(
        async (sql, values) => void (await pool.query(sql, values)),
        (n) => `$${n}`,
        { reversed: true, shiftIds: true },
      );
      expected = dumpSqlite(await sqlite());
    });

    afterAll(async () => {
      await pool?.end();
      await database?.drop();
    });

    it('the same rows dump equal: bigints, doubles, rowid references, engine-only columns', async () => {
      expect(await dumpPostgres(pool)).toEqual(expected);
    });

    it('a changed value on the PostgreSQL side dumps different', async () => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query(`UPDATE observers SET packet_count = packet_count + 1 WHERE id = 'obs-a'`);
        expect(await dumpPostgres(client)).not.toEqual(expected);
      } finally {
        await client.query('ROLLBACK');
        client.release();
      }
      expect(await dumpPostgres(pool)).toEqual(expected);
    });
  });
});
