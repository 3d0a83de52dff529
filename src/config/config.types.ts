import type { MaintenanceJobName } from './maintenance-schedules';
/**
 * The validated, read-only configuration every module injects (token APP_CONFIG).
 * Built once at start-up by loadConfig(); field meanings follow ingestor-spec §1.
 */

export type MqttQos = 0 | 1;

export interface MqttSourceConfig {
  /** Tag used in logs and status: the configured name, or the scheme-mapped broker URL when empty. */
  readonly name: string;
  /** Broker URL after scheme mapping (mqtt:// → tcp://, mqtts:// → ssl://). Contains credentials only if the operator put them in the URL. */
  readonly broker: string;
  readonly username?: string;
  readonly password?: string;
  /** Explicit false disables certificate verification; undefined = default TLS for ssl:// and wss://. */
  readonly rejectUnauthorized?: boolean;
  readonly topics: readonly string[];
  /** Per-source region filter (exact, case-sensitive match on topic segment 1); empty = no filter. */
  readonly iataFilter: readonly string[];
  readonly connectTimeoutSec: number;
  /** Fallback observer region when the topic's region segment is empty. */
  readonly region?: string;
  /** Ours: 0 (reference default, clean session) or 1 (persistent session, ack after commit). */
  readonly qos: MqttQos;
  /** Ours: fixed MQTT client id; required for a persistent session, generated per start otherwise. */
  readonly clientId?: string;
  /** Ours: MQTT 5 session expiry for qos 1 sources, seconds. */
  readonly sessionExpirySec: number;
  /**
   * Ours: subscribe each topic as `$share/<shareGroup>/<topic>` (MQTT 5 shared subscription), so the broker
   * hands each message to one member of the group (replicas on one database); unset = every message.
   */
  readonly shareGroup?: string;
  /** The embedded broker's own source: it speaks MQTT 3.1.1 only, so QoS 1 uses a 3.1.1 persistent session. */
  readonly embedded?: boolean;
}

export interface EmbeddedBrokerConfig {
  readonly enabled: boolean;
  readonly host: string;
  readonly port: number;
  /** Empty: anonymous clients are accepted (said in the log). */
  readonly users: readonly { readonly username: string; readonly password: string }[];
}

export interface RetentionConfig {
  readonly nodeDays: number;
  /** Negative = keep forever. */
  readonly observerDays: number;
  readonly metricsDays: number;
  /** 0 = disabled. */
  readonly packetDays: number;
  /** 0 = disabled. */
  readonly clientRxDays: number;
}

export interface GeoFilterConfig {
  /** [lat, lon] pairs; used when it has at least 3 points. */
  readonly polygon: readonly (readonly [number, number])[];
  readonly bufferKm: number;
  readonly latMin?: number;
  readonly latMax?: number;
  readonly lonMin?: number;
  readonly lonMax?: number;
}

export interface AppConfig {
  /** Path given with --config (or the default config.json), as resolved against the working directory. */
  readonly configPath: string;
  readonly configFileFound: boolean;

  readonly dbPath: string;
  readonly mqttSources: readonly MqttSourceConfig[];
  readonly logLevel?: string;

  /** Rainbow-table file: env CHANNEL_KEYS_PATH > channelKeysPath > <config dir>/channel-rainbow.json. */
  readonly channelKeysPath: string;
  readonly channelKeys: Readonly<Record<string, string>>;
  readonly hashChannels: readonly string[];
  readonly hashRegions: readonly string[];

  readonly retention: RetentionConfig;
  readonly metrics: { readonly sampleIntervalSec: number };
  readonly runtime: { readonly maxMemoryMB: number };
  readonly clientRxCoverage: { readonly enabled: boolean };
  /** null when no geo_filter block is configured. */
  readonly geoFilter: GeoFilterConfig | null;
  readonly foreignAdverts: { readonly mode: 'flag' | 'drop' };
  readonly validateSignatures: boolean;
  readonly db: {
    /** `sqlite` (dbPath; what a CoreScope server reads) or `postgres` (url). */
    readonly engine: 'sqlite' | 'postgres';
    /** PostgreSQL connection URL (a secret: log and serve it only through maskUrl). */
    readonly url?: string;
    readonly vacuumOnStartup: boolean;
    readonly incrementalVacuumPages: number;
  };
  /** Upper-cased, trimmed; empty = allow all. */
  readonly observerIATAWhitelist: readonly string[];
  /** Lower-cased, trimmed. */
  readonly observerBlacklist: readonly string[];
  readonly neighborEdgesMaxAgeDays: number;
  readonly ingestBufferSize: number;

