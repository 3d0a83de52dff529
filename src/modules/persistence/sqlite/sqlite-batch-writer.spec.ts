import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BatchAbortedError, isInfrastructureError, SqliteBatchWriter } from './sqlite-batch-writer';

describe('SqliteBatchWriter', () => {
  let dir: string;
  let db: Database.Database;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mqi-writer-'));
    db = new Database(join(dir, 'w.db'), { timeout: 50 });
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (v INTEGER NOT NULL UNIQUE)');
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('commits all items in one transaction and isolates a failing item in its savepoint', () => {
    const writer = new SqliteBatchWriter(db);
    const failed: number[] = [];
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    writer.commitBatch(
      [1, 2, 3, 4],
      (v) => {
        insert.run(v * 10);
        if (v === 3) insert.run(10); // UNIQUE violation after a successful insert: both roll back
      },
      (v) => failed.push(v),
    );
    expect(failed).toEqual([3]);
    expect(db.prepare('SELECT v FROM t ORDER BY v').pluck().all()).toEqual([10, 20, 40]);
  });

  it('aborts the whole batch when another process holds the write lock, and succeeds on retry', () => {
    const other = new Database(join(dir, 'w.db'));
    other.exec('BEGIN IMMEDIATE');
    const writer = new SqliteBatchWriter(db);
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    let caught: unknown;
    try {
      writer.commitBatch([1, 2], (v) => insert.run(v), () => undefined);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(BatchAbortedError);
    expect(isInfrastructureError((caught as BatchAbortedError).cause)).toBe(true);
    other.exec('ROLLBACK');
    other.close();
    writer.commitBatch([1, 2], (v) => insert.run(v), () => undefined);
    expect(db.prepare('SELECT count(*) FROM t').pluck().get()).toBe(2);
  });

  it('refuses nested transactions', () => {
    const writer = new SqliteBatchWriter(db);
    expect(() => writer.transaction(() => writer.transaction(() => 1))).toThrow(/nested/);
  });
});
