import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXPECTED_FRESH_ASYNC_MIGRATIONS, EXPECTED_FRESH_MIGRATION_MARKERS, EXPECTED_INDEXES, EXPECTED_TABLES } from './expected-schema';
import { findMissingServerSchema, SERVER_REQUIRED_COLUMNS, SERVER_REQUIRED_TABLES } from './migrations';
import { openDatabase, type OpenedDatabase } from './open-database';
import { tableHasColumn } from './sqlite-introspection';
import {
  asyncMigrationStatuses,
  columnsOf,
  migrationMarkers,
  openPlain,
  scalar,
  schemaObjects,
  TempDirs,
} from './testing/sqlite-test-helpers';

/** 64-hex node keys; A is stored upper-case by a legacy writer, its adverts carry the lower-case key. */
const KEY_A_UPPER = 'A1B2C3D4'.repeat(8);
const KEY_A = KEY_A_UPPER.toLowerCase();
const KEY_D = 'd4c3b2a1'.repeat(8);
const KEY_E = 'e5'.repeat(32);
const KEY_INACTIVE_UPPER = 'F6'.repeat(32);

/** FLOOD ADVERT header (0x11), path byte 0x42 = two 2-byte hops AABB, CCDD, then payload bytes. */
const ADVERT_RAW = '1142AABBCCDD' + '00'.repeat(8);

/**
 * A v3-era CoreScope database, as an older ingestor left it: the base tables without any later column, no
 * observer_metrics / dropped_packets / neighbor_edges / _migrations, upper-case node keys, a decrypted
 * channel stored as 'public', legacy rows with an empty hash or first_seen, auto_vacuum NONE, rollback journal.
 */
