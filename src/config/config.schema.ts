/**
 * DTOs describing config.json as it is written on disk (CoreScope keys plus our own blocks).
 *
 * Property names are the JSON key spellings (including CoreScope's `geo_filter`). go-json-decoder.ts
 * folds the file's keys onto these names first, so the validators below only ever see known keys.
 * Each property carries exactly one type validator whose message names the failing element, so the
 * loader can turn the first violation into a one-line `config: <key path> <problem>` error.
 *
 * Ranges are only enforced for our own keys. CoreScope keys are typed but never range-checked:
 * the reference coerces out-of-range values ("or default" rules) instead of rejecting them.
 */
import 'reflect-metadata';
import { Type } from 'class-transformer';
import { getMetadataStorage, IsIn, IsOptional, ValidateBy, ValidateNested, type ValidationArguments } from 'class-validator';
import { CronTime, validateCronExpression } from 'cron';
import { formatDuration, MAX_TIMER_DELAY_MS, parseDuration } from './duration';
import { MAINTENANCE_JOB_NAMES } from './maintenance-schedules';

/** A DTO class that plainToInstance can instantiate. */
export type DtoClass = new () => object;

// ---------------------------------------------------------------------------
// Shape registry: which properties hold nested DTOs. The Go-like decoder needs it to fold keys at
// every level, and class-transformer/class-validator need @Type/@ValidateNested for the same
// properties, so one decorator does all three and they cannot drift apart.
// ---------------------------------------------------------------------------

export interface NestedDtoField {
  /** true for an array of DTOs (mqttSources), false for a single nested object. */
  readonly list: boolean;
  readonly type: () => DtoClass;
}

const nestedFieldsByClass = new Map<Function, Map<string, NestedDtoField>>();

function NestedDto(type: () => DtoClass, options: { list?: boolean } = {}): PropertyDecorator {
  return (target, propertyKey) => {
    const property = String(propertyKey);
    ValidateNested()(target, propertyKey);
    Type(type)(target, propertyKey);
    const fields = nestedFieldsByClass.get(target.constructor) ?? new Map<string, NestedDtoField>();
    fields.set(property, { list: options.list ?? false, type });
    nestedFieldsByClass.set(target.constructor, fields);
  };
}

export interface DtoShape {
  /** JSON key spellings, in declaration order. */
  readonly properties: readonly string[];
  readonly nested: ReadonlyMap<string, NestedDtoField>;
  /** Our own blocks where a misspelt key must fail the start instead of being ignored (it would do nothing). */
  readonly strict: boolean;
}

const strictClasses = new Set<Function>();

/** Unknown keys inside this block are errors, not warnings. */
function StrictKeys(): ClassDecorator {
  return (target) => {
    strictClasses.add(target);
  };
}

const shapeCache = new Map<DtoClass, DtoShape>();

/** Property names of a DTO as registered with class-validator (every property has at least @IsOptional). */
export function describeDto(dto: DtoClass): DtoShape {
  const cached = shapeCache.get(dto);
  if (cached) return cached;
  const metadata = getMetadataStorage().getTargetValidationMetadatas(dto, '', true, false);
  const properties = [...new Set(metadata.map((entry) => entry.propertyName))];
  const shape: DtoShape = { properties, nested: nestedFieldsByClass.get(dto) ?? new Map(), strict: strictClasses.has(dto) };
  shapeCache.set(dto, shape);
  return shape;
}

// ---------------------------------------------------------------------------
// Type validators. Messages start with the property name; the loader swaps that prefix for the
// full key path (e.g. "topics[0] must be a string" → "mqttSources[1].topics[0] must be a string").
// ---------------------------------------------------------------------------

interface NumericRange {
  readonly min?: number;
  readonly max?: number;
}

function describeRange(kind: string, range: NumericRange): string {
  if (range.min !== undefined && range.max !== undefined) return `${kind} between ${range.min} and ${range.max}`;
  if (range.min !== undefined) return `${kind} >= ${range.min}`;
  if (range.max !== undefined) return `${kind} <= ${range.max}`;
  return kind;
}

function isWithin(value: number, range: NumericRange): boolean {
  return (range.min === undefined || value >= range.min) && (range.max === undefined || value <= range.max);
}

