import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load-config';
import { runToCompletion, runYielding } from './chunked-job.runner';
import { RetentionJobs, type RetentionJobsOptions } from './retention.jobs';
import { WriterPerf } from '../persistence/writer/writer-perf';
import { SqliteMaintenanceRepository } from '../persistence/sqlite/sqlite-maintenance.repository';
import {
  countRows,
  insertClientObserver,
  insertClientReception,
  insertDroppedPacket,
  insertMetrics,
  insertNeighborEdge,
  insertNode,
  insertObservation,
  insertObserver,
  insertTransmission,
  logSink,
  TestDatabases,
  type TestDatabase,
} from './testing/maintenance-fixtures';

/** Ports of the reference's retention tests (main_test.go, db_test.go, issue1283_test.go) plus chunking checks. */

const NOW = Date.parse('2026-07-18T12:00:00Z');
const DAY = 86_400_000;
const daysAgo = (days: number) => `${new Date(NOW - days * DAY).toISOString().slice(0, 19)}Z`;

const databases = new TestDatabases();
afterEach(() => databases.closeAll());

function jobsFor(database: TestDatabase, options: Partial<RetentionJobsOptions> = {}) {
  const sink = logSink();
  const jobs = new RetentionJobs(new SqliteMaintenanceRepository(database.db), {
    log: sink.log,
    now: () => NOW,
    deleteChunkRows: 5000,
    incrementalVacuumPages: 1024,
    ...options,
  });
  return { jobs, lines: sink.lines };
}

describe('TestMoveStaleNodes*', () => {
  it('moves nodes not seen within nodeDays to inactive_nodes, column for column', async () => {
    const database = await databases.create();
    const { db } = database;
    insertNode(db, { publicKey: 'aa01', lastSeen: daysAgo(10), multibyteSup: 2, multibyteEvidence: 'advert' });
    insertNode(db, { publicKey: 'aa02', lastSeen: daysAgo(1) });
    const before = db.prepare(`SELECT * FROM nodes WHERE public_key = 'aa01'`).get();
    const { jobs, lines } = jobsFor(database);

    expect(jobs.moveStaleNodes(7)).toBe(1);

    expect(db.prepare(`SELECT public_key FROM nodes`).pluck().all()).toEqual(['aa02']);
    // SELECT * copies by position: the moved row must come out identical, every column in place.
    expect(db.prepare(`SELECT * FROM inactive_nodes`).all()).toEqual([before]);
    expect(lines).toEqual(['Moved 1 node(s) to inactive_nodes (not seen in 7 days)']);
  });

  it('never moves a node whose last_seen is NULL, and logs nothing when nothing moved', async () => {
    const database = await databases.create();
    insertNode(database.db, { publicKey: 'aa03', lastSeen: null });
    const { jobs, lines } = jobsFor(database);
    expect(jobs.moveStaleNodes(7)).toBe(0);
    expect(countRows(database.db, 'nodes')).toBe(1);
    expect(countRows(database.db, 'inactive_nodes')).toBe(0);
    expect(lines).toEqual([]);
  });

  it('replaces an older copy already in inactive_nodes', async () => {
    const database = await databases.create();
    insertNode(database.db, { publicKey: 'aa04', name: 'old copy', lastSeen: daysAgo(40) }, 'inactive_nodes');
    insertNode(database.db, { publicKey: 'aa04', name: 'came back, went quiet again', lastSeen: daysAgo(8) });
    const { jobs } = jobsFor(database);
    expect(jobs.moveStaleNodes(7)).toBe(1);
    expect(database.db.prepare(`SELECT name FROM inactive_nodes WHERE public_key = 'aa04'`).pluck().all()).toEqual([
      'came back, went quiet again',
    ]);
  });
});

