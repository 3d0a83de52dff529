/**
 * The write operations of the ingest pipeline (ingestor-spec §3.2–§3.6, §3.11). The pipeline
 * talks to this port only. All methods are synchronous and run inside the writer's transaction: SQLite
 * (../sqlite/sqlite-ingest.repository.ts) runs each statement as it comes; PostgreSQL
 * (../postgres/postgres-ingest.repository.ts) records them and writes the batch set-based at commit.
 */

export interface TransmissionInsert {
  rawHex: string;
  hash: string;
  /** RFC3339. */
  firstSeen: string;
  routeType: number | null;
  payloadType: number | null;
  payloadVersion: number | null;
  decodedJson: string | null;
  channelHash: string | null;
  scopeName: string | null;
  fromPubkey: string | null;
  /** Epoch seconds. */
  lastSeen: number;
}

export interface ObservationUpsert {
  transmissionId: number;
  observerIdx: number | null;
  direction: string | null;
  snr: number | null;
  rssi: number | null;
  score: number | null;
  pathJson: string;
  /** Epoch seconds. */
  timestamp: number;
  rawHex: string | null;
  resolvedPath: string | null;
}

export interface ObserverUpsert {
  id: string;
  name: string;
  iata: string;
  /** RFC3339 ingest time. */
  now: string;
  model?: string;
  firmware?: string;
  clientVersion?: string;
  radio?: string;
  batteryMv?: number;
  uptimeSecs?: number;
  noiseFloor?: number;
  canRelay?: 0 | 1;
}

export interface ObserverMetricsRow {
  observerId: string;
  /** RFC3339, rounded to the sample interval. */
  timestamp: string;
  noiseFloor?: number;
  txAirSecs?: number;
  rxAirSecs?: number;
  recvErrors?: number;
  batteryMv?: number;
  packetsSent?: number;
  packetsRecv?: number;
}

export interface NodeUpsert {
  publicKey: string;
  name: string;
  role: string;
  lat?: number;
  lon?: number;
  /** RFC3339. */
  now: string;
}

export interface DroppedPacketInsert {
  hash: string;
  rawHex: string;
  reason: string;
  observerId: string;
  observerName: string;
  nodePubkey: string;
  nodeName: string;
}

export interface ClientReceptionInsert {
  rxPubkey: string;
  heardKey: string;
  heardKeylen: number;
  rssi: number | null;
  snr: number | null;
  lat: number;
  lon: number;
  posAccM: number | null;
  rxAt: string;
  ingestedAt: string;
  src: 'rxlog' | 'advert';
}

/**
 * The writer's transaction boundaries, as the repository sees them. Inside an open batch the
 * repository may defer writes that commute with everything else in the batch (per-packet observer
 * counters, node upserts, observation rows) and must write them in `endBatch`, before COMMIT, and
 * may remember what the batch itself wrote (transmissions by hash).
 */
export interface IngestBatchScope {
  /**
   * A transaction begins; `coalesce` false when every message runs in its own savepoint (then
   * nothing may be deferred or remembered: a savepoint can roll one message back).
   */
  beginBatch(coalesce: boolean): void;
  /** Writes what was deferred; called inside the transaction, right before COMMIT. */
  endBatch(): void;
  /** The transaction was rolled back: forget what was deferred. */
  abandonBatch(): void;
}

export interface IngestRepository extends IngestBatchScope {
  findTransmissionByHash(hash: string): { id: number; firstSeen: string; lastSeen: number } | undefined;
  insertTransmission(row: TransmissionInsert): number;
  moveTransmissionFirstSeen(id: number, firstSeen: string): void;
  findObserverRowid(observerId: string): number | undefined;
  /** Sets last_seen and last_packet_at of an observer to now. */
  markObserverPacket(rowid: number, now: string): void;
  upsertObservation(row: ObservationUpsert): void;
  /** Raises transmissions.last_seen to the observation time (never lowers it). */
  raiseTransmissionLastSeen(id: number, epoch: number): void;
  /** Insert-or-update plus reactivation of a soft-deleted observer (status messages). */
  upsertObserver(row: ObserverUpsert): void;
  /**
   * The same upsert for an observer packet, which also stamps last_packet_at (what the reference
   * does right after, in InsertTransmission); returns the observer's rowid (observations.observer_idx).
   * Packets carry no observer metadata: only id, name, iata and now are used.
   */
  upsertPacketObserver(row: ObserverUpsert): number;
  recordNaiveSkew(observerId: string, skewSec: number, now: string, dayAgo: string): void;
  insertObserverMetrics(row: ObserverMetricsRow): void;
  upsertNode(row: NodeUpsert): void;
  markNodeForeign(publicKey: string): void;
  /**
   * Once per advert whose transmission this message inserted (`newTransmissionId`, what insertTransmission
   * returned). An engine where another writer may insert the same transmission at the same moment counts
   * it only when its own insert created the row.
   */
  incrementAdvertCount(publicKey: string, newTransmissionId: number): void;
  updateNodeTelemetry(publicKey: string, batteryMv: number | undefined, temperatureC: number | undefined): void;
  /** No-op when the scope is empty or already stored. */
  updateNodeDefaultScope(publicKey: string, scope: string): void;
  insertDroppedPacket(row: DroppedPacketInsert): void;
  insertClientReception(row: ClientReceptionInsert): void;
  upsertClientObserver(pubkey: string, name: string, now: string): void;
  /** Active node keys and neighbor edges, for resolved_path (read outside transactions). */
  listNodeKeys(): string[];
  listNeighborEdges(): Array<[string, string]>;
}

export const INGEST_REPOSITORY = Symbol('INGEST_REPOSITORY');
