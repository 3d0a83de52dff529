import { performance } from 'node:perf_hooks';
import type { WriterPerf } from '../persistence/writer/writer-perf';
import type { ChunkedJob } from './chunked-job.runner';
import { cutoffDaysAgo } from './go-time-text';
import type { AutoVacuumOutcome, ChunkedDelete, MaintenanceRepository, WalCheckpointOutcome } from '../persistence/repositories/maintenance.repository';
import { oneLineError } from './one-line-error';

/**
 * Writer components of the jobs (ingestor-spec §6.4): the reference's names where it instruments the job, and
 * names of ours for the writes it leaves out, so that every hold on the writer shows up somewhere.
 */
export type WriterComponent =
  | 'prune_packets'
  | 'prune_client_receptions'
  | 'prune_observers'
  | 'prune_metrics'
  | 'prune_dropped_packets'
  | 'prune_neighbor_edges'
  | 'move_stale_nodes'
  | 'vacuum';

/** Rows a run touched, counted across its chunks (a packet prune counts observations and transmissions). */
export interface RowTally {
  rows: number;
}

/**
 * The retention and upkeep jobs of ingestor-spec §2.5 and §5.2, with the reference's SQL semantics and log
 * lines. Cutoffs are `now − days` in RFC3339, compared as text.
 *
 * Large deletes are generators (see chunked-job.runner.ts): each chunk of at most `deleteChunkRows` rows is one
 * short transaction, and the generator yields between chunks. Run to completion they delete exactly what the
 * reference's single statement deletes.
 */

/**
 * Hold a retention chunk aims at while ingest runs beside it. Under a backlog the prune and the ingest writer
 * take turns (one chunk, one ingest batch of up to ingest.batchSize messages), so this also sets the prune's
 * share of the thread. A fixed deleteChunkRows of 5 000 cost 90 ms a chunk at the median on a 3.75 M-observation
 * database (more with a WAL checkpoint in its commit), a third of the thread: ingest fell to 0.6 of its rate.
 */
export const CHUNK_TARGET_MS = 50;
/** A paced prune starts with chunks this small (at most deleteChunkRows) and grows them from the measured cost. */
const FIRST_PACED_CHUNK_ROWS = 500;
const MIN_PACED_CHUNK_ROWS = 50;

export interface RetentionJobsOptions {
  readonly log: (line: string) => void;
  /** Rows per delete transaction (config maintenance.deleteChunkRows); with chunkTargetMs, the most per chunk. */
  readonly deleteChunkRows: number;
  /**
   * When set, a chunk deletes as many rows as fit in about this many milliseconds (measured on the previous
   * chunks, at most deleteChunkRows): for runs that share the writer with ingest. Unset: deleteChunkRows always.
   */
  readonly chunkTargetMs?: number;
  /** N of `PRAGMA incremental_vacuum(N)` (config db.incrementalVacuumPages). */
  readonly incrementalVacuumPages: number;
  readonly now?: () => number;
  /** Wait/hold figures and the `[db-slow-writer]` line; absent in tests that do not look at them. */
  readonly writerPerf?: WriterPerf;
}

export class RetentionJobs {
  private readonly log: (line: string) => void;
  private readonly now: () => number;

  constructor(
    private readonly repository: MaintenanceRepository,
    private readonly options: RetentionJobsOptions,
  ) {
    this.log = options.log;
    this.now = options.now ?? Date.now;
  }

  /** §2.5: blacklisted observers already in the database are hidden at start-up (ids compared case-insensitively). */
  softDeleteBlacklistedObservers(blacklist: readonly string[]): number {
    if (blacklist.length === 0) return 0;
    try {
      const marked = this.repository.transaction(() => this.repository.softDeleteObservers(blacklist));
      if (marked > 0) this.log(`[observer-blacklist] soft-deleted ${marked} blacklisted observer(s)`);
      return marked;
    } catch (error) {
      this.log(`[observer-blacklist] warning: soft-delete failed: ${oneLineError(error)}`);
      return 0;
    }
  }

  /** CheckAutoVacuum / vacuumOnStartup (§5.2). The optional full VACUUM blocks for as long as it takes. */
  checkAutoVacuum(vacuumOnStartup: boolean): AutoVacuumOutcome {
    return this.repository.checkAutoVacuum(vacuumOnStartup, this.log);
  }

  /** MoveStaleNodes: one transaction; nodes whose last_seen is NULL never move. */
  moveStaleNodes(days: number): number {
    const cutoff = this.cutoff(days);
    const moved = this.timed('move_stale_nodes', 'tx-body', () => this.repository.transaction(() => this.repository.moveStaleNodes(cutoff)));
    if (moved > 0) this.log(`Moved ${moved} node(s) to inactive_nodes (not seen in ${days} days)`);
    return moved;
  }

  /**
   * RemoveStaleObservers: soft delete (inactive=1), so observations keep joining their observer by rowid and
   * any later message reactivates it. Negative days = keep forever. When any observer turned inactive, the
   * metrics of all inactive observers go too.
   */
  removeStaleObservers(days: number): number {
    if (days <= -1) return 0;
    const cutoff = this.cutoff(days);
    const marked = this.timed('prune_observers', 'tx-body', () =>
      this.repository.transaction(() => {
        const count = this.repository.markObserversInactiveBefore(cutoff);
        if (count > 0) this.repository.deleteMetricsOfInactiveObservers();
        return count;
      }),
    );
    if (marked > 0) this.log(`Marked ${marked} observer(s) as inactive (not seen in ${days} days)`);
    return marked;
  }

