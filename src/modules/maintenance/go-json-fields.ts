/**
 * Reading the small JSON handoff files the CoreScope server writes (mbcap snapshot, prune requests) the way Go's
 * encoding/json fills a struct: keys match field names case-insensitively (the last match wins), `null` means
 * "not set", and a value of the wrong type is an error that rejects the whole file.
 */

export class HandoffShapeError extends Error {}

export type JsonObject = Record<string, unknown>;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value stored under `name` (case-insensitive, last match wins); undefined when absent or null. */
export function field(object: JsonObject, name: string): unknown {
  const wanted = name.toLowerCase();
  let found: unknown;
  for (const [key, value] of Object.entries(object)) {
    if (key.toLowerCase() === wanted) found = value;
  }
  return found === null ? undefined : found;
}

/** A Go string field: '' when absent. */
export function stringField(object: JsonObject, name: string): string {
  const value = field(object, name);
  if (value === undefined) return '';
  if (typeof value !== 'string') throw new HandoffShapeError(`json: cannot unmarshal ${jsonType(value)} into field ${name} of type string`);
  return value;
}

/** A Go []T field: [] when absent; null elements become the zero value via `element`. */
export function listField<T>(object: JsonObject, name: string, element: (value: unknown, index: number) => T): T[] {
  const value = field(object, name);
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new HandoffShapeError(`json: cannot unmarshal ${jsonType(value)} into field ${name} of type array`);
  return value.map(element);
}

export function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value === 'object' ? 'object' : typeof value;
}
