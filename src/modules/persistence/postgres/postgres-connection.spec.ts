import { inspect } from 'node:util';
import type { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresPool, POSTGRES_APPLICATION_NAME, PostgresConnectionError } from './postgres-connection';
import { createTestDatabase, type TestDatabase } from './testing/postgres-test-database';

const PASSWORD = 'Sup3r-Secret-pw';

/** The test database's URL with PASSWORD, for another database or role; trust auth ignores the password. */
function urlWithPassword(base: string, database: string, user?: string): string {
  const url = new URL(base);
  if (user) url.username = user;
  url.password = PASSWORD;
  url.pathname = `/${database}`;
  return url.toString();
}

async function connectionFailure(url: string): Promise<PostgresConnectionError> {
  const error: unknown = await openPostgresPool(url, { connectionTimeoutMs: 5_000 }).then(
    async (pool) => {
      await pool.end();
      throw new Error(`connected to ${url}`);
    },
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(PostgresConnectionError);
  return error as PostgresConnectionError;
}

/** Everything a log line or a crash report could print of the error. */
function everythingPrinted(error: Error): string {
  const views = [error.message, error.stack ?? '', String(error), inspect(error, { depth: 5 }), JSON.stringify(error)];
  return views.join('\n');
}

describe('openPostgresPool', () => {
  let database: TestDatabase;
  let pool: Pool;

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await pool?.end();
    await database?.drop();
  });

  it(`opens a checked pool whose connections are named ${POSTGRES_APPLICATION_NAME}`, async () => {
    pool = await openPostgresPool(urlWithPassword(database.url, database.name));
    const { rows } = await pool.query(
      `SELECT current_setting('application_name') AS setting,
              (SELECT application_name FROM pg_stat_activity WHERE pid = pg_backend_pid()) AS activity`,
    );
    expect(rows).toEqual([{ setting: POSTGRES_APPLICATION_NAME, activity: POSTGRES_APPLICATION_NAME }]);
  });

  it.each([
    ['a missing database', (base: string) => urlWithPassword(base, 'mci_no_such_database'), /does not exist/],
    ['a refused port', () => `postgres://meshcore:${PASSWORD}@127.0.0.1:1/meshcore`, /ECONNREFUSED/],
    ['a postgresql:// URL', () => `postgresql://meshcore:${PASSWORD}@127.0.0.1:1/meshcore`, /ECONNREFUSED/],
    ['a password in the query', () => `postgres://meshcore@127.0.0.1:1/meshcore?password=${PASSWORD}`, /ECONNREFUSED/],
    ['an unknown role', (base: string) => urlWithPassword(base, 'postgres', 'mci_no_such_role'), /role "mci_no_such_role"/],
  ])('fails on %s naming the URL with its password masked', async (_case, urlFor, reason) => {
    const url = urlFor(database.url);
    const error = await connectionFailure(url);
    expect(error.message).toMatch(reason);
    expect(error.message).toContain('cannot connect to PostgreSQL at postgres');
    // Names the key (and its env override) that supplied the URL, after the whole masked URL.
    expect(error.message).toMatch(/(:\*\*\*\*@|password=\*\*\*\*)\S* \(config db\.url, or env INGESTOR_DB_URL when set\): /);
    expect(everythingPrinted(error)).not.toContain(PASSWORD);
  });

  it('fails on a URL it cannot parse without repeating the password', async () => {
    const error = await connectionFailure(`postgres://meshcore:${PASSWORD}@[::1/meshcore`);
    expect(error.message).toContain('postgres://meshcore:****@');
    expect(everythingPrinted(error)).not.toContain(PASSWORD);
  });

  it('survives an idle connection being killed and logs it masked', async () => {
    const lines: string[] = [];
    const watched = await openPostgresPool(urlWithPassword(database.url, database.name), { log: (l) => lines.push(l) });
    try {
      const pid = (await watched.query(`SELECT pg_backend_pid() AS pid`)).rows[0].pid as number;
      await pool.query(`SELECT pg_terminate_backend($1)`, [pid]);
      await expect.poll(() => lines.length, { timeout: 5_000 }).toBeGreaterThan(0);
      expect(lines[0]).toMatch(/^PostgreSQL idle connection failed: terminating connection/);
      expect(lines.join('\n')).not.toContain(PASSWORD);
      expect((await watched.query(`SELECT 1 AS ok`)).rows).toEqual([{ ok: 1 }]);
    } finally {
      await watched.end();
    }
  });
});
