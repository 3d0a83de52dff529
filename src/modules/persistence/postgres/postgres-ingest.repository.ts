import type { PoolClient } from 'pg';
import type {
  ClientReceptionInsert,
  DroppedPacketInsert,
  IngestRepository,
  NodeUpsert,
  ObservationUpsert,
  ObserverMetricsRow,
  ObserverUpsert,
  TransmissionInsert,
} from '../repositories/ingest.repository';

/**
 * The ingest port on PostgreSQL, as a unit of work. The pipeline is synchronous (it was written for
 * better-sqlite3) and a PostgreSQL round trip is not: so a batch runs in three steps.
 *
 * 1. `prefetch(keys)` (async, one query per table): the transmissions and observers the batch names.
 * 2. The pipeline runs over the batch synchronously. Reads are answered from the prefetch and from what
 *    the batch itself wrote; writes are recorded, merged per row exactly as the SQL of the SQLite
 *    repository would have merged them one after the other. New rows get negative placeholder ids.
 * 3. `commit(client)` (async, inside the caller's transaction): a handful of set-based statements
 *    (`INSERT … SELECT FROM unnest(…) ON CONFLICT …`), whatever the batch size; placeholders are swapped
 *    for the ids PostgreSQL returns.
 *
 * Several replicas may write the same rows at the same time: every insert is an upsert on the natural
 * key (hash, observer id, public key …), so the same transmission inserted by two replicas at once is one
 * row; an advert's count goes up only for the replica whose insert created the transmission
 * (`RETURNING (xmax = 0)`). Multi-row statements touch rows in key order, so two replicas take row
 * locks in the same order and do not deadlock each other.
 *
 * Timestamps are RFC3339 text, compared with `COLLATE "C"` (byte order, as SQLite and the pipeline do).
 */

/** What a batch names, for `prefetch`. */
export interface IngestBatchKeys {
  readonly hashes: Iterable<string>;
  readonly observerIds: Iterable<string>;
}

interface KnownTransmission {
  id: number;
  firstSeen: string;
  lastSeen: number;
}

interface NewTransmission {
  placeholder: number;
  row: TransmissionInsert;
}

/** first_seen lowered / last_seen raised on a transmission that already existed before the batch. */
interface TransmissionMove {
  firstSeen?: string;
  lastSeen?: number;
}

type ObserverOp =
  | { kind: 'packet'; id: string; name: string; iata: string; now: string; placeholder?: number; firstNow: string }
  | { kind: 'status'; row: ObserverUpsert }
  | { kind: 'touch'; rowid: number; now: string }
  | { kind: 'skew'; id: string; skew: number; now: string; dayAgo: string };

interface NodeAggregate {
  publicKey: string;
  name: string | null;
  role: string | null;
  lat: number | null;
  lon: number | null;
  /** now of the first upsert: first_seen when the row is new. */
  firstNow: string;
  /** now of the last upsert: last_seen. */
  lastNow: string;
}

interface TelemetryAggregate {
  batteryMv: number | null;
  temperatureC: number | null;
}

const orNull = <T>(v: T | undefined): T | null => (v === undefined ? null : v);
/** The observations unique key (transmission_id, observer_idx, COALESCE(path_json, '')), as one string. */
const observationKey = (transmissionId: number, observerIdx: number, pathJson: string | null) => `${transmissionId}|${observerIdx}|${pathJson ?? ''}`;
const C = 'COLLATE "C"';

/** Row locks in key order; the JS comparison is by UTF-16 code units, the same as "C" for our ASCII keys. */
const byKey = <T>(key: (row: T) => string) => (a: T, b: T) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);