/**
 * A Go `int` field. Go rejects fractional numbers for ints; we also reject anything beyond the
 * safe-integer range, where a JavaScript number no longer holds the value that was written.
 */
function IsGoInt(range: NumericRange = {}): PropertyDecorator {
  return ValidateBy({
    name: 'isGoInt',
    validator: {
      validate: (value: unknown) => typeof value === 'number' && Number.isSafeInteger(value) && isWithin(value, range),
      defaultMessage: (args?: ValidationArguments) => `${args?.property} must be ${describeRange('an integer', range)}`,
    },
  });
}

/** A Go `float64` field. */
function IsGoFloat(range: NumericRange = {}): PropertyDecorator {
  return ValidateBy({
    name: 'isGoFloat',
    validator: {
      validate: (value: unknown) => typeof value === 'number' && Number.isFinite(value) && isWithin(value, range),
      defaultMessage: (args?: ValidationArguments) => `${args?.property} must be ${describeRange('a number', range)}`,
    },
  });
}

function IsGoString(): PropertyDecorator {
  return ValidateBy({
    name: 'isGoString',
    validator: {
      validate: (value: unknown) => typeof value === 'string',
      defaultMessage: (args?: ValidationArguments) => `${args?.property} must be a string`,
    },
  });
}

function IsGoBool(): PropertyDecorator {
  return ValidateBy({
    name: 'isGoBool',
    validator: {
      validate: (value: unknown) => typeof value === 'boolean',
      defaultMessage: (args?: ValidationArguments) => `${args?.property} must be true or false`,
    },
  });
}

/** A string that must contain something other than whitespace (used for our own keys only). */
function IsNonBlankString(): PropertyDecorator {
  return ValidateBy({
    name: 'isNonBlankString',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && value.trim() !== '',
      defaultMessage: (args?: ValidationArguments) =>
        typeof args?.value === 'string' ? `${args.property} must not be empty` : `${args?.property} must be a string`,
    },
  });
}

/**
 * A Go `[]string`. A JSON null element decodes to Go's zero value "" (kept, like the reference),
 * so null elements are accepted here and turned into "" by the loader.
 */
function IsGoStringList(): PropertyDecorator {
  const firstBadIndex = (value: unknown[]) => value.findIndex((item) => item !== null && typeof item !== 'string');
  return ValidateBy({
    name: 'isGoStringList',
    validator: {
      validate: (value: unknown) => Array.isArray(value) && firstBadIndex(value) < 0,
      defaultMessage: (args?: ValidationArguments) =>
        Array.isArray(args?.value)
          ? `${args.property}[${firstBadIndex(args.value)}] must be a string`
          : `${args?.property} must be an array of strings`,
    },
  });
}

/** What is wrong with a duration string ("30s", "1h30m"; see duration.ts) that must lie in [min, Node's timer limit]. */
function durationProblem(value: unknown, minMs: number): string | undefined {
  if (typeof value !== 'string') return 'must be a duration string like "15m" or "1h30m"';
  const ms = parseDuration(value.trim());
  if (ms === undefined) return `must be a duration like "30s", "15m", "1h" or "1h30m" (units ms, s, m, h), got ${JSON.stringify(value)}`;
  if (ms < minMs) return minMs === 0 ? 'must not be negative' : `must be at least ${formatDuration(minMs)}, got ${JSON.stringify(value)}`;
  if (ms > MAX_TIMER_DELAY_MS) {
    return `must be at most ${formatDuration(MAX_TIMER_DELAY_MS)} (Node's timer limit, ~24.8 days; use cron for longer), got ${JSON.stringify(value)}`;
  }
  return undefined;
}

function IsDurationText(options: { minMs: number }): PropertyDecorator {
  return ValidateBy({
    name: 'isDurationText',
    validator: {
      validate: (value: unknown) => durationProblem(value, options.minMs) === undefined,
      defaultMessage: (args?: ValidationArguments) => `${args?.property} ${durationProblem(args?.value, options.minMs)}`,
    },
  });
}

/** The shortest period of `every`: a job that runs more often than once a second is a mistake. */
export const MIN_SCHEDULE_PERIOD_MS = 1_000;

