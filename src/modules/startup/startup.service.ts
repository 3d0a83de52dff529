import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { IngestPipelineService } from '../ingest/ingest-pipeline.service';
import { IngestWriterService } from '../ingest/ingest-writer.service';
import { MaintenanceService } from '../maintenance/maintenance.service';
import { DatabaseService } from '../persistence/database.service';

/**
 * Start-up order of the reference (ingestor-spec §7.1): MQTT subscribes early and messages queue
 * in the ingest buffer while the synchronous start-up maintenance and the tracked background
 * migrations finish; only then does the single writer start draining, in FIFO order.
 */
@Injectable()
export class StartupService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Startup');
  private done?: Promise<void>;

  constructor(
    private readonly database: DatabaseService,
    private readonly maintenance: MaintenanceService,
    private readonly pipeline: IngestPipelineService,
    private readonly writer: IngestWriterService,
  ) {}

  onApplicationBootstrap(): void {
    // Not awaited: HTTP and MQTT come up first; the write path opens when this finishes.
    this.done = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.run());
    this.done.catch((err) => this.logger.error(`start-up failed: ${(err as Error).message}`));
  }

  /** Resolves once the write path is open (tests, replay). */
  whenWritePathOpen(): Promise<void> {
    return this.done ?? Promise.resolve();
  }

  private async run(): Promise<void> {
    // SQLite: synchronous, before the writer (the reference's order). PostgreSQL: the leader election; the
    // leader's start-up jobs then run beside ingest.
    await this.maintenance.runStartupJobs();
    if (this.database.engine === 'sqlite') await this.database.asyncMigrations.whenIdle();
    await this.pipeline.reloadPathIndex();
    // Like the reference, resolved_path follows the neighbor graph: refresh after every build (on PostgreSQL
    // its inputs are read first, asynchronously).
    this.maintenance.onNeighborEdgesBuilt(() => {
      if (this.database.engine === 'sqlite') return this.pipeline.refreshPathIndex();
      this.pipeline.reloadPathIndex().catch((err) => this.logger.error(`path index refresh failed: ${(err as Error).message}`));
    });
    this.writer.start();
    this.maintenance.startSchedules();
  }
}
