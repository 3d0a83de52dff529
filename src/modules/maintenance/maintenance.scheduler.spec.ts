import { SchedulerRegistry } from '@nestjs/schedule';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { JobStoppedError } from './chunked-job.runner';
import { MaintenanceScheduler } from './maintenance.scheduler';

/** Timer behaviour with fake clocks: nothing here waits for real time. */

interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

/** Lets the promise callbacks queued by a timer run (microtasks only; timers stay fake). */
const settle = async () => {
  for (let i = 0; i < 5; i += 1) await Promise.resolve();
};

describe('MaintenanceScheduler', () => {
  let registry: SchedulerRegistry;
  let errors: string[];
  let skips: string[];
  let scheduler: MaintenanceScheduler;

  beforeEach(() => {
    vi.useFakeTimers();
    registry = new SchedulerRegistry();
    errors = [];
    skips = [];
    scheduler = new MaintenanceScheduler(
      registry,
      (name, error) => errors.push(`${name}: ${(error as Error).message}`),
      (name) => skips.push(name),
    );
  });

  afterEach(async () => {
    await scheduler.stop();
    vi.useRealTimers();
  });

  it('registers the period with the SchedulerRegistry and runs on every period', async () => {
    const run = vi.fn();
    scheduler.schedule({ name: 'hourly', periodMs: 3_600_000, run });
    expect(registry.getIntervals()).toEqual(['maintenance:hourly']);
    expect(registry.getTimeouts()).toEqual([]);

    await vi.advanceTimersByTimeAsync(3_599_999);
    expect(run).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(run).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(2 * 3_600_000);
    expect(run).toHaveBeenCalledTimes(3);
  });

  it('staggers only the first run; the period stays anchored on scheduling time', async () => {
    const run = vi.fn();
    scheduler.schedule({ name: 'daily', periodMs: 86_400_000, firstRunAfterMs: 90_000, run });
    expect(registry.getTimeouts()).toEqual(['maintenance:daily:first-run']);

    await vi.advanceTimersByTimeAsync(90_000);
    expect(run).toHaveBeenCalledTimes(1);
    expect(registry.getTimeouts()).toEqual([]); // the fired first-run timer leaves the registry
    await vi.advanceTimersByTimeAsync(86_400_000 - 90_000);
    expect(run).toHaveBeenCalledTimes(2);
  });

  it('runs right away when the first-run delay is 0', () => {
    const run = vi.fn();
    scheduler.schedule({ name: 'queue', periodMs: 15_000, firstRunAfterMs: 0, run });
    expect(run).toHaveBeenCalledTimes(1);
  });

  it('never overlaps a run of the same job: a tick during a run is skipped', async () => {
    const gates: Deferred[] = [];
    const run = vi.fn(() => {
      const gate = deferred();
      gates.push(gate);
      return gate.promise;
    });
    scheduler.schedule({ name: 'slow', periodMs: 1_000, run });

    await vi.advanceTimersByTimeAsync(1_000);
    expect(run).toHaveBeenCalledTimes(1);
    expect(scheduler.running).toEqual(['slow']);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(run).toHaveBeenCalledTimes(1);
    expect(skips).toEqual(['slow', 'slow', 'slow']);

    gates[0].resolve();
    await settle();
    expect(scheduler.running).toEqual([]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(run).toHaveBeenCalledTimes(2);
    gates[1].resolve();
  });

  it('lets different jobs run side by side', async () => {
    const gate = deferred();
    scheduler.schedule({ name: 'a', periodMs: 1_000, run: () => gate.promise });
    scheduler.schedule({ name: 'b', periodMs: 1_000, run: () => gate.promise });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(scheduler.running.sort()).toEqual(['a', 'b']);
    gate.resolve();
  });

  it('reports a failing run on one line and keeps the schedule going', async () => {
    let calls = 0;
    scheduler.schedule({
      name: 'flaky',
      periodMs: 1_000,
      run: () => {
        calls += 1;
        if (calls === 1) throw new Error('disk I/O error');
        return Promise.reject(new Error('still broken'));
      },
    });
    await vi.advanceTimersByTimeAsync(1_000);
    await vi.advanceTimersByTimeAsync(1_000);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(errors).toEqual(['flaky: disk I/O error', 'flaky: still broken', 'flaky: still broken']);
    expect(scheduler.running).toEqual([]);
  });

  it('stop() clears its timers from the registry and waits for the run in flight', async () => {
    const gate = deferred();
    let sawStop = false;
    const run = vi.fn(async (context: { shouldStop: () => boolean }) => {
      await gate.promise;
      sawStop = context.shouldStop();
      throw new JobStoppedError(); // a chunked job ending early is not an error
    });
    scheduler.schedule({ name: 'long', periodMs: 1_000, firstRunAfterMs: 500, run });
    scheduler.schedule({ name: 'other', periodMs: 5_000, firstRunAfterMs: 4_000, run: vi.fn() });
    await vi.advanceTimersByTimeAsync(500);
    expect(run).toHaveBeenCalledTimes(1);

    let stopped = false;
    const stopping = scheduler.stop().then(() => (stopped = true));
    await settle();
    expect(registry.getIntervals()).toEqual([]);
    expect(registry.getTimeouts()).toEqual([]);
    expect(stopped).toBe(false); // still waiting for the run in flight

    gate.resolve();
    await stopping;
    expect(sawStop).toBe(true);
    expect(errors).toEqual([]);

    await vi.advanceTimersByTimeAsync(60_000);
    expect(run).toHaveBeenCalledTimes(1);
    scheduler.schedule({ name: 'late', periodMs: 1_000, run: vi.fn() });
    expect(registry.getIntervals()).toEqual([]);
  });

  it('tolerates timers that someone else already removed from the registry', async () => {
    scheduler.schedule({ name: 'x', periodMs: 1_000, firstRunAfterMs: 10, run: vi.fn() });
    registry.deleteInterval('maintenance:x');
    registry.deleteTimeout('maintenance:x:first-run');
    await expect(scheduler.stop()).resolves.toBeUndefined();
  });

  it('uses unref’d timers so a schedule never keeps the process alive', () => {
    scheduler.schedule({ name: 'u', periodMs: 1_000, firstRunAfterMs: 10, run: vi.fn() });
    const interval = registry.getInterval('maintenance:u') as NodeJS.Timeout;
    const timeout = registry.getTimeout('maintenance:u:first-run') as NodeJS.Timeout;
    expect(interval.hasRef()).toBe(false);
    expect(timeout.hasRef()).toBe(false);
  });
});