export class PostgresIngestRepository implements IngestRepository {
  private readonly prefetchedTx = new Map<string, KnownTransmission>();
  private readonly prefetchedObservers = new Map<string, number>();
  /** Transmissions the batch read or inserted, by hash (ids may be placeholders). */
  private readonly batchTx = new Map<string, KnownTransmission>();
  private readonly newTx: NewTransmission[] = [];
  private readonly newTxByPlaceholder = new Map<number, NewTransmission>();
  private readonly txMoves = new Map<number, TransmissionMove>();
  private readonly observerOps: ObserverOp[] = [];
  /** The packet upsert of an observer that later packets of the batch may still merge into. */
  private readonly openPacketOps = new Map<string, Extract<ObserverOp, { kind: 'packet' }>>();
  /** Observers the batch creates: id → placeholder rowid. */
  private readonly observerPlaceholders = new Map<string, number>();
  private observations: ObservationUpsert[] = [];
  /** Rowid of the observer whose packet's observation comes next (counted into packet_count if it is new). */
  private packetObserverOfNextObservation: number | undefined;
  /** Indexes into `observations` of packet observations, with the observer each counts for. */
  private readonly packetObservations = new Map<number, number>();
  /** Observations with an observer merge on the unique key, like ON CONFLICT would (index into `observations`). */
  private readonly observationByKey = new Map<string, number>();
  private readonly nodes = new Map<string, NodeAggregate>();
  private readonly foreignNodes = new Set<string>();
  /** Adverts whose transmission this batch inserted: counted if the insert created the row. */
  private readonly advertCounts: Array<{ publicKey: string; transmission: number }> = [];
  private readonly telemetry = new Map<string, TelemetryAggregate>();
  private readonly scopes = new Map<string, string>();
  private readonly metrics = new Map<string, ObserverMetricsRow>();
  private dropped: DroppedPacketInsert[] = [];
  private clientReceptions: ClientReceptionInsert[] = [];
  private readonly clientObservers = new Map<string, { pubkey: string; name: string; now: string }>();
  private nextPlaceholder = -1;
  private nodeKeys: string[] = [];
  private neighborEdges: Array<[string, string]> = [];

  // ---- the async steps ----

  /** Loads the rows the batch will look up (outside or inside the caller's transaction). */
  async prefetch(client: PoolClient, keys: IngestBatchKeys): Promise<void> {
    this.prefetchedTx.clear();
    this.prefetchedObservers.clear();
    const hashes = [...new Set(keys.hashes)];
    const observerIds = [...new Set(keys.observerIds)];
    if (hashes.length > 0) {
      const { rows } = await client.query<{ id: string; hash: string; first_seen: string; last_seen: string }>(
        'SELECT id, hash, first_seen, last_seen FROM transmissions WHERE hash = ANY($1::text[])',
        [hashes],
      );
      for (const r of rows) this.prefetchedTx.set(r.hash, { id: Number(r.id), firstSeen: r.first_seen, lastSeen: Number(r.last_seen) });
    }
    if (observerIds.length > 0) {
      const { rows } = await client.query<{ id: string; rowid: string }>('SELECT id, rowid FROM observers WHERE id = ANY($1::text[])', [observerIds]);
      for (const r of rows) this.prefetchedObservers.set(r.id, Number(r.rowid));
    }
  }

  /** Node keys and neighbor edges for the path resolver (`listNodeKeys`, `listNeighborEdges` answer from this copy). */
  async loadPathIndexInputs(client: PoolClient): Promise<void> {
    const keys = await client.query<{ public_key: string }>('SELECT public_key FROM nodes');
    const edges = await client.query<{ node_a: string; node_b: string }>('SELECT node_a, node_b FROM neighbor_edges');
    this.nodeKeys = keys.rows.map((r) => r.public_key);
    this.neighborEdges = edges.rows.map((r) => [r.node_a, r.node_b]);
  }

  /** Writes what the batch recorded, inside the caller's open transaction, and forgets it. */
  async commit(client: PoolClient): Promise<void> {
    const observerRowids = await this.writeObservers(client);
    const txIds = await this.writeTransmissions(client);
    await this.writeObservations(client, txIds, observerRowids);
    await this.writeNodes(client, txIds);
    await this.writeObserverMetrics(client);
    await this.writeDroppedPackets(client);
    await this.writeClientRows(client);
    this.forgetBatch();
  }

  // ---- IngestBatchScope ----

  beginBatch(): void {
    this.forgetBatch();
  }

  /** Nothing to do before COMMIT here: `commit` is the async flush the writer awaits. */
  endBatch(): void {}

  abandonBatch(): void {
    this.forgetBatch();
  }

  private forgetBatch(): void {
    this.batchTx.clear();
    this.newTx.length = 0;
    this.newTxByPlaceholder.clear();
    this.txMoves.clear();
    this.observerOps.length = 0;
    this.openPacketOps.clear();
    this.observerPlaceholders.clear();
    this.observations = [];
    this.observationByKey.clear();
    this.packetObservations.clear();
    this.packetObserverOfNextObservation = undefined;
    this.nodes.clear();
    this.foreignNodes.clear();
    this.advertCounts.length = 0;
    this.telemetry.clear();
    this.scopes.clear();
    this.metrics.clear();
    this.dropped = [];
    this.clientReceptions = [];
    this.clientObservers.clear();
    this.nextPlaceholder = -1;
  }

