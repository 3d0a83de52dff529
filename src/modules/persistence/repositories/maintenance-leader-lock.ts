/**
 * The port through which maintenance learns whether this replica may run the scheduled jobs. Engines with
 * one writer per database (SQLite) need none; PostgreSQL implements it with a session advisory lock.
 */
export interface MaintenanceLeaderLock {
  /** True while this replica holds the lock. */
  readonly isLeader: boolean;
  /** How this replica names itself to the others (host:pid). */
  readonly replicaId: string;
  /** Starts competing for the lock (and keeps doing so until stop). */
  start(): Promise<void>;
  /** The replica that holds the lock now, or null when none does. */
  currentLeader(): Promise<string | null>;
  stop(): Promise<void>;
}
