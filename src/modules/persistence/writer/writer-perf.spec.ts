import { describe, expect, it } from 'vitest';
import { CONTENTION_WAIT_MS, nearestRank, WRITER_PERF_WINDOW, WriterPerf } from './writer-perf';

describe('WriterPerf (ingestor-spec §6.4)', () => {
  it('takes percentiles by nearest rank, index round_half_up(p × (n − 1))', () => {
    const sorted = Float64Array.from([10, 20, 30, 40]);
    expect(nearestRank(sorted, 0.5)).toBe(30); // 1.5 rounds up to 2
    expect(nearestRank(sorted, 0.95)).toBe(40);
    expect(nearestRank(sorted, 0)).toBe(10);
    expect(nearestRank(new Float64Array(0), 0.5)).toBe(0);
  });

  it('keeps the last 1024 samples for percentiles and the maxima and counts over all time', () => {
    const perf = new WriterPerf(1e9, () => {});
    perf.record('mqtt_handler', 500, 900); // the all-time maximum, then pushed out of the window
    for (let i = 0; i < WRITER_PERF_WINDOW; i += 1) perf.record('mqtt_handler', 1, 2);
    const figures = perf.snapshot().mqtt_handler;
    expect(figures).toMatchObject({ count: WRITER_PERF_WINDOW + 1, contention_total: 1, wait_ms_max: 500, hold_ms_max: 900 });
    expect(figures.hold_ms_p99).toBe(2);
    expect(figures.wait_ms_p50).toBe(1);
    expect(perf.longestHoldMs()).toBe(900);
  });

  it('counts waits above 100 ms as contention', () => {
    const perf = new WriterPerf(1e9, () => {});
    perf.record('prune_packets', CONTENTION_WAIT_MS, 1);
    perf.record('prune_packets', CONTENTION_WAIT_MS + 0.1, 1);
    expect(perf.snapshot().prune_packets.contention_total).toBe(1);
  });

  it('times work as a hold, logs [db-slow-writer] above the threshold and tells listeners', () => {
    const lines: string[] = [];
    const samples: Array<[string, number]> = [];
    const perf = new WriterPerf(5, (line) => lines.push(line));
    perf.onSample((component, wait) => samples.push([component, wait]));
    perf.onSample(() => {
      throw new Error('a broken listener');
    });
    const result = perf.time('vacuum', 'PRAGMA incremental_vacuum(1024)', () => {
      const until = performance.now() + 8;
      while (performance.now() < until);
      return 'done';
    }, 3);
    expect(result).toBe('done');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\[db-slow-writer\] component=vacuum duration=\d+\.\dms query=PRAGMA incremental_vacuum\(1024\)$/);
    expect(samples).toEqual([['vacuum', 3]]);
    expect(perf.snapshot().vacuum.hold_ms_max).toBeGreaterThanOrEqual(8);
  });

  it('records a hold even when the work throws', () => {
    const perf = new WriterPerf(1e9, () => {});
    expect(() =>
      perf.time('neighbor_builder', 'tx-body', () => {
        throw new Error('SQLITE_BUSY');
      }),
    ).toThrow('SQLITE_BUSY');
    expect(perf.snapshot().neighbor_builder.count).toBe(1);
  });
});
