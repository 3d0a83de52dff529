import type BetterSqlite3 from 'better-sqlite3';
import type { AsyncMigrationRunner, BackgroundJobContext, BackgroundJobOutcome } from './async-migration-runner';
import { hopsFromRawHex } from './raw-hex-hops';
import { INDEX_DDL } from './schema';
import { errorText } from '../../../common/errors/error-text';
import { hasMigrationMarker, recordMigrationMarker } from './sqlite-introspection';

/** Async migrations and boot backfills (ingestor-spec §4.3 #19–#22, §5.3). */

export const OBSERVER_TIMESTAMP_INDEX_MIGRATION = 'obs_observer_ts_idx_v1';
export const TX_LAST_SEEN_BACKFILL_MIGRATION = 'tx_last_seen_backfill_v1';
export const PATH_JSON_BACKFILL_MARKER = 'backfill_path_json_from_raw_hex_v1';
export const DEFAULT_SCOPE_BACKFILL_MARKER = 'backfill_default_scope_v1';
export const FROM_PUBKEY_BACKFILL_JOB = 'from_pubkey_backfill';

/** TRACE header path bytes are SNR values, not hops, so the backfill leaves TRACE observations alone. */
const TRACE_PAYLOAD_TYPE = 9;
const ADVERT_PAYLOAD_TYPE = 4;

export interface ChunkingOptions {
  readonly chunkSize?: number;
  /** Throttle between chunks, in ms (0 = only yield to the event loop). */
  readonly pauseMs?: number;
}

async function pauseBetweenChunks(context: BackgroundJobContext, pauseMs: number): Promise<void> {
  if (pauseMs > 0) await context.pause(pauseMs);
  else await context.yieldToEventLoop();
}

// ---------------------------------------------------------------------------------------------------------------
// #19 obs_observer_ts_idx_v1

/**
 * One CREATE INDEX statement: it cannot be chunked, so on a large observations table it holds the event loop
 * for as long as SQLite needs to build the index (once per database; a no-op afterwards).
 */
export function buildObserverTimestampIndex(context: BackgroundJobContext): void {
  context.db.exec(INDEX_DDL.idx_observations_observer_idx_timestamp);
  recordMigrationMarker(context.db, OBSERVER_TIMESTAMP_INDEX_MIGRATION);
}

// ---------------------------------------------------------------------------------------------------------------
// #20 tx_last_seen_backfill_v1

/**
 * `last_seen = newest observation timestamp` for rows still at 0, walked in id order in chunks so no single
 * statement blocks for long. The chunk boundaries come from the partial index idx_tx_last_seen_zero; a row
 * without observations keeps 0 (as in CoreScope) and is simply passed by the cursor.
 */
export async function backfillTransmissionLastSeen(
  context: BackgroundJobContext,
  { chunkSize = 5000, pauseMs = 0 }: ChunkingOptions = {},
): Promise<number> {
  const { db } = context;
  const nextChunkEnd = db.prepare(
    `SELECT MAX(id) AS chunk_end FROM (
       SELECT id FROM transmissions WHERE last_seen = 0 AND id > ? ORDER BY id LIMIT ?)`,
  );
  // CoreScope's statement, restricted to rows that have an observation: the others would be rewritten to the
  // same 0 (COALESCE falls back to last_seen), which only costs WAL writes.
  const updateChunk = db.prepare(
    `UPDATE transmissions
        SET last_seen = COALESCE((SELECT MAX(timestamp) FROM observations WHERE transmission_id = transmissions.id),
                                 last_seen)
      WHERE last_seen = 0 AND id > ? AND id <= ?
        AND EXISTS (SELECT 1 FROM observations WHERE transmission_id = transmissions.id)`,
  );
  let cursor = 0;
  let updated = 0;
  for (;;) {
    const { chunk_end: chunkEnd } = nextChunkEnd.get(cursor, chunkSize) as { chunk_end: number | null };
    if (chunkEnd === null) break;
    updated += updateChunk.run(cursor, chunkEnd).changes;
    cursor = chunkEnd;
    await pauseBetweenChunks(context, pauseMs);
  }
  if (updated > 0) context.log(`[async-migration] "${TX_LAST_SEEN_BACKFILL_MIGRATION}": ${updated} transmissions`);
  return updated;
}

// ---------------------------------------------------------------------------------------------------------------
// #21 path_json backfill (§5.3)

export interface PathJsonBackfillResult {
  readonly skipped: boolean;
  readonly rowsWritten: number;
  readonly markerRecorded: boolean;
}

