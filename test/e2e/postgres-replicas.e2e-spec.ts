/**
 * Several `serve` replicas on one PostgreSQL database, fed by a real Mosquitto (issue 14, items 3 and 5).
 *
 * - Shared subscriptions (`shareGroup`): two and three replicas split the messages (each gets some, together
 *   each message once) and the rows are those of one `serve` on SQLite fed the same messages.
 * - No shareGroup: every replica gets every message; the rows are still those of one replica.
 * - Failover: three replicas, QoS 1 and persistent sessions; one is SIGKILLed in a burst and started again
 *   with its client id: every published message is stored exactly once.
 * - A member that does not come back: what Mosquitto does with the messages it held (measured, logged).
 *
 * Every case has its own database and its own share group: Mosquitto keeps a stopped member's persistent
 * session in its group (see the last case), so a group reused by a later case would lose messages to it.
 */
import type { Pool } from 'pg';
import Database from 'better-sqlite3';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAINTENANCE_JOB_NAMES } from '../../src/config/maintenance-schedules';
import { openPostgresPool } from '../../src/modules/persistence/postgres/postgres-connection';
import { createTestDatabase, type TestDatabase } from '../../src/modules/persistence/postgres/testing/postgres-test-database';
import { dumpPostgres, dumpSqlite, type CanonicalDump, type CanonicalRow } from '../../src/modules/persistence/testing/canonical-dump';
import { loadCorpus, packetMessage, type CorpusPacket } from './support/corpus';
import { storedCorpusPackets } from './support/expected';
import { IngestorProcess } from './support/ingestor-process';
import { MosquittoInstance } from './support/mosquitto';
import { publishAll, publisher } from './support/publisher';

const corpus = loadCorpus();
const stored = storedCorpusPackets(corpus);

/**
 * Maintenance off everywhere: these tests compare what ingest writes. The SQLite run would otherwise build
 * neighbor edges (and refresh resolved_path from them) and persist multibyte support while the messages
 * arrive, at moments no second run repeats.
 */
const NO_MAINTENANCE = Object.fromEntries(MAINTENANCE_JOB_NAMES.map((job) => [job, { enabled: false }]));

type Message = { topic: string; payload: string };

/**
 * The corpus twice: each packet from its own observer, then the same packet from the next observer (with that
 * observer's name and region, so an observer row never depends on which copy came last). The two copies of
 * a transmission follow each other, so on a shared subscription they go to different replicas, which insert
 * the same transmission at about the same moment.
 */
function corpusTwice(): Message[] {
  const observers = [...new Set(corpus.map((p) => p.observer))].sort();
  const first = new Map<string, CorpusPacket>();
  for (const p of corpus) if (!first.has(p.observer)) first.set(p.observer, p);
  const out: Message[] = [];
  for (const p of corpus) {
    const other = first.get(observers[(observers.indexOf(p.observer) + 1) % observers.length])!;
    out.push(packetMessage(p), packetMessage({ ...p, observer_name: other.observer_name }, other.observer, other.iata));
  }
  return out;
}

/** `copies` observers (`<prefix>00`, `<prefix>01`, …) each publishing every stored corpus packet. */
function burst(prefix: string, copies: number): { messages: Message[]; keys: string[] } {
  const messages: Message[] = [];
  const keys: string[] = [];
  for (let o = 0; o < copies; o++) {
    const observer = `${prefix}${String(o).padStart(2, '0')}`;
    for (const p of stored) {
      messages.push(packetMessage(p, observer));
      keys.push(`${p.hash} ${observer}`);
    }
  }
  return { messages, keys };
}

/**
 * Columns the ingest fills from the clock when a message is stored (its arrival time, not anything in the
 * message): RFC3339 text or epoch seconds. Two runs of the same messages fill them at other moments, and
 * replicas also in another order (first_seen is the earliest copy, last_seen the latest), so they are
 * compared by range: each must lie inside the run's time window, then it is replaced by a marker. Everything
 * else (raw and decoded packets, paths, SNR/RSSI, names, regions, packet_count, advert_count …) must be
 * equal. The dump already reduces the `datetime('now')` defaults (created_at, dropped_at) to their shape.
 */
const ARRIVAL_TIME_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  transmissions: ['first_seen', 'last_seen'],
  observations: ['timestamp'],
  observers: ['first_seen', 'last_seen', 'last_packet_at'],
  nodes: ['first_seen', 'last_seen'],
  inactive_nodes: ['first_seen', 'last_seen'],
};
const IN_WINDOW = '<arrival time inside the run>';

