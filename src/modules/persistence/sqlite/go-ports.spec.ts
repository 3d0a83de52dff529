import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PATH_JSON_BACKFILL_MARKER } from './background-jobs';
import { openDatabase, type OpenedDatabase } from './open-database';
import { tableColumns, tableHasColumn } from './sqlite-introspection';
import { migrationMarkers, openPlain, scalar, TempDirs } from './testing/sqlite-test-helpers';

/** Ports of the CoreScope ingestor's database tests (cmd/ingestor/db_test.go and friends). */

const tempDirs = new TempDirs();
const toClose: OpenedDatabase[] = [];

afterEach(async () => {
  for (const opened of toClose.splice(0)) await opened.close();
  await tempDirs.removeAll();
});

async function tempDbPath(name = 'test.db'): Promise<string> {
  return path.join(await tempDirs.create(), name);
}

async function open(dbPath: string, logLines?: string[]): Promise<OpenedDatabase> {
  const opened = await openDatabase(dbPath, logLines ? { logger: (line) => logLines.push(line) } : {});
  toClose.push(opened);
  return opened;
}

function objectType(opened: OpenedDatabase, name: string): string | undefined {
  return scalar<string | undefined>(opened.connection, `SELECT type FROM sqlite_master WHERE name = ?`, name);
}

/** The pre-telemetry base tables, as the oldest CoreScope ingestor created them. */
const OLD_NODES_DDL = `
  CREATE TABLE nodes (public_key TEXT PRIMARY KEY, name TEXT, role TEXT, lat REAL, lon REAL,
                      last_seen TEXT, first_seen TEXT, advert_count INTEGER DEFAULT 0);
  CREATE TABLE inactive_nodes (public_key TEXT PRIMARY KEY, name TEXT, role TEXT, lat REAL, lon REAL,
                      last_seen TEXT, first_seen TEXT, advert_count INTEGER DEFAULT 0);`;
const OLD_TRANSMISSIONS_DDL = `
  CREATE TABLE transmissions (id INTEGER PRIMARY KEY AUTOINCREMENT, raw_hex TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,
                      first_seen TEXT NOT NULL, route_type INTEGER, payload_type INTEGER, payload_version INTEGER,
                      decoded_json TEXT, created_at TEXT DEFAULT (datetime('now')));`;
const OLD_OBSERVATIONS_DDL = `
  CREATE TABLE observations (id INTEGER PRIMARY KEY AUTOINCREMENT,
                      transmission_id INTEGER NOT NULL REFERENCES transmissions(id), observer_idx INTEGER,
                      direction TEXT, snr REAL, rssi REAL, score INTEGER, path_json TEXT, timestamp INTEGER NOT NULL);
  CREATE UNIQUE INDEX idx_observations_dedup ON observations(transmission_id, observer_idx, COALESCE(path_json, ''));`;

function buildLegacy(dbPath: string, ddl: string): void {
  const db = openPlain(dbPath);
  db.exec(ddl);
  db.close();
}

describe('TestOpenStore', () => {
  it('creates nodes, observations, observers, transmissions and the packets_v view', async () => {
    const opened = await open(await tempDbPath());
    for (const table of ['nodes', 'observations', 'observers', 'transmissions']) {
      expect(objectType(opened, table), table).toBe('table');
    }
    expect(objectType(opened, 'packets_v')).toBe('view');
  });
});

describe('TestSchemaNoiseFloorIsReal', () => {
  it('stores an integer noise_floor as REAL on a fresh database', async () => {
    const opened = await open(await tempDbPath());
    opened.connection.exec(`INSERT INTO observers (id, noise_floor) VALUES ('obs', -110)`);
    expect(scalar(opened.connection, `SELECT typeof(noise_floor) FROM observers WHERE id = 'obs'`)).toBe('real');
  });

  it('noise_floor_real_v1 casts integer-stored values on a legacy untyped column', async () => {
    const dbPath = await tempDbPath();
    buildLegacy(
      dbPath,
      `CREATE TABLE observers (id TEXT PRIMARY KEY, name TEXT, iata TEXT, last_seen TEXT, first_seen TEXT,
                               packet_count INTEGER DEFAULT 0, model TEXT, firmware TEXT, client_version TEXT,
                               radio TEXT, battery_mv INTEGER, uptime_secs INTEGER, noise_floor);
       INSERT INTO observers (id, noise_floor) VALUES ('obs', -110);`,
    );
    const opened = await open(dbPath);
    expect(opened.connection.prepare(`SELECT typeof(noise_floor) AS t, noise_floor AS v FROM observers`).get()).toEqual({
      t: 'real',
      v: -110,
    });
    expect(migrationMarkers(opened.connection)).toContain('noise_floor_real_v1');
  });
});

