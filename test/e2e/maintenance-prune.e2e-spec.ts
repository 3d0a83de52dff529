import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildChannelKeyMap } from '../../src/modules/decoder/channel-keys';
import { createDecodeContext } from '../../src/modules/decoder/decode-context';
import { ingestVerdict } from '../../src/modules/decoder/ingest-verdict';
import { decodePacket } from '../../src/modules/decoder/packet-decoder';
import { bigDatabaseModule, loadGenerator, type BigDatabaseMeta, type LoadGenerator } from './support/big-database';
import { IngestorProcess } from './support/ingestor-process';
import { MosquittoInstance } from './support/mosquitto';
import { publishAll, publisher } from './support/publisher';

/**
 * Issue 12, item 8: a packet-retention run started through the admin route on a database with more than
 * 200 000 old transmissions (bench/support/big-database.mjs, cached in the temp dir), while observers keep
 * publishing. Nothing published may be lost, and exactly the old transmissions and their observations go.
 */

const TOKEN = 'e2e-prune-token-7d21';
// 500 000 observations, 1–2 per transmission, 60 days, cut at 20 days: ~224 000 old transmissions.
const DATABASE = { observations: 500_000, fanoutMin: 1, fanoutMax: 2, warmupBacklog: 0, seed: 8 };
const SEED = 4_242;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface JobEntry {
  name: string;
  running: boolean;
  runs: number;
  lastRun: { startedAt: string; durationMs: number; result: string; rows: number | null } | null;
}

