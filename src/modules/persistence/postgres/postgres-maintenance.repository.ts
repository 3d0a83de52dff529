import type { Pool, PoolClient } from 'pg';
import type { AsyncMaintenanceRepository, ChunkedTable } from '../repositories/async-maintenance.repository';
import type { ChunkResult, NeighborEdgeContribution, NeighborScanRow } from '../repositories/maintenance.repository';

const C = 'COLLATE "C"';

/** The age column of each chunked table (text compared in byte order, like SQLite). */
const AGE_COLUMN: Readonly<Record<Exclude<ChunkedTable, 'transmissions'>, string>> = {
  observer_metrics: 'timestamp',
  dropped_packets: 'dropped_at',
  client_receptions: 'rx_at',
  neighbor_edges: 'last_seen',
};

/**
 * The maintenance SQL of ingestor-spec §5.2 and §5.4 on PostgreSQL. Deletes run in chunks (one transaction
 * each) like on SQLite; here they block no writer (MVCC), but a single huge DELETE would still hold its row
 * locks and bloat the WAL for as long as it runs.
 */
export class PostgresMaintenanceRepository implements AsyncMaintenanceRepository {
  constructor(private readonly pool: Pool) {}

  async moveStaleNodes(cutoff: string): Promise<number> {
    return this.inTransaction(async (client) => {
      // nodes and inactive_nodes have the same columns in the same order (postgres-schema.ts); INSERT OR REPLACE.
      await client.query(
        `INSERT INTO inactive_nodes SELECT * FROM nodes WHERE last_seen ${C} < $1 ${C}
         ON CONFLICT (public_key) DO UPDATE SET
           name = excluded.name, role = excluded.role, lat = excluded.lat, lon = excluded.lon, last_seen = excluded.last_seen,
           first_seen = excluded.first_seen, advert_count = excluded.advert_count, battery_mv = excluded.battery_mv,
           temperature_c = excluded.temperature_c, foreign_advert = excluded.foreign_advert, default_scope = excluded.default_scope,
           multibyte_sup = excluded.multibyte_sup, multibyte_evidence = excluded.multibyte_evidence`,
        [cutoff],
      );
      const { rowCount } = await client.query(`DELETE FROM nodes WHERE last_seen ${C} < $1 ${C}`, [cutoff]);
      return rowCount ?? 0;
    });
  }

  async markStaleObserversInactive(cutoff: string): Promise<number> {
    return this.inTransaction(async (client) => {
      const { rowCount } = await client.query(
        `UPDATE observers SET inactive = 1 WHERE last_seen ${C} < $1 ${C} AND (inactive IS NULL OR inactive = 0)`,
        [cutoff],
      );
      const marked = rowCount ?? 0;
      if (marked > 0) await client.query('DELETE FROM observer_metrics WHERE observer_id IN (SELECT id FROM observers WHERE inactive = 1)');
      return marked;
    });
  }

  async softDeleteObservers(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    // lower() of ASCII ids, as SQLite's LOWER.
    const { rowCount } = await this.pool.query(
      `UPDATE observers SET inactive = 1
        WHERE lower(id) = ANY (SELECT lower(v) FROM unnest($1::text[]) AS v) AND (inactive IS NULL OR inactive = 0)`,
      [ids],
    );
    return rowCount ?? 0;
  }

  async deleteChunk(table: ChunkedTable, cutoff: string, maxRows: number): Promise<ChunkResult> {
    if (table === 'transmissions') return this.deleteTransmissionsChunk(cutoff, maxRows);
    const column = AGE_COLUMN[table];
    // ctid: one chunk's rows whatever the table's key (neighbor_edges has a composite one).
    const { rowCount } = await this.pool.query(
      `DELETE FROM ${table} WHERE ctid = ANY (ARRAY(SELECT ctid FROM ${table} WHERE ${column} ${C} < $1 ${C} LIMIT $2))`,
      [cutoff, maxRows],
    );
    const deleted = rowCount ?? 0;
    return { deleted, exhausted: deleted < maxRows };
  }

