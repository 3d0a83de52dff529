/**
 * The CoreScope SQLite schema (ingestor-spec §4.2), written by hand.
 *
 * A fresh file gets every table in its final column order straight away. An existing CoreScope database keeps
 * its tables (`CREATE TABLE IF NOT EXISTS` is a no-op there) and `migrations.ts` appends whatever columns it is
 * missing; SQLite can only append, which is why old databases end up with the same columns in a different order.
 * Columns that migrations may append are listed in LATE_COLUMN_DECLARATIONS with exactly the declaration used in
 * the CREATE TABLE text below, so both paths declare every column identically.
 *
 * Nothing here is driven by TypeORM entities; `synchronize` stays off.
 */

/** `nodes` and `inactive_nodes` must keep identical columns: MoveStaleNodes copies with `SELECT *`. */
const NODE_COLUMNS = `
    public_key TEXT PRIMARY KEY,
    name TEXT,
    role TEXT,
    lat REAL,
    lon REAL,
    last_seen TEXT,
    first_seen TEXT,
    advert_count INTEGER DEFAULT 0,
    battery_mv INTEGER,
    temperature_c REAL,
    foreign_advert INTEGER DEFAULT 0,
    default_scope TEXT DEFAULT NULL,
    multibyte_sup INTEGER NOT NULL DEFAULT 0,
    multibyte_evidence TEXT`;

export const TABLE_DDL = {
  nodes: `CREATE TABLE IF NOT EXISTS nodes (${NODE_COLUMNS}
)`,

  inactive_nodes: `CREATE TABLE IF NOT EXISTS inactive_nodes (${NODE_COLUMNS}
)`,

  // TEXT primary key: the implicit rowid is what observations.observer_idx stores.
  observers: `CREATE TABLE IF NOT EXISTS observers (
    id TEXT PRIMARY KEY,
    name TEXT,
    iata TEXT,
    last_seen TEXT,
    first_seen TEXT,
    packet_count INTEGER DEFAULT 0,
    model TEXT,
    firmware TEXT,
    client_version TEXT,
    radio TEXT,
    battery_mv INTEGER,
    uptime_secs INTEGER,
    noise_floor REAL,
    inactive INTEGER DEFAULT 0,
    last_packet_at TEXT DEFAULT NULL,
    clock_skew_seconds INTEGER DEFAULT NULL,
    clock_skew_count_24h INTEGER DEFAULT 0,
    clock_last_naive_at TEXT DEFAULT NULL,
    can_relay INTEGER DEFAULT 1,
    can_relay_seen INTEGER DEFAULT 0
)`,

  // AUTOINCREMENT: the server tails `id > last loaded id`, so ids must never be reused.
  transmissions: `CREATE TABLE IF NOT EXISTS transmissions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    raw_hex TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    first_seen TEXT NOT NULL,
    route_type INTEGER,
    payload_type INTEGER,
    payload_version INTEGER,
    decoded_json TEXT,
    from_pubkey TEXT,
    last_seen INTEGER NOT NULL DEFAULT 0,
    created_at TEXT DEFAULT (datetime('now')),
    channel_hash TEXT DEFAULT NULL,
    scope_name TEXT DEFAULT NULL
)`,

  // v3 layout; created only when the table is missing (an existing one is migrated instead).
  observations: `CREATE TABLE IF NOT EXISTS observations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    transmission_id INTEGER NOT NULL REFERENCES transmissions(id),
    observer_idx INTEGER,
    direction TEXT,
    snr REAL,
    rssi REAL,
    score INTEGER,
    path_json TEXT,
    timestamp INTEGER NOT NULL,
    resolved_path TEXT,
    raw_hex TEXT
)`,

  observer_metrics: `CREATE TABLE IF NOT EXISTS observer_metrics (
    observer_id TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    noise_floor REAL,
    tx_air_secs INTEGER,
    rx_air_secs INTEGER,
    recv_errors INTEGER,
    battery_mv INTEGER,
    packets_sent INTEGER,
    packets_recv INTEGER,
    PRIMARY KEY (observer_id, timestamp)
)`,

  neighbor_edges: `CREATE TABLE IF NOT EXISTS neighbor_edges (
    node_a TEXT NOT NULL,
    node_b TEXT NOT NULL,
    count INTEGER DEFAULT 1,
    last_seen TEXT,
    PRIMARY KEY (node_a, node_b)
)`,

  dropped_packets: `CREATE TABLE IF NOT EXISTS dropped_packets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    hash TEXT,
    raw_hex TEXT,
    reason TEXT NOT NULL,
    observer_id TEXT,
    observer_name TEXT,
    node_pubkey TEXT,
    node_name TEXT,
    dropped_at DATETIME DEFAULT CURRENT_TIMESTAMP
)`,

  client_receptions: `CREATE TABLE IF NOT EXISTS client_receptions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    rx_pubkey TEXT NOT NULL,
    heard_key TEXT NOT NULL,
    heard_keylen INTEGER NOT NULL,
    rssi INTEGER,
    snr REAL,
    lat REAL NOT NULL,
    lon REAL NOT NULL,
    pos_acc_m REAL,
    rx_at TEXT NOT NULL,
    ingested_at TEXT NOT NULL,
    src TEXT NOT NULL,
    UNIQUE(rx_pubkey, heard_key, rx_at)
)`,

  client_observers: `CREATE TABLE IF NOT EXISTS client_observers (
    pubkey TEXT PRIMARY KEY,
    name TEXT,
    last_seen TEXT
)`,

  _migrations: `CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY)`,

  _async_migrations: `CREATE TABLE IF NOT EXISTS _async_migrations (
    name TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    started_at TEXT NOT NULL DEFAULT (datetime('now')),
    ended_at TEXT,
    error TEXT
)`,
} as const;

