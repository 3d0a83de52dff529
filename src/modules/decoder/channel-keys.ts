/**
 * Channel keys for GRP_TXT / GRP_DATA decryption: the start-up layering of ingestor-spec §3.9
 * (pure; the service does the file I/O) and the key ring the decoder uses per packet.
 */

import { createHash } from 'node:crypto';
import type {
  ChannelKeyEntry,
  ChannelKeyMap,
  ChannelKeyOrigin,
  ChannelKeyRing,
  KeyMatching,
  PreparedChannelKey,
} from './decoder.types';
import { decodeHexStrict } from './content-hash';

export const PUBLIC_CHANNEL_NAME = 'Public';
/** The well-known MeshCore public channel key (channel byte 0x11). */
export const PUBLIC_CHANNEL_KEY = '8b3387e9c5cdea6ac9e5edbaa115cd72';

export type KeyLayerLog = (line: string, level?: 'log' | 'warn') => void;

export interface ChannelKeySources {
  /** Parsed rainbow-table file (name → hex key). */
  rainbow?: Readonly<Record<string, string>>;
  /** Only used in the log line. */
  rainbowPath?: string;
  hashChannels?: readonly string[];
  channelKeys?: Readonly<Record<string, string>>;
}

/** `public` in any letter case becomes `Public`; every other name is returned unchanged. */
export function normalizeChannelName(name: string): string {
  return name.length === 6 && name.toLowerCase() === 'public' ? PUBLIC_CHANNEL_NAME : name;
}

/** Key of a hashtag channel: lower-case hex of SHA-256(UTF-8 name)[0:16], e.g. `#test`. */
export function deriveHashtagKey(channelName: string): string {
  return createHash('sha256').update(channelName, 'utf8').digest('hex').slice(0, 32);
}

/** A hashChannels entry as a channel name: trimmed, `#` prepended if missing; null when empty. */
export function hashChannelName(entry: string): string | null {
  const trimmed = entry.trim();
  if (trimmed === '') return null;
  return trimmed.startsWith('#') ? trimmed : `#${trimmed}`;
}

/**
 * Production key map, lowest to highest priority: built-in Public → rainbow table →
 * hashChannels (skipped when channelKeys has the same name) → channelKeys (normalized names;
 * a non-canonical spelling never replaces an existing entry, so `public` cannot override the
 * built-in key — CoreScope QUIRK).
 */
export function buildChannelKeyMap(sources: ChannelKeySources, log: KeyLayerLog = () => undefined): ChannelKeyMap {
  const map: ChannelKeyMap = new Map();
  const put = (name: string, key: string, origin: ChannelKeyOrigin): void => {
    map.set(name, { key, origin });
  };
  put(PUBLIC_CHANNEL_NAME, PUBLIC_CHANNEL_KEY, 'builtin');

  if (sources.rainbow !== undefined) {
    const entries = Object.entries(sources.rainbow);
    for (const [name, key] of entries) put(name, key, 'rainbow');
    log(`Loaded ${entries.length} channel keys from ${sources.rainbowPath ?? 'rainbow table'}`);
  }

  const explicit = sources.channelKeys ?? {};
  let derived = 0;
  for (const entry of sources.hashChannels ?? []) {
    const name = hashChannelName(entry);
    if (name === null || Object.hasOwn(explicit, name)) continue;
    put(name, deriveHashtagKey(name), 'hashChannel');
    derived++;
  }
  if (derived > 0) log(`[channels] ${derived} derived from hashChannels`);

  for (const [configuredName, key] of Object.entries(explicit)) {
    const name = normalizeChannelName(configuredName);
    if (name !== configuredName && map.has(name)) {
      log(`[channels] ignoring channelKeys entry "${configuredName}": "${name}" is already defined (use the canonical name to override it)`, 'warn');
      continue;
    }
    put(name, key, 'explicit');
  }
  return map;
}

/**
 * A key map given as a whole (CLI `--channel-keys`, a test vector's context): names kept as
 * given, no built-in Public, every key tried on every packet like CoreScope does.
 */
export function explicitChannelKeyMap(keys: Readonly<Record<string, string>>): ChannelKeyMap {
  const map: ChannelKeyMap = new Map();
  for (const [name, key] of Object.entries(keys)) map.set(name, { key, origin: 'explicit' });
  return map;
}

function xorPad(secret: Buffer, padByte: number): Buffer {
  const block = Buffer.alloc(64, padByte);
  for (let i = 0; i < secret.length; i++) block[i] ^= secret[i];
  return block;
}

/** Everything a usable key needs at decode time; null when it is not 16 hex-encoded bytes. */
export function prepareChannelKey(name: string, entry: ChannelKeyEntry, keyMatching: KeyMatching): PreparedChannelKey | null {
  const key = decodeHexStrict(entry.key);
  if (key === null || key.length !== 16) return null;
  const hmacSecret = Buffer.concat([key, Buffer.alloc(16)]);
  return {
    name,
    displayName: normalizeChannelName(name),
    origin: entry.origin,
    key,
    channelByte: createHash('sha256').update(key).digest()[0],
    hmacSecret,
    hmacInnerPad: xorPad(hmacSecret, 0x36),
    hmacOuterPad: xorPad(hmacSecret, 0x5c),
    triedOnEveryPacket: keyMatching === 'all' || entry.origin === 'explicit',
  };
}

class IndexedChannelKeyRing implements ChannelKeyRing {
  readonly keyCount: number;
  /** Candidates per channel byte, each list in map order. */
  private readonly candidatesByByte: readonly (readonly PreparedChannelKey[])[];

  constructor(
    map: ChannelKeyMap,
    readonly keyMatching: KeyMatching,
  ) {
    this.keyCount = map.size;
    const lists: PreparedChannelKey[][] = Array.from({ length: 256 }, () => []);
    for (const [name, entry] of map) {
      const prepared = prepareChannelKey(name, entry, keyMatching);
      if (prepared === null) continue; // CoreScope skips a malformed key at decode time
      if (prepared.triedOnEveryPacket) for (const list of lists) list.push(prepared);
      else lists[prepared.channelByte].push(prepared);
    }
    this.candidatesByByte = lists;
  }

  candidatesFor(channelByte: number): readonly PreparedChannelKey[] {
    return this.candidatesByByte[channelByte & 0xff];
  }
}

/** Prepares a key map once (key bytes, channel byte, HMAC pads) for per-packet lookups. */
export function createChannelKeyRing(map: ChannelKeyMap, options: { keyMatching?: KeyMatching } = {}): ChannelKeyRing {
  return new IndexedChannelKeyRing(map, options.keyMatching ?? 'channel-byte');
}

/** Convenience: a ring over an explicit key map (all keys tried on every packet). */
export function createExplicitKeyRing(keys: Readonly<Record<string, string>>): ChannelKeyRing {
  return createChannelKeyRing(explicitChannelKeyMap(keys));
}
