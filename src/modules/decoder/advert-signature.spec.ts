import { createPublicKey, randomBytes, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkAdvertSignature, LruSignatureCache, verifyAdvertSignature } from './advert-signature';
import { buildAdvertAppdata, buildSignedAdvert, buildSignedAdvertPayload, identityFromSeed } from './packet-builders';

const identity = identityFromSeed(Buffer.alloc(32, 0x07));
const appdata = buildAdvertAppdata({ nodeType: 2, lat: 37.5, lon: -122.25, name: 'Signed Node' });

describe('identityFromSeed / buildSignedAdvert', () => {
  it('reproduces the signed vectors bit for bit (Ed25519 is deterministic)', () => {
    // decoder-vectors #54 (seed 32 × 0x07) and #56 (seed 32 × 0x09, 2 flood hops).
    expect(buildSignedAdvert(identity, 1_700_000_000, appdata)).toBe(
      '1100EA4A6C63E29C520ABEF5507B132EC5F9954776AEBEBE7B92421EEA691446D22C00F1536525A12F15781492928FC6321BEC8AFF87E82B4139424A0C9B5BCAFEB3F34CAA80178E6534E4056621DE9C338B43FB49518126D0DA9DBCB34BA80BC91C844BC2089260343C02F09CB6F85369676E6564204E6F6465',
    );
    const other = identityFromSeed(Buffer.alloc(32, 0x09));
    expect(buildSignedAdvert(other, 1_735_689_600, { nodeType: 1, name: 'Chat' }, { path: Uint8Array.of(0xc3, 0xd4) }).slice(0, 12)).toBe(
      '1102C3D4FD17',
    );
  });
});

describe('verifyAdvertSignature (decoder-spec §8)', () => {
  const payload = buildSignedAdvertPayload(identity, 1_700_000_000, appdata);

  it('accepts a genuine signature over pubkey ‖ timestamp ‖ appdata', () => {
    expect(verifyAdvertSignature(payload)).toBe(true);
    expect(verifyAdvertSignature(buildSignedAdvertPayload(identity, 1, new Uint8Array(0)))).toBe(true);
  });

  it('rejects any change to the signed bytes or the signature', () => {
    for (const offset of [0, 31, 32, 35, 36, 99, 100, payload.length - 1]) {
      const tampered = Buffer.from(payload);
      tampered[offset] ^= 0x01;
      expect(verifyAdvertSignature(tampered), `byte ${offset}`).toBe(false);
    }
  });

  it('maps keys that are not curve points and short payloads to false instead of throwing', () => {
    const offCurve = Buffer.from(payload);
    offCurve.fill(0xff, 0, 32);
    expect(verifyAdvertSignature(offCurve)).toBe(false);
    expect(verifyAdvertSignature(payload.subarray(0, 99))).toBe(false);
  });
});

describe('JWK key import', () => {
  it('verifies exactly like a key imported from a DER SPKI wrapper, curve points or not', () => {
    const spkiPrefix = Buffer.from('302a300506032b6570032100', 'hex');
    const viaDer = (payload: Buffer): boolean => {
      const key = createPublicKey({ key: Buffer.concat([spkiPrefix, payload.subarray(0, 32)]), format: 'der', type: 'spki' });
      return verify(null, Buffer.concat([payload.subarray(0, 36), payload.subarray(100)]), key, payload.subarray(36, 100));
    };
    const genuine = buildSignedAdvertPayload(identity, 9, appdata);
    const samples = [genuine, Buffer.alloc(100), Buffer.concat([Buffer.alloc(32, 0xff), genuine.subarray(32)])];
    for (let i = 0; i < 200; i++) samples.push(i % 2 === 0 ? randomBytes(100 + (i % 40)) : Buffer.concat([genuine.subarray(0, 36), randomBytes(64), appdata]));
    let accepted = 0;
    for (const payload of samples) {
      expect(verifyAdvertSignature(payload)).toBe(viaDer(payload));
      if (viaDer(payload)) accepted++;
    }
    expect(accepted).toBeGreaterThanOrEqual(1);
  });
});

describe('LruSignatureCache', () => {
  it('evicts the least recently used entry beyond its bound', () => {
    const cache = new LruSignatureCache(2);
    cache.set('a', true);
    cache.set('b', false);
    expect(cache.get('a')).toBe(true); // a is now the most recent
    cache.set('c', true);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(true);
    expect(cache.get('c')).toBe(true);
    expect(cache.size).toBe(2);
    expect(() => new LruSignatureCache(0)).toThrow(RangeError);
  });

  it('verifies once per distinct payload and never changes the result', () => {
    const payload = buildSignedAdvertPayload(identity, 42, appdata);
    const tampered = Buffer.from(payload);
    tampered[110] ^= 0x80;
    const cache = new LruSignatureCache();
    const seen: string[] = [];
    const spy = { get: (key: string) => cache.get(key), set: (key: string, valid: boolean) => (seen.push(key), cache.set(key, valid)) };
    for (let round = 0; round < 3; round++) {
      expect(checkAdvertSignature(payload, spy)).toBe(true);
      expect(checkAdvertSignature(tampered, spy)).toBe(false);
    }
    expect(seen).toHaveLength(2);
    expect(checkAdvertSignature(payload, undefined)).toBe(true);
  });
});
