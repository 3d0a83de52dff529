import { describe, expect, it } from 'vitest';
import { maskBrokerUrl, maskDatabaseUrl, SecretMasker } from './mask-broker-url';

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

describe('maskDatabaseUrl', () => {
  it.each([
    ['postgres://user:pass@host/db', 'postgres://user:****@host/db'],
    ['postgresql://user:pass@host:5432/db?sslmode=require', 'postgresql://user:****@host:5432/db?sslmode=require'],
    ['POSTGRES://u:p@ss@host/db', 'POSTGRES://u:****@host/db'],
    ['postgres://user@host/db?password=pass&sslmode=require', 'postgres://user@host/db?password=****&sslmode=require'],
    [
      'postgres://user:pass@host/db?application_name=x&password=pass',
      'postgres://user:****@host/db?application_name=x&password=****',
    ],
    ['postgres://user@host/db', 'postgres://user@host/db'],
    ['', ''],
  ])('%s → %s', (input, expected) => {
    expect(maskDatabaseUrl(input)).toBe(expected);
  });

  it('masks PostgreSQL and broker URLs inside free text', () => {
    expect(maskDatabaseUrl('db postgres://a:pw1@h/db?password=pw2 down, broker mqtt://b:pw3@m:1883 up')).toBe(
      'db postgres://a:****@h/db?password=**** down, broker mqtt://b:****@m:1883 up',
    );
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

  it('masks PostgreSQL URLs in log text, the query-parameter password included', () => {
    expect(new SecretMasker().mask('open postgresql://u:pw@db/x?password=pw failed')).toBe(
      'open postgresql://u:****@db/x?password=**** failed',
    );
  });
});
