import { connectAsync } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCorpus, packetMessage } from './support/corpus';
import { storedCorpusPackets } from './support/expected';
import { IngestorProcess } from './support/ingestor-process';
import { freePort } from './support/mosquitto';
import { publishAll, publisher } from './support/publisher';

const stored = storedCorpusPackets(loadCorpus()).slice(0, 300);

interface SourceStatus {
  name: string;
  broker: string;
  connected: boolean;
  qos?: number;
  messagesReceived?: number;
}

describe('e2e: embedded broker with users (issue 13, item 4)', () => {
  let ingestor: IngestorProcess;
  let brokerUrl: string;

  beforeAll(async () => {
    const port = await freePort();
    brokerUrl = `mqtt://127.0.0.1:${port}`;
    ingestor = await new IngestorProcess({
      config: { embeddedBroker: { enabled: true, port, users: [{ username: 'observer', password: 'obs-pass-7731' }] } },
    }).start();
    await ingestor.waitFor(() => /subscribed to meshcore\/#/.test(ingestor.logs), 20_000, 'embedded source subscribed');
  });

  afterAll(async () => {
    await ingestor?.stop();
    ingestor?.dispose();
  });

  it('listens on its port, says logins are required, and ingests what an observer publishes there (QoS 1 source)', async () => {
    expect(ingestor.logs).toMatch(/embedded MQTT broker \(3\.1\.1\) listening on 127\.0\.0\.1:\d+; 1 user\(s\), logins required/);
    // Its own source holds a QoS 1 subscription: messages are acknowledged after their commit.
    expect(ingestor.logs).toMatch(/MQTT \[embedded\] subscribed to meshcore\/# \(QoS 1 granted\)/);
    const pub = await publisher(brokerUrl, { username: 'observer', password: 'obs-pass-7731' });
    await publishAll(pub, stored.map((p) => packetMessage(p, 'EMBOBS01')));
    await pub.endAsync();
    await ingestor.waitFor(() => ingestor.count('observations') >= stored.length, 30_000, 'rows from the embedded broker');
    expect(ingestor.count('transmissions')).toBe(stored.length);
    expect(ingestor.count('observations')).toBe(stored.length);

    const status = await ingestor.fetchJson<{ sources: SourceStatus[] }>('/api/mqtt/status');
    const embedded = status.sources.find((s) => s.name === 'embedded');
    expect(embedded).toMatchObject({ connected: true });
    // The service's own per-process credentials never show.
    expect(JSON.stringify(status)).not.toMatch(/meshcore-ingestor:[^*]/);
    expect(ingestor.logs).not.toContain('obs-pass-7731');
  });

  it('refuses a wrong password and a missing login (CONNACK "bad user name or password"), and logs it without the password', async () => {
    for (const options of [{ username: 'observer', password: 'wrong-pass-0000' }, {}]) {
      const attempt = connectAsync(brokerUrl, { ...options, reconnectPeriod: 0, connectTimeout: 5_000 });
      await expect(attempt).rejects.toThrow(/Bad username or password/i);
    }
    await ingestor.waitFor(() => /embedded broker: login refused for client/.test(ingestor.logs), 5_000, 'refusal logged');
    expect(ingestor.logs).not.toContain('wrong-pass-0000');
    const stats = await ingestor.fetchJson<{ gauges: Record<string, number> }>('/api/stats');
    expect(stats.gauges.embedded_broker_auth_failures).toBe(2);
  });

  it("nobody can take over the service's own client id", async () => {
    const attempt = connectAsync(brokerUrl, { clientId: 'meshcore-ingestor-embedded', username: 'observer', password: 'obs-pass-7731', reconnectPeriod: 0 });
    await expect(attempt).rejects.toThrow(/Bad username or password/i);
    const status = await ingestor.fetchJson<{ sources: SourceStatus[] }>('/api/mqtt/status');
    expect(status.sources.find((s) => s.name === 'embedded')?.connected).toBe(true);
  });

  it('SIGTERM stores what came in, closes the broker (port refuses connections) and exits 0', async () => {
    const pub = await publisher(brokerUrl, { username: 'observer', password: 'obs-pass-7731' });
    const late = storedCorpusPackets(loadCorpus()).slice(300, 350);
    await publishAll(pub, late.map((p) => packetMessage(p, 'EMBOBS02')));
    await ingestor.waitFor(() => ingestor.count('observations') >= stored.length + late.length, 30_000, 'late rows');
    const closed = new Promise<void>((resolve) => pub.once('close', () => resolve()));
    expect(await ingestor.stop()).toBe(0);
    await closed;
    expect(ingestor.count('observations')).toBe(stored.length + late.length);
    await expect(connectAsync(brokerUrl, { username: 'observer', password: 'obs-pass-7731', reconnectPeriod: 0, connectTimeout: 2_000 })).rejects.toThrow(
      /ECONNREFUSED/,
    );
    pub.end(true);
  });
});

describe('e2e: embedded broker without users', () => {
  it('accepts anonymous observers, says so in the log, and is the only source when none is configured', async () => {
    const port = await freePort();
    const ingestor = await new IngestorProcess({ config: { embeddedBroker: { enabled: true, port } } }).start();
    try {
      await ingestor.waitFor(() => /subscribed to meshcore\/#/.test(ingestor.logs), 20_000, 'subscribed');
      expect(ingestor.logs).toMatch(/ANONYMOUS clients accepted/);
      expect(ingestor.logs).not.toMatch(/defaulting to mqtt:\/\/localhost:1883/);
      const status = await ingestor.fetchJson<{ sources: SourceStatus[] }>('/api/mqtt/status');
      expect(status.sources.map((s) => s.name)).toEqual(['embedded']);
      const pub = await publisher(`mqtt://127.0.0.1:${port}`);
      await publishAll(pub, stored.slice(0, 20).map((p) => packetMessage(p, 'ANONOBS1')));
      await pub.endAsync();
      await ingestor.waitFor(() => ingestor.count('observations') >= 20, 30_000, 'anonymous rows');
      expect(await ingestor.stop()).toBe(0);
    } finally {
      await ingestor.stop();
      ingestor.dispose();
    }
  });

  it('a port already taken fails the start with exit 1 and a message naming the address', async () => {
    const port = await freePort();
    const { createServer } = await import('node:net');
    const squatter = createServer().listen(port, '127.0.0.1');
    await new Promise((r) => squatter.once('listening', r));
    const ingestor = new IngestorProcess({ config: { embeddedBroker: { enabled: true, port } } });
    try {
      await expect(ingestor.start()).rejects.toThrow(/ingestor exited \(1\)/);
      expect(ingestor.logs).toContain(`embedded broker cannot listen on 127.0.0.1:${port}: EADDRINUSE`);
    } finally {
      squatter.close();
      await ingestor.stop();
      ingestor.dispose();
    }
  });
});
