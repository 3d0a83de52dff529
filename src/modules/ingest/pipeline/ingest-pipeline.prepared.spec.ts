/**
 * apply() with what the preparation worker sends: a copy of a recent transmission arrives without
 * decoded_json, and the writer must still store exactly what one thread would have stored.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { IngestCounters } from '../../stats/ingest-counters';
import type { IngestMessage } from '../ingest-message';
import type { PreparedMessage, PreparedPacket } from '../preparation/prepared-message';
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

describe('IngestPipeline with replay capture lines', () => {
  let h: PipelineHarness;
  afterEach(() => h.close());

  it('prepares a capture line as the message it holds, with its topic and source, or says why it holds none', async () => {
    h = await pipelineHarness({ config: { mqttSources: [{ name: 'north', broker: 'tcp://localhost:1883', topics: ['#'], iataFilter: ['OAK'] }] } });
    const line = (text: string, n: number): IngestMessage => ({ source: 'replay', topic: '', payload: Buffer.from(text), captureLine: n });
    const held = { topic: packetTopic('obs1', 'SJC'), payload: { raw: uniquePacket(1) } };
    const plain = h.pipeline.preparer.prepare({ source: 'replay', ...held });
    expect(h.pipeline.preparer.prepare(line(JSON.stringify(held), 1))).toStrictEqual({ kind: 'captured', topic: held.topic, source: 'replay', message: plain });
    // the source named in the line brings its rules (north only takes OAK)
    expect(h.pipeline.preparer.prepare(line(JSON.stringify({ ...held, source: 'north' }), 2))).toMatchObject({
      kind: 'captured',
      source: 'north',
      message: { kind: 'drop', reason: 'source_iata_filter' },
    });
    expect(h.pipeline.preparer.prepare(line('{"topic":', 3))).toStrictEqual({ kind: 'invalid-line', line: 3, reason: 'not JSON' });
    expect(h.pipeline.preparer.prepare(line('{"payload":{}}', 4))).toStrictEqual({ kind: 'invalid-line', line: 4, reason: 'missing "topic"' });
  });

  it('applies a captured message under its own topic and source; a copy without decoded_json is prepared again from the line', async () => {
    h = await pipelineHarness();
    const text = JSON.stringify({ topic: packetTopic('obs1'), payload: { raw: uniquePacket(5) }, source: 'east' });
    const message: IngestMessage = { source: 'replay', topic: '', payload: Buffer.from(text), captureLine: 7 };
    const prepared = h.pipeline.preparer.prepare(message);
    if (prepared.kind !== 'captured' || prepared.message.kind !== 'packet') throw new Error('expected a captured packet');
    const full = prepared.message.decodedJson;
    const withoutJson: PreparedMessage = { ...prepared, message: { ...prepared.message, decodedJson: null } };
    const counters = new IngestCounters();
    h.writer.commitBatch([0], () => h.pipeline.apply(message, withoutJson, counters, NOW), (_, err) => {
      throw err;
    });
    expect(counters.values).toMatchObject({ tx_inserted: 1, obs_inserted: 1 });
    expect(h.value('SELECT decoded_json FROM transmissions')).toBe(full);
    expect(h.value("SELECT COUNT(*) FROM observers WHERE id = 'obs1'")).toBe(1);

    const bad = new IngestCounters();
    h.writer.commitBatch([0], () => h.pipeline.apply(message, { kind: 'invalid-line', line: 8, reason: 'not JSON' }, bad, NOW), () => undefined);
    expect(bad.values.invalid_lines).toBe(1);

    // log lines name the captured source and topic
    const undecodable: IngestMessage = { ...message, payload: Buffer.from(JSON.stringify({ topic: packetTopic('obs2'), payload: { raw: 'zz' }, source: 'east' })) };
    h.writer.commitBatch([0], () => h.pipeline.apply(undecodable, h.pipeline.preparer.prepare(undecodable), new IngestCounters(), NOW), () => undefined);
    expect(h.logs.map((l) => l.line)).toContainEqual(expect.stringMatching(/^MQTT \[east\] decode error: .*topic=meshcore\/SJC\/obs2\/packets/));
  });
});
