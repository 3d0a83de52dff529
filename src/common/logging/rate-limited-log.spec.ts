import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_SOURCE_CHARS, OVERFLOW_SOURCE, RateLimitedLog, type LimitedLevel, type SuppressedSummary } from './rate-limited-log';

type Reason = 'decode_error' | 'invalid_signature' | 'other';

interface Rig {
  log: RateLimitedLog<Reason>;
  lines: Array<{ level: LimitedLevel; line: string }>;
  summaries: Array<SuppressedSummary<Reason>>;
  suppressedCalls: number[];
  clock: { ms: number };
}

function rig(options: { limit?: number; windowMs?: number; maxKeys?: number; useTimers?: boolean } = {}): Rig {
  const lines: Rig['lines'] = [];
  const summaries: Rig['summaries'] = [];
  const suppressedCalls: number[] = [];
  const clock = { ms: 1_000_000 };
  const log = new RateLimitedLog<Reason>({
    emit: (level, line) => lines.push({ level, line }),
    reasons: ['decode_error', 'invalid_signature', 'other'],
    fallbackReason: 'other',
    formatSummary: (s) => {
      summaries.push(s);
      return `MQTT [${s.source}] ${s.reason}: ${s.count} more in the last ${s.seconds} s`;
    },
    limit: options.limit ?? 5,
    windowMs: options.windowMs ?? 60_000,
    maxKeys: options.maxKeys,
    onSuppressed: (n) => suppressedCalls.push(n),
    // With fake timers Date.now is the fake clock; otherwise an explicit one.
    now: options.useTimers ? Date.now : () => clock.ms,
  });
  return { log, lines, summaries, suppressedCalls, clock };
}

const local = { source: 'local', reason: 'decode_error' } as const;

