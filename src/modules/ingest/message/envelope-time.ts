/**
 * Envelope receive time of an observer message (ingestor-spec §3.1 step 3, `resolveRxTime`).
 * Stored packet times are always ingest time (#1370); this only feeds the naive-clock skew
 * detector and client-reception rx_at.
 */

const FUTURE_LIMIT_MS = 14 * 3600_000;
const STALE_LIMIT_MS = 30 * 24 * 3600_000;
const NAIVE_SKEW_LIMIT_MS = 15 * 60_000;

const ZONED = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;
const NAIVE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?$/;

export type EnvelopeTimeNote = 'unparseable timestamp' | 'future timestamp' | 'stale timestamp';

export interface EnvelopeTime {
  /** The accepted receive time, ms since epoch. */
  ms: number;
  /** Set when a naive (zone-less) timestamp was more than 15 min off: observer clock minus ours, seconds. */
  naiveSkewSec?: number;
  note?: EnvelopeTimeNote;
}

function validDate(y: number, mo: number, d: number, h: number, mi: number, s: number): boolean {
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return false;
  const days = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  return d <= days;
}

function parse(text: string): { ms: number; naive: boolean } | undefined {
  const zoned = ZONED.exec(text);
  const naive = zoned ? undefined : NAIVE.exec(text);
  const m = zoned ?? naive;
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
  if (!validDate(y, mo, d, h, mi, s)) return undefined;
  const fraction = m[7] ? Number(`0${m[7]}`) * 1000 : 0;
  let ms = Date.UTC(y, mo - 1, d, h, mi, s) + fraction;
  if (zoned) {
    const zone = zoned[8];
    if (zone.toUpperCase() !== 'Z') {
      const sign = zone[0] === '-' ? -1 : 1;
      const [zh, zm] = zone.slice(1).split(':').map(Number);
      if (zh > 23 || zm > 59) return undefined;
      ms -= sign * (zh * 60 + zm) * 60_000;
    }
  }
  return { ms, naive: !zoned };
}

export function resolveEnvelopeTime(timestamp: unknown, nowMs: number): EnvelopeTime {
  if (typeof timestamp !== 'string' || timestamp === '') return { ms: nowMs };
  const parsed = parse(timestamp);
  if (!parsed) return { ms: nowMs, note: 'unparseable timestamp' };
  const delta = parsed.ms - nowMs;
  if (delta > FUTURE_LIMIT_MS) return { ms: nowMs, note: 'future timestamp' };
  if (-delta > STALE_LIMIT_MS) return { ms: nowMs, note: 'stale timestamp' };
  if (parsed.naive) {
    if (Math.abs(delta) > NAIVE_SKEW_LIMIT_MS) return { ms: nowMs, naiveSkewSec: Math.trunc(delta / 1000) };
    return { ms: parsed.ms };
  }
  if (delta > 0) return { ms: nowMs };
  return { ms: parsed.ms };
}
