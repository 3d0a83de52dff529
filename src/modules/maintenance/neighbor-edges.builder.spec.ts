import { afterEach, describe, expect, it } from 'vitest';
import { runToCompletion } from './chunked-job.runner';
import type { NeighborScanRow } from '../persistence/repositories/maintenance.repository';
import {
  canonicalEdge,
  coalesceEdges,
  extractNeighborEdges,
  NeighborEdgesBuilder,
  NodePrefixIndex,
  parsePathHops,
} from './neighbor-edges.builder';
import { SqliteMaintenanceRepository } from '../persistence/sqlite/sqlite-maintenance.repository';
import {
  insertNeighborEdge,
  insertNode,
  insertObservation,
  insertObserver,
  insertTransmission,
  key,
  TestDatabases,
  type TestDatabase,
} from './testing/maintenance-fixtures';

/** Ports of neighbor_builder_test.go / neighbor_builder_delta_test.go, plus the edge rules of §5.4. */

const databases = new TestDatabases();
afterEach(() => databases.closeAll());

const ORIGIN = key('aa');
const HOP = key('bb');
const OBSERVER = key('cc');
const BASE_TS = 1_784_000_000; // 2026-07-14T…Z
const rfc3339 = (epoch: number) => `${new Date(epoch * 1000).toISOString().slice(0, 19)}Z`;

function edgeRows(database: TestDatabase) {
  return database.db.prepare(`SELECT node_a, node_b, count, last_seen FROM neighbor_edges ORDER BY node_a, node_b`).all();
}

function newestEdge(database: TestDatabase): string | null {
  return database.db.prepare(`SELECT MAX(last_seen) FROM neighbor_edges`).pluck().get() as string | null;
}

describe('TestNeighborEdgesBuilderUpsertsFromObservations', () => {
  it('turns one advert observation whose first hop resolves uniquely into the (from, hop) edge', async () => {
    const database = await databases.create();
    insertNode(database.db, { publicKey: HOP });
    const tx = insertTransmission(database.db, { hash: 'adv1', firstSeen: rfc3339(BASE_TS), fromPubkey: ORIGIN });
    insertObservation(database.db, { transmissionId: tx, pathJson: '["bb"]', timestamp: BASE_TS });

    const builder = new NeighborEdgesBuilder(new SqliteMaintenanceRepository(database.db));
    expect(builder.build()).toBe(1);
    expect(edgeRows(database)).toEqual([{ node_a: ORIGIN, node_b: HOP, count: 1, last_seen: rfc3339(BASE_TS) }]);
  });
});

