/**
 * Builders for well-formed MeshCore packets (channel messages, signed adverts). Used by tests,
 * the decode benchmark and fixtures; never on the ingest path.
 */

import { createCipheriv, createHash, createHmac, createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';

export interface PacketEnvelope {
  /** 0 TRANSPORT_FLOOD, 1 FLOOD (default), 2 DIRECT, 3 TRANSPORT_DIRECT. */
  routeType?: number;
  payloadVersion?: number;
  /** Wire bytes 1–4 for transport routes (default 0000 0000). */
  transportCodes?: readonly [number, number, number, number];
  /** Path byte; default: hop count of `path` with 1-byte hops. */
  pathByte?: number;
  path?: Uint8Array;
}

/** header ‖ [transport codes] ‖ path byte ‖ path ‖ payload, as upper-case hex. */
export function buildPacket(payloadType: number, payload: Uint8Array, envelope: PacketEnvelope = {}): string {
  const routeType = envelope.routeType ?? 1;
  const path = envelope.path ?? new Uint8Array(0);
  const header = ((envelope.payloadVersion ?? 0) << 6) | ((payloadType & 0x0f) << 2) | (routeType & 0x03);
  const parts: Uint8Array[] = [Uint8Array.of(header)];
  if (routeType === 0 || routeType === 3) parts.push(Uint8Array.from(envelope.transportCodes ?? [0, 0, 0, 0]));
  parts.push(Uint8Array.of(envelope.pathByte ?? path.length), path, payload);
  return Buffer.concat(parts).toString('hex').toUpperCase();
}

/** SHA-256(key)[0], the channel byte the firmware writes for a channel key. */
export function channelByteOf(keyHex: string): number {
  return createHash('sha256').update(Buffer.from(keyHex, 'hex')).digest()[0];
}

/** Channel encryption: AES-128-ECB over the zero-padded plaintext, 2-byte HMAC of the ciphertext. */
export function encryptForChannel(keyHex: string, plaintext: Uint8Array): { mac: Buffer; ciphertext: Buffer } {
  const key = Buffer.from(keyHex, 'hex');
  const padded = Buffer.alloc(Math.max(16, Math.ceil(plaintext.length / 16) * 16));
  padded.set(plaintext);
  const cipher = createCipheriv('aes-128-ecb', key, null);
  cipher.setAutoPadding(false);
  const ciphertext = Buffer.concat([cipher.update(padded), cipher.final()]);
  const mac = createHmac('sha256', Buffer.concat([key, Buffer.alloc(16)])).update(ciphertext).digest().subarray(0, 2);
  return { mac, ciphertext };
}

export interface ChannelMessage extends PacketEnvelope {
  keyHex: string;
  /** Message text as sent, e.g. `Bob: hello` (sender prefix included). */
  text: string | Uint8Array;
  timestamp?: number;
  /** Default: the key's own channel byte. */
  channelByte?: number;
  /** GRP_DATA instead of GRP_TXT: `text` is then the whole inner plaintext. */
  data?: boolean;
}

/** A GRP_TXT (or GRP_DATA) packet encrypted with the given channel key. */
export function buildChannelPacket(message: ChannelMessage): string {
  const body = typeof message.text === 'string' ? Buffer.from(message.text, 'utf8') : Buffer.from(message.text);
  let plaintext: Buffer = body;
  if (message.data !== true) {
    const head = Buffer.alloc(5);
    head.writeUInt32LE(message.timestamp ?? 1_700_000_000, 0);
    plaintext = Buffer.concat([head, body]);
  }
  const { mac, ciphertext } = encryptForChannel(message.keyHex, plaintext);
  const channelByte = message.channelByte ?? channelByteOf(message.keyHex);
  const payload = Buffer.concat([Uint8Array.of(channelByte), mac, ciphertext]);
  return buildPacket(message.data === true ? 6 : 5, payload, message);
}

export interface Ed25519Identity {
  privateKey: KeyObject;
  /** Raw 32-byte public key. */
  publicKey: Buffer;
}

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** A deterministic Ed25519 identity from a 32-byte seed (e.g. 32 × 0x07). */
export function identityFromSeed(seed: Uint8Array): Ed25519Identity {
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  return { privateKey, publicKey: Buffer.from(String(jwk.x), 'base64url') };
}

export interface AdvertAppdata {
  /** Low nibble of the flags byte: 1 companion, 2 repeater, 3 room, 4 sensor. */
  nodeType: number;
  lat?: number;
  lon?: number;
  feat1?: number;
  feat2?: number;
  name?: string | Uint8Array;
  /** Sensor telemetry appended after the name terminator. */
  batteryMv?: number;
  temperatureRaw?: number;
}

/** Advert appdata: flags, then location, feat1, feat2, NUL-terminated name, telemetry. */
export function buildAdvertAppdata(appdata: AdvertAppdata): Buffer {
  let flags = appdata.nodeType & 0x0f;
  const parts: Uint8Array[] = [];
  if (appdata.lat !== undefined && appdata.lon !== undefined) {
    flags |= 0x10;
    const location = Buffer.alloc(8);
    location.writeInt32LE(Math.round(appdata.lat * 1e6), 0);
    location.writeInt32LE(Math.round(appdata.lon * 1e6), 4);
    parts.push(location);
  }
  for (const [bit, feature] of [
    [0x20, appdata.feat1],
    [0x40, appdata.feat2],
  ] as const) {
    if (feature === undefined) continue;
    flags |= bit;
    const bytes = Buffer.alloc(2);
    bytes.writeUInt16LE(feature, 0);
    parts.push(bytes);
  }
  if (appdata.name !== undefined) {
    flags |= 0x80;
    parts.push(typeof appdata.name === 'string' ? Buffer.from(appdata.name, 'utf8') : appdata.name);
    if (appdata.batteryMv !== undefined || appdata.temperatureRaw !== undefined) parts.push(Uint8Array.of(0));
  }
  if (appdata.batteryMv !== undefined || appdata.temperatureRaw !== undefined) {
    const telemetry = Buffer.alloc(4);
    telemetry.writeUInt16LE(appdata.batteryMv ?? 0, 0);
    telemetry.writeInt16LE(appdata.temperatureRaw ?? 0, 2);
    parts.push(telemetry);
  }
  return Buffer.concat([Uint8Array.of(flags), ...parts]);
}

/** An ADVERT payload signed by `identity`: pubkey ‖ timestamp ‖ signature ‖ appdata. */
export function buildSignedAdvertPayload(identity: Ed25519Identity, timestamp: number, appdata: Uint8Array): Buffer {
  const time = Buffer.alloc(4);
  time.writeUInt32LE(timestamp, 0);
  const signature = sign(null, Buffer.concat([identity.publicKey, time, appdata]), identity.privateKey);
  return Buffer.concat([identity.publicKey, time, signature, appdata]);
}

export function buildSignedAdvert(
  identity: Ed25519Identity,
  timestamp: number,
  appdata: AdvertAppdata | Uint8Array,
  envelope: PacketEnvelope = {},
): string {
  const appdataBytes = appdata instanceof Uint8Array ? appdata : buildAdvertAppdata(appdata);
  return buildPacket(4, buildSignedAdvertPayload(identity, timestamp, appdataBytes), envelope);
}
