import type BetterSqlite3 from 'better-sqlite3';
import {
  BASE_INDEXES,
  BASE_TABLES,
  INDEX_DDL,
  LATE_COLUMN_DECLARATIONS,
  LEGACY_OBSERVER_ID_INDEX_DDL,
  NEW_OBSERVATIONS_INDEXES,
  PACKETS_VIEW_DDL,
  PACKETS_VIEW_NAME,
  RETIRED_INDEXES,
  TABLE_DDL,
  type LateColumn,
  type SchemaIndexName,
} from './schema';
import { errorText } from '../../../common/errors/error-text';
import {
  addColumnIfMissing,
  hasMigrationMarker,
  indexExists,
  recordMigrationMarker,
  tableExists,
  tableHasColumn,
} from './sqlite-introspection';

/**
 * Schema upgrade of an existing CoreScope database, in the order of ingestor-spec §4.3.
 *
 * Gated steps run once: they are skipped when their name is in `_migrations`, and the name is recorded in the
 * same transaction as the step's work, so a crash never leaves a step half-done yet marked. Every-boot steps
 * (the key lower-casing and the dbschema.Apply equivalent) are idempotent and run on each open.
 *
 * Error handling follows CoreScope: some failures are fatal (open fails with `applying schema: …`), others are
 * only logged, because the reference ignores them (typically a backfill against a column the database lacks).
 */

export type MigrationLog = (line: string) => void;

export class SchemaMigrationError extends Error {
  constructor(step: string, cause: unknown) {
    super(`applying schema: ${step}: ${errorText(cause)}`, { cause });
    this.name = 'SchemaMigrationError';
  }
}

export interface MigrationContext {
  readonly db: BetterSqlite3.Database;
  readonly log: MigrationLog;
  /** Runs work whose failure CoreScope only logs: the work is undone as a whole and the step carries on. */
  tolerate(what: string, work: () => void): void;
}

export interface GatedMigration {
  readonly kind: 'gated';
  /** Marker row in `_migrations`. */
  readonly name: string;
  readonly summary: string;
  /** Throwing makes the open fail. */
  run(context: MigrationContext): void;
}

export interface EveryBootStep {
  readonly kind: 'every-boot';
  readonly label: string;
  readonly summary: string;
  run(context: MigrationContext): void;
}

export type SchemaStep = GatedMigration | EveryBootStep;

export interface MigrationReport {
  /** Gated migrations that ran during this open (empty on an up-to-date database). */
  readonly appliedMigrations: readonly string[];
}

// ---------------------------------------------------------------------------------------------------------------
// helpers shared by the steps

function addLateColumn<T extends keyof typeof LATE_COLUMN_DECLARATIONS>(
  context: MigrationContext,
  table: T,
  column: LateColumn<T>,
): void {
  const declarations: Readonly<Record<string, string>> = LATE_COLUMN_DECLARATIONS[table];
  const declaration = declarations[column];
  if (declaration === undefined) throw new Error(`no declaration for ${table}.${column}`);
  if (addColumnIfMissing(context.db, table, column, declaration)) {
    context.log(`[migration] added column ${table}.${column}`);
  }
}

function createIndex(db: BetterSqlite3.Database, index: SchemaIndexName): void {
  db.exec(INDEX_DDL[index]);
}

/**
 * A decoded_json field that yields NULL instead of aborting the whole statement when a legacy row holds
 * malformed JSON (json_extract raises an error on it).
 */
function decodedJsonField(path: string): string {
  return `json_extract(CASE WHEN json_valid(decoded_json) THEN decoded_json END, '${path}')`;
}

const NODE_TABLES = ['nodes', 'inactive_nodes'] as const;

// ---------------------------------------------------------------------------------------------------------------
// §4.3 #1–#17: gated migrations and the every-boot key normalisation

