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

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-](\d{2}):(\d{2}))$/;

/**
 * Parses Go's time.RFC3339 layout (fraction optional, `Z` or ±hh:mm) into epoch milliseconds; undefined when
 * the text is not such a time or names an impossible date.
 */
export function parseRfc3339(text: string): number | undefined {
  const match = RFC3339.exec(text);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second, fraction = '', zone, zoneHours = '0', zoneMinutes = '0'] = match;
  const fields = [year, month, day, hour, minute, second].map(Number);
  const [y, mo, d, h, mi, s] = fields;
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59 || Number(zoneHours) > 23 || Number(zoneMinutes) > 59) {
    return undefined;
  }
  const utc = Date.UTC(y, mo - 1, d, h, mi, s);
  if (new Date(utc).getUTCDate() !== d) return undefined; // 2026-02-30 and friends
  const offsetMinutes = zone === 'Z' ? 0 : (zone.startsWith('-') ? -1 : 1) * (Number(zoneHours) * 60 + Number(zoneMinutes));
  const fractionMs = fraction === '' ? 0 : Number(`0.${fraction}`) * 1000;
  return utc - offsetMinutes * 60_000 + fractionMs;
}
