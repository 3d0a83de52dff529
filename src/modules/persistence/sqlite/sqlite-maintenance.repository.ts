import type BetterSqlite3 from 'better-sqlite3';
import { checkAutoVacuum, checkpointWal, runIncrementalVacuum } from './sqlite-maintenance';
import { tableHasColumn } from './sqlite-introspection';
import { SqliteBatchWriter } from './sqlite-batch-writer';
import type {
  AutoVacuumOutcome,
  ChunkedDelete,
  ChunkResult,
  MaintenanceRepository,
  NeighborEdgeContribution,
  NeighborScanRow,
  NodeTable,
  WalCheckpointOutcome,
} from '../repositories/maintenance.repository';

type Statement = BetterSqlite3.Statement;

/** Lists of keys are bound as one JSON array: no limit on the number of SQL variables. */
const asJsonArray = (values: readonly (string | number)[]): string => JSON.stringify(values);

/**
 * The reference's SQL (ingestor-spec §2.5, §5) on the single better-sqlite3 connection.
 *
 * Large deletes are split into chunks whose union is exactly the reference's single statement: every chunk
 * deletes only rows that match the same condition with the same cutoff, and the caller repeats until nothing
 * matches. Two chunk shapes:
 * - the condition column has an index: take the next N matching rows in index order;
 * - it has none: walk the table in rowid order from a cursor, so the whole prune reads the table once.
 *
 * Statements are prepared on first use, so a legacy database without some optional column only fails the
 * job that needs it (the multibyte persister checks its columns before preparing anything).
 */
export class SqliteMaintenanceRepository implements MaintenanceRepository {
  private readonly writer: SqliteBatchWriter;
  private readonly statements = new Map<string, Statement>();

  /** Pass the application's single writer; tests may let it make its own. */
  constructor(
    private readonly db: BetterSqlite3.Database,
    writer?: SqliteBatchWriter,
  ) {
    this.writer = writer ?? new SqliteBatchWriter(db);
  }

  transaction<T>(work: () => T): T {
    return this.writer.transaction(work);
  }

  // ---- retention ----

  moveStaleNodes(cutoff: string): number {
    // `SELECT *` relies on nodes and inactive_nodes having the same columns in the same order (schema.ts).
    this.sql('INSERT OR REPLACE INTO inactive_nodes SELECT * FROM nodes WHERE last_seen < ?').run(cutoff);
    return this.sql('DELETE FROM nodes WHERE last_seen < ?').run(cutoff).changes;
  }

  markObserversInactiveBefore(cutoff: string): number {
    return this.sql('UPDATE observers SET inactive = 1 WHERE last_seen < ? AND (inactive IS NULL OR inactive = 0)').run(
      cutoff,
    ).changes;
  }

  deleteMetricsOfInactiveObservers(): number {
    return this.sql('DELETE FROM observer_metrics WHERE observer_id IN (SELECT id FROM observers WHERE inactive = 1)').run()
      .changes;
  }

  softDeleteObservers(ids: readonly string[]): number {
    if (ids.length === 0) return 0;
    return this.sql(
      `UPDATE observers SET inactive = 1
        WHERE LOWER(id) IN (SELECT LOWER(value) FROM json_each(?))
          AND (inactive IS NULL OR inactive = 0)`,
    ).run(asJsonArray(ids)).changes;
  }

  observerMetricsBefore(cutoff: string): ChunkedDelete {
    return this.indexedChunks('observer_metrics', 'timestamp', cutoff); // idx_observer_metrics_timestamp
  }

  droppedPacketsBefore(cutoff: string): ChunkedDelete {
    return this.rowidCursorChunks('dropped_packets', 'dropped_at', cutoff);
  }

  clientReceptionsBefore(cutoff: string): ChunkedDelete {
    return this.indexedChunks('client_receptions', 'rx_at', cutoff); // idx_client_recept_rxat
  }

  deleteClientObserversBefore(cutoff: string): number {
    return this.sql('DELETE FROM client_observers WHERE last_seen < ?').run(cutoff).changes;
  }

  neighborEdgesBefore(cutoff: string): ChunkedDelete {
    return this.rowidCursorChunks('neighbor_edges', 'last_seen', cutoff);
  }

  transmissionsFirstSeenBefore(cutoff: string): ChunkedDelete {
    // Oldest first through idx_transmissions_first_seen, with each candidate's observation count so a chunk
    // can be cut at `maxRows` deleted rows in total (observations + transmissions), not just transmissions.
    // Read lazily: the scan stops at the first candidate that does not fit, so only the rows a chunk deletes
    // pay for their count (reading all `maxRows` candidates was ~4× the work with 3 observations each).
    const candidates = this.sql(
      `SELECT t.id AS id, (SELECT COUNT(*) FROM observations o WHERE o.transmission_id = t.id) AS observations
         FROM transmissions t
        WHERE t.first_seen < ?
        ORDER BY t.first_seen, t.id
        LIMIT ?`,
    );
    // Observations first: they reference transmissions(id) and foreign keys are on.
    const deleteObservations = this.sql('DELETE FROM observations WHERE transmission_id IN (SELECT value FROM json_each(?))');
    const deleteTransmissions = this.sql('DELETE FROM transmissions WHERE id IN (SELECT value FROM json_each(?))');
    return {
      next: (maxRows: number): ChunkResult => {
        const ids: number[] = [];
        let rowBudget = maxRows;
        let seen = 0;
        let cut = false;
        for (const row of candidates.iterate(cutoff, maxRows) as IterableIterator<{ id: number; observations: number }>) {
          seen++;
          const cost = 1 + row.observations;
          if (ids.length > 0 && cost > rowBudget) {
            cut = true; // a single huge transmission still goes alone
            break;
          }
          ids.push(row.id);
          rowBudget -= cost;
          if (rowBudget <= 0) {
            cut = true;
            break;
          }
        }
        if (ids.length === 0) return { deleted: 0, exhausted: true };
        const idList = asJsonArray(ids);
        const observations = deleteObservations.run(idList).changes;
        const deleted = deleteTransmissions.run(idList).changes;
        return { deleted, rows: deleted + observations, exhausted: !cut && seen < maxRows };
      },
    };
  }

