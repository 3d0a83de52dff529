/**
 * The §4.2 schema as data, in the shape SQLite reports it (`PRAGMA table_info`, `sqlite_master`). Kept apart
 * from the DDL in schema.ts on purpose: the specs compare what SQLite made of that DDL (and of the migrations)
 * against this independent description, so a slip in either shows up.
 */

export interface ExpectedColumn {
  readonly name: string;
  /** Declared type, as table_info reports it. */
  readonly type: string;
  readonly notnull: 0 | 1;
  /** Default expression text as table_info reports it (`'0'`, `'NULL'`, `"datetime('now')"`), or null. */
  readonly dflt_value: string | null;
  /** 1-based position in the primary key, 0 when not part of it. */
  readonly pk: number;
}

export interface ExpectedTable {
  readonly name: string;
  /** In declaration order. */
  readonly columns: readonly ExpectedColumn[];
  /** Column lists of UNIQUE constraints (SQLite backs each with an automatic index). */
  readonly uniqueConstraints?: readonly (readonly string[])[];
  readonly autoincrement?: boolean;
}

export interface ExpectedIndex {
  readonly name: string;
  readonly table: string;
  readonly unique: boolean;
  /** The index expression list, as written between the parentheses. */
  readonly on: string;
  /** Partial-index condition, when partial. */
  readonly where?: string;
  /** Built by an async migration after open (present once `whenIdle()` resolves). */
  readonly builtAsync?: boolean;
}

interface ColumnOptions {
  readonly notnull?: boolean;
  readonly dflt?: string;
  readonly pk?: number;
}

function column(name: string, type: string, options: ColumnOptions = {}): ExpectedColumn {
  return {
    name,
    type,
    notnull: options.notnull ? 1 : 0,
    dflt_value: options.dflt ?? null,
    pk: options.pk ?? 0,
  };
}

const NODE_COLUMNS: readonly ExpectedColumn[] = [
  column('public_key', 'TEXT', { pk: 1 }),
  column('name', 'TEXT'),
  column('role', 'TEXT'),
  column('lat', 'REAL'),
  column('lon', 'REAL'),
  column('last_seen', 'TEXT'),
  column('first_seen', 'TEXT'),
  column('advert_count', 'INTEGER', { dflt: '0' }),
  column('battery_mv', 'INTEGER'),
  column('temperature_c', 'REAL'),
  column('foreign_advert', 'INTEGER', { dflt: '0' }),
  column('default_scope', 'TEXT', { dflt: 'NULL' }),
  column('multibyte_sup', 'INTEGER', { notnull: true, dflt: '0' }),
  column('multibyte_evidence', 'TEXT'),
];

