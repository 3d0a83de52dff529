import { describe, expect, it } from 'vitest';
import { PAYLOAD_KEY_ORDER, quoteGoBytes, quoteGoString, serializePayload } from './go-json';

describe('quoteGoString (Go 1.22 json.Marshal of a string)', () => {
  it.each([
    ['plain', '"plain"'],
    ['say "hi" \\ bye', '"say \\"hi\\" \\\\ bye"'],
    ['<R&D>', '"\\u003cR\\u0026D\\u003e"'],
    ['a\u2028b\u2029c', '"a\\u2028b\\u2029c"'],
    ['\b\f\n\r\t', '"\\b\\f\\n\\r\\t"'],
    ['\u0001\u001f\u000b', '"\\u0001\\u001f\\u000b"'],
    ['del\u007f', '"del\u007f"'],
    ['PEAK🌳 é', '"PEAK🌳 é"'],
    ['\ufffd', '"\ufffd"'],
    ['', '""'],
  ])('%j → %s', (input, expected) => {
    expect(quoteGoString(input)).toBe(expected);
  });
});

describe('quoteGoBytes (a Go string that may hold invalid UTF-8)', () => {
  const bytes = (...values: number[]) => Uint8Array.from(values);

  it('writes one \\ufffd per byte that does not start a valid sequence', () => {
    expect(quoteGoBytes(bytes(0x41, 0xe2, 0x82))).toBe('"A\\ufffd\\ufffd"'); // cut 3-byte character
    expect(quoteGoBytes(bytes(0xf0, 0x9f, 0x8c))).toBe('"\\ufffd\\ufffd\\ufffd"'); // cut emoji
    expect(quoteGoBytes(bytes(0xc0, 0x80))).toBe('"\\ufffd\\ufffd"'); // overlong
    expect(quoteGoBytes(bytes(0xed, 0xa0, 0x80))).toBe('"\\ufffd\\ufffd\\ufffd"'); // surrogate
    expect(quoteGoBytes(bytes(0xf4, 0x90, 0x80, 0x80))).toBe('"\\ufffd\\ufffd\\ufffd\\ufffd"'); // > U+10FFFF
    expect(quoteGoBytes(bytes(0xe2, 0x41))).toBe('"\\ufffdA"');
  });

  it('writes a valid U+FFFD raw and escapes like quoteGoString otherwise', () => {
    expect(quoteGoBytes(bytes(0xef, 0xbf, 0xbd))).toBe('"\ufffd"');
    const text = 'a<b>&"\\\t\u0001\u2028🌳\u007f';
    expect(quoteGoBytes(Buffer.from(text, 'utf8'))).toBe(quoteGoString(text));
  });
});

describe('serializePayload (decoder-spec §4.1)', () => {
  it('writes keys in the master order whatever the insertion order', () => {
    const json = serializePayload({ encryptedData: 'ff', mac: 'aabb', type: 'TXT_MSG', srcHash: '02', destHash: '01' });
    expect(json).toBe('{"type":"TXT_MSG","destHash":"01","srcHash":"02","mac":"aabb","encryptedData":"ff"}');
    expect(serializePayload({ ctrlSNR: -16, ctrlNodeType: 1, ctrlTag: 7, type: 'CONTROL' })).toBe(
      '{"type":"CONTROL","ctrlTag":7,"ctrlNodeType":1,"ctrlSNR":-16}',
    );
  });

  it('applies the S, N, P and L omission rules', () => {
    expect(serializePayload({ type: 'X', mac: '', timestamp: 0, ackLen: 0, signatureValid: false, snrValues: [] })).toBe(
      '{"type":"X","ackLen":0,"signatureValid":false}',
    );
    expect(serializePayload({ type: 'X', channelHash: 0, channelHashHex: '00' })).toBe('{"type":"X","channelHashHex":"00"}');
    expect(serializePayload({ type: 'X', tag: 5, snrValues: [11.75, -2, 0] })).toBe('{"type":"X","snrValues":[11.75,-2,0],"tag":5}');
    expect(serializePayload({ type: 'X', lat: undefined, name: undefined })).toBe('{"type":"X"}');
  });

  it('writes floats in the shortest round-trip form without exponent', () => {
    expect(serializePayload({ type: 'A', lat: 37, lon: -122.1, temperature_c: 28.5 })).toBe(
      '{"type":"A","lat":37,"lon":-122.1,"temperature_c":28.5}',
    );
    expect(serializePayload({ type: 'A', lat: 0.000001, lon: -2147.483648 })).toBe('{"type":"A","lat":0.000001,"lon":-2147.483648}');
    expect(serializePayload({ type: 'A', lat: 37.658604 })).toBe('{"type":"A","lat":37.658604}');
  });

  it('writes nested objects in their own order with nothing omitted', () => {
    const flags = { raw: 0, type: 0, chat: false, hasName: false };
    expect(serializePayload({ type: 'ADVERT', flags })).toBe('{"type":"ADVERT","flags":{"raw":0,"type":0,"chat":false,"hasName":false}}');
  });

  it('serialises byte strings with invalid UTF-8 per Go', () => {
    expect(serializePayload({ type: 'ADVERT', name: Uint8Array.from([0x58, 0xf0, 0x9f]) })).toBe('{"type":"ADVERT","name":"X\\ufffd\\ufffd"}');
    expect(serializePayload({ type: 'ADVERT', name: new Uint8Array(0) })).toBe('{"type":"ADVERT"}');
  });

  it('escapes HTML characters in values', () => {
    expect(serializePayload({ type: 'CHAN', text: 'Ann: <3 & more >' })).toBe(
      '{"type":"CHAN","text":"Ann: \\u003c3 \\u0026 more \\u003e"}',
    );
  });

  it('falls back to {} for NaN or infinite numbers, as Go’s PayloadJSON does', () => {
    expect(serializePayload({ type: 'A', lat: Number.NaN })).toBe('{}');
    expect(serializePayload({ type: 'A', lon: Number.POSITIVE_INFINITY })).toBe('{}');
  });

  it('rejects keys outside the schema', () => {
    expect(() => serializePayload({ type: 'A', bogus: 1 })).toThrow(/bogus/);
  });

  it('lists the 60 keys of the master table once each', () => {
    expect(PAYLOAD_KEY_ORDER).toHaveLength(60);
    expect(new Set(PAYLOAD_KEY_ORDER.map(([key]) => key)).size).toBe(60);
    expect(PAYLOAD_KEY_ORDER[0]).toEqual(['type', 'S']);
    expect(PAYLOAD_KEY_ORDER[59]).toEqual(['firstByteTag', 'S']);
  });
});
