import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Global, Logger, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { APP_CONFIG, type AppConfig } from '../../config/config.types';
import { DecoderModule } from './decoder.module';
import { createDecodeContext, createExplicitKeysContext } from './decode-context';
import { DecoderService } from './decoder.service';
import { buildChannelPacket, buildPacket } from './packet-builders';
import { deriveHashtagKey, PUBLIC_CHANNEL_KEY } from './channel-keys';
import * as api from './index';

const dir = mkdtempSync(join(tmpdir(), 'decoder-service-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configWith(overrides: Partial<AppConfig>): AppConfig {
  return {
    channelKeysPath: join(dir, 'missing.json'),
    channelKeys: {},
    hashChannels: [],
    hashRegions: [],
    validateSignatures: true,
    ...overrides,
  } as AppConfig;
}

describe('DecoderService', () => {
  let logs: string[];
  let warnings: string[];
  beforeEach(() => {
    logs = [];
    warnings = [];
    vi.spyOn(Logger.prototype, 'log').mockImplementation((message: unknown) => void logs.push(String(message)));
    vi.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => void warnings.push(String(message)));
  });
  afterEach(() => vi.restoreAllMocks());

  it('loads only the built-in Public key when the rainbow file is missing, silently', () => {
    const service = new DecoderService(configWith({}));
    expect([...service.channelKeys.keys()]).toEqual(['Public']);
    expect(logs).toContain('Loaded 1 channel keys for GRP_TXT decryption');
    expect(warnings).toEqual([]);
    expect(service.context.validateSignatures).toBe(true);
  });

  it('layers rainbow file, hashChannels and channelKeys, and decrypts with them', () => {
    const path = join(dir, 'rainbow.json');
    writeFileSync(path, JSON.stringify({ '#foo': deriveHashtagKey('#foo'), '#bar': deriveHashtagKey('#bar') }));
    const service = new DecoderService(configWith({ channelKeysPath: path, hashChannels: ['baz'], channelKeys: { mine: '11'.repeat(16) } }));
    expect([...service.channelKeys.keys()]).toEqual(['Public', '#foo', '#bar', '#baz', 'mine']);
    expect(logs).toContain(`Loaded 2 channel keys from ${path}`);
    expect(logs).toContain('[channels] 1 derived from hashChannels');
    expect(logs).toContain('Loaded 5 channel keys for GRP_TXT decryption');
    const outcome = service.decode(buildChannelPacket({ keyHex: deriveHashtagKey('#bar'), text: 'Al: yo' }));
    expect(outcome.ok && outcome.packet.channelHash).toBe('#bar');
  });

  it.each([
    ['not json {', 'could not parse'],
    ['["a"]', 'could not parse'],
    ['{"#x": 5}', 'could not parse'],
  ])('warns and carries on when the rainbow file is %j', (content, warning) => {
    const path = join(dir, 'bad.json');
    writeFileSync(path, content);
    const service = new DecoderService(configWith({ channelKeysPath: path }));
    expect([...service.channelKeys.keys()]).toEqual(['Public']);
    expect(warnings.some((line) => line.includes(warning) && line.includes(path))).toBe(true);
  });

  it('builds region keys from hashRegions', () => {
    const service = new DecoderService(configWith({ hashRegions: ['Europe', ''] }));
    expect(service.context.regionKeys?.map((k) => k.name)).toEqual(['#Europe']);
  });

  it('createExplicitKeysContext replaces the map entirely (no built-in Public)', () => {
    const ctx = createExplicitKeysContext({ '#foo': deriveHashtagKey('#foo') }, { validateSignatures: false });
    expect(ctx.keyRing.keyCount).toBe(1);
    const publicPacket = buildChannelPacket({ keyHex: PUBLIC_CHANNEL_KEY, text: 'Bob: hi' });
    const outcome = new DecoderService(configWith({})).decode(publicPacket);
    expect(outcome.ok && outcome.packet.channelHash).toBe('Public');
    const explicitOnly = createDecodeContext(new Map(), { validateSignatures: false, signatureCacheSize: 0 });
    expect(explicitOnly.signatureCache).toBeUndefined();
    expect(explicitOnly.keyRing.keyCount).toBe(0);
  });

  it('is provided by DecoderModule with the globally provided APP_CONFIG', async () => {
    @Global()
    @Module({ providers: [{ provide: APP_CONFIG, useValue: configWith({ validateSignatures: false }) }], exports: [APP_CONFIG] })
    class FakeConfigModule {}
    const moduleRef = await Test.createTestingModule({ imports: [FakeConfigModule, DecoderModule] }).compile();
    const service = moduleRef.get(DecoderService);
    expect(service.context.validateSignatures).toBe(false);
    expect(service.decode(buildPacket(2, Buffer.alloc(4))).ok).toBe(true);
    await moduleRef.close();
  });
});

describe('public API (index.ts)', () => {
  it('re-exports the decoder entry points', () => {
    for (const name of ['decodePacket', 'ingestVerdict', 'validateAdvert', 'advertRole', 'buildChannelKeyMap', 'createChannelKeyRing', 'buildRegionKeys', 'matchScope', 'computeContentHash', 'serializePayload', 'normalizeChannelName', 'deriveHashtagKey']) {
      expect(typeof (api as Record<string, unknown>)[name], name).toBe('function');
    }
    expect(api.DecoderModule).toBeDefined();
    expect(api.DecoderService).toBeDefined();
  });
});
