import { DecodedPacket } from '../../decoder/decoder.types';

/**
 * Which node a mobile client heard (ingestor-spec §3.11 step 7): the last hop of a flood packet
 * (2+ byte hops only, 1-byte prefixes are too ambiguous), or the sender of a zero-hop advert.
 */
export function deriveHeardKey(
  packet: DecodedPacket,
  direction: string | undefined,
): { key: string; src: 'rxlog' | 'advert' } | undefined {
  if (direction === undefined || direction.toLowerCase() !== 'rx') return undefined;
  const hops = packet.path.hops;
  if (hops.length > 0) {
    if (packet.routeType !== 0 && packet.routeType !== 1) return undefined;
    const key = hops[hops.length - 1].trim().toLowerCase();
    if (key.length < 4) return undefined;
    return { key, src: 'rxlog' };
  }
  if (packet.payloadType === 4 && packet.advert?.pubKey) return { key: packet.advert.pubKey, src: 'advert' };
  return undefined;
}
