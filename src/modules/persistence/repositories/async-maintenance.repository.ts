import type { ChunkResult, NeighborEdgeContribution, NeighborScanRow } from './maintenance.repository';

/** The tables a retention run deletes from in chunks (the packet prune: transmissions with their observations). */
export type ChunkedTable = 'observer_metrics' | 'dropped_packets' | 'transmissions' | 'client_receptions' | 'neighbor_edges';

/**
 * The maintenance jobs' storage port on an engine whose calls are asynchronous (PostgreSQL). Each method is one
 * transaction of its own: the grouping that the synchronous port leaves to `transaction()` (a chunk's
 * observations and transmissions; marking observers and dropping their metrics) happens inside the method.
 * Same semantics as MaintenanceRepository (maintenance.repository.ts), whose comments say what each does.
 */
export interface AsyncMaintenanceRepository {
  moveStaleNodes(cutoff: string): Promise<number>;
  /** Marks active observers with last_seen < cutoff inactive and, when any was, deletes every inactive observer's metrics. */
  markStaleObserversInactive(cutoff: string): Promise<number>;
  softDeleteObservers(ids: readonly string[]): Promise<number>;
  /**
   * Deletes at most `maxRows` more rows older than the cutoff from `table` (by observer_metrics.timestamp,
   * dropped_packets.dropped_at, transmissions.first_seen with their observations, client_receptions.rx_at,
   * neighbor_edges.last_seen).
   */
  deleteChunk(table: ChunkedTable, cutoff: string, maxRows: number): Promise<ChunkResult>;
  deleteClientObserversBefore(cutoff: string): Promise<number>;

  listNodeKeys(): Promise<string[]>;
  newestNeighborEdgeSeen(): Promise<string | null>;
  /** Observations with timestamp > afterEpoch, oldest first, at most `limit`. */
  observationsForNeighborScan(afterEpoch: number, limit: number): Promise<NeighborScanRow[]>;
  upsertNeighborEdges(edges: readonly NeighborEdgeContribution[]): Promise<void>;
}
