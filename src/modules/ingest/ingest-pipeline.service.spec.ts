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
});
