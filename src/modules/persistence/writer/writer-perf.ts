import { performance } from 'node:perf_hooks';

/**
 * Writer instrumentation of ingestor-spec §6.4, per component (`mqtt_handler`, `neighbor_builder`, each
 * maintenance job): how long it waited for the writer and how long it held it.
 *
 * Here there is no mutex to wait on: one thread runs every transaction, each to completion. What a writer
 * waits for is the event loop: the ingest writer's flush timer fires late while a prune chunk runs, a prune's
 * next chunk starts only after the ingest batch and the MQTT reads queued before it. So `wait` is the time
 * from when a component was due to write (flush deadline, end of its yield) to the start of its transaction,
 * and `hold` is the transaction (or statement) itself; both in milliseconds.
 *
 * The figures have the stats file's keys, so the CoreScope server's /api/perf/write-sources shows them.
 */

/** One component's figures, keys and order of the reference's stats file. */
export interface WriterPerfFigures {
  count: number;
  contention_total: number;
  wait_ms_p50: number;
  wait_ms_p95: number;
  wait_ms_p99: number;
  wait_ms_max: number;
  hold_ms_p50: number;
  hold_ms_p95: number;
  hold_ms_p99: number;
  hold_ms_max: number;
}

export type WriterSampleListener = (component: string, waitMs: number, holdMs: number) => void;

/** Samples kept per component for the percentiles (the reference's window). */
export const WRITER_PERF_WINDOW = 1024;
/** A wait longer than this counts as contention. */
export const CONTENTION_WAIT_MS = 100;
const MAX_QUERY_TEXT = 200;

class ComponentFigures {
  count = 0;
  contention = 0;
  waitMax = 0;
  holdMax = 0;
  private readonly waits = new Float64Array(WRITER_PERF_WINDOW);
  private readonly holds = new Float64Array(WRITER_PERF_WINDOW);
  private filled = 0;
  private next = 0;

  add(waitMs: number, holdMs: number): void {
    this.count += 1;
    if (waitMs > CONTENTION_WAIT_MS) this.contention += 1;
    this.waitMax = Math.max(this.waitMax, waitMs);
    this.holdMax = Math.max(this.holdMax, holdMs);
    this.waits[this.next] = waitMs;
    this.holds[this.next] = holdMs;
    this.next = (this.next + 1) % WRITER_PERF_WINDOW;
    this.filled = Math.min(this.filled + 1, WRITER_PERF_WINDOW);
  }

  figures(): WriterPerfFigures {
    const waits = sortedWindow(this.waits, this.filled);
    const holds = sortedWindow(this.holds, this.filled);
    return {
      count: this.count,
      contention_total: this.contention,
      wait_ms_p50: nearestRank(waits, 0.5),
      wait_ms_p95: nearestRank(waits, 0.95),
      wait_ms_p99: nearestRank(waits, 0.99),
      wait_ms_max: this.waitMax,
      hold_ms_p50: nearestRank(holds, 0.5),
      hold_ms_p95: nearestRank(holds, 0.95),
      hold_ms_p99: nearestRank(holds, 0.99),
      hold_ms_max: this.holdMax,
    };
  }
}

function sortedWindow(samples: Float64Array, filled: number): Float64Array {
  return samples.slice(0, filled).sort();
}

/** Nearest rank on the sorted window: index round_half_up(p × (n − 1)), as the reference computes it. */
export function nearestRank(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.floor(p * (sorted.length - 1) + 0.5)];
}

export class WriterPerf {
  private readonly components = new Map<string, ComponentFigures>();
  private readonly listeners: WriterSampleListener[] = [];

  /**
   * @param slowThresholdMs a hold above this logs `[db-slow-writer]` (CORESCOPE_DB_SLOW_WRITER_MS, default 500)
   */
  constructor(
    private readonly slowThresholdMs: number,
    private readonly warn: (line: string) => void,
  ) {}

  /** Metrics subscribe here; a listener that throws is not the writer's problem and is ignored. */
  onSample(listener: WriterSampleListener): void {
    this.listeners.push(listener);
  }

  /** Runs `work` (a transaction or a statement) as `component`'s hold, after it waited `waitMs` for its turn. */
  time<T>(component: string, queryText: string, work: () => T, waitMs = 0): T {
    const startedAt = performance.now();
    try {
      return work();
    } finally {
      this.record(component, waitMs, performance.now() - startedAt, queryText);
    }
  }

  record(component: string, waitMs: number, holdMs: number, queryText = ''): void {
    let figures = this.components.get(component);
    if (!figures) {
      figures = new ComponentFigures();
      this.components.set(component, figures);
    }
    const wait = Math.max(0, waitMs);
    figures.add(wait, holdMs);
    if (holdMs > this.slowThresholdMs) {
      this.warn(`[db-slow-writer] component=${component} duration=${holdMs.toFixed(1)}ms query=${queryText.slice(0, MAX_QUERY_TEXT)}`);
    }
    for (const listener of this.listeners) {
      try {
        listener(component, wait, holdMs);
      } catch {
        // Instrumentation must never fail a write.
      }
    }
  }

  /** Component → figures, components in the order they first wrote; empty before any write. */
  snapshot(): Record<string, WriterPerfFigures> {
    return Object.fromEntries([...this.components].map(([component, figures]) => [component, figures.figures()]));
  }

  /** The longest hold of any component so far (ms); 0 before any write. */
  longestHoldMs(): number {
    let longest = 0;
    for (const figures of this.components.values()) longest = Math.max(longest, figures.holdMax);
    return longest;
  }
}

/** Measures how late a component got its turn: start it when the component is due, read it when work begins. */
export class WaitClock {
  private dueAt = performance.now();

  /** The component is due to write now (or was due at `at`, a performance.now() reading). */
  due(at = performance.now()): void {
    this.dueAt = at;
  }

  /** Milliseconds since it was due. */
  elapsed(): number {
    return performance.now() - this.dueAt;
  }
}
