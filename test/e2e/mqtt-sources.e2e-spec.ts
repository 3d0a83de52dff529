import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MqttClient } from 'mqtt';
import { CorpusPacket, loadCorpus, packetMessage } from './support/corpus';
import { storedCorpusPackets } from './support/expected';
import { IngestorProcess } from './support/ingestor-process';
import { MosquittoInstance } from './support/mosquitto';
import { publishAll, publisher } from './support/publisher';

interface SourceStatus {
  name: string;
  broker: string;
  connected: boolean;
  connectCount: number;
  disconnectCount: number;
  packetsTotal: number;
  lastError?: string;
}

const corpus = loadCorpus();
const stored = storedCorpusPackets(corpus);

describe('e2e: two sources on two brokers (issue 5, 7a)', () => {
  const brokerA = new MosquittoInstance();
  const brokerB = new MosquittoInstance();
  let ingestor: IngestorProcess;

  beforeAll(async () => {
    await Promise.all([brokerA.start(), brokerB.start()]);
    ingestor = await new IngestorProcess({
      config: {
        mqttSources: [
          { name: 'alpha', broker: brokerA.url, topics: ['meshcore/#'] },
          { name: 'bravo', broker: brokerB.url, topics: ['meshcore/+/+/packets'], iataFilter: ['SJC'] },
        ],
      },
    }).start();
    await ingestor.waitFor(
      async () => (await ingestor.fetchJson<{ sources: SourceStatus[] }>('/api/mqtt/status')).sources.every((s) => s.connected),
      20_000,
      'both sources connected',
    );
    // Subscriptions are confirmed just after connect.
    await ingestor.waitFor(() => (ingestor.logs.match(/subscribed to/g) ?? []).length >= 2, 10_000, 'subscriptions');
  });

  afterAll(async () => {
    await ingestor?.stop();
    ingestor?.dispose();
    await Promise.all([brokerA.dispose(), brokerB.dispose()]);
  });

  it('stores every expected row from both brokers and nothing from the filtered regions', async () => {
    const pubA = await publisher(brokerA.url);
    const pubB = await publisher(brokerB.url);
    // Broker B's observers get their own ids so their observations are distinguishable.
    const viaB = (p: CorpusPacket) => packetMessage(p, `B-${p.observer}`);
    await Promise.all([publishAll(pubA, corpus.map((p) => packetMessage(p))), publishAll(pubB, corpus.map(viaB))]);
    await Promise.all([pubA.endAsync(), pubB.endAsync()]);

    const expectedFromB = stored.filter((p) => p.iata === 'SJC').length;
    const expectedObservations = stored.length + expectedFromB;
    await ingestor.waitFor(() => ingestor.count('observations') >= expectedObservations, 60_000, 'observations');
    // Give any wrongly accepted message time to land before asserting "nothing more".
    await new Promise((r) => setTimeout(r, 500));

    expect(ingestor.count('transmissions')).toBe(stored.length);
    expect(ingestor.count('observations')).toBe(expectedObservations);
    const hashes = new Set(ingestor.query<{ hash: string }>('SELECT hash FROM transmissions').map((r) => r.hash));
    for (const p of stored) expect(hashes.has(p.hash)).toBe(true);

    const regionsFromB = ingestor.query<{ iata: string }>("SELECT DISTINCT iata FROM observers WHERE id LIKE 'B-%'");
    expect(regionsFromB.map((r) => r.iata)).toEqual(['SJC']);
    const stats = await ingestor.fetchJson<{ dropped: Record<string, number> }>('/api/stats');
    expect(stats.dropped.source_iata_filter).toBe(corpus.filter((p) => p.iata !== 'SJC').length);
  });

  it('reports both sources in /api/mqtt/status', async () => {
    const status = await ingestor.fetchJson<{ sources: SourceStatus[]; sampleAt: string }>('/api/mqtt/status');
    expect(status.sources.map((s) => s.name).sort()).toEqual(['alpha', 'bravo']);
    for (const s of status.sources) {
      expect(s.connected).toBe(true);
      expect(s.broker).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
      expect(s.packetsTotal).toBe(corpus.length);
    }
    expect(status.sampleAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  });

  it('writes the stats file the CoreScope server reads (CORESCOPE_INGESTOR_STATS)', async () => {
    const file = join(ingestor.dir, 'stats.json');
    await ingestor.waitFor(() => existsSync(file), 5_000, 'stats file');
    await ingestor.waitFor(() => JSON.parse(readFileSync(file, 'utf8')).obs_inserted >= 1, 5_000, 'stats file with counts');
    const doc = JSON.parse(readFileSync(file, 'utf8'));
    expect(doc.obs_inserted).toBe(ingestor.count('observations'));
    expect(doc.source_statuses.map((s: SourceStatus) => s.name).sort()).toEqual(['alpha', 'bravo']);
  });
});

describe('e2e: broker restart (issue 5, 7b) and credentials (7c)', () => {
  const PASSWORD = 'S3cret-Pa55word';
  const broker = new MosquittoInstance({ users: { ingest: PASSWORD } });
  let ingestor: IngestorProcess;
  let pub: MqttClient;

  const status = async () => (await ingestor.fetchJson<{ sources: SourceStatus[] }>('/api/mqtt/status')).sources;

  beforeAll(async () => {
    await broker.start();
    ingestor = await new IngestorProcess({
      config: {
        mqttSources: [
          // Credentials in the URL (masked in status) and as fields; plus a source with a wrong password.
          { name: 'secured', broker: `mqtt://ingest:${PASSWORD}@127.0.0.1:${broker.port}` },
          { broker: `mqtt://ingest:${PASSWORD}x@127.0.0.1:${broker.port}`, username: 'ingest', password: `${PASSWORD}x` },
        ],
      },
    }).start();
    await ingestor.waitFor(async () => (await status())[0].connected, 20_000, 'connected');
  });

  afterAll(async () => {
    await pub?.endAsync().catch(() => undefined);
    await ingestor?.stop();
    ingestor?.dispose();
    await broker.dispose();
  });

  it('shows the disconnect and the reconnect, keeps lastError masked, and resumes ingest', async () => {
    await ingestor.waitFor(() => /subscribed to meshcore\/#/.test(ingestor.logs), 10_000, 'subscribed');
    await broker.stop();
    await ingestor.waitFor(async () => !(await status())[0].connected, 20_000, 'disconnect seen');
    const down = (await status())[0];
    expect(down.disconnectCount).toBe(1);
    expect(down.lastError).toBeTruthy();
    expect(down.broker).toBe(`tcp://ingest:****@127.0.0.1:${broker.port}`);
    // Readiness follows the sources: no source connected → not ready (but alive).
    expect(await ingestor.fetchStatusCode('/api/health/ready')).toBe(503);
    expect(await ingestor.fetchStatusCode('/api/health/live')).toBe(200);

    await broker.start();
    await ingestor.waitFor(async () => (await status())[0].connectCount === 2, 40_000, 'reconnect');
    const up = (await status())[0];
    expect(up.connected).toBe(true);
    expect(up.lastError).toBeUndefined();
    expect(await ingestor.fetchStatusCode('/api/health/ready')).toBe(200);

    await ingestor.waitFor(() => (ingestor.logs.match(/\[secured\] subscribed to/g) ?? []).length >= 2, 10_000, 'resubscribed');
    pub = await publisher(broker.url, { username: 'ingest', password: PASSWORD });
    const packets = stored.slice(0, 50);
    await publishAll(pub, packets.map((p) => packetMessage(p)));
    await ingestor.waitFor(() => ingestor.count('observations') >= packets.length, 20_000, 'ingest resumed');
    expect(ingestor.count('transmissions')).toBe(packets.length);
  });

  it('never shows the password in /api/mqtt/status or in any log line', async () => {
    const body = await ingestor.fetchText('/api/mqtt/status');
    const sources = JSON.parse(body).sources as SourceStatus[];
    expect(sources).toHaveLength(2);
    const rejected = sources.find((s) => s.name !== 'secured')!;
    expect(rejected.connected).toBe(false);
    expect(rejected.name).toContain('****');
    expect(body).not.toContain(PASSWORD);
    // The wrong-password source has been refused (and logged) by now.
    await ingestor.waitFor(() => /Not authorized|not authori[sz]ed|Bad username or password/i.test(ingestor.logs), 10_000, 'auth error logged');
    expect(ingestor.logs).not.toContain(PASSWORD);
    expect(ingestor.logs).toContain('ingest:****@');
  });
});
