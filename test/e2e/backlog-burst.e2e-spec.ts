import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCorpus, packetMessage } from './support/corpus';
import { storedCorpusPackets } from './support/expected';
import { IngestorProcess } from './support/ingestor-process';
import { MosquittoInstance } from './support/mosquitto';
import { publishAll, publisher } from './support/publisher';

const stored = storedCorpusPackets(loadCorpus());
const TARGET = 100_000;

// serve prepares on the writer's thread by default; the worker thread takes batches ahead of the commit.
for (const workerThread of [false, true]) {
  describe(`e2e: a 100 000-message flat-out burst (issue 5, 7f; ${workerThread ? 'worker thread' : 'one thread, the default'})`, () => {
    const broker = new MosquittoInstance({ maxQueuedMessages: 1_000_000 });
    let ingestor: IngestorProcess;

    beforeAll(async () => {
      await broker.start();
      ingestor = await new IngestorProcess({ config: { mqttSources: [{ name: 'burst', broker: broker.url }], ingest: { workerThread } } }).start();
      await ingestor.waitFor(() => /subscribed to meshcore\/#/.test(ingestor.logs), 20_000, 'subscribed');
    });

    afterAll(async () => {
      await ingestor?.stop();
      ingestor?.dispose();
      await broker.dispose();
    });

    it('stores every message with no keepalive timeout and no reconnect', async () => {
      const observers = Math.ceil(TARGET / stored.length);
      const messages = function* () {
        let n = 0;
        for (let o = 0; o < observers; o++) {
          for (const p of stored) {
            if (n++ >= TARGET) return;
            yield packetMessage(p, `BURST${String(o).padStart(3, '0')}`);
          }
        }
      };
      const pub = await publisher(broker.url);
      await publishAll(pub, messages(), 0, 2000);
      await pub.endAsync();

      await ingestor.waitFor(() => ingestor.count('observations') >= TARGET, 240_000, `${TARGET} observations`);
      expect(ingestor.count('observations')).toBe(TARGET);
      const [source] = (await ingestor.fetchJson<{ sources: Array<{ connectCount: number; disconnectCount: number }> }>('/api/mqtt/status')).sources;
      expect(source.connectCount).toBe(1);
      expect(source.disconnectCount).toBe(0);
      expect(ingestor.logs).not.toMatch(/Keepalive timeout|reconnecting to/);
    });
  });
}
