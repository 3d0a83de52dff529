/**
 * Maintenance leadership on a real PostgreSQL database: one of several replicas leads, every replica can say
 * which, and when the leader stops or its session is killed another one takes over at its next poll.
 */
import type { Pool } from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresPool } from './postgres-connection';
import { PostgresLeaderLock } from './postgres-leader-lock';
import { createTestDatabase, type TestDatabase } from './testing/postgres-test-database';

const POLL_MS = 100;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean, timeoutMs = 5_000): Promise<number> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error('timed out');
    await sleep(20);
  }
  return Date.now() - started;
}

describe('PostgresLeaderLock', () => {
  let database: TestDatabase;
  let admin: Pool;
  const locks: PostgresLeaderLock[] = [];
  const logs: string[] = [];
  const lock = (replicaId: string) => {
    const made = new PostgresLeaderLock({ url: database.url, replicaId, log: (line) => logs.push(line), pollMs: POLL_MS });
    locks.push(made);
    return made;
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    admin = await openPostgresPool(database.url);
  });

  afterEach(async () => {
    await Promise.all(locks.splice(0).map((l) => l.stop()));
  });

  afterAll(async () => {
    await admin?.end();
    await database?.drop();
  });

  it('exactly one of three replicas leads, and all three name it', async () => {
    const [a, b, c] = [lock('replica-a'), lock('replica-b'), lock('replica-c')];
    await Promise.all([a.start(), b.start(), c.start()]);
    const leaders = [a, b, c].filter((l) => l.isLeader);
    expect(leaders).toHaveLength(1);
    for (const l of [a, b, c]) expect(await l.currentLeader()).toBe(leaders[0].replicaId);
    expect(logs).toContain(`[maintenance] this replica (${leaders[0].replicaId}) is the maintenance leader`);
  });

  it('when the leader steps down another replica takes over within a poll or two', async () => {
    const a = lock('first');
    await a.start();
    const b = lock('second');
    await b.start();
    expect([a.isLeader, b.isLeader]).toEqual([true, false]);
    await a.stop();
    const tookMs = await until(() => b.isLeader);
    expect(tookMs).toBeLessThan(10 * POLL_MS + 1_000);
    expect(await b.currentLeader()).toBe('second');
  });

  it("when the leader's session dies (its process killed, the server restarted) it stops leading and another takes over", async () => {
    const a = lock('doomed');
    await a.start();
    const b = lock('heir');
    await b.start();
    expect(a.isLeader).toBe(true);
    // What a SIGKILL of the leader amounts to on the server side: its session ends, the lock with it.
    const { rows } = await admin.query<{ n: string }>(
      "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE application_name = 'meshcore-ingestor maintenance doomed'",
    );
    expect(Number(rows[0].n)).toBe(1);
    await until(() => b.isLeader);
    await until(() => !a.isLeader);
    expect(logs.some((line) => line.startsWith('[maintenance] no longer the leader: leader lock connection'))).toBe(true);
    // The old leader comes back as a follower, not as a second leader.
    await sleep(3 * POLL_MS);
    expect([a.isLeader, b.isLeader]).toEqual([false, true]);
    expect(await a.currentLeader()).toBe('heir');
  });
});