  private placeholder(): number {
    return this.nextPlaceholder--;
  }

  // ---- transmissions ----

  findTransmissionByHash(hash: string): KnownTransmission | undefined {
    const known = this.batchTx.get(hash) ?? this.prefetchedTx.get(hash);
    if (!known) return undefined;
    this.batchTx.set(hash, known);
    return { ...known };
  }

  insertTransmission(row: TransmissionInsert): number {
    const placeholder = this.placeholder();
    const entry = { placeholder, row: { ...row } };
    this.newTx.push(entry);
    this.newTxByPlaceholder.set(placeholder, entry);
    this.batchTx.set(row.hash, { id: placeholder, firstSeen: row.firstSeen, lastSeen: row.lastSeen });
    return placeholder;
  }

  moveTransmissionFirstSeen(id: number, firstSeen: string): void {
    const fresh = this.newTxByPlaceholder.get(id);
    if (fresh) fresh.row.firstSeen = firstSeen;
    else {
      const move = this.txMoves.get(id) ?? {};
      if (move.firstSeen === undefined || firstSeen < move.firstSeen) move.firstSeen = firstSeen;
      this.txMoves.set(id, move);
    }
    this.updateKnown(id, (known) => (known.firstSeen = firstSeen));
  }

  raiseTransmissionLastSeen(id: number, epoch: number): void {
    const fresh = this.newTxByPlaceholder.get(id);
    if (fresh) fresh.row.lastSeen = Math.max(fresh.row.lastSeen, epoch);
    else {
      const move = this.txMoves.get(id) ?? {};
      move.lastSeen = Math.max(move.lastSeen ?? epoch, epoch);
      this.txMoves.set(id, move);
    }
    this.updateKnown(id, (known) => (known.lastSeen = Math.max(known.lastSeen, epoch)));
  }

  private updateKnown(id: number, change: (known: KnownTransmission) => void): void {
    for (const [hash, known] of this.batchTx) {
      if (known.id !== id) continue;
      const copy = { ...known };
      change(copy);
      this.batchTx.set(hash, copy);
      return;
    }
  }

  /** New transmissions in one upsert; a concurrent insert of the same hash by another replica merges. */
  private async writeTransmissions(client: PoolClient): Promise<Map<number, { id: number; inserted: boolean }>> {
    const ids = new Map<number, { id: number; inserted: boolean }>();
    if (this.newTx.length > 0) {
      const rows = [...this.newTx].sort(byKey((t) => t.row.hash));
      const { rows: returned } = await client.query<{ id: string; hash: string; inserted: boolean }>(
        `INSERT INTO transmissions (raw_hex, hash, first_seen, route_type, payload_type, payload_version, decoded_json,
           channel_hash, scope_name, from_pubkey, last_seen)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::text[],
           $8::text[], $9::text[], $10::text[], $11::bigint[])
         ON CONFLICT (hash) DO UPDATE SET
           first_seen = CASE WHEN excluded.first_seen ${C} < transmissions.first_seen ${C} THEN excluded.first_seen ELSE transmissions.first_seen END,
           last_seen = GREATEST(transmissions.last_seen, excluded.last_seen)
         RETURNING id, hash, (xmax = 0) AS inserted`,
        [
          rows.map((t) => t.row.rawHex),
          rows.map((t) => t.row.hash),
          rows.map((t) => t.row.firstSeen),
          rows.map((t) => t.row.routeType),
          rows.map((t) => t.row.payloadType),
          rows.map((t) => t.row.payloadVersion),
          rows.map((t) => t.row.decodedJson),
          rows.map((t) => t.row.channelHash),
          rows.map((t) => t.row.scopeName),
          rows.map((t) => t.row.fromPubkey),
          rows.map((t) => t.row.lastSeen),
        ],
      );
      const byHash = new Map(returned.map((r) => [r.hash, { id: Number(r.id), inserted: r.inserted }]));
      for (const t of this.newTx) {
        const got = byHash.get(t.row.hash);
        if (!got) throw new Error(`transmission ${t.row.hash} was not returned by its upsert`);
        ids.set(t.placeholder, got);
      }
    }
    const moves = [...this.txMoves].sort((a, b) => a[0] - b[0]);
    if (moves.length > 0) {
      await client.query(
        `UPDATE transmissions t SET
           first_seen = CASE WHEN u.first_seen IS NOT NULL AND u.first_seen ${C} < t.first_seen ${C} THEN u.first_seen ELSE t.first_seen END,
           last_seen = GREATEST(t.last_seen, COALESCE(u.last_seen, t.last_seen))
         FROM unnest($1::bigint[], $2::text[], $3::bigint[]) AS u(id, first_seen, last_seen)
         WHERE t.id = u.id`,
        [moves.map(([id]) => id), moves.map(([, m]) => m.firstSeen ?? null), moves.map(([, m]) => m.lastSeen ?? null)],
      );
    }
    return ids;
  }

