/**
 * Go encoding/json output for generic values (maps are written with sorted keys, HTML characters
 * escaped). The decoder has its own ordered serializer for payload structs; this one serves the
 * map-shaped documents (companion-bridge decoded_json).
 */

const HTML_UNSAFE = /[<>&\u2028\u2029]/g;
const ESCAPES: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

function sortKeysDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeysDeep);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeysDeep((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

export function goMarshal(value: unknown): string {
  const text = JSON.stringify(sortKeysDeep(value));
  return text.replace(HTML_UNSAFE, (c) => ESCAPES[c]);
}

/** Go's fmt %v of a JSON-decoded value (used for `channel_idx`). */
export function goFormatValue(value: unknown): string {
  if (value === null || value === undefined) return '<nil>';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}