describe('e2e: packet retention on a large database while messages flow', () => {
  const broker = new MosquittoInstance();
  let ingestor: IngestorProcess;
  let meta: BigDatabaseMeta;
  let gen: LoadGenerator;

  beforeAll(async () => {
    const generator = await bigDatabaseModule();
    const big = await generator.ensureBigDatabase(DATABASE);
    meta = big.meta;
    gen = await loadGenerator(SEED);
    await broker.start();
    ingestor = new IngestorProcess({
      config: {
        mqttSources: [{ name: 'local', broker: broker.url, qos: 1, clientId: 'e2e-prune' }],
        // 0 at start: with a value the start-up prune would delete the old rows before the service is ready.
        retention: { packetDays: 0 },
        http: { adminToken: TOKEN },
      },
    });
    mkdirSync(dirname(ingestor.dbPath), { recursive: true });
    generator.copyDatabase(big.path, ingestor.dbPath);
    await ingestor.start();
    await ingestor.waitFor(async () => (await ingestor.fetchStatusCode('/api/health/ready')) === 200, 30_000, 'ready');
    // The retention days that delete exactly the generated old rows, applied by a reload as an operator would.
    const config = JSON.parse(readFileSync(ingestor.configFile, 'utf8'));
    config.retention.packetDays = generator.packetDaysFor(meta);
    writeFileSync(ingestor.configFile, JSON.stringify(config));
    const reload = await ingestor.post<{ ok: boolean }>('/api/maintenance/reload', TOKEN);
    expect(reload).toMatchObject({ status: 200, body: { ok: true } });
  }, 120_000);

  afterAll(async () => {
    await ingestor?.stop();
    ingestor?.dispose();
    await broker.dispose();
  });

  const job = async (name: string) => (await ingestor.fetchJson<{ jobs: JobEntry[] }>('/api/maintenance')).jobs.find((j) => j.name === name)!;
  // Not ingestor.count: that answers 0 when the query fails, and several checks below expect 0.
  const count = (from: string) => ingestor.query<{ n: number }>(`SELECT count(*) AS n FROM ${from}`)[0].n;
  const newRows = () => count(`observations WHERE id > ${meta.maxObsId}`);

  it('deletes exactly the old rows through the run route, and stores every message published meanwhile', async () => {
    const { counts } = meta;
    expect(counts.oldTx).toBeGreaterThanOrEqual(200_000);
    expect(count('transmissions')).toBe(counts.transmissions);
    expect(count('observations')).toBe(counts.observations);

    // Observers publish ~1 000 messages/s (QoS 1) until told to stop, at least 3 000 in all.
    const pub = await publisher(broker.url);
    const published: ReturnType<LoadGenerator['message']>[] = [];
    let stop = false;
    const publishing = (async () => {
      for (let i = 0; !stop || published.length < 3_000; ) {
        const batch = Array.from({ length: 50 }, () => gen.message(i++));
        await publishAll(pub, batch, 1, 50);
        published.push(...batch);
        await sleep(40);
      }
    })();
    await ingestor.waitFor(() => newRows() >= 500, 30_000, 'first new rows');

    const before = await job('packetRetention');
    const started = await ingestor.post<JobEntry>('/api/maintenance/packetRetention/run', TOKEN);
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ name: 'packetRetention', running: true });
    expect((await ingestor.post('/api/maintenance/packetRetention/run', TOKEN)).status).toBe(409);
    const publishedAtStart = published.length;
    await ingestor.waitFor(async () => {
      const entry = await job('packetRetention');
      return entry.runs > before.runs && !entry.running;
    }, 90_000, 'the prune to finish');
    const publishedDuringPrune = published.length - publishedAtStart;
    stop = true;
    await publishing;
    await pub.endAsync();

    const { lastRun } = await job('packetRetention');
    expect(lastRun).toMatchObject({ result: 'ok', rows: counts.oldTx + counts.oldObs });
    expect(publishedDuringPrune).toBeGreaterThan(100);

    // Every published message the service stores (decodable, advert checks and signatures pass) is there once:
    // as an observation by its observer with its raw packet, on a new transmission.
    const context = createDecodeContext(buildChannelKeyMap({}), { validateSignatures: true });
    const expected = published.filter((m) => ingestVerdict(decodePacket(m.hex, context), context) === 'stored');
    expect(expected.length).toBeGreaterThan(published.length * 0.9);
    await ingestor.waitFor(() => newRows() >= expected.length, 30_000, `${expected.length} new observations`);
    await sleep(500);
    const stored = ingestor.query<{ observer: string; raw: string; txId: number; ts: number }>(
      `SELECT obs.id AS observer, o.raw_hex AS raw, o.transmission_id AS txId, o.timestamp AS ts
         FROM observations o JOIN observers obs ON obs.rowid = o.observer_idx
        WHERE o.id > ?`,
      meta.maxObsId,
    );
    expect(stored.length).toBe(expected.length);
    const storedKeys = new Set(stored.map((row) => `${row.observer}|${row.raw.toUpperCase()}`));
    const missing = expected.filter((m) => !storedKeys.has(`${m.observerId}|${m.hex.toUpperCase()}`));
    expect(missing.length).toBe(0);
    expect(stored.filter((row) => row.txId <= meta.maxTxId)).toEqual([]);
    // Some of them were stored while the prune ran.
    const pruneStart = Date.parse(lastRun!.startedAt) / 1000;
    const pruneEnd = pruneStart + lastRun!.durationMs / 1000;
    expect(stored.filter((row) => row.ts > pruneStart && row.ts < pruneEnd - 1).length).toBeGreaterThan(0);

    // Exactly the old rows are gone: no transmission first seen before the cut, no observation of one, every
    // recent generated row still there.
    expect(count(`transmissions WHERE first_seen <= '${meta.oldFirstSeenMax}'`)).toBe(0);
    expect(count(`transmissions WHERE id <= ${meta.maxTxId}`)).toBe(counts.recentTx);
    expect(count(`transmissions WHERE id <= ${meta.maxTxId} AND first_seen >= '${meta.recentFirstSeenMin}'`)).toBe(counts.recentTx);
    expect(count(`observations WHERE id <= ${meta.maxObsId}`)).toBe(counts.recentObs);
    expect(count('observations WHERE transmission_id NOT IN (SELECT id FROM transmissions)')).toBe(0);
    expect(count('transmissions')).toBe(counts.recentTx + new Set(stored.map((row) => row.txId)).size);
  }, 150_000);
});
