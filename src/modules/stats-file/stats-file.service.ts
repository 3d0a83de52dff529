import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { secretMasker } from '../../common/masking/mask-broker-url';
import { toRfc3339 } from '../../common/time/rfc3339';
import { APP_CONFIG, AppConfig } from '../../config/config.types';
import { MqttSourcePool } from '../mqtt/mqtt-source-pool.service';
import { DatabaseService } from '../persistence/database.service';
import { SourceStatusRegistry } from '../source-status/source-status.registry';
import { IngestStatsService } from '../stats/ingest-stats.service';
import { ProcIoSample, procIoRates, readProcSelfIo } from './proc-io';
import { goEncodeOrdered, writeFileAtomically } from './stats-file.writer';

const INTERVAL_MS = 1000;
/** The reference's periodic `[stats] …` log line. */
const SUMMARY_LOG_MS = 5 * 60_000;
const ERROR_LOG_EVERY_MS = 60_000;

/**
 * The stats file the CoreScope server reads for its own /api/mqtt/status, /api/healthz and
 * /api/perf pages (ingestor-spec §6.1): written every second at CORESCOPE_INGESTOR_STATS, keys in
 * the reference's order. Broker URLs are masked here too (the server masks them again).
 */
@Injectable()
export class StatsFileService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('StatsFile');
  private timer?: NodeJS.Timeout;
  private summaryTimer?: NodeJS.Timeout;
  private prevIo?: ProcIoSample;
  private lastErrorLogMs = 0;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly stats: IngestStatsService,
    private readonly status: SourceStatusRegistry,
    private readonly mqtt: MqttSourcePool,
    private readonly database: DatabaseService,
  ) {}

  onApplicationBootstrap(): void {
    // First write one interval after start, like the reference.
    this.timer = setInterval(() => this.writeNow(), INTERVAL_MS);
    this.timer.unref();
    this.summaryTimer = setInterval(() => this.logger.log(this.stats.summaryLine()), SUMMARY_LOG_MS);
    this.summaryTimer.unref();
  }

  beforeApplicationShutdown(): void {
    clearInterval(this.timer);
    clearInterval(this.summaryTimer);
    this.timer = undefined;
    this.summaryTimer = undefined;
  }

  /** Builds the document (exposed for tests). */
  snapshot(nowMs = Date.now()): Record<string, unknown> {
    const sampledAt = toRfc3339(nowMs);
    const c = this.stats.snapshot().counters;
    const doc: Record<string, unknown> = {
      sampledAt,
      tx_inserted: c.tx_inserted,
      obs_inserted: c.obs_inserted,
      tx_dupes: c.tx_dupes,
      node_upserts: c.node_upserts,
      observer_upserts: c.observer_upserts,
      write_errors: c.write_errors,
      sig_drops: c.sig_drops,
      walCommits: c.walCommits,
      // The reference never group-commits; ours commits every batch as one group.
      groupCommitFlushes: c.batches_committed,
      backfillUpdates: this.database.isOpen && this.database.engine === 'sqlite' ? this.database.asyncMigrations.backfillUpdateCounts() : {},
    };
    const io = readProcSelfIo(nowMs);
    const rates = procIoRates(this.prevIo, io, sampledAt);
    this.prevIo = io;
    if (rates) doc.procIO = rates;
    // §6.1/§6.4: per writer component; omitted until something has written.
    const writerPerf = this.database.writerPerf.snapshot();
    if (Object.keys(writerPerf).length > 0) doc.writer_perf = writerPerf;
    const liveness = this.mqtt.watchdog.livenessClocks();
    if (Object.keys(liveness).length > 0) {
      doc.source_liveness = Object.fromEntries(Object.entries(liveness).map(([tag, clocks]) => [secretMasker.mask(tag), clocks]));
    }
    const sources = this.status.snapshot();
    if (sources.length > 0) {
      doc.source_statuses = sources.map((s) => ({
        ...s,
        name: secretMasker.mask(s.name),
        broker: secretMasker.mask(s.broker),
        ...(s.lastError ? { lastError: secretMasker.mask(s.lastError) } : {}),
      }));
    }
    const watchdog = this.status.watchdogStatus();
    if (watchdog.watchdogLastTickUnix) doc.watchdogLastTickUnix = watchdog.watchdogLastTickUnix;
    if (watchdog.watchdogPanicCount) doc.watchdogPanicCount = watchdog.watchdogPanicCount;
    return doc;
  }

  writeNow(nowMs = Date.now()): void {
    const path = this.config.statsFilePath;
    try {
      writeFileAtomically(path, goEncodeOrdered(this.snapshot(nowMs)));
    } catch (err) {
      // Never fatal; logged at most once a minute so a read-only /tmp does not flood the log.
      if (nowMs - this.lastErrorLogMs >= ERROR_LOG_EVERY_MS) {
        this.lastErrorLogMs = nowMs;
        this.logger.warn(`[stats-file] write ${path}: ${(err as Error).message}`);
      }
    }
  }
}
