import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type BetterSqlite3 from 'better-sqlite3';
import type { ExpectedColumn } from '../expected-schema';
import { tableColumns } from '../sqlite-introspection';

/** Helpers for the persistence specs (no test-framework imports, so the build can include it harmlessly). */

export class TempDirs {
  private readonly created: string[] = [];

  async create(): Promise<string> {
    const dir = await mkdtemp(path.join(tmpdir(), 'meshcore-persistence-'));
    this.created.push(dir);
    return dir;
  }

  async removeAll(): Promise<void> {
    await Promise.all(this.created.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  }
}

/** A plain better-sqlite3 handle without any of our settings, for hand-building legacy databases. */
export function openPlain(dbPath: string): BetterSqlite3.Database {
  return new Database(dbPath);
}

export function columnsOf(db: BetterSqlite3.Database, table: string): ExpectedColumn[] {
  return tableColumns(db, table).map(({ name, type, notnull, dflt_value, pk }) => ({
    name,
    type,
    notnull: notnull ? 1 : 0,
    dflt_value,
    pk,
  }));
}

export interface SchemaObject {
  readonly type: string;
  readonly name: string;
  readonly tbl_name: string;
  readonly sql: string | null;
}

export function schemaObjects(db: BetterSqlite3.Database): SchemaObject[] {
  return db
    .prepare(`SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name`)
    .all() as SchemaObject[];
}

export function migrationMarkers(db: BetterSqlite3.Database): string[] {
  return (db.prepare(`SELECT name FROM _migrations ORDER BY name`).all() as { name: string }[]).map((r) => r.name);
}

export function asyncMigrationStatuses(db: BetterSqlite3.Database): Record<string, string> {
  const rows = db.prepare(`SELECT name, status FROM _async_migrations`).all() as { name: string; status: string }[];
  return Object.fromEntries(rows.map((row) => [row.name, row.status]));
}

export function scalar<T>(db: BetterSqlite3.Database, sql: string, ...params: unknown[]): T {
  return db
    .prepare(sql)
    .pluck()
    .get(...params) as T;
}
