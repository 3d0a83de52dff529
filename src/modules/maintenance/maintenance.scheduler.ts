import { performance } from 'node:perf_hooks';
import type { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import type { JobSchedule } from '../../config/config.types';
import { describeSchedule, sameTiming } from '../../config/maintenance-schedules';
import { JobStoppedError } from './chunked-job.runner';
import { oneLineError } from './one-line-error';

/**
 * Timers of the periodic maintenance jobs, on Nest's SchedulerRegistry (ecosystem-notes §3): `every` jobs with
 * addInterval, cron jobs with addCronJob (the `cron` package), an extra first run with addTimeout. Registered
 * at run time from the validated config and re-registered one job at a time when a reload changes its schedule.
 *
 * A job never overlaps itself: a tick (or a run request) that finds it running is skipped and counted. A failed
 * run is logged and counted, and the next tick runs as usual. Every run's outcome is kept for the status API
 * and handed to the listeners (metrics).
 *
 * `every` follows the reference's tickers (ingestor-spec §5.1): the period is anchored on when the job was
 * scheduled, and `initialDelay` adds one extra first run without moving the ticks.
 */

export interface JobContext {
  /** True once stop() was called: long jobs check it between chunks and end early. */
  readonly shouldStop: () => boolean;
}

/** The job's work; resolves to the rows it touched (undefined: the job has no rows to speak of). */
export type JobBody = (context: JobContext) => Promise<number | void> | number | void;

export interface JobDefinition {
  readonly name: string;
  readonly run: JobBody;
}

/** A job's schedule as the scheduler applies it: the config's, plus why it is off when the config cannot say. */
export interface EffectiveSchedule extends JobSchedule {
  /** Set when the job cannot run on its own although `enabled` is true (e.g. its retention days are 0). */
  readonly disabledReason?: string;
}

/** A failure the job has already logged in its own words: counted and kept as lastRun.error, not logged again. */
export class LoggedJobError extends Error {
  constructor(override readonly cause: unknown) {
    super(oneLineError(cause));
  }
}

export type RunResult = 'ok' | 'error' | 'stopped';
export type RunTrigger = 'schedule' | 'initial' | 'manual';

export interface LastRun {
  readonly startedAt: string;
  readonly durationMs: number;
  readonly result: RunResult;
  /** One line; only when result is `error`. */
  readonly error?: string;
  /** Rows the run touched; null when the job does not count rows. */
  readonly rows: number | null;
}

export interface JobStatus {
  readonly name: string;
  readonly enabled: boolean;
  readonly disabledReason?: string;
  readonly schedule: Record<string, string>;
  readonly running: boolean;
  /** ISO 8601 UTC; null when the job has no timers. */
  readonly nextRunAt: string | null;
  readonly lastRun: LastRun | null;
  readonly runs: number;
  readonly failures: number;
  readonly skipped: number;
}

export interface SchedulerListener {
  onRunFinished?(name: string, run: LastRun, trigger: RunTrigger): void;
  onSkipped?(name: string, trigger: RunTrigger): void;
}

/** `unavailable`: the job has no meaning on the configured storage engine; `standby`: another replica runs the jobs. */
export type RunRequestOutcome = 'started' | 'running' | 'unknown' | 'stopped' | 'unavailable' | 'standby';

interface JobState {
  readonly definition: JobDefinition;
  schedule: EffectiveSchedule;
  timers: JobTimers;
  inFlight?: Promise<void>;
  lastRun: LastRun | null;
  runs: number;
  failures: number;
  skipped: number;
}

interface JobTimers {
  /** Registry name of the interval or cron job, when armed. */
  periodic?: string;
  cron?: CronJob;
  /** Next tick of an interval (epoch ms), advanced at each tick. */
  nextTickAt?: number;
  /** Registry name of the pending extra first run, and when it fires. */
  initial?: string;
  initialAt?: number;
}

export interface SchedulerOptions {
  readonly reportError: (jobName: string, error: unknown) => void;
  readonly reportSkip?: (jobName: string) => void;
  readonly now?: () => number;
  /**
   * Why no job may run on this instance right now (e.g. another replica leads maintenance), or undefined. While
   * set, ticks are skipped (counted as skipped) and run requests answer `standby`.
   */
  readonly standbyReason?: () => string | undefined;
}

const REGISTRY_PREFIX = 'maintenance:';
const iso = (ms: number): string => new Date(ms).toISOString();

export function isActive(schedule: EffectiveSchedule): boolean {
  return schedule.enabled && schedule.disabledReason === undefined;
}

export class MaintenanceScheduler {
  private readonly jobs = new Map<string, JobState>();
  private readonly listeners: SchedulerListener[] = [];
  private started = false;
  private stopped = false;
  private readonly context: JobContext = { shouldStop: () => this.stopped };
  private readonly now: () => number;

  constructor(
    private readonly registry: SchedulerRegistry,
    private readonly options: SchedulerOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Names of the jobs running right now. */
  get running(): string[] {
    return [...this.jobs.values()].filter((job) => job.inFlight).map((job) => job.definition.name);
  }

  listen(listener: SchedulerListener): void {
    this.listeners.push(listener);
  }

  /** Adds a job; its timers start with start() (or right away when the scheduler already runs). */
  define(definition: JobDefinition, schedule: EffectiveSchedule): void {
    if (this.jobs.has(definition.name)) throw new Error(`maintenance job ${definition.name} is defined twice`);
    const state: JobState = { definition, schedule, timers: {}, lastRun: null, runs: 0, failures: 0, skipped: 0 };
    this.jobs.set(definition.name, state);
    if (this.started) this.arm(state);
  }

  /** Arms the timers of every enabled job. Idempotent. */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    for (const state of this.jobs.values()) this.arm(state);
  }

  /**
   * Applies a new schedule to one job. Only a job whose timing, initial delay or enabled state changed gets new
   * timers; a run in flight goes on untouched. Returns whether anything changed.
   */
  reschedule(name: string, schedule: EffectiveSchedule): boolean {
    const state = this.jobs.get(name);
    if (!state) throw new Error(`unknown maintenance job ${name}`);
    const before = state.schedule;
    const changed =
      isActive(before) !== isActive(schedule) ||
      before.disabledReason !== schedule.disabledReason ||
      before.enabled !== schedule.enabled ||
      !sameTiming(before, schedule);
    state.schedule = schedule;
    if (changed && this.started && !this.stopped) {
      this.disarm(state);
      this.arm(state);
    }
    return changed;
  }

  /** Starts a run now, unless one is going (the caller answers 409) or the scheduler stopped. Never awaits it. */
  requestRun(name: string): RunRequestOutcome {
    const state = this.jobs.get(name);
    if (!state) return 'unknown';
    if (this.stopped) return 'stopped';
    if (this.options.standbyReason?.() !== undefined) return 'standby';
    if (state.inFlight) return 'running';
    void this.runExclusive(state, 'manual');
    return 'started';
  }

  /** Resolves when the job's current run (if any) has ended; for tests and the benchmark. */
  async whenIdle(name: string): Promise<void> {
    await this.jobs.get(name)?.inFlight;
  }

  status(): JobStatus[] {
    return [...this.jobs.values()].map((state) => this.describe(state));
  }

  statusOf(name: string): JobStatus | undefined {
    const state = this.jobs.get(name);
    return state && this.describe(state);
  }

  /** Clears every timer of ours from the registry and waits for the runs in flight (they stop between chunks). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const state of this.jobs.values()) this.disarm(state);
    for (;;) {
      const inFlight = [...this.jobs.values()].map((state) => state.inFlight).filter((run) => run !== undefined);
      if (inFlight.length === 0) return;
      await Promise.all(inFlight);
    }
  }

  // ---- internals ----

  private describe(state: JobState): JobStatus {
    const { schedule } = state;
    return {
      name: state.definition.name,
      enabled: isActive(schedule),
      ...(schedule.disabledReason !== undefined && schedule.enabled && { disabledReason: schedule.disabledReason }),
      schedule: describeSchedule(schedule),
      running: state.inFlight !== undefined,
      nextRunAt: this.nextRunAt(state),
      lastRun: state.lastRun,
      runs: state.runs,
      failures: state.failures,
      skipped: state.skipped,
    };
  }

  private nextRunAt(state: JobState): string | null {
    const { timers } = state;
    const candidates: number[] = [];
    if (timers.initialAt !== undefined) candidates.push(timers.initialAt);
    if (timers.nextTickAt !== undefined) candidates.push(timers.nextTickAt);
    if (timers.cron) {
      // Validation refuses crons that never fire; should one slip through, the status still answers.
      try {
        candidates.push(timers.cron.nextDate().toMillis());
      } catch {
        /* no next date */
      }
    }
    return candidates.length === 0 ? null : iso(Math.min(...candidates));
  }

  private arm(state: JobState): void {
    if (this.stopped || !isActive(state.schedule)) return;
    const { name } = state.definition;
    const { timing, initialDelayMs } = state.schedule;
    const periodicName = `${REGISTRY_PREFIX}${name}`;
    const timers: JobTimers = { periodic: periodicName };
    state.timers = timers;
    if (timing.kind === 'every') {
      timers.nextTickAt = this.now() + timing.everyMs;
      const interval = setInterval(() => {
        timers.nextTickAt = Math.max((timers.nextTickAt ?? 0) + timing.everyMs, this.now() + 1);
        void this.runExclusive(state, 'schedule');
      }, timing.everyMs);
      // Timers must not keep a process (or a test run) alive on their own: the app lives on its servers.
      interval.unref();
      this.registry.addInterval(periodicName, interval);
    } else {
      const job = CronJob.from({
        cronTime: timing.cron,
        onTick: () => void this.runExclusive(state, 'schedule'),
        start: false,
        ...(timing.timeZone !== undefined && { timeZone: timing.timeZone }),
        unrefTimeout: true,
        name: periodicName,
      });
      timers.cron = job;
      this.registry.addCronJob(periodicName, job as never);
      job.start();
    }
    if (initialDelayMs === 0) {
      void this.runExclusive(state, 'initial');
    } else if (initialDelayMs !== null) {
      const initialName = `${periodicName}:initial`;
      timers.initial = initialName;
      timers.initialAt = this.now() + initialDelayMs;
      const timeout = setTimeout(() => {
        this.forgetInitial(timers);
        void this.runExclusive(state, 'initial');
      }, initialDelayMs);
      timeout.unref();
      this.registry.addTimeout(initialName, timeout);
    }
  }

  private disarm(state: JobState): void {
    const { timers } = state;
    if (timers.periodic) {
      if (timers.cron) {
        if (this.registry.doesExist('cron', timers.periodic)) this.registry.deleteCronJob(timers.periodic);
        else void timers.cron.stop();
      } else if (this.registry.doesExist('interval', timers.periodic)) {
        this.registry.deleteInterval(timers.periodic);
      }
    }
    this.forgetInitial(timers);
    state.timers = {};
  }

  private forgetInitial(timers: JobTimers): void {
    if (timers.initial && this.registry.doesExist('timeout', timers.initial)) this.registry.deleteTimeout(timers.initial);
    timers.initial = undefined;
    timers.initialAt = undefined;
  }

  /** Runs the job unless it is running (then this request is skipped and counted). Resolves when it ends; never rejects. */
  private runExclusive(state: JobState, trigger: RunTrigger): Promise<void> {
    if (this.stopped) return Promise.resolve();
    const { name } = state.definition;
    if (this.options.standbyReason?.() !== undefined) {
      state.skipped += 1;
      for (const listener of this.listeners) listener.onSkipped?.(name, trigger);
      return Promise.resolve();
    }
    if (state.inFlight) {
      state.skipped += 1;
      this.options.reportSkip?.(name);
      for (const listener of this.listeners) listener.onSkipped?.(name, trigger);
      return state.inFlight;
    }
    const startedAtMs = this.now();
    const started = performance.now();
    let settle!: () => void;
    // Registered before the body starts: a body that fails synchronously still leaves the state in order.
    state.inFlight = new Promise<void>((resolve) => (settle = resolve));
    const done = state.inFlight;
    void (async () => {
      let result: RunResult = 'ok';
      let error: string | undefined;
      let rows: number | null = null;
      try {
        const touched = await state.definition.run(this.context);
        if (typeof touched === 'number') rows = touched;
      } catch (failure) {
        if (failure instanceof JobStoppedError) {
          result = 'stopped';
        } else {
          result = 'error';
          error = oneLineError(failure);
          state.failures += 1;
          if (!(failure instanceof LoggedJobError)) this.options.reportError(name, failure);
        }
      }
      state.runs += 1;
      const run: LastRun = {
        startedAt: iso(startedAtMs),
        durationMs: Math.round((performance.now() - started) * 10) / 10,
        result,
        ...(error !== undefined && { error }),
        rows,
      };
      state.lastRun = run;
      state.inFlight = undefined;
      for (const listener of this.listeners) {
        try {
          listener.onRunFinished?.(name, run, trigger);
        } catch {
          // A metrics listener never fails a job.
        }
      }
      settle();
    })();
    return done;
  }
}
