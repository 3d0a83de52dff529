import { describe, expect, it } from 'vitest';
import { advertRole, validateAdvert } from './advert-checks';

const PUBKEY = 'ab'.repeat(32);

describe('advertRole (TestAdvertRole)', () => {
  it.each([
    [0, 'none'],
    [1, 'companion'],
    [2, 'repeater'],
    [3, 'room'],
    [4, 'sensor'],
    [5, 'type-5'],
    [15, 'type-15'],
    [undefined, 'companion'],
  ])('%s → %s', (flagsType, role) => {
    expect(advertRole(flagsType)).toBe(role);
  });
});

describe('validateAdvert (decoder-spec §9)', () => {
  it('accepts a normal advert and every role', () => {
    expect(validateAdvert({ pubKey: PUBKEY, lat: 37.5, lon: -122.25, name: 'Node\tA\nB', flagsType: 2 })).toBeNull();
    for (let type = 0; type < 16; type++) expect(validateAdvert({ pubKey: PUBKEY, flagsType: type })).toBeNull();
    expect(validateAdvert({ pubKey: PUBKEY })).toBeNull();
  });

  it('accepts the inclusive bounds', () => {
    expect(validateAdvert({ pubKey: PUBKEY, lat: -90, lon: 180 })).toBeNull();
    expect(validateAdvert({ pubKey: PUBKEY, lat: 90, lon: -180 })).toBeNull();
  });

  it.each([
    [{ pubKey: '0'.repeat(64) }, 'pubkey is all zeros'],
    [{ pubKey: 'abcd' }, 'pubkey too short (4 hex chars)'],
    [{ pubKey: PUBKEY, lat: 999 }, 'invalid lat: 999.000000'],
    [{ pubKey: PUBKEY, lat: -90.000001 }, 'invalid lat: -90.000001'],
    [{ pubKey: PUBKEY, lat: Number.NaN }, 'invalid lat: NaN'],
    [{ pubKey: PUBKEY, lat: 10, lon: 180.5 }, 'invalid lon: 180.500000'],
    [{ pubKey: PUBKEY, lon: Number.NEGATIVE_INFINITY }, 'invalid lon: -Inf'],
    [{ pubKey: PUBKEY, lat: Number.POSITIVE_INFINITY }, 'invalid lat: +Inf'],
    [{ pubKey: PUBKEY, name: 'bad\u0001' }, 'name contains control characters'],
    [{ pubKey: PUBKEY, name: 'del\u007f' }, 'name contains control characters'],
    [{ pubKey: PUBKEY, name: 'x'.repeat(65) }, 'name too long (65 chars)'],
  ])('%j → %s', (advert, reason) => {
    expect(validateAdvert(advert)).toBe(reason);
  });

  it('checks the pubkey before the location', () => {
    expect(validateAdvert({ pubKey: '0'.repeat(64), lat: 999 })).toBe('pubkey is all zeros');
  });
});
