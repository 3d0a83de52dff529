import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INestApplication, Logger } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AppConfigModule } from '../../config/config.module';
import { MaintenanceService } from '../maintenance/maintenance.service';
import { testConfig } from '../maintenance/testing/maintenance-fixtures';
import { DatabaseService } from '../persistence/database.service';
import { SourceStatusRegistry } from '../source-status/source-status.registry';
import { IngestCounters } from '../stats/ingest-counters';
import { IngestStatsService } from '../stats/ingest-stats.service';
import { StatsModule } from '../stats/stats.module';
import { MetricsModule } from './metrics.module';

describe('GET /metrics', () => {
  let app: INestApplication | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
    vi.restoreAllMocks();
  });

  async function start(): Promise<INestApplication> {
    dir = mkdtempSync(join(tmpdir(), 'meshcore-metrics-'));
    vi.spyOn(Logger.prototype, 'log').mockImplementation(() => {});
    const moduleRef = await Test.createTestingModule({
      imports: [AppConfigModule.forRoot(testConfig({ dbPath: join(dir, 'meshcore.db') })), ScheduleModule.forRoot(), StatsModule, MetricsModule],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    await app.get(DatabaseService).asyncMigrations.whenIdle();
    return app;
  }

  it('exports the ingest counters, drops and per-source gauges with masked source names', async () => {
    await start();
    const stats = app!.get(IngestStatsService);
    const batch = new IngestCounters();
    batch.add('obs_inserted', 42);
    batch.add('tx_inserted', 40);
    stats.commit(batch);
    stats.drop('observer_blacklist', 3);
    const sources = app!.get(SourceStatusRegistry);
    sources.register('tcp://u:hunter2@h:1883', 'tcp://u:hunter2@h:1883');
    sources.markConnect('tcp://u:hunter2@h:1883');

    const res = await request(app!.getHttpServer()).get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/text\/plain/);
    expect(res.text).toContain('meshcore_ingestor_events_total{counter="obs_inserted"} 42');
    expect(res.text).toContain('meshcore_ingestor_dropped_total{reason="observer_blacklist"} 3');
    expect(res.text).toContain('meshcore_ingestor_mqtt_connected{source="tcp://u:****@h:1883"} 1');
    expect(res.text).toContain('meshcore_ingestor_process_resident_memory_bytes');
    expect(res.text).toContain('meshcore_ingestor_writer_rows_total{table="observations"} 42');
    expect(res.text).toContain('meshcore_ingestor_writer_rows_total{table="transmissions"} 40');
    expect(res.text).not.toContain('hunter2');
  });

  it('exports per-job runs, duration, rows, skips and last success, and the writer wait/hold per component', async () => {
    await start();
    const maintenance = app!.get(MaintenanceService);
    const database = app!.get(DatabaseService);
    let res = await request(app!.getHttpServer()).get('/metrics').expect(200);
    // Every job is there before it ever ran.
    expect(res.text).toContain('meshcore_ingestor_maintenance_runs_total{job="packetRetention",result="ok"} 0');
    expect(res.text).toContain('meshcore_ingestor_maintenance_last_success_timestamp_seconds{job="walCheckpoint"} 0');

    expect(maintenance.requestRun('nodeRetention')).toBe('started');
    await maintenance.whenIdle('nodeRetention');
    database.writerPerf.record('mqtt_handler', 2, 12);
    res = await request(app!.getHttpServer()).get('/metrics').expect(200);
    expect(res.text).toContain('meshcore_ingestor_maintenance_runs_total{job="nodeRetention",result="ok"} 1');
    expect(res.text).toContain('meshcore_ingestor_maintenance_run_duration_seconds_count{job="nodeRetention"} 1');
    expect(res.text).toContain('meshcore_ingestor_maintenance_rows_total{job="nodeRetention"} 0');
    expect(res.text).toMatch(/meshcore_ingestor_maintenance_last_success_timestamp_seconds\{job="nodeRetention"\} \d{10}/);
    expect(res.text).toContain('meshcore_ingestor_writer_hold_seconds_count{component="move_stale_nodes"} 1');
    expect(res.text).toContain('meshcore_ingestor_writer_hold_seconds_count{component="mqtt_handler"} 1');
    expect(res.text).toContain('meshcore_ingestor_writer_wait_seconds_sum{component="mqtt_handler"} 0.002');
    expect(res.text).toContain('meshcore_ingestor_writer_batch_duration_seconds_count 1');
  });
});