const advertCountUnique: GatedMigration = {
  kind: 'gated',
  name: 'advert_count_unique_v1',
  summary: 'recount nodes.advert_count as the number of ADVERT transmissions of each node',
  run(context) {
    const { db } = context;
    // CoreScope matches `from_pubkey = public_key` only; on a database that predates from_pubkey (or has not
    // backfilled it yet) that errors out or zeroes every count. The ADVERT's own pubKey is the same value, so
    // it is used as the fallback, and keys are compared lower-cased because normalisation (#5) runs later.
    const advertKey = tableHasColumn(db, 'transmissions', 'from_pubkey')
      ? `COALESCE(from_pubkey, ${decodedJsonField('$.pubKey')})`
      : decodedJsonField('$.pubKey');
    context.tolerate('advert_count recount', () => {
      db.exec(`UPDATE nodes SET advert_count = 0`);
      db.exec(`
        UPDATE nodes SET advert_count = counts.n
          FROM (SELECT lower(${advertKey}) AS pubkey, COUNT(*) AS n
                  FROM transmissions WHERE payload_type = 4 GROUP BY 1) AS counts
         WHERE counts.pubkey = lower(nodes.public_key)`);
    });
  },
};

const noiseFloorReal: GatedMigration = {
  kind: 'gated',
  name: 'noise_floor_real_v1',
  summary: 'store integer noise_floor values as REAL',
  run(context) {
    context.tolerate('noise_floor cast', () =>
      context.db.exec(
        `UPDATE observers SET noise_floor = CAST(noise_floor AS REAL)
          WHERE noise_floor IS NOT NULL AND typeof(noise_floor) = 'integer'`,
      ),
    );
  },
};

const nodeTelemetry: GatedMigration = {
  kind: 'gated',
  name: 'node_telemetry_v1',
  summary: 'add battery_mv and temperature_c to nodes and inactive_nodes',
  run(context) {
    for (const table of NODE_TABLES) {
      addLateColumn(context, table, 'battery_mv');
      addLateColumn(context, table, 'temperature_c');
    }
  },
};

const observationsTimestampIndex: GatedMigration = {
  kind: 'gated',
  name: 'obs_timestamp_index_v1',
  summary: 'index observations(timestamp)',
  run(context) {
    context.tolerate('idx_observations_timestamp', () => createIndex(context.db, 'idx_observations_timestamp'));
  },
};

/** The server looks nodes up by lower-case key without LOWER(); legacy rows may be mixed-case. */
const lowerCaseNodeKeys: EveryBootStep = {
  kind: 'every-boot',
  label: 'nodes.public_key lower-case normalisation',
  summary: 'lower-case any mixed-case nodes.public_key',
  run(context) {
    const { db } = context;
    const { n } = db.prepare(`SELECT COUNT(*) AS n FROM nodes WHERE public_key != lower(public_key)`).get() as {
      n: number;
    };
    if (n === 0) return;
    context.log(`[migration] Normalizing ${n} nodes.public_key row(s) to lowercase...`);
    context.tolerate('public_key lowercase normalize', () => {
      db.exec(`UPDATE nodes SET public_key = lower(public_key) WHERE public_key != lower(public_key)`);
      context.log(`[migration] public_key lowercase normalize complete (${n} rows)`);
    });
  },
};

const observerMetricsTable: GatedMigration = {
  kind: 'gated',
  name: 'observer_metrics_v1',
  summary: 'create observer_metrics',
  run(context) {
    // Final column set straight away; observer_metrics_packets_v1 then finds its columns present.
    context.db.exec(TABLE_DDL.observer_metrics);
  },
};

const observerMetricsTimestampIndex: GatedMigration = {
  kind: 'gated',
  name: 'observer_metrics_ts_idx',
  summary: 'index observer_metrics(timestamp)',
  run(context) {
    createIndex(context.db, 'idx_observer_metrics_timestamp');
  },
};

const observersInactive: GatedMigration = {
  kind: 'gated',
  name: 'observers_inactive_v1',
  summary: 'add observers.inactive',
  run(context) {
    context.tolerate('observers.inactive', () => addLateColumn(context, 'observers', 'inactive'));
  },
};

