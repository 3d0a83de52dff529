import type BetterSqlite3 from 'better-sqlite3';

/** One row of `PRAGMA table_info`, as better-sqlite3 returns it. */
export interface TableColumnInfo {
  readonly cid: number;
  readonly name: string;
  readonly type: string;
  readonly notnull: number;
  readonly dflt_value: string | null;
  readonly pk: number;
}

const PLAIN_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Table and column names are interpolated into PRAGMA/ALTER text (SQLite cannot bind them). They are our own
 * constants; refusing anything but plain identifiers keeps that safe without quoting, so the schema text stored
 * in sqlite_master looks like the one CoreScope's own ALTERs leave behind.
 */
export function plainIdentifier(name: string): string {
  if (!PLAIN_IDENTIFIER.test(name)) throw new Error(`not a plain SQL identifier: ${JSON.stringify(name)}`);
  return name;
}

export function tableColumns(db: BetterSqlite3.Database, table: string): TableColumnInfo[] {
  return db.pragma(`table_info(${plainIdentifier(table)})`) as TableColumnInfo[];
}

export function tableHasColumn(db: BetterSqlite3.Database, table: string, column: string): boolean {
  return tableColumns(db, table).some((info) => info.name === column);
}

export function tableExists(db: BetterSqlite3.Database, table: string): boolean {
  return db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(table) !== undefined;
}

export function indexExists(db: BetterSqlite3.Database, index: string): boolean {
  return db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?`).get(index) !== undefined;
}

/**
 * Probe-then-ALTER, the way CoreScope adds columns: SQLite has no `ADD COLUMN IF NOT EXISTS`.
 * Returns true when the column was added by this call.
 */
export function addColumnIfMissing(
  db: BetterSqlite3.Database,
  table: string,
  column: string,
  declaration: string,
): boolean {
  if (tableHasColumn(db, table, column)) return false;
  db.exec(`ALTER TABLE ${plainIdentifier(table)} ADD COLUMN ${plainIdentifier(column)} ${declaration}`);
  return true;
}

export function hasMigrationMarker(db: BetterSqlite3.Database, name: string): boolean {
  return db.prepare(`SELECT 1 FROM _migrations WHERE name = ?`).get(name) !== undefined;
}

export function recordMigrationMarker(db: BetterSqlite3.Database, name: string): void {
  db.prepare(`INSERT OR IGNORE INTO _migrations (name) VALUES (?)`).run(name);
}
