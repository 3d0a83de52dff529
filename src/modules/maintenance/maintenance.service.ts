import { performance } from 'node:perf_hooks';
import { type BeforeApplicationShutdown, Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { APP_CONFIG, type AppConfig } from '../../config/config.types';
import { DatabaseService } from '../persistence/database.service';
import { JobStoppedError, runToCompletion, runYielding, type ChunkedJob } from './chunked-job.runner';
import { formatGoDuration } from './go-time-text';
import { MaintenanceScheduler, type JobContext } from './maintenance.scheduler';
import { MultibyteCapabilityPersister, multibyteSnapshotPath } from './multibyte-capability.persister';
import { NeighborEdgesBuilder } from './neighbor-edges.builder';
import { oneLineError } from './one-line-error';
import { PruneRequestQueue, pruneRequestDirectory } from './prune-request.queue';
import { RetentionJobs } from './retention.jobs';
import { SlowWriterLog } from './slow-writer.log';
import { SqliteMaintenanceRepository } from './sqlite-maintenance.repository';

/** Injection token for the wall clock of the retention cutoffs (tests pin it). */
export const MAINTENANCE_CLOCK = Symbol('MAINTENANCE_CLOCK');

export interface MaintenanceClock {
  now(): number;
}

const SECOND_MS = 1_000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;

/** First-run staggers of the reference (ingestor-spec §5.1): they only spread the first runs apart. */
export const MAINTENANCE_STAGGER_MS = {
  observerRetention: 90 * SECOND_MS,
  walCheckpoint: 30 * SECOND_MS,
  neighborPrune: 4 * MINUTE_MS,
  multibytePersist: 2 * MINUTE_MS,
} as const;

/** A build slower than this is reported as a possible regression of CoreScope #1339. */
const NEIGHBOR_SLOW_TICK_MS = 5 * SECOND_MS;

/** Job names (registry names are `maintenance:<name>`). */
export const MAINTENANCE_JOBS = {
  nodeRetention: 'node-retention',
  observerRetention: 'observer-retention',
  metricsRetention: 'metrics-retention',
  packetRetention: 'packet-retention',
  clientRxRetention: 'client-rx-retention',
  walCheckpoint: 'wal-checkpoint',
  neighborPrune: 'neighbor-prune',
  pruneQueue: 'prune-queue',
  multibytePersist: 'multibyte-persist',
  neighborBuilder: 'neighbor-builder',
} as const;

interface MaintenanceParts {
  readonly jobs: RetentionJobs;
  readonly neighborBuilder: NeighborEdgesBuilder;
  readonly multibytePersister: MultibyteCapabilityPersister;
  readonly pruneQueue: PruneRequestQueue;
}

/** 1h, 24h, 15s: how the reference's start-up lines print its fixed periods. */
function formatPeriod(ms: number): string {
  if (ms % HOUR_MS === 0) return `${ms / HOUR_MS}h`;
  if (ms % MINUTE_MS === 0) return `${ms / MINUTE_MS}m`;
  return `${ms / SECOND_MS}s`;
}

/**
 * Database maintenance of ingestor-spec §5: the synchronous start-up jobs (§7.1 steps 7, 9, 14) and the
 * schedules of §5.1, created from the validated config once the write path is open (§7.1 step 17).
 * Everything writes through the one connection, one short transaction at a time.
 */
@Injectable()
export class MaintenanceService implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Maintenance');
  private readonly clock: MaintenanceClock;
  private built?: MaintenanceParts;
  private scheduler?: MaintenanceScheduler;
  private readonly neighborGraphListeners: Array<() => void> = [];

  constructor(
    private readonly database: DatabaseService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly registry: SchedulerRegistry,
    @Optional() @Inject(MAINTENANCE_CLOCK) clock?: MaintenanceClock,
  ) {
    this.clock = clock ?? { now: () => Date.now() };
  }

  /**
   * Called after every neighbor build (warm-up and ticks), e.g. to refresh the ingest path resolver's prefix
   * index and neighbor graph, as the reference does around each build.
   */
  onNeighborEdgesBuilt(listener: () => void): void {
    this.neighborGraphListeners.push(listener);
  }

  /**
   * Start-up maintenance, synchronously and in the reference's order, before the ingest writer starts: soft-delete
   * blacklisted observers, auto_vacuum check (optional one-time VACUUM), then the retention jobs and one
   * incremental vacuum. Nothing else writes yet, so the prunes run straight through. A failing job is logged and
   * the next one still runs.
   */
  runStartupJobs(): void {
    const { jobs } = this.parts;
    const { retention } = this.config;
    this.runStartupStep('observer blacklist', () => jobs.softDeleteBlacklistedObservers(this.config.observerBlacklist));
    this.runStartupStep('auto-vacuum check', () => jobs.checkAutoVacuum(this.config.db.vacuumOnStartup));
    this.runStartupStep('MoveStaleNodes', () => jobs.moveStaleNodes(retention.nodeDays));
    this.runStartupStep('RemoveStaleObservers', () => jobs.removeStaleObservers(retention.observerDays));
    this.runStartupStep('PruneOldMetrics', () => runToCompletion(jobs.pruneOldMetrics(retention.metricsDays)));
    this.runStartupStep('PruneDroppedPackets', () => runToCompletion(jobs.pruneDroppedPackets(retention.metricsDays)));
    if (retention.packetDays > 0) {
      this.runStartupStep('PruneOldPackets', () => runToCompletion(jobs.pruneOldPackets(retention.packetDays)));
    }
    if (retention.clientRxDays > 0) {
      this.runStartupStep('PruneOldClientReceptions', () =>
        runToCompletion(jobs.pruneOldClientReceptions(retention.clientRxDays)),
      );
    }
    jobs.runIncrementalVacuum();
  }

  /**
   * Registers the periodic jobs of §5.1 with the SchedulerRegistry, in the reference's order. Idempotent.
   *
   * Unlike the reference, the neighbor-edge warm-up does not block the caller: a first build on a large database
   * can take minutes, and here that would freeze the event loop (MQTT keepalives, the ingest writer). It runs as
   * the first run of the neighbor-builder job instead, yielding between builds; the 60 s ticks start after it.
   */
  startSchedules(): void {
    if (this.scheduler) return;
    const scheduler = new MaintenanceScheduler(
      this.registry,
      (name, error) => this.logger.error(`[maintenance] ${name} failed: ${oneLineError(error)}`),
      (name) => this.logger.debug(`[maintenance] ${name} still running; skipped this run`),
    );
    this.scheduler = scheduler;
    const { jobs, multibytePersister, pruneQueue } = this.parts;
    const { retention, maintenance } = this.config;
    const dailyMs = maintenance.dailyJobsIntervalHours * HOUR_MS;
    const log = (line: string) => this.logger.log(line);

    scheduler.schedule({
      name: MAINTENANCE_JOBS.nodeRetention,
      periodMs: maintenance.nodeRetentionIntervalMin * MINUTE_MS,
      run: () => {
        jobs.moveStaleNodes(retention.nodeDays);
        jobs.runIncrementalVacuum();
      },
    });
    scheduler.schedule({
      name: MAINTENANCE_JOBS.observerRetention,
      periodMs: dailyMs,
      firstRunAfterMs: MAINTENANCE_STAGGER_MS.observerRetention,
      run: () => {
        jobs.removeStaleObservers(retention.observerDays);
        jobs.runIncrementalVacuum();
      },
    });
    scheduler.schedule({
      name: MAINTENANCE_JOBS.metricsRetention,
      periodMs: dailyMs,
      run: async (context) => {
        await this.drive(jobs.pruneOldMetrics(retention.metricsDays), context);
        await this.drive(jobs.pruneDroppedPackets(retention.metricsDays), context);
        jobs.runIncrementalVacuum();
      },
    });
    if (retention.packetDays > 0) {
      scheduler.schedule({
        name: MAINTENANCE_JOBS.packetRetention,
        periodMs: dailyMs,
        run: async (context) => {
          if ((await this.drive(jobs.pruneOldPackets(retention.packetDays), context)) > 0) jobs.runIncrementalVacuum();
        },
      });
      log(`[prune] auto-prune enabled: packets older than ${retention.packetDays} days will be removed daily`);
    }
    if (retention.clientRxDays > 0) {
      scheduler.schedule({
        name: MAINTENANCE_JOBS.clientRxRetention,
        periodMs: dailyMs,
        run: async (context) => {
          const deleted = await this.drive(jobs.pruneOldClientReceptions(retention.clientRxDays), context);
          if (deleted > 0) jobs.runIncrementalVacuum();
        },
      });
      log(`[prune] auto-prune enabled: client_receptions older than ${retention.clientRxDays} days will be removed daily`);
    }
    const walPeriodMs = maintenance.walCheckpointIntervalMin * MINUTE_MS;
    scheduler.schedule({
      name: MAINTENANCE_JOBS.walCheckpoint,
      periodMs: walPeriodMs,
      firstRunAfterMs: MAINTENANCE_STAGGER_MS.walCheckpoint,
      run: () => jobs.checkpointWal(),
    });
    log(`[db] WAL checkpoint scheduled every ${formatPeriod(walPeriodMs)}`);
    scheduler.schedule({
      name: MAINTENANCE_JOBS.neighborPrune,
      periodMs: dailyMs,
      firstRunAfterMs: MAINTENANCE_STAGGER_MS.neighborPrune,
      run: (context) => this.drive(jobs.pruneNeighborEdges(this.config.neighborEdgesMaxAgeDays), context),
    });
    log(`[neighbor-prune] auto-prune enabled: edges older than ${this.config.neighborEdgesMaxAgeDays} days`);
    scheduler.schedule({
      name: MAINTENANCE_JOBS.pruneQueue,
      periodMs: maintenance.pruneQueueIntervalSec * SECOND_MS,
      firstRunAfterMs: 0,
      run: () => pruneQueue.processPending(),
    });
    const multibytePeriodMs = maintenance.multibyteIntervalMin * MINUTE_MS;
    scheduler.schedule({
      name: MAINTENANCE_JOBS.multibytePersist,
      periodMs: multibytePeriodMs,
      firstRunAfterMs: MAINTENANCE_STAGGER_MS.multibytePersist,
      run: () => multibytePersister.run(),
    });
    log(`[multibyte-persist] enabled (interval=${formatPeriod(multibytePeriodMs)})`);

    const builderPeriodMs = maintenance.neighborBuilderIntervalSec * SECOND_MS;
    void scheduler
      .runExclusive(MAINTENANCE_JOBS.neighborBuilder, (context) => this.warmUpNeighborEdges(context))
      .then(() =>
        scheduler.schedule({
          name: MAINTENANCE_JOBS.neighborBuilder,
          periodMs: builderPeriodMs,
          run: () => this.neighborBuildTick(),
        }),
      );
    log(`[neighbor-build] enabled (interval=${formatGoDuration(builderPeriodMs)})`);
  }

  /** Clears every maintenance timer and waits for the runs in flight (long prunes stop at their next chunk). */
  async stopSchedules(): Promise<void> {
    await this.scheduler?.stop();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.stopSchedules();
  }

  // ---- internals ----

  private get parts(): MaintenanceParts {
    // Built on first use: the connection exists only after the persistence module's init.
    return (this.built ??= this.buildParts());
  }

  private buildParts(): MaintenanceParts {
    const repository = new SqliteMaintenanceRepository(this.database.connection, this.database.writer);
    const log = (line: string) => this.logger.log(line);
    const now = () => this.clock.now();
    const slowWriter = new SlowWriterLog(this.config.slowWriterMs, (line) => this.logger.warn(line));
    return {
      jobs: new RetentionJobs(repository, {
        log,
        now,
        slowWriter,
        deleteChunkRows: this.config.maintenance.deleteChunkRows,
        incrementalVacuumPages: this.config.db.incrementalVacuumPages,
      }),
      neighborBuilder: new NeighborEdgesBuilder(repository, {
        timeWrite: (work) => slowWriter.time('neighbor_builder', 'tx-body', work),
      }),
      multibytePersister: new MultibyteCapabilityPersister(repository, {
        snapshotPath: multibyteSnapshotPath(this.config.dbPath),
        log,
      }),
      pruneQueue: new PruneRequestQueue(repository, { directory: pruneRequestDirectory(this.config.dbPath), log, now }),
    };
  }

  private drive<T>(job: ChunkedJob<T>, context: JobContext): Promise<T> {
    return runYielding(job, { shouldStop: context.shouldStop });
  }

  private runStartupStep(name: string, step: () => unknown): void {
    try {
      step();
    } catch (error) {
      this.logger.error(`[maintenance] start-up ${name} failed: ${oneLineError(error)}`);
    }
  }

  private async warmUpNeighborEdges(context: JobContext): Promise<void> {
    const startedAt = performance.now();
    const progress = { total: 0 };
    try {
      await this.drive(this.parts.neighborBuilder.warmUp(progress), context);
    } catch (error) {
      if (error instanceof JobStoppedError) throw error;
      this.logger.error(`[neighbor-build] initial build error: ${oneLineError(error)}`);
    }
    this.notifyNeighborGraphListeners();
    this.logger.log(
      `[neighbor-build] initial build: ${progress.total} edges upserted in ${formatGoDuration(performance.now() - startedAt)}`,
    );
  }

  private neighborBuildTick(): void {
    const startedAt = performance.now();
    let upserted = 0;
    let failure: unknown;
    try {
      upserted = this.parts.neighborBuilder.build();
    } catch (error) {
      failure = error;
    }
    this.notifyNeighborGraphListeners();
    const elapsedMs = performance.now() - startedAt;
    const elapsed = formatGoDuration(elapsedMs);
    if (failure !== undefined) this.logger.error(`[neighbor-build] tick error after ${elapsed}: ${oneLineError(failure)}`);
    else if (upserted > 0) this.logger.log(`[neighbor-build] tick: ${upserted} edges in ${elapsed} (delta from watermark)`);
    if (elapsedMs > NEIGHBOR_SLOW_TICK_MS) {
      this.logger.warn(`[neighbor-build] SLOW tick: ${elapsed} — possible regression of #1339`);
    }
  }

  private notifyNeighborGraphListeners(): void {
    for (const listener of this.neighborGraphListeners) {
      try {
        listener();
      } catch (error) {
        this.logger.error(`[neighbor-build] neighbor-graph refresh error: ${oneLineError(error)}`);
      }
    }
  }
}