  // ---- observers ----

  findObserverRowid(observerId: string): number | undefined {
    return this.observerPlaceholders.get(observerId) ?? this.prefetchedObservers.get(observerId);
  }

  markObserverPacket(rowid: number, now: string): void {
    this.openPacketOps.clear();
    this.observerOps.push({ kind: 'touch', rowid, now });
  }

  upsertObserver(row: ObserverUpsert): void {
    this.openPacketOps.delete(row.id);
    this.observerOps.push({ kind: 'status', row: { ...row } });
  }

  /**
   * Packets of one observer merge into its first upsert of the batch (the last name, iata and time), as long
   * as no other statement on that observer came in between: the row ends up as with one upsert per packet.
   *
   * packet_count differs on purpose from SQLite's "+1 per packet message": it goes up once per observation the
   * packet created. Replicas that all receive every message (no shareGroup) then count a packet once, not once
   * per replica, and so does a QoS 1 redelivery of the same message; SQLite counts those twice, as the Go
   * ingestor does. The packet's observation is the next upsertObservation (the pipeline writes it right after).
   */
  upsertPacketObserver(row: ObserverUpsert): number {
    const open = this.openPacketOps.get(row.id);
    if (open) {
      open.name = row.name;
      open.iata = row.iata;
      open.now = row.now;
    } else {
      const op: Extract<ObserverOp, { kind: 'packet' }> = { kind: 'packet', id: row.id, name: row.name, iata: row.iata, now: row.now, firstNow: row.now };
      this.observerOps.push(op);
      this.openPacketOps.set(row.id, op);
    }
    let rowid = this.findObserverRowid(row.id);
    if (rowid === undefined) {
      rowid = this.placeholder();
      this.observerPlaceholders.set(row.id, rowid);
      (open ?? this.openPacketOps.get(row.id)!).placeholder = rowid;
    }
    this.packetObserverOfNextObservation = rowid;
    return rowid;
  }

  recordNaiveSkew(observerId: string, skewSec: number, now: string, dayAgo: string): void {
    this.openPacketOps.delete(observerId);
    this.observerOps.push({ kind: 'skew', id: observerId, skew: skewSec, now, dayAgo });
  }