describe('TestTelemetryMigrationAddsColumns', () => {
  it('adds battery_mv and temperature_c to nodes and inactive_nodes of an old database', async () => {
    const dbPath = await tempDbPath();
    buildLegacy(dbPath, `${OLD_NODES_DDL} INSERT INTO nodes (public_key, name) VALUES ('${'ab'.repeat(32)}', 'n');`);
    const opened = await open(dbPath);
    for (const table of ['nodes', 'inactive_nodes']) {
      const columns = tableColumns(opened.connection, table);
      expect(columns.find((c) => c.name === 'battery_mv')?.type, table).toBe('INTEGER');
      expect(columns.find((c) => c.name === 'temperature_c')?.type, table).toBe('REAL');
    }
    expect(migrationMarkers(opened.connection)).toContain('node_telemetry_v1');
    opened.connection.exec(`UPDATE nodes SET battery_mv = 3700, temperature_c = 21.5`);
    expect(opened.connection.prepare(`SELECT name, battery_mv, temperature_c FROM nodes`).get()).toEqual({
      name: 'n',
      battery_mv: 3700,
      temperature_c: 21.5,
    });
  });
});

describe('TestObsTimestampIndexMigration', () => {
  it('creates idx_observations_timestamp on a legacy observations table', async () => {
    const dbPath = await tempDbPath();
    buildLegacy(dbPath, `${OLD_TRANSMISSIONS_DDL} ${OLD_OBSERVATIONS_DDL}`);
    const before = openPlain(dbPath);
    expect(before.prepare(`SELECT 1 FROM sqlite_master WHERE name = 'idx_observations_timestamp'`).get()).toBeUndefined();
    before.close();

    const opened = await open(dbPath);
    expect(objectType(opened, 'idx_observations_timestamp')).toBe('index');
    expect(migrationMarkers(opened.connection)).toContain('obs_timestamp_index_v1');
  });
});

describe('TestScopeNameMigration', () => {
  it('adds transmissions.scope_name with its partial index and marker, idempotently', async () => {
    const dbPath = await tempDbPath();
    buildLegacy(
      dbPath,
      `${OLD_TRANSMISSIONS_DDL} INSERT INTO transmissions (raw_hex, hash, first_seen) VALUES ('00', 'h', '2025-01-01T00:00:00Z');`,
    );
    const first = await open(dbPath);
    const scopeName = tableColumns(first.connection, 'transmissions').find((c) => c.name === 'scope_name');
    expect(scopeName).toMatchObject({ type: 'TEXT', dflt_value: 'NULL' });
    expect(scalar(first.connection, `SELECT scope_name FROM transmissions`)).toBeNull();
    expect(scalar(first.connection, `SELECT sql FROM sqlite_master WHERE name = 'idx_tx_scope_name'`)).toMatch(
      /WHERE scope_name IS NOT NULL$/,
    );
    expect(migrationMarkers(first.connection)).toContain('scope_name_v1');
    await first.close();

    const second = await open(dbPath);
    expect(tableColumns(second.connection, 'transmissions').filter((c) => c.name === 'scope_name')).toHaveLength(1);
  });
});

