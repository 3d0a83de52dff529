import { calcTransportCodeForRegion } from '@michaelhart/meshcore-decoder';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createExplicitKeyRing } from './channel-keys';
import type { DecodeContext } from './decoder.types';
import { buildPacket } from './packet-builders';
import { decodePacket } from './packet-decoder';
import { buildRegionKeys, matchScope, regionTransportCode } from './region-keys';

const PAYLOAD = Buffer.from('11aabb00112233445566778899aabbccddeeff', 'hex');

describe('buildRegionKeys (TestLoadRegionKeys)', () => {
  it('derives SHA-256(#name)[0:16], prepends #, skips empty and duplicate entries', () => {
    const lines: string[] = [];
    const keys = buildRegionKeys([' Europe ', '#sf', '', '  ', '#Europe', 'sf', 'europe'], (line) => lines.push(line));
    expect(keys.map((k) => k.name)).toEqual(['#Europe', '#sf', '#europe']);
    expect(keys[0].key.toString('hex')).toBe(createHash('sha256').update('#Europe').digest('hex').slice(0, 32));
    expect(keys[0].key).toHaveLength(16);
    expect(lines.filter((line) => line.includes('empty'))).toHaveLength(2);
    expect(lines.filter((line) => line.includes('duplicate'))).toHaveLength(2);
  });

  it('returns no keys for no regions', () => {
    expect(buildRegionKeys([])).toEqual([]);
  });
});

describe('regionTransportCode / matchScope (TestMatchScope)', () => {
  const keys = buildRegionKeys(['Europe', 'sf']);

  it('computes the firmware transport code (cross-checked with @michaelhart/meshcore-decoder)', () => {
    for (const [index, name] of ['#Europe', '#sf'].entries()) {
      for (const type of [0, 2, 5, 9]) {
        expect(regionTransportCode(keys[index].key, type, PAYLOAD)).toBe(calcTransportCodeForRegion(name, type, PAYLOAD));
      }
    }
  });

  it('returns the matching region, or empty when none, no keys, empty payload or code 0', () => {
    const code = regionTransportCode(keys[1].key, 5, PAYLOAD);
    expect(matchScope(keys, 5, PAYLOAD, code)).toBe('#sf');
    expect(matchScope(keys, 5, PAYLOAD, code ^ 0x0101)).toBe('');
    expect(matchScope([], 5, PAYLOAD, code)).toBe('');
    expect(matchScope(keys, 5, new Uint8Array(0), code)).toBe('');
    expect(matchScope(keys, 5, PAYLOAD, 0)).toBe('');
    expect(matchScope(keys, 6, PAYLOAD, code)).toBe(''); // the payload type is part of the MAC
  });
});

describe('scope columns from decodePacket (TestBuildPacketDataScopeMatching / …NoMatch)', () => {
  const regionKeys = buildRegionKeys(['Europe']);
  const ctx: DecodeContext = { keyRing: createExplicitKeyRing({}), validateSignatures: false, regionKeys };
  const code = calcTransportCodeForRegion('#Europe', 0, PAYLOAD);
  const wire = [code & 0xff, code >> 8, 0xab, 0xcd] as const;

  it('names the region whose code is the first transport code (wire order = little-endian)', () => {
    const result = decodePacket(buildPacket(0, PAYLOAD, { routeType: 0, transportCodes: wire }), ctx);
    expect(result.ok && result.packet).toMatchObject({
      isTransportScoped: true,
      scopeName: '#Europe',
      transportCodes: { code1: Buffer.from(wire.slice(0, 2)).toString('hex').toUpperCase(), code2: 'ABCD' },
    });
  });

  it("is '' when scoped but no region matches, NULL when not scoped", () => {
    const other = decodePacket(buildPacket(0, PAYLOAD, { routeType: 3, transportCodes: [wire[1], wire[0], 0, 0] }), ctx);
    expect(other.ok && [other.packet.isTransportScoped, other.packet.scopeName]).toEqual([true, '']);
    const zero = decodePacket(buildPacket(0, PAYLOAD, { routeType: 0, transportCodes: [0, 0, 1, 2] }), ctx);
    expect(zero.ok && [zero.packet.isTransportScoped, zero.packet.scopeName]).toEqual([false, null]);
    const flood = decodePacket(buildPacket(0, PAYLOAD, { routeType: 1 }), ctx);
    expect(flood.ok && [flood.packet.isTransportScoped, flood.packet.scopeName, flood.packet.transportCodes]).toEqual([false, null, null]);
    const noKeys = decodePacket(buildPacket(0, PAYLOAD, { routeType: 0, transportCodes: wire }), { ...ctx, regionKeys: undefined });
    expect(noKeys.ok && noKeys.packet.scopeName).toBe('');
  });
});
