import { describe, expect, it } from 'vitest';
import { IngestBuffer } from './ingest-buffer';

const T0 = 1_700_000_000_000;

function recordingLogger() {
  const lines: { level: 'warn' | 'log'; line: string }[] = [];
  return {
    lines,
    logger: {
      warn: (line: string) => void lines.push({ level: 'warn', line }),
      log: (line: string) => void lines.push({ level: 'log', line }),
    },
    text: () => lines.map((l) => l.line),
  };
}

function bufferOf<T>(capacity: number) {
  const rec = recordingLogger();
  const clock = { now: T0 };
  const buffer = new IngestBuffer<T>(capacity, rec.logger, () => clock.now);
  return { buffer, clock, ...rec };
}

/** Resolves after every pending promise callback has run; no wall-clock dependence. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The state of a promise right now: its value, or 'pending'. */
async function peek<V>(promise: Promise<V>): Promise<V | 'pending'> {
  return Promise.race([promise, settle().then(() => 'pending' as const)]);
}

/**
 * The consumer the writer is expected to run: wait, take a batch, process it, repeat.
 * `process` may be async; batches are awaited one at a time.
 */
async function runConsumer<T>(buffer: IngestBuffer<T>, batchSize: number, process: (batch: T[]) => Promise<void> | void) {
  while (await buffer.waitForItems()) {
    await process(buffer.takeBatch(batchSize));
  }
}

