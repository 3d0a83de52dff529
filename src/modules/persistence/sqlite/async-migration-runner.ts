import type BetterSqlite3 from 'better-sqlite3';
import { TABLE_DDL } from './schema';
import { errorText } from '../../../common/errors/error-text';

/**
 * Background work that must not hold up startup: async migrations (ingestor-spec §4.3 #19–#20, with the
 * `_async_migrations` status protocol) and the boot backfills of §5.3.
 *
 * Everything runs on the one shared connection. better-sqlite3 is synchronous, so a job is "background" only
 * in the sense that it does its SQL in short chunks and hands the event loop back between them (setImmediate
 * or a throttle pause); ingest, MQTT keepalives and timers run in those gaps. Because no chunk spans an await,
 * a job's transaction can never interleave with another writer's.
 *
 * "Tracked" jobs are what startup waits for before draining the ingest buffer (§7.1 step 15, `whenIdle()`);
 * untracked ones (the from_pubkey backfill) are not waited for. On shutdown every job is cancelled at its next
 * yield point; the work is resumable (an interrupted async migration stays `pending_async` and is re-run on the
 * next start; a backfill's marker is simply not written yet).
 */

const OTHER_TRANSACTION_POLL_MS = 5;

export type AsyncMigrationStatus = 'pending_async' | 'done' | 'failed';

export interface AsyncMigrationRecord {
  readonly name: string;
  readonly status: AsyncMigrationStatus;
  readonly started_at: string;
  readonly ended_at: string | null;
  readonly error: string | null;
}

/** How a scheduled job ended: `skipped` = already done, never started; `cancelled` = stopped by shutdown. */
export type BackgroundJobOutcome = 'done' | 'failed' | 'skipped' | 'cancelled';

export class BackgroundJobCancelledError extends Error {
  constructor(jobName: string) {
    super(`background job "${jobName}" cancelled by shutdown`);
    this.name = 'BackgroundJobCancelledError';
  }
}

export interface BackgroundJobContext {
  readonly name: string;
  /** The shared connection. Do SQL in chunks and await `yieldToEventLoop()`/`pause()` between them. */
  readonly db: BetterSqlite3.Database;
  readonly log: (line: string) => void;
  /** Lets pending I/O and timers run; throws BackgroundJobCancelledError once shutdown has begun. */
  yieldToEventLoop(): Promise<void>;
  /** Throttle between batches; cut short and throws BackgroundJobCancelledError on shutdown. */
  pause(ms: number): Promise<void>;
  /** Adds to the stats-file `backfillUpdates.<name>` counter. */
  countBackfillUpdates(counter: string, rows: number): void;
}

/** Whatever the job returns (or resolves to) is ignored; throwing marks it failed. */
export type BackgroundJob = (context: BackgroundJobContext) => unknown;

interface JobCompletionHooks {
  onDone?(): void;
  onFailed?(error: unknown): void;
}

export class AsyncMigrationRunner {
  private readonly trackedJobs = new Set<Promise<BackgroundJobOutcome>>();
  private readonly untrackedJobs = new Set<Promise<BackgroundJobOutcome>>();
  private readonly wakeSleepers = new Set<() => void>();
  private readonly backfillUpdates = new Map<string, number>();
  private shuttingDown = false;