describe('TestRemoveStaleObservers*', () => {
  it('soft-deletes observers not seen within observerDays and drops the metrics of inactive observers', async () => {
    const database = await databases.create();
    const { db } = database;
    insertObserver(db, { id: 'stale', lastSeen: daysAgo(20) });
    insertObserver(db, { id: 'fresh', lastSeen: daysAgo(1) });
    insertObserver(db, { id: 'gone-before', lastSeen: daysAgo(60), inactive: 1 });
    for (const id of ['stale', 'fresh', 'gone-before']) insertMetrics(db, id, daysAgo(2));
    const { jobs, lines } = jobsFor(database);

    expect(jobs.removeStaleObservers(14)).toBe(1);

    const states = db.prepare(`SELECT id, inactive FROM observers ORDER BY id`).all();
    expect(states).toEqual([
      { id: 'fresh', inactive: 0 },
      { id: 'gone-before', inactive: 1 },
      { id: 'stale', inactive: 1 },
    ]);
    // Rows stay (observations join them by rowid); only the metrics of every inactive observer go.
    expect(db.prepare(`SELECT observer_id FROM observer_metrics`).pluck().all()).toEqual(['fresh']);
    expect(lines).toEqual(['Marked 1 observer(s) as inactive (not seen in 14 days)']);
  });

  it('leaves metrics alone when no observer changed', async () => {
    const database = await databases.create();
    insertObserver(database.db, { id: 'gone-before', lastSeen: daysAgo(60), inactive: 1 });
    insertMetrics(database.db, 'gone-before', daysAgo(2));
    const { jobs } = jobsFor(database);
    expect(jobs.removeStaleObservers(14)).toBe(0);
    expect(countRows(database.db, 'observer_metrics')).toBe(1);
  });

  it('treats NULL inactive as active', async () => {
    const database = await databases.create();
    insertObserver(database.db, { id: 'legacy', lastSeen: daysAgo(30), inactive: null });
    const { jobs } = jobsFor(database);
    expect(jobs.removeStaleObservers(14)).toBe(1);
  });

  it.each([-1, -5])('keeps observers forever with observerDays %i', async (days) => {
    const database = await databases.create();
    insertObserver(database.db, { id: 'ancient', lastSeen: daysAgo(3650) });
    insertMetrics(database.db, 'ancient', daysAgo(1));
    const { jobs, lines } = jobsFor(database);
    expect(jobs.removeStaleObservers(days)).toBe(0);
    expect(countRows(database.db, 'observers', 'inactive = 0')).toBe(1);
    expect(countRows(database.db, 'observer_metrics')).toBe(1);
    expect(lines).toEqual([]);
  });
});

describe('TestNodeDaysOrDefault / TestObserverDaysOrDefault (config coercion the jobs rely on)', () => {
  it.each([
    [undefined, 7],
    [0, 7],
    [-3, 7],
    [30, 30],
  ])('retention.nodeDays %s → %i', (nodeDays, expected) => {
    expect(resolvedRetention({ nodeDays }).nodeDays).toBe(expected);
  });

  it.each([
    [undefined, 14],
    [0, 14],
    [-1, -1],
    [-7, -7],
    [3, 3],
  ])('retention.observerDays %s → %i (negative = keep forever)', (observerDays, expected) => {
    expect(resolvedRetention({ observerDays }).observerDays).toBe(expected);
  });
});

/** The retention block as load-config resolves it from a file with these values (§1.2 coercions). */
function resolvedRetention(retention: Record<string, number | undefined>) {
  const dir = mkdtempSync(path.join(tmpdir(), 'meshcore-retention-'));
  try {
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ retention }));
    return loadConfig({ cwd: dir, env: {} }).config.retention;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('TestPruneOldMetrics', () => {
  it('deletes observer_metrics rows older than metricsDays and keeps the rest', async () => {
    const database = await databases.create();
    insertMetrics(database.db, 'obs1', daysAgo(45));
    insertMetrics(database.db, 'obs1', daysAgo(31));
    insertMetrics(database.db, 'obs1', daysAgo(29));
    insertMetrics(database.db, 'obs2', daysAgo(0));
    const { jobs, lines } = jobsFor(database);
    expect(runToCompletion(jobs.pruneOldMetrics(30))).toBe(2);
    expect(database.db.prepare(`SELECT timestamp FROM observer_metrics ORDER BY timestamp`).pluck().all()).toEqual([
      daysAgo(29),
      daysAgo(0),
    ]);
    expect(lines).toEqual(['[metrics] Pruned 2 rows older than 30 days']);
  });
});

