import { describe, expect, it } from 'vitest';
import { LruSignatureCache } from './advert-signature';
import { buildChannelKeyMap, createChannelKeyRing, createExplicitKeyRing, deriveHashtagKey, PUBLIC_CHANNEL_KEY } from './channel-keys';
import type { DecodeContext, DecodedPacket, DecodeOutcome } from './decoder.types';
import { ingestVerdict } from './ingest-verdict';
import { buildAdvertAppdata, buildChannelPacket, buildPacket, buildSignedAdvert, channelByteOf, identityFromSeed } from './packet-builders';
import { decodePacket } from './packet-decoder';

const noKeys: DecodeContext = { keyRing: createExplicitKeyRing({}), validateSignatures: false };

function decoded(outcome: DecodeOutcome): DecodedPacket {
  if (!outcome.ok) throw new Error(`rejected: ${outcome.error}`);
  return outcome.packet;
}

function advertWithName(name: Uint8Array): DecodedPacket {
  const payload = Buffer.concat([Buffer.alloc(32, 0xab), Buffer.alloc(4, 1), Buffer.alloc(64, 0xcd), Uint8Array.of(0x82), name]);
  return decoded(decodePacket(buildPacket(4, payload), noKeys));
}

describe('advert names (decoder-spec §4.5, QUIRK 5)', () => {
  it('cuts at 32 bytes; bytes of a split character become one \\ufffd escape each', () => {
    const packet = advertWithName(Buffer.from(`${'A'.repeat(30)}🌳tail`, 'utf8'));
    expect(packet.decodedJson).toContain(`"name":"${'A'.repeat(30)}\\ufffd\\ufffd"`);
    expect(packet.payload.name).toBe(`${'A'.repeat(30)}\ufffd\ufffd`);
    expect(packet.advert?.name).toBe(`${'A'.repeat(30)}\ufffd\ufffd`);
  });

  it('writes a U+FFFD that replaced an invalid input byte raw, and cuts it like any character', () => {
    const incomplete = advertWithName(Uint8Array.of(0xe2, 0x82, 0x41));
    expect(incomplete.decodedJson).toContain('"name":"\ufffd\ufffdA"'); // Go: one U+FFFD per invalid byte
    const cut = advertWithName(Buffer.concat([Buffer.from('B'.repeat(31)), Uint8Array.of(0xff)]));
    expect(cut.decodedJson).toContain(`"name":"${'B'.repeat(31)}\\ufffd"`);
  });

  it('drops C0 controls except TAB/LF and DEL before cutting, keeps emoji whole when they fit', () => {
    const packet = advertWithName(Buffer.from('\u0001Ro\u007fof\t🌳\r\nX', 'utf8'));
    expect(packet.payload.name).toBe('Roof\t🌳\nX');
    expect(packet.decodedJson).toContain('"name":"Roof\\t🌳\\nX"');
  });
});