  /**
   * Oldest transmissions first, each with its observations, cut so that one chunk deletes about `maxRows` rows
   * in all (a transmission heard by many observers may go alone).
   */
  private async deleteTransmissionsChunk(cutoff: string, maxRows: number): Promise<ChunkResult> {
    return this.inTransaction(async (client) => {
      const { rows } = await client.query<{ id: string; observations: string }>(
        `SELECT t.id, (SELECT count(*) FROM observations o WHERE o.transmission_id = t.id) AS observations
           FROM transmissions t WHERE t.first_seen ${C} < $1 ${C}
          ORDER BY t.first_seen ${C}, t.id LIMIT $2`,
        [cutoff, maxRows],
      );
      const ids: number[] = [];
      let budget = maxRows;
      let cut = false;
      for (const row of rows) {
        const cost = 1 + Number(row.observations);
        if (ids.length > 0 && cost > budget) {
          cut = true;
          break;
        }
        ids.push(Number(row.id));
        budget -= cost;
        if (budget <= 0) {
          cut = true;
          break;
        }
      }
      if (ids.length === 0) return { deleted: 0, exhausted: true };
      const observations = await client.query('DELETE FROM observations WHERE transmission_id = ANY ($1::bigint[])', [ids]);
      const transmissions = await client.query('DELETE FROM transmissions WHERE id = ANY ($1::bigint[])', [ids]);
      const deleted = transmissions.rowCount ?? 0;
      return { deleted, rows: deleted + (observations.rowCount ?? 0), exhausted: !cut && rows.length < maxRows };
    });
  }

  async deleteClientObserversBefore(cutoff: string): Promise<number> {
    const { rowCount } = await this.pool.query(`DELETE FROM client_observers WHERE last_seen ${C} < $1 ${C}`, [cutoff]);
    return rowCount ?? 0;
  }

  async listNodeKeys(): Promise<string[]> {
    const { rows } = await this.pool.query<{ public_key: string }>('SELECT public_key FROM nodes');
    return rows.map((r) => r.public_key);
  }

  async newestNeighborEdgeSeen(): Promise<string | null> {
    const { rows } = await this.pool.query<{ newest: string | null }>(`SELECT max(last_seen ${C}) AS newest FROM neighbor_edges`);
    return rows[0]?.newest ?? null;
  }

  async observationsForNeighborScan(afterEpoch: number, limit: number): Promise<NeighborScanRow[]> {
    const { rows } = await this.pool.query<{
      payload_type: number | null;
      decoded_json: string | null;
      from_pubkey: string;
      path_json: string;
      observer_id: string;
      timestamp: string;
    }>(
      `SELECT t.payload_type, t.decoded_json, COALESCE(t.from_pubkey, '') AS from_pubkey, COALESCE(o.path_json, '') AS path_json,
              COALESCE(obs.id, '') AS observer_id, o.timestamp
         FROM observations o
         JOIN transmissions t ON t.id = o.transmission_id
         LEFT JOIN observers obs ON obs.rowid = o.observer_idx
        WHERE o.timestamp > $1
        ORDER BY o.timestamp
        LIMIT $2`,
      [afterEpoch, limit],
    );
    return rows.map((r) => ({
      payloadType: r.payload_type === null ? null : Number(r.payload_type),
      decodedJson: r.decoded_json,
      fromPubkey: r.from_pubkey,
      pathJson: r.path_json,
      observerId: r.observer_id,
      timestamp: Number(r.timestamp),
    }));
  }

  async upsertNeighborEdges(edges: readonly NeighborEdgeContribution[]): Promise<void> {
    if (edges.length === 0) return;
    // Key order: two writers upserting the same pairs take their row locks in the same order.
    const sorted = [...edges].sort((a, b) => (a.nodeA + '\u0000' + a.nodeB < b.nodeA + '\u0000' + b.nodeB ? -1 : 1));
    await this.pool.query(
      `INSERT INTO neighbor_edges AS e (node_a, node_b, count, last_seen)
       SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[])
       ON CONFLICT (node_a, node_b) DO UPDATE SET
         count = e.count + excluded.count,
         last_seen = CASE WHEN excluded.last_seen ${C} > e.last_seen ${C} THEN excluded.last_seen ELSE e.last_seen END`,
      [sorted.map((e) => e.nodeA), sorted.map((e) => e.nodeB), sorted.map((e) => e.count), sorted.map((e) => e.lastSeen)],
    );
  }

  private async inTransaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }
}
