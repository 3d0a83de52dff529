import { describe, expect, it } from 'vitest';
import {
  buildChannelKeyMap,
  createChannelKeyRing,
  deriveHashtagKey,
  explicitChannelKeyMap,
  hashChannelName,
  normalizeChannelName,
  PUBLIC_CHANNEL_KEY,
} from './channel-keys';
import type { ChannelKeyMap } from './decoder.types';

const K1 = '11111111111111111111111111111111';
const K2 = '22222222222222222222222222222222';
const K3 = '33333333333333333333333333333333';

function keysOf(map: ChannelKeyMap): Record<string, string> {
  return Object.fromEntries([...map].map(([name, entry]) => [name, entry.key]));
}

describe('deriveHashtagKey (TestDeriveHashtagChannelKey)', () => {
  it('is SHA-256 of the #name, first 16 bytes, lower-case hex', () => {
    expect(deriveHashtagKey('#test')).toBe('9cd8fcf22a47333b591d96a2b848b73f');
    expect(deriveHashtagKey('#test')).toHaveLength(32);
    expect(deriveHashtagKey('test')).not.toBe(deriveHashtagKey('#test'));
  });
});

describe('normalizeChannelName (normalize_channel_test.go)', () => {
  it.each([
    ['public', 'Public'],
    ['PUBLIC', 'Public'],
    ['pUbLiC', 'Public'],
    ['Public', 'Public'],
    ['#public', '#public'],
    ['publics', 'publics'],
    ['MyChannel', 'MyChannel'],
    ['#test', '#test'],
    ['publıc', 'publıc'], // dotless i is not a case variant
  ])('%s → %s', (input, expected) => {
    expect(normalizeChannelName(input)).toBe(expected);
  });
});

describe('buildChannelKeyMap (ingestor-spec §3.9)', () => {
  it('always holds the built-in Public key (BuiltinPublic)', () => {
    const map = buildChannelKeyMap({});
    expect(keysOf(map)).toEqual({ Public: PUBLIC_CHANNEL_KEY });
    expect(map.get('Public')?.origin).toBe('builtin');
  });

  it('layers builtin < rainbow < hashChannels < channelKeys (MergePriority)', () => {
    const lines: string[] = [];
    const map = buildChannelKeyMap(
      {
        rainbow: { '#a': K1, '#b': K1, '#c': K1 },
        rainbowPath: '/etc/rainbow.json',
        hashChannels: ['b', 'c'],
        channelKeys: { '#c': K3, '#d': K2 },
      },
      (line) => lines.push(line),
    );
    expect(keysOf(map)).toEqual({ Public: PUBLIC_CHANNEL_KEY, '#a': K1, '#b': deriveHashtagKey('#b'), '#c': K3, '#d': K2 });
    expect([...map].map(([name, entry]) => `${name}:${entry.origin}`)).toEqual([
      'Public:builtin',
      '#a:rainbow',
      '#b:hashChannel',
      '#c:explicit',
      '#d:explicit',
    ]);
    expect(lines).toEqual(['Loaded 3 channel keys from /etc/rainbow.json', '[channels] 1 derived from hashChannels']);
  });

  it('trims hashChannels, prepends # and skips empty entries (HashChannelsNormalization)', () => {
    const map = buildChannelKeyMap({ hashChannels: ['  test ', '#wardriving', '', '   ', 'bot'] });
    expect([...map.keys()]).toEqual(['Public', '#test', '#wardriving', '#bot']);
    expect(map.get('#test')?.key).toBe('9cd8fcf22a47333b591d96a2b848b73f');
    expect(hashChannelName(' x ')).toBe('#x');
    expect(hashChannelName(' ')).toBeNull();
  });

  it('skips a hashChannel whose name channelKeys defines (SkipExplicit)', () => {
    const lines: string[] = [];
    const map = buildChannelKeyMap({ hashChannels: ['secret'], channelKeys: { '#secret': K2 } }, (line) => lines.push(line));
    expect(map.get('#secret')).toEqual({ key: K2, origin: 'explicit' });
    expect(lines).toEqual([]);
  });

  it('lets the canonical Public name override the built-in key (BuiltinOverridable)', () => {
    const map = buildChannelKeyMap({ channelKeys: { Public: K1 } });
    expect(map.get('Public')).toEqual({ key: K1, origin: 'explicit' });
    expect(map.size).toBe(1);
  });

  it('never lets a non-canonical spelling replace an existing entry (QUIRK), and warns', () => {
    const warnings: string[] = [];
    const log = (line: string, level?: 'log' | 'warn') => {
      if (level === 'warn') warnings.push(line);
    };
    expect(buildChannelKeyMap({ channelKeys: { public: K1 } }, log).get('Public')?.key).toBe(PUBLIC_CHANNEL_KEY);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('"public"');
  });

  it('keeps the canonical key on duplicates whatever the order', () => {
    expect(buildChannelKeyMap({ channelKeys: { public: K2, Public: K1 } }).get('Public')?.key).toBe(K1);
    expect(buildChannelKeyMap({ channelKeys: { Public: K1, PUBLIC: K2 } }).get('Public')?.key).toBe(K1);
  });

  it('leaves custom names untouched', () => {
    const map = buildChannelKeyMap({ channelKeys: { MyChannel: K1, '#Mixed Case': K2 } });
    expect([...map.keys()]).toEqual(['Public', 'MyChannel', '#Mixed Case']);
  });
});

