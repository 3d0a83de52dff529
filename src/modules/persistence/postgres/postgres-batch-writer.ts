import type { Pool, PoolClient } from 'pg';
import { BatchAbortedError } from '../writer/batch-aborted.error';
import type { IngestBatchKeys, PostgresIngestRepository } from './postgres-ingest.repository';

/**
 * SQLSTATE classes that mean "the database cannot take this batch now" (connection, resources, operator
 * action, system errors; serialization failures and deadlocks, which a retry resolves) rather than "this
 * message is bad": the batch is rolled back and retried whole, later.
 */
const INFRASTRUCTURE_SQLSTATE = /^(08|40|53|55P03|57|58|XX)/;
const INFRASTRUCTURE_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

export function isPostgresInfrastructureError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return /^[0-9A-Z]{5}$/.test(code) ? INFRASTRUCTURE_SQLSTATE.test(code) : INFRASTRUCTURE_NODE_CODES.has(code);
  // node-postgres raises plain Errors when the socket goes away mid-query.
  const message = (err as Error | null)?.message ?? '';
  return /Connection terminated|connection is closed|Client has encountered a connection error|timeout exceeded when trying to connect/i.test(message);
}

/**
 * The single writer of one replica on PostgreSQL, with the contract of SqliteBatchWriter.commitBatch: a
 * batch commits in one transaction; a message whose writes fail is rolled back alone and reported while
 * the others are kept; infrastructure errors abort the batch (BatchAbortedError) for the caller to retry.
 *
 * The batch runs optimistically as one unit of work (prefetch, the synchronous pipeline, one set-based
 * commit). Only if that fails for a reason other than infrastructure does it run again with one
 * transaction per message, which finds the culprit; `onRestart` tells the caller to forget the counts of
 * the first attempt.
 */
export class PostgresBatchWriter {
  constructor(
    private readonly pool: Pool,
    private readonly repository: PostgresIngestRepository,
  ) {}

  async commitBatch<T>(
    items: readonly T[],
    /** The hashes and observer ids a message names (prefetched before the pipeline runs). */
    keysOf: (item: T) => { hash?: string; observerId?: string },
    handle: (item: T, isolated: boolean) => void,
    onItemError: (item: T, err: unknown) => void,
    onRestart: () => void = () => undefined,
  ): Promise<void> {
    try {
      await this.unitOfWork(items, keysOf, (item) => handle(item, false));
      return;
    } catch (err) {
      if (isPostgresInfrastructureError(err)) throw new BatchAbortedError(err);
    }
    onRestart();
    for (const item of items) {
      try {
        await this.unitOfWork([item], keysOf, (one) => handle(one, true));
      } catch (err) {
        if (isPostgresInfrastructureError(err)) throw new BatchAbortedError(err);
        onItemError(item, err);
      }
    }
  }

  /** Node keys and neighbor edges for the path resolver, read outside the writer's transactions. */
  async loadPathIndexInputs(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await this.repository.loadPathIndexInputs(client);
    } finally {
      client.release();
    }
  }

  private async unitOfWork<T>(items: readonly T[], keysOf: (item: T) => { hash?: string; observerId?: string }, handle: (item: T) => void): Promise<void> {
    const keys: { hashes: string[]; observerIds: string[] } = { hashes: [], observerIds: [] };
    for (const item of items) {
      const { hash, observerId } = keysOf(item);
      if (hash) keys.hashes.push(hash);
      if (observerId) keys.observerIds.push(observerId);
    }
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      await this.repository.prefetch(client, keys satisfies IngestBatchKeys);
      this.repository.beginBatch();
      for (const item of items) handle(item);
      this.repository.endBatch();
      await this.repository.commit(client);
      await client.query('COMMIT');
    } catch (err) {
      this.repository.abandonBatch();
      broken = await rollback(client);
      throw err;
    } finally {
      // A connection whose ROLLBACK failed is not given back to the pool.
      client.release(broken || undefined);
    }
  }
}

/** True when the connection is unusable afterwards. */
async function rollback(client: PoolClient): Promise<boolean> {
  try {
    await client.query('ROLLBACK');
    return false;
  } catch {
    return true;
  }
}