/**
 * Exactly one of `every` and `cron` (an entry that only turns a job off may give neither), and a valid
 * period when `every` is given. Sits on `every` without @IsOptional, which would skip it when `every` is absent.
 */
function IsScheduleTiming(): PropertyDecorator {
  const entryOf = (args?: ValidationArguments) => (args?.object ?? {}) as { every?: unknown; cron?: unknown; enabled?: unknown; timeZone?: unknown };
  const problem = (args?: ValidationArguments): string | undefined => {
    const entry = entryOf(args);
    if (entry.every !== undefined && entry.cron !== undefined) return 'and cron are both set: give exactly one of them';
    if (entry.every === undefined && entry.cron === undefined) {
      return entry.enabled === false ? undefined : 'is missing: give exactly one of every (e.g. "1h") or cron (e.g. "30 3 * * *")';
    }
    if (entry.every !== undefined && entry.timeZone !== undefined) return 'cannot be combined with timeZone (a time zone only applies to cron)';
    return entry.every === undefined ? undefined : durationProblem(entry.every, MIN_SCHEDULE_PERIOD_MS);
  };
  return ValidateBy({
    name: 'isScheduleTiming',
    validator: {
      validate: (_value: unknown, args?: ValidationArguments) => problem(args) === undefined,
      defaultMessage: (args?: ValidationArguments) => `${args?.property} ${problem(args)}`,
    },
  });
}

/** A 5-field (minute precision) or 6-field (with seconds) cron expression, as the `cron` package reads it. */
function IsCronExpression(): PropertyDecorator {
  const problem = (value: unknown): string | undefined => {
    if (typeof value !== 'string') return 'must be a cron expression string like "30 3 * * *"';
    const fields = value.trim().split(/\s+/).filter((field) => field !== '');
    if (fields.length !== 5 && fields.length !== 6) {
      return `must have 5 fields (minute hour day month weekday) or 6 (with seconds first), got ${fields.length} in ${JSON.stringify(value)}`;
    }
    const expression = fields.join(' ');
    const check = validateCronExpression(expression);
    if (!check.valid) return `is not a valid cron expression (${check.error?.message ?? 'rejected'}): ${JSON.stringify(value)}`;
    // Well-formed is not enough: "0 0 31 2 *" (31 February) never fires, and the scheduler would fail on it.
    try {
      new CronTime(expression).sendAt();
    } catch {
      return `never fires (no date matches it): ${JSON.stringify(value)}`;
    }
    return undefined;
  };
  return ValidateBy({
    name: 'isCronExpression',
    validator: {
      validate: (value: unknown) => problem(value) === undefined,
      defaultMessage: (args?: ValidationArguments) => `${args?.property} ${problem(args?.value)}`,
    },
  });
}

/** An IANA time zone name that this Node's ICU knows (e.g. "Europe/Berlin", "UTC"). */
export function isKnownTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return value.trim() !== '';
  } catch {
    return false;
  }
}

function IsTimeZone(): PropertyDecorator {
  return ValidateBy({
    name: 'isTimeZone',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && isKnownTimeZone(value),
      defaultMessage: (args?: ValidationArguments) =>
        typeof args?.value === 'string'
          ? `${args.property} is not a known IANA time zone (e.g. "Europe/Berlin", "UTC"): ${JSON.stringify(args.value)}`
          : `${args?.property} must be a string`,
    },
  });
}

