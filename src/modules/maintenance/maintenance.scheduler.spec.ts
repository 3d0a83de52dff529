import { SchedulerRegistry } from '@nestjs/schedule';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { JobSchedule } from '../../config/config.types';
import { JobStoppedError } from './chunked-job.runner';
import { LoggedJobError, MaintenanceScheduler, type EffectiveSchedule, type LastRun } from './maintenance.scheduler';

/** Timer behaviour with fake clocks (Date included): nothing here waits for real time. */

const HOUR = 3_600_000;
const START = Date.parse('2026-12-06T10:00:00.000Z');

const every = (everyMs: number, initialDelayMs: number | null = null): JobSchedule => ({
  enabled: true,
  timing: { kind: 'every', everyMs },
  initialDelayMs,
});
const cron = (expression: string, timeZone?: string): JobSchedule => ({
  enabled: true,
  timing: { kind: 'cron', cron: expression, ...(timeZone && { timeZone }) },
  initialDelayMs: null,
});

function deferred(): { promise: Promise<void>; resolve(): void; reject(error: Error): void } {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((done, fail) => {
    resolve = done;
    reject = fail;
  });
  return { promise, resolve, reject };
}

/** Lets the promise callbacks queued by a timer run (microtasks only; timers stay fake). */
const settle = async () => {
  for (let i = 0; i < 10; i += 1) await Promise.resolve();
};

