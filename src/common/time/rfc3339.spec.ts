import { describe, expect, it } from 'vitest';
import { roundToInterval, toEpochSeconds, toRfc3339, toSqliteDatetime } from './rfc3339';

const at = (iso: string) => Date.parse(iso);

describe('time formats', () => {
  it('formats RFC3339 with second precision', () => {
    expect(toRfc3339(at('2026-07-18T09:47:37.999Z'))).toBe('2026-07-18T09:47:37Z');
    expect(toEpochSeconds(at('1970-01-01T00:00:10.900Z'))).toBe(10);
    expect(toSqliteDatetime(at('2026-07-18T09:47:37.5Z'))).toBe('2026-07-18 09:47:37');
  });

  it.each([
    ['10:02:00', '10:00:00'],
    ['10:03:00', '10:05:00'],
    ['10:02:30', '10:05:00'],
    ['10:02:29', '10:00:00'],
    ['10:05:00', '10:05:00'],
    ['10:07:29', '10:05:00'],
  ])('TestRoundToInterval %s → %s (300 s)', (from, to) => {
    expect(toRfc3339(roundToInterval(at(`2026-01-01T${from}Z`), 300))).toBe(`2026-01-01T${to}Z`);
  });
});