describe('channel key ring', () => {
  it('indexes builtin/rainbow/hashChannel keys by channel byte and tries explicit keys everywhere', () => {
    const map = buildChannelKeyMap({ rainbow: { '#wardriving': deriveHashtagKey('#wardriving') }, hashChannels: ['bot'], channelKeys: { mine: K1 } });
    const ring = createChannelKeyRing(map);
    expect(ring.keyCount).toBe(4);
    // Channel bytes from decoder-spec §7.1.
    expect(ring.candidatesFor(0x11).map((k) => k.name)).toEqual(['Public', 'mine']);
    expect(ring.candidatesFor(0x81).map((k) => k.name)).toEqual(['#wardriving', 'mine']);
    expect(ring.candidatesFor(0xca).map((k) => k.name)).toEqual(['#bot', 'mine']);
    expect(ring.candidatesFor(0x00).map((k) => k.name)).toEqual(['mine']);
  });

  it('knows the channel bytes of the well-known channels', () => {
    const ring = createChannelKeyRing(buildChannelKeyMap({ hashChannels: ['test', 'wardriving', 'bot', 'chat'] }), { keyMatching: 'all' });
    const bytes = Object.fromEntries(ring.candidatesFor(0).map((k) => [k.name, k.channelByte]));
    expect(bytes).toEqual({ Public: 0x11, '#test': 0xd9, '#wardriving': 0x81, '#bot': 0xca, '#chat': 0xb8 });
  });

  it("tries every key on every byte in 'all' mode, in map order", () => {
    const ring = createChannelKeyRing(buildChannelKeyMap({ rainbow: { a: K1, b: K2 } }), { keyMatching: 'all' });
    for (const byte of [0, 0x11, 0xff]) expect(ring.candidatesFor(byte).map((k) => k.name)).toEqual(['Public', 'a', 'b']);
  });

  it('counts but never tries malformed keys', () => {
    const ring = createChannelKeyRing(explicitChannelKeyMap({ short: 'abcd', odd: `${K1}0`, nonhex: 'zz'.repeat(16), good: K2 }));
    expect(ring.keyCount).toBe(4);
    expect(ring.candidatesFor(0).map((k) => k.name)).toEqual(['good']);
  });

  it('precomputes the HMAC secret as key ‖ 16 zero bytes and keeps the display name normalised', () => {
    const [prepared] = createChannelKeyRing(explicitChannelKeyMap({ public: K1.toUpperCase() })).candidatesFor(0);
    expect(prepared.hmacSecret.toString('hex')).toBe(`${K1}${'00'.repeat(16)}`);
    expect(prepared.key.toString('hex')).toBe(K1);
    expect(prepared.name).toBe('public');
    expect(prepared.displayName).toBe('Public');
    expect(prepared.triedOnEveryPacket).toBe(true);
  });
});
