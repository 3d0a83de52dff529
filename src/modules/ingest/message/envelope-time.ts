import { parseRfc3339 } from '../../../common/time/rfc3339';

/**
 * Envelope receive time of an observer message (ingestor-spec §3.1 step 3, `resolveRxTime`).
 * Stored packet times are always ingest time (#1370); this only feeds the naive-clock skew
 * detector and client-reception rx_at. Reading the text (readEnvelopeStamp) needs no clock and
 * runs with the decoding; the decision against the ingest clock (resolveEnvelopeStamp) runs when
 * the message is stored.
 */

const FUTURE_LIMIT_MS = 14 * 3600_000;
const STALE_LIMIT_MS = 30 * 24 * 3600_000;
const NAIVE_SKEW_LIMIT_MS = 15 * 60_000;

export type EnvelopeTimeNote = 'unparseable timestamp' | 'future timestamp' | 'stale timestamp';

export interface EnvelopeTime {
  /** The accepted receive time, ms since epoch. */
  ms: number;
  /** Set when a naive (zone-less) timestamp was more than 15 min off: observer clock minus ours, seconds. */
  naiveSkewSec?: number;
  note?: EnvelopeTimeNote;
}

/** The envelope `timestamp` as read, before the clock decides anything. */
export type EnvelopeStamp =
  /** No timestamp (absent, not a string, or ''). */
  | null
  /** Neither RFC3339 nor naive. */
  | 'unparseable'
  | { ms: number; naive: boolean };

/** Zone-less `YYYY-MM-DDTHH:MM:SS[.frac]`, read as UTC (a "naive" observer clock). */
const NAIVE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$/;

export function readEnvelopeStamp(timestamp: unknown): EnvelopeStamp {
  if (typeof timestamp !== 'string' || timestamp === '') return null;
  const zoned = parseRfc3339(timestamp);
  if (zoned !== undefined) return { ms: zoned, naive: false };
  // A naive time is the same text with a Z appended.
  if (!NAIVE.test(timestamp)) return 'unparseable';
  const ms = parseRfc3339(`${timestamp}Z`);
  return ms === undefined ? 'unparseable' : { ms, naive: true };
}

export function resolveEnvelopeStamp(stamp: EnvelopeStamp, nowMs: number): EnvelopeTime {
  if (stamp === null) return { ms: nowMs };
  if (stamp === 'unparseable') return { ms: nowMs, note: 'unparseable timestamp' };
  const delta = stamp.ms - nowMs;
  if (delta > FUTURE_LIMIT_MS) return { ms: nowMs, note: 'future timestamp' };
  if (-delta > STALE_LIMIT_MS) return { ms: nowMs, note: 'stale timestamp' };
  if (stamp.naive) {
    if (Math.abs(delta) > NAIVE_SKEW_LIMIT_MS) return { ms: nowMs, naiveSkewSec: Math.trunc(delta / 1000) };
    return { ms: stamp.ms };
  }
  if (delta > 0) return { ms: nowMs };
  return { ms: stamp.ms };
}

export function resolveEnvelopeTime(timestamp: unknown, nowMs: number): EnvelopeTime {
  return resolveEnvelopeStamp(readEnvelopeStamp(timestamp), nowMs);
}
