import { toRfc3339 } from '../../common/time/rfc3339';

/** Time texts the maintenance jobs share with CoreScope: cutoffs, the neighbor watermark, result files, log durations. */

export const DAY_MS = 86_400_000;

/** Retention cutoff `now − days` as RFC3339 (UTC, so calendar days and 24 h periods are the same thing). */
export function cutoffDaysAgo(nowMs: number, days: number): string {
  return toRfc3339(nowMs - days * DAY_MS);
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

/** Go's `t.Unix()`: whole seconds, rounded towards the past. */
export function parseRfc3339ToEpochSeconds(text: string): number | undefined {
  const ms = parseRfc3339(text);
  return ms === undefined ? undefined : Math.floor(ms / 1000);
}

/** Go's JSON form of a UTC time.Time (RFC3339Nano): trailing zeros of the fraction dropped, no fraction at all when zero. */
export function toRfc3339Nano(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2026-07-18T09:47:37.120Z
  const fraction = iso.slice(20, 23).replace(/0+$/, '');
  return `${iso.slice(0, 19)}${fraction ? `.${fraction}` : ''}Z`;
}

export { formatGoDuration } from '../../common/time/go-duration';
