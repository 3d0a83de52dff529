import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../../config/config.types';
import { decodePacket } from '../decoder/packet-decoder';
import { DecoderService } from '../decoder/decoder.service';
import { DatabaseService } from '../persistence/database.service';
import type { IngestBatchScope } from '../persistence/repositories/ingest.repository';
import { SqliteIngestRepository } from '../persistence/repositories/sqlite-ingest.repository';
import { IngestCounters } from '../stats/ingest-counters';
import { IngestStatsService } from '../stats/ingest-stats.service';
import { IngestMessage } from './ingest-message';
import { PathResolver } from './path-resolution/path-resolver';
import { IngestPipeline } from './pipeline/ingest-pipeline';
import { preparerSettingsOf } from './preparation/message-preparer';
import { PreparationStage } from './preparation/preparation-stage';
import type { PreparedMessage } from './preparation/prepared-message';

type LogLevel = 'log' | 'warn' | 'debug';

/**
 * Nest wrapper of the pipeline: wires config, decoder and the repository on the open database,
 * and the preparation stage (parse and decode, in a worker thread by default) in front of it.
 * Pipeline log lines are held until the writer knows the attempt committed: a batch that is
 * rolled back and run again must not log its messages twice.
 */
@Injectable()
export class IngestPipelineService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Ingest');
  private pipeline?: IngestPipeline;
  private stage?: PreparationStage;
  private readonly heldLines: Array<[LogLevel, string]> = [];
  private readonly heldLogger = {
    log: (m: string) => this.hold('log', m),
    warn: (m: string) => this.hold('warn', m),
    debug: (m: string) => this.hold('debug', m),
  };

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
      repository: new SqliteIngestRepository(this.database.connection),
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

  /** Emits the lines of the committed attempt. */
  flushLogs(): void {
    for (const [level, line] of this.heldLines) this.logger[level](line);
    this.heldLines.length = 0;
  }

  /** Forgets the lines of a rolled-back attempt (it runs again). */
  discardLogs(): void {
    this.heldLines.length = 0;
  }

  private hold(level: LogLevel, line: string): void {
    // Bounded: a pathological batch cannot hold unbounded text.
    if (this.heldLines.length < 10_000) this.heldLines.push([level, line]);
  }

  handle(message: IngestMessage, counters: IngestCounters, nowMs?: number): void {
    this.required().handle(message, counters, nowMs);
  }

  refreshPathIndex(): void {
    this.required().refreshPathIndex();
  }

  private required(): IngestPipeline {
    if (!this.pipeline) throw new Error('ingest pipeline used before the database was opened');
    return this.pipeline;
  }
}
