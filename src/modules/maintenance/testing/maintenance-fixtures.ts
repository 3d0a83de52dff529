import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { loadConfig } from '../../../config/load-config';
import type { AppConfig } from '../../../config/config.types';
import { openDatabase, type OpenedDatabase } from '../../persistence/sqlite/open-database';

/** Seeding helpers for the maintenance specs: real SQLite files in the OS temp dir (no test-framework imports). */

export interface TestDatabase {
  readonly dir: string;
  readonly dbPath: string;
  readonly opened: OpenedDatabase;
  readonly db: BetterSqlite3.Database;
}

export class TestDatabases {
  private readonly open: TestDatabase[] = [];

  /** A freshly migrated CoreScope database; background backfills are not started (they would race the seeds). */
  async create(name = 'maintenance.db'): Promise<TestDatabase> {
    const dir = await mkdtemp(path.join(tmpdir(), 'meshcore-maintenance-'));
    const dbPath = path.join(dir, name);
    const opened = await openDatabase(dbPath, { startBackgroundJobs: false });
    const database = { dir, dbPath, opened, db: opened.connection };
    this.open.push(database);
    return database;
  }

  async closeAll(): Promise<void> {
    for (const { opened, dir } of this.open.splice(0)) {
      await opened.close();
      await rm(dir, { recursive: true, force: true });
    }
  }
}

/** The defaults of a zero-config start (no file, no env), with `overrides` laid on top. */
export function testConfig(overrides: Partial<AppConfig> = {}): AppConfig {
  const { config } = loadConfig({ configPath: path.join(tmpdir(), 'meshcore-no-such-config.json'), env: {} });
  return { ...config, ...overrides };
}

export interface NodeSeed {
  readonly publicKey: string;
  readonly name?: string;
  readonly lastSeen?: string | null;
  readonly multibyteSup?: number;
  readonly multibyteEvidence?: string | null;
}

export function insertNode(db: BetterSqlite3.Database, node: NodeSeed, table: 'nodes' | 'inactive_nodes' = 'nodes'): void {
  db.prepare(
    `INSERT INTO ${table} (public_key, name, role, lat, lon, last_seen, first_seen, advert_count, battery_mv,
       temperature_c, foreign_advert, default_scope, multibyte_sup, multibyte_evidence)
     VALUES (?, ?, 'repeater', 37.5, -122.1, ?, '2026-01-01T00:00:00Z', 3, 4100, 21.5, 0, '#sjc', ?, ?)`,
  ).run(
    node.publicKey,
    node.name ?? `node ${node.publicKey.slice(0, 4)}`,
    node.lastSeen === undefined ? '2026-07-18T00:00:00Z' : node.lastSeen,
    node.multibyteSup ?? 0,
    node.multibyteEvidence ?? null,
  );
}

export interface ObserverSeed {
  readonly id: string;
  readonly lastSeen?: string | null;
  readonly inactive?: number | null;
}

/** Returns the observer's rowid (what observations.observer_idx stores). */
export function insertObserver(db: BetterSqlite3.Database, observer: ObserverSeed): number {
  return Number(
    db
      .prepare(`INSERT INTO observers (id, name, iata, last_seen, first_seen, inactive) VALUES (?, ?, 'SJC', ?, ?, ?)`)
      .run(
        observer.id,
        `observer ${observer.id}`,
        observer.lastSeen === undefined ? '2026-07-18T00:00:00Z' : observer.lastSeen,
        '2026-01-01T00:00:00Z',
        observer.inactive === undefined ? 0 : observer.inactive,
      ).lastInsertRowid,
  );
}

export interface TransmissionSeed {
  readonly hash: string;
  readonly firstSeen: string;
  readonly payloadType?: number | null;
  readonly decodedJson?: string | null;
  readonly fromPubkey?: string | null;
}

