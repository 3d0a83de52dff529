import { describe, expect, it } from 'vitest';
import { hopsFromRawHex } from './raw-hex-hops';

describe('hopsFromRawHex (ingestor-spec §3.3 path_json)', () => {
  it.each([
    // [raw hex, expected hops, why]
    ['0542AABBCCDD0000000000000000000000000000', ['AABB', 'CCDD'], 'FLOOD, path byte 0x42 = two 2-byte hops'],
    ['41020304AABBCCDD05060708', ['03', '04'], 'FLOOD, path byte 0x02 = two 1-byte hops'],
    ['1001020304' + '02' + 'AABB' + '00', ['AA', 'BB'], 'TRANSPORT_FLOOD: 4 transport bytes skipped first'],
    ['1301020304' + '41' + 'A1B2' + '00', ['A1B2'], 'TRANSPORT_DIRECT skips transport bytes too'],
    ['12' + '81' + 'ABCDEF' + '00', ['ABCDEF'], 'DIRECT, one 3-byte hop'],
    ['0105AABB', ['AA', 'BB'], 'declared 5 hops, buffer ends after 2'],
    ['0142AABBCC', ['AABB'], 'a trailing partial hop is dropped'],
    ['0100FFFF', [], 'zero hops'],
    ['0142aabbccdd', ['AABB', 'CCDD'], 'lower-case input, upper-case hops'],
    ['01', [], 'header only'],
    ['100102', [], 'transport route too short for its codes'],
    ['', [], 'empty'],
  ])('%s → %j (%s)', (raw, expected) => {
    expect(hopsFromRawHex(raw)).toEqual(expected);
  });

  it.each([['ZZ'], ['0142AABBC'], ['01 42 AA BB'], ['0x0142']])('returns null when %j is not hex', (raw) => {
    expect(hopsFromRawHex(raw)).toBeNull();
  });
});