describe('RateLimitedLog', () => {
  let r: Rig | undefined;
  afterEach(() => {
    r?.log.close();
    r = undefined;
    vi.useRealTimers();
  });

  it('writes the first N lines of a window in full and counts the rest', () => {
    r = rig();
    const written = Array.from({ length: 12 }, (_, i) => r!.log.write('warn', local, `decode error #${i}`));
    expect(written).toEqual([true, true, true, true, true, false, false, false, false, false, false, false]);
    expect(r.lines.map((l) => l.line)).toEqual(['decode error #0', 'decode error #1', 'decode error #2', 'decode error #3', 'decode error #4']);
    expect(r.lines.every((l) => l.level === 'warn')).toBe(true);
    expect(r.log.suppressed).toBe(7);
    expect(r.suppressedCalls.reduce((a, b) => a + b, 0)).toBe(7);
  });

  it('builds a lazy line only when it is written', () => {
    r = rig({ limit: 1 });
    const build = vi.fn(() => 'built');
    r.log.write('warn', local, build);
    r.log.write('warn', local, build);
    r.log.write('warn', local, build);
    expect(build).toHaveBeenCalledTimes(1);
  });

  it('at the window end writes one summary line with the exact count, then starts a new window', () => {
    r = rig();
    for (let i = 0; i < 1000; i++) r.log.write('warn', local, `line ${i}`);
    r.clock.ms += 59_999;
    r.log.flushExpired();
    expect(r.lines).toHaveLength(5); // window still open
    r.clock.ms += 1;
    r.log.flushExpired();
    expect(r.lines).toHaveLength(6);
    expect(r.lines[5]).toEqual({ level: 'warn', line: 'MQTT [local] decode_error: 995 more in the last 60 s' });
    expect(r.summaries).toEqual([{ source: 'local', reason: 'decode_error', count: 995, seconds: 60, limit: 5 }]);
    // The next window writes in full again.
    r.log.write('warn', local, 'next window');
    expect(r.lines.at(-1)?.line).toBe('next window');
    expect(r.log.trackedKeys).toBe(1);
  });

  it('a line after the window ended writes the old window summary first (rollover on the next line)', () => {
    r = rig({ limit: 2 });
    for (let i = 0; i < 5; i++) r.log.write('warn', local, `a${i}`);
    r.clock.ms += 61_000;
    r.log.write('warn', local, 'b0');
    expect(r.lines.map((l) => l.line)).toEqual(['a0', 'a1', 'MQTT [local] decode_error: 3 more in the last 60 s', 'b0']);
  });

  it('no summary for a window that suppressed nothing; ended windows are forgotten', () => {
    r = rig();
    r.log.write('warn', local, 'one');
    r.clock.ms += 60_000;
    r.log.flushExpired();
    expect(r.lines.map((l) => l.line)).toEqual(['one']);
    expect(r.log.trackedKeys).toBe(0);
  });

  it('keys are independent: another source or another reason is not suppressed by the first', () => {
    r = rig({ limit: 3 });
    for (let i = 0; i < 100; i++) r.log.write('warn', local, `local ${i}`);
    for (let i = 0; i < 2; i++) r.log.write('warn', { source: 'regional', reason: 'decode_error' }, `regional ${i}`);
    for (let i = 0; i < 2; i++) r.log.write('warn', { source: 'local', reason: 'invalid_signature' }, `sig ${i}`);
    expect(r.lines.map((l) => l.line)).toEqual(['local 0', 'local 1', 'local 2', 'regional 0', 'regional 1', 'sig 0', 'sig 1']);
    r.clock.ms += 60_000;
    r.log.flushExpired();
    expect(r.lines.slice(7).map((l) => l.line)).toEqual(['MQTT [local] decode_error: 97 more in the last 60 s']);
  });

  it('writes the summary by timer when traffic stops (no further line needed), and the timer does not hold the process', () => {
    vi.useFakeTimers();
    r = rig({ useTimers: true });
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    for (let i = 0; i < 20; i++) r.log.write('warn', local, `line ${i}`);
    // One timer for the window, unref'd.
    const timer = setTimeoutSpy.mock.results[0]?.value as { hasRef?: () => boolean } | undefined;
    expect(setTimeoutSpy).toHaveBeenCalledTimes(1);
    if (timer?.hasRef) expect(timer.hasRef()).toBe(false);
    vi.advanceTimersByTime(59_999);
    expect(r.lines).toHaveLength(5);
    vi.advanceTimersByTime(1);
    expect(r.lines.at(-1)?.line).toBe('MQTT [local] decode_error: 15 more in the last 60 s');
    // Nothing tracked any more: no timer left running.
    expect(r.log.trackedKeys).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('the timer fires at each window end of keys started at different times', () => {
    vi.useFakeTimers();
    r = rig({ useTimers: true, limit: 1 });
    r.log.write('warn', local, 'l0');
    r.log.write('warn', local, 'l1');
    vi.advanceTimersByTime(30_000);
    const other = { source: 'regional', reason: 'decode_error' } as const;
    r.log.write('warn', other, 'r0');
    r.log.write('warn', other, 'r1');
    r.log.write('warn', other, 'r2');
    vi.advanceTimersByTime(30_000);
    expect(r.lines.map((l) => l.line)).toEqual(['l0', 'r0', 'MQTT [local] decode_error: 1 more in the last 60 s']);
    vi.advanceTimersByTime(30_000);
    expect(r.lines.at(-1)?.line).toBe('MQTT [regional] decode_error: 2 more in the last 60 s');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('shutdown (close) writes pending summaries with the time covered so far and stops the timer', () => {
    vi.useFakeTimers();
    r = rig({ useTimers: true, limit: 2 });
    for (let i = 0; i < 10; i++) r.log.write('error', local, `e${i}`);
    vi.advanceTimersByTime(12_300);
    r.log.close();
    expect(r.lines.map((l) => l.line)).toEqual(['e0', 'e1', 'MQTT [local] decode_error: 8 more in the last 13 s']);
    expect(r.lines.at(-1)?.level).toBe('error');
    expect(vi.getTimerCount()).toBe(0);
    // Nothing pending: a second close writes nothing.
    r.log.close();
    expect(r.lines).toHaveLength(3);
  });

  it('suppress() counts lines without text into the window and its summary', () => {
    r = rig({ limit: 1 });
    r.log.write('warn', local, 'first');
    r.log.suppress('warn', local, 41);
    r.log.flushAll();
    expect(r.lines.map((l) => l.line)).toEqual(['first', 'MQTT [local] decode_error: 41 more in the last 1 s']);
    expect(r.log.suppressed).toBe(41);
    expect(r.suppressedCalls).toEqual([41]);
  });

  it('bounded memory: beyond maxKeys, further sources share one overflow key per reason', () => {
    r = rig({ limit: 1, maxKeys: 4 });
    for (let s = 0; s < 1000; s++) {
      r.log.write('warn', { source: `hostile-${s}`, reason: 'decode_error' }, `x${s}`);
      r.log.write('warn', { source: `hostile-${s}`, reason: 'decode_error' }, `y${s}`);
    }
    // 4 sources + one overflow window for the reason.
    expect(r.log.trackedKeys).toBe(5);
    // 4 sources and the overflow key wrote one line each.
    expect(r.lines).toHaveLength(5);
    r.log.flushAll();
    expect(r.summaries.find((s) => s.source === OVERFLOW_SOURCE)).toMatchObject({ count: 2 * 996 - 1 });
    expect(r.summaries.reduce((n, s) => n + s.count, 0)).toBe(2000 - 5);
  });

  it('reasons are a fixed set: an unknown reason is counted under the fallback, not as a new key', () => {
    r = rig({ limit: 1 });
    for (let i = 0; i < 50; i++) r.log.write('warn', { source: 'local', reason: `content-${i}` as Reason }, `z${i}`);
    expect(r.log.trackedKeys).toBe(1);
    r.log.flushAll();
    expect(r.summaries).toEqual([{ source: 'local', reason: 'other', count: 49, seconds: 1, limit: 1 }]);
  });

  it('the source in a summary is sanitized and cut', () => {
    r = rig({ limit: 0 });
    const evil = 'evil\r\nINFO forged' + 'x'.repeat(500);
    r.log.write('warn', { source: evil, reason: 'decode_error' }, 'never written');
    r.log.flushAll();
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0].line).not.toMatch(/[\r\n]/);
    expect(r.summaries[0].source).toBe(('evil??INFO forged' + 'x'.repeat(500)).slice(0, MAX_SOURCE_CHARS));
  });
});

describe('RateLimitedLog without traffic', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('starts no timer until a line comes', () => {
    const log = new RateLimitedLog<'a'>({ emit: () => undefined, reasons: ['a'], fallbackReason: 'a', formatSummary: () => '' });
    expect(vi.getTimerCount()).toBe(0);
    log.write('warn', { source: 's', reason: 'a' }, 'x');
    expect(vi.getTimerCount()).toBe(1);
    log.close();
    expect(vi.getTimerCount()).toBe(0);
  });
});
