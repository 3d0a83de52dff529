import { parseRfc3339, toRfc3339 } from '../../common/time/rfc3339';

export { parseRfc3339 };

/** Time texts the maintenance jobs share with CoreScope: cutoffs, the neighbor watermark, result files, log durations. */

export const DAY_MS = 86_400_000;

/** Retention cutoff `now − days` as RFC3339 (UTC, so calendar days and 24 h periods are the same thing). */
export function cutoffDaysAgo(nowMs: number, days: number): string {
  return toRfc3339(nowMs - days * DAY_MS);
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
