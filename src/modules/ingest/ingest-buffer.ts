import { formatGoDuration } from '../../common/time/go-duration';
/**
 * Bounded FIFO between MQTT receipt and the single database writer (ingestor-spec §2.7).
 *
 * Sources subscribe before the write path is free (startup migrations, backfills), so messages
 * queue here until ready(). submit() never blocks the MQTT callback: when full it drops and
 * counts, with throttled logging. One consumer pulls batches in FIFO order, which keeps the
 * single-writer invariant.
 */

export interface IngestBufferLogger {
  warn(message: string): void;
  log(message: string): void;
}

export const DEFAULT_INGEST_BUFFER_SIZE = 50_000;

/** Far above any sane ingestBufferSize; guards against Infinity or a typo allocating the heap away. */
const MAX_CAPACITY = 10_000_000;

/** Minimum spacing of "still stalled" lines while drops continue. */
const DROP_SUMMARY_INTERVAL_MS = 1000;


export class IngestBuffer<T> {
  readonly capacity: number;

  // Ring buffer: O(1) submit, O(batch) take, no shifting of a 50 000-slot array.
  private readonly slots: (T | undefined)[];
  private head = 0;
  private size = 0;

  private dropped = 0;
  private isReadyFlag = false;
  private isStoppedFlag = false;
  private waiters: ((hasItems: boolean) => void)[] = [];

  // Drop-log throttle: a stall runs from its first drop to the next successful submit.
  private stallActive = false;
  private stallStartMs = 0;
  private stallStartDropped = 0;
  private lastSummaryMs = 0;

  constructor(
    capacity: number,
    private readonly logger: IngestBufferLogger,
    private readonly now: () => number = Date.now,
  ) {
    let effective = Math.floor(capacity);
    if (!(effective >= 1)) {
      // A silent clamp would hide a bad ingestBufferSize.
      logger.warn(
        `[ingest-buffer] WARN: requested capacity ${capacity} < 1, clamping to 1 — check ingestBufferSize config; ` +
          `default is ${DEFAULT_INGEST_BUFFER_SIZE}`,
      );
      effective = 1;
    }
    if (!Number.isSafeInteger(effective) || effective > MAX_CAPACITY) {
      throw new RangeError(`[ingest-buffer] capacity ${capacity} is too large (max ${MAX_CAPACITY})`);
    }
    this.capacity = effective;
    this.slots = new Array<T | undefined>(effective);
  }

  get pending(): number {
    return this.size;
  }

  get droppedTotal(): number {
    return this.dropped;
  }

  get isReady(): boolean {
    return this.isReadyFlag;
  }

  get isStopped(): boolean {
    return this.isStoppedFlag;
  }

  /**
   * Queues an item without blocking. Returns false when the item was not queued: buffer full
   * (counted as a drop) or buffer stopped (shutdown; not counted).
   */
  submit(item: T): boolean {
    if (this.isStoppedFlag) return false;
    if (this.size === this.capacity) {
      this.dropped++;
      this.logDrop();
      return false;
    }
    this.slots[(this.head + this.size) % this.capacity] = item;
    this.size++;
    if (this.stallActive) this.logRecovery();
    if (this.isReadyFlag && this.waiters.length > 0) this.wake(true);
    return true;
  }

  /** The write path is free: from now on the consumer gets items. Idempotent. */
  ready(): void {
    if (this.isReadyFlag) return;
    this.isReadyFlag = true;
    this.logger.log(
      `[ingest-buffer] write path ready; draining backlog (${this.size} pending, ${this.dropped} dropped)`,
    );
    if (this.size > 0) this.wake(true);
  }

  /** Removes and returns up to max items, oldest first; [] before ready(). */
  takeBatch(max: number): T[] {
    if (!this.isReadyFlag || this.size === 0 || !(max >= 1)) return [];
    const count = Math.min(Math.floor(max), this.size);
    const batch = new Array<T>(count);
    for (let i = 0; i < count; i++) {
      batch[i] = this.slots[this.head] as T;
      this.slots[this.head] = undefined; // release the reference for GC
      this.head = (this.head + 1) % this.capacity;
    }
    this.size -= count;
    if (this.size === 0) this.head = 0;
    return batch;
  }

  /**
   * Resolves true as soon as takeBatch() would return something, false once the buffer is
   * stopped and nothing more will come. After stop(), a ready buffer still reports its
   * remaining backlog so the consumer can drain it; a never-ready one ends at once.
   */
  waitForItems(): Promise<boolean> {
    if (this.isReadyFlag && this.size > 0) return Promise.resolve(true);
    if (this.isStoppedFlag) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => this.waiters.push(resolve));
  }

  /** Stops accepting items and releases waiting consumers. Idempotent. */
  stop(): void {
    if (this.isStoppedFlag) return;
    this.isStoppedFlag = true;
    this.wake(this.isReadyFlag && this.size > 0);
  }

  /** The periodic status line, or undefined when there is nothing to report. */
  summaryLine(): string | undefined {
    if (this.size === 0 && this.dropped === 0) return undefined;
    return `[ingest-buffer] pending=${this.size} dropped_total=${this.dropped}`;
  }

  private wake(hasItems: boolean): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve(hasItems);
  }

  /** First drop of a stall logs at once; further drops at most once per second. */
  private logDrop(): void {
    const nowMs = this.now();
    if (!this.stallActive) {
      this.stallActive = true;
      this.stallStartMs = nowMs;
      this.stallStartDropped = this.dropped - 1;
      this.lastSummaryMs = nowMs;
      this.logger.warn(
        `[ingest-buffer] WARNING: buffer full (cap ${this.capacity}), dropped ${this.dropped} message(s) total — ` +
          'write path stalled, raise ingestBufferSize or investigate slow writer',
      );
      return;
    }
    if (nowMs - this.lastSummaryMs >= DROP_SUMMARY_INTERVAL_MS) {
      this.lastSummaryMs = nowMs;
      this.logger.warn(
        `[ingest-buffer] WARNING: buffer full (cap ${this.capacity}), ${this.dropped - this.stallStartDropped} ` +
          `drop(s) in current stall, ${this.dropped} total — write path still stalled`,
      );
    }
  }

  private logRecovery(): void {
    this.stallActive = false;
    this.logger.log(
      `[ingest-buffer] INFO: buffer drained, ${this.dropped - this.stallStartDropped} drop(s) over ` +
        `${formatGoDuration(this.now() - this.stallStartMs)} (cap ${this.capacity}) — write path recovered`,
    );
  }
}