export const EXPECTED_TABLES: readonly ExpectedTable[] = [
  { name: 'nodes', columns: NODE_COLUMNS },
  { name: 'inactive_nodes', columns: NODE_COLUMNS },
  {
    name: 'observers',
    columns: [
      column('id', 'TEXT', { pk: 1 }),
      column('name', 'TEXT'),
      column('iata', 'TEXT'),
      column('last_seen', 'TEXT'),
      column('first_seen', 'TEXT'),
      column('packet_count', 'INTEGER', { dflt: '0' }),
      column('model', 'TEXT'),
      column('firmware', 'TEXT'),
      column('client_version', 'TEXT'),
      column('radio', 'TEXT'),
      column('battery_mv', 'INTEGER'),
      column('uptime_secs', 'INTEGER'),
      column('noise_floor', 'REAL'),
      column('inactive', 'INTEGER', { dflt: '0' }),
      column('last_packet_at', 'TEXT', { dflt: 'NULL' }),
      column('clock_skew_seconds', 'INTEGER', { dflt: 'NULL' }),
      column('clock_skew_count_24h', 'INTEGER', { dflt: '0' }),
      column('clock_last_naive_at', 'TEXT', { dflt: 'NULL' }),
      column('can_relay', 'INTEGER', { dflt: '1' }),
      column('can_relay_seen', 'INTEGER', { dflt: '0' }),
    ],
  },
  {
    name: 'transmissions',
    autoincrement: true,
    uniqueConstraints: [['hash']],
    columns: [
      column('id', 'INTEGER', { pk: 1 }),
      column('raw_hex', 'TEXT', { notnull: true }),
      column('hash', 'TEXT', { notnull: true }),
      column('first_seen', 'TEXT', { notnull: true }),
      column('route_type', 'INTEGER'),
      column('payload_type', 'INTEGER'),
      column('payload_version', 'INTEGER'),
      column('decoded_json', 'TEXT'),
      column('from_pubkey', 'TEXT'),
      column('last_seen', 'INTEGER', { notnull: true, dflt: '0' }),
      column('created_at', 'TEXT', { dflt: "datetime('now')" }),
      column('channel_hash', 'TEXT', { dflt: 'NULL' }),
      column('scope_name', 'TEXT', { dflt: 'NULL' }),
    ],
  },
  {
    name: 'observations',
    autoincrement: true,
    columns: [
      column('id', 'INTEGER', { pk: 1 }),
      column('transmission_id', 'INTEGER', { notnull: true }),
      column('observer_idx', 'INTEGER'),
      column('direction', 'TEXT'),
      column('snr', 'REAL'),
      column('rssi', 'REAL'),
      column('score', 'INTEGER'),
      column('path_json', 'TEXT'),
      column('timestamp', 'INTEGER', { notnull: true }),
      column('resolved_path', 'TEXT'),
      column('raw_hex', 'TEXT'),
    ],
  },
  {
    name: 'observer_metrics',
    columns: [
      column('observer_id', 'TEXT', { notnull: true, pk: 1 }),
      column('timestamp', 'TEXT', { notnull: true, pk: 2 }),
      column('noise_floor', 'REAL'),
      column('tx_air_secs', 'INTEGER'),
      column('rx_air_secs', 'INTEGER'),
      column('recv_errors', 'INTEGER'),
      column('battery_mv', 'INTEGER'),
      column('packets_sent', 'INTEGER'),
      column('packets_recv', 'INTEGER'),
    ],
  },
  {
    name: 'neighbor_edges',
    columns: [
      column('node_a', 'TEXT', { notnull: true, pk: 1 }),
      column('node_b', 'TEXT', { notnull: true, pk: 2 }),
      column('count', 'INTEGER', { dflt: '1' }),
      column('last_seen', 'TEXT'),
    ],
  },
  {
    name: 'dropped_packets',
    autoincrement: true,
    columns: [
      column('id', 'INTEGER', { pk: 1 }),
      column('hash', 'TEXT'),
      column('raw_hex', 'TEXT'),
      column('reason', 'TEXT', { notnull: true }),
      column('observer_id', 'TEXT'),
      column('observer_name', 'TEXT'),
      column('node_pubkey', 'TEXT'),
      column('node_name', 'TEXT'),
      column('dropped_at', 'DATETIME', { dflt: 'CURRENT_TIMESTAMP' }),
    ],
  },
  {
    name: 'client_receptions',
    autoincrement: true,
    uniqueConstraints: [['rx_pubkey', 'heard_key', 'rx_at']],
    columns: [
      column('id', 'INTEGER', { pk: 1 }),
      column('rx_pubkey', 'TEXT', { notnull: true }),
      column('heard_key', 'TEXT', { notnull: true }),
      column('heard_keylen', 'INTEGER', { notnull: true }),
      column('rssi', 'INTEGER'),
      column('snr', 'REAL'),
      column('lat', 'REAL', { notnull: true }),
      column('lon', 'REAL', { notnull: true }),
      column('pos_acc_m', 'REAL'),
      column('rx_at', 'TEXT', { notnull: true }),
      column('ingested_at', 'TEXT', { notnull: true }),
      column('src', 'TEXT', { notnull: true }),
    ],
  },
  {
    name: 'client_observers',
    columns: [column('pubkey', 'TEXT', { pk: 1 }), column('name', 'TEXT'), column('last_seen', 'TEXT')],
  },
  { name: '_migrations', columns: [column('name', 'TEXT', { pk: 1 })] },
  {
    name: '_async_migrations',
    columns: [
      column('name', 'TEXT', { pk: 1 }),
      column('status', 'TEXT', { notnull: true }),
      column('started_at', 'TEXT', { notnull: true, dflt: "datetime('now')" }),
      column('ended_at', 'TEXT'),
      column('error', 'TEXT'),
    ],
  },
];

