import { describe, expect, it } from 'vitest';
import { resolveEnvelopeTime } from './envelope-time';

const NOW = Date.parse('2026-07-18T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

describe('resolveEnvelopeTime (rxtime_test.go)', () => {
  it('missing or empty → now, no note', () => {
    expect(resolveEnvelopeTime(undefined, NOW)).toEqual({ ms: NOW });
    expect(resolveEnvelopeTime('', NOW)).toEqual({ ms: NOW });
    expect(resolveEnvelopeTime(1752840000, NOW)).toEqual({ ms: NOW });
  });

  it('unparseable → now with a note', () => {
    expect(resolveEnvelopeTime('yesterday', NOW)).toEqual({ ms: NOW, note: 'unparseable timestamp' });
    expect(resolveEnvelopeTime('2026-02-30T10:00:00Z', NOW).note).toBe('unparseable timestamp');
  });

  it('keeps zone-aware past values (Z and offsets, fractions)', () => {
    expect(iso(resolveEnvelopeTime('2026-07-18T10:00:00Z', NOW).ms)).toBe('2026-07-18T10:00:00.000Z');
    expect(iso(resolveEnvelopeTime('2026-07-18T05:00:00.250-05:00', NOW).ms)).toBe('2026-07-18T10:00:00.250Z');
    expect(iso(resolveEnvelopeTime('2026-07-18T13:30:00+02:00', NOW).ms)).toBe('2026-07-18T11:30:00.000Z');
  });

  it('zone-aware in the near future → now; more than 14 h → now with a note', () => {
    expect(resolveEnvelopeTime('2026-07-18T13:00:00Z', NOW)).toEqual({ ms: NOW });
    expect(resolveEnvelopeTime('2026-07-19T03:00:00Z', NOW)).toEqual({ ms: NOW, note: 'future timestamp' });
  });

  it('older than 30 days → now with a note', () => {
    expect(resolveEnvelopeTime('2026-06-01T12:00:00Z', NOW)).toEqual({ ms: NOW, note: 'stale timestamp' });
  });

  it('naive within 15 min is kept; beyond, now plus the signed skew', () => {
    expect(iso(resolveEnvelopeTime('2026-07-18T11:50:00', NOW).ms)).toBe('2026-07-18T11:50:00.000Z');
    expect(resolveEnvelopeTime('2026-07-18T19:00:00', NOW)).toEqual({ ms: NOW, naiveSkewSec: 7 * 3600 });
    expect(resolveEnvelopeTime('2026-07-18T11:00:00.9', NOW)).toEqual({ ms: NOW, naiveSkewSec: -3599 });
  });
});
