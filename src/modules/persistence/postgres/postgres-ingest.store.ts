import type { Pool } from 'pg';
import type { BatchCallbacks, IngestStore } from '../ingest-store';
import { PostgresBatchWriter } from './postgres-batch-writer';
import { PostgresIngestRepository } from './postgres-ingest.repository';

/** The ingest seam on PostgreSQL: the unit-of-work repository and its writer, on the replica's pool. */
export class PostgresIngestStore implements IngestStore {
  readonly engine = 'postgres' as const;
  readonly repository = new PostgresIngestRepository();
  private readonly writer: PostgresBatchWriter;

  constructor(pool: Pool) {
    this.writer = new PostgresBatchWriter(pool, this.repository);
  }

  commitBatch<T>(items: readonly T[], callbacks: BatchCallbacks<T>): Promise<void> {
    return this.writer.commitBatch(items, callbacks.keysOf, callbacks.handle, callbacks.onItemError, callbacks.onRestart);
  }

  loadPathIndexInputs(): Promise<void> {
    return this.writer.loadPathIndexInputs();
  }
}
