import type { SchedulerRegistry } from '@nestjs/schedule';
import { JobStoppedError } from './chunked-job.runner';

/**
 * Periodic maintenance jobs on Nest's SchedulerRegistry (ecosystem-notes §3): registered at run time from the
 * validated config, never overlapping themselves, failures logged and survived, and stoppable with the
 * in-flight runs awaited.
 *
 * Timing follows the reference's tickers (ingestor-spec §5.1): the period is anchored on when the job is
 * scheduled; an optional first-run delay (the stagger) moves only the first run.
 */

export interface JobContext {
  /** True once stop() was called: long jobs check it between chunks and end early. */
  readonly shouldStop: () => boolean;
}

export type JobBody = (context: JobContext) => Promise<unknown> | unknown;

export interface PeriodicJob {
  /** Unique among the maintenance jobs; the registry name is `maintenance:<name>`. */
  readonly name: string;
  readonly periodMs: number;
  /** Delay of an extra first run; 0 = right away; absent = the first run is the first period. */
  readonly firstRunAfterMs?: number;
  readonly run: JobBody;
}

/** How one job failure is reported (one line). */
export type JobErrorReporter = (jobName: string, error: unknown) => void;

const REGISTRY_PREFIX = 'maintenance:';

export class MaintenanceScheduler {
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly intervalNames = new Set<string>();
  private readonly timeoutNames = new Set<string>();
  private stopped = false;
  private readonly context: JobContext = { shouldStop: () => this.stopped };

  constructor(
    private readonly registry: SchedulerRegistry,
    private readonly reportError: JobErrorReporter,
    private readonly reportSkip: (jobName: string) => void = () => {},
  ) {}

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Names of the jobs running right now. */
  get running(): string[] {
    return [...this.inFlight.keys()];
  }

  schedule(job: PeriodicJob): void {
    if (this.stopped) return;
    const intervalName = `${REGISTRY_PREFIX}${job.name}`;
    const interval = setInterval(() => void this.runExclusive(job.name, job.run), job.periodMs);
    // Timers must not keep a process (or a test run) alive on their own: the app lives on its servers.
    interval.unref();
    this.registry.addInterval(intervalName, interval);
    this.intervalNames.add(intervalName);

    if (job.firstRunAfterMs === 0) {
      void this.runExclusive(job.name, job.run);
    } else if (job.firstRunAfterMs !== undefined) {
      const timeoutName = `${intervalName}:first-run`;
      const timeout = setTimeout(() => {
        this.forgetTimeout(timeoutName);
        void this.runExclusive(job.name, job.run);
      }, job.firstRunAfterMs);
      timeout.unref();
      this.registry.addTimeout(timeoutName, timeout);
      this.timeoutNames.add(timeoutName);
    }
  }

  /**
   * Runs `body` under the job's name unless a run of that name is still going (then this one is skipped, like a
   * ticker tick nobody was waiting for). Resolves when the run ends; never rejects.
   */
  runExclusive(name: string, body: JobBody): Promise<void> {
    if (this.stopped) return Promise.resolve();
    const running = this.inFlight.get(name);
    if (running) {
      this.reportSkip(name);
      return running;
    }
    let finished!: () => void;
    const run = new Promise<void>((resolve) => (finished = resolve));
    // Registered before the body starts: a body that fails synchronously still leaves the map in order.
    this.inFlight.set(name, run);
    void (async () => {
      try {
        await body(this.context);
      } catch (error) {
        if (!(error instanceof JobStoppedError)) this.reportError(name, error);
      } finally {
        this.inFlight.delete(name);
        finished();
      }
    })();
    return run;
  }

  /** Clears every timer of ours from the registry and waits for the runs in flight (they stop between chunks). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const name of this.intervalNames) {
      if (this.registry.doesExist('interval', name)) this.registry.deleteInterval(name);
    }
    this.intervalNames.clear();
    for (const name of [...this.timeoutNames]) this.forgetTimeout(name);
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight.values()]);
  }

  private forgetTimeout(name: string): void {
    if (this.registry.doesExist('timeout', name)) this.registry.deleteTimeout(name);
    this.timeoutNames.delete(name);
  }
}
