/**
 * Payload decoders, one per payload type (decoder-spec §4). Each builds the payload object in
 * the master key order of §4.1 (so serialisation needs no sorting) and never fails: a payload
 * too short for its type becomes an error payload.
 */

import { isUtf8 } from 'node:buffer';
import { advertRole } from './advert-checks';
import { checkAdvertSignature } from './advert-signature';
import { decryptChannelPayload, MIN_CIPHERTEXT_FOR_DECRYPTION } from './channel-decrypt';
import type { DecodeContext, DecodedAdvert, DecodedPath } from './decoder.types';
import { decodeRuneAt, goBytesToString, INVALID_RUNE, runeCodePoint, runeSize } from './go-utf8';
import { HEX_LOWER, HEX_UPPER, uint32LeHex, upperHex } from './hex';

export const PAYLOAD_TYPE = {
  REQ: 0,
  RESPONSE: 1,
  TXT_MSG: 2,
  ACK: 3,
  ADVERT: 4,
  GRP_TXT: 5,
  GRP_DATA: 6,
  ANON_REQ: 7,
  PATH: 8,
  TRACE: 9,
  MULTIPART: 10,
  CONTROL: 11,
  RAW_CUSTOM: 15,
} as const;

/** CoreScope's payload type names (12–14 have none). */
export const PAYLOAD_TYPE_NAMES: readonly string[] = [
  'REQ',
  'RESPONSE',
  'TXT_MSG',
  'ACK',
  'ADVERT',
  'GRP_TXT',
  'GRP_DATA',
  'ANON_REQ',
  'PATH',
  'TRACE',
  'MULTIPART',
  'CONTROL',
  'UNKNOWN',
  'UNKNOWN',
  'UNKNOWN',
  'RAW_CUSTOM',
];

/** Where the packet's parts are; the payload is packet[payloadStart..]. */
export interface PacketFrame {
  readonly packet: Buffer;
  readonly routeType: number;
  readonly payloadType: number;
  readonly hashSize: number;
  readonly hopCount: number;
  readonly pathStart: number;
  readonly payloadStart: number;
}

export interface PayloadDecodeResult {
  payload: Record<string, unknown>;
  advert?: DecodedAdvert;
  /** TRACE with route data: replaces the header path (§4.10). */
  tracePath?: DecodedPath;
  anomaly?: string;
}

type Payload = Record<string, unknown>;

function errorPayload(type: string, payload: Buffer, error: string): PayloadDecodeResult {
  return { payload: { type, raw: payload.toString('hex'), error } };
}

/** REQ, RESPONSE, TXT_MSG: dest(1) src(1) mac(2) ciphertext. */
function decodeAddressed(type: string, payload: Buffer): PayloadDecodeResult {
  if (payload.length < 4) return errorPayload(type, payload, 'too short');
  return {
    payload: {
      type,
      destHash: HEX_LOWER[payload[0]],
      srcHash: HEX_LOWER[payload[1]],
      mac: payload.toString('hex', 2, 4),
      encryptedData: payload.toString('hex', 4),
    },
  };
}

function decodeAck(payload: Buffer): PayloadDecodeResult {
  if (payload.length < 4) return errorPayload('ACK', payload, 'too short');
  const decoded: Payload = { type: 'ACK', extraHash: uint32LeHex(payload, 0), ackLen: Math.min(payload.length, 6) };
  // Firmware 1.16 extended ACK: attempt and random bytes.
  if (payload.length >= 5) decoded.ackAttempt = payload[4];
  if (payload.length >= 6) decoded.ackRand = payload[5];
  return { payload: decoded };
}

const ADVERT_MIN_LENGTH = 100;
const ADVERT_NAME_LIMIT = 32;
const nameScratch = Buffer.alloc(ADVERT_NAME_LIMIT + 4);

/**
 * Advert name bytes [start, end): read rune by rune (an invalid byte becomes U+FFFD), C0
 * controls other than TAB/LF and DEL dropped, re-encoded and cut to 32 bytes. The cut may
 * split a character, so the result is bytes, not text.
 */
export function sanitizeAdvertName(bytes: Uint8Array, start: number, end: number): Buffer {
  let length = 0;
  for (let at = start; at < end && length < ADVERT_NAME_LIMIT; ) {
    const rune = decodeRuneAt(bytes, at, end);
    if (rune === INVALID_RUNE) {
      nameScratch[length++] = 0xef;
      nameScratch[length++] = 0xbf;
      nameScratch[length++] = 0xbd;
      at += 1;
      continue;
    }
    const size = runeSize(rune);
    const codePoint = runeCodePoint(rune);
    if ((codePoint >= 0x20 && codePoint !== 0x7f) || codePoint === 0x09 || codePoint === 0x0a) {
      for (let k = 0; k < size; k++) nameScratch[length++] = bytes[at + k];
    }
    at += size;
  }
  return Buffer.from(nameScratch.subarray(0, Math.min(length, ADVERT_NAME_LIMIT)));
}