  /** Observer statements in their order (a few per observer and batch); returns placeholder → rowid. */
  private async writeObservers(client: PoolClient): Promise<Map<number, number>> {
    const rowids = new Map<number, number>();
    const resolve = (rowid: number) => (rowid < 0 ? rowids.get(rowid) : rowid);
    for (const op of this.observerOps) {
      switch (op.kind) {
        case 'packet': {
          const { rows } = await client.query<{ rowid: string }>(
            `INSERT INTO observers AS o (id, name, iata, last_seen, first_seen, packet_count, last_packet_at)
             VALUES ($1, $2, $3, $4, $5, 0, $4)
             ON CONFLICT (id) DO UPDATE SET
               name = excluded.name, iata = excluded.iata, last_seen = excluded.last_seen,
               inactive = CASE WHEN o.inactive = 1 THEN 0 ELSE o.inactive END,
               last_packet_at = excluded.last_packet_at
             RETURNING rowid`,
            // A new row's first_seen is the batch's first packet; the merged ones only move last_seen. packet_count is
            // added after the observations (writePacketCounts): one per observation this batch created.
            [op.id, op.name, op.iata, op.now, op.firstNow],
          );
          if (op.placeholder !== undefined) rowids.set(op.placeholder, Number(rows[0].rowid));
          break;
        }
        case 'status': {
          const r = op.row;
          await client.query(
            `INSERT INTO observers AS o (id, name, iata, last_seen, first_seen, packet_count, model, firmware, client_version, radio,
               battery_mv, uptime_secs, noise_floor, can_relay, can_relay_seen)
             VALUES ($1, $2, $3, $4, $4, 1, $5, $6, $7, $8, $9, $10, $11, COALESCE($12::bigint, 1), CASE WHEN $12::bigint IS NULL THEN 0 ELSE 1 END)
             ON CONFLICT (id) DO UPDATE SET
               name = COALESCE(excluded.name, o.name), iata = COALESCE(excluded.iata, o.iata),
               last_seen = excluded.last_seen, packet_count = COALESCE(o.packet_count, 0) + 1,
               model = COALESCE(excluded.model, o.model), firmware = COALESCE(excluded.firmware, o.firmware),
               client_version = COALESCE(excluded.client_version, o.client_version), radio = COALESCE(excluded.radio, o.radio),
               battery_mv = COALESCE(excluded.battery_mv, o.battery_mv), uptime_secs = COALESCE(excluded.uptime_secs, o.uptime_secs),
               noise_floor = COALESCE(excluded.noise_floor, o.noise_floor),
               can_relay = COALESCE($12::bigint, o.can_relay),
               can_relay_seen = CASE WHEN $12::bigint IS NULL THEN o.can_relay_seen ELSE 1 END,
               inactive = CASE WHEN o.inactive = 1 THEN 0 ELSE o.inactive END`,
            [
              r.id,
              r.name,
              r.iata,
              r.now,
              orNull(r.model),
              orNull(r.firmware),
              orNull(r.clientVersion),
              orNull(r.radio),
              orNull(r.batteryMv),
              orNull(r.uptimeSecs),
              orNull(r.noiseFloor),
              orNull(r.canRelay),
            ],
          );
          break;
        }
        case 'touch': {
          const rowid = resolve(op.rowid);
          if (rowid !== undefined) await client.query('UPDATE observers SET last_seen = $2, last_packet_at = $2 WHERE rowid = $1', [rowid, op.now]);
          break;
        }
        case 'skew':
          await client.query(
            `INSERT INTO observers AS o (id, clock_skew_seconds, clock_skew_count_24h, clock_last_naive_at) VALUES ($1, $2, 1, $3)
             ON CONFLICT (id) DO UPDATE SET
               clock_skew_seconds = excluded.clock_skew_seconds, clock_last_naive_at = excluded.clock_last_naive_at,
               clock_skew_count_24h = CASE WHEN o.clock_last_naive_at IS NULL OR o.clock_last_naive_at ${C} < $4 ${C} THEN 1
                 ELSE COALESCE(o.clock_skew_count_24h, 0) + 1 END`,
            [op.id, op.skew, op.now, op.dayAgo],
          );
          break;
      }
    }
    return rowids;
  }

  // ---- observations ----

  /** Merged in memory on the unique key first: one multi-row ON CONFLICT DO UPDATE may not touch a row twice. */
  upsertObservation(row: ObservationUpsert): void {
    const countsFor = this.packetObserverOfNextObservation;
    this.packetObserverOfNextObservation = undefined;
    if (row.observerIdx === null) {
      this.observations.push({ ...row });
      return;
    }
    const key = observationKey(row.transmissionId, row.observerIdx, row.pathJson);
    const at = this.observationByKey.get(key);
    if (at === undefined) {
      this.observationByKey.set(key, this.observations.length);
      if (countsFor === row.observerIdx) this.packetObservations.set(this.observations.length, countsFor);
      this.observations.push({ ...row });
      return;
    }
    const kept = this.observations[at];
    kept.snr = row.snr ?? kept.snr;
    kept.rssi = row.rssi ?? kept.rssi;
    kept.score = row.score ?? kept.score;
    kept.rawHex = row.rawHex ?? kept.rawHex;
    kept.resolvedPath = row.resolvedPath ?? kept.resolvedPath;
  }

