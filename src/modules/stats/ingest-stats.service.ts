import { Injectable } from '@nestjs/common';
import { CounterName, DropCounterName, IngestCounters } from './ingest-counters';

/** Process-wide ingest counters: the one place every module reads and adds to. */
@Injectable()
export class IngestStatsService {
  private readonly totals = new IngestCounters();
  private readonly gauges = new Map<string, () => number>();

  /** Registers a live value (queue depth, connected sources…) reported with the counters. */
  registerGauge(name: string, read: () => number): void {
    this.gauges.set(name, read);
  }

  gauge(name: string): number | undefined {
    return this.gauges.get(name)?.();
  }

  /** Adds a committed batch's counters. */
  commit(batch: IngestCounters): void {
    this.totals.merge(batch);
  }

  /** Counts outside any transaction (drops before the writer, received messages). */
  add(name: CounterName, n = 1): void {
    this.totals.add(name, n);
  }

  drop(reason: DropCounterName, n = 1): void {
    this.totals.drop(reason, n);
  }

  get(name: CounterName): number {
    return this.totals.values[name];
  }

  dropped(reason: DropCounterName): number {
    return this.totals.drops.get(reason) ?? 0;
  }

  snapshot(): { counters: Record<CounterName, number>; dropped: Record<string, number>; gauges: Record<string, number> } {
    const gauges: Record<string, number> = {};
    for (const [name, read] of this.gauges) gauges[name] = read();
    return { counters: { ...this.totals.values }, dropped: Object.fromEntries(this.totals.drops), gauges };
  }

  /** The reference's periodic `[stats] …` line. */
  summaryLine(): string {
    const v = this.totals.values;
    return `[stats] tx_inserted=${v.tx_inserted} tx_dupes=${v.tx_dupes} obs_inserted=${v.obs_inserted} node_upserts=${v.node_upserts} observer_upserts=${v.observer_upserts} write_errors=${v.write_errors} sig_drops=${v.sig_drops}`;
  }
}
