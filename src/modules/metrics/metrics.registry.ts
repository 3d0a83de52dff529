import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { secretMasker } from '../../common/masking/mask-broker-url';
import { SourceStatusRegistry } from '../source-status/source-status.registry';
import { IngestStatsService } from '../stats/ingest-stats.service';

/**
 * Prometheus view of the same numbers /api/stats and /api/mqtt/status serve, read when scraped
 * (no per-message work), plus Node's process metrics (RSS, event-loop lag, GC).
 */
@Injectable()
export class MetricsRegistry {
  readonly registry = new Registry();

  constructor(stats: IngestStatsService, sources: SourceStatusRegistry) {
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
  }
}