  private async writeObservations(client: PoolClient, txIds: Map<number, { id: number }>, observerRowids: Map<number, number>): Promise<void> {
    if (this.observations.length === 0) return;
    const rows = this.observations.map((o) => ({
      ...o,
      transmissionId: o.transmissionId < 0 ? txIds.get(o.transmissionId)?.id : o.transmissionId,
      observerIdx: o.observerIdx !== null && o.observerIdx < 0 ? (observerRowids.get(o.observerIdx) ?? null) : o.observerIdx,
    }));
    for (const r of rows) if (r.transmissionId === undefined) throw new Error('observation of an unknown transmission placeholder');
    const { rows: written } = await client.query<{ transmission_id: string; observer_idx: string | null; path_json: string | null; inserted: boolean }>(
      `INSERT INTO observations AS o (transmission_id, observer_idx, direction, snr, rssi, score, path_json, timestamp, raw_hex, resolved_path)
       SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::float8[], $5::float8[], $6::bigint[], $7::text[], $8::bigint[], $9::text[], $10::text[])
       ON CONFLICT (transmission_id, observer_idx, COALESCE(path_json, '')) DO UPDATE SET
         snr = COALESCE(excluded.snr, o.snr), rssi = COALESCE(excluded.rssi, o.rssi), score = COALESCE(excluded.score, o.score),
         raw_hex = COALESCE(excluded.raw_hex, o.raw_hex), resolved_path = COALESCE(excluded.resolved_path, o.resolved_path)
       RETURNING transmission_id, observer_idx, path_json, (xmax = 0) AS inserted`,
      [
        rows.map((r) => r.transmissionId),
        rows.map((r) => r.observerIdx),
        rows.map((r) => r.direction),
        rows.map((r) => r.snr),
        rows.map((r) => r.rssi),
        rows.map((r) => r.score),
        rows.map((r) => r.pathJson),
        rows.map((r) => r.timestamp),
        rows.map((r) => r.rawHex),
        rows.map((r) => r.resolvedPath),
      ],
    );
    await this.writePacketCounts(client, rows, written);
  }

  /** observers.packet_count += the packet observations this batch created (not those another writer had). */
  private async writePacketCounts(
    client: PoolClient,
    rows: ReadonlyArray<{ transmissionId: number | undefined; observerIdx: number | null; pathJson: string }>,
    written: ReadonlyArray<{ transmission_id: string; observer_idx: string | null; path_json: string | null; inserted: boolean }>,
  ): Promise<void> {
    if (this.packetObservations.size === 0) return;
    const created = new Set(written.filter((w) => w.inserted && w.observer_idx !== null).map((w) => observationKey(Number(w.transmission_id), Number(w.observer_idx), w.path_json)));
    const counts = new Map<number, number>();
    for (const [at] of this.packetObservations) {
      const r = rows[at];
      if (r.observerIdx === null || !created.has(observationKey(r.transmissionId!, r.observerIdx, r.pathJson))) continue;
      counts.set(r.observerIdx, (counts.get(r.observerIdx) ?? 0) + 1);
    }
    if (counts.size === 0) return;
    const entries = [...counts].sort((a, b) => a[0] - b[0]);
    await client.query(
      `UPDATE observers o SET packet_count = COALESCE(o.packet_count, 0) + u.n
       FROM unnest($1::bigint[], $2::bigint[]) AS u(rowid, n) WHERE o.rowid = u.rowid`,
      [entries.map(([rowid]) => rowid), entries.map(([, n]) => n)],
    );
  }

  // ---- nodes ----

  /** COALESCE(new, old) applied one upsert after another = the last non-null value; last_seen the last time. */
  upsertNode(row: NodeUpsert): void {
    const known = this.nodes.get(row.publicKey);
    if (!known) {
      this.nodes.set(row.publicKey, {
        publicKey: row.publicKey,
        name: orNull(row.name),
        role: orNull(row.role),
        lat: orNull(row.lat),
        lon: orNull(row.lon),
        firstNow: row.now,
        lastNow: row.now,
      });
      return;
    }
    known.name = row.name ?? known.name;
    known.role = row.role ?? known.role;
    known.lat = row.lat ?? known.lat;
    known.lon = row.lon ?? known.lon;
    known.lastNow = row.now;
  }

  markNodeForeign(publicKey: string): void {
    this.foreignNodes.add(publicKey);
  }

  incrementAdvertCount(publicKey: string, newTransmissionId: number): void {
    this.advertCounts.push({ publicKey, transmission: newTransmissionId });
  }