describe('PruneDroppedPackets', () => {
  it('prunes by dropped_at, including the whole cutoff calendar day (text comparison QUIRK)', async () => {
    const database = await databases.create();
    // Cutoff for 30 days is 2026-06-18T12:00:00Z.
    insertDroppedPacket(database.db, '2026-06-17 23:00:00', 'older');
    insertDroppedPacket(database.db, '2026-06-18 23:59:59', 'same-day-but-newer');
    insertDroppedPacket(database.db, '2026-06-19 00:00:00', 'next-day');
    insertDroppedPacket(database.db, '2026-07-18 11:00:00', 'today');
    const { jobs, lines } = jobsFor(database);
    expect(runToCompletion(jobs.pruneDroppedPackets(30))).toBe(2);
    expect(database.db.prepare(`SELECT hash FROM dropped_packets ORDER BY id`).pluck().all()).toEqual(['next-day', 'today']);
    expect(lines).toEqual(['Pruned 2 dropped packet(s) older than 30 days']);
  });

  it('does nothing for days <= 0', async () => {
    const database = await databases.create();
    insertDroppedPacket(database.db, '2000-01-01 00:00:00');
    const { jobs } = jobsFor(database);
    expect(runToCompletion(jobs.pruneDroppedPackets(0))).toBe(0);
    expect(countRows(database.db, 'dropped_packets')).toBe(1);
  });
});

describe('TestIngestorPruneOldPackets (issue1283_test.go)', () => {
  it('deletes transmissions older than packetDays by first_seen, their observations first', async () => {
    const database = await databases.create();
    const { db } = database;
    const old1 = insertTransmission(db, { hash: 'old1', firstSeen: daysAgo(10) });
    const old2 = insertTransmission(db, { hash: 'old2', firstSeen: daysAgo(10) });
    const fresh = insertTransmission(db, { hash: 'fresh', firstSeen: daysAgo(0) });
    insertObservation(db, { transmissionId: old1, timestamp: NOW / 1000 - 10 * 86400 });
    // Still being heard today: first_seen decides, so it goes anyway.
    insertObservation(db, { transmissionId: old2, timestamp: NOW / 1000 - 60 });
    insertObservation(db, { transmissionId: fresh, timestamp: NOW / 1000 - 60 });
    const { jobs, lines } = jobsFor(database);

    expect(runToCompletion(jobs.pruneOldPackets(5))).toBe(2);

    expect(db.prepare(`SELECT hash FROM transmissions`).pluck().all()).toEqual(['fresh']);
    expect(db.prepare(`SELECT transmission_id FROM observations`).pluck().all()).toEqual([fresh]);
    expect(lines).toEqual(['[prune] deleted 2 transmissions older than 5 days']);
  });

  it('is disabled with packetDays 0', async () => {
    const database = await databases.create();
    insertTransmission(database.db, { hash: 'old', firstSeen: daysAgo(1000) });
    const { jobs } = jobsFor(database);
    expect(runToCompletion(jobs.pruneOldPackets(0))).toBe(0);
    expect(countRows(database.db, 'transmissions')).toBe(1);
  });
});

describe('PruneOldClientReceptions', () => {
  it('prunes client_receptions by rx_at and client_observers by last_seen', async () => {
    const database = await databases.create();
    const { db } = database;
    insertClientReception(db, 'rx1', 'aa', daysAgo(8));
    insertClientReception(db, 'rx1', 'bb', daysAgo(6));
    insertClientObserver(db, 'rx-old', daysAgo(9));
    insertClientObserver(db, 'rx-new', daysAgo(1));
    insertClientObserver(db, 'rx-never', null);
    const { jobs, lines } = jobsFor(database);

    expect(runToCompletion(jobs.pruneOldClientReceptions(7))).toBe(1);

    expect(db.prepare(`SELECT heard_key FROM client_receptions`).pluck().all()).toEqual(['bb']);
    expect(db.prepare(`SELECT pubkey FROM client_observers ORDER BY pubkey`).pluck().all()).toEqual(['rx-never', 'rx-new']);
    expect(lines).toEqual(['[prune] deleted 1 client_receptions older than 7 days']);
  });

  it('is disabled with clientRxDays 0', async () => {
    const database = await databases.create();
    insertClientReception(database.db, 'rx1', 'aa', daysAgo(800));
    const { jobs } = jobsFor(database);
    expect(runToCompletion(jobs.pruneOldClientReceptions(0))).toBe(0);
    expect(countRows(database.db, 'client_receptions')).toBe(1);
  });
});