function buildV3EraDatabase(dbPath: string): void {
  const db = openPlain(dbPath);
  db.exec(`
    CREATE TABLE nodes (
      public_key TEXT PRIMARY KEY, name TEXT, role TEXT, lat REAL, lon REAL,
      last_seen TEXT, first_seen TEXT, advert_count INTEGER DEFAULT 0
    );
    CREATE TABLE inactive_nodes (
      public_key TEXT PRIMARY KEY, name TEXT, role TEXT, lat REAL, lon REAL,
      last_seen TEXT, first_seen TEXT, advert_count INTEGER DEFAULT 0
    );
    CREATE TABLE observers (
      id TEXT PRIMARY KEY, name TEXT, iata TEXT, last_seen TEXT, first_seen TEXT,
      packet_count INTEGER DEFAULT 0, model TEXT, firmware TEXT, client_version TEXT, radio TEXT,
      battery_mv INTEGER, uptime_secs INTEGER, noise_floor REAL
    );
    CREATE TABLE transmissions (
      id INTEGER PRIMARY KEY AUTOINCREMENT, raw_hex TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,
      first_seen TEXT NOT NULL, route_type INTEGER, payload_type INTEGER, payload_version INTEGER,
      decoded_json TEXT, created_at TEXT DEFAULT (datetime('now'))
    );
    CREATE TABLE observations (
      id INTEGER PRIMARY KEY AUTOINCREMENT, transmission_id INTEGER NOT NULL REFERENCES transmissions(id),
      observer_idx INTEGER, direction TEXT, snr REAL, rssi REAL, score INTEGER, path_json TEXT,
      timestamp INTEGER NOT NULL
    );
    CREATE INDEX idx_observations_transmission_id ON observations(transmission_id);
    CREATE INDEX idx_observations_observer_idx ON observations(observer_idx);
    CREATE UNIQUE INDEX idx_observations_dedup ON observations(transmission_id, observer_idx, COALESCE(path_json, ''));
    CREATE INDEX idx_nodes_last_seen ON nodes(last_seen);
    CREATE TABLE client_receptions (
      id INTEGER PRIMARY KEY AUTOINCREMENT, rx_pubkey TEXT NOT NULL, heard_key TEXT NOT NULL,
      heard_keylen INTEGER NOT NULL, rssi INTEGER, snr REAL, lat REAL NOT NULL, lon REAL NOT NULL,
      pos_acc_m REAL, rx_at TEXT NOT NULL, ingested_at TEXT NOT NULL, src TEXT NOT NULL,
      UNIQUE(rx_pubkey, heard_key, rx_at)
    );
    CREATE INDEX idx_client_recept_rxpk ON client_receptions(rx_pubkey);
  `);

  const insertNode = db.prepare(
    `INSERT INTO nodes (public_key, name, role, lat, lon, last_seen, first_seen, advert_count) VALUES (?, ?, 'repeater', ?, ?, ?, '2024-01-01T00:00:00Z', ?)`,
  );
  insertNode.run(KEY_A_UPPER, 'Alpha', 47.5, -122.25, '2024-05-01T00:00:00Z', 99);
  insertNode.run(KEY_D, 'Delta', 48.0, -121.0, '2024-05-02T00:00:00Z', 5);
  insertNode.run(KEY_E, 'Echo', null, null, '2024-05-03T00:00:00Z', 3);
  db.prepare(`INSERT INTO inactive_nodes (public_key, name, last_seen) VALUES (?, 'Gone', '2023-01-01T00:00:00Z')`).run(
    KEY_INACTIVE_UPPER,
  );

  db.exec(`
    INSERT INTO observers (id, name, iata, last_seen, first_seen, packet_count, noise_floor)
      VALUES ('obs1', 'Observer One', 'SEA', '2024-05-01T10:00:00Z', '2024-01-01T00:00:00Z', 42, -110.5),
             ('obs2', 'Status Only', 'PDX', '2024-05-01T11:00:00Z', '2024-01-01T00:00:00Z', 7, NULL);
  `);

  const insertTx = db.prepare(
    `INSERT INTO transmissions (id, raw_hex, hash, first_seen, route_type, payload_type, decoded_json) VALUES (?, ?, ?, ?, 1, ?, ?)`,
  );
  const advertJson = (pubKey: string) => JSON.stringify({ type: 'ADVERT', pubKey, name: 'n' });
  insertTx.run(1, ADVERT_RAW, 'h1', '2024-05-01T00:00:00Z', 4, advertJson(KEY_A));
  insertTx.run(2, ADVERT_RAW, 'h2', '2024-05-01T01:00:00Z', 4, advertJson(KEY_A));
  insertTx.run(3, ADVERT_RAW, 'h3', '2024-05-01T02:00:00Z', 4, advertJson(KEY_D));
  insertTx.run(4, ADVERT_RAW, 'h4', '2024-05-01T03:00:00Z', 4, '{not json');
  insertTx.run(5, '1500', 'h5', '2024-05-01T04:00:00Z', 5, JSON.stringify({ type: 'CHAN', channel: 'public', text: 'hi' }));
  insertTx.run(6, '1500', 'h6', '2024-05-01T05:00:00Z', 5, JSON.stringify({ type: 'GRP_TXT', channelHashHex: '1F' }));
  insertTx.run(7, '1500', 'h7', '2024-05-01T06:00:00Z', 5, JSON.stringify({ type: 'CHAN', channel: '#test', text: 'x' }));
  insertTx.run(8, '0900', '', '2024-05-01T07:00:00Z', 2, null); // legacy: empty hash
  insertTx.run(9, '0901', 'h9', '', 2, null); // legacy: empty first_seen
  insertTx.run(10, '0902', 'h10', '2024-05-01T08:00:00Z', 2, null); // no observations

  const insertObs = db.prepare(
    `INSERT INTO observations (transmission_id, observer_idx, snr, rssi, path_json, timestamp) VALUES (?, ?, 5.5, -90, ?, ?)`,
  );
  insertObs.run(1, 1, '["AABB","CCDD"]', 1000);
  insertObs.run(1, null, '["AABB"]', 1500);
  insertObs.run(2, 1, '[]', 2000);
  insertObs.run(3, 1, '[]', 3000);
  insertObs.run(5, 1, '[]', 5000);
  insertObs.run(8, 1, '[]', 8000);
  insertObs.run(9, 1, '[]', 9000);
  db.close();
}

function tableRows(opened: OpenedDatabase, table: string): unknown[] {
  return opened.connection.prepare(`SELECT * FROM ${table} ORDER BY rowid`).all();
}