export type SchemaTableName = keyof typeof TABLE_DDL;

/**
 * Columns that older CoreScope databases may lack, with the declaration `ALTER TABLE … ADD COLUMN` uses.
 * Each declaration is the one in TABLE_DDL above (a spec test keeps the two in step).
 */
export const LATE_COLUMN_DECLARATIONS = {
  nodes: {
    battery_mv: 'INTEGER',
    temperature_c: 'REAL',
    foreign_advert: 'INTEGER DEFAULT 0',
    default_scope: 'TEXT DEFAULT NULL',
    multibyte_sup: 'INTEGER NOT NULL DEFAULT 0',
    multibyte_evidence: 'TEXT',
  },
  inactive_nodes: {
    battery_mv: 'INTEGER',
    temperature_c: 'REAL',
    foreign_advert: 'INTEGER DEFAULT 0',
    default_scope: 'TEXT DEFAULT NULL',
    multibyte_sup: 'INTEGER NOT NULL DEFAULT 0',
    multibyte_evidence: 'TEXT',
  },
  observers: {
    iata: 'TEXT',
    inactive: 'INTEGER DEFAULT 0',
    last_packet_at: 'TEXT DEFAULT NULL',
    clock_skew_seconds: 'INTEGER DEFAULT NULL',
    clock_skew_count_24h: 'INTEGER DEFAULT 0',
    clock_last_naive_at: 'TEXT DEFAULT NULL',
    can_relay: 'INTEGER DEFAULT 1',
    can_relay_seen: 'INTEGER DEFAULT 0',
  },
  transmissions: {
    from_pubkey: 'TEXT',
    last_seen: 'INTEGER NOT NULL DEFAULT 0',
    channel_hash: 'TEXT DEFAULT NULL',
    scope_name: 'TEXT DEFAULT NULL',
  },
  observations: {
    resolved_path: 'TEXT',
    raw_hex: 'TEXT',
  },
  observer_metrics: {
    packets_sent: 'INTEGER',
    packets_recv: 'INTEGER',
  },
} as const;

type LateColumnTable = keyof typeof LATE_COLUMN_DECLARATIONS;
export type LateColumn<T extends LateColumnTable> = keyof (typeof LATE_COLUMN_DECLARATIONS)[T] & string;