interface Window {
  fromMs: number;
  toMs: number;
}

function withArrivalTimesChecked(dump: CanonicalDump, window: Window): CanonicalDump {
  const inWindow = (value: CanonicalRow[string]): boolean => {
    const ms = typeof value === 'number' ? value * 1000 : typeof value === 'string' ? Date.parse(value) : Number.NaN;
    // Stored times are whole seconds (truncated): the window is widened to whole seconds on both ends.
    return ms >= Math.floor(window.fromMs / 1000) * 1000 && ms <= Math.ceil(window.toMs / 1000) * 1000;
  };
  const out: Record<string, CanonicalRow[]> = {};
  for (const [table, rows] of Object.entries(dump)) {
    const columns = ARRIVAL_TIME_COLUMNS[table] ?? [];
    const checked = rows.map((row) => {
      const copy: Record<string, CanonicalRow[string]> = { ...row };
      for (const column of columns) if (inWindow(copy[column])) copy[column] = IN_WINDOW;
      return { row: copy, key: JSON.stringify(copy) };
    });
    // The dump sorted the rows by their text, times included: sorted again without them.
    out[table] = checked.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0)).map(({ row }) => row);
  }
  return out;
}

function expectSameRows(actual: CanonicalDump, expected: CanonicalDump, tables = Object.keys(expected)): void {
  // Every table that differs named at once, then the first difference in full.
  expect(tables.filter((table) => !isDeepStrictEqual(actual[table], expected[table]))).toEqual([]);
  for (const table of tables) expect(actual[table], table).toEqual(expected[table]);
}

interface Stats {
  counters: Record<string, number>;
}

