import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { secretMasker } from '../../common/masking/mask-broker-url';
import { MAINTENANCE_JOB_NAMES } from '../../config/maintenance-schedules';
import { MaintenanceService } from '../maintenance/maintenance.service';
import { DatabaseService } from '../persistence/database.service';
import { SourceStatusRegistry } from '../source-status/source-status.registry';
import { IngestStatsService } from '../stats/ingest-stats.service';

/**
 * Prometheus view of the same numbers /api/stats and /api/mqtt/status serve, read when scraped
 * (no per-message work), plus Node's process metrics (RSS, event-loop lag, GC).
 */
@Injectable()
export class MetricsRegistry {
  readonly registry = new Registry();

  constructor(stats: IngestStatsService, sources: SourceStatusRegistry, maintenance: MaintenanceService, database: DatabaseService) {
    collectDefaultMetrics({ register: this.registry, prefix: 'meshcore_ingestor_' });
    new Gauge({
      name: 'meshcore_ingestor_events_total',
      help: 'Ingest counters since start (tx_inserted, obs_inserted, tx_dupes, decode_errors, …)',
      labelNames: ['counter'],
      registers: [this.registry],
      collect() {
        for (const [name, value] of Object.entries(stats.snapshot().counters)) this.set({ counter: name }, value);
      },
    });
    new Gauge({
      name: 'meshcore_ingestor_dropped_total',
      help: 'Messages dropped, by filter or reason',
      labelNames: ['reason'],
      registers: [this.registry],
      collect() {
        for (const [reason, value] of Object.entries(stats.snapshot().dropped)) this.set({ reason }, value);
      },
    });
    new Gauge({
      name: 'meshcore_ingestor_queue',
      help: 'Ingest buffer gauges (pending, capacity, dropped)',
      labelNames: ['gauge'],
      registers: [this.registry],
      collect() {
        for (const [gauge, value] of Object.entries(stats.snapshot().gauges)) this.set({ gauge }, value);
      },
    });
    const sourceGauge = (name: string, help: string, pick: (s: ReturnType<SourceStatusRegistry['snapshot']>[number]) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['source'],
        registers: [this.registry],
        collect() {
          this.reset();
          for (const s of sources.snapshot()) this.set({ source: secretMasker.mask(s.name) }, pick(s));
        },
      });
    sourceGauge('meshcore_ingestor_mqtt_connected', '1 when the source is connected', (s) => (s.connected ? 1 : 0));
    sourceGauge('meshcore_ingestor_mqtt_messages_total', 'Messages received from the source since start', (s) => s.packetsTotal);
    sourceGauge('meshcore_ingestor_mqtt_reconnects_total', 'Connects of the source since start', (s) => s.connectCount);
    sourceGauge('meshcore_ingestor_mqtt_last_message_unix', 'Unix time of the last message from the source', (s) => s.lastPacketUnix);
    this.registerMaintenanceMetrics(maintenance);
    this.registerWriterMetrics(stats, database);
  }

  /** Per job: runs by result, duration, rows, skipped ticks, last success; every job listed from the start. */
  private registerMaintenanceMetrics(maintenance: MaintenanceService): void {
    const registers = [this.registry];
    const runs = new Counter({ name: 'meshcore_ingestor_maintenance_runs_total', help: 'Finished maintenance runs by job and result (ok, error, stopped)', labelNames: ['job', 'result'], registers });
    const duration = new Histogram({
      name: 'meshcore_ingestor_maintenance_run_duration_seconds',
      help: 'Duration of maintenance runs',
      labelNames: ['job'],
      buckets: [0.005, 0.05, 0.25, 1, 5, 30, 120, 600, 3600],
      registers,
    });
    const rows = new Counter({ name: 'meshcore_ingestor_maintenance_rows_total', help: 'Rows touched by maintenance runs (deleted, moved, updated)', labelNames: ['job'], registers });
    const skipped = new Counter({ name: 'meshcore_ingestor_maintenance_skipped_total', help: 'Ticks and run requests skipped because the job was still running', labelNames: ['job'], registers });
    const lastSuccess = new Gauge({
      name: 'meshcore_ingestor_maintenance_last_success_timestamp_seconds',
      help: 'Unix time at which the last successful run of the job ended (0 = never)',
      labelNames: ['job'],
      registers,
    });
    for (const job of MAINTENANCE_JOB_NAMES) {
      for (const result of ['ok', 'error', 'stopped']) runs.inc({ job, result }, 0);
      rows.inc({ job }, 0);
      skipped.inc({ job }, 0);
      lastSuccess.set({ job }, 0);
    }
    maintenance.listen({
      onRunFinished: (job, run) => {
        runs.inc({ job, result: run.result });
        duration.observe({ job }, run.durationMs / 1000);
        if (run.rows !== null) rows.inc({ job }, run.rows);
        if (run.result === 'ok') lastSuccess.set({ job }, (Date.parse(run.startedAt) + run.durationMs) / 1000);
      },
      onSkipped: (job) => skipped.inc({ job }),
    });
  }

  /** The single writer: batch commits, rows per table, and every component's wait and hold (ingestor-spec §6.4). */
  private registerWriterMetrics(stats: IngestStatsService, database: DatabaseService): void {
    const registers = [this.registry];
    const buckets = [0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5];
    const batch = new Histogram({ name: 'meshcore_ingestor_writer_batch_duration_seconds', help: 'Transaction time of one ingest batch (mqtt_handler hold)', buckets, registers });
    const wait = new Histogram({
      name: 'meshcore_ingestor_writer_wait_seconds',
      help: 'Time a writer component was due before its transaction began',
      labelNames: ['component'],
      buckets,
      registers,
    });
    const hold = new Histogram({ name: 'meshcore_ingestor_writer_hold_seconds', help: 'Time a writer component held the database connection', labelNames: ['component'], buckets, registers });
    database.writerPerf.onSample((component, waitMs, holdMs) => {
      wait.observe({ component }, waitMs / 1000);
      hold.observe({ component }, holdMs / 1000);
      if (component === 'mqtt_handler') batch.observe(holdMs / 1000);
    });
    // Ingest rows by table, from the committed counters (read at scrape time).
    const rowsByTable = {
      transmissions: 'tx_inserted',
      observations: 'obs_inserted',
      nodes: 'node_upserts',
      observers: 'observer_upserts',
      dropped_packets: 'sig_drops',
      client_receptions: 'client_receptions',
    } as const;
    new Counter({
      name: 'meshcore_ingestor_writer_rows_total',
      help: 'Rows the ingest writer wrote (inserted or upserted) per table',
      labelNames: ['table'],
      registers,
      collect() {
        this.reset();
        const counters = stats.snapshot().counters;
        for (const [table, counter] of Object.entries(rowsByTable)) this.inc({ table }, counters[counter]);
      },
    });
  }
}
