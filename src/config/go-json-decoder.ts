/**
 * Applies the parts of Go's encoding/json struct decoding that JSON.parse does not, so config.json
 * is read the way the reference ingestor reads it:
 *
 * - object keys match DTO properties case-insensitively at every level, an exact match preferred
 *   (`DBPATH` → `dbPath`; `geoFilter` does not match `geo_filter`);
 * - keys without a matching property are dropped (CoreScope's config.json is shared with the
 *   server, so most of its keys are not ours);
 * - `null` leaves a property unset;
 * - when two spellings of one key appear, the later one wins, and two objects for the same
 *   nested key are merged, as Go decodes both into the same struct.
 *
 * Dropped keys are reported (with their key paths) to `unknownKeys`, so the loader can name them in one
 * warning; keys starting with `_` are comments (CoreScope's own files are full of `_comment`) and are not.
 * In our own strict blocks (`schedules`) an unknown key is an error instead: a misspelt job would do nothing.
 *
 * It also enforces the shape of nested blocks (an object where an object is expected, an array
 * of objects for mqttSources) because only this pass walks them. Leaf types are left to the
 * class-validator DTOs. Map keys (channelKeys) are data, not field names, and stay untouched.
 */
import { configValueError } from './config.errors';
import { describeDto, type DtoClass } from './config.schema';

export type PlainObject = Record<string, unknown>;

function isPlainObject(value: unknown): value is PlainObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeJsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

function childPath(parentPath: string, key: string): string {
  return parentPath === '' ? key : `${parentPath}.${key}`;
}

function findProperty(properties: readonly string[], jsonKey: string): string | undefined {
  if (properties.includes(jsonKey)) return jsonKey;
  const folded = jsonKey.toLowerCase();
  return properties.find((property) => property.toLowerCase() === folded);
}

/**
 * Decodes `raw` (an object from JSON.parse) into a fresh plain object whose keys are exactly the
 * DTO's property names. `path` is the key path of `raw`, used in error messages.
 */
export function decodeLikeGo(raw: unknown, dto: DtoClass, path = '', unknownKeys: string[] = []): PlainObject {
  return decodeInto({}, raw, dto, path, unknownKeys);
}

const isComment = (key: string) => key.startsWith('_');

// Targets are ordinary objects; only DTO property names are ever assigned to them, so a JSON key
// such as "__proto__" cannot reach an assignment.
function decodeInto(target: PlainObject, raw: unknown, dto: DtoClass, path: string, unknownKeys: string[]): PlainObject {
  if (!isPlainObject(raw)) {
    throw configValueError(path === '' ? '(root)' : path, `must be an object, not ${describeJsonType(raw)}`);
  }
  const shape = describeDto(dto);
  for (const [jsonKey, value] of Object.entries(raw)) {
    const property = findProperty(shape.properties, jsonKey);
    if (property === undefined) {
      if (isComment(jsonKey)) continue;
      const keyPath = childPath(path, jsonKey);
      if (shape.strict) throw configValueError(keyPath, `is not a known key (known here: ${shape.properties.join(', ')})`);
      unknownKeys.push(keyPath);
      continue;
    }
    if (value === null) continue;
    const keyPath = childPath(path, property);
    const nested = shape.nested.get(property);
    if (!nested) {
      target[property] = value;
    } else if (nested.list) {
      target[property] = decodeList(value, nested.type(), keyPath, unknownKeys);
    } else {
      const existing = target[property];
      const into = isPlainObject(existing) ? existing : {};
      target[property] = decodeInto(into, value, nested.type(), keyPath, unknownKeys);
    }
  }
  return target;
}

function decodeList(raw: unknown, dto: DtoClass, path: string, unknownKeys: string[]): PlainObject[] {
  if (!Array.isArray(raw)) throw configValueError(path, `must be an array, not ${describeJsonType(raw)}`);
  // A null element decodes to Go's zero value: an object with nothing set.
  return raw.map((item, index) => (item === null ? {} : decodeInto({}, item, dto, `${path}[${index}]`, unknownKeys)));
}