  /** PruneOldMetrics: observer_metrics rows older than the cutoff. */
  *pruneOldMetrics(days: number, tally?: RowTally): ChunkedJob<number> {
    const pruned = yield* this.deleteInChunks('prune_metrics', this.repository.observerMetricsBefore(this.cutoff(days)), tally);
    if (pruned > 0) this.log(`[metrics] Pruned ${pruned} rows older than ${days} days`);
    return pruned;
  }

  /**
   * PruneDroppedPackets. QUIRK kept on purpose: dropped_at is `YYYY-MM-DD HH:MM:SS` while the cutoff is RFC3339;
   * in a text comparison ' ' sorts before 'T', so every row of the cutoff's calendar day counts as older.
   */
  *pruneDroppedPackets(days: number, tally?: RowTally): ChunkedJob<number> {
    if (days <= 0) return 0;
    const pruned = yield* this.deleteInChunks('prune_dropped_packets', this.repository.droppedPacketsBefore(this.cutoff(days)), tally);
    if (pruned > 0) this.log(`Pruned ${pruned} dropped packet(s) older than ${days} days`);
    return pruned;
  }

  /**
   * PruneOldPackets: transmissions whose first_seen is older than the cutoff, observations first. Age is by
   * first_seen, so a hash that is still being heard goes as well. 0 days = disabled. Returns transmissions.
   */
  *pruneOldPackets(days: number, tally?: RowTally): ChunkedJob<number> {
    if (days <= 0) return 0;
    const deleted = yield* this.deleteInChunks('prune_packets', this.repository.transmissionsFirstSeenBefore(this.cutoff(days)), tally);
    if (deleted > 0) this.log(`[prune] deleted ${deleted} transmissions older than ${days} days`);
    return deleted;
  }

  /**
   * PruneOldClientReceptions: client_receptions by rx_at, then client_observers by last_seen (names of
   * companions not heard within the window). 0 days = disabled. Returns client_receptions deleted.
   */
  *pruneOldClientReceptions(days: number, tally?: RowTally): ChunkedJob<number> {
    if (days <= 0) return 0;
    const cutoff = this.cutoff(days);
    const deleted = yield* this.deleteInChunks('prune_client_receptions', this.repository.clientReceptionsBefore(cutoff), tally);
    const observers = this.timed('prune_client_receptions', 'tx-body', () =>
      this.repository.transaction(() => this.repository.deleteClientObserversBefore(cutoff)),
    );
    if (tally) tally.rows += observers;
    if (deleted > 0) this.log(`[prune] deleted ${deleted} client_receptions older than ${days} days`);
    return deleted;
  }

  /** PruneNeighborEdges: edges whose last_seen is older than `days` × 24 h. */
  *pruneNeighborEdges(days: number, tally?: RowTally): ChunkedJob<number> {
    if (days <= 0) return 0;
    const removed = yield* this.deleteInChunks('prune_neighbor_edges', this.repository.neighborEdgesBefore(this.cutoff(days)), tally);
    if (removed > 0) this.log(`[neighbor-prune] removed ${removed} DB rows older than ${days} days`);
    return removed;
  }

  /** RunIncrementalVacuum: returns free pages to the file system; an error is logged, never thrown. */
  runIncrementalVacuum(): void {
    try {
      this.timed('vacuum', `PRAGMA incremental_vacuum(${this.options.incrementalVacuumPages})`, () =>
        this.repository.incrementalVacuum(this.options.incrementalVacuumPages),
      );
    } catch (error) {
      this.log(`[vacuum] incremental_vacuum error: ${oneLineError(error)}`);
    }
  }

  /** WAL checkpoint (TRUNCATE); logs only when the WAL held frames. */
  checkpointWal(): WalCheckpointOutcome | undefined {
    return this.repository.checkpointWal(this.log);
  }

  private cutoff(days: number): string {
    return cutoffDaysAgo(this.now(), days);
  }

  /**
   * One transaction per chunk, a yield between chunks. The time from the yield to the next chunk is the job's
   * wait for the writer: the ingest batches and MQTT reads that ran in between.
   */
  private *deleteInChunks(component: WriterComponent, chunks: ChunkedDelete, tally?: RowTally): ChunkedJob<number> {
    let total = 0;
    let waitMs = 0;
    let msPerRow: number | undefined;
    for (;;) {
      const maxRows = this.chunkRows(msPerRow);
      const startedAt = performance.now();
      const chunk = this.timed(component, 'tx-body', () => this.repository.transaction(() => chunks.next(maxRows)), waitMs);
      const rows = chunk.rows ?? chunk.deleted;
      if (rows > 0) {
        // Smoothed: one chunk that met a WAL checkpoint in its commit should not shrink the next ones to nothing.
        const measured = (performance.now() - startedAt) / rows;
        msPerRow = msPerRow === undefined ? measured : 0.7 * msPerRow + 0.3 * measured;
      }
      total += chunk.deleted;
      if (tally) tally.rows += rows;
      if (chunk.exhausted) return total;
      const yieldedAt = performance.now();
      yield;
      waitMs = performance.now() - yieldedAt;
    }
  }

  /** Rows for the next chunk: deleteChunkRows, or what fits in chunkTargetMs at the measured cost per row. */
  private chunkRows(msPerRow: number | undefined): number {
    const { deleteChunkRows: max, chunkTargetMs: target } = this.options;
    if (target === undefined) return max;
    if (msPerRow === undefined) return Math.min(max, FIRST_PACED_CHUNK_ROWS);
    return Math.max(Math.min(max, MIN_PACED_CHUNK_ROWS), Math.min(max, Math.floor(target / msPerRow)));
  }

  private timed<T>(component: WriterComponent, queryText: string, work: () => T, waitMs = 0): T {
    return this.options.writerPerf ? this.options.writerPerf.time(component, queryText, work, waitMs) : work();
  }
}
