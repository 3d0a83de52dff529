import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { SourceStatusRegistry } from '../source-status/source-status.registry';
import { IngestCounters } from '../stats/ingest-counters';
import { IngestStatsService } from '../stats/ingest-stats.service';
import { StatsModule } from '../stats/stats.module';
import { MetricsModule } from './metrics.module';

describe('GET /metrics', () => {
  let app: INestApplication | undefined;
  afterEach(async () => app?.close());

  it('exports the ingest counters, drops and per-source gauges with masked source names', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [StatsModule, MetricsModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    const stats = app.get(IngestStatsService);
    const batch = new IngestCounters();
    batch.add('obs_inserted', 42);
    stats.commit(batch);
    stats.drop('observer_blacklist', 3);
    const sources = app.get(SourceStatusRegistry);
    sources.register('tcp://u:hunter2@h:1883', 'tcp://u:hunter2@h:1883');
    sources.markConnect('tcp://u:hunter2@h:1883');

    const res = await request(app.getHttpServer()).get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/text\/plain/);
    expect(res.text).toContain('meshcore_ingestor_events_total{counter="obs_inserted"} 42');
    expect(res.text).toContain('meshcore_ingestor_dropped_total{reason="observer_blacklist"} 3');
    expect(res.text).toContain('meshcore_ingestor_mqtt_connected{source="tcp://u:****@h:1883"} 1');
    expect(res.text).toContain('meshcore_ingestor_process_resident_memory_bytes');
    expect(res.text).not.toContain('hunter2');
  });
});