describe('TestBackfillPathJsonFromRawHex', () => {
  it('fills NULL path_json from raw_hex, leaves [] / existing / TRACE rows alone', async () => {
    const dbPath = await tempDbPath();
    const first = await open(dbPath);
    await first.asyncMigrations.whenSettled();
    const db = first.connection;
    const rawHex = '0542AABBCCDD0000000000000000000000000000';
    db.prepare(`INSERT INTO transmissions (raw_hex, hash, first_seen, payload_type) VALUES (?, 'h1', '2025-01-01T00:00:00Z', 1)`).run(rawHex);
    db.prepare(`INSERT INTO observations (transmission_id, timestamp, raw_hex, path_json) VALUES (1, 1000, ?, '[]')`).run(rawHex);
    db.prepare(`INSERT INTO observations (transmission_id, timestamp, raw_hex, path_json) VALUES (1, 1001, ?, NULL)`).run(rawHex);
    db.prepare(`INSERT INTO observations (transmission_id, timestamp, raw_hex, path_json) VALUES (1, 1002, ?, '["XX","YY"]')`).run(rawHex);
    const traceRaw = '2604302D0D2359FEE7B100000000006733D63367';
    db.prepare(`INSERT INTO transmissions (raw_hex, hash, first_seen, payload_type) VALUES (?, 'h2', '2025-01-01T00:00:00Z', 9)`).run(traceRaw);
    db.prepare(`INSERT INTO observations (transmission_id, timestamp, raw_hex, path_json) VALUES (2, 1003, ?, '[]')`).run(traceRaw);
    db.prepare(`INSERT INTO observations (transmission_id, timestamp, raw_hex, path_json) VALUES (2, 1004, ?, NULL)`).run(traceRaw);
    db.prepare(`DELETE FROM _migrations WHERE name = ?`).run(PATH_JSON_BACKFILL_MARKER);
    await first.close();

    const second = await open(dbPath);
    await second.asyncMigrations.whenIdle();
    expect(migrationMarkers(second.connection)).toContain(PATH_JSON_BACKFILL_MARKER);
    expect(second.connection.prepare(`SELECT path_json FROM observations ORDER BY id`).pluck().all()).toEqual([
      '[]',
      '["AABB","CCDD"]',
      '["XX","YY"]',
      '[]',
      null,
    ]);
  });
});

describe('TestBackfillPathJSONAsync', () => {
  it('does not run inside openDatabase; it completes in the background', async () => {
    const dbPath = await tempDbPath('async_test.db');
    buildLegacy(dbPath, `${OLD_TRANSMISSIONS_DDL} ${OLD_OBSERVATIONS_DDL} ALTER TABLE observations ADD COLUMN raw_hex TEXT;`);
    const seed = openPlain(dbPath);
    const rawHex = '41020304AABBCCDD05060708';
    seed.prepare(`INSERT INTO transmissions (raw_hex, hash, first_seen, payload_type) VALUES (?, 'hash1', '2025-01-01T00:00:00Z', 4)`).run(rawHex);
    const insert = seed.prepare(`INSERT INTO observations (transmission_id, observer_idx, timestamp, raw_hex, path_json) VALUES (1, ?, ?, ?, NULL)`);
    for (let i = 0; i < 100; i += 1) insert.run(i + 1, 1_700_000_000 + i, rawHex);
    seed.close();

    const opened = await open(dbPath);
    // openDatabase has returned; the backfill has not had a turn yet.
    expect(migrationMarkers(opened.connection)).not.toContain(PATH_JSON_BACKFILL_MARKER);
    expect(scalar(opened.connection, `SELECT COUNT(*) FROM observations WHERE path_json IS NULL`)).toBe(100);

    await opened.asyncMigrations.whenIdle();
    expect(migrationMarkers(opened.connection)).toContain(PATH_JSON_BACKFILL_MARKER);
    expect(scalar(opened.connection, `SELECT COUNT(*) FROM observations WHERE path_json IS NULL`)).toBe(0);
    expect(scalar(opened.connection, `SELECT DISTINCT path_json FROM observations`)).toBe('["03","04"]');
  });
});

describe('TestBackfillPathJSONAsync_BracketRowsTerminate', () => {
  it("never re-selects '[]' rows, so the loop ends and the marker is written", async () => {
    const dbPath = await tempDbPath('bracket_terminate.db');
    buildLegacy(dbPath, `${OLD_TRANSMISSIONS_DDL} ${OLD_OBSERVATIONS_DDL} ALTER TABLE observations ADD COLUMN raw_hex TEXT;`);
    const seed = openPlain(dbPath);
    const zeroHopRaw = '0100AABBCCDD'; // path byte 0x00: no hops
    seed.prepare(`INSERT INTO transmissions (raw_hex, hash, first_seen, payload_type) VALUES (?, 'h', '2025-01-01T00:00:00Z', 2)`).run(zeroHopRaw);
    const insert = seed.prepare(`INSERT INTO observations (transmission_id, observer_idx, timestamp, raw_hex, path_json) VALUES (1, ?, ?, ?, '[]')`);
    for (let i = 0; i < 50; i += 1) insert.run(i + 1, 1_700_000_000 + i, zeroHopRaw);
    seed.close();

    const opened = await open(dbPath);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('backfill did not terminate')), 5000);
    });
    try {
      await Promise.race([opened.asyncMigrations.whenIdle(), deadline]);
    } finally {
      clearTimeout(timer);
    }
    expect(migrationMarkers(opened.connection)).toContain(PATH_JSON_BACKFILL_MARKER);
    expect(scalar(opened.connection, `SELECT COUNT(*) FROM observations WHERE path_json = '[]'`)).toBe(50);
    expect(opened.asyncMigrations.backfillUpdateCounts()).toEqual({});
  });
});