const observerMetricsPackets: GatedMigration = {
  kind: 'gated',
  name: 'observer_metrics_packets_v1',
  summary: 'add packets_sent and packets_recv to observer_metrics',
  run(context) {
    context.tolerate('observer_metrics.packets_sent', () => addLateColumn(context, 'observer_metrics', 'packets_sent'));
    context.tolerate('observer_metrics.packets_recv', () => addLateColumn(context, 'observer_metrics', 'packets_recv'));
  },
};

const channelHash: GatedMigration = {
  kind: 'gated',
  name: 'channel_hash_v1',
  summary: 'add transmissions.channel_hash, its partial index, and backfill it from decoded_json',
  run(context) {
    const { db } = context;
    context.tolerate('transmissions.channel_hash', () => addLateColumn(context, 'transmissions', 'channel_hash'));
    context.tolerate('idx_tx_channel_hash', () => createIndex(db, 'idx_tx_channel_hash'));
    context.tolerate('channel_hash backfill (CHAN)', () => {
      const { changes } = db
        .prepare(
          `UPDATE transmissions SET channel_hash = ${decodedJsonField('$.channel')}
            WHERE payload_type = 5 AND channel_hash IS NULL AND ${decodedJsonField('$.type')} = 'CHAN'`,
        )
        .run();
      context.log(`[migration] Backfilled channel_hash for ${changes} CHAN packets`);
    });
    context.tolerate('channel_hash backfill (GRP_TXT)', () => {
      const { changes } = db
        .prepare(
          `UPDATE transmissions SET channel_hash = 'enc_' || ${decodedJsonField('$.channelHashHex')}
            WHERE payload_type = 5 AND channel_hash IS NULL AND ${decodedJsonField('$.type')} = 'GRP_TXT'`,
        )
        .run();
      context.log(`[migration] Backfilled channel_hash for ${changes} GRP_TXT packets`);
    });
  },
};

const droppedPackets: GatedMigration = {
  kind: 'gated',
  name: 'dropped_packets_v1',
  summary: 'create dropped_packets and its indexes',
  run(context) {
    context.db.exec(TABLE_DDL.dropped_packets);
    createIndex(context.db, 'idx_dropped_observer');
    createIndex(context.db, 'idx_dropped_node');
  },
};

const observersLastPacketAt: GatedMigration = {
  kind: 'gated',
  name: 'observers_last_packet_at_v1',
  summary: 'add observers.last_packet_at, backfilled from last_seen for observers that have observations',
  run(context) {
    addLateColumn(context, 'observers', 'last_packet_at');
    // packet_count is no evidence (status messages count too), so only observers referenced by an observation.
    context.tolerate('last_packet_at backfill', () => {
      const { changes } = context.db
        .prepare(
          `UPDATE observers SET last_packet_at = last_seen
            WHERE last_packet_at IS NULL
              AND rowid IN (SELECT DISTINCT observer_idx FROM observations WHERE observer_idx IS NOT NULL)`,
        )
        .run();
      context.log(`[migration] Backfilled last_packet_at for ${changes} observers with packets`);
    });
  },
};

const observersClockNaive: GatedMigration = {
  kind: 'gated',
  name: 'observers_clock_naive_v1',
  summary: 'add the observer clock-skew columns',
  run(context) {
    addLateColumn(context, 'observers', 'clock_skew_seconds');
    addLateColumn(context, 'observers', 'clock_skew_count_24h');
    addLateColumn(context, 'observers', 'clock_last_naive_at');
  },
};

