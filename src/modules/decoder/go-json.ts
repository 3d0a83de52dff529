/**
 * Serialisation of a decoded payload exactly as CoreScope's Go 1.22 `json.Marshal` of its
 * payload struct writes it (decoder-spec §4.1): one master key order for every payload type,
 * per-key omission rules, HTML-safe string escaping, one `\ufffd` per invalid UTF-8 byte.
 */

import { decodeRuneAt, INVALID_RUNE, runeCodePoint, runeSize } from './go-utf8';

/**
 * S: string, omitted when ''. N: number, omitted when 0. P: emitted whenever set (0 and false
 * included). L: list, omitted when absent or empty.
 */
export type OmitRule = 'S' | 'N' | 'P' | 'L';

/** decoder-spec §4.1 master key order (the Go struct's field order) with each key's rule. */
export const PAYLOAD_KEY_ORDER: readonly (readonly [key: string, rule: OmitRule])[] = [
  ['type', 'S'],
  ['destHash', 'S'],
  ['srcHash', 'S'],
  ['mac', 'S'],
  ['encryptedData', 'S'],
  ['extraHash', 'S'],
  ['ackLen', 'P'],
  ['ackAttempt', 'P'],
  ['ackRand', 'P'],
  ['pubKey', 'S'],
  ['timestamp', 'N'],
  ['timestampISO', 'S'],
  ['signature', 'S'],
  ['signatureValid', 'P'],
  ['flags', 'P'],
  ['lat', 'P'],
  ['lon', 'P'],
  ['name', 'S'],
  ['feat1', 'P'],
  ['feat2', 'P'],
  ['battery_mv', 'P'],
  ['temperature_c', 'P'],
  ['channelHash', 'N'],
  ['channelHashHex', 'S'],
  ['decryptionStatus', 'S'],
  ['channel', 'S'],
  ['dataType', 'P'],
  ['dataLen', 'P'],
  ['decryptedBlob', 'S'],
  ['text', 'S'],
  ['sender', 'S'],
  ['sender_timestamp', 'N'],
  ['ephemeralPubKey', 'S'],
  ['pathData', 'S'],
  ['snrValues', 'L'],
  ['tag', 'N'],
  ['authCode', 'N'],
  ['traceFlags', 'P'],
  ['raw', 'S'],
  ['error', 'S'],
  ['remaining', 'P'],
  ['innerType', 'P'],
  ['innerTypeName', 'S'],
  ['innerAckCrc', 'S'],
  ['innerAckLen', 'P'],
  ['innerAckAttempt', 'P'],
  ['innerAckRand', 'P'],
  ['innerPayload', 'S'],
  ['ctrlFlags', 'S'],
  ['ctrlZeroHop', 'P'],
  ['ctrlLength', 'P'],
  ['ctrlSubtype', 'S'],
  ['ctrlFilter', 'P'],
  ['ctrlTag', 'P'],
  ['ctrlSince', 'P'],
  ['ctrlNodeType', 'P'],
  ['ctrlSNR', 'P'],
  ['ctrlPubKey', 'S'],
  ['rawLength', 'P'],
  ['firstByteTag', 'S'],
];

interface KeySlot {
  readonly rank: number;
  readonly rule: OmitRule;
  /** The key already written as a JSON member prefix: `"key":`. */
  readonly prefix: string;
}

const KEY_SLOTS = new Map<string, KeySlot>(
  PAYLOAD_KEY_ORDER.map(([key, rule], rank) => [key, { rank, rule, prefix: `${JSON.stringify(key)}:` }]),
);

/** Thrown for values Go's encoder rejects (NaN, ±Inf); the payload then serialises as `{}`. */
class UnsupportedJsonValue extends Error {}

const HTML_OR_LINE_SEPARATOR = /[<>&\u2028\u2029]/;
const HTML_OR_LINE_SEPARATOR_ALL = /[<>&\u2028\u2029]/g;
const GO_EXTRA_ESCAPES: Readonly<Record<string, string>> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

function escapeGoExtra(char: string): string {
  return GO_EXTRA_ESCAPES[char];
}

/**
 * A JS string as a Go JSON string literal. JSON.stringify already matches Go 1.22 for `"`,
 * `\` and the control characters (`\b \f \n \r \t`, else `\u00xx` lower-case); Go additionally
 * escapes `< > &` and U+2028/U+2029.
 */
