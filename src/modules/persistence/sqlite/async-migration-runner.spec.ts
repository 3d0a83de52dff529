import Database from 'better-sqlite3';
import type BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AsyncMigrationRunner, type BackgroundJobContext } from './async-migration-runner';

describe('AsyncMigrationRunner: the _async_migrations status protocol', () => {
  let db: BetterSqlite3.Database;
  let runner: AsyncMigrationRunner;
  let logLines: string[];

  beforeEach(() => {
    db = new Database(':memory:');
    logLines = [];
    runner = new AsyncMigrationRunner(db, (line) => logLines.push(line));
  });

  afterEach(async () => {
    await runner.shutdown();
    db.close();
  });

  function seedStatus(name: string, status: string, error: string | null = null): void {
    db.prepare(
      `INSERT INTO _async_migrations (name, status, started_at, ended_at, error) VALUES (?, ?, '2000-01-01 00:00:00', '2000-01-01 00:00:01', ?)`,
    ).run(name, status, error);
  }

  it('creates _async_migrations if needed', () => {
    expect(db.prepare(`SELECT type FROM sqlite_master WHERE name = '_async_migrations'`).pluck().get()).toBe('table');
  });

  it('pending_async is written at once, the job runs later, then done with ended_at', async () => {
    const job = vi.fn();
    const outcome = runner.runAsyncMigration('m1', job);

    // Startup is not blocked: the row exists, the job has not run yet.
    expect(runner.getStatus('m1')).toMatchObject({ status: 'pending_async', ended_at: null, error: null });
    expect(job).not.toHaveBeenCalled();

    await expect(outcome).resolves.toBe('done');
    expect(job).toHaveBeenCalledTimes(1);
    const record = runner.getStatus('m1');
    expect(record).toMatchObject({ status: 'done', error: null });
    expect(record?.ended_at).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(logLines).toEqual(['[async-migration] "m1" starting (boot continues)', '[async-migration] "m1" done']);
  });

  it('a throwing job ends failed, with the error text', async () => {
    await expect(
      runner.runAsyncMigration('m2', () => {
        throw new Error('disk on fire');
      }),
    ).resolves.toBe('failed');
    expect(runner.getStatus('m2')).toMatchObject({ status: 'failed', error: 'disk on fire' });
    expect(runner.getStatus('m2')?.ended_at).not.toBeNull();
    expect(logLines).toContain('[async-migration] "m2" FAILED: disk on fire');
  });

  it('a rejecting async job ends failed too', async () => {
    await expect(runner.runAsyncMigration('m2b', async () => Promise.reject(new Error('nope')))).resolves.toBe('failed');
    expect(runner.getStatus('m2b')).toMatchObject({ status: 'failed', error: 'nope' });
  });

  it('a done migration is not run again', async () => {
    seedStatus('m3', 'done');
    const job = vi.fn();
    await expect(runner.runAsyncMigration('m3', job)).resolves.toBe('skipped');
    expect(job).not.toHaveBeenCalled();
    expect(runner.getStatus('m3')).toMatchObject({ status: 'done', started_at: '2000-01-01 00:00:00' });
  });

  it.each(['failed', 'pending_async'])('a %s migration is reset and retried', async (status) => {
    seedStatus('m4', status, status === 'failed' ? 'old error' : null);
    const job = vi.fn();
    const outcome = runner.runAsyncMigration('m4', job);
    const reset = runner.getStatus('m4');
    expect(reset).toMatchObject({ status: 'pending_async', ended_at: null, error: null });
    expect(reset?.started_at).not.toBe('2000-01-01 00:00:00');
    await expect(outcome).resolves.toBe('done');
    expect(job).toHaveBeenCalledTimes(1);
    expect(runner.getStatus('m4')).toMatchObject({ status: 'done', error: null });
  });

  it('whenIdle waits for tracked jobs only; whenSettled also for untracked ones', async () => {
    const events: string[] = [];
    void runner.runTracked('tracked', async (context) => {
      await context.pause(20);
      events.push('tracked');
    });
    void runner.runUntracked('untracked', async (context) => {
      await context.pause(150);
      events.push('untracked');
    });
    await runner.whenIdle();
    expect(events).toEqual(['tracked']);
    await runner.whenSettled();
    expect(events).toEqual(['tracked', 'untracked']);
  });

  it('whenIdle also covers tracked jobs started while it waits', async () => {
    const events: string[] = [];
    void runner.runTracked('first', async (context) => {
      await context.yieldToEventLoop();
      void runner.runTracked('second', async (inner) => {
        await inner.pause(20);
        events.push('second');
      });
      events.push('first');
    });
    await runner.whenIdle();
    expect(events).toEqual(['first', 'second']);
  });

  it('a chunked job lets other work run between its chunks', async () => {
    const order: string[] = [];
    const job = async (context: BackgroundJobContext) => {
      for (let chunk = 0; chunk < 3; chunk += 1) {
        order.push(`chunk ${chunk}`);
        await context.yieldToEventLoop();
      }
    };
    const done = runner.runAsyncMigration('chunked', job);
    setImmediate(() => order.push('other work'));
    await done;
    expect(order.indexOf('other work')).toBeGreaterThan(0);
    expect(order.indexOf('other work')).toBeLessThan(order.length - 1);
  });

  it('shutdown cancels at the next yield, leaves the row pending_async and refuses new jobs', async () => {
    let chunks = 0;
    const outcome = runner.runAsyncMigration('long', async (context) => {
      for (;;) {
        chunks += 1;
        await context.pause(10_000);
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const startedAt = Date.now();
    await runner.shutdown();
    expect(Date.now() - startedAt).toBeLessThan(1000);
    await expect(outcome).resolves.toBe('cancelled');
    expect(chunks).toBe(1);
    expect(runner.getStatus('long')).toMatchObject({ status: 'pending_async' });

    const lateJob = vi.fn();
    await expect(runner.runAsyncMigration('late', lateJob)).resolves.toBe('cancelled');
    await expect(runner.runTracked('late2', lateJob)).resolves.toBe('cancelled');
    expect(lateJob).not.toHaveBeenCalled();
    expect(runner.getStatus('late')).toBeUndefined();
  });

  it('does not write into a transaction someone else holds open across an await', async () => {
    db.exec(`CREATE TABLE t (v INTEGER)`);
    db.exec('BEGIN');
    const done = runner.runTracked('writer', (context) => {
      context.db.exec(`INSERT INTO t (v) VALUES (1)`);
    });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(db.prepare(`SELECT COUNT(*) FROM t`).pluck().get()).toBe(0);
    db.exec('ROLLBACK');
    await expect(done).resolves.toBe('done');
    expect(db.prepare(`SELECT COUNT(*) FROM t`).pluck().get()).toBe(1);
  });

  it('collects backfill update counters', async () => {
    await runner.runTracked('counting', (context) => {
      context.countBackfillUpdates('path_json', 3);
      context.countBackfillUpdates('path_json', 2);
      context.countBackfillUpdates('default_scope', 1);
    });
    expect(runner.backfillUpdateCounts()).toEqual({ path_json: 5, default_scope: 1 });
  });
});