describe('PruneNeighborEdges', () => {
  it('deletes edges whose last_seen is older than maxAgeDays', async () => {
    const database = await databases.create();
    insertNeighborEdge(database.db, 'aa', 'bb', daysAgo(6));
    insertNeighborEdge(database.db, 'aa', 'cc', daysAgo(4));
    insertNeighborEdge(database.db, 'bb', 'cc', null);
    const { jobs, lines } = jobsFor(database);
    expect(runToCompletion(jobs.pruneNeighborEdges(5))).toBe(1);
    expect(database.db.prepare(`SELECT node_b FROM neighbor_edges ORDER BY node_a, node_b`).pluck().all()).toEqual(['cc', 'cc']);
    expect(lines).toEqual(['[neighbor-prune] removed 1 DB rows older than 5 days']);
  });
});

describe('SoftDeleteBlacklistedObservers (§2.5)', () => {
  it('marks blacklisted observers inactive, matching ids case-insensitively', async () => {
    const database = await databases.create();
    insertObserver(database.db, { id: 'ABCdef01' });
    insertObserver(database.db, { id: 'other' });
    insertObserver(database.db, { id: 'Dead', inactive: 1 });
    const { jobs, lines } = jobsFor(database);

    // The config loader lower-cases blacklist entries.
    expect(jobs.softDeleteBlacklistedObservers(['abcdef01', 'dead', 'not-in-db'])).toBe(1);
    expect(database.db.prepare(`SELECT id, inactive FROM observers ORDER BY id`).all()).toEqual([
      { id: 'ABCdef01', inactive: 1 },
      { id: 'Dead', inactive: 1 },
      { id: 'other', inactive: 0 },
    ]);
    expect(lines).toEqual(['[observer-blacklist] soft-deleted 1 blacklisted observer(s)']);

    expect(jobs.softDeleteBlacklistedObservers(['abcdef01'])).toBe(0);
  });

  it('blacklists nothing with an empty list', async () => {
    const database = await databases.create();
    insertObserver(database.db, { id: 'x' });
    const { jobs } = jobsFor(database);
    expect(jobs.softDeleteBlacklistedObservers([])).toBe(0);
    expect(countRows(database.db, 'observers', 'inactive = 0')).toBe(1);
  });
});

