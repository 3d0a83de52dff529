/**
 * Builds the AppConfig from config.json plus environment variables (ingestor-spec §1).
 *
 * Steps: read the file (missing = defaults) → JSON parse with line/column on syntax errors →
 * Go-like key folding (go-json-decoder.ts) → class-validator DTOs (config.schema.ts) → resolution:
 * env overrides, MQTT source order of §1.3, "or default" coercions, our own blocks → deep freeze.
 *
 * Nothing is logged here: the lines the reference would log are returned as `notices` so the
 * caller prints them with whatever logger exists by then.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { secretMasker } from '../common/masking/mask-broker-url';
import { CONFIG_DEFAULTS } from './config.defaults';
import { ConfigError, configValueError } from './config.errors';
import { ConfigFileDto, type GeoFilterFileDto, type MqttSourceFileDto } from './config.schema';
import type { AppConfig, GeoFilterConfig, MqttSourceConfig } from './config.types';
import { isCoreScopeServerKey, READ_BUT_UNUSED } from './corescope-keys';
import { deepFreeze } from './deep-freeze';
import { parseDuration } from './duration';
import { decodeLikeGo } from './go-json-decoder';
import { parseJsonWithPosition } from './json-syntax';
import { resolveSchedules, type LegacyPeriodKey } from './maintenance-schedules';
import { EMBEDDED_INGEST_CREDENTIALS } from './embedded-broker-credentials';

/** Env override of http.adminToken (a secret is easier to keep out of a file that is shared with the server). */
export const ADMIN_TOKEN_ENV = 'INGESTOR_ADMIN_TOKEN';
/** Env overrides of http.enabled, http.statusApi, embeddedBroker.enabled and embeddedBroker.port. */
export const HTTP_ENABLED_ENV = 'INGESTOR_HTTP_ENABLED';
export const STATUS_API_ENV = 'INGESTOR_STATUS_API';
export const EMBEDDED_BROKER_ENV = 'INGESTOR_EMBEDDED_BROKER';
export const EMBEDDED_BROKER_PORT_ENV = 'INGESTOR_EMBEDDED_BROKER_PORT';
/** Env overrides of db.engine and db.url (a URL with a password belongs in the environment, not a shared file). */
export const DB_ENGINE_ENV = 'INGESTOR_DB_ENGINE';
export const DB_URL_ENV = 'INGESTOR_DB_URL';

export interface LoadConfigOptions {
  /** As given on the command line; relative paths resolve against `cwd`. Default `config.json`. */
  configPath?: string;
  /** Defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Defaults to process.cwd(). */
  cwd?: string;
}

export interface LoadedConfig {
  /** Deep-frozen. */
  readonly config: AppConfig;
  /** Lines to log at start-up, in order (e.g. the zero-config and default-broker notices). */
  readonly notices: string[];
  /** Lines to log as warnings at start-up (unknown keys). */
  readonly warnings: string[];
}

/** Loads and validates the configuration. Throws ConfigError (one-line message) when it is unusable. */
export function loadConfig(options: LoadConfigOptions = {}): LoadedConfig {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const givenPath = options.configPath ?? CONFIG_DEFAULTS.configFileName;
  const configPath = path.resolve(cwd, givenPath);
  const notices: string[] = [];
  const warnings: string[] = [];

  const text = readConfigText(configPath, givenPath);
  if (text === undefined) notices.push(`config file ${givenPath} not found, using sensible defaults`);
  const droppedKeys: string[] = [];
  const file = text === undefined ? new ConfigFileDto() : parseConfigFile(text, givenPath, droppedKeys);
  reportIgnoredKeys(file, droppedKeys, { notices, warnings });

  const config = resolveAppConfig(file, { configPath, configFileFound: text !== undefined, env, notices });
  if (config.runtime.maxMemoryMB > 0) {
    // Go's soft limit (GOMEMLIMIT) has no Node equivalent; a hard heap cap is the operator's call (README, "Memory").
    warnings.push(
      `config: runtime.maxMemoryMB=${config.runtime.maxMemoryMB} is ignored (Node has no soft memory limit like Go's); for a hard V8 heap cap set NODE_OPTIONS=--max-old-space-size=<MiB>`,
    );
  }
  registerSecrets(file, config);
  deepFreeze(config);
  return { config, notices, warnings };
}