/** Renders a map key the way a reader would write it in a key path. */
export function formatMapKey(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

/** A Go `map[string]string`; null values are accepted (the loader drops them as absent). */
function IsGoStringMap(): PropertyDecorator {
  const firstBadKey = (value: object) =>
    Object.entries(value).find(([, item]) => item !== null && typeof item !== 'string')?.[0];
  const isPlainObject = (value: unknown): value is object =>
    typeof value === 'object' && value !== null && !Array.isArray(value);
  return ValidateBy({
    name: 'isGoStringMap',
    validator: {
      validate: (value: unknown) => isPlainObject(value) && firstBadKey(value) === undefined,
      defaultMessage: (args?: ValidationArguments) => {
        if (!isPlainObject(args?.value)) return `${args?.property} must be an object of name → string`;
        return `${args.property}${formatMapKey(firstBadKey(args.value) ?? '')} must be a string`;
      },
    },
  });
}

/**
 * A Go `[][2]float64` (geo_filter.polygon). Go's array decoding drops extra elements and leaves
 * missing ones at 0, and null means the zero value; the loader applies the same normalisation,
 * so only the two coordinates that are used are type-checked here.
 */
function IsGoLatLonList(): PropertyDecorator {
  const problemIn = (points: unknown[]): string | undefined => {
    for (const [index, point] of points.entries()) {
      if (point === null) continue;
      if (!Array.isArray(point)) return `[${index}] must be a [lat, lon] pair`;
      for (const axis of [0, 1]) {
        const coordinate: unknown = point[axis];
        if (coordinate === undefined || coordinate === null) continue;
        if (typeof coordinate !== 'number' || !Number.isFinite(coordinate)) return `[${index}][${axis}] must be a number`;
      }
    }
    return undefined;
  };
  return ValidateBy({
    name: 'isGoLatLonList',
    validator: {
      validate: (value: unknown) => Array.isArray(value) && problemIn(value) === undefined,
      defaultMessage: (args?: ValidationArguments) =>
        Array.isArray(args?.value)
          ? `${args.property}${problemIn(args.value)}`
          : `${args?.property} must be an array of [lat, lon] pairs`,
    },
  });
}

/**
 * clientId is optional for qos 0 (a fresh id per start is fine for a clean session) but a qos 1
 * source resumes its broker session by id, so there it must be given explicitly: a generated id
 * would silently start a new session on every restart and lose what the broker queued.
 */
function IsClientIdForQos(): PropertyDecorator {
  const wantsPersistentSession = (args?: ValidationArguments) => (args?.object as { qos?: unknown } | undefined)?.qos === 1;
  return ValidateBy({
    name: 'isClientIdForQos',
    validator: {
      validate: (value: unknown, args?: ValidationArguments) => {
        if (value === undefined) return !wantsPersistentSession(args);
        if (typeof value !== 'string') return false;
        return !wantsPersistentSession(args) || value.trim() !== '';
      },
      defaultMessage: (args?: ValidationArguments) => {
        if (args?.value !== undefined && typeof args?.value !== 'string') return `${args?.property} must be a string`;
        return `${args?.property} is required when qos is 1 (a persistent session is resumed by client id)`;
      },
    },
  });
}

/**
 * The ShareName of an MQTT shared subscription (`$share/<shareGroup>/<topic>`): one topic level, so the spec
 * (MQTT 5 §4.8.2) forbids "/", "+" and "#" in it; a broker would refuse the SUBSCRIBE or read another filter.
 */
function IsShareGroup(): PropertyDecorator {
  const forbidden = /[/+#]/;
  return ValidateBy({
    name: 'isShareGroup',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && value.trim() !== '' && !forbidden.test(value),
      defaultMessage: (args?: ValidationArguments) => {
        if (typeof args?.value !== 'string') return `${args?.property} must be a string`;
        if (args.value.trim() === '') return `${args.property} must not be empty (leave the key out to receive every message)`;
        return `${args.property} must not contain "/", "+" or "#" (it is one topic level of $share/<shareGroup>/<topic>), got ${JSON.stringify(args.value)}`;
      },
    },
  });
}

/** broker has no default and an empty URL can never connect, so it is the one required source key. */
function IsBrokerUrl(): PropertyDecorator {
  return ValidateBy({
    name: 'isBrokerUrl',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && value.trim() !== '',
      defaultMessage: (args?: ValidationArguments) => {
        if (args?.value === undefined) return `${args?.property} is required`;
        if (typeof args.value !== 'string') return `${args.property} must be a string`;
        return `${args.property} must not be empty`;
      },
    },
  });
}

// ---------------------------------------------------------------------------
// DTOs. Nested classes are declared before the classes that use them: emitted decorator
// metadata references them while the outer class is being defined.
// ---------------------------------------------------------------------------

export const LOG_FORMATS = ['text', 'json'] as const;
export const LOG_LEVELS = ['error', 'warn', 'log', 'debug', 'verbose'] as const;
/** MQTT 5 session expiry is a four-byte unsigned integer. */
export const MAX_SESSION_EXPIRY_SEC = 0xffffffff;

