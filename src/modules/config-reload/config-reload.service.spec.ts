import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AppConfig } from '../../config/config.types';
import { loadConfig } from '../../config/load-config';
import type { MaintenanceService } from '../maintenance/maintenance.service';
import { changedConfigKeys, isLiveKey, withLiveKeys } from './config-diff';
import { ConfigReloadService } from './config-reload.service';

let dir: string;
let configFile: string;
let lines: string[];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'meshcore-reload-'));
  configFile = join(dir, 'config.json');
  lines = [];
  for (const level of ['log', 'warn', 'error'] as const) {
    vi.spyOn(Logger.prototype, level).mockImplementation((message: unknown) => void lines.push(`${level}: ${String(message)}`));
  }
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  vi.restoreAllMocks();
});

function write(file: Record<string, unknown>): AppConfig {
  writeFileSync(configFile, JSON.stringify(file));
  return loadConfig({ configPath: configFile, env: {} }).config;
}

/** A maintenance service that records what it is handed. */
function fakeMaintenance() {
  const applied: AppConfig[] = [];
  const maintenance = { applyConfig: (config: AppConfig) => (applied.push(config), ['walCheckpoint']) } as unknown as MaintenanceService;
  return { maintenance, applied };
}

describe('ConfigReloadService', () => {
  it('hands over the live keys only; the rest keeps its start-up value and is named as needing a restart', () => {
    const started = write({ dbPath: 'a.db', mqttSources: [{ name: 'x', broker: 'tcp://h:1883', password: 'pw1' }] });
    const { maintenance, applied } = fakeMaintenance();
    const service = new ConfigReloadService(started, maintenance);
    write({
      dbPath: 'b.db',
      mqttSources: [{ name: 'x', broker: 'tcp://h:1883', password: 'pw2' }],
      schedules: { walCheckpoint: { every: '5m' } },
      maintenance: { deleteChunkRows: 10 },
      bogusKey: 1,
    });
    const outcome = service.reload('SIGHUP');
    expect(outcome).toEqual({
      ok: true,
      rescheduled: ['walCheckpoint'],
      applied: ['maintenance.deleteChunkRows', 'schedules.walCheckpoint'],
      needsRestart: ['dbPath', 'mqttSources[0].password'],
    });
    expect(applied[0].dbPath).toBe('a.db');
    expect(applied[0].maintenance.deleteChunkRows).toBe(10);
    expect(applied[0].schedules.walCheckpoint.timing).toEqual({ kind: 'every', everyMs: 300_000 });
    expect(lines).toContain('warn: config: changed, needs a restart: dbPath, mqttSources[0].password');
    expect(lines).toContain('warn: config: unknown keys ignored (misspelt? they change nothing): bogusKey');
    expect(lines.join('\n')).not.toMatch(/pw1|pw2/);
    // The same file again: the live keys are in place, the restart keys still differ from what runs.
    expect(service.reload('SIGHUP')).toMatchObject({ applied: [], needsRestart: ['dbPath', 'mqttSources[0].password'] });
  });

  it('keeps everything when the file is invalid or gone', () => {
    const started = write({ schedules: { walCheckpoint: { every: '5m' } } });
    const { maintenance, applied } = fakeMaintenance();
    const service = new ConfigReloadService(started, maintenance);
    writeFileSync(configFile, '{"schedules": {"walCheckpoint": {"every": "5m",}}}');
    expect(service.reload('SIGHUP')).toMatchObject({ ok: false, error: expect.stringMatching(/^config: parsing .*\(line 1 column 48\)$/) });
    unlinkSync(configFile);
    expect(service.reload('api')).toMatchObject({ ok: false, error: expect.stringContaining('is gone') });
    expect(applied).toEqual([]);
    expect(lines.filter((line) => line.startsWith('error: reload'))).toHaveLength(2);
  });
});

describe('config diff', () => {
  it('names changed leaves, arrays of another length and schedules by job', () => {
    const a = loadConfig({ configPath: join(dir, 'none.json'), env: {} }).config;
    const b = { ...a, hashChannels: ['#x'], http: { ...a.http, port: 1 }, schedules: { ...a.schedules, pruneQueue: { ...a.schedules.pruneQueue, enabled: false } } };
    expect(changedConfigKeys(a, b)).toEqual(['hashChannels', 'http.port', 'schedules.pruneQueue']);
    expect(changedConfigKeys(a, { ...a, configPath: 'elsewhere' })).toEqual([]);
    expect(isLiveKey('retention.packetDays')).toBe(true);
    expect(isLiveKey('retentionX')).toBe(false);
    expect(withLiveKeys(a, { ...b, retention: { ...a.retention, packetDays: 9 } })).toMatchObject({ http: a.http, retention: { packetDays: 9 } });
  });
});
