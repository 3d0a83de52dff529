import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { computeContentHash, decodeHexStrict, fallbackHash } from './content-hash';

describe('computeContentHash (decoder-spec §5)', () => {
  it.each([
    ['0A00D69FD7A5A7475DB07337749AE61FA53A4788E976', 'b1f07307cbc01ce5'],
    ['2502AABBDEADBEEF', 'b1baaf3bf0d0726c'],
    ['0900D69FD7A5A7', '53994806c0aa1167'],
    ['0A00D69FD7A5A7', '53994806c0aa1167'],
  ])('golden value %s → %s', (raw, hash) => {
    expect(computeContentHash(raw)).toBe(hash);
  });

  it('ignores case, route type, version bits, transport codes and (non-TRACE) path', () => {
    const base = computeContentHash('0A00D69FD7A5A7');
    expect(computeContentHash('0a00d69fd7a5a7')).toBe(base);
    expect(computeContentHash('CA00D69FD7A5A7')).toBe(base); // version 3
    expect(computeContentHash('0B1122334400D69FD7A5A7')).toBe(base); // TRANSPORT_DIRECT
    expect(computeContentHash('0942AABBCCDDD69FD7A5A7')).toBe(base); // two 2-byte hops
  });

  it('includes the path byte for TRACE only', () => {
    expect(computeContentHash('2601AADEADBEEF')).toBe('fadfe66622612ad6');
    expect(computeContentHash('2602AABBDEADBEEF')).not.toBe(computeContentHash('2601AADEADBEEF'));
  });

  it('does not validate the path encoding (hash size 4 is hashed)', () => {
    expect(computeContentHash(`12F6${'AB'.repeat(216)}${'CD'.repeat(8)}`)).toBe('66f4470a35762088');
  });

  it.each([
    ['0A 00 D6 9F D7 A5 A7 47 5D B0', '0A 00 D6 9F D7 A'], // whitespace: as received, not stripped
    ['0A00\nD69F\nD7A5A7475D', '0A00\nD69F\nD7A5A7'],
    ['ZZZZ', 'ZZZZ'],
    ['0A00D', '0A00D'],
    ['FF', 'FF'], // fewer than 2 bytes
    ['1400', '1400'], // transport route without a path byte
    ['053FAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', '053FAAAAAAAAAAAA'], // path past the end
    ['', ''],
  ])('falls back to the first 16 characters: %j', (raw, hash) => {
    expect(computeContentHash(raw)).toBe(hash);
  });

  it('cuts a non-ASCII fallback at 16 UTF-8 bytes like Go', () => {
    expect(fallbackHash('ééééééééé')).toBe('éééééééé');
    expect(fallbackHash('aéééééééé')).toBe('aééééééé\ufffd');
  });

  it('agrees with the load tools’ independent implementation on every corpus packet and variant', async () => {
    const tools = resolve(__dirname, '../../../../shared/tools');
    const { contentHash } = (await import(pathToFileURL(resolve(tools, 'lib/packet.mjs')).href)) as {
      contentHash: (raw: string) => string;
    };
    const { loadCorpus } = (await import(pathToFileURL(resolve(tools, 'lib/generator.mjs')).href)) as {
      loadCorpus: (file: string) => { raw: string }[];
    };
    const packets = loadCorpus(resolve(tools, 'corpus/real-packets.jsonl'));
    expect(packets.length).toBeGreaterThan(490);
    for (const { raw } of packets) {
      expect(computeContentHash(raw)).toBe(contentHash(raw));
      expect(computeContentHash(raw.toUpperCase())).toBe(contentHash(raw));
    }
  });
});

describe('decodeHexStrict', () => {
  it('accepts either case and rejects odd lengths and non-hex characters', () => {
    expect(decodeHexStrict('0aFF')).toEqual(Buffer.from([0x0a, 0xff]));
    expect(decodeHexStrict('')).toEqual(Buffer.alloc(0));
    expect(decodeHexStrict('0aF')).toBeNull();
    expect(decodeHexStrict('0aFG')).toBeNull();
    expect(decodeHexStrict('0a\tF')).toBeNull();
    expect(decodeHexStrict('0a F')).toBeNull();
  });
});
