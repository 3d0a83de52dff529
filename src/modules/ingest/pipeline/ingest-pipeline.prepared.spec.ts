/**
 * apply() with what the preparation worker sends: a copy of a recent transmission arrives without
 * decoded_json, and the writer must still store exactly what one thread would have stored.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { IngestCounters } from '../../stats/ingest-counters';
import type { IngestMessage } from '../ingest-message';
import type { PreparedPacket } from '../preparation/prepared-message';
import { NOW, packetTopic, pipelineHarness, uniquePacket, type PipelineHarness } from './pipeline.test-support';

describe('IngestPipeline.apply with a packet prepared without decoded_json', () => {
  let h: PipelineHarness;
  afterEach(() => h.close());

  function applyInBatch(message: IngestMessage, prepared: PreparedPacket): IngestCounters {
    const counters = new IngestCounters();
    h.writer.commitBatch([0], () => h.pipeline.apply(message, prepared, counters, NOW), (_, err) => {
      throw err;
    });
    return counters;
  }

  const message = (observer: string): IngestMessage => ({
    source: 'test',
    topic: packetTopic(observer),
    payload: Buffer.from(JSON.stringify({ raw: uniquePacket(1), SNR: -3 })),
  });

  it('the transmission is not stored after all: prepares the message again and stores its decoded_json', async () => {
    h = await pipelineHarness();
    const full = h.pipeline.preparer.prepare(message('obs1')) as PreparedPacket;
    expect(full.decodedJson).toMatch(/^\{"type":/);
    const counters = applyInBatch(message('obs1'), { ...full, decodedJson: null });
    expect(counters.values).toMatchObject({ tx_inserted: 1, obs_inserted: 1 });
    expect(h.value('SELECT decoded_json FROM transmissions')).toBe(full.decodedJson);
  });

  it('the transmission is stored: nothing is prepared again', async () => {
    h = await pipelineHarness();
    h.send(packetTopic('obs1'), { raw: uniquePacket(1) });
    const copy = h.pipeline.preparer.prepare(message('obs2')) as PreparedPacket;
    const prepare = vi.spyOn(h.pipeline.preparer, 'prepare');
    const counters = applyInBatch(message('obs2'), { ...copy, decodedJson: null });
    expect(prepare).not.toHaveBeenCalled();
    expect(counters.values).toMatchObject({ tx_dupes: 1, obs_inserted: 1 });
    expect(h.count('observations')).toBe(2);
    expect(h.value('SELECT decoded_json FROM transmissions')).toBe(copy.decodedJson);
  });
});