  /** env CORESCOPE_INGESTOR_STATS, default /tmp/corescope-ingestor-stats.json. */
  readonly statsFilePath: string;
  /** env CORESCOPE_DB_SLOW_WRITER_MS, default 500. */
  readonly slowWriterMs: number;

  // ---- blocks of our own (not read by CoreScope) ----
  readonly http: {
    readonly port: number;
    readonly host: string;
    /** Bearer token of the admin routes (POST /api/maintenance/…); env INGESTOR_ADMIN_TOKEN wins. Unset = routes off. */
    readonly adminToken?: string;
    /** false: no HTTP server (env INGESTOR_HTTP_ENABLED). */
    readonly enabled: boolean;
    /** false: no status routes (/, /api/mqtt/status, /api/maintenance); health and metrics stay (env INGESTOR_STATUS_API). */
    readonly statusApi: boolean;
  };
  /** The MQTT broker inside the service; when enabled, it is also a source (EMBEDDED_SOURCE_NAME). */
  readonly embeddedBroker: EmbeddedBrokerConfig;
  /**
   * Group commit of the single writer: flush at batchSize messages or flushIntervalMs, whichever
   * first. Once writing, MQTT reads pause while highWaterMark messages are queued (the broker
   * holds the rest), which bounds memory; ingestBufferSize stays the hard cap.
   */
  readonly ingest: {
    readonly batchSize: number;
    readonly flushIntervalMs: number;
    readonly highWaterMark: number;
    /**
     * Parse and decode each batch in a worker thread while the writer stores the previous one.
     * Unset, the command decides: serve runs on one thread (less memory), replay uses the worker.
     */
    readonly workerThread: boolean | undefined;
  };
  /** Page cache and WAL checkpoint size of the writer connection (see open-database.ts for the measurements). */
  readonly sqlite: SqliteTuning;
  /** Stall watchdog (ingestor-spec §2.6). */
  readonly watchdog: { readonly intervalSec: number; readonly thresholdSec: number };
  readonly log: { readonly format: 'text' | 'json'; readonly level: 'error' | 'warn' | 'log' | 'debug' | 'verbose' };
  /** The size of one delete transaction of the retention jobs. */
  readonly maintenance: MaintenanceConfig;
  /** When each periodic maintenance job runs (defaults: ingestor-spec §5.1). */
  readonly schedules: Readonly<Record<MaintenanceJobName, JobSchedule>>;
}

/** How a job's runs are spaced: a fixed period from when the schedules start, or a cron expression. */
export type ScheduleTiming =
  | { readonly kind: 'every'; readonly everyMs: number }
  | { readonly kind: 'cron'; readonly cron: string; readonly timeZone?: string };

export interface JobSchedule {
  /** false: no timers (the job can still be run through the admin route). */
  readonly enabled: boolean;
  readonly timing: ScheduleTiming;
  /** An extra first run this long after the schedules start; null = the first run is the first tick. */
  readonly initialDelayMs: number | null;
}

export interface SqliteTuning {
  /** PRAGMA cache_size of the writer connection, in MiB (SQLite's default is 2 MiB). */
  readonly cacheSizeMiB: number;
  /** PRAGMA wal_autocheckpoint in pages (SQLite's default is 1000 pages, about 4 MiB of WAL). */
  readonly walAutocheckpointPages: number;
}

export interface MaintenanceConfig {
  /** Rows deleted per transaction by the retention prunes; the event loop runs between transactions. */
  readonly deleteChunkRows: number;
}

export const APP_CONFIG = Symbol('APP_CONFIG');
