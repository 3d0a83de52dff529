import Database from 'better-sqlite3';
import type BetterSqlite3 from 'better-sqlite3';
import { Client, type Pool } from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { INDEX_DDL } from '../sqlite/schema';
import { migrateSchema, SchemaMigrationError } from '../sqlite/migrations';
import { tableColumns } from '../sqlite/sqlite-introspection';
import { openPostgresPool } from './postgres-connection';
import { migratePostgres, POSTGRES_MIGRATIONS } from './postgres-migrations';
import { POSTGRES_ONLY_COLUMNS, SQLITE_ONLY_INDEXES, SQLITE_ONLY_TABLES } from './postgres-schema';
import { createTestDatabase, type TestDatabase } from './testing/postgres-test-database';

/**
 * The PostgreSQL schema against the SQLite one the project's own migrations build: every table, column (name,
 * order, type, NOT NULL, default) and unique key must have its counterpart, so a column added to schema.ts and
 * forgotten here fails. Then: applied once, safe when replicas migrate at the same moment, all-or-nothing.
 */

interface ColumnShape {
  readonly name: string;
  readonly type: string;
  readonly notNull: boolean;
  /** null, a literal, or 'now' for the `datetime('now')` text default. */
  readonly defaultValue: string | null;
  /** Surrogate id: AUTOINCREMENT in SQLite, identity in PostgreSQL. */
  readonly generated: boolean;
}

const POSTGRES_TYPE_OF: Readonly<Record<string, string>> = {
  INTEGER: 'bigint',
  REAL: 'double precision',
  TEXT: 'text',
  // dropped_at: what SQLite stores there is CURRENT_TIMESTAMP's text.
  DATETIME: 'text',
};

function sqliteReference(): BetterSqlite3.Database {
  const db = new Database(':memory:');
  migrateSchema(db);
  return db;
}

function sqliteDataTables(db: BetterSqlite3.Database): string[] {
  const names = db
    .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
    .pluck()
    .all() as string[];
  return names.filter((name) => !(name in SQLITE_ONLY_TABLES));
}

/** In PostgreSQL terms: a primary key is NOT NULL there (SQLite lets a TEXT one hold NULL, a legacy quirk). */
function sqliteColumnShapes(db: BetterSqlite3.Database, table: string): ColumnShape[] {
  const defaultOf = (dflt: string | null) => {
    if (dflt === null || dflt === 'NULL') return null;
    return dflt === "datetime('now')" || dflt === 'CURRENT_TIMESTAMP' ? 'now' : dflt;
  };
  return tableColumns(db, table).map((column) => ({
    name: column.name,
    type: POSTGRES_TYPE_OF[column.type] ?? `unmapped ${column.type}`,
    notNull: column.notnull === 1 || column.pk > 0,
    defaultValue: defaultOf(column.dflt_value),
    generated: column.pk === 1 && column.type === 'INTEGER',
  }));
}

interface PostgresColumnRow {
  column_name: string;
  data_type: string;
  is_nullable: 'YES' | 'NO';
  column_default: string | null;
  is_identity: 'YES' | 'NO';
  collation_name: string | null;
}

async function postgresColumns(pool: Pool, table: string): Promise<PostgresColumnRow[]> {
  const { rows } = await pool.query<PostgresColumnRow>(
    `SELECT column_name, data_type, is_nullable, column_default, is_identity, collation_name
       FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position`,
    [table],
  );
  return rows;
}

function postgresColumnShapes(rows: readonly PostgresColumnRow[], table: string): ColumnShape[] {
  const onlyHere = new Set(POSTGRES_ONLY_COLUMNS[table as keyof typeof POSTGRES_ONLY_COLUMNS] ?? []);
  return rows
    .filter((row) => !onlyHere.has(row.column_name))
    .map((row) => ({
      name: row.column_name,
      type: row.data_type,
      notNull: row.is_nullable === 'NO',
      defaultValue: row.column_default?.includes('statement_timestamp()') ? 'now' : row.column_default,
      generated: row.is_identity === 'YES',
    }));
}

/** An index key list in one spelling for both engines: lower case, no casts or quoting, single spaces. */
function normalizeKey(text: string): string {
  return text.replace(/::\w+/g, '').replaceAll('"', '').replace(/\s+/g, ' ').trim().toLowerCase();
}

/** Primary keys, UNIQUE constraints and unique indexes, each as its normalised key list. */
function sqliteUniqueKeys(db: BetterSqlite3.Database, table: string): string[] {
  const primaryKey = tableColumns(db, table)
    .filter((column) => column.pk > 0)
    .sort((a, b) => a.pk - b.pk)
    .map((column) => column.name);
  const keys = primaryKey.length > 0 ? [primaryKey.join(', ')] : [];
  const indexes = db.pragma(`index_list(${table})`) as { name: string; unique: number; origin: string }[];
  for (const index of indexes.filter((entry) => entry.unique === 1 && entry.origin !== 'pk')) {
    if (index.origin === 'u') {
      const columns = db.pragma(`index_info(${index.name})`) as { name: string }[];
      keys.push(columns.map((column) => column.name).join(', '));
    } else {
      // An expression index: its key list is only in the CREATE text.
      const sql = db.prepare(`SELECT sql FROM sqlite_master WHERE name = ?`).pluck().get(index.name) as string;
      keys.push(/\bON\s+\w+\s*\((.*)\)\s*$/s.exec(sql)?.[1] ?? sql);
    }
  }
  return keys.map(normalizeKey).sort();
}

