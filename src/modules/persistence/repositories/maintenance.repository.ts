/**
 * Storage port of the maintenance jobs on SQLite (ingestor-spec §2.5, §5). The jobs, the neighbor builder, the
 * multibyte persister and the prune-request queue talk to this interface only (../sqlite/sqlite-maintenance.repository.ts
 * implements it); on PostgreSQL they use AsyncMaintenanceRepository (async-maintenance.repository.ts). SQL stays in
 * persistence.
 *
 * Methods are synchronous. Writes run inside `transaction()`, which the caller opens: the caller decides how
 * much work one transaction holds (one chunk of a large delete, one neighbor build), so no single transaction
 * keeps the shared connection — and, with better-sqlite3, the event loop — for long.
 */

/** One step of a large delete; the caller wraps each call in its own transaction and yields in between. */
export interface ChunkedDelete {
  /** Deletes at most `maxRows` more rows. `exhausted` = nothing matched beyond what this call deleted. */
  next(maxRows: number): ChunkResult;
}

export interface ChunkResult {
  /** Rows this call counts as deleted (for the packet prune: transmissions, not their observations). */
  readonly deleted: number;
  /** Every row it deleted, dependents included (the packet prune's observations); absent = `deleted`. */
  readonly rows?: number;
  readonly exhausted: boolean;
}

/** A neighbor_edges contribution: canonical pair (nodeA ≤ nodeB), how often it was seen, newest RFC3339 time. */
export interface NeighborEdgeContribution {
  readonly nodeA: string;
  readonly nodeB: string;
  readonly count: number;
  readonly lastSeen: string;
}

/** One observation as the neighbor builder scans it (§5.4 step 3). */
export interface NeighborScanRow {
  readonly payloadType: number | null;
  /** NULL is possible in the column; the builder skips such rows like the reference does. */
  readonly decodedJson: string | null;
  /** COALESCE(t.from_pubkey, ''). */
  readonly fromPubkey: string;
  /** COALESCE(o.path_json, ''). */
  readonly pathJson: string;
  /** COALESCE(obs.id, ''): empty when the observation has no (known) observer. */
  readonly observerId: string;
  /** observations.timestamp, epoch seconds. */
  readonly timestamp: number;
}

export type NodeTable = 'nodes' | 'inactive_nodes';

export interface WalCheckpointOutcome {
  readonly busy: boolean;
  readonly logFrames: number;
  readonly checkpointedFrames: number;
}

export interface AutoVacuumOutcome {
  /** auto_vacuum mode before the check (0 NONE, 1 FULL, 2 INCREMENTAL). */
  readonly modeBefore: number;
  readonly vacuumed: boolean;
}

export interface MaintenanceRepository {
  /** Runs `work` as one write transaction on the single writer connection. Never nest; never await inside. */
  transaction<T>(work: () => T): T;

  // ---- retention (§5.2) ----

  /** Copies nodes with last_seen < cutoff into inactive_nodes (replacing), deletes them from nodes; returns the count. */
  moveStaleNodes(cutoff: string): number;
  /** Sets inactive=1 on active observers with last_seen < cutoff; returns the count. */
  markObserversInactiveBefore(cutoff: string): number;
  /** Deletes observer_metrics rows of every inactive observer; returns the count. */
  deleteMetricsOfInactiveObservers(): number;
  /** Soft-deletes the listed observers (ids compared case-insensitively); returns the count. */
  softDeleteObservers(ids: readonly string[]): number;
  /** observer_metrics rows with timestamp < cutoff. */
  observerMetricsBefore(cutoff: string): ChunkedDelete;
  /** dropped_packets rows with dropped_at < cutoff (text comparison, see the job for the format quirk). */
  droppedPacketsBefore(cutoff: string): ChunkedDelete;
  /** Transmissions with first_seen < cutoff, each together with its observations (observations first). */
  transmissionsFirstSeenBefore(cutoff: string): ChunkedDelete;
  /** client_receptions rows with rx_at < cutoff. */
  clientReceptionsBefore(cutoff: string): ChunkedDelete;
  /** Deletes client_observers rows with last_seen < cutoff; returns the count. */
  deleteClientObserversBefore(cutoff: string): number;
  /** neighbor_edges rows with last_seen < cutoff. */
  neighborEdgesBefore(cutoff: string): ChunkedDelete;

  // ---- storage upkeep ----

  /** Returns free pages to the file system; harmless on a database that is not in INCREMENTAL mode. */
  incrementalVacuum(pages: number): void;
  /** WAL checkpoint (TRUNCATE); undefined when it failed (the failure has been logged). */
  checkpointWal(log: (line: string) => void): WalCheckpointOutcome | undefined;
  /** Reports auto_vacuum and, with `vacuumOnStartup`, converts the file with a one-time full VACUUM. */
  checkAutoVacuum(vacuumOnStartup: boolean, log: (line: string) => void): AutoVacuumOutcome;

  // ---- neighbor edges builder (§5.4) ----

  listNodeKeys(): string[];
  /** MAX(neighbor_edges.last_seen), or null on an empty table. */
  newestNeighborEdgeSeen(): string | null;
  /**
   * Observations with timestamp > afterEpoch, oldest first, at most `limit`, streamed: read them to the
   * end before the next statement on the connection.
   */
  observationsForNeighborScan(afterEpoch: number, limit: number): Iterable<NeighborScanRow>;
  /** Upserts every contribution (count added, last_seen = MAX); call inside `transaction()`. */
  upsertNeighborEdges(edges: readonly NeighborEdgeContribution[]): void;

  // ---- multibyte capability (§5.5) ----

  hasMultibyteColumns(): boolean;
  isActiveNode(publicKey: string): boolean;
  /** Sets multibyte_sup/multibyte_evidence on the row of `publicKey` in `table`; returns rows changed. */
  setMultibyteCapability(table: NodeTable, publicKey: string, support: number, evidence: string): number;

  // ---- geo-prune request queue (§5.6) ----

  /** Deletes nodes (nodes table only) whose public_key is exactly one of the given keys; returns the count. */
  deleteNodes(publicKeys: readonly string[]): number;
}
