/**
 * Numeric coercion of observer-supplied JSON fields (ingestor-spec §2.4): numbers pass, strings
 * are trimmed, lose one unit suffix and are parsed like Go's strconv.ParseFloat; anything else is
 * "not a number" (the field counts as absent).
 */

// Checked in this order; the first case-insensitive match is stripped.
const UNIT_SUFFIXES = ['dbm', 'db', 'mw', 'km', 'mi', 'm'];
const DECIMAL_FLOAT = /^[+-]?(?:\d+(?:_\d+)*\.?(?:\d+(?:_\d+)*)?|\.\d+(?:_\d+)*)(?:[eE][+-]?\d+)?$/;
const SPECIAL_FLOAT = /^([+-]?)(inf|infinity|nan)$/i;

export function stripUnitSuffix(text: string): string {
  const lower = text.toLowerCase();
  for (const suffix of UNIT_SUFFIXES) {
    if (lower.endsWith(suffix)) return text.slice(0, text.length - suffix.length);
  }
  return text;
}

function parseGoFloat(text: string): number | undefined {
  if (DECIMAL_FLOAT.test(text)) {
    if (text.includes('_')) return undefined; // Go allows underscores only with a base prefix
    return Number(text);
  }
  const special = SPECIAL_FLOAT.exec(text);
  if (!special) return undefined;
  if (special[2].toLowerCase() === 'nan') return NaN;
  return special[1] === '-' ? -Infinity : Infinity;
}

/** Go's toFloat64: a number, or undefined when the value does not coerce. */
export function toFloat64(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return undefined;
  const stripped = stripUnitSuffix(value.trim()).trim();
  if (stripped === '') return undefined;
  return parseGoFloat(stripped);
}

/** Go's math.Round: half away from zero. */
export function roundHalfAwayFromZero(value: number): number {
  return value < 0 ? -Math.round(-value) : Math.round(value);
}

/**
 * Presence-based alias lookup: the first key that EXISTS decides, even when its value does not
 * coerce (so a non-numeric `SNR` hides a valid `snr`, as in the reference).
 */
export function firstPresentNumber(obj: Record<string, unknown>, keys: readonly string[]): number | undefined {
  for (const key of keys) {
    if (Object.prototype.hasOwnProperty.call(obj, key)) return toFloat64(obj[key]);
  }
  return undefined;
}

/** First key whose value is a string (a non-string falls through to the next alias). */
export function firstString(obj: Record<string, unknown>, keys: readonly string[]): string | undefined {
  for (const key of keys) {
    const v = obj[key];
    if (typeof v === 'string') return v;
  }
  return undefined;
}

/** A coerced number as a column value: absent, NaN and ±Inf are NULL. */
export function finiteOrNull(n: number | undefined): number | null {
  return n === undefined || !Number.isFinite(n) ? null : n;
}

/** Observation fields read from a packet or companion message (ingestor-spec §2.4). */
export interface ObservationFields {
  snr: number | null;
  rssi: number | null;
  score: number | null;
  direction: string | null;
}

export function readObservationFields(msg: Record<string, unknown>): ObservationFields {
  return {
    snr: finiteOrNull(firstPresentNumber(msg, ['SNR', 'snr'])),
    rssi: finiteOrNull(firstPresentNumber(msg, ['RSSI', 'rssi'])),
    score: finiteOrNull(firstPresentNumber(msg, ['score', 'Score'])),
    direction: firstString(msg, ['direction', 'Direction']) ?? null,
  };
}
