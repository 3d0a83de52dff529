import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../../config/config.types';
import { decodePacket } from '../decoder/packet-decoder';
import { DecoderService } from '../decoder/decoder.service';
import { DatabaseService } from '../persistence/database.service';
import type { IngestBatchScope } from '../persistence/repositories/ingest.repository';
import { IngestCounters } from '../stats/ingest-counters';
import { IngestStatsService } from '../stats/ingest-stats.service';
import { IngestMessage } from './ingest-message';
import { createPerMessageLog, type PerMessageKey } from './per-message-log';
import { PathResolver } from './path-resolution/path-resolver';
import { IngestPipeline } from './pipeline/ingest-pipeline';
import { preparerSettingsOf } from './preparation/message-preparer';
import { PreparationStage } from './preparation/preparation-stage';
import type { PreparedMessage } from './preparation/prepared-message';

type LogLevel = 'log' | 'warn' | 'debug';

interface HeldLine {
  level: LogLevel;
  line: string;
  /** A per-message line: goes through the rate limit when flushed. */
  key?: PerMessageKey;
}

/** Most lines held for one attempt (a batch holds at most a few per message). */
const MAX_HELD_LINES = 10_000;

/**
 * Nest wrapper of the pipeline: wires config, decoder and the repository on the open database,
 * and the preparation stage (parse and decode, in a worker thread by default) in front of it.
 * Pipeline log lines are held until the writer knows the attempt committed: a batch that is
 * rolled back and run again must not log its messages twice. Per-message lines (bad input,
 * failed messages; the writer's too) then go through the per-source, per-reason rate limit
 * (perMessageLog): a rolled-back attempt's lines never reach it, so they do not count.
 */
@Injectable()
export class IngestPipelineService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Ingest');
  private pipeline?: IngestPipeline;
  private stage?: PreparationStage;
  private readonly heldLines: HeldLine[] = [];
  /** Keyed lines of this attempt beyond MAX_HELD_LINES: their text is gone, their count is not. */
  private readonly heldOverflow = new Map<string, { key: PerMessageKey; count: number }>();
  private readonly heldLogger = {
    log: (m: string) => this.holdLine('log', m),
    warn: (m: string, key?: PerMessageKey) => this.holdLine('warn', m, key),
    debug: (m: string) => this.holdLine('debug', m),
  };
  /** The rate limit of per-message lines; suppressed lines are counted as log_lines_suppressed. */
  readonly perMessageLog = createPerMessageLog({
    emit: (level, line) => this.logger[level](line),
    onSuppressed: (n) => this.stats.add('log_lines_suppressed', n),
  });

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly decoder: DecoderService,
    private readonly database: DatabaseService,
    private readonly stats: IngestStatsService,
  ) {}

  onModuleInit(): void {
    this.pipeline = new IngestPipeline({
      config: this.config,
      decode: decodePacket,
      context: this.decoder.context,
      repository: this.database.ingestStore.repository,
      resolver: new PathResolver(),
      logger: this.heldLogger,
    });
    this.stage = new PreparationStage({
      // Unset (serve's default): one thread. ReplayModule sets it for the replay command.
      useWorker: this.config.ingest.workerThread ?? false,
      workerData: { settings: preparerSettingsOf(this.config), channelKeys: this.decoder.channelKeys, hashRegions: [...this.config.hashRegions] },
      inline: this.pipeline.preparer,
      logger: { warn: (m) => this.logger.warn(m), error: (m) => this.logger.error(m) },
      onWorkerFailure: () => this.stats.add('worker_restarts'),
    });
    this.logger.log(
      this.stage.usesWorker ? 'messages are prepared in a worker thread (ingest.workerThread)' : 'messages are prepared on the writer thread',
    );
  }

  async onApplicationShutdown(): Promise<void> {
    // The writer has stored what it could (its beforeApplicationShutdown): report what was suppressed.
    this.perMessageLog.close();
    await this.stage?.close();
  }

  /** The database-free half of a batch (parse, route, decode), in the worker thread when enabled. */
  prepareBatch(messages: readonly IngestMessage[]): Promise<PreparedMessage[]> {
    if (!this.stage) throw new Error('ingest pipeline used before the database was opened');
    return this.stage.prepare(messages);
  }

  /** True while batches are prepared in the worker thread (prepareBatch); else prepareNow. */
  get preparesOffThread(): boolean {
    return this.stage?.usesWorker ?? false;
  }

  /** Prepares one message on this thread (the writer's, when there is no worker). */
  prepareNow(message: IngestMessage): PreparedMessage {
    return this.required().preparer.prepare(message);
  }

  /** Stores one prepared message; runs inside the writer's transaction. */
  apply(message: IngestMessage, prepared: PreparedMessage, counters: IngestCounters, nowMs?: number): void {
    this.required().apply(message, prepared, counters, nowMs);
  }

  /** The repository's view of the writer's transactions (deferred writes land before COMMIT). */
  get batchScope(): IngestBatchScope {
    return this.required().batchScope;
  }

  /** Emits the lines of the committed attempt (per-message lines through the rate limit). */
  flushLogs(): void {
    for (const { level, line, key } of this.heldLines) {
      if (key && level !== 'debug') this.perMessageLog.write(level, key, line);
      else this.logger[level](line);
    }
    this.heldLines.length = 0;
    // Their text was not kept: counted as suppressed (they show in the summary line).
    for (const { key, count } of this.heldOverflow.values()) this.perMessageLog.suppress('warn', key, count);
    this.heldOverflow.clear();
  }

  /** Forgets the lines of a rolled-back attempt (it runs again): they never reach the rate limit. */
  discardLogs(): void {
    this.heldLines.length = 0;
    this.heldOverflow.clear();
  }

  /**
   * Holds a line of the current attempt until flushLogs (commit) or discardLogs (rollback). The
   * writer holds its `message … skipped` lines here too: a batch that aborts after them runs again.
   */
  holdLine(level: LogLevel, line: string, key?: PerMessageKey): void {
    // Bounded: a pathological batch cannot hold unbounded text.
    if (this.heldLines.length < MAX_HELD_LINES) {
      this.heldLines.push({ level, line, key });
    } else if (key) {
      const id = `${key.reason}\u0000${key.source}`;
      const entry = this.heldOverflow.get(id);
      if (entry) entry.count++;
      else if (this.heldOverflow.size < 64) this.heldOverflow.set(id, { key, count: 1 });
    }
  }

  /** A per-message line outside any transaction (after a commit): written now, through the rate limit. */
  logPerMessage(level: 'warn' | 'error', line: string, key: PerMessageKey): void {
    this.perMessageLog.write(level, key, line);
  }

  /** Writes the summaries of suppressed lines now (shutdown, before the final stats line). */
  flushLogSummaries(): void {
    this.perMessageLog.flushAll();
  }

  handle(message: IngestMessage, counters: IngestCounters, nowMs?: number): void {
    this.required().handle(message, counters, nowMs);
  }

  refreshPathIndex(): void {
    this.required().refreshPathIndex();
  }

  /** refreshPathIndex after loading its inputs where the engine reads them asynchronously (PostgreSQL). */
  async reloadPathIndex(): Promise<void> {
    await this.database.ingestStore.loadPathIndexInputs();
    this.refreshPathIndex();
  }

  private required(): IngestPipeline {
    if (!this.pipeline) throw new Error('ingest pipeline used before the database was opened');
    return this.pipeline;
  }
}