describe('TestNeighborEdgesBuilderDeltaScan', () => {
  /** `count` advert observations heard via hop "bb" by OBSERVER, one second apart from `firstTs`. */
  function seedAdverts(database: TestDatabase, count: number, firstTs: number, hashPrefix: string, observerIdx: number) {
    database.db.transaction(() => {
      for (let i = 0; i < count; i += 1) {
        const tx = insertTransmission(database.db, {
          hash: `${hashPrefix}${i}`,
          firstSeen: rfc3339(firstTs + i),
          fromPubkey: ORIGIN,
        });
        insertObservation(database.db, { transmissionId: tx, observerIdx, pathJson: '["bb"]', timestamp: firstTs + i });
      }
    })();
  }

  async function seeded(): Promise<{ database: TestDatabase; observerIdx: number }> {
    const database = await databases.create();
    insertNode(database.db, { publicKey: HOP });
    const observerIdx = insertObserver(database.db, { id: OBSERVER });
    seedAdverts(database, 2000, BASE_TS, 'warm', observerIdx);
    return { database, observerIdx };
  }

  it('warms up to the newest observation, then only scans what is newer than the watermark', async () => {
    const { database, observerIdx } = await seeded();
    const builder = new NeighborEdgesBuilder(new SqliteMaintenanceRepository(database.db));

    // Two edges per advert observation: (origin, first hop) and (observer, last hop).
    expect(runToCompletion(builder.warmUp())).toBe(4000);
    expect(newestEdge(database)).toBe(rfc3339(BASE_TS + 1999));
    expect(builder.watermark()).toBe(BASE_TS + 1999);
    expect(edgeRows(database)).toEqual([
      { node_a: ORIGIN, node_b: HOP, count: 2000, last_seen: rfc3339(BASE_TS + 1999) },
      { node_a: HOP, node_b: OBSERVER, count: 2000, last_seen: rfc3339(BASE_TS + 1999) },
    ]);

    // Nothing new: the watermark short-circuits the scan.
    expect(builder.build()).toBe(0);

    seedAdverts(database, 100, BASE_TS + 5000, 'late', observerIdx);
    expect(builder.build()).toBe(200);
    expect(newestEdge(database)).toBe(rfc3339(BASE_TS + 5099));
    expect(edgeRows(database).map((row) => (row as { count: number }).count)).toEqual([2100, 2100]);
  });

  it('drains a backlog larger than the batch cap in several builds during warm-up', async () => {
    const { database } = await seeded();
    const builder = new NeighborEdgesBuilder(new SqliteMaintenanceRepository(database.db), { batchRows: 300 });
    const warmUp = builder.warmUp();
    let builds = 1;
    let step = warmUp.next();
    while (!step.done) {
      builds += 1;
      step = warmUp.next();
    }
    // 300 rows per build; the loop stops once a build finds fewer *edges* than the row cap. Every build with
    // rows finds ≥ 400 edges, so 7 builds drain the 2000 rows and an 8th, empty one ends the warm-up.
    expect(step.value).toBe(4000);
    expect(builds).toBe(8);
    expect(builder.watermark()).toBe(BASE_TS + 1999);
    expect(builder.build()).toBe(0);
  });

  it('resumes from the edges table after a restart (a new builder on the same file)', async () => {
    const { database } = await seeded();
    runToCompletion(new NeighborEdgesBuilder(new SqliteMaintenanceRepository(database.db)).warmUp());
    const restarted = new NeighborEdgesBuilder(new SqliteMaintenanceRepository(database.db));
    expect(restarted.build()).toBe(0);
  });

  it('rolls back the whole batch when an upsert fails', async () => {
    const { database } = await seeded();
    const repository = new SqliteMaintenanceRepository(database.db);
    // Keep the table empty but make every upsert fail.
    database.db.exec(`CREATE TRIGGER refuse_edges BEFORE INSERT ON neighbor_edges BEGIN SELECT RAISE(ABORT, 'refused'); END`);
    const builder = new NeighborEdgesBuilder(repository);
    expect(() => builder.build()).toThrow('refused');
    expect(edgeRows(database)).toEqual([]);
  });
});