export class MqttSourceFileDto {
  @IsOptional() @IsGoString() name?: string;
  @IsBrokerUrl() broker?: string;
  @IsOptional() @IsGoString() username?: string;
  @IsOptional() @IsGoString() password?: string;
  @IsOptional() @IsGoBool() rejectUnauthorized?: boolean;
  @IsOptional() @IsGoStringList() topics?: (string | null)[];
  @IsOptional() @IsGoStringList() iataFilter?: (string | null)[];
  @IsOptional() @IsGoInt() connectTimeoutSec?: number;
  @IsOptional() @IsGoString() region?: string;

  // ours
  @IsOptional() @IsIn([0, 1], { message: (args) => `${args.property} must be 0 or 1` }) qos?: 0 | 1;
  @IsClientIdForQos() clientId?: string;
  @IsOptional() @IsGoInt({ min: 0, max: MAX_SESSION_EXPIRY_SEC }) sessionExpirySec?: number;
  /** Replicas that set the same group share the source's messages (MQTT 5 shared subscription). */
  @IsOptional() @IsShareGroup() shareGroup?: string;
}

export class LegacyMqttFileDto {
  @IsOptional() @IsGoString() broker?: string;
  @IsOptional() @IsGoString() topic?: string;
}

export class RetentionFileDto {
  @IsOptional() @IsGoInt() nodeDays?: number;
  @IsOptional() @IsGoInt() observerDays?: number;
  @IsOptional() @IsGoInt() metricsDays?: number;
  @IsOptional() @IsGoInt() packetDays?: number;
  @IsOptional() @IsGoInt() clientRxDays?: number;
}

export class MetricsFileDto {
  @IsOptional() @IsGoInt() sampleIntervalSec?: number;
}

export class RuntimeFileDto {
  @IsOptional() @IsGoInt() maxMemoryMB?: number;
}

export class ClientRxCoverageFileDto {
  @IsOptional() @IsGoBool() enabled?: boolean;
}

export class GeoFilterFileDto {
  @IsOptional() @IsGoLatLonList() polygon?: unknown[];
  @IsOptional() @IsGoFloat() bufferKm?: number;
  @IsOptional() @IsGoFloat() latMin?: number;
  @IsOptional() @IsGoFloat() latMax?: number;
  @IsOptional() @IsGoFloat() lonMin?: number;
  @IsOptional() @IsGoFloat() lonMax?: number;
}

export class ForeignAdvertsFileDto {
  @IsOptional() @IsGoString() mode?: string;
}

export const DB_ENGINES = ['sqlite', 'postgres'] as const;

export class DbFileDto {
  @IsOptional() @IsIn(DB_ENGINES, { message: (args) => `${args.property} must be one of: ${DB_ENGINES.join(', ')}` })
  engine?: (typeof DB_ENGINES)[number];
  // Blank = unset, like http.adminToken; checked against the engine in load-config.
  @IsOptional() @IsGoString() url?: string;
  @IsOptional() @IsGoBool() vacuumOnStartup?: boolean;
  @IsOptional() @IsGoInt() incrementalVacuumPages?: number;
}

export class HttpFileDto {
  @IsOptional() @IsGoInt({ min: 0, max: 65535 }) port?: number;
  @IsOptional() @IsNonBlankString() host?: string;
  // Blank = unset, so a template can carry the key.
  @IsOptional() @IsGoString() adminToken?: string;
  /** false: no HTTP server at all (no health, metrics or status routes). */
  @IsOptional() @IsGoBool() enabled?: boolean;
  /** false: the status routes (/, /api/mqtt/status, /api/maintenance) are off; health and metrics stay. */
  @IsOptional() @IsGoBool() statusApi?: boolean;
}

@StrictKeys()
export class EmbeddedBrokerUserFileDto {
  @IsNonBlankString() username?: string;
  @IsNonBlankString() password?: string;
}

/** The broker inside the service (aedes): observers publish to it directly. */
@StrictKeys()
export class EmbeddedBrokerFileDto {
  @IsOptional() @IsGoBool() enabled?: boolean;
  @IsOptional() @IsNonBlankString() host?: string;
  @IsOptional() @IsGoInt({ min: 1, max: 65535 }) port?: number;
  @IsOptional() @NestedDto(() => EmbeddedBrokerUserFileDto, { list: true }) users?: EmbeddedBrokerUserFileDto[];
}

