import { Pool } from 'pg';
import { describe, expect, it } from 'vitest';
import { BatchAbortedError } from '../writer/batch-aborted.error';
import { isPostgresInfrastructureError, PostgresBatchWriter } from './postgres-batch-writer';
import { PostgresIngestRepository } from './postgres-ingest.repository';

describe('PostgresBatchWriter', () => {
  it.each([
    [{ code: '08006' }, true], // connection failure
    [{ code: '40P01' }, true], // deadlock (another replica): retry the batch
    [{ code: '40001' }, true], // serialization failure
    [{ code: '53300' }, true], // too many connections
    [{ code: '57P01' }, true], // admin shutdown (server restart)
    [{ code: 'ECONNREFUSED' }, true],
    [new Error('Connection terminated unexpectedly'), true],
    [{ code: '22021' }, false], // bad byte in text: this message's data
    [{ code: '23505' }, false], // unique violation: this message's data
    [{ code: '42601' }, false],
    [new Error('some bug'), false],
  ])('%j is an infrastructure error: %s', (error, expected) => {
    expect(isPostgresInfrastructureError(error)).toBe(expected);
  });

  it('a database that cannot be reached aborts the batch whole (the writer retries it), no item is reported as failed', async () => {
    const pool = new Pool({ connectionString: 'postgres://nobody@127.0.0.1:9/none', connectionTimeoutMillis: 2_000 });
    const writer = new PostgresBatchWriter(pool, new PostgresIngestRepository());
    const failed: number[] = [];
    let handled = 0;
    try {
      await expect(
        writer.commitBatch(
          [1, 2, 3],
          () => ({}),
          () => handled++,
          (item) => failed.push(item),
        ),
      ).rejects.toBeInstanceOf(BatchAbortedError);
    } finally {
      await pool.end();
    }
    expect(failed).toEqual([]);
    expect(handled).toBe(0);
  });
});