export function quoteGoString(text: string): string {
  const quoted = JSON.stringify(text);
  return HTML_OR_LINE_SEPARATOR.test(quoted) ? quoted.replace(HTML_OR_LINE_SEPARATOR_ALL, escapeGoExtra) : quoted;
}

const SHORT_ESCAPES: Readonly<Record<number, string>> = {
  0x08: '\\b',
  0x09: '\\t',
  0x0a: '\\n',
  0x0c: '\\f',
  0x0d: '\\r',
  0x22: '\\"',
  0x5c: '\\\\',
  0x3c: '\\u003c',
  0x3e: '\\u003e',
  0x26: '\\u0026',
};

/**
 * A Go string given as raw bytes (which may be invalid UTF-8) as a JSON string literal:
 * each byte that does not start a valid sequence becomes `\ufffd`; a valid U+FFFD stays raw.
 */
export function quoteGoBytes(bytes: Uint8Array): string {
  let out = '"';
  for (let at = 0; at < bytes.length; ) {
    const rune = decodeRuneAt(bytes, at, bytes.length);
    if (rune === INVALID_RUNE) {
      out += '\\ufffd';
      at += 1;
      continue;
    }
    at += runeSize(rune);
    const codePoint = runeCodePoint(rune);
    const short = SHORT_ESCAPES[codePoint];
    if (short !== undefined) out += short;
    else if (codePoint < 0x20) out += `\\u00${codePoint.toString(16).padStart(2, '0')}`;
    else if (codePoint === 0x2028 || codePoint === 0x2029) out += `\\u${codePoint.toString(16)}`;
    else out += String.fromCodePoint(codePoint);
  }
  return `${out}"`;
}

function serializeNumber(value: number): string {
  // Go rejects NaN/Inf; for finite values JSON.stringify gives Go's shortest round-trip form
  // for every magnitude the decoder can produce (0 or 1e-6 ≤ |x| < 1e21).
  if (!Number.isFinite(value)) throw new UnsupportedJsonValue(`unsupported value: ${value}`);
  return JSON.stringify(value);
}

/** Any nested value: objects keep their own key order and omit nothing (Go struct without omitempty). */
function serializeValue(value: unknown): string {
  if (typeof value === 'string') return quoteGoString(value);
  if (typeof value === 'number') return serializeNumber(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value instanceof Uint8Array) return quoteGoBytes(value);
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map(serializeValue).join(',')}]`;
  if (typeof value === 'object') {
    const members: string[] = [];
    for (const [key, member] of Object.entries(value)) members.push(`${JSON.stringify(key)}:${serializeValue(member)}`);
    return `{${members.join(',')}}`;
  }
  throw new UnsupportedJsonValue(`unsupported type: ${typeof value}`);
}

function isOmitted(rule: OmitRule, value: unknown): boolean {
  if (value === undefined || value === null) return true;
  switch (rule) {
    case 'S':
      return value === '' || (value instanceof Uint8Array && value.length === 0);
    case 'N':
      return value === 0;
    case 'L':
      return Array.isArray(value) && value.length === 0;
    case 'P':
      return false;
  }
}

function slotOf(key: string): KeySlot {
  const slot = KEY_SLOTS.get(key);
  if (slot === undefined) throw new Error(`payload key "${key}" is not part of the decoded_json schema`);
  return slot;
}

/**
 * decoded_json of a payload object: keys in the master order whatever their insertion order,
 * each subject to its omission rule. String values may be given as Uint8Array to carry bytes
 * that are not valid UTF-8. Throws only for a key outside the schema (a programming error).
 */
export function serializePayload(payload: Readonly<Record<string, unknown>>): string {
  let keys = Object.keys(payload);
  // Payloads are built in master order; sort only when one is not.
  for (let i = 1; i < keys.length; i++) {
    if (slotOf(keys[i - 1]).rank > slotOf(keys[i]).rank) {
      keys = [...keys].sort((a, b) => slotOf(a).rank - slotOf(b).rank);
      break;
    }
  }
  let out = '{';
  try {
    for (const key of keys) {
      const slot = slotOf(key);
      const value = payload[key];
      if (isOmitted(slot.rule, value)) continue;
      if (out.length > 1) out += ',';
      out += slot.prefix + serializeValue(value);
    }
  } catch (error) {
    // Go's PayloadJSON falls back to "{}" when json.Marshal fails.
    if (error instanceof UnsupportedJsonValue) return '{}';
    throw error;
  }
  return `${out}}`;
}
