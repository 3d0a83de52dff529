/**
 * Maintenance leadership on a real PostgreSQL database: one of several replicas leads, every replica can say
 * which; when the leader steps down or its process is killed another one takes over at its next poll, and a
 * killed session makes its replica give leadership up (never two leaders).
 */
import { spawn } from 'node:child_process';
import type { Pool } from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresPool } from './postgres-connection';
import { MAINTENANCE_LEADER_LOCK_KEY, PostgresLeaderLock } from './postgres-leader-lock';
import { createTestDatabase, type TestDatabase } from './testing/postgres-test-database';

const POLL_MS = 100;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean, timeoutMs = 15_000): Promise<number> {
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

  it("when the leader's session is killed (the server restarted, a pooler dropped it) it gives leadership up; then exactly one leads", async () => {
    const a = lock('doomed');
    await a.start();
    const b = lock('heir');
    await b.start();
    expect(a.isLeader).toBe(true);
    const { rows } = await admin.query<{ n: string }>(
      "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE application_name = 'meshcore-ingestor maintenance doomed'",
    );
    expect(Number(rows[0].n)).toBe(1);
    await until(() => logs.some((line) => line.startsWith('[maintenance] no longer the leader: leader lock connection')));
    // Both poll again; whichever takes the lock first leads, and only that one.
    await until(() => a.isLeader || b.isLeader);
    await sleep(5 * POLL_MS);
    expect([a, b].filter((l) => l.isLeader)).toHaveLength(1);
    const leader = [a, b].find((l) => l.isLeader)!;
    expect(await a.currentLeader()).toBe(leader.replicaId);
    expect(await b.currentLeader()).toBe(leader.replicaId);
  });

  it('when the leading process is SIGKILLed another replica takes over within a few seconds', async () => {
    // A real process holds the lock the way a replica does (its own session, its id in application_name).
    const child = spawn(
      process.execPath,
      [
        '-e',
        `const { Client } = require('pg');
         const c = new Client({ connectionString: process.argv[1], application_name: 'meshcore-ingestor maintenance child' });
         c.connect().then(() => c.query('SELECT pg_advisory_lock($1)', [process.argv[2]])).then(() => console.log('locked'));
         setInterval(() => {}, 1000);`,
        database.url,
        String(MAINTENANCE_LEADER_LOCK_KEY),
      ],
      { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve) => child.stdout.on('data', (d) => String(d).includes('locked') && resolve()));
      const b = lock('survivor');
      await b.start();
      expect(b.isLeader).toBe(false);
      expect(await b.currentLeader()).toBe('child');
      child.kill('SIGKILL');
      const tookMs = await until(() => b.isLeader);
      expect(tookMs).toBeLessThan(5_000);
      expect(await b.currentLeader()).toBe('survivor');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
