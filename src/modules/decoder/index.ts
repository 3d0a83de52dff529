/** Public API of the packet decoder. */

export type * from './decoder.types';
export { advertRole, validateAdvert, type AdvertFields } from './advert-checks';
export { checkAdvertSignature, LruSignatureCache, verifyAdvertSignature } from './advert-signature';
export {
  buildChannelKeyMap,
  createChannelKeyRing,
  createExplicitKeyRing,
  deriveHashtagKey,
  explicitChannelKeyMap,
  hashChannelName,
  normalizeChannelName,
  PUBLIC_CHANNEL_KEY,
  PUBLIC_CHANNEL_NAME,
  type ChannelKeySources,
  type KeyLayerLog,
} from './channel-keys';
export { computeContentHash } from './content-hash';
export { quoteGoString, serializePayload } from './go-json';
export { ingestVerdict } from './ingest-verdict';
export { decodePacket, MAX_PATH_BYTES, MAX_PAYLOAD_BYTES } from './packet-decoder';
export { PAYLOAD_TYPE, PAYLOAD_TYPE_NAMES } from './payload-decoders';
export { buildRegionKeys, deriveRegionKey, matchScope, regionTransportCode } from './region-keys';
export { DecoderService } from './decoder.service';
export { createDecodeContext, createExplicitKeysContext, type DecoderContextOptions } from './decode-context';
export { DecoderModule } from './decoder.module';
