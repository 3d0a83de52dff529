import { describe, expect, it } from 'vitest';
import { maskBrokerUrl, SecretMasker } from './mask-broker-url';

describe('maskBrokerUrl (ingestor-spec §6.3 examples)', () => {
  it.each([
    ['mqtt://u:secret@broker.example.com:1883', 'mqtt://u:****@broker.example.com:1883'],
    ['ssl://u:p@host:8883', 'ssl://u:****@host:8883'],
    ['ws://u:p@host:8080/mqtt', 'ws://u:****@host:8080/mqtt'],
    ['MQTT://u:p@host:1883', 'MQTT://u:****@host:1883'],
    ['mqtt://user:p@ss@wo@host:1883', 'mqtt://user:****@host:1883'],
    ['mqtt://broker.example.com:1883', 'mqtt://broker.example.com:1883'],
    ['host:1883', 'host:1883'],
    ['', ''],
    ['mqtt://user@host', 'mqtt://user@host'],
    ['tcp://u:@host:1883', 'tcp://u:****@host:1883'],
    ['wss://a%40b:pw@host/mqtt', 'wss://a@b:****@host/mqtt'],
  ])('%s → %s', (input, expected) => {
    expect(maskBrokerUrl(input)).toBe(expected);
  });

  it('masks every URL inside free text and leaves the rest', () => {
    const text = 'dial tcp://alice:hunter2@10.0.0.1:1883 failed; fallback mqtts://bob:pw@b:8883 also; http://x:y@z ok';
    expect(maskBrokerUrl(text)).toBe(
      'dial tcp://alice:****@10.0.0.1:1883 failed; fallback mqtts://bob:****@b:8883 also; http://x:y@z ok',
    );
  });

  it('masks a password with invalid %-escapes too (stricter than the reference)', () => {
    expect(maskBrokerUrl('see mqtt://u:p%zz@host now')).toBe('see mqtt://u:****@host now');
  });
});

describe('SecretMasker', () => {
  it('masks registered secrets anywhere in the text, plus URLs', () => {
    const masker = new SecretMasker();
    masker.register('s3cr3t-pass');
    expect(masker.mask('auth failed for s3cr3t-pass via mqtt://u:other@h:1')).toBe(
      'auth failed for **** via mqtt://u:****@h:1',
    );
  });
});