describe('TestCleanupLegacyNullHashTimestamp', () => {
  it('deletes legacy empty-hash / empty-first_seen packets with their observations, once', async () => {
    const dbPath = await tempDbPath();
    const db = openPlain(dbPath);
    db.exec(`
      CREATE TABLE transmissions (id INTEGER PRIMARY KEY AUTOINCREMENT, raw_hex TEXT NOT NULL, hash TEXT NOT NULL,
        first_seen TEXT NOT NULL, route_type INTEGER, payload_type INTEGER, payload_version INTEGER, decoded_json TEXT,
        created_at TEXT DEFAULT (datetime('now')), channel_hash TEXT DEFAULT NULL);
      CREATE TABLE observations (id INTEGER PRIMARY KEY AUTOINCREMENT,
        transmission_id INTEGER NOT NULL REFERENCES transmissions(id), observer_idx INTEGER, direction TEXT,
        snr REAL, rssi REAL, score INTEGER, path_json TEXT, timestamp INTEGER NOT NULL);
      CREATE TABLE _migrations (name TEXT PRIMARY KEY);
      CREATE TABLE nodes (public_key TEXT PRIMARY KEY, name TEXT, role TEXT, lat REAL, lon REAL, last_seen TEXT,
        first_seen TEXT, advert_count INTEGER DEFAULT 0, battery_mv INTEGER, temperature_c REAL);
      CREATE TABLE observers (id TEXT PRIMARY KEY, name TEXT, iata TEXT, last_seen TEXT, first_seen TEXT,
        packet_count INTEGER DEFAULT 0, model TEXT, firmware TEXT, client_version TEXT, radio TEXT, battery_mv INTEGER,
        uptime_secs INTEGER, noise_floor REAL, inactive INTEGER DEFAULT 0, last_packet_at TEXT DEFAULT NULL);
      INSERT INTO transmissions (id, raw_hex, hash, first_seen) VALUES (1, 'aabb', 'abc123', '2024-01-01T00:00:00Z');
      INSERT INTO observations (transmission_id, observer_idx, timestamp) VALUES (1, 1, 1704067200);
      INSERT INTO transmissions (id, raw_hex, hash, first_seen) VALUES (2, 'ccdd', '', '2024-01-01T00:00:00Z');
      INSERT INTO observations (transmission_id, observer_idx, timestamp) VALUES (2, 1, 1704067200);
      INSERT INTO transmissions (id, raw_hex, hash, first_seen) VALUES (3, 'eeff', 'def456', '');
      INSERT INTO observations (transmission_id, observer_idx, timestamp) VALUES (3, 2, 1704067200);
    `);
    db.close();

    const opened = await open(dbPath);
    const count = (sql: string) => scalar<number>(opened.connection, sql);
    expect(count(`SELECT COUNT(*) FROM transmissions WHERE id = 1`)).toBe(1);
    expect(count(`SELECT COUNT(*) FROM transmissions WHERE id IN (2, 3)`)).toBe(0);
    expect(count(`SELECT COUNT(*) FROM observations WHERE transmission_id IN (2, 3)`)).toBe(0);
    expect(count(`SELECT COUNT(*) FROM observations WHERE transmission_id = 1`)).toBe(1);
    expect(migrationMarkers(opened.connection)).toContain('cleanup_legacy_null_hash_ts');
    await opened.close();

    // Idempotent: the marker keeps it from running again (a row written now would survive).
    const again = openPlain(dbPath);
    again.exec(`INSERT INTO transmissions (raw_hex, hash, first_seen) VALUES ('11', 'later', '')`);
    again.close();
    const reopened = await open(dbPath);
    expect(scalar(reopened.connection, `SELECT COUNT(*) FROM transmissions WHERE hash = 'later'`)).toBe(1);
  });
});