function timestampIso(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}

function decodeAdvert(payload: Buffer, ctx: DecodeContext): PayloadDecodeResult {
  if (payload.length < ADVERT_MIN_LENGTH) return errorPayload('ADVERT', payload, 'too short for advert');
  const pubKey = payload.toString('hex', 0, 32);
  const timestamp = payload.readUInt32LE(32);
  const decoded: Payload = {
    type: 'ADVERT',
    pubKey,
    timestamp,
    timestampISO: timestampIso(timestamp),
    signature: payload.toString('hex', 36, 100),
  };
  const advert: DecodedAdvert = { pubKey, name: '', role: advertRole(undefined), timestamp };
  if (ctx.validateSignatures) {
    const valid = checkAdvertSignature(payload, ctx.signatureCache);
    decoded.signatureValid = valid;
    advert.signatureValid = valid;
  }
  const end = payload.length;
  if (end === ADVERT_MIN_LENGTH) return { payload: decoded, advert };

  const flagsByte = payload[ADVERT_MIN_LENGTH];
  const nodeType = flagsByte & 0x0f;
  const hasLocation = (flagsByte & 0x10) !== 0;
  const hasFeat1 = (flagsByte & 0x20) !== 0;
  const hasFeat2 = (flagsByte & 0x40) !== 0;
  const hasName = (flagsByte & 0x80) !== 0;
  decoded.flags = {
    raw: flagsByte,
    type: nodeType,
    chat: nodeType === 1,
    repeater: nodeType === 2,
    room: nodeType === 3,
    sensor: nodeType === 4,
    hasLocation,
    hasFeat1,
    hasFeat2,
    hasName,
  };
  advert.flagsType = nodeType;
  advert.role = advertRole(nodeType);

  // Each part is read only when flagged and complete; a skipped part does not move the offset.
  let offset = ADVERT_MIN_LENGTH + 1;
  let feat1: number | undefined;
  let feat2: number | undefined;
  if (hasLocation && end - offset >= 8) {
    advert.lat = payload.readInt32LE(offset) / 1e6;
    advert.lon = payload.readInt32LE(offset + 4) / 1e6;
    decoded.lat = advert.lat;
    decoded.lon = advert.lon;
    offset += 8;
  }
  if (hasFeat1 && end - offset >= 2) {
    feat1 = payload.readUInt16LE(offset);
    offset += 2;
  }
  if (hasFeat2 && end - offset >= 2) {
    feat2 = payload.readUInt16LE(offset);
    offset += 2;
  }
  let nameBytes: Buffer | undefined;
  if (hasName) {
    const terminator = payload.indexOf(0, offset);
    const nameEnd = terminator < 0 ? end : terminator;
    nameBytes = sanitizeAdvertName(payload, offset, nameEnd);
    offset = nameEnd;
    while (offset < end && payload[offset] === 0) offset++;
  }
  if (nameBytes !== undefined && nameBytes.length > 0) {
    if (isUtf8(nameBytes)) {
      advert.name = nameBytes.toString('utf8');
      decoded.name = advert.name;
    } else {
      // Bytes left over by the cut: serialised as one \ufffd each (the caller swaps in text).
      advert.name = goBytesToString(nameBytes);
      decoded.name = nameBytes;
    }
  }
  if (feat1 !== undefined) decoded.feat1 = feat1;
  if (feat2 !== undefined) decoded.feat2 = feat2;
  if (nodeType === 4 && end - offset >= 4) {
    const batteryMv = payload.readUInt16LE(offset);
    const temperatureRaw = payload.readInt16LE(offset + 2);
    if (batteryMv >= 1 && batteryMv <= 10000) {
      decoded.battery_mv = batteryMv;
      advert.batteryMv = batteryMv;
    }
    if (temperatureRaw >= -5000 && temperatureRaw <= 10000) {
      decoded.temperature_c = temperatureRaw / 100;
      advert.temperatureC = temperatureRaw / 100;
    }
  }
  return { payload: decoded, advert };
}