async function postgresIndexes(pool: Pool): Promise<{ name: string; table: string; unique: boolean; def: string }[]> {
  const { rows } = await pool.query<{ name: string; table: string; unique: boolean; def: string }>(
    `SELECT c.relname AS name, t.relname AS table, i.indisunique AS unique, pg_get_indexdef(i.indexrelid) AS def
       FROM pg_index i
       JOIN pg_class c ON c.oid = i.indexrelid
       JOIN pg_class t ON t.oid = i.indrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE n.nspname = 'public'
      ORDER BY c.relname`,
  );
  return rows;
}

/** `CREATE … INDEX name ON public.t USING btree (keys) WHERE (cond)` → `keys` (and ` where cond`). */
function postgresIndexKey(def: string): string {
  const match = /USING \w+ \((.*?)\)(?: WHERE \((.*)\))?$/.exec(def);
  if (!match) return def;
  return normalizeKey(match[2] ? `${match[1]} where ${match[2]}` : match[1]);
}

async function postgresUniqueKeys(pool: Pool, table: string): Promise<string[]> {
  const onlyHere = new Set(POSTGRES_ONLY_COLUMNS[table as keyof typeof POSTGRES_ONLY_COLUMNS] ?? []);
  return (await postgresIndexes(pool))
    .filter((index) => index.table === table && index.unique)
    .map((index) => postgresIndexKey(index.def))
    .filter((key) => !onlyHere.has(key))
    .sort();
}

