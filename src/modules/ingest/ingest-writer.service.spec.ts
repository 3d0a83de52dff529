/**
 * IngestWriterService (the single writer loop) on a real migrated database with the real pipeline:
 * batch commits, counters applied once per committed batch, onCommitted only after the commit,
 * bad messages skipped with one sanitized log line, failed commits retried with backoff without
 * losing the batch (issue 4 item 7; TestConcurrentWrites, TestDBStats).
 */
import Database from 'better-sqlite3';
import { Logger } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AppConfig } from '../../config/config.types';
import type { DatabaseService } from '../persistence/database.service';
import { SqliteIngestStore } from '../persistence/sqlite/sqlite-ingest.store';
import { WriterPerf } from '../persistence/writer/writer-perf';
import type { IngestRepository } from '../persistence/repositories/ingest.repository';
import { IngestStatsService } from '../stats/ingest-stats.service';
import type { IngestMessage } from './ingest-message';
import type { IngestPipelineService } from './ingest-pipeline.service';
import type { PreparedMessage } from './preparation/prepared-message';
import { SqliteBatchWriter } from '../persistence/sqlite/sqlite-batch-writer';
import { IngestWriterService } from './ingest-writer.service';
import { buildChannelKeyMap } from '../decoder/channel-keys';
import { preparerSettingsOf } from './preparation/message-preparer';
import { PreparationStage } from './preparation/preparation-stage';
import path from 'node:path';
import { advertHex, dumpIngestTables, identity, NOW, packetTopic, pipelineHarness, readCorpus, statusTopic, uniquePacket, type HarnessOptions, type PipelineHarness } from './pipeline/pipeline.test-support';

/** Lets the writer loop run: microtasks plus a few turns of the (real) setImmediate queue. */
async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

interface Rig {
  h: PipelineHarness;
  writer: IngestWriterService;
  stats: IngestStatsService;
  database: DatabaseService;
  acks: string[];
  /** Submits a packet message; its ack records `label` (or throws when `throwOnAck`). */
  submit(label: string, topic: string, payload: unknown, options?: { throwOnAck?: boolean; onAck?: () => void }): void;
  /** Resolves when `n` acknowledgements have been recorded. */
  acked(n: number): Promise<void>;
}

const logs: Array<{ level: string; line: string }> = [];

/** Another connection takes the write lock; the writer's connection gives up at once (SQLITE_BUSY). */
function lockDatabase(rig: Rig): Database.Database {
  rig.h.db.pragma('busy_timeout = 0');
  const other = new Database(rig.h.database.dbPath);
  other.exec('BEGIN IMMEDIATE');
  return other;
}

