import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCorpus, packetMessage } from './support/corpus';
import { storedCorpusPackets } from './support/expected';
import { IngestorProcess } from './support/ingestor-process';
import { MosquittoInstance } from './support/mosquitto';
import { publishAll, publisher } from './support/publisher';

/** Issue 12, item 5: schedules change on SIGHUP while messages flow; nothing else is touched. */

interface JobEntry {
  name: string;
  enabled: boolean;
  schedule: Record<string, string>;
  nextRunAt: string | null;
}
interface SourceStatus {
  connectCount: number;
  disconnectCount: number;
  connected: boolean;
}

const stored = storedCorpusPackets(loadCorpus());
const OBSERVERS = Array.from({ length: 8 }, (_, i) => `E2ERELOAD${String(i).padStart(2, '0')}`);
const TOKEN = 'e2e-admin-token-4f1c';

describe('e2e: schedules reloaded on SIGHUP while the corpus is published', () => {
  const broker = new MosquittoInstance();
  let ingestor: IngestorProcess;

  beforeAll(async () => {
    await broker.start();
    ingestor = await new IngestorProcess({
      config: {
        mqttSources: [{ name: 'local', broker: broker.url, qos: 1, clientId: 'e2e-reload' }],
        schedules: { walCheckpoint: { every: '1h' }, multibytePersist: { every: '5m' } },
        http: { adminToken: TOKEN },
        sheduleTypo: true,
      },
    }).start();
    await ingestor.waitFor(() => /subscribed to meshcore\/#/.test(ingestor.logs), 20_000, 'subscribed');
  });

  afterAll(async () => {
    await ingestor?.stop();
    ingestor?.dispose();
    await broker.dispose();
  });

  const jobs = async () => (await ingestor.fetchJson<{ jobs: JobEntry[] }>('/api/maintenance')).jobs;
  const job = async (name: string) => (await jobs()).find((entry) => entry.name === name)!;

  it('names unknown config keys in one warning at start', () => {
    expect(ingestor.logs).toMatch(/WARN.*config: unknown keys ignored \(misspelt\? they change nothing\): sheduleTypo/);
  });

  it('applies a new schedule on SIGHUP mid-stream: new nextRunAt, every message stored, no reconnect', async () => {
    expect((await job('walCheckpoint')).schedule).toEqual({ every: '1h', initialDelay: '30s' });
    const messages = OBSERVERS.flatMap((observer) => stored.map((p) => packetMessage(p, observer)));
    const pub = await publisher(broker.url);
    let published = false;
    const publishing = publishAll(pub, messages, 1, 20).then(() => (published = true));

    await ingestor.waitFor(() => ingestor.count('observations') > 100, 30_000, 'first rows');
    const config = JSON.parse(readFileSync(ingestor.configFile, 'utf8'));
    config.schedules = { walCheckpoint: { every: '5m', initialDelay: '10m' }, multibytePersist: { enabled: false } };
    config.http.port = config.http.port + 1; // needs a restart: named, not applied
    writeFileSync(ingestor.configFile, JSON.stringify(config));
    const signalledAt = Date.now();
    ingestor.signal('SIGHUP');
    expect(published).toBe(false); // the reload lands mid-stream

    await ingestor.waitFor(async () => (await job('walCheckpoint')).schedule.every === '5m', 10_000, 'new schedule');
    const wal = await job('walCheckpoint');
    expect(wal.schedule).toEqual({ every: '5m', initialDelay: '10m' });
    const next = Date.parse(wal.nextRunAt!);
    expect(next - signalledAt).toBeGreaterThan(4 * 60_000); // the 5 min tick comes before the 10 min extra run
    expect(next - signalledAt).toBeLessThanOrEqual(5 * 60_000 + 10_000);
    expect(await job('multibytePersist')).toMatchObject({ enabled: false, nextRunAt: null });
    expect((await job('nodeRetention')).schedule).toEqual({ every: '1h' }); // untouched
    expect(ingestor.logs).toMatch(/config: changed, needs a restart: http\.port/);
    expect(ingestor.logs).toMatch(/rescheduled walCheckpoint, multibytePersist/);

    await publishing;
    await pub.endAsync();
    await ingestor.waitFor(() => ingestor.count('observations') >= messages.length, 60_000, 'every message stored');
    expect(ingestor.count('observations')).toBe(messages.length);
    expect(ingestor.count('transmissions')).toBe(stored.length);
    const { sources } = await ingestor.fetchJson<{ sources: SourceStatus[] }>('/api/mqtt/status');
    expect(sources).toEqual([expect.objectContaining({ connected: true, connectCount: 1, disconnectCount: 0 })]);
  });

  it('keeps the running schedules when the reloaded file is invalid, and says which key', async () => {
    const config = JSON.parse(readFileSync(ingestor.configFile, 'utf8'));
    config.schedules.walCheckpoint = { every: '5m', cron: '0 * * * *' };
    writeFileSync(ingestor.configFile, JSON.stringify(config));
    ingestor.signal('SIGHUP');
    await ingestor.waitFor(() => /reload \(SIGHUP\) failed/.test(ingestor.logs), 10_000, 'reload error');
    expect(ingestor.logs).toMatch(/reload \(SIGHUP\) failed, the running configuration stays: config: schedules\.walCheckpoint\.every and cron are both set/);
    expect((await job('walCheckpoint')).schedule).toEqual({ every: '5m', initialDelay: '10m' });
  });

  it('runs a job through the admin route and masks the token everywhere', async () => {
    const denied = await ingestor.post('/api/maintenance/walCheckpoint/run', 'wrong');
    expect(denied.status).toBe(401);
    const started = await ingestor.post<JobEntry>('/api/maintenance/walCheckpoint/run', TOKEN);
    expect(started.status).toBe(202);
    expect(started.body.name).toBe('walCheckpoint');
    await ingestor.waitFor(async () => ((await job('walCheckpoint')) as unknown as { runs: number }).runs >= 1, 10_000, 'run done');
    expect(ingestor.logs).not.toContain(TOKEN);
    expect(await ingestor.fetchText('/metrics')).toMatch(/meshcore_ingestor_maintenance_runs_total\{job="walCheckpoint",result="ok"\} 1/);
  });
});