const cleanupLegacyNullHash: GatedMigration = {
  kind: 'gated',
  name: 'cleanup_legacy_null_hash_ts',
  summary: 'delete legacy transmissions with an empty hash or first_seen, and their observations',
  run(context) {
    const { db } = context;
    context.tolerate('cleanup of legacy observations', () =>
      db.exec(
        `DELETE FROM observations
          WHERE transmission_id IN (SELECT id FROM transmissions WHERE hash = '' OR first_seen = '')`,
      ),
    );
    context.tolerate('cleanup of legacy transmissions', () => {
      const { changes } = db.prepare(`DELETE FROM transmissions WHERE hash = '' OR first_seen = ''`).run();
      context.log(`[migration] deleted ${changes} legacy packets with empty hash/timestamp`);
    });
  },
};

const foreignAdvert: GatedMigration = {
  kind: 'gated',
  name: 'foreign_advert_v1',
  summary: 'add foreign_advert to nodes and inactive_nodes, with a partial index',
  run(context) {
    for (const table of NODE_TABLES) {
      context.tolerate(`${table}.foreign_advert`, () => addLateColumn(context, table, 'foreign_advert'));
    }
    context.tolerate('idx_nodes_foreign_advert', () => createIndex(context.db, 'idx_nodes_foreign_advert'));
  },
};

const fromPubkey: GatedMigration = {
  kind: 'gated',
  name: 'from_pubkey_v1',
  summary: 'add transmissions.from_pubkey and its index (rows are backfilled in the background)',
  run(context) {
    context.tolerate('transmissions.from_pubkey', () => addLateColumn(context, 'transmissions', 'from_pubkey'));
    context.tolerate('idx_transmissions_from_pubkey', () => createIndex(context.db, 'idx_transmissions_from_pubkey'));
  },
};

const channelHashCasing: GatedMigration = {
  kind: 'gated',
  name: 'channel_hash_casing_v1',
  summary: "rename channel_hash 'public' to the built-in channel's name 'Public'",
  run(context) {
    const { changes } = context.db
      .prepare(`UPDATE transmissions SET channel_hash = 'Public' WHERE channel_hash = 'public' AND payload_type = 5`)
      .run();
    if (changes > 0) context.log(`[migration] channel_hash 'public' → 'Public' on ${changes} transmissions`);
  },
};

// ---------------------------------------------------------------------------------------------------------------
// §4.3 #18: dbschema.Apply — every boot, every operation idempotent, any error fatal

/** What the CoreScope server asserts at its start (dbschema.AssertReady); it refuses to run without these. */
export const SERVER_REQUIRED_TABLES = ['neighbor_edges'] as const;
export const SERVER_REQUIRED_COLUMNS: readonly (readonly [table: string, column: string])[] = [
  ['observations', 'resolved_path'],
  ['observations', 'raw_hex'],
  ['observers', 'inactive'],
  ['observers', 'last_packet_at'],
  ['observers', 'iata'],
  ['observers', 'clock_skew_seconds'],
  ['observers', 'clock_skew_count_24h'],
  ['observers', 'clock_last_naive_at'],
  ['observers', 'can_relay'],
  ['observers', 'can_relay_seen'],
  ['nodes', 'foreign_advert'],
  ['nodes', 'default_scope'],
  ['nodes', 'multibyte_sup'],
  ['nodes', 'multibyte_evidence'],
  ['inactive_nodes', 'foreign_advert'],
  ['inactive_nodes', 'default_scope'],
  ['inactive_nodes', 'multibyte_sup'],
  ['inactive_nodes', 'multibyte_evidence'],
  ['transmissions', 'from_pubkey'],
  ['transmissions', 'last_seen'],
  ['transmissions', 'scope_name'],
];