  updateNodeTelemetry(publicKey: string, batteryMv: number | undefined, temperatureC: number | undefined): void {
    const known = this.telemetry.get(publicKey) ?? { batteryMv: null, temperatureC: null };
    known.batteryMv = batteryMv ?? known.batteryMv;
    known.temperatureC = temperatureC ?? known.temperatureC;
    this.telemetry.set(publicKey, known);
  }

  updateNodeDefaultScope(publicKey: string, scope: string): void {
    if (scope) this.scopes.set(publicKey, scope);
  }

  /**
   * Upserts first (the UPDATEs below need the rows), then the per-column statements: each touches columns
   * the others do not, so running them per kind instead of per message leaves the same rows.
   */
  private async writeNodes(client: PoolClient, txIds: Map<number, { id: number; inserted: boolean }>): Promise<void> {
    const nodes = [...this.nodes.values()].sort(byKey((n) => n.publicKey));
    if (nodes.length > 0) {
      await client.query(
        `INSERT INTO nodes AS n (public_key, name, role, lat, lon, last_seen, first_seen)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::float8[], $6::text[], $7::text[])
         ON CONFLICT (public_key) DO UPDATE SET
           name = COALESCE(excluded.name, n.name), role = COALESCE(excluded.role, n.role),
           lat = COALESCE(excluded.lat, n.lat), lon = COALESCE(excluded.lon, n.lon), last_seen = excluded.last_seen`,
        [
          nodes.map((n) => n.publicKey),
          nodes.map((n) => n.name),
          nodes.map((n) => n.role),
          nodes.map((n) => n.lat),
          nodes.map((n) => n.lon),
          nodes.map((n) => n.lastNow),
          nodes.map((n) => n.firstNow),
        ],
      );
    }
    if (this.foreignNodes.size > 0) {
      await client.query('UPDATE nodes SET foreign_advert = 1 WHERE public_key = ANY($1::text[])', [[...this.foreignNodes].sort()]);
    }
    const counts = new Map<string, number>();
    for (const { publicKey, transmission } of this.advertCounts) {
      // Counted when this batch's insert created the transmission (not when another replica's did).
      const won = transmission < 0 ? txIds.get(transmission)?.inserted === true : true;
      if (won) counts.set(publicKey, (counts.get(publicKey) ?? 0) + 1);
    }
    if (counts.size > 0) {
      const entries = [...counts].sort(byKey(([k]) => k));
      await client.query(
        `UPDATE nodes n SET advert_count = COALESCE(n.advert_count, 0) + u.c
         FROM unnest($1::text[], $2::bigint[]) AS u(k, c) WHERE n.public_key = u.k`,
        [entries.map(([k]) => k), entries.map(([, c]) => c)],
      );
    }
    if (this.telemetry.size > 0) {
      const entries = [...this.telemetry].sort(byKey(([k]) => k));
      await client.query(
        `UPDATE nodes n SET battery_mv = COALESCE(u.b, n.battery_mv), temperature_c = COALESCE(u.t, n.temperature_c)
         FROM unnest($1::text[], $2::bigint[], $3::float8[]) AS u(k, b, t) WHERE n.public_key = u.k`,
        [entries.map(([k]) => k), entries.map(([, t]) => t.batteryMv), entries.map(([, t]) => t.temperatureC)],
      );
    }
    if (this.scopes.size > 0) {
      const entries = [...this.scopes].sort(byKey(([k]) => k));
      const params = [entries.map(([k]) => k), entries.map(([, s]) => s)];
      // As the SQLite repository: nothing when the active row already has the scope; otherwise both tables.
      await client.query(
        `UPDATE inactive_nodes i SET default_scope = u.s FROM unnest($1::text[], $2::text[]) AS u(k, s)
         WHERE i.public_key = u.k AND NOT EXISTS (SELECT 1 FROM nodes n WHERE n.public_key = u.k AND n.default_scope = u.s)`,
        params,
      );
      await client.query(
        `UPDATE nodes n SET default_scope = u.s FROM unnest($1::text[], $2::text[]) AS u(k, s)
         WHERE n.public_key = u.k AND n.default_scope IS DISTINCT FROM u.s`,
        params,
      );
    }
  }

  // ---- observer metrics, dropped packets, companion clients ----

  /** INSERT OR REPLACE: the last sample of a (observer, timestamp) wins whole. */
  insertObserverMetrics(row: ObserverMetricsRow): void {
    this.metrics.set(`${row.observerId}\u0000${row.timestamp}`, { ...row });
  }

