import { LruSignatureCache } from './advert-signature';
import { createChannelKeyRing, explicitChannelKeyMap } from './channel-keys';
import type { ChannelKeyMap, DecodeContext, KeyMatching, RegionKeys } from './decoder.types';

export interface DecoderContextOptions {
  validateSignatures: boolean;
  regionKeys?: RegionKeys;
  /** Entries of the advert signature cache; 0 disables it. Default 8192. */
  signatureCacheSize?: number;
  keyMatching?: KeyMatching;
}

const DEFAULT_SIGNATURE_CACHE_SIZE = 8192;

/**
 * A decode context over a prepared key map (production layering or explicit). Free of Nest, so a
 * worker thread builds the same context from the same key map.
 */
export function createDecodeContext(keys: ChannelKeyMap, options: DecoderContextOptions): DecodeContext {
  const cacheSize = options.signatureCacheSize ?? DEFAULT_SIGNATURE_CACHE_SIZE;
  return {
    keyRing: createChannelKeyRing(keys, { keyMatching: options.keyMatching }),
    validateSignatures: options.validateSignatures,
    regionKeys: options.regionKeys ?? [],
    signatureCache: cacheSize > 0 ? new LruSignatureCache(cacheSize) : undefined,
  };
}

/**
 * For the CLI's `--channel-keys`: the given map REPLACES the production layering entirely
 * (no built-in Public); every key is tried on every packet, as CoreScope does.
 */
export function createExplicitKeysContext(keys: Readonly<Record<string, string>>, options: DecoderContextOptions): DecodeContext {
  return createDecodeContext(explicitChannelKeyMap(keys), options);
}
