import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { loadCorpus, packetMessage } from './support/corpus';
import { storedCorpusPackets } from './support/expected';
import { IngestorProcess } from './support/ingestor-process';
import { freePort } from './support/mosquitto';
import { publishAll, publisher } from './support/publisher';

const packets = storedCorpusPackets(loadCorpus()).slice(0, 50);

/** Publishes to the service's embedded broker and waits for the rows. */
async function ingestThroughEmbeddedBroker(ingestor: IngestorProcess, port: number): Promise<void> {
  await ingestor.waitFor(() => /MQTT \[embedded\] subscribed to/.test(ingestor.logs), 20_000, 'subscribed');
  const pub = await publisher(`mqtt://127.0.0.1:${port}`);
  await publishAll(pub, packets.map((p) => packetMessage(p, 'HTTPOBS1')));
  await pub.endAsync();
  await ingestor.waitFor(() => ingestor.count('observations') >= packets.length, 30_000, 'rows');
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('e2e: optional status routes and HTTP server (issue 13, item 6)', () => {
  it('with the status routes on (default), /, /api/mqtt/status and /api/maintenance answer', async () => {
    const brokerPort = await freePort();
    const ingestor = await new IngestorProcess({ config: { embeddedBroker: { enabled: true, port: brokerPort } } }).start();
    try {
      expect(await ingestor.fetchStatusCode('/api/mqtt/status')).toBe(200);
      expect(await ingestor.fetchStatusCode('/api/maintenance')).toBe(200);
      expect(await ingestor.fetchStatusCode('/')).toBe(200);
    } finally {
      await ingestor.stop();
      ingestor.dispose();
    }
  });

  for (const how of ['config', 'env'] as const) {
    it(`http.statusApi false (${how}): the status routes and page are gone, health, metrics and stats stay, ingest goes on`, async () => {
      const brokerPort = await freePort();
      const ingestor = await new IngestorProcess({
        config: { embeddedBroker: { enabled: true, port: brokerPort }, ...(how === 'config' && { http: { statusApi: false } }) },
        ...(how === 'env' && { env: { INGESTOR_STATUS_API: 'false' } }),
      }).start();
      try {
        expect(ingestor.logs).toMatch(/status routes off: http\.statusApi is false/);
        for (const path of ['/', '/api/mqtt/status', '/api/maintenance']) expect(await ingestor.fetchStatusCode(path)).toBe(404);
        expect(await ingestor.fetchStatusCode('/api/maintenance/walCheckpoint/run')).toBe(404);
        await ingestThroughEmbeddedBroker(ingestor, brokerPort);
        expect(await ingestor.fetchStatusCode('/api/health/ready')).toBe(200);
        expect(await ingestor.fetchText('/metrics')).toMatch(/ingest_counter|meshcore/);
        const stats = await ingestor.fetchJson<{ counters: { obs_inserted: number } }>('/api/stats');
        expect(stats.counters.obs_inserted).toBe(packets.length);
        expect(await ingestor.stop()).toBe(0);
      } finally {
        await ingestor.stop();
        ingestor.dispose();
      }
    });
  }

  for (const how of ['config', 'env'] as const) {
    it(`http.enabled false (${how}): nothing listens on the HTTP port; the service ingests and stops cleanly`, async () => {
      const brokerPort = await freePort();
      const httpPort = await freePort();
      const ingestor = new IngestorProcess({
        config: {
          embeddedBroker: { enabled: true, port: brokerPort },
          http: { port: httpPort, host: '127.0.0.1', ...(how === 'config' && { enabled: false }) },
        },
        ...(how === 'env' && { env: { INGESTOR_HTTP_ENABLED: '0' } }),
        startedWhenLogged: /HTTP server off \(http\.enabled is false\)/,
      });
      ingestor.port = httpPort;
      await ingestor.start();
      try {
        await ingestThroughEmbeddedBroker(ingestor, brokerPort);
        expect(await portAnswers(httpPort)).toBe(false);
        expect(await portAnswers(brokerPort)).toBe(true);
        expect(await ingestor.stop()).toBe(0);
        expect(ingestor.logs).toMatch(/Done\./);
      } finally {
        await ingestor.stop();
        ingestor.dispose();
      }
    });
  }

  it('an env switch that is not a boolean fails the start naming the variable', async () => {
    const ingestor = new IngestorProcess({ config: {}, env: { INGESTOR_HTTP_ENABLED: 'maybe' }, startedWhenLogged: /never/ });
    try {
      await expect(ingestor.start()).rejects.toThrow(/ingestor exited \(1\)/);
      expect(ingestor.logs).toContain('env INGESTOR_HTTP_ENABLED must be true or false, got "maybe"');
    } finally {
      ingestor.dispose();
    }
  });
});
