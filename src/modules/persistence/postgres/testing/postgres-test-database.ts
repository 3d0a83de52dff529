import { randomBytes } from 'node:crypto';
import { userInfo } from 'node:os';
import { Client } from 'pg';
import { maskDatabaseUrl } from '../../../../common/masking/mask-broker-url';

/**
 * A throw-away PostgreSQL database for one spec file (no test-framework imports, so the build can include it
 * harmlessly). The admin URL comes from PGTEST_ADMIN_URL; without it the local server is tried as `postgres`,
 * then as the OS user (a cluster set up by hand may have only that role). These machines use trust auth.
 */

export interface TestDatabase {
  /** URL of the new database, as the admin role. */
  readonly url: string;
  readonly name: string;
  /** Drops the database, closing whatever connections are still open on it. Idempotent. */
  drop(): Promise<void>;
}

const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

let adminUrlFound: Promise<string> | undefined;

export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = await (adminUrlFound ??= findAdminUrl());
  const name = `mci_test_${randomBytes(6).toString('hex')}`;
  await asAdmin(adminUrl, `CREATE DATABASE ${name}`);
  let dropped = false;
  return {
    url: withDatabase(adminUrl, name),
    name,
    async drop() {
      if (dropped) return;
      dropped = true;
      await asAdmin(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

async function findAdminUrl(): Promise<string> {
  const fromEnv = process.env.PGTEST_ADMIN_URL;
  const candidates = fromEnv
    ? [fromEnv]
    : [DEFAULT_ADMIN_URL, `postgres://${encodeURIComponent(userInfo().username)}@127.0.0.1:5432/postgres`];
  const failures: string[] = [];
  for (const candidate of candidates) {
    try {
      await asAdmin(candidate, 'SELECT 1');
      return candidate;
    } catch (error) {
      failures.push(`${maskDatabaseUrl(candidate)}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  throw new Error(`no PostgreSQL admin connection for the tests (set PGTEST_ADMIN_URL): ${failures.join('; ')}`);
}

async function asAdmin(adminUrl: string, sql: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

function withDatabase(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
