import { describe, expect, it } from 'vitest';
import { cutoffDaysAgo, formatGoDuration, parseRfc3339, parseRfc3339ToEpochSeconds, toRfc3339Nano } from './go-time-text';

describe('go-time-text', () => {
  it('computes retention cutoffs as RFC3339 UTC, seconds precision', () => {
    expect(cutoffDaysAgo(Date.parse('2026-03-01T00:30:15.999Z'), 1)).toBe('2026-02-28T00:30:15Z');
    expect(cutoffDaysAgo(Date.parse('2026-07-18T12:00:00Z'), 30)).toBe('2026-06-18T12:00:00Z');
  });

  it.each([
    ['2026-07-18T09:47:37Z', Date.parse('2026-07-18T09:47:37Z')],
    ['2026-07-18T09:47:37.5Z', Date.parse('2026-07-18T09:47:37.500Z')],
    ['2026-07-18T11:47:37+02:00', Date.parse('2026-07-18T09:47:37Z')],
    ['2026-07-18T04:17:37-05:30', Date.parse('2026-07-18T09:47:37Z')],
  ])('parses %s', (text, expected) => {
    expect(parseRfc3339(text)).toBe(expected);
  });

  it.each(['', 'not a time', '2026-07-18 09:47:37', '2026-02-30T00:00:00Z', '2026-07-18T24:00:00Z', '2026-07-18T09:47:37'])(
    'rejects %j',
    (text) => {
      expect(parseRfc3339(text)).toBeUndefined();
    },
  );

  it('gives whole epoch seconds like Go’s Unix()', () => {
    expect(parseRfc3339ToEpochSeconds('1970-01-01T00:00:01.9Z')).toBe(1);
    expect(parseRfc3339ToEpochSeconds('garbage')).toBeUndefined();
  });

  it('writes result times like Go’s RFC3339Nano JSON', () => {
    expect(toRfc3339Nano(Date.parse('2026-07-18T10:00:00.250Z'))).toBe('2026-07-18T10:00:00.25Z');
    expect(toRfc3339Nano(Date.parse('2026-07-18T10:00:00.000Z'))).toBe('2026-07-18T10:00:00Z');
    expect(toRfc3339Nano(Date.parse('2026-07-18T10:00:00.007Z'))).toBe('2026-07-18T10:00:00.007Z');
  });

  it.each([
    [0, '0s'],
    [0.0005, '500ns'],
    [0.8125, '812.5µs'],
    [12.3456, '12.3456ms'],
    [2_500, '2.5s'],
    [60_000, '1m0s'],
    [3_723_500, '1h2m3.5s'],
  ])('formats %f ms as %s', (ms, text) => {
    expect(formatGoDuration(ms)).toBe(text);
  });
});