export class IngestFileDto {
  @IsOptional() @IsGoInt({ min: 1, max: 100_000 }) batchSize?: number;
  @IsOptional() @IsGoInt({ min: 1, max: 60_000 }) flushIntervalMs?: number;
  @IsOptional() @IsGoInt({ min: 1, max: 10_000_000 }) highWaterMark?: number;
  @IsOptional() @IsGoBool() workerThread?: boolean;
}

export class SqliteFileDto {
  @IsOptional() @IsGoInt({ min: 1, max: 4096 }) cacheSizeMiB?: number;
  @IsOptional() @IsGoInt({ min: 100, max: 1_000_000 }) walAutocheckpointPages?: number;
}

export class WatchdogFileDto {
  @IsOptional() @IsGoFloat({ min: 1 }) intervalSec?: number;
  @IsOptional() @IsGoFloat({ min: 1 }) thresholdSec?: number;
}

export class LogFileDto {
  @IsOptional() @IsIn(LOG_FORMATS, { message: (args) => `${args.property} must be one of: ${LOG_FORMATS.join(', ')}` })
  format?: (typeof LOG_FORMATS)[number];

  @IsOptional() @IsIn(LOG_LEVELS, { message: (args) => `${args.property} must be one of: ${LOG_LEVELS.join(', ')}` })
  level?: (typeof LOG_LEVELS)[number];
}

/**
 * Upper bounds keep every period far below Node's timer limit (2^31 - 1 ms, about 24.8 days): a longer
 * delay would silently fire after 1 ms.
 */
export const MAX_MAINTENANCE_PERIOD = { minutes: 10_080, hours: 168, seconds: 86_400 } as const;
export const MAX_DELETE_CHUNK_ROWS = 1_000_000;

export class MaintenanceFileDto {
  @IsOptional() @IsGoInt({ min: 1, max: MAX_MAINTENANCE_PERIOD.minutes }) nodeRetentionIntervalMin?: number;
  @IsOptional() @IsGoInt({ min: 1, max: MAX_MAINTENANCE_PERIOD.hours }) dailyJobsIntervalHours?: number;
  @IsOptional() @IsGoInt({ min: 1, max: MAX_MAINTENANCE_PERIOD.minutes }) walCheckpointIntervalMin?: number;
  @IsOptional() @IsGoInt({ min: 1, max: MAX_MAINTENANCE_PERIOD.seconds }) neighborBuilderIntervalSec?: number;
  @IsOptional() @IsGoInt({ min: 1, max: MAX_MAINTENANCE_PERIOD.seconds }) pruneQueueIntervalSec?: number;
  @IsOptional() @IsGoInt({ min: 1, max: MAX_MAINTENANCE_PERIOD.minutes }) multibyteIntervalMin?: number;
  @IsOptional() @IsGoInt({ min: 1, max: MAX_DELETE_CHUNK_ROWS }) deleteChunkRows?: number;
}

/** One `schedules.<job>` entry. */
@StrictKeys()
export class JobScheduleFileDto {
  @IsOptional() @IsGoBool() enabled?: boolean;
  @IsScheduleTiming() every?: string;
  @IsOptional() @IsCronExpression() cron?: string;
  @IsOptional() @IsTimeZone() timeZone?: string;
  @IsOptional() @IsDurationText({ minMs: 0 }) initialDelay?: string;
}