/** GRP_TXT and GRP_DATA: channel byte(1) mac(2) ciphertext (§4.6, §4.7, §7). */
function decodeGroup(payload: Buffer, ctx: DecodeContext, isText: boolean): PayloadDecodeResult {
  const type = isText ? 'GRP_TXT' : 'GRP_DATA';
  if (payload.length < 3) return errorPayload(type, payload, 'too short');
  const channelByte = payload[0];
  const channelHashHex = HEX_UPPER[channelByte];
  const ciphertext = payload.subarray(3);
  let decryptionStatus = 'no_key';
  if (ctx.keyRing.keyCount > 0 && ciphertext.length >= MIN_CIPHERTEXT_FOR_DECRYPTION) {
    decryptionStatus = 'decryption_failed';
    if (isText) {
      const match = decryptChannelPayload(ctx.keyRing, channelByte, payload[1], payload[2], ciphertext, 'text');
      if (match !== null) {
        const { sender, message, timestamp } = match.text;
        return {
          payload: {
            type: 'CHAN',
            channelHash: channelByte,
            channelHashHex,
            decryptionStatus: 'decrypted',
            channel: match.key.displayName,
            text: sender !== '' && message !== '' ? `${sender}: ${message}` : message,
            sender,
            sender_timestamp: timestamp,
          },
        };
      }
    } else {
      const match = decryptChannelPayload(ctx.keyRing, channelByte, payload[1], payload[2], ciphertext, 'data');
      if (match !== null) {
        const inner = match.plaintext;
        const dataLen = inner[2];
        const decoded: Payload = {
          type: 'GRP_DATA',
          channelHash: channelByte,
          channelHashHex,
          decryptionStatus: 'decrypted',
          // GRP_DATA reports the key name as loaded (CoreScope QUIRK: not re-normalised).
          channel: match.key.name,
          dataType: inner.readUInt16LE(0),
          dataLen,
        };
        if (3 + dataLen > inner.length) decoded.error = 'inner data_len exceeds buffer';
        else decoded.decryptedBlob = inner.toString('hex', 3, 3 + dataLen);
        return { payload: decoded };
      }
    }
  }
  return {
    payload: {
      type,
      mac: payload.toString('hex', 1, 3),
      encryptedData: ciphertext.toString('hex'),
      channelHash: channelByte,
      channelHashHex,
      decryptionStatus,
    },
  };
}

/** ANON_REQ: dest(1) ephemeral pubkey(32) mac(2) ciphertext; JSON in master order, not wire order. */
function decodeAnonRequest(payload: Buffer): PayloadDecodeResult {
  if (payload.length < 35) return errorPayload('ANON_REQ', payload, 'too short');
  return {
    payload: {
      type: 'ANON_REQ',
      destHash: HEX_LOWER[payload[0]],
      mac: payload.toString('hex', 33, 35),
      encryptedData: payload.toString('hex', 35),
      ephemeralPubKey: payload.toString('hex', 1, 33),
    },
  };
}

function decodePathPayload(payload: Buffer): PayloadDecodeResult {
  if (payload.length < 4) return errorPayload('PATH', payload, 'too short');
  return {
    payload: {
      type: 'PATH',
      destHash: HEX_LOWER[payload[0]],
      srcHash: HEX_LOWER[payload[1]],
      mac: payload.toString('hex', 2, 4),
      pathData: payload.toString('hex', 4),
    },
  };
}

/**
 * TRACE: tag(4) auth(4) flags(1) route. The header path bytes are per-hop SNR values
 * (int8, quarter dB); the route, cut into hops of 1 << (flags & 3) bytes, becomes the path.
 */
function decodeTrace(payload: Buffer, frame: PacketFrame): PayloadDecodeResult {
  if (payload.length < 9) {
    return { ...errorPayload('TRACE', payload, 'too short'), anomaly: 'TRACE payload decode failed: too short' };
  }
  const tag = payload.readUInt32LE(0);
  const authCode = payload.readUInt32LE(4);
  const traceFlags = payload[8];
  if (payload.length === 9) return { payload: { type: 'TRACE', tag, authCode, traceFlags } };

  const { packet, hashSize, hopCount, pathStart } = frame;
  const snrValues: number[] = [];
  if (hashSize === 1) {
    for (let i = 0; i < hopCount; i++) snrValues.push(((packet[pathStart + i] << 24) >> 24) / 4);
  }
  const hopSize = 1 << (traceFlags & 0x03);
  const routeHops: string[] = [];
  for (let at = 9; at + hopSize <= payload.length; at += hopSize) routeHops.push(upperHex(payload, at, at + hopSize));
  const result: PayloadDecodeResult = {
    payload: { type: 'TRACE', pathData: payload.toString('hex', 9), snrValues, tag, authCode, traceFlags },
    tracePath: { hashSize: hopSize, hashCount: routeHops.length, hops: routeHops, hopsCompleted: hopCount },
  };
  if (frame.routeType === 0 || frame.routeType === 1) {
    result.anomaly = 'TRACE packet with non-DIRECT routing (expected DIRECT or TRANSPORT_DIRECT)';
  }
  return result;
}

