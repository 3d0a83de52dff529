import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INestApplication, Logger } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AppConfigModule } from '../../config/config.module';
import { loadConfig } from '../../config/load-config';
import { MAINTENANCE_JOB_NAMES } from '../../config/maintenance-schedules';
import { MaintenanceService } from '../maintenance/maintenance.service';
import { DatabaseService } from '../persistence/database.service';
import { StatsModule } from '../stats/stats.module';
import { StatusApiModule } from './status-api.module';

const TOKEN = 'correct-horse-battery-staple';

describe('/api/maintenance', () => {
  let app: INestApplication | undefined;
  let dir: string;
  let lines: string[];

  afterEach(async () => {
    await app?.close();
    app = undefined;
    rmSync(dir, { recursive: true, force: true });
    vi.restoreAllMocks();
  });

  /** The status API on a real config file and database; every log line is captured. */
  async function start(file: Record<string, unknown> = {}): Promise<{ configFile: string; maintenance: MaintenanceService }> {
    dir = mkdtempSync(join(tmpdir(), 'meshcore-maintenance-api-'));
    const configFile = join(dir, 'config.json');
    writeFileSync(configFile, JSON.stringify({ dbPath: join(dir, 'meshcore.db'), ...file }));
    const { config } = loadConfig({ configPath: configFile, env: {} });
    lines = [];
    for (const level of ['log', 'warn', 'error', 'debug'] as const) {
      vi.spyOn(Logger.prototype, level).mockImplementation((message: unknown) => void lines.push(String(message)));
    }
    const moduleRef = await Test.createTestingModule({
      imports: [AppConfigModule.forRoot(config), ScheduleModule.forRoot(), StatsModule, StatusApiModule],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    await app.get(DatabaseService).asyncMigrations.whenIdle();
    return { configFile, maintenance: app.get(MaintenanceService) };
  }

  const http = () => request(app!.getHttpServer());

  it('lists every job with its schedule, next run, last run and counters', async () => {
    const { maintenance } = await start({ schedules: { packetRetention: { cron: '30 3 * * *', timeZone: 'Europe/Berlin' }, multibytePersist: { enabled: false } } });
    maintenance.startSchedules();
    const before = Date.now();
    const { body } = await http().get('/api/maintenance').expect(200);
    expect(body.jobs.map((job: { name: string }) => job.name)).toEqual([...MAINTENANCE_JOB_NAMES]);
    const byName = Object.fromEntries(body.jobs.map((job: { name: string }) => [job.name, job]));
    expect(byName.walCheckpoint).toMatchObject({ enabled: true, schedule: { every: '1h', initialDelay: '30s' }, running: false, lastRun: null, runs: 0, failures: 0, skipped: 0 });
    const next = Date.parse(byName.walCheckpoint.nextRunAt);
    expect(next - before).toBeGreaterThan(25_000);
    expect(next - before).toBeLessThanOrEqual(31_000);
    expect(byName.walCheckpoint.nextRunAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    // Enabled in the block, but retention.packetDays is 0: off, and said why.
    expect(byName.packetRetention).toMatchObject({
      enabled: false,
      disabledReason: 'retention.packetDays is 0 (off)',
      schedule: { cron: '30 3 * * *', timeZone: 'Europe/Berlin' },
      nextRunAt: null,
    });
    expect(byName.multibytePersist).toMatchObject({ enabled: false, nextRunAt: null });
    expect(byName.multibytePersist).not.toHaveProperty('disabledReason');
  });

  it('turns the admin routes off (403) when no token is configured', async () => {
    await start();
    const res = await http().post('/api/maintenance/nodeRetention/run').set('Authorization', `Bearer ${TOKEN}`).expect(403);
    expect(res.body.message).toContain('admin routes are off');
    await http().post('/api/maintenance/reload').expect(403);
  });

  it('wants the bearer token: 401 without or with a wrong one, never echoing it', async () => {
    await start({ http: { adminToken: TOKEN } });
    const missing = await http().post('/api/maintenance/nodeRetention/run').expect(401);
    expect(missing.headers['www-authenticate']).toMatch(/^Bearer /);
    const wrong = await http().post('/api/maintenance/nodeRetention/run').set('Authorization', `Bearer ${TOKEN}x`).expect(401);
    expect(wrong.body.message).toBe('wrong admin token');
    await http().post('/api/maintenance/nodeRetention/run').set('Authorization', TOKEN).expect(401); // no scheme
    await http().post('/api/maintenance/nodeRetention/run').set('Authorization', `Basic ${TOKEN}`).expect(401);
    await http().post('/api/maintenance/no-such-job/run').expect(401); // the guard answers first
    const all = JSON.stringify([missing.body, wrong.body, missing.headers, wrong.headers]) + lines.join('\n');
    expect(all).not.toContain(TOKEN);
  });

  it('runs a job now: 202 with its entry, then its last run; 404 for an unknown job; 409 while running', async () => {
    const { maintenance } = await start({ http: { adminToken: TOKEN } });
    const auth = { Authorization: `Bearer ${TOKEN}` };
    const res = await http().post('/api/maintenance/nodeRetention/run').set(auth).expect(202);
    expect(res.body).toMatchObject({ name: 'nodeRetention', running: true });
    await maintenance.whenIdle('nodeRetention');
    const { body } = await http().get('/api/maintenance').expect(200);
    const job = body.jobs.find((entry: { name: string }) => entry.name === 'nodeRetention');
    expect(job).toMatchObject({ running: false, runs: 1, lastRun: { result: 'ok', rows: 0 } });
    expect(typeof job.lastRun.durationMs).toBe('number');

    const unknown = await http().post('/api/maintenance/vacuumEverything/run').set(auth).expect(404);
    expect(unknown.body.message).toContain('jobs: nodeRetention, observerRetention');
    // The scheduler's own spec drives a real overlap; here only the mapping of its answers.
    vi.spyOn(maintenance, 'requestRun').mockReturnValueOnce('running').mockReturnValueOnce('stopped');
    const busy = await http().post('/api/maintenance/nodeRetention/run').set(auth).expect(409);
    expect(busy.body.job).toMatchObject({ name: 'nodeRetention' });
    await http().post('/api/maintenance/nodeRetention/run').set(auth).expect(503);
    expect(lines.join('\n')).not.toContain(TOKEN);
  });

  it('reloads the config file: new timers for changed schedules only, restart keys named, an invalid file changes nothing', async () => {
    const { configFile, maintenance } = await start({ http: { adminToken: TOKEN } });
    maintenance.startSchedules();
    const auth = { Authorization: `Bearer ${TOKEN}` };
    const file = { dbPath: join(dir, 'meshcore.db'), http: { adminToken: TOKEN, port: 9999 }, schedules: { walCheckpoint: { every: '10m' } }, retention: { nodeDays: 3 } };
    writeFileSync(configFile, JSON.stringify(file));
    const ok = await http().post('/api/maintenance/reload').set(auth).expect(200);
    expect(ok.body).toEqual({
      ok: true,
      rescheduled: ['walCheckpoint'],
      applied: ['retention.nodeDays', 'schedules.walCheckpoint'],
      needsRestart: ['http.port'],
    });
    expect(lines).toContain('config: changed, needs a restart: http.port');
    const wal = maintenance.statusOf('walCheckpoint')!;
    expect(wal.schedule).toEqual({ every: '10m', initialDelay: '30s' });

    writeFileSync(configFile, JSON.stringify({ ...file, schedules: { walCheckpoint: { every: 'sometimes' } } }));
    const bad = await http().post('/api/maintenance/reload').set(auth).expect(422);
    expect(bad.body.ok).toBe(false);
    expect(bad.body.error).toContain('config: schedules.walCheckpoint.every must be a duration');
    expect(maintenance.statusOf('walCheckpoint')).toEqual(wal);
    expect(lines.some((line) => line.startsWith('reload (api) failed, the running configuration stays: config: schedules.walCheckpoint.every'))).toBe(true);
  });
});
