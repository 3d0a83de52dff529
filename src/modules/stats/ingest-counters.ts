/**
 * The ingest counters (names of the reference's stats file where one exists). A batch collects
 * its own counters and adds them to the service only once its transaction has committed, so a
 * retried batch is never counted twice.
 */
export const COUNTER_NAMES = [
  'messages_received',
  'messages_processed',
  'tx_inserted',
  'obs_inserted',
  'tx_dupes',
  'node_upserts',
  'observer_upserts',
  'write_errors',
  'sig_drops',
  'decode_errors',
  'advert_rejects',
  'geo_drops',
  'foreign_adverts',
  'status_messages',
  'companion_messages',
  'client_receptions',
  'message_errors',
  'walCommits',
  'batches_committed',
  'commit_retries',
  /** Replay capture lines that hold no message. */
  'invalid_lines',
  /** The preparation worker thread died and was replaced (its batches were decoded inline). */
  'worker_restarts',
  /** Per-message log lines left out by the rate limit (the summary lines give them per source and reason). */
  'log_lines_suppressed',
] as const;

export type CounterName = (typeof COUNTER_NAMES)[number];

/** Filter/drop reasons counted separately (topic routing and payload checks). */
export type DropCounterName =
  | 'not_json_object'
  | 'ignored_topic'
  | 'observer_blacklist'
  | 'client_blacklist'
  | 'iata_whitelist'
  | 'source_iata_filter'
  | 'unrouted'
  | 'buffer_full'
  | 'client_invalid';

export class IngestCounters {
  readonly values: Record<CounterName, number>;
  readonly drops = new Map<DropCounterName, number>();

  constructor() {
    this.values = Object.fromEntries(COUNTER_NAMES.map((n) => [n, 0])) as Record<CounterName, number>;
  }

  add(name: CounterName, n = 1): void {
    this.values[name] += n;
  }

  drop(reason: DropCounterName, n = 1): void {
    this.drops.set(reason, (this.drops.get(reason) ?? 0) + n);
  }

  /** Adds another set of counters into this one. */
  merge(other: IngestCounters): void {
    for (const name of COUNTER_NAMES) this.values[name] += other.values[name];
    for (const [reason, n] of other.drops) this.drop(reason, n);
  }

  reset(): void {
    for (const name of COUNTER_NAMES) this.values[name] = 0;
    this.drops.clear();
  }
}
