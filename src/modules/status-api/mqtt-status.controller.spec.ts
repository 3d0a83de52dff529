import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { toRfc3339 as formatRfc3339Seconds } from '../../common/time/rfc3339';
import { SourceStatusModule } from '../source-status/source-status.module';
import { MqttStatusController } from './mqtt-status.controller';
import { SOURCE_STATUS_CLOCK, SourceStatusRegistry } from '../source-status/source-status.registry';

// 2026-07-18T09:47:37.654Z: the fraction must not reach sampleAt.
const NOW_MS = Date.UTC(2026, 6, 18, 9, 47, 37, 654);
const NOW_UNIX = Math.floor(NOW_MS / 1000);

describe('GET /api/mqtt/status', () => {
  let app: INestApplication | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function start(): Promise<SourceStatusRegistry> {
    const moduleRef = await Test.createTestingModule({ imports: [SourceStatusModule], controllers: [MqttStatusController] })
      .overrideProvider(SourceStatusRegistry)
      .useValue(new SourceStatusRegistry(() => NOW_MS))
      .compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    return moduleRef.get(SourceStatusRegistry);
  }

  it('serves the exact §6.3 shape with masked broker and lastError', async () => {
    const registry = await start();
    registry.register('secure', 'mqtt://u:secret@h:1883');
    registry.markConnect('secure');
    registry.markPacket('secure');
    registry.markPacket('secure');
    registry.markDisconnect('secure', 'dial tcp://u:secret@h:1883: connection refused');
    registry.register('plain', 'tcp://localhost:1883');

    const res = await request(app!.getHttpServer()).get('/api/mqtt/status').expect(200);

    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.text).not.toContain('secret');
    // Exact bytes pin key order and omission of empty lastError / zero watchdog fields.
    expect(res.text).toBe(
      JSON.stringify({
        sources: [
          {
            name: 'secure',
            broker: 'mqtt://u:****@h:1883',
            connected: false,
            lastConnectUnix: NOW_UNIX,
            lastDisconnectUnix: NOW_UNIX,
            lastPacketUnix: NOW_UNIX,
            connectCount: 1,
            disconnectCount: 1,
            packetsTotal: 2,
            packetsLast5m: 2,
            lastError: 'dial tcp://u:****@h:1883: connection refused',
          },
          {
            name: 'plain',
            broker: 'tcp://localhost:1883',
            connected: false,
            lastConnectUnix: 0,
            lastDisconnectUnix: 0,
            lastPacketUnix: 0,
            connectCount: 0,
            disconnectCount: 0,
            packetsTotal: 0,
            packetsLast5m: 0,
          },
        ],
        sampleAt: '2026-07-18T09:47:37Z',
      }),
    );
    // Masking happens at serving time only; the registry keeps the raw URL for the stats file.
    expect(registry.snapshot()[0].broker).toBe('mqtt://u:secret@h:1883');
  });

  it('adds the watchdog fields, in order, once they are non-zero', async () => {
    const registry = await start();
    registry.setWatchdogLastTickUnix(NOW_UNIX - 30);
    let res = await request(app!.getHttpServer()).get('/api/mqtt/status').expect(200);
    expect(res.text).toBe(`{"sources":[],"sampleAt":"2026-07-18T09:47:37Z","watchdogLastTickUnix":${NOW_UNIX - 30}}`);

    registry.setWatchdogPanicCount(3);
    res = await request(app!.getHttpServer()).get('/api/mqtt/status').expect(200);
    expect(res.text).toBe(
      `{"sources":[],"sampleAt":"2026-07-18T09:47:37Z","watchdogLastTickUnix":${NOW_UNIX - 30},"watchdogPanicCount":3}`,
    );
  });

  it('resolves the registry without a clock provider (production wiring)', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [SourceStatusModule], controllers: [MqttStatusController] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    const before = Date.now();
    const res = await request(app.getHttpServer()).get('/api/mqtt/status').expect(200);
    expect(res.body.sources).toEqual([]);
    expect(res.body.sampleAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Date.parse(res.body.sampleAt)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
  });

  it('accepts a clock through the SOURCE_STATUS_CLOCK token', async () => {
    const moduleRef = await Test.createTestingModule({
      providers: [SourceStatusRegistry, { provide: SOURCE_STATUS_CLOCK, useValue: () => NOW_MS }],
    }).compile();
    expect(moduleRef.get(SourceStatusRegistry).now()).toBe(NOW_MS);
  });
});

describe('formatRfc3339Seconds', () => {
  it('drops the fraction without rounding up', () => {
    expect(formatRfc3339Seconds(Date.UTC(2026, 0, 1, 0, 0, 59, 999))).toBe('2026-01-01T00:00:59Z');
    expect(formatRfc3339Seconds(0)).toBe('1970-01-01T00:00:00Z');
  });
});