describe('edge extraction (§5.4 step 4)', () => {
  const prefixes = new NodePrefixIndex([HOP, key('dd'), key('de', 'ff'), key('de', '00'), OBSERVER.toUpperCase()]);
  const row = (overrides: Partial<NeighborScanRow>): NeighborScanRow => ({
    payloadType: 4,
    decodedJson: '{}',
    fromPubkey: ORIGIN,
    pathJson: '',
    observerId: '',
    timestamp: BASE_TS,
    ...overrides,
  });
  const at = rfc3339(BASE_TS);

  it('a zero-hop advert links the originator with the observer that heard it', () => {
    expect([...extractNeighborEdges([row({ observerId: OBSERVER.toUpperCase() })], prefixes)]).toEqual([
      canonicalEdge(ORIGIN, OBSERVER, at),
    ]);
    expect([...extractNeighborEdges([row({ pathJson: '[]', observerId: OBSERVER })], prefixes)]).toHaveLength(1);
  });

  it('a zero-hop advert needs both ends, and they must differ', () => {
    expect([...extractNeighborEdges([row({ observerId: '' })], prefixes)]).toEqual([]);
    expect([...extractNeighborEdges([row({ observerId: ORIGIN })], prefixes)]).toEqual([]);
    expect([...extractNeighborEdges([row({ payloadType: 5, observerId: OBSERVER })], prefixes)]).toEqual([]);
  });

  it('takes the originator from decoded_json.pubKey when from_pubkey is empty', () => {
    const decodedJson = JSON.stringify({ pubKey: ORIGIN.toUpperCase() });
    expect([...extractNeighborEdges([row({ fromPubkey: '', decodedJson, observerId: OBSERVER })], prefixes)]).toEqual([
      canonicalEdge(ORIGIN, OBSERVER, at),
    ]);
  });

  it('skips a row whose decoded_json is NULL, as the reference does', () => {
    expect([...extractNeighborEdges([row({ decodedJson: null, observerId: OBSERVER })], prefixes)]).toEqual([]);
  });

  it('links the observer with the last hop for any packet type, the originator with the first hop for adverts', () => {
    const path = JSON.stringify(['BB', 'dd']);
    expect([...extractNeighborEdges([row({ pathJson: path, observerId: OBSERVER })], prefixes)]).toEqual([
      canonicalEdge(ORIGIN, HOP, at),
      canonicalEdge(OBSERVER, key('dd'), at),
    ]);
    expect([...extractNeighborEdges([row({ payloadType: 2, pathJson: path, observerId: OBSERVER })], prefixes)]).toEqual([
      canonicalEdge(OBSERVER, key('dd'), at),
    ]);
  });

  it('resolves a hop only when exactly one node has that prefix, and never to the node itself', () => {
    expect([...extractNeighborEdges([row({ pathJson: '["de"]', observerId: OBSERVER })], prefixes)]).toEqual([]);
    expect([...extractNeighborEdges([row({ pathJson: '["ee"]', observerId: OBSERVER })], prefixes)]).toEqual([]);
    expect([...extractNeighborEdges([row({ fromPubkey: HOP, pathJson: '["bb"]' })], prefixes)]).toEqual([]);
  });

  it('treats a path_json that is not a list of strings as no hops', () => {
    expect(parsePathHops('not json')).toEqual([]);
    expect(parsePathHops('{"a":1}')).toEqual([]);
    expect(parsePathHops('[1, 2]')).toEqual([]);
    expect(parsePathHops('["aa", null]')).toEqual(['aa', '']);
    expect([...extractNeighborEdges([row({ pathJson: 'garbage', observerId: OBSERVER })], prefixes)]).toEqual([
      canonicalEdge(ORIGIN, OBSERVER, at),
    ]);
  });

  it('stores each pair in canonical order and sums repeats before upserting', () => {
    expect(canonicalEdge('b', 'a', at)).toEqual({ nodeA: 'a', nodeB: 'b', seenAt: at });
    const later = rfc3339(BASE_TS + 60);
    expect(coalesceEdges([canonicalEdge('b', 'a', at), canonicalEdge('a', 'b', later), canonicalEdge('c', 'a', at)])).toEqual({
      contributions: [
        { nodeA: 'a', nodeB: 'b', count: 2, lastSeen: later },
        { nodeA: 'a', nodeB: 'c', count: 1, lastSeen: at },
      ],
      edges: 3,
    });
  });

  it('adds to existing rows and keeps the newest last_seen', async () => {
    const database = await databases.create();
    insertNeighborEdge(database.db, ORIGIN, HOP, rfc3339(BASE_TS - 100), 5);
    const repository = new SqliteMaintenanceRepository(database.db);
    repository.transaction(() =>
      repository.upsertNeighborEdges([
        { nodeA: ORIGIN, nodeB: HOP, count: 2, lastSeen: rfc3339(BASE_TS - 200) },
        { nodeA: HOP, nodeB: OBSERVER, count: 1, lastSeen: rfc3339(BASE_TS) },
      ]),
    );
    expect(edgeRows(database)).toEqual([
      { node_a: ORIGIN, node_b: HOP, count: 7, last_seen: rfc3339(BASE_TS - 100) },
      { node_a: HOP, node_b: OBSERVER, count: 1, last_seen: rfc3339(BASE_TS) },
    ]);
  });

  it('falls back to a full scan when the newest edge time cannot be parsed', async () => {
    const database = await databases.create();
    insertNeighborEdge(database.db, 'x', 'y', 'not a time');
    expect(new NeighborEdgesBuilder(new SqliteMaintenanceRepository(database.db)).watermark()).toBe(0);
  });
});
