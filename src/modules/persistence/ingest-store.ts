import type { IngestRepository } from './repositories/ingest.repository';

/** The hash and observer id a message names: what an engine may load before the batch runs. */
export interface BatchItemKeys {
  readonly hash?: string;
  readonly observerId?: string;
}

export interface BatchCallbacks<T> {
  /** Only called by engines that look rows up before the batch (PostgreSQL); may prepare the item. */
  keysOf(item: T): BatchItemKeys;
  /** Stores one item through `repository`; `isolated`: the item runs alone (second attempt). */
  handle(item: T, isolated: boolean): void;
  onItemError(item: T, err: unknown): void;
  /** The first attempt was rolled back; the items run again one by one. */
  onRestart(): void;
}

/**
 * The ingest writer's seam to the storage engine: the repository the pipeline writes through and the
 * single writer that commits a batch with the contract of SqliteBatchWriter.commitBatch (one transaction,
 * a failing item rolled back alone, BatchAbortedError for infrastructure failures). SQLite commits
 * synchronously (void); PostgreSQL returns a promise.
 */
export interface IngestStore {
  readonly engine: 'sqlite' | 'postgres';
  readonly repository: IngestRepository;
  commitBatch<T>(items: readonly T[], callbacks: BatchCallbacks<T>): void | Promise<void>;
  /** Loads what listNodeKeys/listNeighborEdges answer from, where reading them is asynchronous. */
  loadPathIndexInputs(): void | Promise<void>;
}