describe('adverts end to end', () => {
  const identity = identityFromSeed(Buffer.alloc(32, 0x42));
  const production: DecodeContext = {
    keyRing: createChannelKeyRing(buildChannelKeyMap({})),
    validateSignatures: true,
    signatureCache: new LruSignatureCache(),
  };

  it('stores a signed sensor advert with its telemetry', () => {
    const raw = buildSignedAdvert(identity, 1_750_000_000, { nodeType: 4, lat: 1.5, lon: -2.25, name: 'Hive', batteryMv: 3900, temperatureRaw: -1234 });
    const packet = decoded(decodePacket(raw, production));
    expect(packet.advert).toEqual({
      pubKey: identity.publicKey.toString('hex'),
      name: 'Hive',
      lat: 1.5,
      lon: -2.25,
      flagsType: 4,
      role: 'sensor',
      batteryMv: 3900,
      temperatureC: -12.34,
      signatureValid: true,
      timestamp: 1_750_000_000,
    });
    expect(packet.decodedJson).toContain('"signatureValid":true,"flags":{"raw":148,"type":4,');
    expect(packet.decodedJson).toMatch(/"lat":1.5,"lon":-2.25,"name":"Hive","battery_mv":3900,"temperature_c":-12.34}$/);
    expect(packet.fromPubkey).toBe(identity.publicKey.toString('hex'));
    expect(ingestVerdict({ ok: true, packet }, production)).toBe('stored');
  });

  it('runs the advert check before the signature drop', () => {
    const raw = buildSignedAdvert(identity, 1, { nodeType: 2, lat: 91, lon: 0, name: 'Far' });
    const outcome = decodePacket(raw, production);
    expect(ingestVerdict(outcome, production)).toBe('skipped: invalid lat: 91.000000');
    const forged = `${raw.slice(0, -2)}00`;
    expect(ingestVerdict(decodePacket(forged, production), production)).toBe('skipped: invalid lat: 91.000000');
    const forgedInRange = buildSignedAdvert(identity, 1, { nodeType: 2, name: 'Near' }).replace(/4E656172$/, '4E656173');
    expect(ingestVerdict(decodePacket(forgedInRange, production), production)).toBe('dropped: invalid signature');
    expect(ingestVerdict(decodePacket(forgedInRange, noKeys), noKeys)).toBe('stored');
  });

  it('stores a short advert as a plain packet without node data', () => {
    const packet = decoded(decodePacket(buildPacket(4, Buffer.alloc(99, 1)), production));
    expect(packet.decodedJson).toBe(`{"type":"ADVERT","raw":"${'01'.repeat(99)}","error":"too short for advert"}`);
    expect(packet.advert).toBeUndefined();
    expect(packet.fromPubkey).toBeNull();
    expect(ingestVerdict({ ok: true, packet }, production)).toBe('stored');
  });

  it('gives a 100-byte advert (no appdata) the companion role and no flags', () => {
    const raw = buildSignedAdvert(identity, 7, new Uint8Array(0));
    const packet = decoded(decodePacket(raw, production));
    expect(packet.advert).toEqual({ pubKey: identity.publicKey.toString('hex'), name: '', role: 'companion', signatureValid: true, timestamp: 7 });
    expect(packet.decodedJson.endsWith('"signatureValid":true}')).toBe(true);
  });

  it('reads feat1/feat2 but writes them after the name (master order)', () => {
    const raw = buildSignedAdvert(identity, 7, buildAdvertAppdata({ nodeType: 1, feat1: 513, feat2: 0, name: 'F' }));
    expect(decoded(decodePacket(raw, production)).decodedJson).toMatch(/"hasName":true},"name":"F","feat1":513,"feat2":0}$/);
  });
});

describe('channel keys at decode time (decoder-spec §7)', () => {
  const fooKey = deriveHashtagKey('#foo');
  const fooByte = channelByteOf(fooKey);
  const rainbowRing = createChannelKeyRing(buildChannelKeyMap({ rainbow: { '#foo': fooKey } }));
  const production: DecodeContext = { keyRing: rainbowRing, validateSignatures: true };

  it('decrypts a rainbow channel when the packet carries the key’s channel byte', () => {
    const packet = decoded(decodePacket(buildChannelPacket({ keyHex: fooKey, text: 'Ann: hello', timestamp: 5 }), production));
    expect(packet.decodedJson).toBe(
      `{"type":"CHAN","channelHash":${fooByte},"channelHashHex":"${fooByte.toString(16).toUpperCase().padStart(2, '0')}","decryptionStatus":"decrypted","channel":"#foo","text":"Ann: hello","sender":"Ann","sender_timestamp":5}`,
    );
    expect(packet.channelHash).toBe('#foo');
  });

  it('tries rainbow keys only on their own channel byte, explicit keys (and "all" mode) on any byte', () => {
    const raw = buildChannelPacket({ keyHex: fooKey, text: 'Ann: hello', channelByte: (fooByte + 1) & 0xff });
    expect(decoded(decodePacket(raw, production)).payload.decryptionStatus).toBe('decryption_failed');
    const explicit = createChannelKeyRing(buildChannelKeyMap({ channelKeys: { '#foo': fooKey } }));
    expect(decoded(decodePacket(raw, { ...production, keyRing: explicit })).channelHash).toBe('#foo');
    const all = createChannelKeyRing(buildChannelKeyMap({ rainbow: { '#foo': fooKey } }), { keyMatching: 'all' });
    expect(decoded(decodePacket(raw, { ...production, keyRing: all })).channelHash).toBe('#foo');
  });

  it('splits the sender on byte offsets: an emoji counts 4 bytes', () => {
    const ctx = { ...noKeys, keyRing: createExplicitKeyRing({ Public: PUBLIC_CHANNEL_KEY }) };
    const twelve = decoded(decodePacket(buildChannelPacket({ keyHex: PUBLIC_CHANNEL_KEY, text: `${'😀'.repeat(12)}: hi` }), ctx));
    expect(twelve.payload.sender).toBe('😀'.repeat(12)); // ": " at byte 48
    const thirteen = decoded(decodePacket(buildChannelPacket({ keyHex: PUBLIC_CHANNEL_KEY, text: `${'😀'.repeat(13)}: hi` }), ctx));
    // ": " at byte 52 (UTF-16 index 26): no sender
    expect(thirteen.decodedJson).toMatch(new RegExp(`"text":"${'😀'.repeat(13)}: hi","sender_timestamp":1700000000}$`));
  });

  it('reports GRP_DATA under the key name as loaded and never sets channel_hash', () => {
    const ctx = { ...noKeys, keyRing: createExplicitKeyRing({ public: PUBLIC_CHANNEL_KEY }) };
    const inner = Uint8Array.of(0x34, 0x12, 2, 0xaa, 0xbb);
    const packet = decoded(decodePacket(buildChannelPacket({ keyHex: PUBLIC_CHANNEL_KEY, text: inner, data: true }), ctx));
    expect(packet.decodedJson).toBe(
      '{"type":"GRP_DATA","channelHash":17,"channelHashHex":"11","decryptionStatus":"decrypted","channel":"public","dataType":4660,"dataLen":2,"decryptedBlob":"aabb"}',
    );
    expect(packet.channelHash).toBeNull();
  });

  it('skips keys whose ciphertext is not whole AES blocks', () => {
    const ctx = { ...noKeys, keyRing: createExplicitKeyRing({ Public: PUBLIC_CHANNEL_KEY }) };
    const raw = buildChannelPacket({ keyHex: PUBLIC_CHANNEL_KEY, text: 'Bob: hi' });
    const packet = decoded(decodePacket(`${raw}00`, ctx));
    expect(packet.payload.decryptionStatus).toBe('decryption_failed');
    expect(packet.channelHash).toBe('enc_11');
  });
});