export const EXPECTED_INDEXES: readonly ExpectedIndex[] = [
  { name: 'idx_nodes_last_seen', table: 'nodes', unique: false, on: 'last_seen' },
  { name: 'idx_nodes_foreign_advert', table: 'nodes', unique: false, on: 'foreign_advert', where: 'foreign_advert = 1' },
  { name: 'idx_inactive_nodes_last_seen', table: 'inactive_nodes', unique: false, on: 'last_seen' },
  { name: 'idx_observers_last_seen', table: 'observers', unique: false, on: 'last_seen' },
  { name: 'idx_transmissions_hash', table: 'transmissions', unique: false, on: 'hash' },
  { name: 'idx_transmissions_first_seen', table: 'transmissions', unique: false, on: 'first_seen' },
  { name: 'idx_transmissions_payload_type', table: 'transmissions', unique: false, on: 'payload_type' },
  { name: 'idx_transmissions_from_pubkey', table: 'transmissions', unique: false, on: 'from_pubkey' },
  { name: 'idx_tx_channel_hash', table: 'transmissions', unique: false, on: 'channel_hash', where: 'payload_type = 5' },
  {
    name: 'idx_tx_scope_name',
    table: 'transmissions',
    unique: false,
    on: 'scope_name',
    where: 'scope_name IS NOT NULL',
  },
  { name: 'idx_tx_last_seen_zero', table: 'transmissions', unique: false, on: 'id', where: 'last_seen = 0' },
  { name: 'idx_observations_transmission_id', table: 'observations', unique: false, on: 'transmission_id' },
  { name: 'idx_observations_observer_idx', table: 'observations', unique: false, on: 'observer_idx' },
  { name: 'idx_observations_timestamp', table: 'observations', unique: false, on: 'timestamp' },
  { name: 'idx_observations_tx_ts', table: 'observations', unique: false, on: 'transmission_id, timestamp' },
  {
    name: 'idx_observations_observer_idx_timestamp',
    table: 'observations',
    unique: false,
    on: 'observer_idx, timestamp',
    builtAsync: true,
  },
  {
    name: 'idx_observations_dedup',
    table: 'observations',
    unique: true,
    on: "transmission_id, observer_idx, COALESCE(path_json, '')",
  },
  { name: 'idx_observer_metrics_timestamp', table: 'observer_metrics', unique: false, on: 'timestamp' },
  { name: 'idx_dropped_observer', table: 'dropped_packets', unique: false, on: 'observer_id' },
  { name: 'idx_dropped_node', table: 'dropped_packets', unique: false, on: 'node_pubkey' },
  {
    name: 'idx_client_recept_heard_geo',
    table: 'client_receptions',
    unique: false,
    on: 'heard_key, heard_keylen, lat, lon',
  },
  { name: 'idx_client_recept_latlon', table: 'client_receptions', unique: false, on: 'lat, lon' },
  { name: 'idx_client_recept_rxat', table: 'client_receptions', unique: false, on: 'rx_at' },
];

/** Indexes that must not exist after open (retired by CoreScope). */
export const ABSENT_INDEXES: readonly string[] = ['idx_client_recept_rxpk', 'idx_tx_last_seen'];

export const EXPECTED_VIEWS = [
  {
    name: 'packets_v',
    columns: [
      'id',
      'raw_hex',
      'timestamp',
      'observer_id',
      'observer_name',
      'direction',
      'snr',
      'rssi',
      'score',
      'hash',
      'route_type',
      'payload_type',
      'payload_version',
      'path_json',
      'decoded_json',
      'created_at',
    ],
  },
] as const;

/** `_migrations` rows of a database created from scratch, once the background jobs are idle. */
export const EXPECTED_FRESH_MIGRATION_MARKERS: readonly string[] = [
  'advert_count_unique_v1',
  'noise_floor_real_v1',
  'node_telemetry_v1',
  'obs_timestamp_index_v1',
  'observer_metrics_v1',
  'observer_metrics_ts_idx',
  'observers_inactive_v1',
  'observer_metrics_packets_v1',
  'channel_hash_v1',
  'dropped_packets_v1',
  'observers_last_packet_at_v1',
  'observers_clock_naive_v1',
  'cleanup_legacy_null_hash_ts',
  'foreign_advert_v1',
  'from_pubkey_v1',
  'channel_hash_casing_v1',
  'scope_name_v1',
  'nodes_default_scope_v1',
  'observations_raw_hex_v1',
  'obs_observer_ts_idx_v1',
  'backfill_path_json_from_raw_hex_v1',
];

/** `_async_migrations` rows (all `done`) of a database created from scratch, once idle. */
export const EXPECTED_FRESH_ASYNC_MIGRATIONS: readonly string[] = ['obs_observer_ts_idx_v1', 'tx_last_seen_backfill_v1'];

/** The statement sqlite_master should hold for an expected index. */
export function expectedIndexSql(index: ExpectedIndex): string {
  const kind = index.unique ? 'CREATE UNIQUE INDEX' : 'CREATE INDEX';
  const where = index.where ? ` WHERE ${index.where}` : '';
  return `${kind} ${index.name} ON ${index.table}(${index.on})${where}`;
}

/** Whitespace-insensitive form of a statement, for comparing DDL text. */
export function normalizeSql(sql: string): string {
  return sql
    .replace(/\s+/g, ' ')
    .replace(/\s*\(\s*/g, '(')
    .replace(/\s*\)\s*/g, ')')
    .replace(/\s*,\s*/g, ', ')
    .replace(/\)(?=[A-Za-z])/g, ') ')
    .trim();
}
