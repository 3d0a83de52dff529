/**
 * Durations in config files, written the way Go's time.ParseDuration reads them ("30s", "15m", "1h30m",
 * "1.5h", "250ms"), since CoreScope operators know that syntax. Units: ms, s, m, h. A bare number is not a
 * duration (is 60 seconds or minutes?), and neither is a sign: periods and delays are never negative.
 */

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d*)?|\.\d+)(ms|h|m|s)/y;

/** Node's timers hold a signed 32-bit millisecond delay; anything longer fires after 1 ms instead. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** Milliseconds, or undefined when `text` is not a duration. */
export function parseDuration(text: string): number | undefined {
  if (text === '') return undefined;
  if (text === '0') return 0;
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const at = PART.lastIndex;
    const match = PART.exec(text);
    if (!match || match.index !== at) return undefined;
    total += Number(match[1]) * UNIT_MS[match[2]];
  }
  return Number.isFinite(total) ? Math.round(total) : undefined;
}

/** The shortest exact spelling of a duration: 90 000 → "1m30s", 3 600 000 → "1h", 1 500 → "1.5s". */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const hours = Math.floor(ms / UNIT_MS.h);
  const minutes = Math.floor((ms % UNIT_MS.h) / UNIT_MS.m);
  const restMs = ms % UNIT_MS.m;
  let text = '';
  if (hours > 0) text += `${hours}h`;
  if (minutes > 0) text += `${minutes}m`;
  if (restMs > 0) text += restMs % 1_000 === 0 || restMs > 1_000 ? `${restMs / 1_000}s` : `${restMs}ms`;
  return text;
}
