/**
 * ADVERT Ed25519 signatures (decoder-spec §8): public key = payload[0..32], signature =
 * payload[36..100], signed message = pubkey ‖ timestamp (wire bytes) ‖ appdata.
 */

import { createPublicKey, verify } from 'node:crypto';
import type { SignatureCache } from './decoder.types';

const PUBLIC_KEY_END = 32;
const TIMESTAMP_END = 36;
const SIGNATURE_END = 100;

/**
 * Verifies the signature of an advert payload (at least 100 bytes). A key that is not a valid
 * curve point verifies as false, as in Go. The raw key is imported as a JWK: OpenSSL builds the
 * same key object from it about ten times faster than from a DER SPKI wrapper.
 */
export function verifyAdvertSignature(payload: Buffer): boolean {
  if (payload.length < SIGNATURE_END) return false;
  try {
    const publicKey = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: payload.toString('base64url', 0, PUBLIC_KEY_END) },
      format: 'jwk',
    });
    const message = Buffer.concat([payload.subarray(0, TIMESTAMP_END), payload.subarray(SIGNATURE_END)]);
    return verify(null, message, publicKey, payload.subarray(TIMESTAMP_END, SIGNATURE_END));
  } catch {
    return false;
  }
}

/**
 * Bounded LRU of verification results keyed by the whole advert payload (the signed bytes and
 * the signature). Results are a pure function of the key, so caching cannot change them.
 */
export class LruSignatureCache implements SignatureCache {
  private readonly entries = new Map<string, boolean>();

  constructor(readonly maxEntries = 8192) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be a positive integer');
  }

  get size(): number {
    return this.entries.size;
  }

  get(signedPayload: string): boolean | undefined {
    const valid = this.entries.get(signedPayload);
    if (valid !== undefined) {
      // Move to the most recently used end.
      this.entries.delete(signedPayload);
      this.entries.set(signedPayload, valid);
    }
    return valid;
  }

  set(signedPayload: string, valid: boolean): void {
    this.entries.delete(signedPayload);
    this.entries.set(signedPayload, valid);
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }
}

/** Verification through an optional cache; the cache key is the payload as a latin1 string. */
export function checkAdvertSignature(payload: Buffer, cache: SignatureCache | undefined): boolean {
  if (cache === undefined) return verifyAdvertSignature(payload);
  const cacheKey = payload.toString('latin1');
  const known = cache.get(cacheKey);
  if (known !== undefined) return known;
  const valid = verifyAdvertSignature(payload);
  cache.set(cacheKey, valid);
  return valid;
}