/**
 * Fills observations.path_json from the observation's raw_hex where it is NULL or '' (non-TRACE only). Rows with
 * no hops, or whose hex does not decode, get the sentinel '[]' so they are never selected again (#1119).
 *
 * Difference from CoreScope, on purpose: batches advance by an id cursor instead of re-running the same query
 * from the start, so a row whose write fails (e.g. it would collide with the unique dedup index) cannot make
 * the loop spin forever, and each batch costs the same however far the backfill has got. Per-row write errors
 * are logged and, as in CoreScope, do not withhold the marker; a failing query does.
 */
export async function backfillPathJsonFromRawHex(
  context: BackgroundJobContext,
  { chunkSize = 1000, pauseMs = 50 }: ChunkingOptions = {},
): Promise<PathJsonBackfillResult> {
  const { db, log } = context;
  if (hasMigrationMarker(db, PATH_JSON_BACKFILL_MARKER)) {
    return { skipped: true, rowsWritten: 0, markerRecorded: false };
  }
  log('[backfill] Starting async path_json backfill from raw_hex...');

  const selectBatch = db.prepare(
    `SELECT o.id AS id, o.raw_hex AS raw_hex
       FROM observations o
       JOIN transmissions t ON o.transmission_id = t.id
      WHERE o.id > ?
        AND o.raw_hex IS NOT NULL AND o.raw_hex != ''
        AND (o.path_json IS NULL OR o.path_json = '')
        AND t.payload_type != ${TRACE_PAYLOAD_TYPE}
      ORDER BY o.id
      LIMIT ?`,
  );
  const writePathJson = db.prepare(`UPDATE observations SET path_json = ? WHERE id = ?`);

  let cursor = 0;
  let rowsWritten = 0;
  let batches = 0;
  let queryFailed = false;
  for (;;) {
    let batch: { id: number; raw_hex: string }[];
    try {
      batch = selectBatch.all(cursor, chunkSize) as { id: number; raw_hex: string }[];
    } catch (error) {
      log(`[backfill] path_json query error: ${errorText(error)}`);
      queryFailed = true;
      break;
    }
    if (batch.length === 0) break;

    let written = 0;
    db.transaction(() => {
      for (const row of batch) {
        const hops = hopsFromRawHex(row.raw_hex);
        const pathJson = hops && hops.length > 0 ? JSON.stringify(hops) : '[]';
        try {
          writePathJson.run(pathJson, row.id);
          written += 1;
        } catch (error) {
          log(`[backfill] write error (id=${row.id}): ${errorText(error)}`);
        }
      }
    })();
    rowsWritten += written;
    context.countBackfillUpdates('path_json', written);
    cursor = batch[batch.length - 1].id;

    batches += 1;
    if (batches % 50 === 0) {
      log(`[backfill] progress: ${rowsWritten} observations updated so far (${batches} batches)`);
    }
    await pauseBetweenChunks(context, pauseMs);
  }

  log(`[backfill] Async path_json backfill complete: ${rowsWritten} observations updated`);
  if (queryFailed) {
    log('[backfill] NOT recording migration due to errors — will retry on next restart');
    return { skipped: false, rowsWritten, markerRecorded: false };
  }
  recordMigrationMarker(db, PATH_JSON_BACKFILL_MARKER);
  return { skipped: false, rowsWritten, markerRecorded: true };
}

// ---------------------------------------------------------------------------------------------------------------
// from_pubkey backfill (§5.3; every boot, untracked, no marker)

/** The ADVERT's pubKey from decoded_json, or '' ("scanned, no key") when absent or unparsable. */
export function advertPubkeyOf(decodedJson: string | null): string {
  if (!decodedJson) return '';
  try {
    const payload: unknown = JSON.parse(decodedJson);
    if (payload !== null && typeof payload === 'object') {
      const pubKey = (payload as { pubKey?: unknown }).pubKey;
      if (typeof pubKey === 'string') return pubKey;
    }
  } catch {
    // unparsable → sentinel
  }
  return '';
}

/**
 * Sets transmissions.from_pubkey for ADVERTs still at NULL, one transaction per chunk; '' marks a row scanned
 * without a key so it is not visited again. A no-op (one COUNT) once everything is filled.
 */