describe('IngestBuffer (ingest_buffer_test.go)', () => {
  it('BuffersUntilReady: nothing reaches the consumer before ready(); all 3 after', async () => {
    const { buffer, text } = bufferOf<number>(10);
    const seen: number[] = [];
    const consumer = runConsumer(buffer, 100, (batch) => void seen.push(...batch));
    for (const n of [1, 2, 3]) expect(buffer.submit(n)).toBe(true);
    await settle();
    expect(seen).toEqual([]);
    expect(buffer.takeBatch(10)).toEqual([]);
    expect(buffer.pending).toBe(3);

    buffer.ready();
    await settle();
    expect(seen).toEqual([1, 2, 3]);
    expect(text()).toContain('[ingest-buffer] write path ready; draining backlog (3 pending, 0 dropped)');
    buffer.stop();
    await consumer;
  });

  it('FIFOOrder: items come out in submission order, across batches', () => {
    const { buffer } = bufferOf<number>(10);
    for (let i = 0; i < 5; i++) buffer.submit(i);
    buffer.ready();
    expect(buffer.takeBatch(2)).toEqual([0, 1]);
    expect(buffer.takeBatch(2)).toEqual([2, 3]);
    expect(buffer.takeBatch(2)).toEqual([4]);
    expect(buffer.takeBatch(2)).toEqual([]);
  });

  it('DropsWhenFull: capacity 2, 5 submits, never ready → 3 dropped', () => {
    const { buffer } = bufferOf<number>(2);
    const accepted = [1, 2, 3, 4, 5].map((n) => buffer.submit(n));
    expect(accepted).toEqual([true, true, false, false, false]);
    expect(buffer.droppedTotal).toBe(3);
    expect(buffer.pending).toBe(2);
  });

  it('ProcessesAfterReady: an item submitted after ready() reaches a waiting consumer', async () => {
    const { buffer } = bufferOf<string>(10);
    buffer.ready();
    const seen: string[] = [];
    const consumer = runConsumer(buffer, 10, (batch) => void seen.push(...batch));
    await settle();
    expect(seen).toEqual([]);
    buffer.submit('late');
    await settle();
    expect(seen).toEqual(['late']);
    buffer.stop();
    await consumer;
  });

  it('SerialExecution: a consumer loop never has two batches in flight, even while submits continue', async () => {
    const { buffer } = bufferOf<number>(50);
    let inFlight = 0;
    let maxInFlight = 0;
    const seen: number[] = [];
    const consumer = runConsumer(buffer, 3, async (batch) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      // Yield to the event loop mid-batch, as a real write would, so overlap could happen.
      await settle();
      seen.push(...batch);
      inFlight--;
    });
    for (let i = 0; i < 10; i++) buffer.submit(i);
    buffer.ready();
    for (let i = 10; i < 20; i++) {
      await settle();
      buffer.submit(i);
    }
    while (buffer.pending > 0 || inFlight > 0) await settle();
    buffer.stop();
    await consumer;
    expect(maxInFlight).toBe(1);
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('StopUnblocksConsumer: stop() without ready() ends a waiting consumer', async () => {
    const { buffer } = bufferOf<number>(10);
    buffer.submit(1);
    const waiting = buffer.waitForItems();
    expect(await peek(waiting)).toBe('pending');
    buffer.stop();
    expect(await peek(waiting)).toBe(false);
    expect(await buffer.waitForItems()).toBe(false);
    expect(buffer.takeBatch(10)).toEqual([]); // never authorised to drain
  });

  it('stop() after ready() lets the consumer drain the backlog, then ends it', async () => {
    const { buffer } = bufferOf<number>(10);
    buffer.ready();
    const seen: number[][] = [];
    const consumer = runConsumer(buffer, 2, (batch) => void seen.push(batch));
    await settle();
    for (const n of [1, 2, 3]) buffer.submit(n);
    buffer.stop();
    expect(buffer.submit(4)).toBe(false);
    expect(buffer.droppedTotal).toBe(0); // refused at shutdown, not a drop
    expect(await peek(consumer)).toBeUndefined();
    expect(seen).toEqual([[1, 2], [3]]);
  });

  it('WarnsOnSubOneClamp: capacity ≤ 0 logs a WARN and becomes 1', () => {
    for (const requested of [0, -1, Number.NaN]) {
      const { buffer, lines } = bufferOf<number>(requested);
      expect(buffer.capacity).toBe(1);
      expect(lines).toHaveLength(1);
      expect(lines[0].level).toBe('warn');
      expect(lines[0].line).toContain('WARN');
      expect(lines[0].line).toContain('ingest-buffer');
      expect(lines[0].line).toContain(`requested capacity ${requested} < 1, clamping to 1`);
    }
    const { lines } = bufferOf<number>(1);
    expect(lines).toEqual([]);
  });

  it('rejects an absurd capacity instead of allocating it', () => {
    expect(() => bufferOf<number>(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });
});

describe('drop logging (ingest_buffer_test.go)', () => {
  it('DropLogThrottle: 100 drops within one second → a single "buffer full" line mentioning cap 2', () => {
    const { buffer, clock, text } = bufferOf<number>(2);
    buffer.submit(0);
    buffer.submit(0);
    for (let i = 0; i < 100; i++) {
      clock.now = T0 + i * 9; // 0 … 891 ms
      buffer.submit(i);
    }
    const full = text().filter((l) => l.includes('buffer full'));
    expect(full).toEqual([
      '[ingest-buffer] WARNING: buffer full (cap 2), dropped 1 message(s) total — write path stalled, raise ingestBufferSize or investigate slow writer',
    ]);
    expect(buffer.droppedTotal).toBe(100);
  });

  it('DropLogThrottle: a stall longer than a second adds one "still stalled" line per second', () => {
    const { buffer, clock, lines } = bufferOf<number>(2);
    buffer.submit(0);
    buffer.submit(0);
    for (let i = 0; i < 100; i++) {
      clock.now = T0 + i * 25; // 0 … 2475 ms
      buffer.submit(i);
    }
    const full = lines.filter((l) => l.line.includes('buffer full'));
    expect(full.map((l) => l.line)).toEqual([
      expect.stringContaining('dropped 1 message(s) total'),
      '[ingest-buffer] WARNING: buffer full (cap 2), 41 drop(s) in current stall, 41 total — write path still stalled',
      '[ingest-buffer] WARNING: buffer full (cap 2), 81 drop(s) in current stall, 81 total — write path still stalled',
    ]);
    expect(full.every((l) => l.level === 'warn' && l.line.includes('cap 2'))).toBe(true);
  });

  it('DropLogFirstAlwaysImmediate: a single drop logs at once', () => {
    const { buffer, text } = bufferOf<number>(1);
    buffer.submit(1);
    expect(text()).toEqual([]);
    buffer.submit(2);
    expect(text()).toHaveLength(1);
    expect(text()[0]).toContain('buffer full (cap 1), dropped 1 message(s) total');
  });

  it('DropLogRecoveryAfterDrain: the next successful submit logs the recovery with the stall figures', () => {
    const { buffer, clock, lines } = bufferOf<number>(2);
    buffer.submit(1);
    buffer.submit(2);
    buffer.submit(3); // drop 1, stall starts at T0
    clock.now = T0 + 700;
    buffer.submit(4); // drop 2
    buffer.ready();
    clock.now = T0 + 1_534;
    buffer.takeBatch(1);
    expect(buffer.submit(5)).toBe(true);
    const recovered = lines.filter((l) => l.line.includes('drained'));
    expect(recovered).toEqual([
      {
        level: 'log',
        line: '[ingest-buffer] INFO: buffer drained, 2 drop(s) over 1.534s (cap 2) — write path recovered',
      },
    ]);
    // Recovery is logged once; the next stall starts counting from zero again.
    buffer.submit(6); // buffer holds 2 again: 6 is drop 3, the first of a new stall at T0+1534
    buffer.submit(7); // drop 4, same millisecond: throttled
    expect(lines.filter((l) => l.line.includes('drained'))).toHaveLength(1);
    expect(lines.at(-1)!.line).toContain('dropped 3 message(s) total');
    buffer.takeBatch(1);
    clock.now = T0 + 1_600;
    buffer.submit(8);
    expect(lines.at(-1)!.line).toBe(
      '[ingest-buffer] INFO: buffer drained, 2 drop(s) over 66ms (cap 2) — write path recovered',
    );
  });

  it('ready() reports the backlog and the drops so far, once', () => {
    const { buffer, text } = bufferOf<number>(2);
    for (let i = 0; i < 5; i++) buffer.submit(i);
    buffer.ready();
    buffer.ready();
    expect(text().filter((l) => l.includes('write path ready'))).toEqual([
      '[ingest-buffer] write path ready; draining backlog (2 pending, 3 dropped)',
    ]);
  });
});

describe('ring buffer and summary', () => {
  it('wraps around: more than capacity items in total stay FIFO, with drops in between', () => {
    const { buffer } = bufferOf<number>(4);
    buffer.ready();
    const out: number[] = [];
    let next = 0;
    // Interleave submits and takes so head and tail wrap several times.
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 3; i++) buffer.submit(next++);
      out.push(...buffer.takeBatch(2));
    }
    // The backlog grew by one per round: rounds beyond the capacity dropped their third item.
    while (buffer.pending > 0) out.push(...buffer.takeBatch(3));
    const dropped = buffer.droppedTotal;
    expect(dropped).toBeGreaterThan(0);
    expect(out).toHaveLength(30 - dropped);
    expect(out).toEqual([...out].sort((a, b) => a - b)); // order preserved across wrap-around
    expect(new Set(out).size).toBe(out.length);

    // After draining, a full refill still works from the wrapped head position.
    for (let i = 100; i < 104; i++) expect(buffer.submit(i)).toBe(true);
    expect(buffer.submit(104)).toBe(false);
    expect(buffer.takeBatch(10)).toEqual([100, 101, 102, 103]);
  });

  it('wraps around with exact contents when never full', () => {
    const { buffer } = bufferOf<number>(3);
    buffer.ready();
    const out: number[] = [];
    for (let i = 0; i < 20; i++) {
      buffer.submit(i);
      if (i % 2 === 1) out.push(...buffer.takeBatch(2));
    }
    expect(out).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(buffer.droppedTotal).toBe(0);
  });

  it('takeBatch respects max and ignores a non-positive max', () => {
    const { buffer } = bufferOf<number>(5);
    buffer.ready();
    for (let i = 0; i < 5; i++) buffer.submit(i);
    expect(buffer.takeBatch(0)).toEqual([]);
    expect(buffer.takeBatch(-3)).toEqual([]);
    expect(buffer.takeBatch(2.7)).toEqual([0, 1]);
    expect(buffer.pending).toBe(3);
  });

  it('summaryLine only when something is pending or was dropped', () => {
    const { buffer } = bufferOf<number>(1);
    expect(buffer.summaryLine()).toBeUndefined();
    buffer.submit(1);
    expect(buffer.summaryLine()).toBe('[ingest-buffer] pending=1 dropped_total=0');
    buffer.submit(2);
    buffer.ready();
    buffer.takeBatch(1);
    expect(buffer.summaryLine()).toBe('[ingest-buffer] pending=0 dropped_total=1');
  });

  it('waitForItems resolves immediately when items are ready, and wakes every waiter', async () => {
    const { buffer } = bufferOf<number>(5);
    buffer.ready();
    const a = buffer.waitForItems();
    const b = buffer.waitForItems();
    expect(await peek(a)).toBe('pending');
    buffer.submit(1);
    expect(await peek(a)).toBe(true);
    expect(await peek(b)).toBe(true);
    expect(await peek(buffer.waitForItems())).toBe(true);
  });
});
