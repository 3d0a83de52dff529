/**
 * decodePacket: one MQTT `raw` string → every column CoreScope stores for it, or a rejection
 * (decoder-spec §1–§6). Pure: no I/O; crypto through node:crypto only.
 */

import { computeContentHash, decodeHexStrict, fallbackHash, hashPacketBytes } from './content-hash';
import type { DecodeContext, DecodedPacket, DecodedPath, DecodeOutcome } from './decoder.types';
import { serializePayload } from './go-json';
import { HEX_UPPER, upperHex } from './hex';
import { decodePayload, PAYLOAD_TYPE, type PacketFrame } from './payload-decoders';
import { matchScope } from './region-keys';

/** MeshCore.h MAX_PACKET_PAYLOAD. */
export const MAX_PAYLOAD_BYTES = 184;
/** Packet.cpp MAX_PATH_SIZE. */
export const MAX_PATH_BYTES = 64;

// The decoder strips only spaces, LF and CR; a tab (or any other whitespace) is a hex error.
const STRIPPED_WHITESPACE = /[ \n\r]/;
const STRIPPED_WHITESPACE_ALL = /[ \n\r]/g;

function reject(raw: string, error: string): { ok: false; hash: string; error: string } {
  return { ok: false, hash: computeContentHash(raw), error };
}

/** Go's hex error text (`%#U` of the first offending byte) for a string that failed strict decoding. */
function describeHexError(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const isHex = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
    if (isHex) continue;
    // Go reports a byte: for a non-ASCII character, the first byte of its UTF-8 form.
    const byte = c < 0x80 ? c : Buffer.from(String.fromCodePoint(text.codePointAt(i) ?? c), 'utf8')[0];
    const printable = (byte >= 0x20 && byte <= 0x7e) || (byte >= 0xa1 && byte !== 0xad);
    const shown = printable ? ` '${String.fromCharCode(byte)}'` : '';
    return `encoding/hex: invalid byte: U+${byte.toString(16).toUpperCase().padStart(4, '0')}${shown}`;
  }
  return 'encoding/hex: odd length hex string';
}

function hopsJson(hops: readonly string[]): string {
  return hops.length === 0 ? '[]' : `["${hops.join('","')}"]`;
}

function isTransportRoute(routeType: number): boolean {
  return routeType === 0 || routeType === 3;
}

/** transmissions.channel_hash: GRP_TXT only — channel name when decrypted, else `enc_HH`. */
function channelHashColumn(payloadType: number, payload: Record<string, unknown>): string | null {
  if (payloadType !== PAYLOAD_TYPE.GRP_TXT) return null;
  if (payload.type === 'CHAN') return typeof payload.channel === 'string' && payload.channel !== '' ? payload.channel : null;
  if (payload.type === 'GRP_TXT' && typeof payload.channelHashHex === 'string' && payload.channelHashHex !== '') {
    return `enc_${payload.channelHashHex}`;
  }
  return null;
}

/**
 * A packet whose framing is read and checked (header, transport codes, path, payload bounds) and
 * whose content hash is known; its payload is not decoded yet. Every rejection of §1 happens
 * while framing: a framed packet always decodes.
 */
export interface FramedPacket extends PacketFrame {
  /** The raw string exactly as received. */
  readonly raw: string;
  readonly payloadVersion: number;
  readonly pathByte: number;
  /** The raw string had spaces or line breaks (stripped to decode; QUIRK: fallback hash, `[]` path). */
  readonly hadStrippedWhitespace: boolean;
  readonly headerHops: readonly string[];
  readonly hash: string;
}

export type FrameOutcome = { ok: true; frame: FramedPacket } | { ok: false; hash: string; error: string };

