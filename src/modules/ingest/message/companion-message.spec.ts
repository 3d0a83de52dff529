import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildCompanionMessage } from './companion-message';

const NOW = Date.parse('2026-07-18T09:47:37.400Z');
const sha16 = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16);

describe('buildCompanionMessage (TestHandleMessageChannelMessage / DirectMessage)', () => {
  it('builds a channel message; channel_idx overrides the topic index', () => {
    const t = buildCompanionMessage('channel', '2', { text: 'Alice: hello <there>', channel_idx: 3, sender_timestamp: 1700000000 }, NOW)!;
    expect(t.decodedJson).toBe(
      '{"channel":"ch3","sender":"Alice","sender_timestamp":1700000000,"text":"Alice: hello \\u003cthere\\u003e","type":"CHAN"}',
    );
    expect(t.hash).toBe(sha16('ch:3:Alice: hello <there>:2026-07-18T09:47:37Z'));
    expect(t.channelHash).toBe('ch3');
    expect(t.payloadType).toBe(5);
  });

  it('uses the topic index without channel_idx and has no sender without ": " (NoSender)', () => {
    const t = buildCompanionMessage('channel', '7', { text: 'just text' }, NOW)!;
    expect(t.decodedJson).toBe('{"channel":"ch7","sender":"","text":"just text","type":"CHAN"}');
  });

  it('rejects a sender of 50 bytes or more (LongSender), counting bytes', () => {
    expect(buildCompanionMessage('channel', '1', { text: `${'x'.repeat(49)}: hi` }, NOW)!.sender).toBe('x'.repeat(49));
    expect(buildCompanionMessage('channel', '1', { text: `${'x'.repeat(50)}: hi` }, NOW)!.sender).toBe('');
    expect(buildCompanionMessage('channel', '1', { text: `${'é'.repeat(25)}: hi` }, NOW)!.sender).toBe('');
  });

  it('ignores empty or non-string text (EmptyText)', () => {
    expect(buildCompanionMessage('channel', '1', { text: '' }, NOW)).toBeUndefined();
    expect(buildCompanionMessage('direct', '', { text: 5 }, NOW)).toBeUndefined();
  });

  it('builds a direct message', () => {
    const t = buildCompanionMessage('direct', '', { text: 'Bob: yo', sender_timestamp: 'x' }, NOW)!;
    expect(t.decodedJson).toBe('{"sender":"Bob","sender_timestamp":"x","text":"Bob: yo","type":"DM"}');
    expect(t.hash).toBe(sha16('dm:Bob: yo:2026-07-18T09:47:37Z'));
    expect(t.channelHash).toBeNull();
    expect(t.payloadType).toBe(2);
  });
});
