/**
 * Public types of the packet decoder (decoder-spec). The rest of the application depends on
 * these shapes; keep them stable.
 */

/** Where a channel key came from (ingestor-spec §3.9); decides how eagerly it is tried. */
export type ChannelKeyOrigin = 'builtin' | 'rainbow' | 'hashChannel' | 'explicit';

export interface ChannelKeyEntry {
  /** Hex key as configured (normally 32 hex chars = 16 bytes). */
  readonly key: string;
  readonly origin: ChannelKeyOrigin;
}

/** Channel name → key, in layering order (Map keeps insertion order). */
export type ChannelKeyMap = Map<string, ChannelKeyEntry>;

/**
 * Which keys a GRP_TXT/GRP_DATA packet tries:
 * - 'channel-byte' (production): builtin/rainbow/hashChannel keys only when SHA-256(key)[0]
 *   equals the packet's channel byte (what the firmware does); explicit keys always;
 * - 'all': every key on every packet, like CoreScope (used to prove both give the same output).
 */
export type KeyMatching = 'channel-byte' | 'all';

/** A usable channel key with everything the hot path needs precomputed. */
export interface PreparedChannelKey {
  /** Name as loaded (GRP_DATA reports it as is). */
  readonly name: string;
  /** Name as GRP_TXT reports it (`public` in any case → `Public`). */
  readonly displayName: string;
  readonly origin: ChannelKeyOrigin;
  /** The 16 AES key bytes. */
  readonly key: Buffer;
  /** SHA-256(key)[0], the channel byte the firmware puts in the packet. */
  readonly channelByte: number;
  /** HMAC-SHA256 secret: the 16 key bytes followed by 16 zero bytes. */
  readonly hmacSecret: Buffer;
  /** HMAC inner/outer pad blocks of hmacSecret (64 bytes each), precomputed for the hot path. */
  readonly hmacInnerPad: Buffer;
  readonly hmacOuterPad: Buffer;
  /** True when tried on every packet whatever its channel byte. */
  readonly triedOnEveryPacket: boolean;
}

/** Channel keys prepared once, looked up per packet. */
export interface ChannelKeyRing {
  /** Number of configured keys, unusable ones included (0 → status `no_key`). */
  readonly keyCount: number;
  readonly keyMatching: KeyMatching;
  /** Keys to try, in map order, for a packet carrying this channel byte. */
  candidatesFor(channelByte: number): readonly PreparedChannelKey[];
}

/** A transport-scope region (ingestor-spec §3.10). */
export interface RegionKey {
  /** `#name` as stored in transmissions.scope_name. */
  readonly name: string;
  /** SHA-256(name)[0:16]. */
  readonly key: Buffer;
}

export type RegionKeys = readonly RegionKey[];

/** Remembers Ed25519 results so an advert heard by many observers is verified once. */
export interface SignatureCache {
  get(signedPayload: string): boolean | undefined;
  set(signedPayload: string, valid: boolean): void;
}

export interface DecodeContext {
  keyRing: ChannelKeyRing;
  validateSignatures: boolean;
  regionKeys?: RegionKeys;
  signatureCache?: SignatureCache;
}

export type DecodeOutcome = { ok: true; packet: DecodedPacket } | { ok: false; hash: string; error: string };

export interface DecodedPath {
  hashSize: number;
  hashCount: number;
  hops: string[];
  hopsCompleted?: number;
}

export interface DecodedAdvert {
  pubKey: string;
  /** Sanitized name; a byte the 32-byte cut left incomplete is shown as U+FFFD. */
  name: string;
  lat?: number;
  lon?: number;
  /** Low nibble of the flags byte; absent for a 100-byte advert (no appdata). */
  flagsType?: number;
  role: string;
  batteryMv?: number;
  temperatureC?: number;
  /** Present only when signature validation is on. */
  signatureValid?: boolean;
  timestamp: number;
}

export interface DecodedPacket {
  /** The raw string exactly as received. */
  raw: string;
  hash: string;
  routeType: number;
  payloadType: number;
  payloadVersion: number;
  /** Upper-case hex of the wire bytes 1–2 and 3–4 (route types 0 and 3 only). */
  transportCodes: { code1: string; code2: string } | null;
  path: DecodedPath;
  /** The decoded payload object (what decodedJson serialises). */
  payload: Record<string, unknown>;
  /** transmissions.decoded_json */
  decodedJson: string;
  /** observations.path_json */
  pathJson: string;
  /** transmissions.channel_hash */
  channelHash: string | null;
  /** transmissions.from_pubkey */
  fromPubkey: string | null;
  isTransportScoped: boolean;
  /** null = not scoped, '' = scoped but no region matched. */
  scopeName: string | null;
  /** Not stored; CoreScope only logs it. */
  anomaly?: string;
  advert?: DecodedAdvert;
}

/** What the ingestor does with a decode result (decoder-spec §13 `ingest`). */
export type IngestVerdict = 'stored' | 'dropped: invalid signature' | `skipped: ${string}` | 'rejected';
