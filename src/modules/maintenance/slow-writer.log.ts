import { performance } from 'node:perf_hooks';

/**
 * The `[db-slow-writer]` line of ingestor-spec §6.4 for the maintenance writes: a write that held the
 * connection longer than the threshold (CORESCOPE_DB_SLOW_WRITER_MS, default 500 ms) is logged with its
 * component. The per-component wait/hold statistics of the reference are not kept here.
 */
export type WriterComponent =
  | 'neighbor_builder'
  | 'prune_packets'
  | 'prune_client_receptions'
  | 'prune_observers'
  | 'prune_metrics'
  | 'vacuum';

const MAX_QUERY_TEXT = 200;

export class SlowWriterLog {
  constructor(
    private readonly thresholdMs: number,
    private readonly log: (line: string) => void,
  ) {}

  /** Runs `work` (a transaction or a single statement) and logs it when it held the writer too long. */
  time<T>(component: WriterComponent, queryText: string, work: () => T): T {
    const startedAt = performance.now();
    try {
      return work();
    } finally {
      const heldMs = performance.now() - startedAt;
      if (heldMs > this.thresholdMs) {
        this.log(
          `[db-slow-writer] component=${component} duration=${heldMs.toFixed(1)}ms ` +
            `query=${queryText.slice(0, MAX_QUERY_TEXT)}`,
        );
      }
    }
  }
}