function decodeMultipart(payload: Buffer): PayloadDecodeResult {
  if (payload.length === 0) return errorPayload('MULTIPART', payload, 'too short');
  const innerType = payload[0] & 0x0f;
  const decoded: Payload = {
    type: 'MULTIPART',
    remaining: payload[0] >> 4,
    innerType,
    innerTypeName: PAYLOAD_TYPE_NAMES[innerType],
  };
  if (innerType === PAYLOAD_TYPE.ACK && payload.length >= 5) {
    decoded.innerAckCrc = uint32LeHex(payload, 1);
    decoded.innerAckLen = Math.min(payload.length - 1, 6);
    if (payload.length >= 6) decoded.innerAckAttempt = payload[5];
    if (payload.length >= 7) decoded.innerAckRand = payload[6];
  } else if (payload.length > 1) {
    decoded.innerPayload = payload.toString('hex', 1);
  }
  return { payload: decoded };
}

function decodeControl(payload: Buffer): PayloadDecodeResult {
  if (payload.length === 0) return errorPayload('CONTROL', payload, 'too short');
  const first = payload[0];
  const length = payload.length;
  const decoded: Payload = {
    type: 'CONTROL',
    raw: payload.toString('hex'),
    ctrlFlags: HEX_LOWER[first],
    ctrlZeroHop: (first & 0x80) !== 0,
    ctrlLength: length,
  };
  const subtype = first & 0xf0;
  if (subtype === 0x80) {
    decoded.ctrlSubtype = 'DISCOVER_REQ';
    if (length >= 6) {
      decoded.ctrlFilter = payload[1];
      decoded.ctrlTag = payload.readUInt32LE(2);
      if (length >= 10) decoded.ctrlSince = payload.readUInt32LE(6);
    }
  } else if (subtype === 0x90) {
    decoded.ctrlSubtype = 'DISCOVER_RESP';
    if (length >= 6) decoded.ctrlTag = payload.readUInt32LE(2);
    decoded.ctrlNodeType = first & 0x0f;
    if (length >= 6) {
      decoded.ctrlSNR = payload.readInt8(1);
      const keyBytes = length - 6;
      if (keyBytes >= 32) decoded.ctrlPubKey = payload.toString('hex', 6, 38);
      else if (keyBytes >= 8) decoded.ctrlPubKey = payload.toString('hex', 6, 14);
    }
  } else {
    decoded.ctrlSubtype = 'UNKNOWN';
  }
  return { payload: decoded };
}

function decodeRawCustom(payload: Buffer): PayloadDecodeResult {
  const decoded: Payload = { type: 'RAW_CUSTOM', raw: payload.toString('hex'), rawLength: payload.length };
  if (payload.length > 0) decoded.firstByteTag = HEX_UPPER[payload[0]];
  return { payload: decoded };
}

/** The payload object of one packet (§4). */
export function decodePayload(frame: PacketFrame, ctx: DecodeContext): PayloadDecodeResult {
  const payload = frame.packet.subarray(frame.payloadStart);
  switch (frame.payloadType) {
    case PAYLOAD_TYPE.REQ:
    case PAYLOAD_TYPE.RESPONSE:
    case PAYLOAD_TYPE.TXT_MSG:
      return decodeAddressed(PAYLOAD_TYPE_NAMES[frame.payloadType], payload);
    case PAYLOAD_TYPE.ACK:
      return decodeAck(payload);
    case PAYLOAD_TYPE.ADVERT:
      return decodeAdvert(payload, ctx);
    case PAYLOAD_TYPE.GRP_TXT:
      return decodeGroup(payload, ctx, true);
    case PAYLOAD_TYPE.GRP_DATA:
      return decodeGroup(payload, ctx, false);
    case PAYLOAD_TYPE.ANON_REQ:
      return decodeAnonRequest(payload);
    case PAYLOAD_TYPE.PATH:
      return decodePathPayload(payload);
    case PAYLOAD_TYPE.TRACE:
      return decodeTrace(payload, frame);
    case PAYLOAD_TYPE.MULTIPART:
      return decodeMultipart(payload);
    case PAYLOAD_TYPE.CONTROL:
      return decodeControl(payload);
    case PAYLOAD_TYPE.RAW_CUSTOM:
      return decodeRawCustom(payload);
    default:
      return { payload: { type: 'UNKNOWN', raw: payload.toString('hex') } };
  }
}
