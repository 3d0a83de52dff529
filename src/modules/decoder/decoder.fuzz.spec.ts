import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LruSignatureCache } from './advert-signature';
import { buildChannelKeyMap, createChannelKeyRing } from './channel-keys';
import { computeContentHash } from './content-hash';
import type { DecodeContext, DecodeOutcome } from './decoder.types';
import { ingestVerdict } from './ingest-verdict';
import { buildRegionKeys } from './region-keys';
import { decodePacket } from './packet-decoder';

const SHARED = resolve(__dirname, '../../../../shared');
const ITERATIONS = 120_000;

const corpusRaws = readFileSync(resolve(SHARED, 'tools/corpus/real-packets.jsonl'), 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => (JSON.parse(line) as { raw: string }).raw);
const vectorRaws = (JSON.parse(readFileSync(resolve(SHARED, 'vectors/decoder-vectors.json'), 'utf8')) as { raw_hex: string }[]).map(
  (vector) => vector.raw_hex,
);
const rainbow = JSON.parse(readFileSync(resolve(SHARED, 'tools/corpus/channel-rainbow.json'), 'utf8')) as Record<string, string>;
const seeds = [...corpusRaws, ...vectorRaws];

/** mulberry32: small, fast, deterministic. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = prng(0x5eed1234);
const int = (n: number): number => Math.floor(random() * n);
const pick = <T>(items: readonly T[]): T => items[int(items.length)];
const HEX = '0123456789abcdefABCDEF';
const JUNK = [' ', '\t', '\n', '\r', 'g', 'Z', 'x', '-', ':', '\u00e9', '\ud83c\udf33', '\u0000', '"', '\\', '\u2028'];

function randomHex(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += HEX[int(HEX.length)];
  return out;
}

function bytesOf(raw: string): Buffer {
  const clean = raw.replace(/[ \n\r]/g, '');
  return Buffer.from(clean.length % 2 === 0 ? clean : clean.slice(0, -1), 'hex');
}

/** One mutated input; the mix covers every check of decoder-spec §1 and every payload type. */
function mutate(seed: string): string {
  switch (int(14)) {
    case 0: // truncated
      return seed.slice(0, int(seed.length + 1));
    case 1: {
      // bit flips
      const bytes = bytesOf(seed);
      if (bytes.length === 0) return seed;
      for (let n = 1 + int(4); n > 0; n--) bytes[int(bytes.length)] ^= 1 << int(8);
      return bytes.toString('hex');
    }
    case 2: {
      // header byte replaced: every route and payload type on real bodies
      const bytes = bytesOf(seed);
      if (bytes.length === 0) return seed;
      bytes[0] = int(256);
      return bytes.toString('hex').toUpperCase();
    }
    case 3: {
      // path byte replaced (position 1 or 5)
      const bytes = bytesOf(seed);
      const at = int(2) === 0 ? 1 : 5;
      if (bytes.length <= at) return seed;
      bytes[at] = int(256);
      return bytes.toString('hex');
    }
    case 4: // oversized payload
      return seed + randomHex(2 * (1 + int(200)));
    case 5: // odd length
      return seed + HEX[int(16)];
    case 6: {
      // junk character (non-hex, whitespace, tab, non-ASCII) at a random place
      const at = int(seed.length + 1);
      return seed.slice(0, at) + pick(JUNK) + seed.slice(at);
    }
    case 7: {
      // spaces / line breaks between byte pairs (decoded, with the hash fallback)
      const separator = pick([' ', '\n', '\r\n', '  ']);
      return (seed.match(/.{1,2}/g) ?? []).join(separator);
    }
    case 8:
      return pick(['', ' ', '\t', '0', '00', '0000', '\n', 'zz']);
    case 9: // very long
      return randomHex(2 * (500 + int(5000))) + (int(2) === 0 ? '' : 'q');
    case 10: // random short packet
      return randomHex(2 * int(40));
    case 11: {
      // spliced payloads from two seeds
      const other = pick(seeds);
      return seed.slice(0, int(seed.length)) + other.slice(int(other.length));
    }
    case 12: {
      // random bytes at a random offset, same length
      const bytes = bytesOf(seed);
      const start = int(bytes.length + 1);
      for (let i = start; i < Math.min(bytes.length, start + 1 + int(8)); i++) bytes[i] = int(256);
      return bytes.toString('hex');
    }
    default: // case changes only
      return int(2) === 0 ? seed.toLowerCase() : seed.toUpperCase();
  }
}

function checkOutcome(raw: string, outcome: DecodeOutcome, ctx: DecodeContext): void {
  expect(typeof outcome.ok).toBe('boolean');
  if (!outcome.ok) {
    expect(typeof outcome.error).toBe('string');
    expect(outcome.error.length).toBeGreaterThan(0);
    expect(outcome.hash).toBe(computeContentHash(raw));
    return;
  }
  const { packet } = outcome;
  expect(typeof packet.decodedJson).toBe('string');
  const payload = JSON.parse(packet.decodedJson) as Record<string, unknown>;
  expect(typeof payload.type).toBe('string');
  const hops = JSON.parse(packet.pathJson) as unknown;
  expect(Array.isArray(hops)).toBe(true);
  for (const hop of hops as unknown[]) expect(hop).toMatch(/^[0-9A-F]+$/);
  expect(packet.hash).toBe(computeContentHash(raw));
  expect(packet.raw).toBe(raw);
  expect(ingestVerdict(outcome, ctx)).toMatch(/^(stored|dropped: invalid signature|skipped: .+)$/);
}

describe('decodePacket fuzz (seeded, production key set, signatures on)', () => {
  it(`never throws on ${ITERATIONS} random and mutated inputs`, () => {
    const ctx: DecodeContext = {
      keyRing: createChannelKeyRing(buildChannelKeyMap({ rainbow })),
      validateSignatures: true,
      regionKeys: buildRegionKeys(['Europe', 'sf']),
      signatureCache: new LruSignatureCache(),
    };
    const seen = { ok: 0, rejected: 0, payloadTypes: new Set<number>(), errors: new Set<string>() };
    for (let i = 0; i < ITERATIONS; i++) {
      const raw = i < seeds.length ? seeds[i] : mutate(pick(seeds));
      let outcome: DecodeOutcome;
      try {
        outcome = decodePacket(raw, ctx);
      } catch (error) {
        throw new Error(`decodePacket threw on ${JSON.stringify(raw)}: ${String(error)}`);
      }
      checkOutcome(raw, outcome, ctx);
      if (outcome.ok) {
        seen.ok++;
        seen.payloadTypes.add(outcome.packet.payloadType);
      } else {
        seen.rejected++;
        seen.errors.add(outcome.error.replace(/[0-9A-F]{2}|\d+|U\+\w+.*$/g, '#'));
      }
    }
    // The mix is not degenerate: both outcomes, all 16 payload types, every rejection kind.
    expect(seen.ok).toBeGreaterThan(ITERATIONS / 4);
    expect(seen.rejected).toBeGreaterThan(ITERATIONS / 4);
    expect(seen.payloadTypes.size).toBe(16);
    expect(seen.errors.size).toBeGreaterThanOrEqual(7);
  });
});
