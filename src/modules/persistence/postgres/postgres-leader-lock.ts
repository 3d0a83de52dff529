import { Client } from 'pg';
import { maskDatabaseUrl } from '../../../common/masking/mask-broker-url';
import { POSTGRES_APPLICATION_NAME, POSTGRES_CONNECTION_TIMEOUT_MS } from './postgres-connection';
import { POSTGRES_MIGRATION_LOCK_KEY } from './postgres-migrations';
import type { MaintenanceLeaderLock } from '../repositories/maintenance-leader-lock';

/** Session advisory lock that makes one replica the maintenance leader (not the migrations' key). */
export const MAINTENANCE_LEADER_LOCK_KEY = POSTGRES_MIGRATION_LOCK_KEY + 1;
/** How often a replica that is not the leader tries to become it (and the leader checks its connection). */
export const LEADER_POLL_MS = 2_000;

const APPLICATION_PREFIX = `${POSTGRES_APPLICATION_NAME} maintenance `;

export interface LeaderLockOptions {
  readonly url: string;
  /** Shown in `/api/maintenance` of every replica while this one leads (host name and pid by default). */
  readonly replicaId: string;
  readonly log: (line: string) => void;
  readonly pollMs?: number;
}

/**
 * Maintenance leadership among replicas on one PostgreSQL database: the replica whose own connection holds the
 * session advisory lock MAINTENANCE_LEADER_LOCK_KEY runs the jobs; the others try again every LEADER_POLL_MS.
 * The lock lives as long as that connection: when the leader dies, its backend ends, the server releases the
 * lock and the next poll of another replica takes it. That connection's application_name carries the replica
 * id, so any replica can say who leads (pg_locks joined with pg_stat_activity) without a table of its own.
 */
export class PostgresLeaderLock implements MaintenanceLeaderLock {
  private client?: Client;
  private leading = false;
  private timer?: NodeJS.Timeout;
  private polling?: Promise<void>;
  private stopped = false;

  constructor(private readonly options: LeaderLockOptions) {}

  get isLeader(): boolean {
    return this.leading;
  }

  get replicaId(): string {
    return this.options.replicaId;
  }

  /** Tries at once, then every pollMs. */
  async start(): Promise<void> {
    await this.poll();
    this.timer = setInterval(() => void this.poll(), this.options.pollMs ?? LEADER_POLL_MS);
    this.timer.unref();
  }

  /** The replica id of the current leader (this one or another), or null when none holds the lock. */
  async currentLeader(): Promise<string | null> {
    if (this.leading) return this.options.replicaId;
    const client = this.client;
    if (!client) return null;
    try {
      const { rows } = await client.query<{ application_name: string }>(
        `SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
          WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND ((l.classid::bigint << 32) | l.objid::bigint) = $1`,
        [MAINTENANCE_LEADER_LOCK_KEY],
      );
      const name = rows[0]?.application_name;
      return name?.startsWith(APPLICATION_PREFIX) ? name.slice(APPLICATION_PREFIX.length) : (name ?? null);
    } catch {
      return null;
    }
  }

  /** Releases the lock (the next replica takes over at its next poll) and closes the connection. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.polling;
    const client = this.client;
    this.client = undefined;
    if (this.leading) this.options.log(`[maintenance] leader ${this.options.replicaId} stepping down`);
    this.leading = false;
    await client?.end().catch(() => undefined);
  }

  private poll(): Promise<void> {
    this.polling ??= this.tryLead().finally(() => (this.polling = undefined));
    return this.polling;
  }

  private async tryLead(): Promise<void> {
    if (this.stopped) return;
    try {
      const client = await this.connection();
      if (this.leading) {
        // Still there and still holding it (a session holds its advisory locks as long as it lives).
        const { rows } = await client.query<{ held: boolean }>(
          `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid()
             AND ((classid::bigint << 32) | objid::bigint) = $1) AS held`,
          [MAINTENANCE_LEADER_LOCK_KEY],
        );
        if (!rows[0]?.held) this.lost('the leader lock is no longer held by this session', client);
        return;
      }
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [MAINTENANCE_LEADER_LOCK_KEY]);
      if (rows[0]?.locked && !this.stopped) {
        this.leading = true;
        this.options.log(`[maintenance] this replica (${this.options.replicaId}) is the maintenance leader`);
      }
    } catch (error) {
      this.lost(`leader lock connection failed: ${maskDatabaseUrl((error as Error).message)}`, this.client);
    }
  }

  private async connection(): Promise<Client> {
    if (this.client) return this.client;
    const client = new Client({
      connectionString: this.options.url,
      application_name: `${APPLICATION_PREFIX}${this.options.replicaId}`.slice(0, 63),
      connectionTimeoutMillis: POSTGRES_CONNECTION_TIMEOUT_MS,
    });
    // A dropped session drops the lock with it: give up leadership at once, reconnect at the next poll. Events of
    // a connection already replaced are ignored (its late 'end' must not end the new one).
    client.on('error', (error) => this.lost(`leader lock connection lost: ${maskDatabaseUrl(error.message)}`, client));
    client.on('end', () => this.lost('leader lock connection closed', client));
    await client.connect();
    this.client = client;
    return client;
  }

  private lost(reason: string, which: Client | undefined): void {
    const client = this.client;
    if (which !== undefined && which !== client) return;
    this.client = undefined;
    if (this.leading && !this.stopped) this.options.log(`[maintenance] no longer the leader: ${reason}`);
    this.leading = false;
    void client?.end().catch(() => undefined);
  }
}
