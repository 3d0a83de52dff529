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
}

const shapeCache = new Map<DtoClass, DtoShape>();

/** Property names of a DTO as registered with class-validator (every property has at least @IsOptional). */
export function describeDto(dto: DtoClass): DtoShape {
  const cached = shapeCache.get(dto);
  if (cached) return cached;
  const metadata = getMetadataStorage().getTargetValidationMetadatas(dto, '', true, false);
  const properties = [...new Set(metadata.map((entry) => entry.propertyName))];
  const shape: DtoShape = { properties, nested: nestedFieldsByClass.get(dto) ?? new Map() };
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

export class DbFileDto {
  @IsOptional() @IsGoBool() vacuumOnStartup?: boolean;
  @IsOptional() @IsGoInt() incrementalVacuumPages?: number;
}

export class HttpFileDto {
  @IsOptional() @IsGoInt({ min: 0, max: 65535 }) port?: number;
  @IsOptional() @IsNonBlankString() host?: string;
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
}