describe('legacy (v3-era) CoreScope database upgraded in place (§4.3)', () => {
  const tempDirs = new TempDirs();
  let dbPath: string;
  let opened: OpenedDatabase;
  let logLines: string[];

  beforeEach(async () => {
    dbPath = path.join(await tempDirs.create(), 'legacy.db');
    buildV3EraDatabase(dbPath);
    logLines = [];
    opened = await openDatabase(dbPath, { logger: (line) => logLines.push(line) });
    await opened.asyncMigrations.whenSettled();
  });

  afterEach(async () => {
    await opened.close();
    await tempDirs.removeAll();
  });

  it('ends with every §4.2 column, declared as on a fresh database (legacy columns first)', () => {
    const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
    for (const table of EXPECTED_TABLES) {
      const actual = columnsOf(opened.connection, table.name);
      expect([...actual].sort(byName), table.name).toEqual([...table.columns].sort(byName));
    }
    // SQLite can only append: the legacy columns keep their places, the added ones follow.
    expect(columnsOf(opened.connection, 'nodes').map((c) => c.name)).toEqual([
      'public_key', 'name', 'role', 'lat', 'lon', 'last_seen', 'first_seen', 'advert_count',
      'battery_mv', 'temperature_c', 'foreign_advert', 'default_scope', 'multibyte_sup', 'multibyte_evidence',
    ]);
    expect(columnsOf(opened.connection, 'transmissions').map((c) => c.name).slice(-4)).toEqual([
      'channel_hash', 'from_pubkey', 'scope_name', 'last_seen',
    ]);
  });

  it('passes every AssertReady check of the CoreScope server', () => {
    expect(findMissingServerSchema(opened.connection)).toEqual([]);
    for (const table of SERVER_REQUIRED_TABLES) {
      expect(scalar(opened.connection, `SELECT type FROM sqlite_master WHERE name = ?`, table)).toBe('table');
    }
    for (const [table, column] of SERVER_REQUIRED_COLUMNS) {
      expect(tableHasColumn(opened.connection, table, column), `${table}.${column}`).toBe(true);
    }
  });

  it('creates the missing tables and every named index, and drops the retired ones', () => {
    for (const table of ['observer_metrics', 'dropped_packets', 'neighbor_edges', '_migrations', '_async_migrations']) {
      expect(scalar(opened.connection, `SELECT type FROM sqlite_master WHERE name = ?`, table), table).toBe('table');
    }
    const indexNames = schemaObjects(opened.connection)
      .filter((object) => object.type === 'index' && object.sql !== null)
      .map((object) => object.name);
    expect(indexNames.sort()).toEqual(EXPECTED_INDEXES.map((index) => index.name).sort());
    expect(indexNames).not.toContain('idx_client_recept_rxpk');
    // The §4.3 steps themselves made them; the canonical-index safety net had nothing left to do.
    expect(logLines.filter((line) => line.includes('created missing index'))).toEqual([]);
  });

  it('#1 recounts advert_count from the ADVERT transmissions', () => {
    const counts = opened.connection.prepare(`SELECT public_key, advert_count FROM nodes ORDER BY name`).all();
    expect(counts).toEqual([
      { public_key: KEY_A, advert_count: 2 },
      { public_key: KEY_D, advert_count: 1 },
      { public_key: KEY_E, advert_count: 0 },
    ]);
  });

  it('#5 lower-cases nodes.public_key (inactive_nodes is left alone, as in CoreScope)', () => {
    expect(scalar(opened.connection, `SELECT COUNT(*) FROM nodes WHERE public_key != lower(public_key)`)).toBe(0);
    expect(scalar(opened.connection, `SELECT public_key FROM inactive_nodes`)).toBe(KEY_INACTIVE_UPPER);
  });

  it('#10/#17 backfill channel_hash from decoded_json and rename public → Public', () => {
    const rows = opened.connection.prepare(`SELECT hash, channel_hash FROM transmissions ORDER BY id`).all();
    expect(rows).toEqual([
      { hash: 'h1', channel_hash: null },
      { hash: 'h2', channel_hash: null },
      { hash: 'h3', channel_hash: null },
      { hash: 'h4', channel_hash: null },
      { hash: 'h5', channel_hash: 'Public' },
      { hash: 'h6', channel_hash: 'enc_1F' },
      { hash: 'h7', channel_hash: '#test' },
      { hash: 'h10', channel_hash: null },
    ]);
  });

  it('#12 backfills last_packet_at only for observers that have observations', () => {
    const rows = opened.connection.prepare(`SELECT id, last_seen, last_packet_at FROM observers ORDER BY id`).all();
    expect(rows).toEqual([
      { id: 'obs1', last_seen: '2024-05-01T10:00:00Z', last_packet_at: '2024-05-01T10:00:00Z' },
      { id: 'obs2', last_seen: '2024-05-01T11:00:00Z', last_packet_at: null },
    ]);
  });

  it('#14 deletes the empty-hash / empty-first_seen transmissions and their observations', () => {
    expect(scalar(opened.connection, `SELECT COUNT(*) FROM transmissions WHERE id IN (8, 9)`)).toBe(0);
    expect(scalar(opened.connection, `SELECT COUNT(*) FROM observations WHERE transmission_id IN (8, 9)`)).toBe(0);
    expect(scalar(opened.connection, `SELECT COUNT(*) FROM transmissions`)).toBe(8);
    expect(scalar(opened.connection, `SELECT COUNT(*) FROM observations`)).toBe(5);
  });

  it('#20 backfills transmissions.last_seen from the newest observation (0 when none)', () => {
    const rows = opened.connection.prepare(`SELECT id, last_seen FROM transmissions ORDER BY id`).all();
    expect(rows).toEqual([
      { id: 1, last_seen: 1500 },
      { id: 2, last_seen: 2000 },
      { id: 3, last_seen: 3000 },
      { id: 4, last_seen: 0 },
      { id: 5, last_seen: 5000 },
      { id: 6, last_seen: 0 },
      { id: 7, last_seen: 0 },
      { id: 10, last_seen: 0 },
    ]);
  });

  it('backfills from_pubkey of ADVERTs (\'\' when decoded_json has no key), leaving other types NULL', () => {
    const rows = opened.connection.prepare(`SELECT id, from_pubkey FROM transmissions ORDER BY id`).all();
    expect(rows).toEqual([
      { id: 1, from_pubkey: KEY_A },
      { id: 2, from_pubkey: KEY_A },
      { id: 3, from_pubkey: KEY_D },
      { id: 4, from_pubkey: '' },
      { id: 5, from_pubkey: null },
      { id: 6, from_pubkey: null },
      { id: 7, from_pubkey: null },
      { id: 10, from_pubkey: null },
    ]);
  });

  it('#21 path_json backfill leaves rows without raw_hex alone and records its marker', () => {
    const paths = opened.connection.prepare(`SELECT path_json FROM observations ORDER BY id`).pluck().all();
    expect(paths).toEqual(['["AABB","CCDD"]', '["AABB"]', '[]', '[]', '[]']);
    expect(migrationMarkers(opened.connection)).toContain('backfill_path_json_from_raw_hex_v1');
  });

  it('keeps the legacy data (values of surviving rows unchanged)', () => {
    expect(
      opened.connection.prepare(`SELECT name, role, lat, lon, last_seen, first_seen FROM nodes WHERE public_key = ?`).get(KEY_A),
    ).toEqual({
      name: 'Alpha',
      role: 'repeater',
      lat: 47.5,
      lon: -122.25,
      last_seen: '2024-05-01T00:00:00Z',
      first_seen: '2024-01-01T00:00:00Z',
    });
    expect(
      opened.connection.prepare(`SELECT rowid, id, name, iata, packet_count, noise_floor FROM observers ORDER BY rowid`).all(),
    ).toEqual([
      { rowid: 1, id: 'obs1', name: 'Observer One', iata: 'SEA', packet_count: 42, noise_floor: -110.5 },
      { rowid: 2, id: 'obs2', name: 'Status Only', iata: 'PDX', packet_count: 7, noise_floor: null },
    ]);
    expect(opened.connection.prepare(`SELECT snr, rssi FROM observations WHERE id = 1`).get()).toEqual({ snr: 5.5, rssi: -90 });
  });

  it('fills added columns with their defaults on existing rows', () => {
    expect(
      opened.connection.prepare(`SELECT foreign_advert, default_scope, multibyte_sup, multibyte_evidence FROM nodes WHERE public_key = ?`).get(KEY_D),
    ).toEqual({ foreign_advert: 0, default_scope: null, multibyte_sup: 0, multibyte_evidence: null });
    expect(
      opened.connection.prepare(`SELECT inactive, clock_skew_count_24h, can_relay, can_relay_seen FROM observers WHERE id = 'obs2'`).get(),
    ).toEqual({ inactive: 0, clock_skew_count_24h: 0, can_relay: 1, can_relay_seen: 0 });
  });

  it('records every migration marker and finishes the async migrations', () => {
    expect(migrationMarkers(opened.connection)).toEqual([...EXPECTED_FRESH_MIGRATION_MARKERS].sort());
    expect(asyncMigrationStatuses(opened.connection)).toEqual(
      Object.fromEntries(EXPECTED_FRESH_ASYNC_MIGRATIONS.map((name) => [name, 'done'])),
    );
    expect(opened.migrationReport.appliedMigrations).toHaveLength(16);
  });

  it('switches to WAL but leaves auto_vacuum NONE for CheckAutoVacuum to handle', () => {
    expect(opened.connection.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(opened.connection.pragma('auto_vacuum', { simple: true })).toBe(0);
  });

  it('packets_v works on the upgraded database', () => {
    const row = opened.connection.prepare(`SELECT observer_id, raw_hex, hash FROM packets_v WHERE id = 1`).get();
    expect(row).toEqual({ observer_id: 'obs1', raw_hex: ADVERT_RAW, hash: 'h1' });
  });

  it('a second open changes nothing', async () => {
    const tables = EXPECTED_TABLES.map((table) => table.name);
    const before = {
      schema: schemaObjects(opened.connection),
      rows: Object.fromEntries(tables.map((table) => [table, tableRows(opened, table)])),
    };
    await opened.close();

    opened = await openDatabase(dbPath);
    await opened.asyncMigrations.whenSettled();
    expect(opened.migrationReport.appliedMigrations).toEqual([]);
    expect(schemaObjects(opened.connection)).toEqual(before.schema);
    expect(Object.fromEntries(tables.map((table) => [table, tableRows(opened, table)]))).toEqual(before.rows);
  });
});

describe('mid-era database: observations.raw_hex present, from_pubkey column present but never filled', () => {
  const tempDirs = new TempDirs();
  afterEach(() => tempDirs.removeAll());

  it('recounts adverts via decoded_json, then backfills path_json and from_pubkey', async () => {
    const dbPath = path.join(await tempDirs.create(), 'mid.db');
    const db = openPlain(dbPath);
    db.exec(`
      CREATE TABLE nodes (public_key TEXT PRIMARY KEY, name TEXT, role TEXT, lat REAL, lon REAL, last_seen TEXT,
                          first_seen TEXT, advert_count INTEGER DEFAULT 0, battery_mv INTEGER, temperature_c REAL);
      CREATE TABLE transmissions (id INTEGER PRIMARY KEY AUTOINCREMENT, raw_hex TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,
                          first_seen TEXT NOT NULL, route_type INTEGER, payload_type INTEGER, payload_version INTEGER,
                          decoded_json TEXT, from_pubkey TEXT, created_at TEXT DEFAULT (datetime('now')));
      CREATE TABLE observations (id INTEGER PRIMARY KEY AUTOINCREMENT,
                          transmission_id INTEGER NOT NULL REFERENCES transmissions(id), observer_idx INTEGER,
                          direction TEXT, snr REAL, rssi REAL, score INTEGER, path_json TEXT,
                          timestamp INTEGER NOT NULL, raw_hex TEXT);
      CREATE UNIQUE INDEX idx_observations_dedup ON observations(transmission_id, observer_idx, COALESCE(path_json, ''));
    `);
    db.prepare(`INSERT INTO nodes (public_key, name, advert_count) VALUES (?, 'Delta', 17)`).run(KEY_D);
    const insertTx = db.prepare(
      `INSERT INTO transmissions (id, raw_hex, hash, first_seen, payload_type, decoded_json) VALUES (?, ?, ?, '2025-01-01T00:00:00Z', ?, ?)`,
    );
    insertTx.run(1, ADVERT_RAW, 'a1', 4, JSON.stringify({ type: 'ADVERT', pubKey: KEY_D }));
    insertTx.run(2, ADVERT_RAW, 'a2', 4, JSON.stringify({ type: 'ADVERT', pubKey: KEY_D }));
    insertTx.run(3, '2602AABB00', 't1', 9, JSON.stringify({ type: 'TRACE' }));
    const insertObs = db.prepare(
      `INSERT INTO observations (transmission_id, observer_idx, timestamp, raw_hex, path_json) VALUES (?, ?, ?, ?, ?)`,
    );
    insertObs.run(1, 1, 100, ADVERT_RAW, null); // → ["AABB","CCDD"]
    insertObs.run(1, 2, 101, '0100' + '00'.repeat(4), ''); // zero hops → '[]'
    insertObs.run(2, 1, 102, 'not hex', null); // undecodable → '[]'
    insertObs.run(2, 2, 103, null, null); // nothing to derive from → stays NULL
    insertObs.run(3, 1, 104, '2602AABB00', null); // TRACE → untouched
    db.close();

    const opened = await openDatabase(dbPath);
    try {
      // Go's recount (from_pubkey only) would have zeroed this; the decoded_json fallback keeps it right.
      expect(scalar(opened.connection, `SELECT advert_count FROM nodes`)).toBe(2);
      await opened.asyncMigrations.whenSettled();
      expect(opened.connection.prepare(`SELECT path_json FROM observations ORDER BY id`).pluck().all()).toEqual([
        '["AABB","CCDD"]',
        '[]',
        '[]',
        null,
        null,
      ]);
      expect(opened.connection.prepare(`SELECT from_pubkey FROM transmissions ORDER BY id`).pluck().all()).toEqual([
        KEY_D,
        KEY_D,
        null,
      ]);
      expect(opened.asyncMigrations.backfillUpdateCounts()).toEqual({ path_json: 3 });
    } finally {
      await opened.close();
    }
  });
});

describe('observation dedup index on legacy databases', () => {
  const tempDirs = new TempDirs();
  afterEach(() => tempDirs.removeAll());

  async function legacyWithoutDedupIndex(duplicates: boolean): Promise<string> {
    const dbPath = path.join(await tempDirs.create(), 'nodedup.db');
    const db = openPlain(dbPath);
    db.exec(`
      CREATE TABLE transmissions (id INTEGER PRIMARY KEY AUTOINCREMENT, raw_hex TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,
                          first_seen TEXT NOT NULL, route_type INTEGER, payload_type INTEGER, payload_version INTEGER,
                          decoded_json TEXT, created_at TEXT DEFAULT (datetime('now')));
      CREATE TABLE observations (id INTEGER PRIMARY KEY AUTOINCREMENT,
                          transmission_id INTEGER NOT NULL REFERENCES transmissions(id), observer_idx INTEGER,
                          direction TEXT, snr REAL, rssi REAL, score INTEGER, path_json TEXT, timestamp INTEGER NOT NULL);
      INSERT INTO transmissions (raw_hex, hash, first_seen) VALUES ('00', 'x', '2025-01-01T00:00:00Z');
      INSERT INTO observations (transmission_id, observer_idx, path_json, timestamp) VALUES (1, 1, '[]', 1);
    `);
    if (duplicates) {
      db.exec(`INSERT INTO observations (transmission_id, observer_idx, path_json, timestamp) VALUES (1, 1, '[]', 2)`);
    }
    db.close();
    return dbPath;
  }

  it('creates idx_observations_dedup when it is missing', async () => {
    const opened = await openDatabase(await legacyWithoutDedupIndex(false));
    try {
      const unique = (opened.connection.pragma(`index_list(observations)`) as { name: string; unique: number }[]).find(
        (index) => index.name === 'idx_observations_dedup',
      );
      expect(unique?.unique).toBe(1);
    } finally {
      await opened.close();
    }
  });

  it('fails the open with a clear message when duplicates prevent it', async () => {
    await expect(openDatabase(await legacyWithoutDedupIndex(true))).rejects.toThrow(
      /^applying schema: canonical indexes: cannot create idx_observations_dedup: .*duplicate/,
    );
  });
});