/**
 * One line for the keys nobody reads (most likely typos: they do nothing), one for the CoreScope server's
 * keys and the ones read without effect, which are expected in a shared CoreScope config.json.
 */
function reportIgnoredKeys(file: ConfigFileDto, droppedKeys: readonly string[], out: { notices: string[]; warnings: string[] }): void {
  const unknown = droppedKeys.filter((key) => !isCoreScopeServerKey(key));
  const server = droppedKeys.filter((key) => isCoreScopeServerKey(key));
  const unused = Object.keys(READ_BUT_UNUSED).filter((key) => (file as Record<string, unknown>)[key] !== undefined);
  if (unknown.length > 0) {
    out.warnings.push(`config: unknown keys ignored (misspelt? they change nothing): ${unknown.join(', ')}`);
  }
  if (server.length > 0 || unused.length > 0) {
    const parts = [];
    if (server.length > 0) parts.push(`CoreScope server keys, not used by the ingestor: ${server.join(', ')}`);
    for (const key of unused) parts.push(`${key}: ${READ_BUT_UNUSED[key]}`);
    out.notices.push(`config: ${parts.join('; ')}`);
  }
}

// ---------------------------------------------------------------------------
// File → validated DTO
// ---------------------------------------------------------------------------

function readConfigText(configPath: string, givenPath: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(configPath, 'utf8');
  } catch (error) {
    // Only "does not exist" means zero-config mode; anything else (permissions, a directory…)
    // is a broken deployment that must not silently run on defaults.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError(`config: reading ${givenPath}: ${(error as Error).message}`);
  }
  // Editors on Windows like to save a UTF-8 BOM; it is not JSON but means nothing.
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function parseConfigFile(text: string, givenPath: string, droppedKeys: string[]): ConfigFileDto {
  let raw: unknown;
  try {
    raw = parseJsonWithPosition(text);
  } catch (error) {
    throw new ConfigError(`config: parsing ${givenPath}: ${(error as Error).message}`);
  }
  // Go decodes a top-level `null` into the config struct as a no-op, i.e. all defaults.
  if (raw === null) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(`config: parsing ${givenPath}: the top level must be a JSON object`);
  }
  const decoded = decodeLikeGo(raw, ConfigFileDto, '', droppedKeys);
  const dto = plainToInstance(ConfigFileDto, decoded);
  const violation = firstViolation(validateSync(dto, { stopAtFirstError: true, forbidUnknownValues: true }));
  if (violation) throw configValueError(violation.keyPath, violation.problem);
  checkClientIdsAreUnique(dto.mqttSources ?? []);
  return dto;
}

interface Violation {
  readonly keyPath: string;
  readonly problem: string;
}