describe('chunked deletes', () => {
  /** Deterministic pseudo-random numbers (no flaky seeds). */
  function sequence(seed: number): () => number {
    let state = seed;
    return () => {
      state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
      return state / 2_147_483_648;
    };
  }

  /** The same mixed-age data in every table, with ties on the cutoff and NULLs. */
  function seedEverything(database: TestDatabase): void {
    const { db } = database;
    const random = sequence(42);
    const stamp = (spanDays: number) => daysAgo(Math.floor(random() * spanDays * 24) / 24);
    db.transaction(() => {
      for (let i = 0; i < 400; i += 1) {
        insertMetrics(db, `obs${i}`, i % 50 === 0 ? daysAgo(30) : stamp(60));
        insertDroppedPacket(db, stamp(60).replace('T', ' ').replace('Z', ''), `d${i}`);
        insertClientReception(db, `rx${i % 5}`, `k${i}`, stamp(20));
        insertNeighborEdge(db, `a${i}`, `b${i}`, i % 40 === 0 ? null : stamp(10));
        const tx = insertTransmission(db, { hash: `t${i}`, firstSeen: i % 60 === 0 ? daysAgo(5) : stamp(10) });
        const observations = Math.floor(random() * 4);
        for (let o = 0; o < observations; o += 1) {
          insertObservation(db, { transmissionId: tx, pathJson: `["p${o}"]`, timestamp: 1_780_000_000 + o });
        }
      }
    })();
  }

  const TABLES = ['observer_metrics', 'dropped_packets', 'client_receptions', 'neighbor_edges', 'transmissions', 'observations'];

  function snapshot(database: TestDatabase): Record<string, unknown[]> {
    return Object.fromEntries(TABLES.map((table) => [table, database.db.prepare(`SELECT * FROM ${table} ORDER BY rowid`).all()]));
  }

  it('leave exactly what the reference single statements leave', async () => {
    const reference = await databases.create('reference.db');
    const chunked = await databases.create('chunked.db');
    seedEverything(reference);
    seedEverything(chunked);

    // The reference's statements, one shot each (§5.2).
    const r = reference.db;
    r.prepare(`DELETE FROM observer_metrics WHERE timestamp < ?`).run(daysAgo(30));
    r.prepare(`DELETE FROM dropped_packets WHERE dropped_at < ?`).run(daysAgo(30));
    r.prepare(`DELETE FROM client_receptions WHERE rx_at < ?`).run(daysAgo(7));
    r.prepare(`DELETE FROM neighbor_edges WHERE last_seen < ?`).run(daysAgo(5));
    r.transaction(() => {
      r.prepare(`DELETE FROM observations WHERE transmission_id IN (SELECT id FROM transmissions WHERE first_seen < ?)`).run(
        daysAgo(5),
      );
      r.prepare(`DELETE FROM transmissions WHERE first_seen < ?`).run(daysAgo(5));
    })();

    let pauses = 0;
    const pause = async () => {
      pauses += 1;
    };
    const { jobs } = jobsFor(chunked, { deleteChunkRows: 7 });
    const metrics = await runYielding(jobs.pruneOldMetrics(30), { pause });
    const dropped = await runYielding(jobs.pruneDroppedPackets(30), { pause });
    const receptions = await runYielding(jobs.pruneOldClientReceptions(7), { pause });
    const edges = await runYielding(jobs.pruneNeighborEdges(5), { pause });
    const packets = await runYielding(jobs.pruneOldPackets(5), { pause });

    expect(snapshot(chunked)).toEqual(snapshot(reference));
    expect(metrics).toBeGreaterThan(7);
    expect(dropped).toBeGreaterThan(7);
    expect(receptions).toBeGreaterThan(7);
    expect(edges).toBeGreaterThan(7);
    expect(packets).toBeGreaterThan(7);
    // Many short transactions with the event loop in between, not one long one.
    expect(pauses).toBeGreaterThan(5 * 5);
  });

  it('bound each packet chunk by rows, observations included', async () => {
    const database = await databases.create();
    const { db } = database;
    for (let i = 0; i < 10; i += 1) {
      const tx = insertTransmission(db, { hash: `t${i}`, firstSeen: daysAgo(30) });
      for (let o = 0; o < 3; o += 1) insertObservation(db, { transmissionId: tx, pathJson: `["${o}"]`, timestamp: 1 });
    }
    const repository = new SqliteMaintenanceRepository(db);
    const chunks = repository.transmissionsFirstSeenBefore(daysAgo(5));
    // 4 rows per transmission: 9 rows allow 2 transmissions (8 rows), never a third.
    expect(repository.transaction(() => chunks.next(9))).toEqual({ deleted: 2, rows: 8, exhausted: false });
    expect(countRows(db, 'observations')).toBe(24);
    // A budget smaller than one transmission still deletes it alone, so a prune always progresses.
    expect(repository.transaction(() => chunks.next(2))).toEqual({ deleted: 1, rows: 4, exhausted: false });
    expect(repository.transaction(() => chunks.next(1000))).toEqual({ deleted: 7, rows: 28, exhausted: true });
    expect(countRows(db, 'transmissions')).toBe(0);
    expect(countRows(db, 'observations')).toBe(0);
  });

  it('can be abandoned between chunks (shutdown) with every finished chunk committed', async () => {
    const database = await databases.create();
    for (let i = 0; i < 30; i += 1) insertMetrics(database.db, 'obs', daysAgo(40 + i));
    const { jobs } = jobsFor(database, { deleteChunkRows: 10 });
    let stop = false;
    const run = runYielding(jobs.pruneOldMetrics(30), {
      pause: async () => {
        stop = true;
      },
      shouldStop: () => stop,
    });
    await expect(run).rejects.toThrow('stopped for shutdown');
    expect(countRows(database.db, 'observer_metrics')).toBe(20);
  });
});

