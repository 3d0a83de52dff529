import { existsSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { IngestMessage } from '../ingest-message';
import { encodeMessageBatch } from './message-batch.codec';
import { decodePreparedBatch } from './prepared-batch.codec';
import type { MessagePreparer } from './message-preparer';
import type { PreparationRequest, PreparationResponse, PreparationWorkerData } from './preparation.protocol';
import type { PreparedMessage } from './prepared-message';

export interface PreparationStageLogger {
  warn(line: string): void;
  error(line: string): void;
}

export interface PreparationStageOptions {
  /** Run the preparation in a worker thread (config `ingest.workerThread`); false = on the writer's thread. */
  useWorker: boolean;
  workerData: PreparationWorkerData;
  /** Prepares on this thread: when the worker is off, unavailable, or failed on a batch. */
  inline: MessagePreparer;
  logger: PreparationStageLogger;
  /** The compiled worker script; default: preparation.worker.js beside this file. */
  workerScript?: string;
  /** Called when a worker dies unexpectedly (counted as worker_restarts). */
  onWorkerFailure?: () => void;
}

/**
 * Heap limits of the worker. What it keeps is small (the key ring, the signature cache, recent
 * hashes: a few MiB); left to V8's defaults its heap grew to ~60 MiB of garbage under a burst.
 * A batch that runs it out of memory ends the worker: that batch is prepared on the writer
 * thread and a new worker started (below).
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 16, maxOldGenerationSizeMb: 48 };

/** A worker that died this many times within RESTART_WINDOW_MS is not started again. */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;

interface Pending {
  resolve: (prepared: PreparedMessage[]) => void;
  reject: (err: Error) => void;
}

/**
 * The preparation stage of the writer: turns a batch of MQTT messages into prepared messages,
 * in a worker thread so that decoding batch k+1 overlaps with storing batch k. The results are
 * the same as preparing on the writer's thread (the preparer is deterministic); whenever the
 * worker cannot deliver a batch, the batch is prepared on this thread instead, so a failing
 * worker costs speed, never messages.
 */
export class PreparationStage {
  private worker?: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private failures: number[] = [];
  private disabled: boolean;
  private closed = false;
  private readonly workerScript: string;

  constructor(private readonly options: PreparationStageOptions) {
    this.workerScript = options.workerScript ?? path.join(__dirname, 'preparation.worker.js');
    this.disabled = !options.useWorker;
    if (options.useWorker && !existsSync(this.workerScript)) {
      // Only when running from the TypeScript sources (unit tests): the build always has it.
      options.logger.warn(`preparation worker script not found (${path.basename(this.workerScript)}): decoding on the writer thread`);
      this.disabled = true;
    }
  }

  /** True while batches go to a worker thread. */
  get usesWorker(): boolean {
    return !this.disabled && !this.closed;
  }

  prepare(messages: readonly IngestMessage[]): Promise<PreparedMessage[]> {
    if (!this.usesWorker || messages.length === 0) return Promise.resolve(this.prepareInline(messages));
    const worker = this.ensureWorker();
    if (!worker) return Promise.resolve(this.prepareInline(messages));
    const id = this.nextId++;
    const batch = encodeMessageBatch(messages);
    const result = new Promise<PreparedMessage[]>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    const request: PreparationRequest = { id, batch };
    // Referenced only while it owes an answer: an idle worker never keeps the process alive.
    if (this.pending.size === 1) worker.ref();
    worker.postMessage(request, [batch.bytes]);
    return result.catch((err: Error) => {
      this.options.logger.warn(`preparation worker lost a batch of ${messages.length} (${err.message}): decoding it on the writer thread`);
      return this.prepareInline(messages);
    });
  }

  /** Stops the worker; later batches are prepared inline. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    this.rejectPending(new Error('preparation stage closed'));
    if (worker) await worker.terminate();
  }

  private prepareInline(messages: readonly IngestMessage[]): PreparedMessage[] {
    return messages.map((m) => this.options.inline.prepare(m));
  }

  private ensureWorker(): Worker | undefined {
    if (this.worker) return this.worker;
    try {
      const worker = new Worker(this.workerScript, { workerData: this.options.workerData, resourceLimits: WORKER_LIMITS });
      worker.unref();
      worker.on('message', (response: PreparationResponse) => this.settle(response));
      worker.on('error', (err) => this.onWorkerGone(worker, `crashed: ${err.message}`));
      worker.on('exit', (code) => this.onWorkerGone(worker, `exited with code ${code}`));
      this.worker = worker;
      return worker;
    } catch (err) {
      this.giveUp(`could not start: ${(err as Error).message}`);
      return undefined;
    }
  }

  private settle(response: PreparationResponse): void {
    const waiter = this.pending.get(response.id);
    if (!waiter) return;
    this.pending.delete(response.id);
    if (this.pending.size === 0) this.worker?.unref();
    if ('error' in response) waiter.reject(new Error(response.error));
    else waiter.resolve(decodePreparedBatch(response.prepared));
  }

  private onWorkerGone(worker: Worker, why: string): void {
    if (this.worker !== worker) return; // already replaced or closed
    this.worker = undefined;
    this.rejectPending(new Error(`worker ${why}`));
    if (this.closed) return;
    this.options.onWorkerFailure?.();
    const now = Date.now();
    this.failures = this.failures.filter((t) => now - t < RESTART_WINDOW_MS);
    this.failures.push(now);
    if (this.failures.length >= MAX_RESTARTS) this.giveUp(`${why}; ${MAX_RESTARTS} failures within a minute`);
    else this.options.logger.warn(`preparation worker ${why}; starting a new one`);
  }

  private giveUp(why: string): void {
    this.disabled = true;
    this.options.logger.error(`preparation worker ${why}: decoding on the writer thread from now on`);
  }

  private rejectPending(err: Error): void {
    const waiters = [...this.pending.values()];
    this.pending.clear();
    for (const w of waiters) w.reject(err);
  }
}