/** `schedules`: one optional entry per periodic job (names in maintenance-schedules.ts). */
@StrictKeys()
export class SchedulesFileDto {
  @IsOptional() @NestedDto(() => JobScheduleFileDto) nodeRetention?: JobScheduleFileDto;
  @IsOptional() @NestedDto(() => JobScheduleFileDto) observerRetention?: JobScheduleFileDto;
  @IsOptional() @NestedDto(() => JobScheduleFileDto) metricsRetention?: JobScheduleFileDto;
  @IsOptional() @NestedDto(() => JobScheduleFileDto) packetRetention?: JobScheduleFileDto;
  @IsOptional() @NestedDto(() => JobScheduleFileDto) clientRxRetention?: JobScheduleFileDto;
  @IsOptional() @NestedDto(() => JobScheduleFileDto) walCheckpoint?: JobScheduleFileDto;
  @IsOptional() @NestedDto(() => JobScheduleFileDto) neighborPrune?: JobScheduleFileDto;
  @IsOptional() @NestedDto(() => JobScheduleFileDto) pruneQueue?: JobScheduleFileDto;
  @IsOptional() @NestedDto(() => JobScheduleFileDto) multibytePersist?: JobScheduleFileDto;
  @IsOptional() @NestedDto(() => JobScheduleFileDto) neighborBuilder?: JobScheduleFileDto;
}

// The DTO's properties and the job list must be the same set (a job without a key could not be scheduled).
{
  const declared = [...new Set(getMetadataStorage().getTargetValidationMetadatas(SchedulesFileDto, '', true, false).map((m) => m.propertyName))];
  if (declared.join() !== MAINTENANCE_JOB_NAMES.join()) throw new Error(`SchedulesFileDto (${declared.join()}) differs from MAINTENANCE_JOB_NAMES`);
}

/** The whole file. Every key is optional: a missing or empty file means "all defaults". */
export class ConfigFileDto {
  @IsOptional() @IsGoString() dbPath?: string;
  @IsOptional() @NestedDto(() => MqttSourceFileDto, { list: true }) mqttSources?: MqttSourceFileDto[];
  @IsOptional() @NestedDto(() => LegacyMqttFileDto) mqtt?: LegacyMqttFileDto;
  @IsOptional() @IsGoString() logLevel?: string;
  @IsOptional() @IsGoString() channelKeysPath?: string;
  @IsOptional() @IsGoStringMap() channelKeys?: Record<string, string | null>;
  @IsOptional() @IsGoStringList() hashChannels?: (string | null)[];
  @IsOptional() @IsGoStringList() hashRegions?: (string | null)[];
  @IsOptional() @NestedDto(() => RetentionFileDto) retention?: RetentionFileDto;
  @IsOptional() @NestedDto(() => MetricsFileDto) metrics?: MetricsFileDto;
  @IsOptional() @NestedDto(() => RuntimeFileDto) runtime?: RuntimeFileDto;
  @IsOptional() @NestedDto(() => ClientRxCoverageFileDto) clientRxCoverage?: ClientRxCoverageFileDto;
  @IsOptional() @NestedDto(() => GeoFilterFileDto) geo_filter?: GeoFilterFileDto;
  @IsOptional() @NestedDto(() => ForeignAdvertsFileDto) foreignAdverts?: ForeignAdvertsFileDto;
  @IsOptional() @IsGoBool() validateSignatures?: boolean;
  @IsOptional() @NestedDto(() => DbFileDto) db?: DbFileDto;
  @IsOptional() @IsGoStringList() observerIATAWhitelist?: (string | null)[];
  @IsOptional() @IsGoStringList() observerBlacklist?: (string | null)[];
  @IsOptional() @IsGoInt() neighborEdgesMaxAgeDays?: number;
  // ≤ 0 means the default (like the reference); the upper bound keeps the ring allocation sane.
  @IsOptional() @IsGoInt({ max: 10_000_000 }) ingestBufferSize?: number;

  // ours
  @IsOptional() @NestedDto(() => HttpFileDto) http?: HttpFileDto;
  @IsOptional() @NestedDto(() => IngestFileDto) ingest?: IngestFileDto;
  @IsOptional() @NestedDto(() => SqliteFileDto) sqlite?: SqliteFileDto;
  @IsOptional() @NestedDto(() => WatchdogFileDto) watchdog?: WatchdogFileDto;
  @IsOptional() @NestedDto(() => LogFileDto) log?: LogFileDto;
  @IsOptional() @NestedDto(() => MaintenanceFileDto) maintenance?: MaintenanceFileDto;
  @IsOptional() @NestedDto(() => SchedulesFileDto) schedules?: SchedulesFileDto;
  @IsOptional() @NestedDto(() => EmbeddedBrokerFileDto) embeddedBroker?: EmbeddedBrokerFileDto;
}
