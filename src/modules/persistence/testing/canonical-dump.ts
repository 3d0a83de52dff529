import type BetterSqlite3 from 'better-sqlite3';
import type { FieldDef } from 'pg';
import type { PostgresQueryable } from '../postgres/postgres-connection';
import { POSTGRES_ONLY_COLUMNS, POSTGRES_TABLES, type PostgresTableName } from '../postgres/postgres-schema';

/**
 * Every data table of a database as engine-neutral JSON, so a SQLite and a PostgreSQL database that hold the
 * same rows dump equal (no test-framework imports, so the build can include it harmlessly).
 *
 * - Surrogate ids are left out: they depend on insertion order and on the engine.
 * - References through them become natural keys: an observation names its transmission by hash
 *   (`transmission_hash`) and its observer by id (`observer_id`, null when observer_idx is null or dangles).
 * - Values are normalised: pg returns bigint as a string, SQLite may return bigint under safeIntegers.
 * - Columns that exist in one engine only (POSTGRES_ONLY_COLUMNS) are left out, by name; any other difference
 *   in columns shows up in the dump.
 * - Wall-clock defaults (WALL_CLOCK_COLUMNS) are reduced to their shape unless asked to keep them.
 * - Keys of each row are sorted, rows are sorted by their JSON text.
 */

export type CanonicalValue = string | number | null;
export type CanonicalRow = Readonly<Record<string, CanonicalValue>>;
/** Keyed by table, every table of POSTGRES_TABLES present. */
export type CanonicalDump = Readonly<Record<string, readonly CanonicalRow[]>>;

export interface CanonicalDumpOptions {
  /**
   * Keep the values of WALL_CLOCK_COLUMNS as stored. By default they are replaced by their shape
   * (`YYYY-MM-DD HH:MM:SS`): two databases fed the same messages fill them at different moments. A value of
   * another shape is kept either way, so a wrong format still shows.
   */
  readonly keepWallClock?: boolean;
}

/** Columns filled by a `datetime('now')` default, not by the ingest. */
export const WALL_CLOCK_COLUMNS: Readonly<Partial<Record<PostgresTableName, readonly string[]>>> = {
  transmissions: ['created_at'],
  dropped_packets: ['dropped_at'],
};

const WALL_CLOCK_SHAPE = 'YYYY-MM-DD HH:MM:SS';
const WALL_CLOCK_VALUE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

/** Surrogate ids, and the columns that reference them (replaced by natural keys in the SELECT). */
const OMITTED_COLUMNS: Readonly<Partial<Record<PostgresTableName, readonly string[]>>> = {
  transmissions: ['id'],
  observations: ['id', 'transmission_id', 'observer_idx'],
  dropped_packets: ['id'],
  client_receptions: ['id'],
};

/** The same text on both engines: observers.rowid is SQLite's implicit rowid and PostgreSQL's column. */
const SELECT_OBSERVATIONS = `SELECT o.*, t.hash AS transmission_hash, obs.id AS observer_id
    FROM observations o
    LEFT JOIN transmissions t ON t.id = o.transmission_id
    LEFT JOIN observers obs ON obs.rowid = o.observer_idx`;

function selectAll(table: PostgresTableName): string {
  return table === 'observations' ? SELECT_OBSERVATIONS : `SELECT * FROM ${table}`;
}

export function dumpSqlite(db: BetterSqlite3.Database, options: CanonicalDumpOptions = {}): CanonicalDump {
  return buildDump((table) => db.prepare(selectAll(table)).all() as Record<string, unknown>[], options);
}

export async function dumpPostgres(
  queryable: PostgresQueryable,
  options: CanonicalDumpOptions = {},
): Promise<CanonicalDump> {
  const rowsByTable = new Map<PostgresTableName, Record<string, unknown>[]>();
  for (const table of POSTGRES_TABLES) {
    const result = await queryable.query(selectAll(table));
    rowsByTable.set(table, result.rows.map((row: Record<string, unknown>) => withBigintsAsNumbers(row, result.fields)));
  }
  return buildDump((table) => rowsByTable.get(table) ?? [], options);
}

const PG_INT8_OID = 20;

/** pg hands int8 over as a string (it may exceed 2^53); every value here fits a double. */
function withBigintsAsNumbers(row: Record<string, unknown>, fields: readonly FieldDef[]): Record<string, unknown> {
  const out = { ...row };
  for (const field of fields) {
    const value = out[field.name];
    if (field.dataTypeID === PG_INT8_OID && typeof value === 'string') out[field.name] = exactNumber(BigInt(value));
  }
  return out;
}

function buildDump(
  rowsOf: (table: PostgresTableName) => Record<string, unknown>[],
  options: CanonicalDumpOptions,
): CanonicalDump {
  const dump: Record<string, CanonicalRow[]> = {};
  for (const table of POSTGRES_TABLES) {
    const leftOut = new Set([...(OMITTED_COLUMNS[table] ?? []), ...(POSTGRES_ONLY_COLUMNS[table] ?? [])]);
    const wallClock = new Set(options.keepWallClock ? [] : (WALL_CLOCK_COLUMNS[table] ?? []));
    const rows = rowsOf(table).map((row) => canonicalRow(table, row, leftOut, wallClock));
    dump[table] = sortedByJson(rows);
  }
  return dump;
}

function canonicalRow(
  table: string,
  row: Record<string, unknown>,
  leftOut: ReadonlySet<string>,
  wallClock: ReadonlySet<string>,
): CanonicalRow {
  const out: Record<string, CanonicalValue> = {};
  for (const column of Object.keys(row).sort()) {
    if (leftOut.has(column)) continue;
    const value = canonicalValue(`${table}.${column}`, row[column]);
    const masked = wallClock.has(column) && typeof value === 'string' && WALL_CLOCK_VALUE.test(value);
    out[column] = masked ? WALL_CLOCK_SHAPE : value;
  }
  return out;
}

function canonicalValue(where: string, value: unknown): CanonicalValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  // -0 and 0 are one value to both engines, not to a deep-equal.
  if (typeof value === 'number') return Object.is(value, -0) ? 0 : value;
  if (typeof value === 'bigint') return exactNumber(value);
  throw new Error(`${where}: no canonical form for a ${typeof value} value`);
}

function exactNumber(value: bigint): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number)) throw new Error(`integer ${value} does not fit a double exactly`);
  return number;
}

function sortedByJson(rows: CanonicalRow[]): CanonicalRow[] {
  return rows
    .map((row) => ({ row, key: JSON.stringify(row) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map(({ row }) => row);
}