/** A repository whose observer upsert fails (a constraint error) for packets of one observer. */
function failingObserver(observerId: string): HarnessOptions['wrapRepository'] {
  return (real) =>
    new Proxy(real, {
      get(target, prop) {
        const value = Reflect.get(target, prop) as unknown;
        if (prop === 'upsertPacketObserver') {
          return (row: Parameters<IngestRepository['upsertPacketObserver']>[0]) => {
            if (row.id === observerId) throw Object.assign(new Error('CHECK constraint failed'), { code: 'SQLITE_CONSTRAINT_CHECK' });
            return target.upsertPacketObserver(row);
          };
        }
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
}
const stages: PreparationStage[] = [];

async function rig(
  options: HarnessOptions & {
    batchSize: number;
    flushIntervalMs?: number;
    highWaterMark?: number;
    bufferSize?: number;
    workerThread?: boolean;
    /** The writer sees a preparation off its thread (batches taken ahead) that resolves at once: the worker's path under fake timers. */
    simulateOffThread?: boolean;
  },
): Promise<Rig> {
  const h = await pipelineHarness(options);
  // The real preparation stage (its worker thread is the compiled dist/ script) or the writer thread.
  const stage = new PreparationStage({
    useWorker: options.workerThread ?? false,
    workerData: { settings: preparerSettingsOf(h.config), channelKeys: buildChannelKeyMap({ hashChannels: h.config.hashChannels, channelKeys: h.config.channelKeys }), hashRegions: [...h.config.hashRegions] },
    inline: h.pipeline.preparer,
    logger: { warn: (l) => logs.push({ level: 'warn', line: l }), error: (l) => logs.push({ level: 'error', line: l }) },
    workerScript: path.resolve(__dirname, '../../../dist/modules/ingest/preparation/preparation.worker.js'),
  });
  stages.push(stage);
  const config = { ...h.config, ingest: { batchSize: options.batchSize, flushIntervalMs: options.flushIntervalMs ?? 0, highWaterMark: options.highWaterMark ?? 5_000 }, ingestBufferSize: options.bufferSize ?? 10_000 } as AppConfig;
  let tick = 0;
  let loggedUpTo = 0;
  const pipeline = {
    // explicit, monotonically increasing ingest clock (one second per handled message)
    get preparesOffThread() {
      return options.simulateOffThread || stage.usesWorker;
    },
    prepareBatch: (messages: IngestMessage[]) => stage.prepare(messages),
    prepareNow: (message: IngestMessage) => h.pipeline.preparer.prepare(message),
    apply: (message: IngestMessage, prepared: PreparedMessage, counters: Parameters<IngestPipelineService['apply']>[2]) =>
      h.pipeline.apply(message, prepared, counters, NOW + 1000 * tick++),
    // Like the service: the lines of a rolled-back attempt are forgotten.
    flushLogs: () => (loggedUpTo = h.logs.length),
    discardLogs: () => (h.logs.length = loggedUpTo),
    // The writer's own held and per-message lines (no rate limit here: ingest-pipeline.service.spec covers it).
    holdLine: (level: 'log' | 'warn' | 'debug', line: string) => h.logs.push({ level, line }),
    logPerMessage: (level: 'warn' | 'error', line: string) => logs.push({ level, line }),
    flushLogSummaries: () => undefined,
  } as unknown as IngestPipelineService;
  const sqliteWriter = new SqliteBatchWriter(h.db);
  const database = {
    engine: 'sqlite',
    connection: h.db,
    writer: sqliteWriter,
    ingestStore: new SqliteIngestStore(sqliteWriter, h.pipeline.batchScope as IngestRepository),
    writerPerf: new WriterPerf(1e9, () => {}),
  } as unknown as DatabaseService;
  const stats = new IngestStatsService();
  const writer = new IngestWriterService(config, pipeline, database, stats);
  const acks: string[] = [];
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const notify = () => {
    for (const w of waiters.filter((w) => acks.length >= w.n)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  };
  return {
    h,
    writer,
    stats,
    database,
    acks,
    submit(label, topic, payload, submitOptions = {}) {
      writer.submit({
        source: 'test',
        topic,
        payload: Buffer.from(JSON.stringify(payload)),
        onCommitted: () => {
          if (submitOptions.throwOnAck) throw new Error('ack failed: client disconnected');
          submitOptions.onAck?.();
          acks.push(label);
          notify();
        },
      });
    },
    acked(n) {
      if (acks.length >= n) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
  };
}

describe('IngestWriterService', { timeout: 15_000 }, () => {
  let r: Rig | undefined;
  beforeEach(() => {
    logs.length = 0;
    for (const level of ['log', 'warn', 'error', 'debug'] as const) {
      vi.spyOn(Logger.prototype, level).mockImplementation((message: unknown) => {
        logs.push({ level, line: String(message) });
      });
    }
  });
  afterEach(async () => {
    vi.useRealTimers();
    if (r) {
      await r.writer.beforeApplicationShutdown();
      await r.h.close();
      r = undefined;
    }
    for (const stage of stages.splice(0)) await stage.close();
    vi.restoreAllMocks();
  });

  it('intake pauses at the buffer capacity before start and at highWaterMark once writing; waitForRoom resolves below half', async () => {
    r = await rig({ batchSize: 100, highWaterMark: 4, bufferSize: 10 });
    for (let i = 1; i <= 6; i++) r.submit(`m${i}`, packetTopic('obs1'), { raw: uniquePacket(i) });
    // Start-up: the reference buffers up to ingestBufferSize before the write path opens.
    expect(r.writer.hasRoom()).toBe(true);
    for (let i = 7; i <= 10; i++) r.submit(`m${i}`, packetTopic('obs1'), { raw: uniquePacket(i) });
    expect(r.writer.hasRoom()).toBe(false);
    let released = false;
    const room = r.writer.waitForRoom().then(() => (released = true));
    r.writer.start();
    // Writing: 10 queued ≥ highWaterMark 4 → no room until the batch commits.
    expect(r.writer.hasRoom()).toBe(false);
    await r.acked(10);
    await room;
    expect(released).toBe(true);
    expect(r.writer.hasRoom()).toBe(true);
    expect(r.writer.hasRoom(4)).toBe(false);
  });

  it('with the worker thread and a backlog (next batch prepared while one commits) it stores exactly what one thread stores', async () => {
    const corpus = readCorpus();
    const stored: Array<Record<string, unknown[]>> = [];
    for (const workerThread of [false, true]) {
      r = await rig({ batchSize: 64, workerThread });
      // Three observers hear every corpus packet (dedup), with statuses in between.
      for (const [i, line] of corpus.entries()) {
        for (const observer of ['obsA', 'obsB', 'obsC']) r.submit(`${i}`, packetTopic(observer, line.iata), { raw: line.raw, SNR: -5, origin: observer });
        if (i % 100 === 0) r.submit('status', statusTopic('obsA'), { status: 'online', origin: 'obsA', model: `m${i}` });
      }
      const total = corpus.length * 3 + Math.ceil(corpus.length / 100);
      r.writer.start();
      await r.acked(total);
      expect(r.stats.get('batches_committed')).toBeGreaterThan(total / 64 - 1);
      stored.push(dumpIngestTables(r.h.db));
      await r.writer.beforeApplicationShutdown();
      await r.h.close();
      r = undefined;
    }
    expect(stored[0].observations.length).toBe(3 * (corpus.length - 1));
    expect(stored[1]).toStrictEqual(stored[0]);
    expect(logs.filter((l) => l.level !== 'log')).toEqual([]);
  });

  it('commits FIFO batches of batchSize; counters applied per committed batch; onCommitted sees committed rows', async () => {
    r = await rig({ batchSize: 3 });
    const reader = new Database(r.h.database.dbPath, { readonly: true });
    try {
      const visibleAtAck: number[] = [];
      for (let i = 1; i <= 7; i++) {
        r.submit(`m${i}`, packetTopic(`obs${i % 2}`), { raw: uniquePacket(i) }, {
          // another connection already sees the message's transmission: the commit happened first
          onAck: () => visibleAtAck.push(reader.prepare('SELECT COUNT(*) FROM transmissions').pluck().get() as number),
        });
      }
      r.writer.start();
      await r.acked(7);
      expect(r.acks).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']);
      expect(visibleAtAck).toEqual([3, 3, 3, 6, 6, 6, 7]);
      expect(r.stats.snapshot().counters).toMatchObject({
        messages_received: 7,
        messages_processed: 7,
        batches_committed: 3,
        tx_inserted: 7,
        obs_inserted: 7,
        observer_upserts: 7,
        commit_retries: 0,
        message_errors: 0,
      });
      expect(r.h.count('transmissions')).toBe(7);
      // Each committed batch is one hold of the writer by the mqtt_handler component (ingestor-spec §6.4).
      expect(r.database.writerPerf.snapshot().mqtt_handler).toMatchObject({ count: 3, contention_total: 0 });
    } finally {
      reader.close();
    }
  });

  it('TestDBStats: counters follow what was written (dupes, nodes, status, drops)', async () => {
    r = await rig({ batchSize: 10 });
    const advert = advertHex(identity(60), { nodeType: 2, name: 'R' });
    r.submit('a', packetTopic('obs1'), { raw: advert });
    r.submit('b', packetTopic('obs2'), { raw: advert });
    r.submit('c', statusTopic('obs1'), { origin: 'x', stats: { noise_floor: -100 } });
    r.submit('d', packetTopic('obs1'), { raw: 'zz' });
    r.submit('e', packetTopic('obs1'), { raw: advertHex(identity(61), { nodeType: 2, name: 'Bad' }, { tamper: true }) });
    r.submit('f', 'meshcore/status', { raw: advert });
    r.writer.start();
    await r.acked(6);
    expect(r.stats.snapshot().counters).toMatchObject({
      tx_inserted: 1,
      tx_dupes: 1,
      obs_inserted: 2,
      node_upserts: 2,
      observer_upserts: 3,
      status_messages: 1,
      decode_errors: 1,
      sig_drops: 1,
      walCommits: 2,
      messages_processed: 6,
    });
    expect(r.stats.dropped('ignored_topic')).toBe(1);
    expect(r.stats.summaryLine()).toBe('[stats] tx_inserted=1 tx_dupes=1 obs_inserted=2 node_upserts=2 observer_upserts=3 write_errors=0 sig_drops=1');
  });

  it('a message failing anywhere is logged on one sanitized line, counted and skipped; the rest of the batch commits', async () => {
    const decoderBomb = uniquePacket(2);
    r = await rig({
      batchSize: 10,
      decode: (raw, ctx, real) => {
        if (raw === decoderBomb) throw new TypeError('decoder\nexploded\r\u001b[31m');
        return real(raw, ctx);
      },
      wrapRepository: failingObserver('poison'),
    });
    r.submit('ok1', packetTopic('obs1'), { raw: uniquePacket(1) });
    r.submit('bomb', 'meshcore/SJC/obs\nX/packets', { raw: decoderBomb });
    r.submit('poison', packetTopic('poison'), { raw: uniquePacket(3) });
    r.submit('ok2', packetTopic('obs2'), { raw: uniquePacket(4) });
    r.writer.start();
    await r.acked(4);
    // skipped messages are final: they are acknowledged with the batch
    expect(r.acks).toEqual(['ok1', 'bomb', 'poison', 'ok2']);
    expect(r.h.rows('SELECT id FROM observers ORDER BY id').map((row) => row.id)).toEqual(['obs1', 'obs2']);
    expect(r.h.count('transmissions')).toBe(2);
    expect(r.stats.snapshot().counters).toMatchObject({ message_errors: 2, write_errors: 1, tx_inserted: 2, observer_upserts: 2, batches_committed: 1, messages_processed: 4 });
    // The decoder's failure is reported by the pipeline (it happened before any write), the
    // constraint failure by the writer; both on one sanitized line with the same wording.
    const skipped = [...r.h.logs, ...logs].filter((l) => l.line.includes('skipped'));
    expect(skipped.map((l) => l.level)).toEqual(['warn', 'warn']);
    expect(skipped[0].line).toBe('[writer] message on meshcore/SJC/obs?X/packets from [test] skipped: decoder?exploded??[31m');
    expect(skipped[1].line).toBe('[writer] message on meshcore/SJC/poison/packets from [test] skipped: CHECK constraint failed');
    for (const l of skipped) expect(l.line).not.toMatch(/[\u0000-\u001f]/);
  });

  it('a replay capture line whose writes fail is logged under the topic and source the line names', async () => {
    r = await rig({
      batchSize: 10,
      wrapRepository: failingObserver('poison'),
    });
    const line = JSON.stringify({ topic: packetTopic('poison'), payload: { raw: uniquePacket(1) }, source: 'east' });
    let committed: PreparedMessage | undefined;
    r.writer.submit({ source: 'replay', topic: '', payload: Buffer.from(line), captureLine: 3, onCommitted: (p) => (committed = p) });
    r.writer.start();
    await r.writer.drain();
    expect(committed).toMatchObject({ kind: 'captured', topic: packetTopic('poison'), source: 'east' });
    expect(r.h.logs.filter((l) => l.line.includes('skipped')).map((l) => l.line)).toEqual([
      '[writer] message on meshcore/SJC/poison/packets from [east] skipped: CHECK constraint failed',
    ]);
  });

  it('at shutdown with the database locked the backoff runs once: batches still ahead get one attempt each', async () => {
    // Batches are taken ahead only for the worker thread.
    r = await rig({ batchSize: 2, simulateOffThread: true });
    const other = lockDatabase(r);
    try {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
      for (let i = 1; i <= 6; i++) r.submit(`m${i}`, packetTopic('obs1'), { raw: uniquePacket(i) });
      r.writer.start();
      await settle();
      let done = false;
      void r.writer.beforeApplicationShutdown().then(() => (done = true));
      let waitedMs = 0;
      while (!done && waitedMs < 600_000) {
        await vi.advanceTimersByTimeAsync(1000);
        waitedMs += 1000;
      }
      expect(done).toBe(true);
      // 10 s of draining, one backoff to 30 s (~51 s of sleeps), then one attempt per batch ahead;
      // a backoff per batch took three times as long.
      expect(waitedMs).toBeLessThan(100_000);
      const gaveUp = logs.filter((l) => l.line.includes('giving up at shutdown')).map((l) => l.line);
      expect(gaveUp).toHaveLength(3);
      expect(gaveUp[0]).toBe('[writer] giving up at shutdown: 2 message(s) not written');
      expect(gaveUp[1]).toMatch(/^\[writer\] giving up at shutdown: 2 message\(s\) not written \(.*database is locked.*\)$/);
      expect(r.acks).toEqual([]);
    } finally {
      other.close();
    }
  });

  it('takes batches ahead of the commit only for the worker thread: on one thread the rest waits in the buffer', async () => {
    for (const offThread of [false, true]) {
      r = await rig({ batchSize: 2, simulateOffThread: offThread });
      const other = lockDatabase(r);
      try {
        vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
        for (let i = 1; i <= 7; i++) r.submit(`m${i}`, packetTopic('obs1'), { raw: uniquePacket(i) });
        r.writer.start();
        await settle();
        await vi.advanceTimersByTimeAsync(0);
        expect(r.stats.get('commit_retries')).toBe(1);
        // One batch in its commit; with the worker two more are out of the buffer being prepared.
        expect(r.writer.buffer.pending).toBe(offThread ? 1 : 5);
        // Nothing is lost either way once the lock is gone.
        other.exec('ROLLBACK');
        await vi.advanceTimersByTimeAsync(100);
        await r.acked(7);
      } finally {
        other.close();
        vi.useRealTimers();
      }
      expect(r.h.count('observations')).toBe(7);
      await r.writer.beforeApplicationShutdown();
      await r.h.close();
      r = undefined;
    }
  });

  it('a commit blocked by another connection (SQLITE_BUSY) is retried with backoff; nothing lost, counted once', async () => {
    r = await rig({ batchSize: 10 });
    const other = lockDatabase(r);
    try {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      for (let i = 1; i <= 3; i++) r.submit(`m${i}`, packetTopic('obs1'), { raw: uniquePacket(i) });
      r.writer.start();
      await settle();
      const retries = () => r!.stats.get('commit_retries');
      expect(retries()).toBe(1);
      expect(r.acks).toEqual([]);
      expect(r.h.count('transmissions')).toBe(0);
      expect(r.stats.get('tx_inserted')).toBe(0);

      await vi.advanceTimersByTimeAsync(99);
      await settle();
      expect(retries()).toBe(1); // first backoff is 100 ms
      await vi.advanceTimersByTimeAsync(1);
      await settle();
      expect(retries()).toBe(2); // still locked

      other.exec('ROLLBACK');
      await vi.advanceTimersByTimeAsync(199);
      await settle();
      expect(r.acks).toEqual([]); // second backoff is 200 ms
      await vi.advanceTimersByTimeAsync(1);
      await r.acked(3);
      expect(r.acks).toEqual(['m1', 'm2', 'm3']);
      expect(r.h.count('transmissions')).toBe(3);
      expect(r.stats.snapshot().counters).toMatchObject({ commit_retries: 2, tx_inserted: 3, obs_inserted: 3, batches_committed: 1, messages_processed: 3, message_errors: 0 });
      const retryLines = logs.filter((l) => l.line.includes('retrying in')).map((l) => l.line);
      expect(retryLines).toHaveLength(2);
      expect(retryLines[0]).toMatch(/^\[writer\] commit of 3 message\(s\) failed: .*database is locked.*; retrying in 100 ms \(nothing is dropped\)$/);
      expect(retryLines[1]).toContain('retrying in 200 ms');
    } finally {
      other.close();
    }
  });

  it('an infrastructure error inside a message (SQLITE_FULL) rolls the batch back and retries it whole; counters counted once', async () => {
    let failures = 0;
    r = await rig({
      batchSize: 10,
      wrapRepository: (real) =>
        new Proxy(real, {
          get(target, prop) {
            const value = Reflect.get(target, prop) as unknown;
            if (prop === 'insertTransmission') {
              return (row: Parameters<IngestRepository['insertTransmission']>[0]) => {
                if (row.rawHex === uniquePacket(2) && failures === 0) {
                  failures++;
                  throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
                }
                return target.insertTransmission(row);
              };
            }
            return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
          },
        }),
    });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    for (let i = 1; i <= 3; i++) r.submit(`m${i}`, packetTopic(`obs${i}`), { raw: uniquePacket(i) });
    r.writer.start();
    await settle();
    expect(r.stats.get('commit_retries')).toBe(1);
    expect(r.h.count('transmissions')).toBe(0); // m1 was rolled back with the batch
    expect(r.acks).toEqual([]);
    await vi.advanceTimersByTimeAsync(100);
    await r.acked(3);
    expect(r.h.count('transmissions')).toBe(3);
    expect(r.stats.snapshot().counters).toMatchObject({ commit_retries: 1, tx_inserted: 3, observer_upserts: 3, message_errors: 0, write_errors: 0, batches_committed: 1 });
  });

  it('an onCommitted callback that throws does not stop the writer or the other acknowledgements', async () => {
    r = await rig({ batchSize: 2 });
    r.submit('m1', packetTopic('obs1'), { raw: uniquePacket(1) }, { throwOnAck: true });
    r.submit('m2', packetTopic('obs1'), { raw: uniquePacket(2) });
    r.submit('m3', packetTopic('obs1'), { raw: uniquePacket(3) });
    r.writer.start();
    await r.acked(2);
    expect(r.acks).toEqual(['m2', 'm3']);
    expect(r.h.count('transmissions')).toBe(3);
    expect(r.stats.get('batches_committed')).toBe(2);
    expect(r.writer.running).toBe(true);
    expect(logs.filter((l) => l.line.includes('failed after commit'))).toEqual([
      { level: 'warn', line: '[writer] acknowledgement of meshcore/SJC/obs1/packets failed after commit: ack failed: client disconnected' },
    ]);
  });

  it('TestConcurrentWrites: 20 interleaved producers, exact row counts, no busy errors or retries', async () => {
    r = await rig({ batchSize: 40, flushIntervalMs: 2 });
    const reader = new Database(r.h.database.dbPath, { readonly: true });
    const producers = 20;
    const perProducer = 25;
    try {
      r.writer.start();
      const readCounts: number[] = [];
      await Promise.all(
        Array.from({ length: producers }, async (_, p) => {
          for (let i = 0; i < perProducer; i++) {
            r!.submit(`p${p}-${i}`, packetTopic(`producer${p}`), { raw: uniquePacket(p * perProducer + i), SNR: p });
            // a concurrent reader on its own connection never blocks the writer (WAL)
            readCounts.push(reader.prepare('SELECT COUNT(*) FROM transmissions').pluck().get() as number);
            await new Promise<void>((resolve) => setImmediate(resolve));
          }
        }),
      );
      await r.acked(producers * perProducer);
      expect(r.h.count('transmissions')).toBe(producers * perProducer);
      expect(r.h.count('observations')).toBe(producers * perProducer);
      expect(r.h.count('observers')).toBe(producers);
      expect(r.h.value('SELECT MIN(packet_count) FROM observers')).toBe(perProducer);
      expect(r.stats.snapshot().counters).toMatchObject({
        messages_processed: producers * perProducer,
        tx_inserted: producers * perProducer,
        commit_retries: 0,
        message_errors: 0,
        write_errors: 0,
      });
      // the reader saw a non-decreasing committed count
      expect(readCounts).toEqual([...readCounts].sort((a, b) => a - b));
      // each producer's messages were acknowledged in submission order
      for (let p = 0; p < producers; p++) {
        const mine = r.acks.filter((a) => a.startsWith(`p${p}-`));
        expect(mine).toEqual(Array.from({ length: perProducer }, (_, i) => `p${p}-${i}`));
      }
    } finally {
      reader.close();
    }
  });
});