/** The checks of §1 and the content hash, without decoding the payload. */
export function framePacket(raw: string): FrameOutcome {
  const hadStrippedWhitespace = STRIPPED_WHITESPACE.test(raw);
  const hexText = hadStrippedWhitespace ? raw.replace(STRIPPED_WHITESPACE_ALL, '') : raw;
  const packet = decodeHexStrict(hexText);
  if (packet === null) return reject(raw, `invalid hex: ${describeHexError(hexText)}`);
  const length = packet.length;
  if (length < 2) return reject(raw, 'packet too short (need at least header + pathLength)');

  const header = packet[0];
  const routeType = header & 0x03;
  const payloadType = (header >> 2) & 0x0f;
  const payloadVersion = header >> 6;
  let pathByteOffset = 1;
  if (isTransportRoute(routeType)) {
    if (length < 5) return reject(raw, 'packet too short for transport codes');
    pathByteOffset = 5;
  }
  if (pathByteOffset >= length) return reject(raw, 'packet too short (no path byte)');

  const pathByte = packet[pathByteOffset];
  const hashSize = (pathByte >> 6) + 1;
  const hopCount = pathByte & 0x3f;
  const pathLength = hashSize * hopCount;
  if (hashSize === 4 || pathLength > MAX_PATH_BYTES) {
    return reject(
      raw,
      `invalid path encoding: pathByte 0x${HEX_UPPER[pathByte]} (hash_size=${hashSize} hash_count=${hopCount}) ` +
        `violates firmware validity (Packet.cpp:13-18, MAX_PATH_SIZE=${MAX_PATH_BYTES})`,
    );
  }
  const pathStart = pathByteOffset + 1;
  const payloadStart = pathStart + pathLength;
  if (payloadStart > length) {
    return reject(
      raw,
      `packet path length (${pathLength} bytes claimed by pathByte 0x${HEX_UPPER[pathByte]}) exceeds buffer (${length} bytes)`,
    );
  }
  const payloadLength = length - payloadStart;
  if (payloadLength > MAX_PAYLOAD_BYTES) {
    return reject(
      raw,
      `packet payload (${payloadLength} bytes) exceeds firmware MAX_PACKET_PAYLOAD=${MAX_PAYLOAD_BYTES} (MeshCore.h:19)`,
    );
  }

  const headerHops: string[] = new Array<string>(hopCount);
  for (let i = 0, at = pathStart; i < hopCount; i++, at += hashSize) {
    headerHops[i] = hashSize === 1 ? HEX_UPPER[packet[at]] : upperHex(packet, at, at + hashSize);
  }
  const hash = hadStrippedWhitespace ? fallbackHash(raw) : hashPacketBytes(packet, payloadType, pathByte, payloadStart);
  return {
    ok: true,
    frame: { raw, packet, routeType, payloadType, payloadVersion, pathByte, hashSize, hopCount, pathStart, payloadStart, hadStrippedWhitespace, headerHops, hash },
  };
}

/**
 * path_json of a framed packet, when the framing alone decides it: every payload type but TRACE
 * (whose hops come from its payload). Header hops re-read from the raw string as received, which
 * fails to hex-decode when it had whitespace (QUIRK → []).
 */
export function framedPathJson(frame: FramedPacket): string | undefined {
  if (frame.payloadType === PAYLOAD_TYPE.TRACE) return undefined;
  return frame.hadStrippedWhitespace ? '[]' : hopsJson(frame.headerHops);
}

/**
 * Decodes a raw hex packet. Rejections follow the check order of §1; every accepted packet
 * carries all stored columns. The hash and path_json are computed from the string as received
 * (a raw string with spaces or line breaks decodes, but gets the fallback hash and `[]`).
 */
export function decodePacket(raw: string, ctx: DecodeContext): DecodeOutcome {
  const framed = framePacket(raw);
  return framed.ok ? decodeFramedPacket(framed.frame, ctx) : framed;
}

/** The payload half of decodePacket: a framed packet always decodes. */
export function decodeFramedPacket(frame: FramedPacket, ctx: DecodeContext): DecodeOutcome {
  const { raw, packet, routeType, payloadType, payloadVersion, hopCount, hashSize, payloadStart, headerHops, hash } = frame;
  const decoded = decodePayload(frame, ctx);
  const isTrace = payloadType === PAYLOAD_TYPE.TRACE;

  // Zero-hop DIRECT / TRANSPORT_DIRECT report hash size 0 (TRACE excepted).
  const reportedHashSize = (routeType === 2 || routeType === 3) && hopCount === 0 && !isTrace ? 0 : hashSize;
  const path: DecodedPath = decoded.tracePath ?? { hashSize: reportedHashSize, hashCount: hopCount, hops: headerHops as string[] };
  const pathJson = framedPathJson(frame) ?? hopsJson(path.hops);

  const { payload, advert } = decoded;
  const decodedJson = serializePayload(payload);
  // A name with bytes left incomplete by the 32-byte cut was serialised from its bytes; the
  // payload object exposes it as text like every other string.
  if (advert !== undefined && payload.name instanceof Uint8Array) payload.name = advert.name;

  let transportCodes: DecodedPacket['transportCodes'] = null;
  let isTransportScoped = false;
  let scopeName: string | null = null;
  if (isTransportRoute(routeType)) {
    transportCodes = {
      code1: HEX_UPPER[packet[1]] + HEX_UPPER[packet[2]],
      code2: HEX_UPPER[packet[3]] + HEX_UPPER[packet[4]],
    };
    const code1 = packet[1] | (packet[2] << 8);
    if (code1 !== 0) {
      isTransportScoped = true;
      scopeName = matchScope(ctx.regionKeys ?? [], payloadType, packet.subarray(payloadStart), code1);
    }
  }

  const fromPubkey =
    payloadType === PAYLOAD_TYPE.ADVERT && typeof payload.pubKey === 'string' && payload.pubKey !== '' ? payload.pubKey : null;

  const result: DecodedPacket = {
    raw,
    hash,
    routeType,
    payloadType,
    payloadVersion,
    transportCodes,
    path,
    payload,
    decodedJson,
    pathJson,
    channelHash: channelHashColumn(payloadType, payload),
    fromPubkey,
    isTransportScoped,
    scopeName,
  };
  if (decoded.anomaly !== undefined) result.anomaly = decoded.anomaly;
  if (advert !== undefined) result.advert = advert;
  return { ok: true, packet: result };
}
