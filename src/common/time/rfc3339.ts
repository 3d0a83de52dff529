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