  private async writeObserverMetrics(client: PoolClient): Promise<void> {
    if (this.metrics.size === 0) return;
    const rows = [...this.metrics.values()].sort(byKey((m) => `${m.observerId}\u0000${m.timestamp}`));
    await client.query(
      `INSERT INTO observer_metrics (observer_id, timestamp, noise_floor, tx_air_secs, rx_air_secs, recv_errors, battery_mv, packets_sent, packets_recv)
       SELECT * FROM unnest($1::text[], $2::text[], $3::float8[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[])
       ON CONFLICT (observer_id, timestamp) DO UPDATE SET
         noise_floor = excluded.noise_floor, tx_air_secs = excluded.tx_air_secs, rx_air_secs = excluded.rx_air_secs,
         recv_errors = excluded.recv_errors, battery_mv = excluded.battery_mv, packets_sent = excluded.packets_sent,
         packets_recv = excluded.packets_recv`,
      [
        rows.map((m) => m.observerId),
        rows.map((m) => m.timestamp),
        rows.map((m) => orNull(m.noiseFloor)),
        rows.map((m) => orNull(m.txAirSecs)),
        rows.map((m) => orNull(m.rxAirSecs)),
        rows.map((m) => orNull(m.recvErrors)),
        rows.map((m) => orNull(m.batteryMv)),
        rows.map((m) => orNull(m.packetsSent)),
        rows.map((m) => orNull(m.packetsRecv)),
      ],
    );
  }

  insertDroppedPacket(row: DroppedPacketInsert): void {
    this.dropped.push({ ...row });
  }

  private async writeDroppedPackets(client: PoolClient): Promise<void> {
    if (this.dropped.length === 0) return;
    const rows = this.dropped;
    await client.query(
      `INSERT INTO dropped_packets (hash, raw_hex, reason, observer_id, observer_name, node_pubkey, node_name)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])`,
      [
        rows.map((d) => d.hash),
        rows.map((d) => d.rawHex),
        rows.map((d) => d.reason),
        rows.map((d) => d.observerId),
        rows.map((d) => d.observerName),
        rows.map((d) => d.nodePubkey),
        rows.map((d) => d.nodeName),
      ],
    );
  }

  insertClientReception(row: ClientReceptionInsert): void {
    this.clientReceptions.push({ ...row });
  }

  upsertClientObserver(pubkey: string, name: string, now: string): void {
    const key = pubkey.toLowerCase();
    this.clientObservers.set(key, { pubkey: key, name, now });
  }

  private async writeClientRows(client: PoolClient): Promise<void> {
    const receptions = this.clientReceptions;
    if (receptions.length > 0) {
      await client.query(
        `INSERT INTO client_receptions (rx_pubkey, heard_key, heard_keylen, rssi, snr, lat, lon, pos_acc_m, rx_at, ingested_at, src)
         SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::float8[], $5::float8[], $6::float8[], $7::float8[], $8::float8[],
           $9::text[], $10::text[], $11::text[])
         ON CONFLICT (rx_pubkey, heard_key, rx_at) DO NOTHING`,
        [
          receptions.map((r) => r.rxPubkey),
          receptions.map((r) => r.heardKey),
          receptions.map((r) => r.heardKeylen),
          receptions.map((r) => r.rssi),
          receptions.map((r) => r.snr),
          receptions.map((r) => r.lat),
          receptions.map((r) => r.lon),
          receptions.map((r) => r.posAccM),
          receptions.map((r) => r.rxAt),
          receptions.map((r) => r.ingestedAt),
          receptions.map((r) => r.src),
        ],
      );
    }
    if (this.clientObservers.size > 0) {
      const rows = [...this.clientObservers.values()].sort(byKey((c) => c.pubkey));
      await client.query(
        `INSERT INTO client_observers (pubkey, name, last_seen) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
         ON CONFLICT (pubkey) DO UPDATE SET name = excluded.name, last_seen = excluded.last_seen`,
        [rows.map((c) => c.pubkey), rows.map((c) => c.name), rows.map((c) => c.now)],
      );
    }
  }

  // ---- path resolver inputs (the copy loaded by loadPathIndexInputs) ----

  listNodeKeys(): string[] {
    return [...this.nodeKeys];
  }

  listNeighborEdges(): Array<[string, string]> {
    return this.neighborEdges.map(([a, b]) => [a, b]);
  }
}