describe('TestSchemaMultibyteSupColumns', () => {
  it('has multibyte_sup (INTEGER NOT NULL DEFAULT 0) and multibyte_evidence on both node tables', async () => {
    for (const legacy of [false, true]) {
      const dbPath = await tempDbPath();
      if (legacy) buildLegacy(dbPath, OLD_NODES_DDL);
      const opened = await open(dbPath);
      for (const table of ['nodes', 'inactive_nodes']) {
        const columns = tableColumns(opened.connection, table);
        expect(columns.find((c) => c.name === 'multibyte_sup'), `${table} legacy=${legacy}`).toMatchObject({
          type: 'INTEGER',
          notnull: 1,
          dflt_value: '0',
        });
        expect(columns.find((c) => c.name === 'multibyte_evidence'), `${table} legacy=${legacy}`).toMatchObject({
          type: 'TEXT',
          notnull: 0,
          dflt_value: null,
        });
      }
    }
  });
});

describe('TestApplySchemaMigrationsOnFreshDB', () => {
  it('records the migrations and creates observations, inactive_nodes and packets_v', async () => {
    const opened = await open(await tempDbPath());
    expect(scalar<number>(opened.connection, `SELECT COUNT(*) FROM _migrations`)).toBeGreaterThanOrEqual(3);
    expect(objectType(opened, 'observations')).toBe('table');
    expect(objectType(opened, 'idx_observations_dedup')).toBe('index');
    expect(objectType(opened, 'inactive_nodes')).toBe('table');
    expect(objectType(opened, 'packets_v')).toBe('view');
  });
});

describe('TestOpenStoreExistingDB', () => {
  it('opens, closes and re-opens the same file', async () => {
    const dbPath = await tempDbPath();
    const first = await open(dbPath);
    await first.close();
    const second = await open(dbPath);
    expect(second.migrationReport.appliedMigrations).toEqual([]);
    expect(objectType(second, 'transmissions')).toBe('table');
  });
});

describe('public_key lower-case migration (#1483)', () => {
  const upper = 'ABCDEF01'.repeat(8);
  const mixed = 'aBcD2345'.repeat(8);
  const lower = '0123abcd'.repeat(8);

  it('lower-cases mixed-case node keys on every boot, leaving lower-case ones alone', async () => {
    const dbPath = await tempDbPath();
    buildLegacy(
      dbPath,
      `${OLD_NODES_DDL}
       INSERT INTO nodes (public_key, name) VALUES ('${upper}', 'U'), ('${mixed}', 'M'), ('${lower}', 'L');`,
    );
    const logLines: string[] = [];
    const first = await open(dbPath, logLines);
    expect(first.connection.prepare(`SELECT public_key, name FROM nodes ORDER BY name`).all()).toEqual([
      { public_key: lower, name: 'L' },
      { public_key: mixed.toLowerCase(), name: 'M' },
      { public_key: upper.toLowerCase(), name: 'U' },
    ]);
    expect(logLines).toContain('[migration] Normalizing 2 nodes.public_key row(s) to lowercase...');
    // Not gated: a mixed-case row written later is fixed on the next start.
    first.connection.prepare(`INSERT INTO nodes (public_key, name) VALUES (?, 'Later')`).run('FFEE'.repeat(16));
    await first.close();

    const second = await open(dbPath);
    expect(scalar(second.connection, `SELECT public_key FROM nodes WHERE name = 'Later'`)).toBe('ffee'.repeat(16));
    expect(scalar(second.connection, `SELECT COUNT(*) FROM nodes WHERE public_key != lower(public_key)`)).toBe(0);
  });

  it('a key collision is logged, not fatal, and leaves the rows as they were', async () => {
    const dbPath = await tempDbPath();
    buildLegacy(
      dbPath,
      `${OLD_NODES_DDL}
       INSERT INTO nodes (public_key, name) VALUES ('${upper}', 'Upper'), ('${upper.toLowerCase()}', 'Lower');`,
    );
    const logLines: string[] = [];
    const opened = await open(dbPath, logLines);
    expect(logLines.some((line) => /public_key lowercase normalize: .*UNIQUE/.test(line))).toBe(true);
    expect(opened.connection.prepare(`SELECT public_key FROM nodes ORDER BY name`).pluck().all()).toEqual([
      upper.toLowerCase(),
      upper,
    ]);
    expect(tableHasColumn(opened.connection, 'nodes', 'multibyte_sup')).toBe(true);
  });
});
