/**
 * Long maintenance jobs are written once, as generators that `yield` between two short transactions, and run
 * in one of two ways:
 * - `runToCompletion`: straight through, synchronously (start-up, before the ingest writer runs);
 * - `runYielding`: giving the event loop a turn at every yield, so MQTT keepalives and the ingest writer are
 *   never starved by a big prune (better-sqlite3 blocks the loop for as long as a statement runs).
 */

/** A job that yields between chunks and finally returns its result. */
export type ChunkedJob<T> = Generator<void, T, void>;

export function runToCompletion<T>(job: ChunkedJob<T>): T {
  for (;;) {
    const step = job.next();
    if (step.done) return step.value;
  }
}

export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export interface YieldingOptions {
  /** Checked at every yield; true abandons the rest of the job (every finished chunk stays committed). */
  readonly shouldStop?: () => boolean;
  readonly pause?: () => Promise<void>;
}

/** Raised by runYielding when `shouldStop` ended a job early; the scheduler treats it as a quiet stop. */
export class JobStoppedError extends Error {
  constructor() {
    super('stopped for shutdown');
  }
}

export async function runYielding<T>(job: ChunkedJob<T>, options: YieldingOptions = {}): Promise<T> {
  const pause = options.pause ?? yieldToEventLoop;
  for (;;) {
    const step = job.next();
    if (step.done) return step.value;
    await pause();
    if (options.shouldStop?.()) {
      job.return(undefined as T);
      throw new JobStoppedError();
    }
  }
}
