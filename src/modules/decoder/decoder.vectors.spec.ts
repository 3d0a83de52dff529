import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createExplicitKeyRing } from './channel-keys';
import type { DecodeContext, IngestVerdict } from './decoder.types';
import { ingestVerdict } from './ingest-verdict';
import { decodePacket } from './packet-decoder';

/** decoder-spec §13. */
interface DecoderVector {
  name: string;
  source: string;
  raw_hex: string;
  context: { channel_keys: Record<string, string>; validate_signatures: boolean };
  /** Go's error text for a rejected packet. */
  expect_error?: string;
  expected: {
    hash: string;
    route_type?: number;
    payload_type?: number;
    payload_version?: number;
    decoded_json?: string;
    path_json?: string;
    channel_hash?: string | null;
    from_pubkey?: string | null;
    transport_codes?: { code1: string; code2: string } | null;
    decoded_path?: { hashSize: number; hashCount: number; hops: string[]; hopsCompleted?: number };
    anomaly?: string;
  };
  ingest: string;
}

const VECTORS_PATH = resolve(__dirname, '../../../../shared/vectors/decoder-vectors.json');
const vectors = JSON.parse(readFileSync(VECTORS_PATH, 'utf8')) as DecoderVector[];

/**
 * The vectors spell the verdict out in prose, e.g. `skipped: advert check fails (invalid
 * lat/lon)`; reduce both sides to comparable words.
 */
function expectVerdictMatches(actual: IngestVerdict, described: string): void {
  if (described.startsWith('stored')) return expect(actual).toBe('stored');
  if (described.startsWith('rejected')) return expect(actual).toBe('rejected');
  if (described.startsWith('dropped: invalid signature')) return expect(actual).toBe('dropped: invalid signature');
  const skipped = /^skipped: advert check fails \((.+)\)$/.exec(described);
  if (skipped === null) throw new Error(`unknown ingest description: ${described}`);
  expect(actual.startsWith('skipped: ')).toBe(true);
  const reason = actual.slice('skipped: '.length);
  if (skipped[1] === 'invalid lat/lon') expect(reason).toMatch(/^invalid (lat|lon): /);
  else expect(reason).toBe(skipped[1]);
}

describe('decoder vectors (decoder-spec §13)', () => {
  it('loads all 118 vectors', () => {
    expect(vectors).toHaveLength(118);
  });

  it.each(vectors.map((vector, index) => [`#${index} ${vector.name}`, vector] as const))('%s', (_label, vector) => {
    const ctx: DecodeContext = {
      keyRing: createExplicitKeyRing(vector.context.channel_keys),
      validateSignatures: vector.context.validate_signatures,
    };
    const outcome = decodePacket(vector.raw_hex, ctx);
    const { expected } = vector;
    if (vector.expect_error !== undefined) {
      expect(outcome.ok).toBe(false);
      if (outcome.ok) return;
      expect(outcome.hash).toBe(expected.hash);
      // Wording need not match (§13); ours follows Go's anyway.
      expect(outcome.error).toBe(vector.expect_error);
    } else {
      expect(outcome.ok, outcome.ok ? '' : outcome.error).toBe(true);
      if (!outcome.ok) return;
      const { packet } = outcome;
      expect(packet.hash).toBe(expected.hash);
      expect(packet.routeType).toBe(expected.route_type);
      expect(packet.payloadType).toBe(expected.payload_type);
      expect(packet.payloadVersion).toBe(expected.payload_version);
      expect(packet.decodedJson).toBe(expected.decoded_json);
      expect(packet.pathJson).toBe(expected.path_json);
      expect(packet.channelHash).toBe(expected.channel_hash);
      expect(packet.fromPubkey).toBe(expected.from_pubkey);
      // Informational in the file, but the spec defines them: hold them too.
      expect(packet.transportCodes).toEqual(expected.transport_codes);
      expect(packet.path).toEqual(expected.decoded_path);
      expect(packet.anomaly).toBe(expected.anomaly);
      expect(packet.raw).toBe(vector.raw_hex);
    }
    expectVerdictMatches(ingestVerdict(outcome, ctx), vector.ingest);
  });
});