const applyServerSchema: EveryBootStep = {
  kind: 'every-boot',
  label: 'dbschema.Apply',
  summary: 'indexes, tables and columns the CoreScope server asserts or relies on',
  run(context) {
    const { db } = context;

    for (const index of [
      'idx_transmissions_first_seen',
      'idx_transmissions_hash',
      'idx_transmissions_payload_type',
      'idx_observations_timestamp',
      'idx_observations_transmission_id',
      'idx_observations_tx_ts',
    ] as const) {
      createIndex(db, index);
    }
    // v3 observations reference observers by rowid; v2 ones by text id. Index whichever exists.
    if (tableHasColumn(db, 'observations', 'observer_idx')) createIndex(db, 'idx_observations_observer_idx');
    if (tableHasColumn(db, 'observations', 'observer_id')) db.exec(LEGACY_OBSERVER_ID_INDEX_DDL);

    db.exec(TABLE_DDL.neighbor_edges);
    db.exec(TABLE_DDL.inactive_nodes);
    createIndex(db, 'idx_inactive_nodes_last_seen');

    addLateColumn(context, 'observations', 'resolved_path');
    addLateColumn(context, 'observers', 'inactive');
    addLateColumn(context, 'observers', 'last_packet_at');
    addLateColumn(context, 'observers', 'iata');
    for (const table of NODE_TABLES) addLateColumn(context, table, 'foreign_advert');

    addLateColumn(context, 'transmissions', 'from_pubkey');
    createIndex(db, 'idx_transmissions_from_pubkey');

    addLateColumn(context, 'transmissions', 'scope_name');
    createIndex(db, 'idx_tx_scope_name');
    recordMigrationMarker(db, 'scope_name_v1');

    for (const table of NODE_TABLES) addLateColumn(context, table, 'default_scope');
    recordMigrationMarker(db, 'nodes_default_scope_v1');

    addLateColumn(context, 'observations', 'raw_hex');
    recordMigrationMarker(db, 'observations_raw_hex_v1');

    for (const table of NODE_TABLES) {
      addLateColumn(context, table, 'multibyte_sup');
      addLateColumn(context, table, 'multibyte_evidence');
    }

    addLateColumn(context, 'observers', 'clock_skew_seconds');
    addLateColumn(context, 'observers', 'clock_skew_count_24h');
    addLateColumn(context, 'observers', 'clock_last_naive_at');
    addLateColumn(context, 'observers', 'can_relay');
    addLateColumn(context, 'observers', 'can_relay_seen');

    addLateColumn(context, 'transmissions', 'last_seen');
    createIndex(db, 'idx_tx_last_seen_zero');
    db.exec(`DROP INDEX IF EXISTS idx_tx_last_seen`);
  },
};

/**
 * Ours, not in CoreScope: make sure every §4.2 index exists, whatever history the database has. The one that
 * matters is idx_observations_dedup: CoreScope creates it only together with a new observations table, yet the
 * observation upsert cannot even be prepared without it. Building it fails when duplicate rows exist; that is
 * reported as a fatal error naming the cause rather than leaving ingest to fail on every packet.
 * idx_observations_observer_idx_timestamp is left to its async migration.
 */
const ensureCanonicalIndexes: EveryBootStep = {
  kind: 'every-boot',
  label: 'canonical indexes',
  summary: 'create any §4.2 index the database lacks',
  run(context) {
    const { db } = context;
    const hasObserverIdx = tableHasColumn(db, 'observations', 'observer_idx');
    const needsObserverIdx: ReadonlySet<SchemaIndexName> = new Set([
      'idx_observations_observer_idx',
      'idx_observations_dedup',
    ]);
    for (const index of Object.keys(INDEX_DDL) as SchemaIndexName[]) {
      if (index === 'idx_observations_observer_idx_timestamp') continue;
      if (needsObserverIdx.has(index) && !hasObserverIdx) continue;
      if (indexExists(db, index)) continue;
      try {
        createIndex(db, index);
      } catch (error) {
        if (index === 'idx_observations_dedup') {
          throw new Error(
            `cannot create idx_observations_dedup: observations holds duplicate (transmission_id, observer_idx, ` +
              `path_json) rows (${errorText(error)}); the observation upsert needs this unique index`,
          );
        }
        throw error;
      }
      context.log(`[migration] created missing index ${index}`);
    }
  },
};

