/**
 * The ingest SQL on a real migrated database (ingestor-spec §3.2–§3.6, §3.11; db_test.go
 * highlights that are about single statements rather than the pipeline).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type OpenedDatabase } from './open-database';
import type { ObservationUpsert, TransmissionInsert } from '../repositories/ingest.repository';
import { SqliteIngestRepository } from './sqlite-ingest.repository';

const PK = 'aa'.repeat(32);

describe('SqliteIngestRepository', () => {
  let dir: string;
  let opened: OpenedDatabase;
  let db: BetterSqlite3.Database;
  let repo: SqliteIngestRepository;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'mqi-repo-'));
    opened = await openDatabase(path.join(dir, 'r.db'), { startBackgroundJobs: false });
    db = opened.connection;
    repo = new SqliteIngestRepository(db);
  });
  afterEach(async () => {
    await opened.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = <T = Record<string, unknown>>(sql: string, ...params: unknown[]) => db.prepare(sql).get(...params) as T;
  const all = <T = Record<string, unknown>>(sql: string, ...params: unknown[]) => db.prepare(sql).all(...params) as T[];

  const tx = (over: Partial<TransmissionInsert> = {}): TransmissionInsert => ({
    rawHex: '0900AABB',
    hash: '0123456789abcdef',
    firstSeen: '2026-07-18T12:00:00Z',
    routeType: 1,
    payloadType: 2,
    payloadVersion: 0,
    decodedJson: '{"type":"TXT_MSG"}',
    channelHash: null,
    scopeName: null,
    fromPubkey: null,
    lastSeen: 1_784_376_000,
    ...over,
  });
  const observation = (transmissionId: number, over: Partial<ObservationUpsert> = {}): ObservationUpsert => ({
    transmissionId,
    observerIdx: null,
    direction: null,
    snr: null,
    rssi: null,
    score: null,
    pathJson: '[]',
    timestamp: 1_784_376_000,
    rawHex: null,
    resolvedPath: null,
    ...over,
  });

  describe('transmissions', () => {
    it('insert returns monotonically increasing ids; lookup by hash returns id, first_seen and last_seen', () => {
      const a = repo.insertTransmission(tx());
      const b = repo.insertTransmission(tx({ hash: 'fedcba9876543210' }));
      expect(b).toBeGreaterThan(a);
      expect(repo.findTransmissionByHash('0123456789abcdef')).toEqual({ id: a, firstSeen: '2026-07-18T12:00:00Z', lastSeen: tx().lastSeen });
      expect(repo.findTransmissionByHash('nope')).toBeUndefined();
      expect(get('SELECT created_at FROM transmissions WHERE id = ?', a)).toMatchObject({ created_at: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/) });
    });

    it('the hash is UNIQUE', () => {
      repo.insertTransmission(tx());
      expect(() => repo.insertTransmission(tx())).toThrow(/UNIQUE/);
    });

    it('moveTransmissionFirstSeen and raiseTransmissionLastSeen (never lowers)', () => {
      const id = repo.insertTransmission(tx());
      repo.moveTransmissionFirstSeen(id, '2026-07-18T11:00:00Z');
      repo.raiseTransmissionLastSeen(id, 1_784_376_100);
      repo.raiseTransmissionLastSeen(id, 1_784_375_000);
      expect(get('SELECT first_seen, last_seen FROM transmissions WHERE id = ?', id)).toEqual({ first_seen: '2026-07-18T11:00:00Z', last_seen: 1_784_376_100 });
    });
  });

  describe('observations', () => {
    it('upsert on (transmission, observer, path): COALESCE fill-in, direction/timestamp kept', () => {
      const id = repo.insertTransmission(tx());
      repo.upsertObserver({ id: 'o1', name: 'n', iata: 'SJC', now: '2026-07-18T12:00:00Z' });
      const idx = repo.findObserverRowid('o1')!;
      repo.upsertObservation(observation(id, { observerIdx: idx, direction: 'rx', rawHex: 'AA' }));
      repo.upsertObservation(observation(id, { observerIdx: idx, direction: 'tx', snr: 5, rssi: -70, score: 2, timestamp: 9, rawHex: 'BB', resolvedPath: '["x"]' }));
      repo.upsertObservation(observation(id, { observerIdx: idx }));
      expect(all('SELECT direction, snr, rssi, score, timestamp, raw_hex, resolved_path FROM observations')).toEqual([
        { direction: 'rx', snr: 5, rssi: -70, score: 2, timestamp: 1_784_376_000, raw_hex: 'BB', resolved_path: '["x"]' },
      ]);
      // another path is another observation; a NULL observer never conflicts
      repo.upsertObservation(observation(id, { observerIdx: idx, pathJson: '["AA"]' }));
      repo.upsertObservation(observation(id));
      repo.upsertObservation(observation(id));
      expect(get<{ n: number }>('SELECT COUNT(*) AS n FROM observations').n).toBe(4);
    });

    it('foreign keys are on: an observation must reference a transmission', () => {
      expect(() => repo.upsertObservation(observation(999))).toThrow(/FOREIGN KEY/);
    });
  });

  describe('observers', () => {
    it('upsertPacketObserver equals the reference sequence (upsert, reactivate, stamp last_packet_at) and returns the rowid', () => {
      // The reference's three statements, run by hand on a second observer with the same history.
      const referenceSequence = (id: string, now: string) => {
        repo.upsertObserver({ id, name: 'n', iata: 'SJC', now });
        const rowid = repo.findObserverRowid(id)!;
        repo.markObserverPacket(rowid, now);
        return rowid;
      };
      for (const id of ['folded', 'reference']) {
        db.prepare("INSERT INTO observers (id, name, last_seen, last_packet_at, inactive, packet_count) VALUES (?, 'old', '2026-07-01T00:00:00Z', '2026-07-01T00:00:00Z', 1, 5)").run(id);
      }
      db.prepare("INSERT INTO observers (id, inactive) VALUES ('nullinactive', NULL)").run();
      const rowid = repo.upsertPacketObserver({ id: 'folded', name: 'n', iata: 'SJC', now: '2026-07-18T12:00:00Z' });
      referenceSequence('reference', '2026-07-18T12:00:00Z');
      const cols = 'name, iata, last_seen, first_seen, packet_count, last_packet_at, inactive, can_relay, can_relay_seen';
      expect(get(`SELECT ${cols} FROM observers WHERE id = 'folded'`)).toEqual(get(`SELECT ${cols} FROM observers WHERE id = 'reference'`));
      expect(rowid).toBe(repo.findObserverRowid('folded'));
      expect(get("SELECT inactive, last_packet_at FROM observers WHERE id = 'folded'")).toEqual({ inactive: 0, last_packet_at: '2026-07-18T12:00:00Z' });
      // A NULL inactive stays NULL, as the reference's `WHERE inactive = 1` leaves it.
      repo.upsertPacketObserver({ id: 'nullinactive', name: 'n', iata: 'SJC', now: '2026-07-18T12:00:00Z' });
      expect(get("SELECT inactive FROM observers WHERE id = 'nullinactive'")).toEqual({ inactive: null });
      // A brand-new observer gets last_packet_at and a rowid.
      const fresh = repo.upsertPacketObserver({ id: 'new', name: 'n', iata: 'SJC', now: '2026-07-18T12:00:00Z' });
      expect(get('SELECT id, last_packet_at, packet_count FROM observers WHERE rowid = ?', fresh)).toEqual({ id: 'new', last_packet_at: '2026-07-18T12:00:00Z', packet_count: 1 });
    });

    it('TestUpsertObserver: insert then update; first_seen only on insert; packet_count counts upserts', () => {
      repo.upsertObserver({ id: 'o1', name: 'First', iata: 'SJC', now: '2026-07-18T12:00:00Z' });
      repo.upsertObserver({ id: 'o1', name: '', iata: 'LAX', now: '2026-07-18T13:00:00Z' });
      expect(get("SELECT name, iata, first_seen, last_seen, packet_count, last_packet_at, can_relay, can_relay_seen, inactive FROM observers WHERE id = 'o1'")).toEqual({
        name: '',
        iata: 'LAX',
        first_seen: '2026-07-18T12:00:00Z',
        last_seen: '2026-07-18T13:00:00Z',
        packet_count: 2,
        last_packet_at: null,
        can_relay: 1,
        can_relay_seen: 0,
        inactive: 0,
      });
    });

    it('TestUpsertObserverWithMeta / MetaPreservesExisting; noise_floor is REAL (TestSchemaNoiseFloorIsReal)', () => {
      const meta = { model: 'Heltec V3', firmware: '1.12', clientVersion: 'mctomqtt/1', radio: '910,62.5,7,5', batteryMv: 4209, uptimeSecs: 75821, noiseFloor: -109, canRelay: 0 as const };
      repo.upsertObserver({ id: 'o1', name: 'n', iata: 'SJC', now: '2026-07-18T12:00:00Z', ...meta });
      repo.upsertObserver({ id: 'o1', name: 'n', iata: 'SJC', now: '2026-07-18T12:05:00Z' });
      expect(get("SELECT model, firmware, client_version, radio, battery_mv, uptime_secs, noise_floor, typeof(noise_floor) AS nf, can_relay, can_relay_seen FROM observers WHERE id = 'o1'")).toEqual({
        model: 'Heltec V3',
        firmware: '1.12',
        client_version: 'mctomqtt/1',
        radio: '910,62.5,7,5',
        battery_mv: 4209,
        uptime_secs: 75821,
        noise_floor: -109,
        nf: 'real',
        can_relay: 0,
        can_relay_seen: 1,
      });
    });

    it('an upsert reactivates a soft-deleted observer', () => {
      repo.upsertObserver({ id: 'o1', name: 'n', iata: 'SJC', now: '2026-07-18T12:00:00Z' });
      db.prepare("UPDATE observers SET inactive = 1 WHERE id = 'o1'").run();
      repo.upsertObserver({ id: 'o1', name: 'n', iata: 'SJC', now: '2026-07-18T12:00:01Z' });
      expect(get("SELECT inactive FROM observers WHERE id = 'o1'")).toEqual({ inactive: 0 });
    });

    it('markObserverPacket sets last_seen and last_packet_at to the given ingest time', () => {
      repo.upsertObserver({ id: 'o1', name: 'n', iata: 'SJC', now: '2026-07-18T12:00:00Z' });
      const rowid = repo.findObserverRowid('o1')!;
      repo.markObserverPacket(rowid, '2026-07-18T12:30:00Z');
      expect(get("SELECT last_seen, last_packet_at FROM observers WHERE id = 'o1'")).toEqual({ last_seen: '2026-07-18T12:30:00Z', last_packet_at: '2026-07-18T12:30:00Z' });
      expect(repo.findObserverRowid('missing')).toBeUndefined();
    });

    it('recordNaiveSkew creates a bare row, then counts within 24 h and restarts after', () => {
      repo.recordNaiveSkew('o1', 3600, '2026-07-18T12:00:00Z', '2026-07-17T12:00:00Z');
      expect(get("SELECT name, first_seen, packet_count, clock_skew_seconds, clock_skew_count_24h, clock_last_naive_at FROM observers WHERE id = 'o1'")).toEqual({
        name: null,
        first_seen: null,
        packet_count: 0,
        clock_skew_seconds: 3600,
        clock_skew_count_24h: 1,
        clock_last_naive_at: '2026-07-18T12:00:00Z',
      });
      repo.recordNaiveSkew('o1', -1200, '2026-07-18T20:00:00Z', '2026-07-17T20:00:00Z');
      expect(get("SELECT clock_skew_seconds, clock_skew_count_24h FROM observers WHERE id = 'o1'")).toEqual({ clock_skew_seconds: -1200, clock_skew_count_24h: 2 });
      repo.recordNaiveSkew('o1', 900.0, '2026-07-20T00:00:00Z', '2026-07-19T00:00:00Z');
      expect(get("SELECT clock_skew_seconds, typeof(clock_skew_seconds) AS t, clock_skew_count_24h FROM observers WHERE id = 'o1'")).toEqual({ clock_skew_seconds: 900, t: 'integer', clock_skew_count_24h: 1 });
    });
  });

  describe('observer_metrics', () => {
    it('TestInsertMetrics / Idempotent / NullFields: INSERT OR REPLACE per (observer, bucket)', () => {
      repo.insertObserverMetrics({ observerId: 'o1', timestamp: '2026-07-18T12:00:00Z', noiseFloor: -110, txAirSecs: 1, rxAirSecs: 2, recvErrors: 3, batteryMv: 4000, packetsSent: 5, packetsRecv: 6 });
      expect(get('SELECT * FROM observer_metrics')).toEqual({
        observer_id: 'o1',
        timestamp: '2026-07-18T12:00:00Z',
        noise_floor: -110,
        tx_air_secs: 1,
        rx_air_secs: 2,
        recv_errors: 3,
        battery_mv: 4000,
        packets_sent: 5,
        packets_recv: 6,
      });
      repo.insertObserverMetrics({ observerId: 'o1', timestamp: '2026-07-18T12:00:00Z', noiseFloor: -111 });
      expect(all('SELECT noise_floor, tx_air_secs, battery_mv, packets_recv FROM observer_metrics')).toEqual([{ noise_floor: -111, tx_air_secs: null, battery_mv: null, packets_recv: null }]);
      repo.insertObserverMetrics({ observerId: 'o1', timestamp: '2026-07-18T12:05:00Z' });
      expect(get<{ n: number }>('SELECT COUNT(*) AS n FROM observer_metrics').n).toBe(2);
    });
  });

  describe('nodes', () => {
    it('TestUpsertNode: insert then update name; advert_count stays 0; absent lat/lon keep the stored values', () => {
      repo.upsertNode({ publicKey: PK, name: 'One', role: 'repeater', lat: 37.5, lon: -122, now: '2026-07-18T12:00:00Z' });
      repo.upsertNode({ publicKey: PK, name: 'Two', role: 'room', now: '2026-07-18T13:00:00Z' });
      expect(get('SELECT name, role, lat, lon, first_seen, last_seen, advert_count, foreign_advert, default_scope, multibyte_sup FROM nodes')).toEqual({
        name: 'Two',
        role: 'room',
        lat: 37.5,
        lon: -122,
        first_seen: '2026-07-18T12:00:00Z',
        last_seen: '2026-07-18T13:00:00Z',
        advert_count: 0,
        foreign_advert: 0,
        default_scope: null,
        multibyte_sup: 0,
      });
      repo.incrementAdvertCount(PK);
      repo.markNodeForeign(PK);
      expect(get('SELECT advert_count, foreign_advert FROM nodes')).toEqual({ advert_count: 1, foreign_advert: 1 });
    });

    it('TestUpdateNodeTelemetry: COALESCE per field, nodes only', () => {
      repo.upsertNode({ publicKey: PK, name: 's', role: 'sensor', now: '2026-07-18T12:00:00Z' });
      repo.updateNodeTelemetry(PK, 3700, 21.5);
      repo.updateNodeTelemetry(PK, undefined, 22.25);
      expect(get('SELECT battery_mv, temperature_c FROM nodes')).toEqual({ battery_mv: 3700, temperature_c: 22.25 });
      repo.updateNodeTelemetry(PK, 3600, undefined);
      expect(get('SELECT battery_mv, temperature_c FROM nodes')).toEqual({ battery_mv: 3600, temperature_c: 22.25 });
    });

    it('TestUpdateNodeDefaultScope: updates nodes and inactive_nodes; empty scope is a no-op; an equal stored value skips both', () => {
      const cols = 'public_key, name, role, last_seen, first_seen';
      repo.upsertNode({ publicKey: PK, name: 'n', role: 'repeater', now: '2026-07-18T12:00:00Z' });
      db.prepare(`INSERT INTO inactive_nodes (${cols}) VALUES (?, 'n', 'repeater', '2026-07-01T00:00:00Z', '2026-07-01T00:00:00Z')`).run(PK);
      repo.updateNodeDefaultScope(PK, '');
      expect(all('SELECT default_scope FROM nodes UNION ALL SELECT default_scope FROM inactive_nodes')).toEqual([{ default_scope: null }, { default_scope: null }]);
      repo.updateNodeDefaultScope(PK, '#sjc');
      expect(get('SELECT default_scope FROM nodes')).toEqual({ default_scope: '#sjc' });
      expect(get('SELECT default_scope FROM inactive_nodes')).toEqual({ default_scope: '#sjc' });
      // the stored value equals the new one → nothing is written (inactive_nodes not touched either)
      db.prepare('UPDATE inactive_nodes SET default_scope = NULL').run();
      repo.updateNodeDefaultScope(PK, '#sjc');
      expect(get('SELECT default_scope FROM inactive_nodes')).toEqual({ default_scope: null });
      // a node that only exists in inactive_nodes
      const other = 'bb'.repeat(32);
      db.prepare(`INSERT INTO inactive_nodes (${cols}) VALUES (?, 'm', 'room', '2026-07-01T00:00:00Z', '2026-07-01T00:00:00Z')`).run(other);
      repo.updateNodeDefaultScope(other, '#lax');
      expect(get('SELECT default_scope FROM inactive_nodes WHERE public_key = ?', other)).toEqual({ default_scope: '#lax' });
    });

    it('listNodeKeys and listNeighborEdges read the resolver inputs', () => {
      repo.upsertNode({ publicKey: PK, name: 'n', role: 'repeater', now: '2026-07-18T12:00:00Z' });
      db.prepare("INSERT INTO neighbor_edges (node_a, node_b, count, last_seen) VALUES ('a', 'b', 1, '2026-07-18T12:00:00Z')").run();
      expect(repo.listNodeKeys()).toEqual([PK]);
      expect(repo.listNeighborEdges()).toEqual([['a', 'b']]);
    });
  });

  describe('dropped packets and client coverage', () => {
    it('insertDroppedPacket stores every field and a SQLite datetime', () => {
      repo.insertDroppedPacket({ hash: 'h', rawHex: 'AA', reason: 'invalid signature', observerId: 'o', observerName: 'O', nodePubkey: PK, nodeName: 'N' });
      expect(get('SELECT hash, raw_hex, reason, observer_id, observer_name, node_pubkey, node_name FROM dropped_packets')).toEqual({
        hash: 'h',
        raw_hex: 'AA',
        reason: 'invalid signature',
        observer_id: 'o',
        observer_name: 'O',
        node_pubkey: PK,
        node_name: 'N',
      });
      expect(get<{ dropped_at: string }>('SELECT dropped_at FROM dropped_packets').dropped_at).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    });

    it('insertClientReception is idempotent on (rx_pubkey, heard_key, rx_at); upsertClientObserver lower-cases the key', () => {
      const row = {
        rxPubkey: 'ab12',
        heardKey: 'c3d4',
        heardKeylen: 2,
        rssi: -97,
        snr: 6.25,
        lat: 37.3,
        lon: -121.9,
        posAccM: null,
        rxAt: '2026-07-18T11:00:00Z',
        ingestedAt: '2026-07-18T12:00:00Z',
        src: 'rxlog' as const,
      };
      repo.insertClientReception(row);
      repo.insertClientReception({ ...row, rssi: -50 });
      expect(all('SELECT rssi FROM client_receptions')).toEqual([{ rssi: -97 }]);
      repo.upsertClientObserver('AB12', 'Alice', '2026-07-18T12:00:00Z');
      repo.upsertClientObserver('ab12', 'Bob', '2026-07-18T12:01:00Z');
      expect(all('SELECT * FROM client_observers')).toEqual([{ pubkey: 'ab12', name: 'Bob', last_seen: '2026-07-18T12:01:00Z' }]);
    });
  });
});