export function insertTransmission(db: BetterSqlite3.Database, tx: TransmissionSeed): number {
  return Number(
    db
      .prepare(
        `INSERT INTO transmissions (raw_hex, hash, first_seen, route_type, payload_type, payload_version, decoded_json,
           from_pubkey, last_seen, created_at)
         VALUES ('11', ?, ?, 1, ?, 0, ?, ?, 0, '2026-07-18 00:00:00')`,
      )
      .run(
        tx.hash,
        tx.firstSeen,
        tx.payloadType === undefined ? 4 : tx.payloadType,
        tx.decodedJson === undefined ? '{}' : tx.decodedJson,
        tx.fromPubkey === undefined ? null : tx.fromPubkey,
      ).lastInsertRowid,
  );
}

export interface ObservationSeed {
  readonly transmissionId: number;
  readonly observerIdx?: number | null;
  readonly pathJson?: string | null;
  /** Epoch seconds. */
  readonly timestamp: number;
}

export function insertObservation(db: BetterSqlite3.Database, observation: ObservationSeed): number {
  return Number(
    db
      .prepare(`INSERT INTO observations (transmission_id, observer_idx, path_json, timestamp) VALUES (?, ?, ?, ?)`)
      .run(
        observation.transmissionId,
        observation.observerIdx ?? null,
        observation.pathJson === undefined ? '[]' : observation.pathJson,
        observation.timestamp,
      ).lastInsertRowid,
  );
}

export function insertMetrics(db: BetterSqlite3.Database, observerId: string, timestamp: string): void {
  db.prepare(`INSERT INTO observer_metrics (observer_id, timestamp, noise_floor, battery_mv) VALUES (?, ?, -110.5, 4100)`).run(
    observerId,
    timestamp,
  );
}

export function insertDroppedPacket(db: BetterSqlite3.Database, droppedAt: string, hash = 'h'): void {
  db.prepare(`INSERT INTO dropped_packets (hash, raw_hex, reason, dropped_at) VALUES (?, '00', 'bad signature', ?)`).run(
    hash,
    droppedAt,
  );
}

export function insertClientReception(db: BetterSqlite3.Database, rxPubkey: string, heardKey: string, rxAt: string): void {
  db.prepare(
    `INSERT INTO client_receptions (rx_pubkey, heard_key, heard_keylen, rssi, snr, lat, lon, rx_at, ingested_at, src)
     VALUES (?, ?, 2, -90, 5.5, 37.4, -122.1, ?, ?, 'test')`,
  ).run(rxPubkey, heardKey, rxAt, rxAt);
}

export function insertClientObserver(db: BetterSqlite3.Database, pubkey: string, lastSeen: string | null): void {
  db.prepare(`INSERT INTO client_observers (pubkey, name, last_seen) VALUES (?, ?, ?)`).run(pubkey, `client ${pubkey}`, lastSeen);
}

export function insertNeighborEdge(
  db: BetterSqlite3.Database,
  nodeA: string,
  nodeB: string,
  lastSeen: string | null,
  count = 1,
): void {
  db.prepare(`INSERT INTO neighbor_edges (node_a, node_b, count, last_seen) VALUES (?, ?, ?, ?)`).run(nodeA, nodeB, count, lastSeen);
}

export function countRows(db: BetterSqlite3.Database, table: string, where = '1 = 1', ...params: unknown[]): number {
  return db
    .prepare(`SELECT COUNT(*) FROM ${table} WHERE ${where}`)
    .pluck()
    .get(...params) as number;
}

/** A 64-hex-character public key made of one repeated byte pair, e.g. key('bb'). */
export function key(bytePair: string, tail = ''): string {
  return (bytePair.repeat(32).slice(0, 64 - tail.length) + tail).toLowerCase();
}

/** Collects log lines. */
export function logSink(): { lines: string[]; log: (line: string) => void } {
  const lines: string[] = [];
  return { lines, log: (line) => lines.push(line) };
}