export async function backfillFromPubkey(
  context: BackgroundJobContext,
  { chunkSize = 5000, pauseMs = 100 }: ChunkingOptions = {},
): Promise<number> {
  const { db, log } = context;
  const { pending } = db
    .prepare(
      `SELECT COUNT(*) AS pending FROM transmissions WHERE from_pubkey IS NULL AND payload_type = ${ADVERT_PAYLOAD_TYPE}`,
    )
    .get() as { pending: number };
  if (pending === 0) return 0;
  log(`[backfill] from_pubkey: ${pending} ADVERT transmissions to scan`);

  const selectChunk = db.prepare(
    `SELECT id, decoded_json FROM transmissions
      WHERE from_pubkey IS NULL AND payload_type = ${ADVERT_PAYLOAD_TYPE} AND id > ?
      ORDER BY id LIMIT ?`,
  );
  const writeFromPubkey = db.prepare(`UPDATE transmissions SET from_pubkey = ? WHERE id = ?`);

  let cursor = 0;
  let updated = 0;
  for (;;) {
    const chunk = selectChunk.all(cursor, chunkSize) as { id: number; decoded_json: string | null }[];
    if (chunk.length === 0) break;
    db.transaction(() => {
      for (const row of chunk) updated += writeFromPubkey.run(advertPubkeyOf(row.decoded_json), row.id).changes;
    })();
    cursor = chunk[chunk.length - 1].id;
    await pauseBetweenChunks(context, pauseMs);
  }
  log(`[backfill] from_pubkey: ${updated} transmissions updated`);
  return updated;
}

// ---------------------------------------------------------------------------------------------------------------
// #22 default_scope backfill (§5.3)

export interface DefaultScopeBackfillResult {
  /** False when skipped: no region keys configured, or the marker is already recorded. */
  readonly ran: boolean;
  readonly nodesUpdated: number;
}

/**
 * nodes.default_scope = the scope_name of the node's most recent (by first_seen) ADVERT that has a non-empty
 * scope_name; nodes without such an ADVERT are left alone. Only meaningful when region keys are configured
 * (`hashRegions`), since scope_name is only ever filled from them. Records `backfill_default_scope_v1`.
 */
export function backfillDefaultScope(
  db: BetterSqlite3.Database,
  hasRegionKeys: boolean,
  log: (line: string) => void = () => {},
): DefaultScopeBackfillResult {
  if (!hasRegionKeys || hasMigrationMarker(db, DEFAULT_SCOPE_BACKFILL_MARKER)) return { ran: false, nodesUpdated: 0 };
  const scopedAdvertsOfNode = `
      FROM transmissions t
     WHERE t.payload_type = ${ADVERT_PAYLOAD_TYPE}
       AND t.from_pubkey = nodes.public_key
       AND t.scope_name IS NOT NULL AND t.scope_name != ''`;
  const nodesUpdated = db.transaction(() => {
    const { changes } = db
      .prepare(
        `UPDATE nodes
            SET default_scope = (SELECT t.scope_name ${scopedAdvertsOfNode} ORDER BY t.first_seen DESC LIMIT 1)
          WHERE EXISTS (SELECT 1 ${scopedAdvertsOfNode})`,
      )
      .run();
    recordMigrationMarker(db, DEFAULT_SCOPE_BACKFILL_MARKER);
    return changes;
  })();
  log(`[backfill] default_scope: ${nodesUpdated} nodes updated`);
  return { ran: true, nodesUpdated };
}

/**
 * Schedules the default_scope backfill as a tracked job (startup waits for it). Call after loading the region
 * keys (§7.1 step 10). Returns undefined when there are no region keys, as CoreScope then never starts it.
 */
export function startDefaultScopeBackfill(
  runner: AsyncMigrationRunner,
  hasRegionKeys: boolean,
): Promise<BackgroundJobOutcome> | undefined {
  if (!hasRegionKeys) return undefined;
  return runner.runTracked(DEFAULT_SCOPE_BACKFILL_MARKER, (context) => {
    const { ran } = backfillDefaultScope(context.db, true, context.log);
    // Counted once per run, not per row, as CoreScope does.
    if (ran) context.countBackfillUpdates('default_scope', 1);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// boot scheduling

/**
 * Starts the work CoreScope kicks off right after opening the store (§7.1 steps 5, 6, 8): async migrations
 * #19 and #20, the path_json backfill (tracked) and the from_pubkey backfill (untracked). Returns at once.
 */
export function startBootBackgroundJobs(runner: AsyncMigrationRunner, db: BetterSqlite3.Database): void {
  // #19 is scheduled only while its _migrations marker is missing; #20 is gated by its status row alone.
  if (!hasMigrationMarker(db, OBSERVER_TIMESTAMP_INDEX_MIGRATION)) {
    void runner.runAsyncMigration(OBSERVER_TIMESTAMP_INDEX_MIGRATION, buildObserverTimestampIndex);
  }
  void runner.runAsyncMigration(TX_LAST_SEEN_BACKFILL_MIGRATION, (context) => backfillTransmissionLastSeen(context));
  void runner.runTracked(PATH_JSON_BACKFILL_MARKER, (context) => backfillPathJsonFromRawHex(context));
  void runner.runUntracked(FROM_PUBKEY_BACKFILL_JOB, (context) => backfillFromPubkey(context));
}