  constructor(
    private readonly db: BetterSqlite3.Database,
    private readonly log: (line: string) => void = () => {},
  ) {
    db.exec(TABLE_DDL._async_migrations);
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /**
   * CoreScope's RunAsyncMigration: `done` → skipped; `pending_async` or `failed` (an earlier run died or
   * failed) → reset to `pending_async` with a fresh started_at and re-run; no row → inserted as `pending_async`.
   * The status row is written now, synchronously; the job itself starts on a later tick.
   * Success → `done` + ended_at; error → `failed` + ended_at + error text.
   */
  runAsyncMigration(name: string, job: BackgroundJob): Promise<BackgroundJobOutcome> {
    if (this.shuttingDown) return Promise.resolve('cancelled');
    const existing = this.getStatus(name);
    if (existing?.status === 'done') return Promise.resolve('skipped');
    if (existing) {
      this.db
        .prepare(
          `UPDATE _async_migrations
              SET status = 'pending_async', started_at = datetime('now'), ended_at = NULL, error = NULL
            WHERE name = ?`,
        )
        .run(name);
    } else {
      this.db.prepare(`INSERT INTO _async_migrations (name, status) VALUES (?, 'pending_async')`).run(name);
    }
    this.log(`[async-migration] "${name}" starting (boot continues)`);
    return this.launch(name, job, true, {
      onDone: () => {
        this.db
          .prepare(`UPDATE _async_migrations SET status = 'done', ended_at = datetime('now') WHERE name = ?`)
          .run(name);
        this.log(`[async-migration] "${name}" done`);
      },
      onFailed: (error) => {
        this.db
          .prepare(
            `UPDATE _async_migrations SET status = 'failed', ended_at = datetime('now'), error = ? WHERE name = ?`,
          )
          .run(errorText(error), name);
        this.log(`[async-migration] "${name}" FAILED: ${errorText(error)}`);
      },
    });
  }

  /** A job startup waits for (whenIdle) that keeps no status row, e.g. the path_json backfill. */
  runTracked(name: string, job: BackgroundJob): Promise<BackgroundJobOutcome> {
    if (this.shuttingDown) return Promise.resolve('cancelled');
    return this.launch(name, job, true, { onFailed: (error) => this.logJobFailure(name, error) });
  }

  /** A job nobody waits for, e.g. the from_pubkey backfill. */
  runUntracked(name: string, job: BackgroundJob): Promise<BackgroundJobOutcome> {
    if (this.shuttingDown) return Promise.resolve('cancelled');
    return this.launch(name, job, false, { onFailed: (error) => this.logJobFailure(name, error) });
  }

  /** Resolves once no tracked job is running (including tracked jobs started while waiting). */
  async whenIdle(): Promise<void> {
    while (this.trackedJobs.size > 0) await Promise.all([...this.trackedJobs]);
  }

  /** Like whenIdle, but also waits for untracked jobs. Meant for tests and orderly shutdown. */
  async whenSettled(): Promise<void> {
    while (this.trackedJobs.size + this.untrackedJobs.size > 0) {
      await Promise.all([...this.trackedJobs, ...this.untrackedJobs]);
    }
  }

  /** Cancels every job at its next yield point and waits until all have stopped. New jobs are refused. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    for (const wake of this.wakeSleepers) wake();
    await this.whenSettled();
  }

  getStatus(name: string): AsyncMigrationRecord | undefined {
    return this.db
      .prepare(`SELECT name, status, started_at, ended_at, error FROM _async_migrations WHERE name = ?`)
      .get(name) as AsyncMigrationRecord | undefined;
  }

  /** Snapshot for the stats file's `backfillUpdates` object. */
  backfillUpdateCounts(): Record<string, number> {
    return Object.fromEntries(this.backfillUpdates);
  }

  private launch(
    name: string,
    job: BackgroundJob,
    tracked: boolean,
    hooks: JobCompletionHooks,
  ): Promise<BackgroundJobOutcome> {
    const context = this.createContext(name);
    const run = async (): Promise<BackgroundJobOutcome> => {
      try {
        // Never run any of the job synchronously inside the caller (that is the point of "async").
        await context.yieldToEventLoop();
        await job(context);
      } catch (error) {
        if (error instanceof BackgroundJobCancelledError) {
          this.log(`[async-migration] "${name}" interrupted by shutdown; it resumes on the next start`);
          return 'cancelled';
        }
        this.settleSafely(name, () => hooks.onFailed?.(error));
        return 'failed';
      }
      this.settleSafely(name, () => hooks.onDone?.());
      return 'done';
    };

    const jobs = tracked ? this.trackedJobs : this.untrackedJobs;
    const promise = run().finally(() => jobs.delete(promise));
    jobs.add(promise);
    return promise;
  }

  /** Status bookkeeping must never turn into an unhandled rejection. */
  private settleSafely(name: string, settle: () => void): void {
    try {
      settle();
    } catch (error) {
      this.log(`[async-migration] "${name}": could not record the outcome: ${errorText(error)}`);
    }
  }

  private logJobFailure(name: string, error: unknown): void {
    this.log(`[background] "${name}" FAILED: ${errorText(error)}`);
  }

  /**
   * Someone may hold a transaction open across an await on the shared connection (e.g. an async TypeORM
   * `dataSource.transaction()`). A chunk written now would silently become part of it, and vanish with its
   * rollback, so the job waits for it to end. Synchronous better-sqlite3 transactions never show up here.
   */
  private async waitForOtherTransaction(throwIfCancelled: () => void): Promise<void> {
    throwIfCancelled();
    while (this.db.open && this.db.inTransaction) {
      await new Promise<void>((resolve) => setTimeout(resolve, OTHER_TRANSACTION_POLL_MS));
      throwIfCancelled();
    }
  }

  private createContext(name: string): BackgroundJobContext {
    const throwIfCancelled = (): void => {
      if (this.shuttingDown) throw new BackgroundJobCancelledError(name);
    };
    return {
      name,
      db: this.db,
      log: this.log,
      yieldToEventLoop: async () => {
        throwIfCancelled();
        await new Promise<void>((resolve) => setImmediate(resolve));
        await this.waitForOtherTransaction(throwIfCancelled);
      },
      pause: async (ms) => {
        throwIfCancelled();
        await new Promise<void>((resolve) => {
          const wake = (): void => {
            clearTimeout(timer);
            this.wakeSleepers.delete(wake);
            resolve();
          };
          const timer = setTimeout(wake, ms);
          this.wakeSleepers.add(wake);
        });
        await this.waitForOtherTransaction(throwIfCancelled);
      },
      countBackfillUpdates: (counter, rows) => {
        this.backfillUpdates.set(counter, (this.backfillUpdates.get(counter) ?? 0) + rows);
      },
    };
  }
}
