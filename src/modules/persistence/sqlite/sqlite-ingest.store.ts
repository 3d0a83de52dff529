import type { BatchCallbacks, IngestStore } from '../ingest-store';
import type { IngestRepository } from '../repositories/ingest.repository';
import type { SqliteBatchWriter } from './sqlite-batch-writer';

/** The ingest seam on SQLite: the repository on the single connection and the synchronous batch writer. */
export class SqliteIngestStore implements IngestStore {
  readonly engine = 'sqlite' as const;

  constructor(
    private readonly writer: SqliteBatchWriter,
    /** Also the batch scope the writer reports transactions to (deferred writes land before COMMIT). */
    readonly repository: IngestRepository,
  ) {}

  commitBatch<T>(items: readonly T[], callbacks: BatchCallbacks<T>): void {
    this.writer.commitBatch(items, callbacks.handle, callbacks.onItemError, callbacks.onRestart, this.repository);
  }

  /** The repository reads the connection directly. */
  loadPathIndexInputs(): void {}
}