describe('framing and raw-string quirks (decoder-spec §1, §3, §11)', () => {
  it('accepts a 64-byte path and rejects 66 bytes', () => {
    expect(decodePacket(buildPacket(2, Buffer.alloc(4), { pathByte: 0x60, path: Buffer.alloc(64, 0x11) }), noKeys).ok).toBe(true);
    expect(decodePacket(buildPacket(2, Buffer.alloc(4), { pathByte: 0x61, path: Buffer.alloc(66, 0x11) }), noKeys).ok).toBe(false);
  });

  it('treats a tab as a hex error but strips spaces, CR and LF', () => {
    const outcome = decodePacket('0A00D69F\tD7A5A7', noKeys);
    expect(outcome).toEqual({ ok: false, hash: '0A00D69F\tD7A5A7', error: "invalid hex: encoding/hex: invalid byte: U+0009" });
    expect(decodePacket('0A00 D69F\r\nD7A5A7', noKeys).ok).toBe(true);
  });

  it('keeps TRACE route hops in path_json even when the raw string had whitespace', () => {
    const packet = decoded(decodePacket('26022F F8116A23A8 0000000001C0DE1000DEDE', noKeys));
    expect(packet.pathJson).toBe('["C0DE","1000","DEDE"]');
    expect(packet.hash).toBe('26022F F8116A23A');
    const plain = decoded(decodePacket('0502 AABB 00000000', noKeys));
    expect(plain.pathJson).toBe('[]');
    expect(plain.path.hops).toEqual(['AA', 'BB']);
  });

  it('cuts TRACE routes into 8-byte hops for flags 3 and drops a partial hop', () => {
    const payload = Buffer.concat([Buffer.alloc(8), Uint8Array.of(3), Buffer.alloc(8, 0xab), Buffer.alloc(3, 0xcd)]);
    const packet = decoded(decodePacket(buildPacket(9, payload, { routeType: 2, path: Uint8Array.of(0xfc) }), noKeys));
    expect(packet.path).toEqual({ hashSize: 8, hashCount: 1, hops: ['AB'.repeat(8)], hopsCompleted: 1 });
    expect(packet.decodedJson).toBe(`{"type":"TRACE","pathData":"${'ab'.repeat(8)}cdcdcd","snrValues":[-1],"traceFlags":3}`);
  });

  it('keeps the raw string exactly as received', () => {
    expect(decoded(decodePacket('0a00d69fd7a5a7', noKeys)).raw).toBe('0a00d69fd7a5a7');
  });
});