describe('upkeep', () => {
  it('runs the incremental vacuum and the WAL checkpoint without errors', async () => {
    const database = await databases.create();
    insertMetrics(database.db, 'obs', daysAgo(1));
    const { jobs, lines } = jobsFor(database);
    jobs.runIncrementalVacuum();
    const outcome = jobs.checkpointWal();
    expect(outcome?.busy).toBe(false);
    expect(lines.filter((line) => line.includes('error'))).toEqual([]);
  });

  it('logs the incremental vacuum error instead of throwing', async () => {
    const database = await databases.create();
    const { jobs, lines } = jobsFor(database);
    database.db.close();
    expect(() => jobs.runIncrementalVacuum()).not.toThrow();
    expect(lines[0]).toMatch(/^\[vacuum\] incremental_vacuum error: /);
  });

  it('reports writes that held the connection beyond the slow-writer threshold, per component', async () => {
    const database = await databases.create();
    insertMetrics(database.db, 'obs', daysAgo(90));
    const slow = logSink();
    const perf = new WriterPerf(-1, slow.log);
    const { jobs } = jobsFor(database, { writerPerf: perf });
    runToCompletion(jobs.pruneOldMetrics(30));
    runToCompletion(jobs.pruneDroppedPackets(30));
    expect(slow.lines).toHaveLength(2);
    expect(slow.lines[0]).toMatch(/^\[db-slow-writer\] component=prune_metrics duration=\d+\.\dms query=tx-body$/);
    expect(slow.lines[1]).toMatch(/^\[db-slow-writer\] component=prune_dropped_packets /);
    expect(Object.keys(perf.snapshot())).toEqual(['prune_metrics', 'prune_dropped_packets']);
    expect(perf.snapshot().prune_metrics.count).toBe(1);
  });

  it('counts every row a packet prune deletes, observations included, and times each chunk', async () => {
    const database = await databases.create();
    for (let i = 0; i < 5; i += 1) {
      const tx = insertTransmission(database.db, { hash: `old${i}`, firstSeen: daysAgo(40) });
      insertObservation(database.db, { transmissionId: tx, timestamp: Date.parse(daysAgo(40)) / 1000 + i });
      insertObservation(database.db, { transmissionId: tx, timestamp: Date.parse(daysAgo(40)) / 1000 + i + 1 });
    }
    const perf = new WriterPerf(1e9, () => {});
    const { jobs } = jobsFor(database, { writerPerf: perf, deleteChunkRows: 6 });
    const tally = { rows: 0 };
    expect(runToCompletion(jobs.pruneOldPackets(30, tally))).toBe(5);
    expect(tally.rows).toBe(15);
    // 6 rows a chunk = two transmissions with their observations: 2 + 2 + 1, and a last empty look.
    expect(perf.snapshot().prune_packets.count).toBeGreaterThanOrEqual(3);
  });

  describe('paced by chunkTargetMs (runs beside ingest)', () => {
    /** 1 000 old transmissions with one observation each (2 000 rows), and the maxRows each chunk asked for. */
    async function pacedRun(chunkTargetMs: number, deleteChunkRows = 5000) {
      const database = await databases.create();
      database.db.transaction(() => {
        for (let i = 0; i < 1000; i += 1) {
          const tx = insertTransmission(database.db, { hash: `old${i}`, firstSeen: daysAgo(40) });
          insertObservation(database.db, { transmissionId: tx, timestamp: Date.parse(daysAgo(40)) / 1000 });
        }
      })();
      const repository = new SqliteMaintenanceRepository(database.db);
      const asked: number[] = [];
      const original = repository.transmissionsFirstSeenBefore.bind(repository);
      repository.transmissionsFirstSeenBefore = (cutoff: string) => {
        const chunks = original(cutoff);
        return { next: (maxRows: number) => (asked.push(maxRows), chunks.next(maxRows)) };
      };
      const jobs = new RetentionJobs(repository, { log: () => {}, now: () => NOW, deleteChunkRows, incrementalVacuumPages: 1024, chunkTargetMs });
      const tally = { rows: 0 };
      expect(runToCompletion(jobs.pruneOldPackets(30, tally))).toBe(1000);
      expect(tally.rows).toBe(2000);
      expect(countRows(database.db, 'transmissions')).toBe(0);
      expect(countRows(database.db, 'observations')).toBe(0);
      return asked;
    }

    it('starts small and grows to deleteChunkRows when chunks are cheap against the target', async () => {
      // A target no chunk can reach: after the 500-row first chunk the rest goes in one deleteChunkRows chunk.
      expect(await pacedRun(1e9)).toEqual([500, 5000]);
    });

    it('never asks for more than deleteChunkRows, even for the first chunk', async () => {
      expect(await pacedRun(1e9, 300)).toEqual(Array(7).fill(300));
    });

    it('shrinks to the 50-row floor when every row costs more than the target', async () => {
      const asked = await pacedRun(1e-9);
      expect(asked[0]).toBe(500);
      expect(new Set(asked.slice(1))).toEqual(new Set([50]));
    });
  });
});