describe('MaintenanceScheduler', () => {
  let registry: SchedulerRegistry;
  let errors: string[];
  let scheduler: MaintenanceScheduler;
  let finished: Array<{ name: string; run: LastRun; trigger: string }>;

  beforeEach(() => {
    vi.useFakeTimers({ now: START });
    registry = new SchedulerRegistry();
    errors = [];
    finished = [];
    scheduler = new MaintenanceScheduler(registry, {
      reportError: (name, error) => errors.push(`${name}: ${(error as Error).message}`),
    });
    scheduler.listen({ onRunFinished: (name, run, trigger) => finished.push({ name, run, trigger }) });
  });

  afterEach(async () => {
    await scheduler.stop();
    vi.useRealTimers();
  });

  it('registers an `every` job as an interval and runs it every period', async () => {
    const run = vi.fn();
    scheduler.define({ name: 'hourly', run }, every(HOUR));
    expect(registry.getIntervals()).toEqual([]); // nothing before start()
    scheduler.start();
    expect(registry.getIntervals()).toEqual(['maintenance:hourly']);
    expect(scheduler.statusOf('hourly')?.nextRunAt).toBe('2026-12-06T11:00:00.000Z');

    await vi.advanceTimersByTimeAsync(HOUR - 1);
    expect(run).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(run).toHaveBeenCalledTimes(1);
    expect(scheduler.statusOf('hourly')?.nextRunAt).toBe('2026-12-06T12:00:00.000Z');
    await vi.advanceTimersByTimeAsync(2 * HOUR);
    expect(run).toHaveBeenCalledTimes(3);
    expect(scheduler.statusOf('hourly')).toMatchObject({ runs: 3, failures: 0, skipped: 0, running: false });
  });

  it('adds one extra first run after the initial delay without moving the ticks', async () => {
    const run = vi.fn();
    scheduler.define({ name: 'staggered', run }, every(HOUR, 30_000));
    scheduler.start();
    expect(registry.getTimeouts()).toEqual(['maintenance:staggered:initial']);
    expect(scheduler.statusOf('staggered')?.nextRunAt).toBe('2026-12-06T10:00:30.000Z');
    await vi.advanceTimersByTimeAsync(30_000);
    expect(run).toHaveBeenCalledTimes(1);
    expect(registry.getTimeouts()).toEqual([]);
    expect(finished[0]).toMatchObject({ name: 'staggered', trigger: 'initial' });
    await vi.advanceTimersByTimeAsync(HOUR - 30_000);
    expect(run).toHaveBeenCalledTimes(2); // the tick stays at start + 1 h
  });

  it('runs an initial delay of 0 right away', async () => {
    const run = vi.fn();
    scheduler.define({ name: 'now', run }, every(15_000, 0));
    scheduler.start();
    await settle();
    expect(run).toHaveBeenCalledTimes(1);
  });

  it('registers a cron job with its time zone and reports the next run in UTC', async () => {
    const run = vi.fn();
    // 03:30 in Berlin on 7 December (CET, UTC+1) is 02:30 UTC.
    scheduler.define({ name: 'nightly', run }, cron('30 3 * * *', 'Europe/Berlin'));
    scheduler.start();
    expect(registry.getCronJobs().has('maintenance:nightly')).toBe(true);
    expect(scheduler.statusOf('nightly')).toMatchObject({
      schedule: { cron: '30 3 * * *', timeZone: 'Europe/Berlin' },
      nextRunAt: '2026-12-07T02:30:00.000Z',
    });
    await vi.advanceTimersByTimeAsync(Date.parse('2026-12-07T02:30:00.000Z') - START - 1_000);
    expect(run).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(2_000);
    expect(run).toHaveBeenCalledTimes(1);
    expect(scheduler.statusOf('nightly')?.nextRunAt).toBe('2026-12-08T02:30:00.000Z');
  });

  it('never overlaps a job with itself: a tick that finds it running is skipped and counted', async () => {
    const gate = deferred();
    const run = vi.fn(() => gate.promise);
    const skipped: string[] = [];
    scheduler.listen({ onSkipped: (name) => skipped.push(name) });
    scheduler.define({ name: 'slow', run }, every(1_000));
    scheduler.start();
    await vi.advanceTimersByTimeAsync(3_000);
    expect(run).toHaveBeenCalledTimes(1);
    expect(scheduler.statusOf('slow')).toMatchObject({ running: true, skipped: 2 });
    expect(skipped).toEqual(['slow', 'slow']);
    gate.resolve();
    await settle();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(run).toHaveBeenCalledTimes(2);
  });

  it('keeps the outcome of each run: rows, duration, errors as one line; a failure does not stop the next tick', async () => {
    let calls = 0;
    scheduler.define(
      {
        name: 'flaky',
        run: () => {
          calls += 1;
          if (calls === 1) throw new Error('disk I/O error\nat line 2');
          return 42;
        },
      },
      every(1_000),
    );
    scheduler.start();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(errors).toEqual(['flaky: disk I/O error\nat line 2']);
    expect(scheduler.statusOf('flaky')?.lastRun).toMatchObject({
      startedAt: '2026-12-06T10:00:01.000Z',
      result: 'error',
      error: 'disk I/O error?at line 2', // sanitized to one line
      rows: null,
    });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(scheduler.statusOf('flaky')).toMatchObject({ runs: 2, failures: 1, lastRun: { result: 'ok', rows: 42 } });
    expect(scheduler.statusOf('flaky')?.lastRun).not.toHaveProperty('error');
    expect(typeof scheduler.statusOf('flaky')?.lastRun?.durationMs).toBe('number');
  });

  it('counts a failure the job logged itself without logging it again', async () => {
    scheduler.define({ name: 'self-logging', run: () => Promise.reject(new LoggedJobError(new Error('no such table'))) }, every(1_000, 0));
    scheduler.start();
    await settle();
    expect(errors).toEqual([]);
    expect(scheduler.statusOf('self-logging')).toMatchObject({ failures: 1, lastRun: { result: 'error', error: 'no such table' } });
  });

  it('starts a run on request: started, running (409), unknown (404), stopped', async () => {
    const gate = deferred();
    scheduler.define({ name: 'prune', run: () => gate.promise }, every(24 * HOUR));
    scheduler.start();
    expect(scheduler.requestRun('prune')).toBe('started');
    expect(scheduler.statusOf('prune')?.running).toBe(true);
    expect(scheduler.requestRun('prune')).toBe('running');
    expect(scheduler.requestRun('nope')).toBe('unknown');
    gate.resolve();
    await scheduler.whenIdle('prune');
    expect(finished.map((f) => f.trigger)).toEqual(['manual']);
    await scheduler.stop();
    expect(scheduler.requestRun('prune')).toBe('stopped');
  });

  it('has no timers for a disabled job, but it can still be run by request', async () => {
    const run = vi.fn(() => 7);
    scheduler.define({ name: 'off', run }, { ...every(1_000, 0), enabled: false });
    scheduler.define({ name: 'no-days', run }, { ...every(1_000), disabledReason: 'retention.packetDays is 0 (off)' });
    scheduler.start();
    expect(registry.getIntervals()).toEqual([]);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(run).not.toHaveBeenCalled();
    expect(scheduler.statusOf('off')).toMatchObject({ enabled: false, nextRunAt: null });
    expect(scheduler.statusOf('no-days')).toMatchObject({ enabled: false, disabledReason: 'retention.packetDays is 0 (off)' });
    expect(scheduler.requestRun('off')).toBe('started');
    await scheduler.whenIdle('off');
    expect(run).toHaveBeenCalledTimes(1);
  });

  it('reschedules only a job whose schedule changed, leaving a run in flight alone', async () => {
    const gate = deferred();
    const slow = vi.fn(() => gate.promise);
    const other = vi.fn();
    scheduler.define({ name: 'slow', run: slow }, every(HOUR, 0));
    scheduler.define({ name: 'other', run: other }, every(HOUR));
    scheduler.start();
    await settle();
    expect(slow).toHaveBeenCalledTimes(1);

    expect(scheduler.reschedule('other', every(HOUR))).toBe(false);
    expect(scheduler.reschedule('slow', every(2 * HOUR))).toBe(true);
    expect(scheduler.statusOf('slow')).toMatchObject({ running: true, schedule: { every: '2h' }, nextRunAt: '2026-12-06T12:00:00.000Z' });
    expect(registry.getIntervals().sort()).toEqual(['maintenance:other', 'maintenance:slow']);
    gate.resolve();
    await settle();
    expect(scheduler.statusOf('slow')?.lastRun?.result).toBe('ok');

    expect(scheduler.reschedule('other', cron('*/5 * * * *'))).toBe(true);
    expect(registry.getIntervals()).toEqual(['maintenance:slow']);
    expect(registry.getCronJobs().has('maintenance:other')).toBe(true);
    expect(scheduler.reschedule('other', { ...cron('*/5 * * * *'), enabled: false })).toBe(true);
    expect(registry.getCronJobs().has('maintenance:other')).toBe(false);
    expect(scheduler.statusOf('other')?.nextRunAt).toBeNull();
  });

  it('stop() clears every timer and waits for the run in flight, which ends as stopped', async () => {
    let stopRequested: () => boolean = () => false;
    const gate = deferred();
    scheduler.define(
      {
        name: 'long',
        run: async (context) => {
          stopRequested = context.shouldStop;
          await gate.promise;
          if (context.shouldStop()) throw new JobStoppedError();
        },
      },
      every(HOUR, 0),
    );
    scheduler.define({ name: 'cron', run: vi.fn() }, cron('0 * * * *'));
    scheduler.start();
    await settle();
    let stopped = false;
    const stopping = scheduler.stop().then(() => (stopped = true));
    expect(registry.getIntervals()).toEqual([]);
    expect(registry.getCronJobs().size).toBe(0);
    expect(stopRequested()).toBe(true);
    await settle();
    expect(stopped).toBe(false);
    gate.resolve();
    await stopping;
    expect(scheduler.statusOf('long')?.lastRun?.result).toBe('stopped');
    expect(errors).toEqual([]);
  });
});
