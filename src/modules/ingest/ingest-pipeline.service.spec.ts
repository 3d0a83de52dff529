import { Logger } from '@nestjs/common';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AppConfig } from '../../config/config.types';
import { DecoderService } from '../decoder/decoder.service';
import { DatabaseService } from '../persistence/database.service';
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
      { connection: h.db } as unknown as DatabaseService,
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
      const service = new IngestPipelineService(config, new DecoderService(config), { connection: h.db } as unknown as DatabaseService, new IngestStatsService());
      service.onModuleInit();
      askedForWorker.push(warn.mock.calls.some(([line]) => String(line).includes('preparation worker script not found')));
      expect(service.preparesOffThread).toBe(false);
      await service.onApplicationShutdown();
    }
    expect(askedForWorker).toEqual([false, false, true]);
    await h.close();
  });
});
