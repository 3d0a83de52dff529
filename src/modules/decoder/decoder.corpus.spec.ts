import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LruSignatureCache } from './advert-signature';
import { buildChannelKeyMap, createChannelKeyRing } from './channel-keys';
import type { DecodeContext, DecodedPacket, DecodeOutcome, KeyMatching } from './decoder.types';
import { ingestVerdict } from './ingest-verdict';
import { decodePacket } from './packet-decoder';

const TOOLS = resolve(__dirname, '../../../../shared/tools');
const corpus = readFileSync(resolve(TOOLS, 'corpus/real-packets.jsonl'), 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => JSON.parse(line) as { raw: string; hash: string; payload_type: number });
const rainbow = JSON.parse(readFileSync(resolve(TOOLS, 'corpus/channel-rainbow.json'), 'utf8')) as Record<string, string>;

function productionContext(keyMatching: KeyMatching, validateSignatures = true): DecodeContext {
  return {
    keyRing: createChannelKeyRing(buildChannelKeyMap({ rainbow }), { keyMatching }),
    validateSignatures,
    signatureCache: new LruSignatureCache(),
  };
}

/** The load generator's payload variant: XOR a 32-bit value into the last 4 payload bytes. */
function xorTail(raw: string, value: number): string {
  const bytes = Buffer.from(raw, 'hex');
  const at = bytes.length - 4;
  bytes.writeUInt32BE((bytes.readUInt32BE(at) ^ value) >>> 0, at);
  return bytes.toString('hex').toUpperCase();
}

/** Everything the ingestor stores from one decode. */
function storedColumns(outcome: DecodeOutcome): unknown {
  if (!outcome.ok) return { rejected: outcome.hash };
  const p: DecodedPacket = outcome.packet;
  return [p.hash, p.routeType, p.payloadType, p.payloadVersion, p.decodedJson, p.pathJson, p.channelHash, p.fromPubkey, p.scopeName];
}

describe('real-packet corpus (shared/tools/corpus)', () => {
  const ctx = productionContext('channel-byte');
  const outcomes = corpus.map((line) => decodePacket(line.raw, ctx));

  it('has 499 packets and a 296-key rainbow table', () => {
    expect(corpus).toHaveLength(499);
    expect(Object.keys(rainbow)).toHaveLength(296);
  });

  it('decodes every packet except the one with a 74-byte path, with the expected content hash', () => {
    const rejected: string[] = [];
    corpus.forEach((line, index) => {
      const outcome = outcomes[index];
      if (!outcome.ok) {
        rejected.push(line.raw.slice(0, 4).toUpperCase());
        expect(outcome.error).toMatch(/^invalid path encoding: pathByte 0x65 /);
        expect(outcome.hash, `line ${index + 1}`).toBe(line.hash);
        return;
      }
      expect(outcome.packet.hash, `line ${index + 1}`).toBe(line.hash);
      expect(outcome.packet.payloadType).toBe(line.payload_type);
      expect(() => JSON.parse(outcome.packet.decodedJson)).not.toThrow();
    });
    // decoder-spec §12: header 0xD6, path byte 0x65 (37 × 2 = 74 bytes > 64).
    expect(rejected).toEqual(['D665']);
  });

  it('decrypts channel traffic with Public and the rainbow keys, and verifies every advert', () => {
    const packets = outcomes.flatMap((o) => (o.ok ? [o.packet] : []));
    const channels = new Set(packets.filter((p) => p.payload.type === 'CHAN').map((p) => p.channelHash));
    expect(channels).toEqual(new Set(['Public', '#bot', '#chat', '#test', '#wardriving']));
    const adverts = packets.filter((p) => p.payloadType === 4);
    expect(adverts).toHaveLength(102);
    for (const advert of adverts) {
      expect(advert.advert?.signatureValid).toBe(true);
      expect(advert.decodedJson).toContain('"signatureValid":true');
      expect(advert.fromPubkey).toBe(advert.advert?.pubKey);
      expect(ingestVerdict({ ok: true, packet: advert }, ctx)).toBe('stored');
    }
  });

  it('tries channel-byte keys exactly as trying every key would (equivalence of the key-matching modes)', () => {
    const inputs = [...corpus.map((line) => line.raw), ...corpus.map((line) => xorTail(line.raw, 0x5a5a5a5a))];
    const byByte = productionContext('channel-byte');
    const everyKey = productionContext('all');
    let decrypted = 0;
    for (const raw of inputs) {
      const a = decodePacket(raw, byByte);
      const b = decodePacket(raw, everyKey);
      expect(storedColumns(a), raw).toEqual(storedColumns(b));
      if (a.ok && a.packet.payload.decryptionStatus === 'decrypted') decrypted++;
    }
    // Not vacuous: 81 of the 166 channel packets decrypt (Public, #test, #wardriving, #bot,
    // #chat); none of their XOR variants does.
    expect(decrypted).toBe(81);
  });

  it('drops every advert variant whose signed bytes were altered', () => {
    const variants = corpus.filter((line) => line.payload_type === 4).map((line) => xorTail(line.raw, 1));
    for (const raw of variants) {
      const outcome = decodePacket(raw, ctx);
      expect(outcome.ok).toBe(true);
      expect(ingestVerdict(outcome, ctx)).toBe('dropped: invalid signature');
    }
  });
});
