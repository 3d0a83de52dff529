import { Pool, type ClientBase } from 'pg';
import { maskDatabaseUrl, SecretMasker } from '../../../common/masking/mask-broker-url';
import { DB_URL_ENV } from '../../../config/load-config';

/** What the server shows in pg_stat_activity for our connections. */
export const POSTGRES_APPLICATION_NAME = 'meshcore-ingestor';

/** pg waits forever for a connection by default; a black-holed host would then hang the start. */
export const POSTGRES_CONNECTION_TIMEOUT_MS = 10_000;

/** Anything that runs queries: a pool, or one connection checked out of it (or a plain Client). */
export type PostgresQueryable = Pool | ClientBase;

export interface PostgresPoolOptions {
  /** Connections in the pool (pg's `max`); pg's default of 10 when absent. */
  readonly max?: number;
  readonly connectionTimeoutMs?: number;
  /**
   * Errors of idle pooled connections (a server restart, a terminated backend), masked. pg emits them on the
   * pool, and an unhandled 'error' event would end the process; the pool replaces the connection by itself.
   */
  readonly log?: (line: string) => void;
}

export class PostgresConnectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PostgresConnectionError';
  }
}

/**
 * Opens a pool on `url` and proves it works with `SELECT 1`. A failure throws a PostgresConnectionError whose
 * message names the URL with its password masked; the driver's error is not attached as `cause`, since some
 * carry the URL verbatim (Node's URL parser puts it in `input`).
 */
export async function openPostgresPool(url: string, options: PostgresPoolOptions = {}): Promise<Pool> {
  const masker = maskerFor(url);
  let pool: Pool | undefined;
  try {
    pool = new Pool({
      connectionString: url,
      application_name: POSTGRES_APPLICATION_NAME,
      max: options.max,
      connectionTimeoutMillis: options.connectionTimeoutMs ?? POSTGRES_CONNECTION_TIMEOUT_MS,
    });
    const log = options.log ?? (() => {});
    pool.on('error', (error) => log(masker.mask(`PostgreSQL idle connection failed: ${describeError(error)}`)));
    await pool.query('SELECT 1');
    return pool;
  } catch (error) {
    await pool?.end().catch(() => {});
    throw new PostgresConnectionError(
      `cannot connect to PostgreSQL at ${maskDatabaseUrl(url)} (config db.url, or env ${DB_URL_ENV} when set): ${masker.mask(describeError(error))}`,
    );
  }
}

/** Masks the URL's password wherever the driver's error text repeats it, in or outside a URL. */
function maskerFor(url: string): SecretMasker {
  const masker = new SecretMasker();
  try {
    const parsed = new URL(url);
    masker.register(parsed.password);
    masker.register(safeDecode(parsed.password));
    masker.register(parsed.searchParams.get('password') ?? undefined);
  } catch {
    // Not parseable: maskDatabaseUrl still masks whatever looks like a URL password.
  }
  return masker;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Node reports a refused dual-stack connect as an AggregateError with an empty message. */
function describeError(error: unknown): string {
  if (error instanceof AggregateError && !error.message) {
    return error.errors.map((inner: unknown) => describeError(inner)).join('; ');
  }
  if (error instanceof Error) return error.message || String((error as { code?: unknown }).code ?? error.name);
  return String(error);
}
