import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRfc3339, roundToInterval, toEpochSeconds, toRfc3339, toSqliteDatetime } from './rfc3339';

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

/** The regular-expression parser parseRfc3339 replaced: the oracle of the comparison below. */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-](\d{2}):(\d{2}))$/;
function parseRfc3339ByRegex(text: string): number | undefined {
  const match = RFC3339.exec(text);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second, fraction = '', zone, zoneHours = '0', zoneMinutes = '0'] = match;
  const [y, mo, d, h, mi, s] = [year, month, day, hour, minute, second].map(Number);
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59 || Number(zoneHours) > 23 || Number(zoneMinutes) > 59) return undefined;
  const utc = Date.UTC(y, mo - 1, d, h, mi, s);
  if (new Date(utc).getUTCDate() !== d) return undefined;
  const offsetMinutes = zone === 'Z' ? 0 : (zone.startsWith('-') ? -1 : 1) * (Number(zoneHours) * 60 + Number(zoneMinutes));
  const fractionMs = fraction === '' ? 0 : Number(`0.${fraction}`) * 1000;
  return utc - offsetMinutes * 60_000 + fractionMs;
}

describe('parseRfc3339', () => {
  it.each([
    ['2026-07-18T09:47:37Z', Date.UTC(2026, 6, 18, 9, 47, 37)],
    ['2026-07-18T09:47:37.25Z', Date.UTC(2026, 6, 18, 9, 47, 37, 250)],
    ['2026-07-18T09:47:37+02:00', Date.UTC(2026, 6, 18, 7, 47, 37)],
    ['2026-07-18T09:47:37.5-01:30', Date.UTC(2026, 6, 18, 11, 17, 37, 500)],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
    ['2026-02-29T00:00:00Z', undefined],
    ['2026-07-18T09:47:37', undefined],
    ['2026-07-18T09:47:37z', undefined],
    ['2026-07-18t09:47:37Z', undefined],
    ['2026-07-18T24:00:00Z', undefined],
    ['2026-07-18T09:47:37.Z', undefined],
    ['2026-07-18T09:47:37+2:00', undefined],
    ['2026-07-18T09:47:37+02:60', undefined],
    ['2026-13-18T09:47:37Z', undefined],
    ['２026-07-18T09:47:37Z', undefined],
  ])('%s', (text, expected) => {
    expect(parseRfc3339(text)).toBe(expected);
    expect(parseRfc3339ByRegex(text)).toBe(expected);
  });

  it('agrees with the regular-expression parser on generated near-misses', () => {
    const piece = (n: number) => fc.stringMatching(new RegExp(`^[0-9]{${n}}$`));
    const near = fc
      .tuple(piece(4), piece(2), piece(2), piece(2), piece(2), piece(2), fc.option(fc.stringMatching(/^\.[0-9]{0,12}$/)), fc.constantFrom('Z', 'z', '+', '-', '+05:30', '-11:59', '+24:00', '', 'Zx'), fc.string({ maxLength: 3 }))
      .map(([y, mo, d, h, mi, s, frac, zone, noise]) => `${y}-${mo}-${d}T${h}:${mi}:${s}${frac ?? ''}${zone}${noise}`);
    fc.assert(fc.property(fc.oneof(near, fc.string({ maxLength: 40 })), (text) => Object.is(parseRfc3339(text), parseRfc3339ByRegex(text))), { numRuns: 20_000 });
  });
});
