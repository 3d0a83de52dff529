/** Time text formats shared with the CoreScope database. */

let memoSecond = Number.NaN;
let memoText = '';

/** Go time.RFC3339 of a UTC instant, second precision: 2026-07-18T09:47:37Z. */
export function toRfc3339(ms: number): string {
  // Called several times per message with the same second: remember the last one.
  const second = Math.floor(ms / 1000);
  if (second !== memoSecond) {
    memoText = `${new Date(second * 1000).toISOString().slice(0, 19)}Z`;
    memoSecond = second;
  }
  return memoText;
}

/** Unix seconds of an instant (floor). */
export function toEpochSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}

/** SQLite datetime('now') text: 2026-07-18 09:47:37 (UTC). */
export function toSqliteDatetime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/** Rounds to the nearest multiple of intervalSec, ties up (observer_metrics buckets, ingestor-spec §3.2). */
export function roundToInterval(ms: number, intervalSec: number): number {
  const step = intervalSec * 1000;
  return Math.floor((ms + step / 2) / step) * step;
}

const ZERO = 0x30;
const DASH = 0x2d;
const PLUS = 0x2b;
const COLON = 0x3a;
const DOT = 0x2e;
const UPPER_T = 0x54;
const UPPER_Z = 0x5a;

/** The n ASCII digits at text[at…] as a number, or -1. */
function digitsAt(text: string, at: number, n: number): number {
  let value = 0;
  for (let i = at; i < at + n; i++) {
    const digit = text.charCodeAt(i) - ZERO;
    if (!(digit >= 0 && digit <= 9)) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/**
 * Parses Go's time.RFC3339 layout (`YYYY-MM-DDTHH:MM:SS`, fraction optional, `Z` or ±hh:mm) into
 * epoch milliseconds; undefined when the text is not such a time or names an impossible date.
 * Read character by character: it runs for every observer message, and the regular expression
 * it replaces cost 1.5 µs a message.
 */
export function parseRfc3339(text: string): number | undefined {
  if (text.length < 20) return undefined;
  const y = digitsAt(text, 0, 4);
  const mo = digitsAt(text, 5, 2);
  const d = digitsAt(text, 8, 2);
  const h = digitsAt(text, 11, 2);
  const mi = digitsAt(text, 14, 2);
  const s = digitsAt(text, 17, 2);
  if ((y | mo | d | h | mi | s) < 0) return undefined;
  const c = (i: number) => text.charCodeAt(i);
  if (c(4) !== DASH || c(7) !== DASH || c(10) !== UPPER_T || c(13) !== COLON || c(16) !== COLON) return undefined;
  let at = 19;
  let fractionMs = 0;
  if (c(at) === DOT) {
    let end = at + 1;
    while (end < text.length && c(end) >= ZERO && c(end) <= ZERO + 9) end++;
    if (end === at + 1) return undefined;
    fractionMs = Number(`0.${text.slice(at + 1, end)}`) * 1000;
    at = end;
  }
  let offsetMinutes = 0;
  const zone = c(at);
  if (zone === UPPER_Z) {
    if (at + 1 !== text.length) return undefined;
  } else if (zone === PLUS || zone === DASH) {
    if (at + 6 !== text.length || c(at + 3) !== COLON) return undefined;
    const zoneHours = digitsAt(text, at + 1, 2);
    const zoneMinutes = digitsAt(text, at + 4, 2);
    if (zoneHours < 0 || zoneMinutes < 0 || zoneHours > 23 || zoneMinutes > 59) return undefined;
    offsetMinutes = (zone === DASH ? -1 : 1) * (zoneHours * 60 + zoneMinutes);
  } else {
    return undefined;
  }
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return undefined;
  const utc = Date.UTC(y, mo - 1, d, h, mi, s);
  if (new Date(utc).getUTCDate() !== d) return undefined; // 2026-02-30 and friends
  return utc - offsetMinutes * 60_000 + fractionMs;
}