/** The full ordered list after the base DDL (§4.3 #1–#18, plus our index check). */
export const SCHEMA_STEPS: readonly SchemaStep[] = [
  advertCountUnique,
  noiseFloorReal,
  nodeTelemetry,
  observationsTimestampIndex,
  lowerCaseNodeKeys,
  observerMetricsTable,
  observerMetricsTimestampIndex,
  observersInactive,
  observerMetricsPackets,
  channelHash,
  droppedPackets,
  observersLastPacketAt,
  observersClockNaive,
  cleanupLegacyNullHash,
  foreignAdvert,
  fromPubkey,
  channelHashCasing,
  applyServerSchema,
  ensureCanonicalIndexes,
];

/** Marker names of the gated list, in order. */
export const GATED_MIGRATION_NAMES: readonly string[] = SCHEMA_STEPS.filter(
  (step): step is GatedMigration => step.kind === 'gated',
).map((step) => step.name);

/** Markers dbschema.Apply records with INSERT OR IGNORE on every boot. */
export const APPLY_MIGRATION_MARKERS = ['scope_name_v1', 'nodes_default_scope_v1', 'observations_raw_hex_v1'] as const;

// ---------------------------------------------------------------------------------------------------------------
// orchestration

function createBaseSchema(db: BetterSqlite3.Database): void {
  for (const table of BASE_TABLES) db.exec(TABLE_DDL[table]);
  for (const index of BASE_INDEXES) createIndex(db, index);
  for (const retired of RETIRED_INDEXES) {
    // idx_tx_last_seen is dropped by the Apply step, after its replacement exists.
    if (retired !== 'idx_tx_last_seen') db.exec(`DROP INDEX IF EXISTS ${retired}`);
  }

  if (!tableExists(db, 'observations')) {
    db.exec(TABLE_DDL.observations);
    for (const index of NEW_OBSERVATIONS_INDEXES) createIndex(db, index);
  }

  db.exec(`DROP VIEW IF EXISTS ${PACKETS_VIEW_NAME}`);
  db.exec(PACKETS_VIEW_DDL);

  db.exec(TABLE_DDL._migrations);
  db.exec(TABLE_DDL._async_migrations);
}

/**
 * Brings the database at `db` to the §4.2 schema: base DDL, then SCHEMA_STEPS in order.
 * Synchronous: the caller must not let anything else use the connection meanwhile.
 */
export function migrateSchema(db: BetterSqlite3.Database, log: MigrationLog = () => {}): MigrationReport {
  try {
    db.transaction(() => createBaseSchema(db))();
  } catch (error) {
    throw new SchemaMigrationError('base schema', error);
  }

  const context: MigrationContext = {
    db,
    log,
    tolerate(what, work) {
      try {
        // Nested transaction = savepoint: a failure undoes only this piece, the step carries on.
        db.transaction(work)();
      } catch (error) {
        log(`[migration] ${what}: ${errorText(error)} (ignored)`);
      }
    },
  };

  const appliedMigrations: string[] = [];
  for (const step of SCHEMA_STEPS) {
    if (step.kind === 'gated') {
      if (hasMigrationMarker(db, step.name)) continue;
      log(`[migration] ${step.name}: ${step.summary}`);
      try {
        db.transaction(() => {
          step.run(context);
          recordMigrationMarker(db, step.name);
        })();
      } catch (error) {
        throw new SchemaMigrationError(step.name, error);
      }
      appliedMigrations.push(step.name);
    } else {
      try {
        db.transaction(() => step.run(context))();
      } catch (error) {
        throw new SchemaMigrationError(step.label, error);
      }
    }
  }
  return { appliedMigrations };
}

/** Mirrors the server's AssertReady: names every missing table/column (empty when the server will start). */
export function findMissingServerSchema(db: BetterSqlite3.Database): string[] {
  const missing: string[] = [];
  for (const table of SERVER_REQUIRED_TABLES) {
    if (!tableExists(db, table)) missing.push(`table:${table}`);
  }
  for (const [table, column] of SERVER_REQUIRED_COLUMNS) {
    if (!tableHasColumn(db, table, column)) missing.push(`${table}.${column}`);
  }
  return missing;
}
