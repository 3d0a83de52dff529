/**
 * Path hops read straight from a packet's raw hex header (ingestor-spec §3.3 "path_json", decoder-spec §3.1).
 * Used by the path_json backfill; deliberately tiny and independent of the full decoder.
 */

const HEX_TEXT = /^(?:[0-9a-fA-F]{2})*$/;

/** Route types 0 (TRANSPORT_FLOOD) and 3 (TRANSPORT_DIRECT) carry 4 transport-code bytes before the path byte. */
function hasTransportCodes(header: number): boolean {
  const routeType = header & 0x03;
  return routeType === 0 || routeType === 3;
}

/**
 * Returns the header hops as upper-case hex strings (`[]` when there are none or the packet is too short),
 * or null when `rawHex` is not valid hex. No validity checks on the path byte: hops are read as declared
 * (size = (b >> 6) + 1, count = b & 0x3F) until the buffer ends; a trailing partial hop is dropped.
 */
export function hopsFromRawHex(rawHex: string): string[] | null {
  if (!HEX_TEXT.test(rawHex)) return null;
  const bytes = Buffer.from(rawHex, 'hex');
  if (bytes.length === 0) return [];

  let offset = 1 + (hasTransportCodes(bytes[0]) ? 4 : 0);
  if (offset >= bytes.length) return [];
  const pathByte = bytes[offset];
  offset += 1;

  const hopSize = (pathByte >> 6) + 1;
  const hopCount = pathByte & 0x3f;
  const hops: string[] = [];
  for (let hop = 0; hop < hopCount && offset + hopSize <= bytes.length; hop += 1) {
    hops.push(bytes.subarray(offset, offset + hopSize).toString('hex').toUpperCase());
    offset += hopSize;
  }
  return hops;
}