/** `[0]`, `[1][0]`, `.name` or `["odd name"]` after the property name, then the problem text. */
const ELEMENT_SUFFIX_THEN_PROBLEM = /^((?:\[(?:\d+|"(?:[^"\\]|\\.)*")\]|\.[\w$]+)*) (.*)$/s;

/**
 * Depth-first first violation, with its key path. Array elements show up in class-validator's
 * tree as children named by index ("1"), which become "[1]" in the path.
 */
function firstViolation(errors: readonly ValidationError[], parentPath = '', parentIsArray = false): Violation | undefined {
  for (const error of errors) {
    const keyPath = parentIsArray
      ? `${parentPath}[${error.property}]`
      : parentPath === ''
        ? error.property
        : `${parentPath}.${error.property}`;
    const message = error.constraints ? Object.values(error.constraints)[0] : undefined;
    if (message !== undefined) {
      // Messages begin with the property name ("topics[0] must be a string"); put the full path there.
      if (message.startsWith(error.property)) {
        const rest = message.slice(error.property.length);
        const [, indexSuffix = '', problem = rest] = ELEMENT_SUFFIX_THEN_PROBLEM.exec(rest) ?? [];
        return { keyPath: keyPath + indexSuffix, problem };
      }
      return { keyPath, problem: message };
    }
    const nested = firstViolation(error.children ?? [], keyPath, Array.isArray(error.value));
    if (nested) return nested;
  }
  return undefined;
}

/**
 * Two persistent sessions with one client id on one broker take each other's session over on
 * every connect, so both would flap forever. Rejected up front instead.
 */
function checkClientIdsAreUnique(sources: readonly MqttSourceFileDto[]): void {
  const firstIndexByKey = new Map<string, number>();
  sources.forEach((source, index) => {
    if (!source.clientId || !source.broker) return;
    const key = `${mapBrokerScheme(source.broker)}\u0000${source.clientId}`;
    const earlier = firstIndexByKey.get(key);
    if (earlier !== undefined) {
      throw configValueError(
        `mqttSources[${index}].clientId`,
        `duplicates mqttSources[${earlier}].clientId on the same broker (the broker would keep disconnecting one of them)`,
      );
    }
    firstIndexByKey.set(key, index);
  });
}

// ---------------------------------------------------------------------------
// DTO + env → AppConfig
// ---------------------------------------------------------------------------

interface ResolveContext {
  readonly configPath: string;
  readonly configFileFound: boolean;
  readonly env: NodeJS.ProcessEnv;
  readonly notices: string[];
}

/** Go's `x > 0 ? x : default`, the most common coercion of §1.2. */
function positiveOr(value: number | undefined, fallback: number): number {
  return value !== undefined && value > 0 ? value : fallback;
}

/** The properties of a validated block that were actually given (class-transformer may leave undefined ones). */
function definedOnly<T extends object>(block: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(block ?? {}).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/** Go's zero value for a null element of a []string. */
function stringsOrEmpty(values: readonly (string | null)[] | undefined): string[] {
  return (values ?? []).map((value) => value ?? '');
}

function normalizedSet(values: readonly (string | null)[] | undefined, normalize: (value: string) => string): string[] {
  return stringsOrEmpty(values)
    .map((value) => normalize(value.trim()))
    .filter((value) => value !== '');
}

function resolveAppConfig(file: ConfigFileDto, context: ResolveContext): AppConfig {
  const { env } = context;
  const retention = file.retention ?? {};
  const embeddedBroker = resolveEmbeddedBroker(file, env);
  const config: AppConfig = {
    configPath: context.configPath,
    configFileFound: context.configFileFound,

    // DB_PATH is applied before the empty → default rule, so an empty DB_PATH changes nothing.
    dbPath: env.DB_PATH || file.dbPath || CONFIG_DEFAULTS.dbPath,
    mqttSources: resolveSources(file, env, context.notices, embeddedBroker),
    ...(file.logLevel !== undefined && { logLevel: file.logLevel }),

    channelKeysPath:
      env.CHANNEL_KEYS_PATH ||
      file.channelKeysPath ||
      path.join(path.dirname(context.configPath), CONFIG_DEFAULTS.channelKeysFileName),
    // A null value is treated as absent; channel names (the map keys) stay as written.
    channelKeys: Object.fromEntries(
      Object.entries(file.channelKeys ?? {}).filter((entry): entry is [string, string] => entry[1] !== null),
    ),
    hashChannels: stringsOrEmpty(file.hashChannels),
    hashRegions: stringsOrEmpty(file.hashRegions),

    retention: {
      nodeDays: positiveOr(retention.nodeDays, CONFIG_DEFAULTS.retention.nodeDays),
      // Only 0 means "unset" here: any negative value is the documented "keep forever".
      observerDays:
        retention.observerDays === undefined || retention.observerDays === 0
          ? CONFIG_DEFAULTS.retention.observerDays
          : retention.observerDays,
      metricsDays: positiveOr(retention.metricsDays, CONFIG_DEFAULTS.retention.metricsDays),
      packetDays: positiveOr(retention.packetDays, CONFIG_DEFAULTS.retention.packetDays),
      clientRxDays: positiveOr(retention.clientRxDays, CONFIG_DEFAULTS.retention.clientRxDays),
    },
    metrics: { sampleIntervalSec: positiveOr(file.metrics?.sampleIntervalSec, CONFIG_DEFAULTS.metricsSampleIntervalSec) },
    runtime: { maxMemoryMB: positiveOr(file.runtime?.maxMemoryMB, CONFIG_DEFAULTS.maxMemoryMB) },
    clientRxCoverage: { enabled: file.clientRxCoverage?.enabled ?? false },
    geoFilter: file.geo_filter ? resolveGeoFilter(file.geo_filter) : null,
    foreignAdverts: { mode: file.foreignAdverts?.mode?.trim().toLowerCase() === 'drop' ? 'drop' : 'flag' },
    validateSignatures: file.validateSignatures !== false,
    db: {
      ...resolveDbEngine(file, env),
      vacuumOnStartup: file.db?.vacuumOnStartup ?? false,
      incrementalVacuumPages: positiveOr(file.db?.incrementalVacuumPages, CONFIG_DEFAULTS.incrementalVacuumPages),
    },
    observerIATAWhitelist: normalizedSet(file.observerIATAWhitelist, (code) => code.toUpperCase()),
    observerBlacklist: normalizedSet(file.observerBlacklist, (id) => id.toLowerCase()),
    neighborEdgesMaxAgeDays: positiveOr(file.neighborEdgesMaxAgeDays, CONFIG_DEFAULTS.neighborEdgesMaxAgeDays),
    ingestBufferSize: positiveOr(file.ingestBufferSize, CONFIG_DEFAULTS.ingestBufferSize),

    statsFilePath: env.CORESCOPE_INGESTOR_STATS || CONFIG_DEFAULTS.statsFilePath,
    slowWriterMs: resolveSlowWriterMs(env.CORESCOPE_DB_SLOW_WRITER_MS, context.notices),

    http: {
      port: resolveHttpPort(env.PORT) ?? file.http?.port ?? CONFIG_DEFAULTS.http.port,
      host: file.http?.host ?? CONFIG_DEFAULTS.http.host,
      ...resolveAdminToken(env[ADMIN_TOKEN_ENV], file.http?.adminToken),
      enabled: envBool(env, HTTP_ENABLED_ENV) ?? file.http?.enabled ?? CONFIG_DEFAULTS.http.enabled,
      statusApi: envBool(env, STATUS_API_ENV) ?? file.http?.statusApi ?? CONFIG_DEFAULTS.http.statusApi,
    },
    embeddedBroker,
    ingest: {
      batchSize: file.ingest?.batchSize ?? CONFIG_DEFAULTS.ingest.batchSize,
      flushIntervalMs: file.ingest?.flushIntervalMs ?? CONFIG_DEFAULTS.ingest.flushIntervalMs,
      highWaterMark: file.ingest?.highWaterMark ?? CONFIG_DEFAULTS.ingest.highWaterMark,
      workerThread: file.ingest?.workerThread ?? CONFIG_DEFAULTS.ingest.workerThread,
    },
    sqlite: {
      cacheSizeMiB: file.sqlite?.cacheSizeMiB ?? CONFIG_DEFAULTS.sqlite.cacheSizeMiB,
      walAutocheckpointPages: file.sqlite?.walAutocheckpointPages ?? CONFIG_DEFAULTS.sqlite.walAutocheckpointPages,
    },
    watchdog: {
      intervalSec: file.watchdog?.intervalSec ?? CONFIG_DEFAULTS.watchdog.intervalSec,
      thresholdSec: file.watchdog?.thresholdSec ?? CONFIG_DEFAULTS.watchdog.thresholdSec,
    },
    log: {
      format: file.log?.format ?? CONFIG_DEFAULTS.log.format,
      level: file.log?.level ?? CONFIG_DEFAULTS.log.level,
    },
    maintenance: { deleteChunkRows: file.maintenance?.deleteChunkRows ?? CONFIG_DEFAULTS.maintenance.deleteChunkRows },
    schedules: resolveSchedules(
      {
        schedules: definedOnly(file.schedules),
        legacyPeriods: legacyPeriodsOf(file),
        // Validated already: every duration string parses.
        parseDuration: (text) => parseDuration(text.trim()) ?? Number.NaN,
      },
      context.notices,
    ),
  };
  return config;
}

function legacyPeriodsOf(file: ConfigFileDto): Partial<Record<LegacyPeriodKey, number>> {
  const { deleteChunkRows: _chunkRows, ...periods } = definedOnly(file.maintenance);
  return periods;
}

/** An env value that is empty or blank means "not set", like the other env overrides. */
function resolveAdminToken(fromEnv: string | undefined, fromFile: string | undefined): { adminToken?: string } {
  const token = fromEnv?.trim() ? fromEnv.trim() : fromFile?.trim();
  return token ? { adminToken: token } : {};
}

/** db.engine and db.url with their env overrides; PostgreSQL needs a postgres:// URL. */
function resolveDbEngine(file: ConfigFileDto, env: NodeJS.ProcessEnv): { engine: 'sqlite' | 'postgres'; url?: string } {
  const engineText = env[DB_ENGINE_ENV]?.trim().toLowerCase() || file.db?.engine || 'sqlite';
  if (engineText !== 'sqlite' && engineText !== 'postgres') {
    throw new ConfigError(`config: env ${DB_ENGINE_ENV} must be one of: sqlite, postgres, got ${JSON.stringify(env[DB_ENGINE_ENV])}`, DB_ENGINE_ENV);
  }
  const url = env[DB_URL_ENV]?.trim() || file.db?.url?.trim() || undefined;
  if (engineText === 'sqlite') return { engine: 'sqlite' };
  if (!url) throw new ConfigError(`config: db.url is required when db.engine is postgres (or env ${DB_URL_ENV})`, 'db.url');
  if (!/^postgres(ql)?:\/\//i.test(url)) throw new ConfigError('config: db.url must be a postgres:// or postgresql:// URL', 'db.url');
  return { engine: 'postgres', url };
}

/** A boolean env override: true/false, 1/0, yes/no, on/off; empty = unset; anything else fails the start. */
function envBool(env: NodeJS.ProcessEnv, name: string): boolean | undefined {
  const text = env[name]?.trim().toLowerCase();
  if (!text) return undefined;
  if (['true', '1', 'yes', 'on'].includes(text)) return true;
  if (['false', '0', 'no', 'off'].includes(text)) return false;
  throw new ConfigError(`config: env ${name} must be true or false, got ${JSON.stringify(env[name])}`, name);
}

function resolveEmbeddedBroker(file: ConfigFileDto, env: NodeJS.ProcessEnv): AppConfig['embeddedBroker'] {
  const block = file.embeddedBroker ?? {};
  const portText = env[EMBEDDED_BROKER_PORT_ENV]?.trim();
  let port = block.port ?? CONFIG_DEFAULTS.embeddedBroker.port;
  if (portText) {
    port = /^\d{1,5}$/.test(portText) ? Number(portText) : Number.NaN;
    if (!(port >= 1 && port <= 65535)) {
      throw new ConfigError(
        `config: env ${EMBEDDED_BROKER_PORT_ENV} must be an integer between 1 and 65535, got ${JSON.stringify(env[EMBEDDED_BROKER_PORT_ENV])}`,
        EMBEDDED_BROKER_PORT_ENV,
      );
    }
  }
  return {
    enabled: envBool(env, EMBEDDED_BROKER_ENV) ?? block.enabled ?? CONFIG_DEFAULTS.embeddedBroker.enabled,
    host: block.host?.trim() || CONFIG_DEFAULTS.embeddedBroker.host,
    port,
    users: (block.users ?? []).map((user) => ({ username: user.username!, password: user.password! })),
  };
}

/**
 * The service's own source on its embedded broker: QoS 1 (acknowledged after commit) over a
 * persistent MQTT 3.1.1 session, the only version the broker speaks, with the per-process credentials.
 */
function embeddedSource(broker: AppConfig['embeddedBroker']): MqttSourceConfig {
  const host = broker.host === '0.0.0.0' || broker.host === '::' ? '127.0.0.1' : broker.host;
  return {
    name: CONFIG_DEFAULTS.embeddedSource.name,
    broker: `tcp://${host.includes(':') ? `[${host}]` : host}:${broker.port}`,
    username: EMBEDDED_INGEST_CREDENTIALS.username,
    password: EMBEDDED_INGEST_CREDENTIALS.password,
    topics: [CONFIG_DEFAULTS.topic],
    iataFilter: [],
    connectTimeoutSec: CONFIG_DEFAULTS.connectTimeoutSec,
    qos: 1,
    clientId: CONFIG_DEFAULTS.embeddedSource.clientId,
    sessionExpirySec: CONFIG_DEFAULTS.sessionExpirySec,
    embedded: true,
  };
}

/**
 * §1.3 steps 2, 5, 6 (DB_PATH, step 3–4, is handled by the caller). With the embedded broker on, its
 * source comes last; it replaces the default localhost source when nothing else is configured.
 */
function resolveSources(
  file: ConfigFileDto,
  env: NodeJS.ProcessEnv,
  notices: string[],
  embeddedBroker: AppConfig['embeddedBroker'],
): MqttSourceConfig[] {
  const configured = resolveConfiguredSources(file, env, notices, !embeddedBroker.enabled);
  return embeddedBroker.enabled ? [...configured, embeddedSource(embeddedBroker)] : configured;
}

function resolveConfiguredSources(file: ConfigFileDto, env: NodeJS.ProcessEnv, notices: string[], defaultToLocal: boolean): MqttSourceConfig[] {
  let sources: MqttSourceFileDto[] = file.mqttSources ?? [];
  if (env.MQTT_BROKER) {
    sources = [{ name: CONFIG_DEFAULTS.envSourceName, broker: env.MQTT_BROKER, topics: [env.MQTT_TOPIC || CONFIG_DEFAULTS.topic] }];
  }
  if (sources.length === 0 && file.mqtt?.broker) {
    // Both topics, in this order; an empty legacy topic stays as an (unusable) empty filter, as in the reference.
    sources = [{ name: CONFIG_DEFAULTS.legacySourceName, broker: file.mqtt.broker, topics: [file.mqtt.topic ?? '', CONFIG_DEFAULTS.topic] }];
  }
  if (sources.length === 0 && defaultToLocal) {
    sources = [{ ...CONFIG_DEFAULTS.localSource, topics: [CONFIG_DEFAULTS.topic] }];
    notices.push(`no MQTT sources configured, defaulting to ${CONFIG_DEFAULTS.localSource.broker}`);
  }
  const origin = env.MQTT_BROKER ? () => 'env MQTT_BROKER' : file.mqttSources?.length ? (i: number) => `mqttSources[${i}].broker` : () => 'mqtt.broker';
  return sources.map((source, i) => {
    const resolved = resolveSource(source);
    assertUsableBrokerUrl(resolved.broker, origin(i));
    return resolved;
  });
}

const BROKER_SCHEMES = new Set(['tcp:', 'ssl:', 'ws:', 'wss:', 'mqtt:', 'mqtts:']);

/**
 * Stricter than the reference (which connects to whatever it is given): a broker that is not a
 * URL with a known scheme and a host fails the start here, naming the key, instead of failing
 * later inside the MQTT client (whose error text would carry the URL, password included).
 */
function assertUsableBrokerUrl(broker: string, keyPath: string): void {
  let url: URL | undefined;
  try {
    url = new URL(broker);
  } catch {
    url = undefined;
  }
  const port = url?.port ?? '';
  if (!url || !BROKER_SCHEMES.has(url.protocol.toLowerCase()) || url.hostname === '' || !/^\d*$/.test(port)) {
    // Whatever precedes an '@' may be credentials, URL-shaped or not: never echo it.
    const shown = broker.includes('@') ? `…@${broker.slice(broker.lastIndexOf('@') + 1)}` : broker;
    throw new ConfigError(
      `config: ${keyPath} must be a broker URL like mqtt://host:1883 (schemes mqtt, mqtts, tcp, ssl, ws, wss), got ${JSON.stringify(shown)}`,
      keyPath,
    );
  }
}

/** §1.3 step 7: the reference's client library speaks tcp:// and ssl://; the mapped URL is what logs and status show. */
export function mapBrokerScheme(broker: string): string {
  if (broker.startsWith('mqtt://')) return `tcp://${broker.slice('mqtt://'.length)}`;
  if (broker.startsWith('mqtts://')) return `ssl://${broker.slice('mqtts://'.length)}`;
  return broker;
}

function resolveSource(source: MqttSourceFileDto): MqttSourceConfig {
  // The DTO guarantees a non-empty broker for file sources; env/legacy/local sources always have one.
  const broker = mapBrokerScheme(source.broker ?? '');
  const topics = stringsOrEmpty(source.topics);
  const clientId = source.clientId?.trim() ? source.clientId : undefined;
  return {
    name: source.name || broker,
    broker,
    ...(source.username && { username: source.username }),
    ...(source.password && { password: source.password }),
    ...(source.rejectUnauthorized !== undefined && { rejectUnauthorized: source.rejectUnauthorized }),
    topics: topics.length > 0 ? topics : [CONFIG_DEFAULTS.topic],
    iataFilter: stringsOrEmpty(source.iataFilter),
    connectTimeoutSec: positiveOr(source.connectTimeoutSec, CONFIG_DEFAULTS.connectTimeoutSec),
    ...(source.region && { region: source.region }),
    qos: source.qos ?? CONFIG_DEFAULTS.qos,
    ...(clientId !== undefined && { clientId }),
    sessionExpirySec: source.sessionExpirySec ?? CONFIG_DEFAULTS.sessionExpirySec,
    ...(source.shareGroup !== undefined && { shareGroup: source.shareGroup }),
  };
}

function resolveGeoFilter(geo: GeoFilterFileDto): GeoFilterConfig {
  // Go decodes each point into a [2]float64: extra coordinates are dropped, missing or null ones are 0.
  const polygon = (geo.polygon ?? []).map((point): [number, number] => {
    const coordinates = Array.isArray(point) ? (point as unknown[]) : [];
    const coordinate = (axis: number) => (typeof coordinates[axis] === 'number' ? (coordinates[axis] as number) : 0);
    return [coordinate(0), coordinate(1)];
  });
  return {
    polygon,
    bufferKm: geo.bufferKm ?? 0,
    ...(geo.latMin !== undefined && { latMin: geo.latMin }),
    ...(geo.latMax !== undefined && { latMax: geo.latMax }),
    ...(geo.lonMin !== undefined && { lonMin: geo.lonMin }),
    ...(geo.lonMax !== undefined && { lonMax: geo.lonMax }),
  };
}

/** Like the reference: a leading float > 0 is used, anything else keeps the default. */
function resolveSlowWriterMs(raw: string | undefined, notices: string[]): number {
  if (!raw) return CONFIG_DEFAULTS.slowWriterMs;
  const value = Number.parseFloat(raw.trim());
  if (Number.isFinite(value) && value > 0) return value;
  notices.push(
    `ignoring CORESCOPE_DB_SLOW_WRITER_MS=${JSON.stringify(raw)} (not a number > 0); using ${CONFIG_DEFAULTS.slowWriterMs} ms`,
  );
  return CONFIG_DEFAULTS.slowWriterMs;
}

/** PORT (ours) overrides http.port; a malformed value is an error rather than a surprise port. */
function resolveHttpPort(raw: string | undefined): number | undefined {
  const text = raw?.trim();
  if (!text) return undefined;
  const port = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(port >= 0 && port <= 65535)) {
    throw new ConfigError(`config: env PORT must be an integer between 0 and 65535, got ${JSON.stringify(raw)}`, 'PORT');
  }
  return port;
}

// ---------------------------------------------------------------------------
// Secrets
// ---------------------------------------------------------------------------

/** Password embedded in a broker URL (`tcp://user:secret@host`), if any. */
function passwordInUrl(url: string): string[] {
  try {
    const { password } = new URL(url);
    if (!password) return [];
    try {
      return [password, decodeURIComponent(password)];
    } catch {
      return [password];
    }
  } catch {
    return [];
  }
}

/**
 * Every password read from config or env goes to the log masker, including those of file sources
 * that MQTT_BROKER replaced: they were read, and an operator may still paste them somewhere.
 */
function registerSecrets(file: ConfigFileDto, config: AppConfig): void {
  const fileSources = file.mqttSources ?? [];
  for (const source of [...fileSources, ...config.mqttSources]) {
    secretMasker.register(source.password);
    for (const secret of passwordInUrl(source.broker ?? '')) secretMasker.register(secret);
  }
  if (file.mqtt?.broker) for (const secret of passwordInUrl(file.mqtt.broker)) secretMasker.register(secret);
  secretMasker.register(file.http?.adminToken);
  secretMasker.register(config.http.adminToken);
  for (const user of config.embeddedBroker.users) secretMasker.register(user.password);
  // The database URL's password, from the file or the env (the env may replace a file URL: both were read).
  for (const url of [file.db?.url, config.db.url]) {
    if (!url) continue;
    for (const secret of passwordInUrl(url)) secretMasker.register(secret);
    try {
      secretMasker.register(new URL(url).searchParams.get('password') ?? undefined);
    } catch {
      /* not a URL: nothing to register */
    }
  }
  secretMasker.register(EMBEDDED_INGEST_CREDENTIALS.password);
}