async function postgresTables(pool: Pool): Promise<string[]> {
  const { rows } = await pool.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables
      WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`,
  );
  return rows.map((row) => row.table_name);
}

describe('migratePostgres', () => {
  let database: TestDatabase;
  let pool: Pool;
  let sqlite: BetterSqlite3.Database;

  beforeAll(async () => {
    database = await createTestDatabase();
    pool = await openPostgresPool(database.url);
    sqlite = sqliteReference();
  });

  afterAll(async () => {
    sqlite?.close();
    await pool?.end();
    await database?.drop();
  });

  // One database per file; each test starts from an empty schema.
  beforeEach(async () => {
    await pool.query(`DROP SCHEMA public CASCADE; CREATE SCHEMA public`);
  });

  describe('on a fresh database', () => {
    beforeEach(async () => {
      await migratePostgres(pool);
    });

    it('has every data table of the SQLite schema, plus its own _migrations', async () => {
      expect(await postgresTables(pool)).toEqual([...sqliteDataTables(sqlite), '_migrations'].sort());
    });

    it('each table: the SQLite columns in order, with their types, NOT NULL, defaults and generated ids', async () => {
      for (const table of sqliteDataTables(sqlite)) {
        const rows = await postgresColumns(pool, table);
        expect(postgresColumnShapes(rows, table), table).toEqual(sqliteColumnShapes(sqlite, table));
      }
    });

    it('the PostgreSQL-only columns are exactly the listed ones: observers.rowid, a unique identity', async () => {
      const observers = await postgresColumns(pool, 'observers');
      expect(observers.find((row) => row.column_name === 'rowid')).toMatchObject({
        data_type: 'bigint',
        is_nullable: 'NO',
        is_identity: 'YES',
      });
      expect(await postgresUniqueKeys(pool, 'observers')).toEqual(['id']);
      expect((await postgresIndexes(pool)).some((index) => index.unique && index.def.endsWith('(rowid)'))).toBe(true);
    });

    it('every text column compares bytes, like SQLite (COLLATE "C")', async () => {
      for (const table of sqliteDataTables(sqlite)) {
        for (const row of await postgresColumns(pool, table)) {
          if (row.data_type === 'text') expect(row.collation_name, `${table}.${row.column_name}`).toBe('C');
        }
      }
    });

    it('each table: the same primary keys, UNIQUE constraints and unique indexes', async () => {
      for (const table of sqliteDataTables(sqlite)) {
        expect(await postgresUniqueKeys(pool, table), table).toEqual(sqliteUniqueKeys(sqlite, table));
      }
    });

    it('has the named indexes of INDEX_DDL less the listed SQLite-only ones, with the same keys', async () => {
      const expected = Object.entries(INDEX_DDL)
        .filter(([name]) => !(name in SQLITE_ONLY_INDEXES))
        .map(([name, ddl]) => ({
          name,
          key: normalizeKey(/\((.*)\)(?: WHERE (.*))?$/.exec(ddl)?.slice(1).filter(Boolean).join(' where ') ?? ddl),
        }));
      const actual = (await postgresIndexes(pool))
        .filter((index) => index.name.startsWith('idx_'))
        .map((index) => ({ name: index.name, key: postgresIndexKey(index.def) }));
      const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
      expect(actual.sort(byName)).toEqual(expected.sort(byName));
    });

    it('fills the datetime defaults with SQLite text: UTC `YYYY-MM-DD HH:MM:SS`', async () => {
      const { rows } = await pool.query<{ dropped_at: string }>(
        `INSERT INTO dropped_packets (reason) VALUES ('test') RETURNING dropped_at`,
      );
      const sqliteNow = sqlite.prepare(`SELECT CURRENT_TIMESTAMP`).pluck().get() as string;
      expect(rows[0].dropped_at).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
      expect(Math.abs(Date.parse(`${rows[0].dropped_at}Z`) - Date.parse(`${sqliteNow}Z`))).toBeLessThan(5_000);
    });

    it("the observation upsert's conflict target works, with NULLs distinct as in SQLite", async () => {
      await pool.query(`INSERT INTO transmissions (raw_hex, hash, first_seen) VALUES ('00', 'h1', 't')`);
      await pool.query(`INSERT INTO observers (id) VALUES ('obs')`);
      const upsert = `INSERT INTO observations (transmission_id, observer_idx, path_json, snr, timestamp)
           VALUES ((SELECT id FROM transmissions), $1, $2, $3, 1)
           ON CONFLICT (transmission_id, observer_idx, COALESCE(path_json, '')) DO UPDATE SET snr = excluded.snr`;
      const rowid = (await pool.query(`SELECT rowid FROM observers`)).rows[0].rowid as string;
      await pool.query(upsert, [rowid, null, 1]);
      await pool.query(upsert, [rowid, null, 2]);
      await pool.query(upsert, [rowid, '["aa"]', 3]);
      await pool.query(upsert, [null, null, 4]);
      await pool.query(upsert, [null, null, 5]);
      const { rows } = await pool.query(
        `SELECT observer_idx IS NULL AS anonymous, path_json, snr FROM observations ORDER BY snr`,
      );
      expect(rows).toEqual([
        { anonymous: false, path_json: null, snr: 2 },
        { anonymous: false, path_json: '["aa"]', snr: 3 },
        { anonymous: true, path_json: null, snr: 4 },
        { anonymous: true, path_json: null, snr: 5 },
      ]);
    });

    it('records every step in _migrations, and a second run applies nothing', async () => {
      const names = POSTGRES_MIGRATIONS.map((migration) => migration.name);
      expect((await pool.query(`SELECT name FROM _migrations ORDER BY name`)).rows.map((row) => row.name)).toEqual(
        [...names].sort(),
      );
      expect(await migratePostgres(pool)).toEqual({ applied: [] });
    });
  });

  it('reports what it applied, and logs each step', async () => {
    const lines: string[] = [];
    const report = await migratePostgres(pool, (line) => lines.push(line));
    expect(report.applied).toEqual(POSTGRES_MIGRATIONS.map((migration) => migration.name));
    expect(lines).toEqual(POSTGRES_MIGRATIONS.map((m) => `[migration] ${m.name}: ${m.summary}`));
  });

  it('replicas migrating at the same moment all succeed and apply each step once', async () => {
    const pools = await Promise.all([1, 2].map(() => openPostgresPool(database.url)));
    const client = new Client({ connectionString: database.url });
    await client.connect();
    try {
      const reports = await Promise.all([...pools, pool, client].map((target) => migratePostgres(target)));
      expect(reports.flatMap((report) => report.applied)).toEqual(POSTGRES_MIGRATIONS.map((m) => m.name));
      expect(Number((await pool.query(`SELECT count(*) FROM _migrations`)).rows[0].count)).toBe(
        POSTGRES_MIGRATIONS.length,
      );
    } finally {
      await client.end();
      await Promise.all(pools.map((other) => other.end()));
    }
  });

  it('a failing step leaves nothing behind and names itself', async () => {
    // A table of ours that is already there belongs to something else: not adopted.
    await pool.query(`CREATE TABLE observations (something_else text)`);
    const failure = migratePostgres(pool);
    await expect(failure).rejects.toThrow(SchemaMigrationError);
    await expect(failure).rejects.toThrow(/^applying schema: schema_v3: relation "observations" already exists$/);
    expect(await postgresTables(pool)).toEqual(['_migrations', 'observations']);
    expect((await pool.query(`SELECT count(*) FROM _migrations`)).rows[0].count).toBe('0');
    // The pool still works: the failed connection was discarded, not returned mid-transaction.
    expect((await pool.query(`SELECT 1 AS ok`)).rows).toEqual([{ ok: 1 }]);
  });
});