/** Every named index of §4.2, as `CREATE … IF NOT EXISTS` text. */
export const INDEX_DDL = {
  idx_nodes_last_seen: `CREATE INDEX IF NOT EXISTS idx_nodes_last_seen ON nodes(last_seen)`,
  idx_nodes_foreign_advert: `CREATE INDEX IF NOT EXISTS idx_nodes_foreign_advert ON nodes(foreign_advert) WHERE foreign_advert = 1`,
  idx_inactive_nodes_last_seen: `CREATE INDEX IF NOT EXISTS idx_inactive_nodes_last_seen ON inactive_nodes(last_seen)`,
  idx_observers_last_seen: `CREATE INDEX IF NOT EXISTS idx_observers_last_seen ON observers(last_seen)`,
  // Redundant with the UNIQUE constraint on hash, but CoreScope databases have it; kept for parity.
  idx_transmissions_hash: `CREATE INDEX IF NOT EXISTS idx_transmissions_hash ON transmissions(hash)`,
  idx_transmissions_first_seen: `CREATE INDEX IF NOT EXISTS idx_transmissions_first_seen ON transmissions(first_seen)`,
  idx_transmissions_payload_type: `CREATE INDEX IF NOT EXISTS idx_transmissions_payload_type ON transmissions(payload_type)`,
  idx_transmissions_from_pubkey: `CREATE INDEX IF NOT EXISTS idx_transmissions_from_pubkey ON transmissions(from_pubkey)`,
  idx_tx_channel_hash: `CREATE INDEX IF NOT EXISTS idx_tx_channel_hash ON transmissions(channel_hash) WHERE payload_type = 5`,
  idx_tx_scope_name: `CREATE INDEX IF NOT EXISTS idx_tx_scope_name ON transmissions(scope_name) WHERE scope_name IS NOT NULL`,
  // Partial: only the rows the last_seen backfill still has to visit.
  idx_tx_last_seen_zero: `CREATE INDEX IF NOT EXISTS idx_tx_last_seen_zero ON transmissions(id) WHERE last_seen = 0`,
  idx_observations_transmission_id: `CREATE INDEX IF NOT EXISTS idx_observations_transmission_id ON observations(transmission_id)`,
  idx_observations_observer_idx: `CREATE INDEX IF NOT EXISTS idx_observations_observer_idx ON observations(observer_idx)`,
  idx_observations_timestamp: `CREATE INDEX IF NOT EXISTS idx_observations_timestamp ON observations(timestamp)`,
  idx_observations_tx_ts: `CREATE INDEX IF NOT EXISTS idx_observations_tx_ts ON observations(transmission_id, timestamp)`,
  // Built by the async migration obs_observer_ts_idx_v1, never during open.
  idx_observations_observer_idx_timestamp: `CREATE INDEX IF NOT EXISTS idx_observations_observer_idx_timestamp ON observations(observer_idx, timestamp)`,
  // Conflict target of the observation upsert (`ON CONFLICT(transmission_id, observer_idx, COALESCE(path_json, ''))`).
  idx_observations_dedup: `CREATE UNIQUE INDEX IF NOT EXISTS idx_observations_dedup ON observations(transmission_id, observer_idx, COALESCE(path_json, ''))`,
  idx_observer_metrics_timestamp: `CREATE INDEX IF NOT EXISTS idx_observer_metrics_timestamp ON observer_metrics(timestamp)`,
  idx_dropped_observer: `CREATE INDEX IF NOT EXISTS idx_dropped_observer ON dropped_packets(observer_id)`,
  idx_dropped_node: `CREATE INDEX IF NOT EXISTS idx_dropped_node ON dropped_packets(node_pubkey)`,
  idx_client_recept_heard_geo: `CREATE INDEX IF NOT EXISTS idx_client_recept_heard_geo ON client_receptions(heard_key, heard_keylen, lat, lon)`,
  idx_client_recept_latlon: `CREATE INDEX IF NOT EXISTS idx_client_recept_latlon ON client_receptions(lat, lon)`,
  idx_client_recept_rxat: `CREATE INDEX IF NOT EXISTS idx_client_recept_rxat ON client_receptions(rx_at)`,
} as const;

export type SchemaIndexName = keyof typeof INDEX_DDL;

/** Only on v2-era databases whose observations still carry the text observer_id. */
export const LEGACY_OBSERVER_ID_INDEX_DDL = `CREATE INDEX IF NOT EXISTS idx_observations_observer_id ON observations(observer_id)`;

/** Indexes retired by CoreScope; dropped when found. */
export const RETIRED_INDEXES = ['idx_client_recept_rxpk', 'idx_tx_last_seen'] as const;

/**
 * Tables of the first DDL pass, in CoreScope's order. observer_metrics, dropped_packets and neighbor_edges are
 * created by their own migration steps (same final DDL), observations by its "only if missing" step.
 */
export const BASE_TABLES: readonly SchemaTableName[] = [
  'nodes',
  'observers',
  'inactive_nodes',
  'transmissions',
  'client_receptions',
  'client_observers',
];

/** Indexes of the first DDL pass: only on columns every CoreScope database generation already had. */
export const BASE_INDEXES: readonly SchemaIndexName[] = [
  'idx_nodes_last_seen',
  'idx_observers_last_seen',
  'idx_inactive_nodes_last_seen',
  'idx_transmissions_hash',
  'idx_transmissions_first_seen',
  'idx_transmissions_payload_type',
  'idx_client_recept_heard_geo',
  'idx_client_recept_latlon',
  'idx_client_recept_rxat',
];

/** Created together with a brand-new observations table. */
export const NEW_OBSERVATIONS_INDEXES: readonly SchemaIndexName[] = [
  'idx_observations_transmission_id',
  'idx_observations_observer_idx',
  'idx_observations_timestamp',
  'idx_observations_dedup',
];

export const PACKETS_VIEW_NAME = 'packets_v';

/** Dropped and recreated on every start. Inactive observers are hidden from the join, as in CoreScope. */
export const PACKETS_VIEW_DDL = `CREATE VIEW packets_v AS
  SELECT o.id,
         COALESCE(o.raw_hex, t.raw_hex) AS raw_hex,
         datetime(o.timestamp, 'unixepoch') AS timestamp,
         obs.id AS observer_id,
         obs.name AS observer_name,
         o.direction, o.snr, o.rssi, o.score,
         t.hash, t.route_type, t.payload_type, t.payload_version,
         o.path_json, t.decoded_json, t.created_at
    FROM observations o
    JOIN transmissions t ON t.id = o.transmission_id
    LEFT JOIN observers obs ON obs.rowid = o.observer_idx AND (obs.inactive IS NULL OR obs.inactive = 0)`;
