import path from 'node:path';
import { existsSync, statSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ABSENT_INDEXES,
  EXPECTED_FRESH_ASYNC_MIGRATIONS,
  EXPECTED_FRESH_MIGRATION_MARKERS,
  EXPECTED_INDEXES,
  EXPECTED_TABLES,
  EXPECTED_VIEWS,
  expectedIndexSql,
  normalizeSql,
} from './expected-schema';
import {
  APPLY_MIGRATION_MARKERS,
  findMissingServerSchema,
  GATED_MIGRATION_NAMES,
  SCHEMA_STEPS,
  SERVER_REQUIRED_COLUMNS,
} from './migrations';
import { openDatabase, type OpenedDatabase } from './open-database';
import { LATE_COLUMN_DECLARATIONS, TABLE_DDL } from './schema';
import {
  asyncMigrationStatuses,
  columnsOf,
  migrationMarkers,
  scalar,
  schemaObjects,
  TempDirs,
} from './testing/sqlite-test-helpers';

describe('fresh database: exactly the §4.2 schema', () => {
  const tempDirs = new TempDirs();
  let dbPath: string;
  let opened: OpenedDatabase;
  let logLines: string[];

  beforeEach(async () => {
    // A folder that does not exist yet, two levels deep: openDatabase must create it.
    dbPath = path.join(await tempDirs.create(), 'nested', 'data', 'meshcore.db');
    logLines = [];
    opened = await openDatabase(dbPath, { logger: (line) => logLines.push(line) });
    await opened.asyncMigrations.whenSettled();
  });

  afterEach(async () => {
    await opened.close();
    await tempDirs.removeAll();
  });

  it('creates the parent folders and logs "SQLite opened: <path>"', () => {
    expect(existsSync(dbPath)).toBe(true);
    expect(logLines).toContain(`SQLite opened: ${dbPath}`);
    expect(logLines.filter((line) => line.includes('created missing index'))).toEqual([]);
  });

  it('has exactly the expected tables (plus sqlite_sequence for AUTOINCREMENT)', () => {
    const tables = schemaObjects(opened.connection)
      .filter((object) => object.type === 'table')
      .map((object) => object.name)
      .sort();
    expect(tables).toEqual([...EXPECTED_TABLES.map((table) => table.name), 'sqlite_sequence'].sort());
  });

  it.each(EXPECTED_TABLES.map((table) => [table.name, table] as const))(
    'table %s: PRAGMA table_info matches name, type, notnull, default, pk and order',
    (name, expected) => {
      expect(columnsOf(opened.connection, name)).toEqual(expected.columns);
    },
  );

  it('nodes and inactive_nodes have identical columns (MoveStaleNodes copies with SELECT *)', () => {
    expect(columnsOf(opened.connection, 'inactive_nodes')).toEqual(columnsOf(opened.connection, 'nodes'));
  });

  it('declares AUTOINCREMENT exactly where expected', () => {
    for (const table of EXPECTED_TABLES) {
      const sql = scalar<string>(opened.connection, `SELECT sql FROM sqlite_master WHERE name = ?`, table.name);
      expect(/AUTOINCREMENT/i.test(sql), table.name).toBe(table.autoincrement === true);
    }
  });

  it('has the UNIQUE constraints (automatic indexes) of §4.2', () => {
    for (const table of EXPECTED_TABLES) {
      const uniqueIndexes = (
        opened.connection.pragma(`index_list(${table.name})`) as { name: string; origin: string }[]
      ).filter((index) => index.origin === 'u');
      const constraintColumns = uniqueIndexes.map((index) =>
        (opened.connection.pragma(`index_info(${index.name})`) as { name: string }[]).map((c) => c.name),
      );
      expect(constraintColumns, table.name).toEqual(table.uniqueConstraints ?? []);
    }
  });

  it('has exactly the named indexes of §4.2, with their definitions', () => {
    const named = schemaObjects(opened.connection).filter((object) => object.type === 'index' && object.sql !== null);
    expect(named.map((index) => index.name).sort()).toEqual(EXPECTED_INDEXES.map((index) => index.name).sort());
    for (const expected of EXPECTED_INDEXES) {
      const actual = named.find((index) => index.name === expected.name);
      expect(actual?.tbl_name, expected.name).toBe(expected.table);
      expect(normalizeSql(actual?.sql ?? ''), expected.name).toBe(normalizeSql(expectedIndexSql(expected)));
    }
    for (const absent of ABSENT_INDEXES) {
      expect(named.some((index) => index.name === absent), absent).toBe(false);
    }
  });

  it('reports unique/partial flags through PRAGMA index_list', () => {
    for (const expected of EXPECTED_INDEXES) {
      const entry = (
        opened.connection.pragma(`index_list(${expected.table})`) as {
          name: string;
          unique: number;
          partial: number;
        }[]
      ).find((index) => index.name === expected.name);
      expect(entry, expected.name).toBeDefined();
      expect(entry?.unique, expected.name).toBe(expected.unique ? 1 : 0);
      expect(entry?.partial, expected.name).toBe(expected.where ? 1 : 0);
    }
  });

  it('has the packets_v view with its columns, and it is queryable', () => {
    const [view] = EXPECTED_VIEWS;
    expect(scalar(opened.connection, `SELECT type FROM sqlite_master WHERE name = ?`, view.name)).toBe('view');
    expect(columnsOf(opened.connection, view.name).map((c) => c.name)).toEqual([...view.columns]);
    expect(opened.connection.prepare(`SELECT * FROM packets_v`).all()).toEqual([]);
  });

  it('packets_v joins the observer by rowid and hides inactive observers (TestPacketsViewQueryable)', () => {
    const db = opened.connection;
    db.exec(`INSERT INTO observers (id, name) VALUES ('obs-a', 'Alpha'), ('obs-b', 'Bravo')`);
    db.exec(`UPDATE observers SET inactive = 1 WHERE id = 'obs-b'`);
    db.exec(`INSERT INTO transmissions (raw_hex, hash, first_seen, payload_type) VALUES ('0100', 'abcd', '2025-01-01T00:00:00Z', 4)`);
    const obsA = scalar<number>(db, `SELECT rowid FROM observers WHERE id = 'obs-a'`);
    const obsB = scalar<number>(db, `SELECT rowid FROM observers WHERE id = 'obs-b'`);
    db.prepare(`INSERT INTO observations (transmission_id, observer_idx, timestamp, path_json) VALUES (1, ?, 1735689600, '[]')`).run(obsA);
    db.prepare(`INSERT INTO observations (transmission_id, observer_idx, timestamp, path_json) VALUES (1, ?, 1735689601, '[]')`).run(obsB);
    const rows = db.prepare(`SELECT observer_id, observer_name, raw_hex, timestamp FROM packets_v ORDER BY id`).all();
    expect(rows).toEqual([
      { observer_id: 'obs-a', observer_name: 'Alpha', raw_hex: '0100', timestamp: '2025-01-01 00:00:00' },
      { observer_id: null, observer_name: null, raw_hex: '0100', timestamp: '2025-01-01 00:00:01' },
    ]);
  });

  it('applies the §4.1 connection settings', () => {
    const db = opened.connection;
    expect(db.pragma('auto_vacuum', { simple: true })).toBe(2);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
    expect(db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    // our tuning (config `sqlite`), defaults: 16 MiB cache (negative = KiB), checkpoint every 10 000 pages
    expect(db.pragma('cache_size', { simple: true })).toBe(-16 * 1024);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(10_000);
  });

  it('takes the cache and checkpoint size from the `sqlite` config', async () => {
    const tuned = await openDatabase(path.join(path.dirname(opened.dbPath), 'tuned.db'), {
      startBackgroundJobs: false,
      tuning: { cacheSizeMiB: 3, walAutocheckpointPages: 500 },
    });
    try {
      expect(tuned.connection.pragma('cache_size', { simple: true })).toBe(-3 * 1024);
      expect(tuned.connection.pragma('wal_autocheckpoint', { simple: true })).toBe(500);
    } finally {
      await tuned.close();
    }
  });

  it('records the expected _migrations markers and finishes the async migrations', () => {
    expect(migrationMarkers(opened.connection)).toEqual([...EXPECTED_FRESH_MIGRATION_MARKERS].sort());
    expect(asyncMigrationStatuses(opened.connection)).toEqual(
      Object.fromEntries(EXPECTED_FRESH_ASYNC_MIGRATIONS.map((name) => [name, 'done'])),
    );
  });

  it('satisfies the server\'s AssertReady', () => {
    expect(findMissingServerSchema(opened.connection)).toEqual([]);
    expect(SERVER_REQUIRED_COLUMNS).toHaveLength(21);
  });

  it('the observation dedup index rejects a second identical observation', () => {
    const db = opened.connection;
    db.exec(`INSERT INTO transmissions (raw_hex, hash, first_seen) VALUES ('00', 'h', '2025-01-01T00:00:00Z')`);
    db.exec(`INSERT INTO observations (transmission_id, observer_idx, timestamp, path_json) VALUES (1, 7, 1, NULL)`);
    expect(() =>
      db.exec(`INSERT INTO observations (transmission_id, observer_idx, timestamp, path_json) VALUES (1, 7, 2, '')`),
    ).toThrow(/UNIQUE/);
  });

  it('reopening changes nothing and runs no migration again', async () => {
    const schemaBefore = schemaObjects(opened.connection);
    const markersBefore = migrationMarkers(opened.connection);
    const asyncBefore = opened.connection.prepare(`SELECT * FROM _async_migrations ORDER BY name`).all();
    await opened.close();

    const reopenLog: string[] = [];
    opened = await openDatabase(dbPath, { logger: (line) => reopenLog.push(line) });
    await opened.asyncMigrations.whenSettled();

    expect(opened.migrationReport.appliedMigrations).toEqual([]);
    expect(schemaObjects(opened.connection)).toEqual(schemaBefore);
    expect(migrationMarkers(opened.connection)).toEqual(markersBefore);
    expect(opened.connection.prepare(`SELECT * FROM _async_migrations ORDER BY name`).all()).toEqual(asyncBefore);
    expect(reopenLog.filter((line) => line.startsWith('[migration]'))).toEqual([]);
  });

  it('close() checkpoints the WAL away and is idempotent', async () => {
    opened.connection.exec(`INSERT INTO client_observers (pubkey, name) VALUES ('pk', 'n')`);
    await opened.close();
    await opened.close();
    expect(opened.connection.open).toBe(false);
    const walPath = `${dbPath}-wal`;
    // TRUNCATE leaves an empty (or no) WAL file behind.
    expect(!existsSync(walPath) || statSync(walPath).size === 0).toBe(true);
  });
});

describe('migration list (§4.3)', () => {
  it('runs the gated steps in the reference order, with the every-boot steps in their places', () => {
    expect(GATED_MIGRATION_NAMES).toEqual([
      'advert_count_unique_v1',
      'noise_floor_real_v1',
      'node_telemetry_v1',
      'obs_timestamp_index_v1',
      'observer_metrics_v1',
      'observer_metrics_ts_idx',
      'observers_inactive_v1',
      'observer_metrics_packets_v1',
      'channel_hash_v1',
      'dropped_packets_v1',
      'observers_last_packet_at_v1',
      'observers_clock_naive_v1',
      'cleanup_legacy_null_hash_ts',
      'foreign_advert_v1',
      'from_pubkey_v1',
      'channel_hash_casing_v1',
    ]);
    const everyBoot = SCHEMA_STEPS.map((step, position) => (step.kind === 'every-boot' ? `${position}:${step.label}` : null));
    expect(everyBoot.filter((entry) => entry !== null)).toEqual([
      '4:nodes.public_key lower-case normalisation',
      '17:dbschema.Apply',
      '18:canonical indexes',
    ]);
  });

  it('every fresh-database marker comes from the gated list, Apply, or the async jobs', () => {
    expect([...EXPECTED_FRESH_MIGRATION_MARKERS].sort()).toEqual(
      [...GATED_MIGRATION_NAMES, ...APPLY_MIGRATION_MARKERS, 'obs_observer_ts_idx_v1', 'backfill_path_json_from_raw_hex_v1'].sort(),
    );
  });
});

describe('schema.ts consistency', () => {
  it('every late-column declaration is the one used in the CREATE TABLE text', () => {
    for (const [table, columns] of Object.entries(LATE_COLUMN_DECLARATIONS)) {
      const createSql = normalizeSql(TABLE_DDL[table as keyof typeof TABLE_DDL]);
      for (const [column, declaration] of Object.entries(columns)) {
        expect(createSql, `${table}.${column}`).toMatch(new RegExp(`[(,] ${column} ${declaration}(,|\\))`));
      }
    }
  });
});
