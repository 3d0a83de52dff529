import { performance } from 'node:perf_hooks';
import { BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { sanitizeLogText } from '../../common/logging/sanitize-log-text';
import { APP_CONFIG, AppConfig } from '../../config/config.types';
import { DatabaseService } from '../persistence/database.service';
import type { IngestStore } from '../persistence/ingest-store';
import { BatchAbortedError } from '../persistence/writer/batch-aborted.error';
import { WaitClock } from '../persistence/writer/writer-perf';
import { IngestCounters } from '../stats/ingest-counters';
import { IngestStatsService } from '../stats/ingest-stats.service';
import { IngestBuffer } from './ingest-buffer';
import { IngestMessage } from './ingest-message';
import { IngestPipelineService } from './ingest-pipeline.service';
import { keysOfPrepared } from './preparation/prepared-keys';
import type { PreparedMessage } from './preparation/prepared-message';

const RETRY_START_MS = 100;
const RETRY_MAX_MS = 30_000;
const SHUTDOWN_DRAIN_MS = 10_000;
const BUFFER_SUMMARY_MS = 5 * 60_000;
/** Batches being prepared in the worker while one commits. */
const PREPARE_AHEAD = 2;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * A batch taken from the buffer. With the worker thread its preparation (decoding) is under way;
 * without, `prepared` is absent and each message is prepared as it is stored.
 */
interface TakenBatch {
  messages: IngestMessage[];
  prepared?: Promise<PreparedMessage[]>;
}

interface BatchItem {
  message: IngestMessage;
  /** From the worker; on one thread, kept only for messages that need it after the commit. */
  prepared?: PreparedMessage;
}

/** Topic and source of a message for logs: a replay capture line names its own. */
function originOf({ message, prepared }: BatchItem): { topic: string; source: string } {
  return prepared?.kind === 'captured' ? prepared : message;
}

/**
 * The single writer of ingest data: drains the ingest buffer in FIFO batches (flush at
 * `ingest.batchSize` messages or `ingest.flushIntervalMs`), has each batch prepared (parsed and
 * decoded, in the worker thread) and commits it in one transaction, and yields to the event loop
 * between batches so MQTT keepalives are never starved. Under a backlog the next batch is being
 * prepared while this one is stored: two cores, still one writer and FIFO order.
 * A failed commit is retried with backoff; the batch stays in memory until it commits.
 */
@Injectable()
export class IngestWriterService implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Writer');
  readonly buffer: IngestBuffer<IngestMessage>;
  private store?: IngestStore;
  private loop?: Promise<void>;
  private stopping = false;
  private batchWaiter?: () => void;
  /** When the batch being committed was due (flush deadline or a full batch): its wait for the writer. */
  private readonly batchDue = new WaitClock();
  /** A queued message is waiting for its commit (QoS 1 acknowledgement): do not wait for a full batch. */
  private flushRequested = false;
  private capacityWaiters: Array<{ below: number; resolve: () => void }> = [];
  private readonly itemCounters = new IngestCounters();
  private summaryTimer?: NodeJS.Timeout;
  /** Settles when the batch being committed (if any) is done. */
  private inFlight: Promise<void> = Promise.resolve();
  /** A batch was given up at shutdown (the database takes no writes): the rest get one attempt. */
  private gaveUpAtShutdown = false;
  /** The next batches, already out of the buffer and being prepared while the current one commits. */
  private readonly ahead: TakenBatch[] = [];
  private readonly processedListeners: Array<(sources: ReadonlySet<string>) => void> = [];

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly pipeline: IngestPipelineService,
    private readonly database: DatabaseService,
    private readonly stats: IngestStatsService,
  ) {
    this.buffer = new IngestBuffer<IngestMessage>(config.ingestBufferSize, {
      log: (m) => this.logger.log(m),
      warn: (m) => this.logger.warn(m),
    });
    stats.registerGauge('buffer_pending', () => this.buffer.pending);
    stats.registerGauge('buffer_capacity', () => this.buffer.capacity);
    stats.registerGauge('buffer_dropped_total', () => this.buffer.droppedTotal);
  }

  /** Queues a message; false when the buffer is full (the drop is counted by the buffer). */
  submit(message: IngestMessage, flushNow = false): boolean {
    this.stats.add('messages_received');
    const accepted = this.buffer.submit(message);
    if (!accepted) this.stats.drop('buffer_full');
    if (flushNow) this.flushRequested = true;
    if (flushNow || this.buffer.pending >= this.config.ingest.batchSize) this.wakeBatch();
    return accepted;
  }

  /**
   * Queue depth at which intake pauses: `ingest.highWaterMark` once the writer runs (memory stays
   * bounded, the broker queues the rest); the full `ingestBufferSize` before (the reference's
   * start-up buffering, where pausing would starve keepalives for the whole start-up).
   */
  private get pauseAt(): number {
    return this.isStarted ? Math.min(this.config.ingest.highWaterMark, this.buffer.capacity) : this.buffer.capacity;
  }

  /** True while the queue is below the pause mark (used for MQTT and replay backpressure). */
  hasRoom(reserve = 0): boolean {
    return this.buffer.pending + reserve < this.pauseAt;
  }

  /** Resolves once fewer than `below` messages are queued (default: half the pause mark), or the writer stops. */
  waitForRoom(below = this.pauseAt / 2): Promise<void> {
    if (this.buffer.pending < below || this.stopping) return Promise.resolve();
    return new Promise((resolve) => this.capacityWaiters.push({ below, resolve }));
  }

  get running(): boolean {
    return this.loop !== undefined && !this.stopping;
  }

  /** True once start() opened the write path. */
  get isStarted(): boolean {
    return this.loop !== undefined;
  }

  /** Called after each committed batch with the source tags it contained (watchdog write clock). */
  onMessagesProcessed(listener: (sources: ReadonlySet<string>) => void): void {
    this.processedListeners.push(listener);
  }

  /** Opens the write path: buffered messages start flowing into the database. */
  start(): void {
    if (this.loop) return;
    // §2.7: every 5 minutes, if anything is pending or was dropped.
    this.summaryTimer = setInterval(() => {
      const line = this.buffer.summaryLine();
      if (line) this.logger.log(line);
    }, BUFFER_SUMMARY_MS);
    this.summaryTimer.unref();
    this.store = this.database.ingestStore;
    this.buffer.ready();
    this.loop = this.run();
  }

  /** Writes whatever is queued now (tests and the replay command). */
  async drain(): Promise<void> {
    while ((this.buffer.pending > 0 || this.ahead.length > 0) && this.loop && !this.stopping) {
      this.wakeBatch();
      await sleep(5);
    }
    await this.inFlight;
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.summaryTimer);
    if (!this.loop) return;
    // Let the loop write what is already queued, within a bound.
    const deadline = Date.now() + SHUTDOWN_DRAIN_MS;
    while ((this.buffer.pending > 0 || this.ahead.length > 0) && Date.now() < deadline) {
      this.wakeBatch();
      await sleep(10);
    }
    this.stopping = true;
    this.buffer.stop();
    this.wakeBatch();
    await this.loop;
    // What the rate limit of per-message lines left out, before the final lines.
    this.pipeline.flushLogSummaries();
    if (this.buffer.pending > 0) {
      this.logger.error(`[writer] shutdown with ${this.buffer.pending} message(s) not written`);
    }
    this.logger.log(this.stats.summaryLine());
    this.releaseCapacityWaiters();
  }

  private async run(): Promise<void> {
    const { batchSize, flushIntervalMs } = this.config.ingest;
    // Prepare ahead only under a backlog: at low rates the flush interval, not decoding, sets the pace.
    const prefetchAt = Math.max(1, Math.floor(batchSize / 4));
    // Batches already taken (this.ahead) are always committed, even when stopping.
    while (!this.stopping || this.ahead.length > 0) {
      let current = this.ahead.shift();
      if (!current) {
        const hasItems = await this.buffer.waitForItems();
        if (!hasItems || this.stopping) break;
        this.batchDue.due();
        if (this.buffer.pending < batchSize && flushIntervalMs > 0 && !this.flushRequested) await this.waitForBatch(flushIntervalMs);
        this.flushRequested = false;
        current = this.takeBatch(batchSize);
        if (!current) continue;
      }
      let done!: () => void;
      this.inFlight = new Promise((resolve) => (done = resolve));
      try {
        this.prepareAhead(batchSize, prefetchAt);
        const prepared = current.prepared && (await current.prepared);
        // A batch prepared ahead was due once prepared and the previous commit done.
        if (current.prepared) this.batchDue.due();
        this.prepareAhead(batchSize, prefetchAt);
        await this.commitWithRetry(current.messages, prepared);
      } finally {
        done();
      }
      this.releaseCapacityWaiters();
      await yieldToEventLoop();
    }
  }

  /**
   * Keeps up to PREPARE_AHEAD batches with the worker while one commits, so that neither thread
   * waits for the other's handover (with one batch ahead, both idled ~15 % of the time). Without
   * the worker, taking batches early gains nothing and only keeps them in memory.
   */
  private prepareAhead(batchSize: number, prefetchAt: number): void {
    if (!this.pipeline.preparesOffThread) return;
    while (!this.stopping && this.ahead.length < PREPARE_AHEAD && this.buffer.pending >= prefetchAt) {
      const next = this.takeBatch(batchSize);
      if (!next) return;
      this.ahead.push(next);
    }
  }

  private takeBatch(batchSize: number): TakenBatch | undefined {
    const messages = this.buffer.takeBatch(batchSize);
    if (messages.length === 0) return undefined;
    return { messages, prepared: this.pipeline.preparesOffThread ? this.pipeline.prepareBatch(messages) : undefined };
  }

  /**
   * Prepares a message on this thread just before it is stored. Its decoded data then dies young
   * instead of living (and being promoted by the GC) until the batch commits: 0.061–0.064 instead
   * of 0.070–0.075 CPU ms per message in the flat-out e2e run. Kept only when needed after the
   * commit (QoS 1 acknowledgement, replay accounting); preparation is pure, so a retry of the
   * batch prepares again with the same result.
   */
  private prepareWhileStoring(item: BatchItem): PreparedMessage {
    const prepared = this.pipeline.prepareNow(item.message);
    if (item.message.onCommitted) item.prepared = prepared;
    return prepared;
  }

  /** Waits up to ms for a full batch; submit() cuts the wait short (wakeBatch). */
  private waitForBatch(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const deadline = performance.now() + ms;
      const finish = (byTimer: boolean) => {
        clearTimeout(timer);
        this.batchWaiter = undefined;
        // Due at the deadline when the timer fired (it fires late while another writer holds the thread).
        this.batchDue.due(byTimer ? deadline : performance.now());
        resolve();
      };
      const timer = setTimeout(() => finish(true), ms);
      this.batchWaiter = () => finish(false);
    });
  }

  private wakeBatch(): void {
    this.batchWaiter?.();
  }

  private releaseCapacityWaiters(): void {
    const pending = this.buffer.pending;
    const ready = this.capacityWaiters.filter((w) => this.stopping || pending < w.below);
    if (ready.length === 0) return;
    this.capacityWaiters = this.capacityWaiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve();
  }


  private async commitWithRetry(batch: IngestMessage[], prepared: PreparedMessage[] | undefined): Promise<void> {
    let delay = RETRY_START_MS;
    const items: BatchItem[] = batch.map((message, i) => ({ message, prepared: prepared?.[i] }));
    for (let attempt = 0; ; attempt += 1) {
      const batchCounters = new IngestCounters();
      try {
        await this.commitOnce(items, batchCounters, attempt === 0);
        this.pipeline.flushLogs();
        batchCounters.add('batches_committed');
        batchCounters.add('messages_processed', batch.length);
        this.stats.commit(batchCounters);
        const sources = new Set<string>();
        for (const item of items) {
          sources.add(originOf(item).source);
          this.acknowledge(item);
        }
        for (const listener of this.processedListeners) {
          this.afterCommit(() => listener(sources), 'processed listener');
        }
        return;
      } catch (err) {
        this.pipeline.discardLogs();
        if (!(err instanceof BatchAbortedError)) throw err;
        // At shutdown the backoff runs once: after one batch gave up, the batches still ahead
        // get a single attempt each instead of the whole backoff again.
        if (this.stopping && this.gaveUpAtShutdown) {
          this.logger.error(
            `[writer] giving up at shutdown: ${batch.length} message(s) not written (${sanitizeLogText(String((err.cause as Error)?.message ?? err.cause))})`,
          );
          return;
        }
        this.stats.add('commit_retries');
        this.logger.warn(
          `[writer] commit of ${batch.length} message(s) failed: ${sanitizeLogText(String((err.cause as Error)?.message ?? err.cause))}; retrying in ${delay} ms (nothing is dropped)`,
        );
        await sleep(delay);
        delay = Math.min(delay * 2, RETRY_MAX_MS);
        if (this.stopping && delay >= RETRY_MAX_MS) {
          this.gaveUpAtShutdown = true;
          this.logger.error(`[writer] giving up at shutdown: ${batch.length} message(s) not written`);
          return;
        }
      }
    }
  }

  private acknowledge(item: BatchItem): void {
    const { message, prepared } = item;
    // No prepared result: its preparation threw (a bug), so the message was not stored either.
    if (!message.onCommitted || !prepared) return;
    try {
      message.onCommitted(prepared);
    } catch (err) {
      const { topic, source } = originOf(item);
      this.pipeline.logPerMessage(
        'warn',
        `[writer] acknowledgement of ${sanitizeLogText(topic)} failed after commit: ${sanitizeLogText(String((err as Error)?.message ?? err))}`,
        { source, reason: 'ack_failed' },
      );
    }
  }

  /**
   * Post-commit callbacks (QoS 1 acks, listeners) run after the batch is durable; one that throws
   * (e.g. an ack on a dropped connection) must neither end the writer loop nor skip the others.
   * (acknowledge() inlines the same guard: it runs once per message.)
   */
  private afterCommit(callback: () => void, what: string): void {
    try {
      callback();
    } catch (err) {
      this.logger.warn(`[writer] ${what} failed after commit: ${sanitizeLogText(String((err as Error)?.message ?? err))}`);
    }
  }

  /** One attempt at the batch's transaction, timed as the `mqtt_handler` writer component (ingestor-spec §6.4). */
  private async commitOnce(items: BatchItem[], batchCounters: IngestCounters, firstAttempt: boolean): Promise<void> {
    // A retry of the same batch waited for its backoff, not for the writer.
    const waitMs = firstAttempt ? this.batchDue.elapsed() : 0;
    const startedAt = performance.now();
    try {
      // SQLite commits synchronously; PostgreSQL's commit is awaited (its hold includes the round trips).
      const pending = this.commitAttempt(items, batchCounters);
      if (pending) await pending;
    } finally {
      this.database.writerPerf.record('mqtt_handler', waitMs, performance.now() - startedAt, `batch of ${items.length}`);
    }
  }

  private commitAttempt(items: BatchItem[], batchCounters: IngestCounters): void | Promise<void> {
    const item = this.itemCounters;
    return this.store!.commitBatch(items, {
      // Engines that look rows up first need every message prepared before the batch runs.
      keysOf: (entry) => keysOfPrepared((entry.prepared ??= this.pipeline.prepareNow(entry.message))),
      handle: (entry, isolated) => {
        const prepared = entry.prepared ?? this.prepareWhileStoring(entry);
        // A failure in the first attempt restarts the whole batch (counters reset), so only
        // the per-savepoint attempt needs the message's counts apart.
        if (!isolated) return this.pipeline.apply(entry.message, prepared, batchCounters);
        item.reset();
        this.pipeline.apply(entry.message, prepared, item);
        batchCounters.merge(item);
      },
      onItemError: (item, err) => {
        batchCounters.add('message_errors');
        if (typeof (err as { code?: unknown })?.code === 'string') batchCounters.add('write_errors');
        const { topic, source } = originOf(item);
        // Held like the pipeline's lines: if the batch still aborts (and runs again), it never happened.
        this.pipeline.holdLine(
          'warn',
          `[writer] message on ${sanitizeLogText(topic)} from [${source}] skipped: ${sanitizeLogText(String((err as Error)?.message ?? err))}`,
          { source, reason: 'write_skipped' },
        );
      },
      // The first attempt was rolled back: its counts and log lines never happened.
      onRestart: () => {
        batchCounters.reset();
        this.pipeline.discardLogs();
      },
    });
  }
}
