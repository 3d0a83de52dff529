/**
 * Content hash, the dedup key of a transmission (decoder-spec §5, ingestor-spec §3.4.1).
 * The CoreScope server recomputes it on load and "migrates" any stored value that differs,
 * so every fallback below is part of the contract.
 */

import { hash as oneShotHash } from 'node:crypto';

export const TRACE_PAYLOAD_TYPE = 9;
const FALLBACK_LENGTH = 16;

/** Largest input the shared scratch buffer holds: type byte, TRACE path length (2), payload. */
const SCRATCH_PAYLOAD_BYTES = 1024;
const scratch = Buffer.alloc(3 + SCRATCH_PAYLOAD_BYTES);

/**
 * The fallback hash: the first 16 characters of the raw string as received. Go slices bytes;
 * for the ASCII strings every stored packet has, bytes and characters coincide. A non-ASCII
 * string (never a decodable packet) is cut at 16 UTF-8 bytes, a split character shown as U+FFFD.
 */
export function fallbackHash(raw: string): string {
  const limit = Math.min(raw.length, FALLBACK_LENGTH);
  for (let i = 0; i < limit; i++) {
    if (raw.charCodeAt(i) >= 0x80) return Buffer.from(raw, 'utf8').subarray(0, FALLBACK_LENGTH).toString('utf8');
  }
  return raw.length <= FALLBACK_LENGTH ? raw : raw.slice(0, FALLBACK_LENGTH);
}

/** Strict hex decoding (either case) as Go's hex.DecodeString; null when it would fail. */
export function decodeHexStrict(text: string): Buffer | null {
  if (text.length % 2 !== 0) return null;
  // Buffer.from stops at the first non-hex pair, so a short result means an invalid character.
  const bytes = Buffer.from(text, 'hex');
  return bytes.length * 2 === text.length ? bytes : null;
}

/**
 * Hash of an already-framed packet: SHA-256 over [payload type] (+ [path byte, 0] for TRACE)
 * + payload bytes, first 8 bytes as lower-case hex.
 */
export function hashPacketBytes(packet: Uint8Array, payloadType: number, pathByte: number, payloadStart: number): string {
  const payloadLength = packet.length - payloadStart;
  const isTrace = payloadType === TRACE_PAYLOAD_TYPE;
  const prefixLength = isTrace ? 3 : 1;
  const input = payloadLength <= SCRATCH_PAYLOAD_BYTES ? scratch : Buffer.alloc(prefixLength + payloadLength);
  input[0] = payloadType;
  if (isTrace) {
    input[1] = pathByte;
    input[2] = 0; // the firmware hashes path_len as a little-endian uint16
  }
  input.set(packet.subarray(payloadStart), prefixLength);
  return oneShotHash('sha256', input.subarray(0, prefixLength + payloadLength), 'hex').slice(0, 16);
}

/** Offset of the payload, or -1 when the framing runs out of bytes (no validity checks, §5). */
export function locatePayload(packet: Uint8Array): number {
  if (packet.length < 2) return -1;
  const routeType = packet[0] & 0x03;
  const pathByteOffset = routeType === 0 || routeType === 3 ? 5 : 1;
  if (pathByteOffset >= packet.length) return -1;
  const pathByte = packet[pathByteOffset];
  const payloadStart = pathByteOffset + 1 + ((pathByte >> 6) + 1) * (pathByte & 0x3f);
  return payloadStart > packet.length ? -1 : payloadStart;
}

/** transmissions.hash of a raw string exactly as received (no whitespace stripping). */
export function computeContentHash(raw: string): string {
  const packet = decodeHexStrict(raw);
  if (packet === null) return fallbackHash(raw);
  const payloadStart = locatePayload(packet);
  if (payloadStart < 0) return fallbackHash(raw);
  const routeType = packet[0] & 0x03;
  const pathByte = packet[routeType === 0 || routeType === 3 ? 5 : 1];
  return hashPacketBytes(packet, (packet[0] >> 2) & 0x0f, pathByte, payloadStart);
}
