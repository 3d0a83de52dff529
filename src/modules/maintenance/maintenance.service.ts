import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { type BeforeApplicationShutdown, Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { formatDuration } from '../../config/duration';
import { APP_CONFIG, type AppConfig, type JobSchedule } from '../../config/config.types';
import { describeSchedule, MAINTENANCE_JOB_NAMES, type MaintenanceJobName } from '../../config/maintenance-schedules';
import { DatabaseService } from '../persistence/database.service';
import type { MaintenanceLeaderLock } from '../persistence/repositories/maintenance-leader-lock';
import type { MaintenanceRepository } from '../persistence/repositories/maintenance.repository';
import type { WriterPerf } from '../persistence/writer/writer-perf';
import { JobStoppedError, runToCompletion, runYielding, type ChunkedJob } from './chunked-job.runner';
import { formatGoDuration } from './go-time-text';
import {
  LoggedJobError,
  MaintenanceScheduler,
  isActive,
  type EffectiveSchedule,
  type JobBody,
  type JobContext,
  type JobStatus,
  type RunRequestOutcome,
  type SchedulerListener,
} from './maintenance.scheduler';
import { MultibyteCapabilityPersister, multibyteSnapshotPath } from './multibyte-capability.persister';
import { NeighborEdgesBuilder } from './neighbor-edges.builder';
import { oneLineError } from './one-line-error';
import { AsyncMaintenanceJobs } from './async-maintenance.jobs';
import { PruneRequestQueue, pruneRequestDirectory } from './prune-request.queue';
import { CHUNK_TARGET_MS, RetentionJobs, type RetentionJobsOptions, type RowTally } from './retention.jobs';

/** Injection token for the wall clock of the retention cutoffs (tests pin it). */
export const MAINTENANCE_CLOCK = Symbol('MAINTENANCE_CLOCK');

export interface MaintenanceClock {
  now(): number;
}

/** A build slower than this is reported as a possible regression of CoreScope #1339. */
const NEIGHBOR_SLOW_TICK_MS = 5_000;
const DAY_MS = 86_400_000;

interface MaintenanceParts {
  /** The scheduled and requested runs: chunks sized to CHUNK_TARGET_MS, beside ingest. */
  readonly jobs: RetentionJobs;
  /** The start-up runs, before the ingest writer starts: nothing to share with, chunks of deleteChunkRows. */
  readonly startupJobs: RetentionJobs;
  readonly neighborBuilder: NeighborEdgesBuilder;
  readonly multibytePersister: MultibyteCapabilityPersister;
  readonly pruneQueue: PruneRequestQueue;
}

/** "daily", "every 12h", "at 30 3 * * * (Europe/Berlin)": how start-up lines name a schedule. */
function describeWhen(schedule: JobSchedule): string {
  const { timing } = schedule;
  if (timing.kind === 'every') return timing.everyMs === DAY_MS ? 'daily' : `every ${formatDuration(timing.everyMs)}`;
  return `at "${timing.cron}"${timing.timeZone ? ` (${timing.timeZone})` : ''}`;
}

/**
 * Database maintenance of ingestor-spec §5: the synchronous start-up jobs (§7.1 steps 7, 9, 14) and the
 * periodic jobs of §5.1 on the schedules of the `schedules` config block, created once the write path is open
 * (§7.1 step 17). Every job writes through the one connection, one short transaction at a time, and reports
 * its waits and holds on the writer (WriterPerf). A reload (applyConfig) re-registers only changed schedules;
 * the job parameters (retention days, chunk size) are read at each run, so they change with it.
 */
/** Jobs that have no meaning on PostgreSQL, and why (README, "PostgreSQL"). */
const NOT_ON_POSTGRES: Partial<Record<MaintenanceJobName, string>> = {
  walCheckpoint: 'no meaning on PostgreSQL: the server checkpoints its own WAL',
  pruneQueue: 'no meaning on PostgreSQL: prune requests come from a CoreScope server, which reads SQLite only',
  multibytePersist: 'no meaning on PostgreSQL: the capability snapshot comes from a CoreScope server, which reads SQLite only',
};

@Injectable()
export class MaintenanceService implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Maintenance');
  private readonly clock: MaintenanceClock;
  private built?: MaintenanceParts;
  private readonly scheduler: MaintenanceScheduler;
  private schedulesStarted = false;
  private neighborEdgesWarm = false;
  private readonly neighborGraphListeners: Array<() => void> = [];
  /** PostgreSQL: leadership among replicas, and the jobs the leader runs. */
  private leader?: MaintenanceLeaderLock;
  private pgJobs?: AsyncMaintenanceJobs;
  /** The config the jobs read: the start-up one until a reload replaces it. */
  private current: AppConfig;

  constructor(
    private readonly database: DatabaseService,
    @Inject(APP_CONFIG) config: AppConfig,
    registry: SchedulerRegistry,
    @Optional() @Inject(MAINTENANCE_CLOCK) clock?: MaintenanceClock,
  ) {
    this.clock = clock ?? { now: () => Date.now() };
    this.current = config;
    this.scheduler = new MaintenanceScheduler(registry, {
      reportError: (name, error) => this.logger.error(`[maintenance] ${name} failed: ${oneLineError(error)}`),
      reportSkip: (name) => this.logger.debug(`[maintenance] ${name} still running; skipped this run`),
      now: () => Date.now(),
      standbyReason: () => (this.database.engine === 'postgres' && !this.leader?.isLeader ? 'another replica leads maintenance' : undefined),
    });
    for (const name of MAINTENANCE_JOB_NAMES) {
      this.scheduler.define({ name, run: this.bodyOf(name) }, this.effectiveSchedule(name, config));
    }
  }

  /**
   * Called after every neighbor build (warm-up and ticks), e.g. to refresh the ingest path resolver's prefix
   * index and neighbor graph, as the reference does around each build.
   */
  onNeighborEdgesBuilt(listener: () => void): void {
    this.neighborGraphListeners.push(listener);
  }

  /** Run outcomes and skipped ticks, for metrics. */
  listen(listener: SchedulerListener): void {
    this.scheduler.listen(listener);
  }

  /**
   * Start-up maintenance, synchronously and in the reference's order, before the ingest writer starts: soft-delete
   * blacklisted observers, auto_vacuum check (optional one-time VACUUM), then the retention jobs and one
   * incremental vacuum. Nothing else writes yet, so the prunes run straight through. A failing job is logged and
   * the next one still runs.
   */
  runStartupJobs(): void | Promise<void> {
    if (this.database.engine === 'postgres') return this.startPostgresLeadership();
    const { startupJobs: jobs } = this.parts;
    const { retention, observerBlacklist, db } = this.current;
    this.runStartupStep('observer blacklist', () => jobs.softDeleteBlacklistedObservers(observerBlacklist));
    this.runStartupStep('auto-vacuum check', () => jobs.checkAutoVacuum(db.vacuumOnStartup));
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
   * Arms the periodic jobs of §5.1 on their configured schedules. Idempotent.
   *
   * Unlike the reference, the neighbor-edge warm-up does not block the caller: a first build on a large database
   * can take minutes, and here that would freeze the event loop (MQTT keepalives, the ingest writer). It is the
   * neighbor builder's first run instead (initial delay 0 by default), yielding between builds; ticks that find
   * it still running are skipped.
   */
  startSchedules(): void {
    if (this.schedulesStarted) return;
    this.schedulesStarted = true;
    this.logScheduleLines(this.current);
    this.scheduler.start();
  }

  /**
   * Takes a reloaded config: job parameters at once, new timers for the jobs whose schedule changed (runs in
   * flight are left alone). Returns the names of the jobs that were rescheduled.
   */
  applyConfig(next: AppConfig): MaintenanceJobName[] {
    this.current = next;
    const rescheduled: MaintenanceJobName[] = [];
    for (const name of MAINTENANCE_JOB_NAMES) {
      if (this.scheduler.reschedule(name, this.effectiveSchedule(name, next))) rescheduled.push(name);
    }
    for (const name of rescheduled) {
      const status = this.scheduler.statusOf(name);
      if (!status) continue;
      this.logger.log(
        status.enabled
          ? `[maintenance] ${name} rescheduled: ${JSON.stringify(status.schedule)}, next run ${status.nextRunAt ?? 'not planned'}`
          : `[maintenance] ${name} is now off${status.disabledReason ? ` (${status.disabledReason})` : ''}`,
      );
    }
    return rescheduled;
  }

  /** Every job, for GET /api/maintenance. */
  status(): JobStatus[] {
    return this.scheduler.status();
  }

  statusOf(name: string): JobStatus | undefined {
    return this.scheduler.statusOf(name);
  }

  /** Starts a run now (POST /api/maintenance/<name>/run): 'running' when one is going. */
  requestRun(name: string): RunRequestOutcome {
    if (this.database.engine === 'postgres' && NOT_ON_POSTGRES[name as MaintenanceJobName]) return 'unavailable';
    const outcome = this.scheduler.requestRun(name);
    if (outcome === 'started') this.logger.log(`[maintenance] ${name} run requested`);
    return outcome;
  }

  /** Resolves when the job's current run has ended (tests, benchmarks). */
  whenIdle(name: string): Promise<void> {
    return this.scheduler.whenIdle(name);
  }

  /** Clears every maintenance timer and waits for the runs in flight (long prunes stop at their next chunk). */
  async stopSchedules(): Promise<void> {
    await this.scheduler.stop();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.shuttingDown = true;
    await this.stopSchedules();
    await this.startupRun;
    await this.leader?.stop();
  }

  /** PostgreSQL: which replica leads maintenance; undefined on SQLite (one process, no leadership). */
  async leaderStatus(): Promise<{ replica: string | null; self: boolean; thisReplica: string } | undefined> {
    if (!this.leader) return undefined;
    return { replica: await this.leader.currentLeader(), self: this.leader.isLeader, thisReplica: this.leader.replicaId };
  }

  // ---- PostgreSQL ----

  /**
   * Takes part in the leader election (the first poll is awaited, so a lone replica leads from the start) and,
   * on the leader, runs the reference's start-up jobs in the background: on PostgreSQL they do not hold the
   * ingest writer, so ingest does not wait for them.
   */
  private async startPostgresLeadership(): Promise<void> {
    const replicaId = `${hostname()}:${process.pid}`;
    this.leader = this.database.createLeaderLock(replicaId, (line) => this.logger.log(line));
    await this.leader.start();
    if (!this.leader.isLeader) {
      this.logger.log(`[maintenance] another replica leads maintenance; this one (${replicaId}) takes over if it stops`);
      return;
    }
    this.startupRun = this.runPostgresStartupJobs().catch((error) => this.logger.error(`[maintenance] start-up jobs failed: ${oneLineError(error)}`));
  }

  private startupRun?: Promise<void>;
  private shuttingDown = false;

  private async runPostgresStartupJobs(): Promise<void> {
    const jobs = this.postgresJobs;
    const { retention, observerBlacklist } = this.current;
    const context: JobContext = { shouldStop: () => this.shuttingDown };
    const step = async (name: string, work: () => Promise<unknown>) => {
      try {
        await work();
      } catch (error) {
        if (error instanceof JobStoppedError) throw error;
        this.logger.error(`[maintenance] start-up ${name} failed: ${oneLineError(error)}`);
      }
    };
    await step('observer blacklist', () => jobs.softDeleteBlacklistedObservers(observerBlacklist));
    await step('MoveStaleNodes', () => jobs.moveStaleNodes(retention.nodeDays));
    await step('RemoveStaleObservers', () => jobs.removeStaleObservers(retention.observerDays));
    await step('PruneOldMetrics', () => jobs.pruneOldMetrics(retention.metricsDays, undefined, context));
    await step('PruneDroppedPackets', () => jobs.pruneDroppedPackets(retention.metricsDays, undefined, context));
    await step('PruneOldPackets', () => jobs.pruneOldPackets(retention.packetDays, undefined, context));
    await step('PruneOldClientReceptions', () => jobs.pruneOldClientReceptions(retention.clientRxDays, undefined, context));
  }

  private get postgresJobs(): AsyncMaintenanceJobs {
    this.pgJobs ??= new AsyncMaintenanceJobs(this.database.postgresMaintenanceRepository, {
      log: (line) => this.logger.log(line),
      deleteChunkRows: () => this.current.maintenance.deleteChunkRows,
      now: () => this.clock.now(),
      writerPerf: this.writerPerf,
    });
    return this.pgJobs;
  }

  /** The PostgreSQL bodies (jobs that have no meaning there are never scheduled nor run: NOT_ON_POSTGRES). */
  private postgresBodyOf(name: MaintenanceJobName): JobBody {
    const tallied = async (work: (tally: RowTally) => Promise<unknown>) => {
      const tally: RowTally = { rows: 0 };
      await work(tally);
      return tally.rows;
    };
    const retention = () => this.current.retention;
    switch (name) {
      case 'nodeRetention':
        return () => this.postgresJobs.moveStaleNodes(retention().nodeDays);
      case 'observerRetention':
        return () => this.postgresJobs.removeStaleObservers(retention().observerDays);
      case 'metricsRetention':
        return (context) =>
          tallied(async (tally) => {
            await this.postgresJobs.pruneOldMetrics(retention().metricsDays, tally, context);
            await this.postgresJobs.pruneDroppedPackets(retention().metricsDays, tally, context);
          });
      case 'packetRetention':
        return (context) => tallied((tally) => this.postgresJobs.pruneOldPackets(retention().packetDays, tally, context));
      case 'clientRxRetention':
        return (context) => tallied((tally) => this.postgresJobs.pruneOldClientReceptions(retention().clientRxDays, tally, context));
      case 'neighborPrune':
        return (context) => tallied((tally) => this.postgresJobs.pruneNeighborEdges(this.current.neighborEdgesMaxAgeDays, tally, context));
      case 'neighborBuilder':
        return (context) => this.postgresNeighborBuild(context);
      case 'walCheckpoint':
      case 'pruneQueue':
      case 'multibytePersist':
        return () => {
          throw new Error(NOT_ON_POSTGRES[name]);
        };
    }
  }

  /** Warm-up on the first run, one build per tick after; the path resolver refreshes after each, as on SQLite. */
  private async postgresNeighborBuild(context: JobContext): Promise<number> {
    const startedAt = performance.now();
    const warm = this.neighborEdgesWarm;
    try {
      const upserted = warm ? await this.postgresJobs.buildNeighborEdges() : await this.postgresJobs.warmUpNeighborEdges({ total: 0 }, context);
      this.neighborEdgesWarm = true;
      const elapsed = formatGoDuration(performance.now() - startedAt);
      if (!warm) this.logger.log(`[neighbor-build] initial build: ${upserted} edges upserted in ${elapsed}`);
      else if (upserted > 0) this.logger.log(`[neighbor-build] tick: ${upserted} edges in ${elapsed} (delta from watermark)`);
      return upserted;
    } finally {
      this.notifyNeighborGraphListeners();
    }
  }

  /** The schedule the scheduler applies: the config's, switched off where the job's own setting says "never". */
  /** The storage engine the jobs would run on. */
  get engine(): 'sqlite' | 'postgres' {
    return this.database.engine;
  }

  private effectiveSchedule(name: MaintenanceJobName, config: AppConfig): EffectiveSchedule {
    const schedule = config.schedules[name];
    const { retention } = config;
    const reason = (this.database.engine === 'postgres' ? NOT_ON_POSTGRES[name] : undefined) ??
      (name === 'packetRetention' && retention.packetDays <= 0
        ? 'retention.packetDays is 0 (off)'
        : name === 'clientRxRetention' && retention.clientRxDays <= 0
          ? 'retention.clientRxDays is 0 (off)'
          : undefined);
    return reason === undefined ? schedule : { ...schedule, disabledReason: reason };
  }

  /** The reference's start-up lines for the jobs it announces, and one line per job that is off. */
  private logScheduleLines(config: AppConfig): void {
    const log = (line: string) => this.logger.log(line);
    const { retention, schedules } = config;
    const on = (name: MaintenanceJobName) => isActive(this.effectiveSchedule(name, config));
    if (on('packetRetention')) {
      log(`[prune] auto-prune enabled: packets older than ${retention.packetDays} days will be removed ${describeWhen(schedules.packetRetention)}`);
    }
    if (on('clientRxRetention')) {
      log(
        `[prune] auto-prune enabled: client_receptions older than ${retention.clientRxDays} days will be removed ${describeWhen(schedules.clientRxRetention)}`,
      );
    }
    if (on('walCheckpoint')) log(`[db] WAL checkpoint scheduled ${describeWhen(schedules.walCheckpoint).replace(/^daily$/, 'every 24h')}`);
    if (on('neighborPrune')) log(`[neighbor-prune] auto-prune enabled: edges older than ${config.neighborEdgesMaxAgeDays} days`);
    if (on('multibytePersist')) log(`[multibyte-persist] enabled (${this.intervalText(schedules.multibytePersist)})`);
    if (on('neighborBuilder')) log(`[neighbor-build] enabled (${this.intervalText(schedules.neighborBuilder, formatGoDuration)})`);
    for (const name of MAINTENANCE_JOB_NAMES) {
      if (!schedules[name].enabled) log(`[maintenance] ${name} is off (schedules.${name}.enabled is false)`);
    }
  }

  private intervalText(schedule: JobSchedule, format: (ms: number) => string = formatDuration): string {
    const { timing } = schedule;
    return timing.kind === 'every' ? `interval=${format(timing.everyMs)}` : `cron=${JSON.stringify(describeSchedule(schedule))}`;
  }

  /** What each job does; parameters come from the current config at each run. */
  private bodyOf(name: MaintenanceJobName): JobBody {
    const sqlite = this.sqliteBodyOf(name);
    const postgres = this.postgresBodyOf(name);
    return (context) => (this.database.engine === 'postgres' ? postgres(context) : sqlite(context));
  }

  private sqliteBodyOf(name: MaintenanceJobName): JobBody {
    const withTally = async (work: (tally: RowTally, context: JobContext) => Promise<void> | void, context: JobContext) => {
      const tally: RowTally = { rows: 0 };
      await work(tally, context);
      return tally.rows;
    };
    switch (name) {
      case 'nodeRetention':
        return () => {
          const moved = this.parts.jobs.moveStaleNodes(this.current.retention.nodeDays);
          this.parts.jobs.runIncrementalVacuum();
          return moved;
        };
      case 'observerRetention':
        return () => {
          const marked = this.parts.jobs.removeStaleObservers(this.current.retention.observerDays);
          this.parts.jobs.runIncrementalVacuum();
          return marked;
        };
      case 'metricsRetention':
        return (context) =>
          withTally(async (tally) => {
            const { jobs } = this.parts;
            await this.drive(jobs.pruneOldMetrics(this.current.retention.metricsDays, tally), context);
            await this.drive(jobs.pruneDroppedPackets(this.current.retention.metricsDays, tally), context);
            jobs.runIncrementalVacuum();
          }, context);
      case 'packetRetention':
        return (context) =>
          withTally(async (tally) => {
            const { jobs } = this.parts;
            if ((await this.drive(jobs.pruneOldPackets(this.current.retention.packetDays, tally), context)) > 0) jobs.runIncrementalVacuum();
          }, context);
      case 'clientRxRetention':
        return (context) =>
          withTally(async (tally) => {
            const { jobs } = this.parts;
            const deleted = await this.drive(jobs.pruneOldClientReceptions(this.current.retention.clientRxDays, tally), context);
            if (deleted > 0) jobs.runIncrementalVacuum();
          }, context);
      case 'walCheckpoint':
        return () => {
          this.writerPerf.time('wal_checkpoint', 'PRAGMA wal_checkpoint(TRUNCATE)', () => this.parts.jobs.checkpointWal());
        };
      case 'neighborPrune':
        return (context) =>
          withTally(async (tally) => {
            await this.drive(this.parts.jobs.pruneNeighborEdges(this.current.neighborEdgesMaxAgeDays, tally), context);
          }, context);
      case 'pruneQueue':
        return () => this.parts.pruneQueue.processPending();
      case 'multibytePersist':
        return async () => {
          const stats = await this.parts.multibytePersister.run();
          return stats.updatedActive + stats.updatedInactive;
        };
      case 'neighborBuilder':
        return (context) => (this.neighborEdgesWarm ? this.neighborBuildTick() : this.warmUpNeighborEdges(context));
    }
  }

  // ---- internals ----

  private get parts(): MaintenanceParts {
    // Built on first use: the connection exists only after the persistence module's init.
    return (this.built ??= this.buildParts());
  }

  private get writerPerf(): WriterPerf {
    return this.database.writerPerf;
  }

  private buildParts(): MaintenanceParts {
    const repository = this.database.maintenanceRepository;
    const log = (line: string) => this.logger.log(line);
    const now = () => this.clock.now();
    const perf = this.writerPerf;
    const current = () => this.current;
    const { dbPath } = this.current;
    // Getters, not values (and no spread, which would read them once): a reload changes them for the next chunk.
    const jobOptions = (chunkTargetMs?: number): RetentionJobsOptions => ({
      log,
      now,
      writerPerf: perf,
      chunkTargetMs,
      get deleteChunkRows() {
        return current().maintenance.deleteChunkRows;
      },
      get incrementalVacuumPages() {
        return current().db.incrementalVacuumPages;
      },
    });
    return {
      jobs: new RetentionJobs(repository, jobOptions(CHUNK_TARGET_MS)),
      startupJobs: new RetentionJobs(repository, jobOptions()),
      neighborBuilder: new NeighborEdgesBuilder(repository, {
        timeWrite: (work) => perf.time('neighbor_builder', 'tx-body', work),
      }),
      multibytePersister: new MultibyteCapabilityPersister(timedTransactions(repository, perf, 'multibyte_persist'), {
        snapshotPath: multibyteSnapshotPath(dbPath),
        log,
      }),
      pruneQueue: new PruneRequestQueue(timedTransactions(repository, perf, 'prune_queue'), {
        directory: pruneRequestDirectory(dbPath),
        log,
        now,
      }),
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

  /** The builder's first run: builds until caught up. A failure is logged like the reference's and the next run warms up again. */
  private async warmUpNeighborEdges(context: JobContext): Promise<number> {
    const startedAt = performance.now();
    const progress = { total: 0 };
    let failure: unknown;
    try {
      await this.drive(this.parts.neighborBuilder.warmUp(progress), context);
      this.neighborEdgesWarm = true;
    } catch (error) {
      if (error instanceof JobStoppedError) throw error;
      failure = error;
      this.logger.error(`[neighbor-build] initial build error: ${oneLineError(error)}`);
    }
    this.notifyNeighborGraphListeners();
    this.logger.log(
      `[neighbor-build] initial build: ${progress.total} edges upserted in ${formatGoDuration(performance.now() - startedAt)}`,
    );
    if (failure !== undefined) throw new LoggedJobError(failure);
    return progress.total;
  }

  private neighborBuildTick(): number {
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
    // Logged above in the reference's words; rethrown so the run counts as failed.
    if (failure !== undefined) throw new LoggedJobError(failure);
    return upserted;
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

/** The repository with its transactions timed as `component` on the writer (jobs that do not time themselves). */
function timedTransactions(repository: MaintenanceRepository, perf: WriterPerf, component: string): MaintenanceRepository {
  return new Proxy(repository, {
    get(target, property, receiver) {
      if (property === 'transaction') {
        return <T>(work: () => T): T => perf.time(component, 'tx-body', () => target.transaction(work));
      }
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
