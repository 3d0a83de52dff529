import { describe, expect, it } from 'vitest';
import { firstPresentNumber, firstString, roundHalfAwayFromZero, stripUnitSuffix, toFloat64 } from './numeric-coercion';

describe('toFloat64 (TestToFloat64, TestToFloat64WithUnits)', () => {
  it.each([
    [5, 5],
    [-7.25, -7.25],
    ['-110dBm', -110],
    ['-110DBM', -110],
    [' 7.5 ', 7.5],
    ['1e3', 1000],
    ['12dB', 12],
    ['20mW', 20],
    ['3km', 3],
    ['2mi', 2],
    ['150m', 150],
    ['-4.5 dB', -4.5],
    ['+3', 3],
    ['.5', 0.5],
  ])('%j → %s', (input, expected) => {
    expect(toFloat64(input)).toBe(expected);
  });

  it.each([[null], [true], [[1]], [{ a: 1 }], [''], ['abc'], ['12abc'], ['dBm'], ['1_000'], [undefined]])(
    '%j is not a number',
    (input) => {
      expect(toFloat64(input)).toBeUndefined();
    },
  );

  it('accepts Go special values', () => {
    expect(toFloat64('NaN')).toBeNaN();
    expect(toFloat64('-Inf')).toBe(-Infinity);
    expect(toFloat64('+infinity')).toBe(Infinity);
  });
});

describe('stripUnitSuffix (TestStripUnitSuffix)', () => {
  it('strips the first matching suffix only, case-insensitively', () => {
    expect(stripUnitSuffix('-90dBm')).toBe('-90');
    expect(stripUnitSuffix('5DB')).toBe('5');
    expect(stripUnitSuffix('7mm')).toBe('7m');
    expect(stripUnitSuffix('42')).toBe('42');
  });
});

describe('alias rules', () => {
  it('presence decides: a non-numeric SNR hides snr', () => {
    expect(firstPresentNumber({ SNR: 'bad', snr: 5 }, ['SNR', 'snr'])).toBeUndefined();
    expect(firstPresentNumber({ SNR: null, snr: 5 }, ['SNR', 'snr'])).toBeUndefined();
    expect(firstPresentNumber({ snr: 5 }, ['SNR', 'snr'])).toBe(5);
    expect(firstPresentNumber({ SNR: -3, snr: 5 }, ['SNR', 'snr'])).toBe(-3);
  });

  it('a non-string direction falls through to Direction', () => {
    expect(firstString({ direction: 5, Direction: 'rx' }, ['direction', 'Direction'])).toBe('rx');
    expect(firstString({ direction: 'tx', Direction: 'rx' }, ['direction', 'Direction'])).toBe('tx');
  });

  it('rounds half away from zero like Go math.Round', () => {
    expect(roundHalfAwayFromZero(2.5)).toBe(3);
    expect(roundHalfAwayFromZero(-2.5)).toBe(-3);
    expect(roundHalfAwayFromZero(-2.4)).toBe(-2);
  });
});
