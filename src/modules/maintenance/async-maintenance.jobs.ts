import { performance } from 'node:perf_hooks';
import type { AsyncMaintenanceRepository, ChunkedTable } from '../persistence/repositories/async-maintenance.repository';
import type { WriterPerf } from '../persistence/writer/writer-perf';
import { JobStoppedError } from './chunked-job.runner';
import { cutoffDaysAgo, parseRfc3339ToEpochSeconds } from './go-time-text';
import type { JobContext } from './maintenance.scheduler';
import { coalesceEdges, extractNeighborEdges, NEIGHBOR_BUILD_BATCH_ROWS, NodePrefixIndex } from './neighbor-edges.builder';
import { oneLineError } from './one-line-error';
import type { RowTally, WriterComponent } from './retention.jobs';

export interface AsyncMaintenanceJobsOptions {
  readonly log: (line: string) => void;
  /** Rows per delete transaction (maintenance.deleteChunkRows), read at each chunk so a reload applies. */
  readonly deleteChunkRows: () => number;
  readonly now?: () => number;
  /** Statement times per component, in the same figures as the SQLite writer's holds. */
  readonly writerPerf?: WriterPerf;
  readonly neighborBatchRows?: number;
}

const NO_STOP: JobContext = { shouldStop: () => false };

/**
 * The retention jobs (ingestor-spec §5.2) and the neighbor edges builder (§5.4) for engines whose statements
 * are awaited (PostgreSQL), written only against the AsyncMaintenanceRepository port, with the SQLite
 * jobs' semantics and log lines (retention.jobs.ts, neighbor-edges.builder.ts; the pure edge extraction is
 * theirs). Each statement is its own transaction through AsyncMaintenanceRepository. Deletes stay chunked
 * (maintenance.deleteChunkRows rows each) and stop between chunks at shutdown. Nothing to pace: on PostgreSQL
 * a delete does not hold the ingest writer. There is no incremental vacuum or WAL checkpoint to run: the
 * server's autovacuum and checkpointer do that.
 */
export class AsyncMaintenanceJobs {
  private readonly log: (line: string) => void;
  private readonly now: () => number;
  readonly neighborBatchRows: number;

  constructor(
    private readonly repository: AsyncMaintenanceRepository,
    private readonly options: AsyncMaintenanceJobsOptions,
  ) {
    this.log = options.log;
    this.now = options.now ?? Date.now;
    this.neighborBatchRows = options.neighborBatchRows ?? NEIGHBOR_BUILD_BATCH_ROWS;
  }

  async softDeleteBlacklistedObservers(blacklist: readonly string[]): Promise<number> {
    if (blacklist.length === 0) return 0;
    try {
      const marked = await this.repository.softDeleteObservers(blacklist);
      if (marked > 0) this.log(`[observer-blacklist] soft-deleted ${marked} blacklisted observer(s)`);
      return marked;
    } catch (error) {
      this.log(`[observer-blacklist] warning: soft-delete failed: ${oneLineError(error)}`);
      return 0;
    }
  }

  async moveStaleNodes(days: number): Promise<number> {
    const moved = await this.timed('move_stale_nodes', () => this.repository.moveStaleNodes(this.cutoff(days)));
    if (moved > 0) this.log(`Moved ${moved} node(s) to inactive_nodes (not seen in ${days} days)`);
    return moved;
  }

  async removeStaleObservers(days: number): Promise<number> {
    if (days <= -1) return 0;
    const marked = await this.timed('prune_observers', () => this.repository.markStaleObserversInactive(this.cutoff(days)));
    if (marked > 0) this.log(`Marked ${marked} observer(s) as inactive (not seen in ${days} days)`);
    return marked;
  }

  async pruneOldMetrics(days: number, tally?: RowTally, context = NO_STOP): Promise<number> {
    const pruned = await this.deleteInChunks('prune_metrics', 'observer_metrics', this.cutoff(days), tally, context);
    if (pruned > 0) this.log(`[metrics] Pruned ${pruned} rows older than ${days} days`);
    return pruned;
  }