  // ---- storage upkeep (the PRAGMA helpers live with the connection, in persistence) ----

  incrementalVacuum(pages: number): void {
    runIncrementalVacuum(this.db, pages);
  }

  checkpointWal(log: (line: string) => void): WalCheckpointOutcome | undefined {
    return checkpointWal(this.db, log);
  }

  checkAutoVacuum(vacuumOnStartup: boolean, log: (line: string) => void): AutoVacuumOutcome {
    return checkAutoVacuum(this.db, vacuumOnStartup, log);
  }

  // ---- neighbor edges builder ----

  listNodeKeys(): string[] {
    return this.sql('SELECT public_key FROM nodes').pluck().all() as string[];
  }

  newestNeighborEdgeSeen(): string | null {
    const value = this.sql('SELECT MAX(last_seen) FROM neighbor_edges').pluck().get() as unknown;
    return value === null || value === undefined ? null : String(value);
  }

  observationsForNeighborScan(afterEpoch: number, limit: number): Iterable<NeighborScanRow> {
    // Observers are joined whatever their `inactive` flag: a soft-deleted observer still heard the packet.
    return this.sql(
      `SELECT t.payload_type AS payloadType,
              t.decoded_json AS decodedJson,
              COALESCE(t.from_pubkey, '') AS fromPubkey,
              COALESCE(o.path_json, '') AS pathJson,
              COALESCE(obs.id, '') AS observerId,
              o.timestamp AS timestamp
         FROM observations o
         JOIN transmissions t ON t.id = o.transmission_id
         LEFT JOIN observers obs ON obs.rowid = o.observer_idx
        WHERE o.timestamp > ?
        ORDER BY o.timestamp
        LIMIT ?`,
    ).iterate(afterEpoch, limit) as IterableIterator<NeighborScanRow>;
  }

  upsertNeighborEdges(edges: readonly NeighborEdgeContribution[]): void {
    const upsert = this.sql(
      `INSERT INTO neighbor_edges (node_a, node_b, count, last_seen)
       VALUES (@nodeA, @nodeB, @count, @lastSeen)
       ON CONFLICT (node_a, node_b) DO UPDATE SET
         count = count + excluded.count,
         last_seen = MAX(last_seen, excluded.last_seen)`,
    );
    for (const edge of edges) upsert.run(edge);
  }

  // ---- multibyte capability ----

  hasMultibyteColumns(): boolean {
    return tableHasColumn(this.db, 'nodes', 'multibyte_sup');
  }

  isActiveNode(publicKey: string): boolean {
    return this.sql('SELECT 1 FROM nodes WHERE public_key = ? LIMIT 1').pluck().get(publicKey) !== undefined;
  }

  setMultibyteCapability(table: NodeTable, publicKey: string, support: number, evidence: string): number {
    const sql =
      table === 'nodes'
        ? 'UPDATE nodes SET multibyte_sup = ?, multibyte_evidence = ? WHERE public_key = ?'
        : 'UPDATE inactive_nodes SET multibyte_sup = ?, multibyte_evidence = ? WHERE public_key = ?';
    return this.sql(sql).run(support, evidence, publicKey).changes;
  }

  // ---- geo-prune request queue ----

  deleteNodes(publicKeys: readonly string[]): number {
    if (publicKeys.length === 0) return 0;
    return this.sql('DELETE FROM nodes WHERE public_key IN (SELECT value FROM json_each(?))').run(asJsonArray(publicKeys))
      .changes;
  }

  // ---- helpers ----

  private sql(text: string): Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  /** Next `maxRows` matching rows in index order; rows already deleted are simply gone from the index. */
  private indexedChunks(table: string, column: string, cutoff: string): ChunkedDelete {
    const deleteChunk = this.sql(
      `DELETE FROM ${table}
        WHERE rowid IN (SELECT rowid FROM ${table} WHERE ${column} < ? ORDER BY ${column} LIMIT ?)`,
    );
    return {
      next: (maxRows: number): ChunkResult => {
        const deleted = deleteChunk.run(cutoff, maxRows).changes;
        return { deleted, exhausted: deleted < maxRows };
      },
    };
  }

  /** Rowid-ordered walk from a cursor: each chunk reads on from where the previous one stopped. */
  private rowidCursorChunks(table: string, column: string, cutoff: string): ChunkedDelete {
    const nextRange = this.sql(
      `SELECT MAX(rid) AS lastRowid, COUNT(*) AS matched
         FROM (SELECT rowid AS rid FROM ${table} WHERE rowid > ? AND ${column} < ? ORDER BY rowid LIMIT ?)`,
    );
    const deleteRange = this.sql(`DELETE FROM ${table} WHERE rowid > ? AND rowid <= ? AND ${column} < ?`);
    let afterRowid = Number.MIN_SAFE_INTEGER;
    return {
      next: (maxRows: number): ChunkResult => {
        const { lastRowid, matched } = nextRange.get(afterRowid, cutoff, maxRows) as {
          lastRowid: number | null;
          matched: number;
        };
        if (lastRowid === null) return { deleted: 0, exhausted: true };
        const deleted = deleteRange.run(afterRowid, lastRowid, cutoff).changes;
        afterRowid = lastRowid;
        return { deleted, exhausted: matched < maxRows };
      },
    };
  }
}
