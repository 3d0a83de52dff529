import { Logger } from '@nestjs/common';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AppConfig } from '../../config/config.types';
import { DecoderService } from '../decoder/decoder.service';
import type BetterSqlite3 from 'better-sqlite3';
import { DatabaseService } from '../persistence/database.service';
import { SqliteIngestStore } from '../persistence/sqlite/sqlite-ingest.store';
import { SqliteIngestRepository } from '../persistence/sqlite/sqlite-ingest.repository';
import { SqliteBatchWriter } from '../persistence/sqlite/sqlite-batch-writer';

/** The part of DatabaseService the pipeline service uses, on the harness's SQLite file. */
const sqliteDatabase = (db: BetterSqlite3.Database) =>
  ({ engine: 'sqlite', connection: db, ingestStore: new SqliteIngestStore(new SqliteBatchWriter(db), new SqliteIngestRepository(db)) }) as unknown as DatabaseService;
import { IngestCounters } from '../stats/ingest-counters';
import { IngestStatsService } from '../stats/ingest-stats.service';
import { IngestPipelineService } from './ingest-pipeline.service';
import { pipelineHarness } from './pipeline/pipeline.test-support';

describe('IngestPipelineService log holding', () => {
  afterEach(() => vi.restoreAllMocks());

  it('emits pipeline log lines only when the attempt is flushed, never for a discarded one', async () => {
    const h = await pipelineHarness({});
    const service = new IngestPipelineService(
      h.config as AppConfig,
      new DecoderService(h.config as AppConfig),
      sqliteDatabase(h.db),
      new IngestStatsService(),
    );
    service.onModuleInit();
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const bad = { source: 'local', topic: 'meshcore/SJC/OBS1/packets', payload: Buffer.from('{"raw":"zz"}') };

    service.handle(bad, new IngestCounters());
    expect(warn).not.toHaveBeenCalled();
    service.discardLogs();
    service.flushLogs();
    expect(warn).not.toHaveBeenCalled();

    service.handle(bad, new IngestCounters());
    service.flushLogs();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toContain('decode error');
    await h.close();
  });

  it('asks for the worker thread only when ingest.workerThread is true: unset (serve) and false prepare on the writer thread', async () => {
    const h = await pipelineHarness({});
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    // Run from src/, there is no compiled worker script: asking for the worker says so and falls back.
    const askedForWorker: boolean[] = [];
    for (const workerThread of [undefined, false, true]) {
      warn.mockClear();
      const config = { ...h.config, ingest: { ...(h.config as AppConfig).ingest, workerThread } } as AppConfig;
      const service = new IngestPipelineService(config, new DecoderService(config), sqliteDatabase(h.db), new IngestStatsService());
      service.onModuleInit();
      askedForWorker.push(warn.mock.calls.some(([line]) => String(line).includes('preparation worker script not found')));
      expect(service.preparesOffThread).toBe(false);
      await service.onApplicationShutdown();
    }
    expect(askedForWorker).toEqual([false, false, true]);
    await h.close();
  });
});

describe('IngestPipelineService per-message rate limit (README, "Bad input")', () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('1 000 bad messages from one source give the first 5 lines in full and one summary line; every one is counted', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'] });
    const h = await pipelineHarness({});
    const stats = new IngestStatsService();
    const service = new IngestPipelineService(h.config as AppConfig, new DecoderService(h.config as AppConfig), sqliteDatabase(h.db), stats);
    service.onModuleInit();
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const bad = (source: string) => ({ source, topic: 'meshcore/SJC/OBS1/packets', payload: Buffer.from('{"raw":"zz"}') });

    const counters = new IngestCounters();
    for (let i = 0; i < 1000; i++) service.handle(bad('hostile'), counters);
    // A quiet source keeps its own allowance.
    service.handle(bad('quiet'), counters);
    service.flushLogs();
    stats.commit(counters);

    const lines = () => warn.mock.calls.map(([line]) => String(line));
    expect(lines().filter((l) => l.includes('[hostile]'))).toHaveLength(5);
    expect(lines().filter((l) => l.includes('[quiet]'))).toHaveLength(1);
    expect(stats.snapshot().counters.decode_errors).toBe(1001);
    expect(stats.snapshot().counters.log_lines_suppressed).toBe(995);

    // The window ends with no further traffic: its timer writes one summary with the exact count.
    vi.advanceTimersByTime(60_000);
    const summaries = lines().filter((l) => l.includes('more in the last'));
    expect(summaries).toEqual([
      'MQTT [hostile] decode error: 995 more in the last 60 s (suppressed after 5 per minute; counted in /api/stats decode_errors)',
    ]);
    expect(warn).toHaveBeenCalledTimes(5 + 1 + 1);

    // A new window: full lines again.
    service.handle(bad('hostile'), counters);
    service.flushLogs();
    expect(warn).toHaveBeenCalledTimes(8);
    await service.onApplicationShutdown();
    await h.close();
  });

  it('lines of a rolled-back attempt never count against the limit; shutdown writes the open summary', async () => {
    const h = await pipelineHarness({});
    const stats = new IngestStatsService();
    const service = new IngestPipelineService(h.config as AppConfig, new DecoderService(h.config as AppConfig), sqliteDatabase(h.db), stats);
    service.onModuleInit();
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const bad = { source: 'east', topic: 'meshcore/SJC/OBS1/packets', payload: Buffer.from('{"raw":"zz"}') };

    for (let i = 0; i < 50; i++) service.handle(bad, new IngestCounters());
    service.discardLogs();
    for (let i = 0; i < 7; i++) service.handle(bad, new IngestCounters());
    service.flushLogs();
    expect(warn).toHaveBeenCalledTimes(5);

    await service.onApplicationShutdown();
    expect(warn).toHaveBeenCalledTimes(6);
    expect(String(warn.mock.calls[5][0])).toMatch(/^MQTT \[east\] decode error: 2 more in the last \d+ s/);
    await h.close();
  });
});