  /** The same text comparison as on SQLite: dropped_at `YYYY-MM-DD HH:MM:SS` against an RFC3339 cutoff. */
  async pruneDroppedPackets(days: number, tally?: RowTally, context = NO_STOP): Promise<number> {
    if (days <= 0) return 0;
    const pruned = await this.deleteInChunks('prune_dropped_packets', 'dropped_packets', this.cutoff(days), tally, context);
    if (pruned > 0) this.log(`Pruned ${pruned} dropped packet(s) older than ${days} days`);
    return pruned;
  }

  async pruneOldPackets(days: number, tally?: RowTally, context = NO_STOP): Promise<number> {
    if (days <= 0) return 0;
    const deleted = await this.deleteInChunks('prune_packets', 'transmissions', this.cutoff(days), tally, context);
    if (deleted > 0) this.log(`[prune] deleted ${deleted} transmissions older than ${days} days`);
    return deleted;
  }

  async pruneOldClientReceptions(days: number, tally?: RowTally, context = NO_STOP): Promise<number> {
    if (days <= 0) return 0;
    const cutoff = this.cutoff(days);
    const deleted = await this.deleteInChunks('prune_client_receptions', 'client_receptions', cutoff, tally, context);
    const observers = await this.timed('prune_client_receptions', () => this.repository.deleteClientObserversBefore(cutoff));
    if (tally) tally.rows += observers;
    if (deleted > 0) this.log(`[prune] deleted ${deleted} client_receptions older than ${days} days`);
    return deleted;
  }

  async pruneNeighborEdges(days: number, tally?: RowTally, context = NO_STOP): Promise<number> {
    if (days <= 0) return 0;
    const removed = await this.deleteInChunks('prune_neighbor_edges', 'neighbor_edges', this.cutoff(days), tally, context);
    if (removed > 0) this.log(`[neighbor-prune] removed ${removed} DB rows older than ${days} days`);
    return removed;
  }

  /** One neighbor build: at most neighborBatchRows observations past the watermark (the newest edge). */
  async buildNeighborEdges(): Promise<number> {
    const prefixes = new NodePrefixIndex(await this.repository.listNodeKeys());
    const newest = await this.repository.newestNeighborEdgeSeen();
    const watermark = (newest && parseRfc3339ToEpochSeconds(newest)) || 0;
    const rows = await this.repository.observationsForNeighborScan(watermark, this.neighborBatchRows);
    const { contributions, edges } = coalesceEdges(extractNeighborEdges(rows, prefixes));
    if (edges === 0) return 0;
    await this.timed('neighbor_builder', () => this.repository.upsertNeighborEdges(contributions));
    return edges;
  }

  /** Builds until one build finds fewer edges than the batch cap (the SQLite warm-up's stop rule). */
  async warmUpNeighborEdges(progress: { total: number } = { total: 0 }, context = NO_STOP): Promise<number> {
    for (;;) {
      const upserted = await this.buildNeighborEdges();
      progress.total += upserted;
      if (upserted < this.neighborBatchRows) return progress.total;
      if (context.shouldStop()) throw new JobStoppedError();
    }
  }

  private async deleteInChunks(component: WriterComponent, table: ChunkedTable, cutoff: string, tally: RowTally | undefined, context: JobContext): Promise<number> {
    let total = 0;
    for (;;) {
      const chunk = await this.timed(component, () => this.repository.deleteChunk(table, cutoff, this.options.deleteChunkRows()));
      total += chunk.deleted;
      if (tally) tally.rows += chunk.rows ?? chunk.deleted;
      if (chunk.exhausted) return total;
      if (context.shouldStop()) throw new JobStoppedError();
    }
  }

  private cutoff(days: number): string {
    return cutoffDaysAgo(this.now(), days);
  }

  private async timed<T>(component: WriterComponent | 'neighbor_builder', work: () => Promise<T>): Promise<T> {
    const startedAt = performance.now();
    try {
      return await work();
    } finally {
      this.options.writerPerf?.record(component, 0, performance.now() - startedAt, 'statement');
    }
  }
}