const messagesReceived = async (p: IngestorProcess): Promise<number> => (await p.fetchJson<Stats>('/api/stats')).counters.messages_received;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('e2e: replicas on one PostgreSQL database (issue 14, items 3 and 5)', () => {
  const broker = new MosquittoInstance();
  const processes: IngestorProcess[] = [];
  const databases: TestDatabase[] = [];
  const pools: Pool[] = [];
  const twice = corpusTwice();
  /** The observations one replica stores from `twice`: every stored packet from two observers. */
  const twiceObservations = 2 * stored.length;
  let reference: { dump: CanonicalDump; window: Window };

  async function database(): Promise<{ url: string; pool: Pool }> {
    const db = await createTestDatabase();
    databases.push(db);
    const pool = await openPostgresPool(db.url);
    pools.push(pool);
    return { url: db.url, pool };
  }

  interface SourceOptions {
    clientId: string;
    shareGroup?: string;
    sessionExpirySec?: number;
  }

  /** One `serve` with one QoS 1 source on the test broker; started once its subscription is granted. */
  async function serve(
    db: Record<string, unknown> | undefined,
    source: SourceOptions,
    ingest: Record<string, unknown> = {},
    dir?: string,
  ): Promise<IngestorProcess> {
    const config = {
      ...(db && { db }),
      mqttSources: [{ name: 'replicas', broker: broker.url, qos: 1, sessionExpirySec: 60, ...source }],
      ingest,
      schedules: NO_MAINTENANCE,
    };
    const p = new IngestorProcess({ config, dir });
    processes.push(p);
    await p.start();
    const topic = source.shareGroup ? `\\$share/${source.shareGroup}/meshcore/#` : 'meshcore/#';
    const subscribed = new RegExp(`subscribed to ${topic} \\(QoS 1 granted\\)`);
    await p.waitFor(() => subscribed.test(p.logs), 20_000, `subscribed to ${topic}`);
    return p;
  }

  async function replicas(url: string, n: number, name: string, shareGroup?: string, ingest?: Record<string, unknown>): Promise<IngestorProcess[]> {
    const db = { engine: 'postgres', url };
    return Promise.all(Array.from({ length: n }, (_, i) => serve(db, { clientId: `${name}-${i}`, ...(shareGroup && { shareGroup }) }, ingest)));
  }

  async function publish(messages: readonly Message[]): Promise<void> {
    const client = await publisher(broker.url);
    await publishAll(client, messages, 1);
    await client.endAsync();
  }

  async function countPostgres(pool: Pool, sql = 'SELECT count(*)::int AS n FROM observations'): Promise<number> {
    return (await pool.query<{ n: number }>(sql)).rows[0].n;
  }

  /** Until `expected` observations are stored, then a second more in which nothing else may arrive. */
  async function waitForObservations(p: IngestorProcess, pool: Pool, expected: number, timeoutMs = 60_000): Promise<void> {
    await p.waitFor(async () => (await countPostgres(pool)) >= expected, timeoutMs, `${expected} observations in PostgreSQL`);
    await sleep(1000);
  }

  /** The (transmission hash, observer id) of every observation row, with how many rows each has. */
  async function observationKeys(pool: Pool): Promise<Map<string, number>> {
    const { rows } = await pool.query<{ key: string; n: number }>(
      `SELECT t.hash || ' ' || obs.id AS key, count(*)::int AS n
         FROM observations o JOIN transmissions t ON t.id = o.transmission_id JOIN observers obs ON obs.rowid = o.observer_idx
        GROUP BY 1`,
    );
    return new Map(rows.map((r) => [r.key, r.n]));
  }

  async function stopAll(list: readonly IngestorProcess[]): Promise<void> {
    const codes = await Promise.all(list.map((p) => p.stop()));
    expect(codes).toEqual(list.map(() => 0));
  }

  beforeAll(async () => {
    await broker.start();
    // The single SQLite run the replicas are compared with: the same messages through the same broker.
    const single = await serve(undefined, { clientId: 'reference-sqlite' });
    const fromMs = Date.now();
    await publish(twice);
    await single.waitFor(() => single.count('observations') >= twiceObservations, 60_000, 'all rows in SQLite');
    await sleep(1000);
    const window = { fromMs, toMs: Date.now() };
    await stopAll([single]);
    const sqlite = new Database(single.dbPath, { readonly: true, fileMustExist: true });
    try {
      reference = { dump: withArrivalTimesChecked(dumpSqlite(sqlite), window), window };
    } finally {
      sqlite.close();
    }
    // What the comparison rests on: the run stored every kind of ingest row, and the counters count.
    expect(reference.dump.observations).toHaveLength(twiceObservations);
    expect(reference.dump.transmissions).toHaveLength(stored.length);
    expect(reference.dump.nodes.length).toBeGreaterThan(0);
    expect(reference.dump.nodes.some((n) => Number(n.advert_count) > 1)).toBe(true);
    expect(reference.dump.observers.every((o) => Number(o.packet_count) > 0)).toBe(true);
    // No arrival time fell outside the run (a marker replaced every one of them).
    for (const [table, columns] of Object.entries(ARRIVAL_TIME_COLUMNS)) {
      for (const row of reference.dump[table]) for (const column of columns) expect(row[column], `${table}.${column}`).toBe(IN_WINDOW);
    }
  }, 90_000);

  afterAll(async () => {
    for (const p of processes) {
      await p.kill();
      p.dispose();
    }
    await Promise.all(pools.map((pool) => pool.end()));
    for (const db of databases) await db.drop();
    await broker.dispose();
  });

  for (const n of [2, 3]) {
    it(`${n} replicas on a shared subscription split the messages and store the rows of one SQLite run`, async () => {
      const { url, pool } = await database();
      const group = `replicas-${n}`;
      const started = await replicas(url, n, group, group);
      const fromMs = Date.now();
      await publish(twice);
      await waitForObservations(started[0], pool, twiceObservations);
      const window = { fromMs, toMs: Date.now() };

      // The broker split the messages: every replica got some, together each message exactly once.
      const received = await Promise.all(started.map(messagesReceived));
      console.log(`[replicas] ${n} replicas, shareGroup ${group}: messages received per replica ${received.join(', ')} (published ${twice.length})`);
      for (const count of received) expect(count).toBeGreaterThan(0);
      expect(received.reduce((a, b) => a + b, 0)).toBe(twice.length);

      expectSameRows(withArrivalTimesChecked(await dumpPostgres(pool), window), reference.dump);
      await stopAll(started);
    });
  }

  it('2 replicas without a shareGroup both get every message; the rows, counters included, are those of one replica', async () => {
    const { url, pool } = await database();
    const started = await replicas(url, 2, 'everything');
    const fromMs = Date.now();
    await publish(twice);
    await waitForObservations(started[0], pool, twiceObservations);
    // Both replicas have committed everything they received (each got every message), then the rows are final.
    for (const p of started) await p.waitFor(async () => (await messagesReceived(p)) === twice.length, 30_000, 'every message received');
    await sleep(1000);
    const window = { fromMs, toMs: Date.now() };

    const actual = withArrivalTimesChecked(await dumpPostgres(pool), window);
    // The rows that must match whatever the counters do: one transmission per packet with one observation per
    // observer (the unique keys and ON CONFLICT merge the second replica's copy), the same nodes.
    expectSameRows(
      { ...actual, nodes: actual.nodes.map(({ advert_count: _a, ...n }) => n), observers: actual.observers.map(({ packet_count: _p, ...o }) => o) },
      { ...reference.dump, nodes: reference.dump.nodes.map(({ advert_count: _a, ...n }) => n), observers: reference.dump.observers.map(({ packet_count: _p, ...o }) => o) },
      ['transmissions', 'observations', 'nodes', 'observers'],
    );
    // The per-message counters, measured: nodes.advert_count goes up only for the replica whose insert created
    // the transmission (RETURNING xmax = 0), observers.packet_count once per observation a batch created (since
    // 31d9dc1). Each message reaches both replicas, and yet each is counted once.
    const sum = (rows: readonly CanonicalRow[], column: string) => rows.reduce((total, row) => total + Number(row[column]), 0);
    console.log(
      `[replicas] no shareGroup, 2 replicas: sum(observers.packet_count) ${sum(actual.observers, 'packet_count')} (one SQLite run: ${sum(reference.dump.observers, 'packet_count')}), ` +
        `sum(nodes.advert_count) ${sum(actual.nodes, 'advert_count')} (one SQLite run: ${sum(reference.dump.nodes, 'advert_count')})`,
    );
    expectSameRows(actual, reference.dump);
    await stopAll(started);
  });

  it('failover: a replica SIGKILLed in a burst and started again with its client id; every message is stored exactly once', async () => {
    const { url, pool } = await database();
    // Small batches: the kill lands between commits, with messages committed but not yet acknowledged.
    const ingest = { batchSize: 50, flushIntervalMs: 5 };
    const started = await replicas(url, 3, 'failover', 'failover', ingest);
    const victim = started[1];
    const { messages, keys } = burst('FAILOVER', 12);
    // Two thirds of the burst are published with all three up; the victim dies while the replicas work through it.
    const whileUp = (messages.length * 2) / 3;
    const done = publish(messages.slice(0, whileUp));

    await victim.waitFor(async () => (await countPostgres(pool)) >= 600 && (await messagesReceived(victim)) > 0, 60_000, 'first rows');
    const receivedBeforeKill = await messagesReceived(victim);
    await victim.kill();
    const storedAtKill = await countPostgres(pool);
    expect(storedAtKill).toBeLessThan(whileUp);
    await done;
    // The last third is published while it is down: its share waits in its session at the broker.
    await publish(messages.slice(whileUp));
    const storedWhileDown = await countPostgres(pool);

    const restarted = await serve({ engine: 'postgres', url }, { clientId: 'failover-1', shareGroup: 'failover' }, ingest, victim.dir);
    await waitForObservations(restarted, pool, messages.length, 120_000);

    // Exactly the published (transmission, observer) pairs, each once.
    const rows = await observationKeys(pool);
    expect([...rows.values()].filter((count) => count !== 1)).toEqual([]);
    expect([...rows.keys()].sort()).toEqual([...keys].sort());
    expect(await countPostgres(pool, 'SELECT count(*)::int AS n FROM transmissions')).toBe(stored.length);
    // A message redelivered after the crash (committed before it, never acknowledged) counts once on its observer.
    expect(await countPostgres(pool, 'SELECT sum(packet_count)::int AS n FROM observers')).toBe(messages.length);

    const others = await Promise.all([started[0], started[2]].map(messagesReceived));
    const afterRestart = await messagesReceived(restarted);
    const delivered = others[0] + others[1] + receivedBeforeKill + afterRestart;
    console.log(
      `[failover] published ${messages.length} (${whileUp} with all up, ${messages.length - whileUp} while the victim was down); ` +
        `stored at the kill ${storedAtKill}, when the last third was published ${storedWhileDown}; the victim had received ${receivedBeforeKill} ` +
        `(a snapshot just before the SIGKILL), after its restart it received ${afterRestart} (its session: unacknowledged and queued); ` +
        `the others ${others.join(' + ')}; delivered ${delivered}, so ${delivered - messages.length} delivered twice; stored ${messages.length}, each once`,
    );
    expect(afterRestart).toBeGreaterThan(0);
    await stopAll([started[0], started[2], restarted]);
  }, 150_000);

  it('measured: a member SIGKILLed for good keeps its share of the messages in its session, which the broker drops at expiry', async () => {
    const { url, pool } = await database();
    const db = { engine: 'postgres', url };
    const expirySec = 5;
    const source = (i: number) => ({ clientId: `gone-${i}`, shareGroup: 'gone', sessionExpirySec: expirySec });
    const [a, b, victim] = await Promise.all([0, 1, 2].map((i) => serve(db, source(i))));
    const phases = [burst('GONE1-', 3), burst('GONE2-', 3), burst('GONE3-', 3)];
    const perPhase = phases[0].messages.length;
    const storedOf = (phase: number) =>
      countPostgres(pool, `SELECT count(*)::int AS n FROM observations o JOIN observers obs ON obs.rowid = o.observer_idx WHERE obs.id LIKE 'GONE${phase}-%'`);
    const storedByPhase = () => Promise.all([1, 2, 3].map(storedOf));
    const received = () => Promise.all([a, b].map(messagesReceived));
    /** Until nothing more is stored for 1.5 s. */
    const settled = async () => {
      for (let last = -1; ; await sleep(1500)) {
        const now = await countPostgres(pool);
        if (now === last) return;
        last = now;
      }
    };

    // Phase 1: the victim is frozen (SIGSTOP: connected, reading and acknowledging nothing), so its whole share
    // is unacknowledged at the broker when it is SIGKILLed: sent to it (max_inflight_messages 0 here, no
    // limit) and never acknowledged.
    victim.signal('SIGSTOP');
    await publish(phases[0].messages);
    await victim.kill();
    const killedAt = Date.now();
    // Phase 2: published while its session is alive (it expires expirySec after the connection was lost).
    await publish(phases[1].messages);
    const phase2PublishedWithinMs = Date.now() - killedAt;
    expect(phase2PublishedWithinMs).toBeLessThan(expirySec * 1000);
    await settled();
    const beforeExpiry = await storedByPhase();
    const receivedBeforeExpiry = await received();

    await sleep(Math.max(0, killedAt + (expirySec + 3) * 1000 - Date.now()));
    const afterExpiry = await storedByPhase();
    const receivedAfterExpiry = await received();
    // The same client id, connecting after the expiry, finds no session: nothing held comes back.
    const returned = await serve(db, source(2));
    await sleep(3000);
    const afterReturn = await storedByPhase();
    const returnedGot = await messagesReceived(returned);
    // Phase 3, after the expiry: the two members and the new session share everything again.
    await publish(phases[2].messages);
    await settled();
    const final = await storedByPhase();
    const phase3 = await Promise.all([a, b, returned].map(messagesReceived));

    console.log(
      `[dead member] Mosquitto 2.0.11, 3 members of $share/gone, QoS 1, sessionExpirySec ${expirySec}, ${perPhase} messages per phase. ` +
        `Phase 1 (victim frozen, then SIGKILLed): stored ${beforeExpiry[0]}, lost ${perPhase - beforeExpiry[0]} (its unacknowledged share). ` +
        `Phase 2 (published within ${phase2PublishedWithinMs} ms after the kill, session alive): stored ${beforeExpiry[1]}, ${perPhase - beforeExpiry[1]} routed to the dead session. ` +
        `Messages received by the two live members: ${receivedBeforeExpiry.join(' + ')} before the expiry, ${receivedAfterExpiry.join(' + ')} ${expirySec + 3} s after the kill. ` +
        `Stored after the expiry: ${afterExpiry.slice(0, 2).join(', ')}; after its client id reconnected past the expiry: ${afterReturn.slice(0, 2).join(', ')} (it received ${returnedGot}). ` +
        `Phase 3 (after the expiry): stored ${final[2]} of ${perPhase}, received ${phase3[0] - receivedAfterExpiry[0]} + ${phase3[1] - receivedAfterExpiry[1]} + ${phase3[2] - returnedGot}.`,
    );
    // Nothing held for the dead session went to the others: not at the kill, not while it was alive, not at expiry.
    expect(perPhase - beforeExpiry[0]).toBe(perPhase / 3);
    // Round robin over the three members, the dead one included: a third of phase 2 went into its session.
    expect(perPhase - beforeExpiry[1]).toBe(perPhase / 3);
    expect(afterExpiry).toEqual(beforeExpiry);
    expect(receivedAfterExpiry).toEqual(receivedBeforeExpiry);
    expect(afterReturn).toEqual(beforeExpiry);
    expect(returnedGot).toBe(0);
    expect(final[2]).toBe(perPhase);
    await stopAll([a, b, returned]);
  }, 90_000);
});
