/**
 * A batch the database could not take right now (busy, full, disconnected …) was rolled back whole: the
 * writer keeps it and retries later. Thrown by every engine's batch writer; `cause` is the engine's error.
 */
export class BatchAbortedError extends Error {
  constructor(override readonly cause: unknown) {
    super(`batch rolled back: ${(cause as Error)?.message ?? String(cause)}`);
  }
}
