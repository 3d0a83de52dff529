import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCorpus, packetMessage } from './support/corpus';
import { storedCorpusPackets } from './support/expected';
import { IngestorProcess } from './support/ingestor-process';
import { MosquittoInstance } from './support/mosquitto';
import { publishAll, publisher } from './support/publisher';

const stored = storedCorpusPackets(loadCorpus());
const OBSERVERS = 12;

describe('e2e: QoS 1 with a persistent session (issue 5, 7e)', () => {
  const broker = new MosquittoInstance();
  const processes: IngestorProcess[] = [];

  beforeAll(async () => {
    await broker.start();
  });

  afterAll(async () => {
    for (const p of processes) {
      await p.kill();
      p.dispose();
    }
    await broker.dispose();
  });

  /** Starts the service with a durable source; a second start on the same folder resumes its session. */
  async function ingestor(clientId: string, ingest: Record<string, unknown>, dir?: string): Promise<IngestorProcess> {
    const config = { mqttSources: [{ name: 'durable', broker: broker.url, qos: 1, clientId, sessionExpirySec: 3600 }], ingest };
    const p = await new IngestorProcess({ config, dir }).start();
    processes.push(p);
    await p.waitFor(() => /subscribed to meshcore\/#/.test(p.logs), 20_000, 'subscribed');
    return p;
  }

  /** Publishes every stored corpus packet from each observer at QoS 1; resolves when all are published. */
  async function publishBurst(prefix: string): Promise<{ messages: unknown[]; done: Promise<void> }> {
    const messages = [];
    for (let o = 0; o < OBSERVERS; o++) for (const p of stored) messages.push(packetMessage(p, `${prefix}${String(o).padStart(2, '0')}`));
    const pub = await publisher(broker.url);
    const done = publishAll(pub, messages, 1).then(() => pub.endAsync());
    return { messages, done };
  }

  async function waitForAll(p: IngestorProcess, total: number): Promise<void> {
    await p.waitFor(() => p.count('observations') >= total, 120_000, 'all rows after restart');
    await new Promise((r) => setTimeout(r, 1000));
  }

  // serve prepares on the writer's thread by default; the worker thread takes batches ahead of the commit.
  for (const workerThread of [false, true]) {
    const mode = workerThread ? 'worker thread' : 'one thread';

    it(`stores every published message exactly once across a crash (SIGKILL) and restart (${mode})`, async () => {
      // Small batches so the crash lands between commits, not before the first one.
      const ingest = { batchSize: 50, flushIntervalMs: 5, workerThread };
      const first = await ingestor(`e2e-durable-ingestor-${workerThread}`, ingest);
      const { messages, done } = await publishBurst('DURABLE');
      // Kill mid-burst: some rows committed, others in flight or still queued at the broker.
      await first.waitFor(() => first.count('observations') >= 300, 60_000, 'first rows');
      await first.kill();
      expect(first.count('observations')).toBeLessThan(messages.length);
      await done;

      const second = await ingestor(`e2e-durable-ingestor-${workerThread}`, ingest, first.dir);
      await waitForAll(second, messages.length);
      expect(second.count('observations')).toBe(messages.length);
      expect(second.count('transmissions')).toBe(stored.length);
      const dupes = second.query<{ n: number }>(
        'SELECT count(*) AS n FROM (SELECT transmission_id, observer_idx, path_json FROM observations GROUP BY 1, 2, 3 HAVING count(*) > 1)',
      );
      expect(dupes[0].n).toBe(0);
      expect(await second.stop()).toBe(0);
    });

    it(`a graceful stop acknowledges what it stored before disconnecting: after a restart nothing stored is delivered again (${mode})`, async () => {
      // A short queue: when it stops, most of the burst is still at the broker.
      const ingest = { batchSize: 50, flushIntervalMs: 5, highWaterMark: 200, workerThread };
      const first = await ingestor(`e2e-graceful-ingestor-${workerThread}`, ingest);
      const { messages, done } = await publishBurst('GRACE');
      await first.waitFor(() => first.count('observations') >= 300, 60_000, 'first rows');
      expect(await first.stop()).toBe(0);
      expect(first.count('observations')).toBeLessThan(messages.length);
      await done;

      const second = await ingestor(`e2e-graceful-ingestor-${workerThread}`, ingest, first.dir);
      await waitForAll(second, messages.length);
      expect(second.count('observations')).toBe(messages.length);
      // Every packet counts once on its observer: a redelivered stored message would count twice.
      expect(second.query<{ n: number }>('SELECT sum(packet_count) AS n FROM observers')[0].n).toBe(messages.length);
      expect(await second.stop()).toBe(0);
    });
  }
});
