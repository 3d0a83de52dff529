import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCorpus, packetMessage } from './support/corpus';
import { storedCorpusPackets } from './support/expected';
import { IngestorProcess } from './support/ingestor-process';
import { MosquittoInstance } from './support/mosquitto';
import { publishAll, publisher } from './support/publisher';

const stored = storedCorpusPackets(loadCorpus());
const OBSERVERS = 12;

describe('e2e: QoS 1 with a persistent session survives SIGKILL (issue 5, 7e)', () => {
  const broker = new MosquittoInstance();
  let first: IngestorProcess;
  let second: IngestorProcess | undefined;

  beforeAll(async () => {
    await broker.start();
  });

  afterAll(async () => {
    await first?.kill();
    await second?.stop();
    second?.dispose();
    await broker.dispose();
  });

  it('stores every published message exactly once across a crash and restart', async () => {
    const config = {
      mqttSources: [{ name: 'durable', broker: broker.url, qos: 1, clientId: 'e2e-durable-ingestor', sessionExpirySec: 3600 }],
      // Small batches so the crash lands between commits, not before the first one.
      ingest: { batchSize: 50, flushIntervalMs: 5 },
    };
    first = await new IngestorProcess({ config }).start();
    await first.waitFor(() => /subscribed to meshcore\/#/.test(first.logs), 20_000, 'subscribed');

    const messages = [];
    for (let o = 0; o < OBSERVERS; o++) for (const p of stored) messages.push(packetMessage(p, `DURABLE${String(o).padStart(2, '0')}`));
    const pub = await publisher(broker.url);
    const publishing = publishAll(pub, messages, 1);
    // Kill mid-burst: some rows committed, others in flight or still queued at the broker.
    await first.waitFor(() => first.count('observations') >= 300, 60_000, 'first rows');
    await first.kill();
    const beforeRestart = first.count('observations');
    expect(beforeRestart).toBeLessThan(messages.length);
    await publishing;
    await pub.endAsync();

    second = await new IngestorProcess({ config, dir: first.dir }).start();
    await second.waitFor(() => second!.count('observations') >= messages.length, 120_000, 'all rows after restart');
    await new Promise((r) => setTimeout(r, 1000));
    expect(second.count('observations')).toBe(messages.length);
    expect(second.count('transmissions')).toBe(stored.length);
    const dupes = second.query<{ n: number }>(
      'SELECT count(*) AS n FROM (SELECT transmission_id, observer_idx, path_json FROM observations GROUP BY 1, 2, 3 HAVING count(*) > 1)',
    );
    expect(dupes[0].n).toBe(0);
  });
});

describe('e2e: QoS 1, graceful shutdown mid-burst (issue 5, 7e)', () => {
  const broker = new MosquittoInstance();
  let first: IngestorProcess;
  let second: IngestorProcess | undefined;

  beforeAll(async () => {
    await broker.start();
  });

  afterAll(async () => {
    await first?.kill();
    await second?.stop();
    second?.dispose();
    await broker.dispose();
  });

  it('acknowledges what it stored before disconnecting: after a restart nothing stored is delivered again', async () => {
    const config = {
      mqttSources: [{ name: 'durable', broker: broker.url, qos: 1, clientId: 'e2e-graceful-ingestor', sessionExpirySec: 3600 }],
      // A short queue: when it stops, most of the burst is still at the broker.
      ingest: { batchSize: 50, flushIntervalMs: 5, highWaterMark: 200 },
    };
    first = await new IngestorProcess({ config }).start();
    await first.waitFor(() => /subscribed to meshcore\/#/.test(first.logs), 20_000, 'subscribed');
    const messages = [];
    for (let o = 0; o < OBSERVERS; o++) for (const p of stored) messages.push(packetMessage(p, `GRACE${String(o).padStart(2, '0')}`));
    const pub = await publisher(broker.url);
    const publishing = publishAll(pub, messages, 1);
    await first.waitFor(() => first.count('observations') >= 300, 60_000, 'first rows');
    expect(await first.stop()).toBe(0);
    expect(first.count('observations')).toBeLessThan(messages.length);
    await publishing;
    await pub.endAsync();

    second = await new IngestorProcess({ config, dir: first.dir }).start();
    await second.waitFor(() => second!.count('observations') >= messages.length, 120_000, 'all rows after restart');
    await new Promise((r) => setTimeout(r, 1000));
    expect(second.count('observations')).toBe(messages.length);
    // Every packet counts once on its observer: a redelivered stored message would count twice.
    const counted = second.query<{ n: number }>('SELECT sum(packet_count) AS n FROM observers')[0].n;
    expect(counted).toBe(messages.length);
  });
});
