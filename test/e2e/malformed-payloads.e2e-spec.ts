import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCorpus, packetMessage } from './support/corpus';
import { storedCorpusPackets } from './support/expected';
import { IngestorProcess } from './support/ingestor-process';
import { MosquittoInstance } from './support/mosquitto';
import { publishAll, publisher } from './support/publisher';

/** decode errors sent by the tests of this file (the summary line at shutdown must account for all). */
let expectedDecodeErrors = 0;
const stored = storedCorpusPackets(loadCorpus()).slice(0, 200);
const topic = 'meshcore/SJC/BADMSGS01/packets';

/** Bad messages of every kind the issue lists, with the counter each must move. */
const bad: Array<{ payload: string | Buffer; counter: 'not_json_object' | 'decode_errors' }> = [
  { payload: 'not json at all', counter: 'not_json_object' },
  { payload: '[1,2,3]', counter: 'not_json_object' },
  { payload: '"just a string"', counter: 'not_json_object' },
  { payload: Buffer.from([0xff, 0xfe, 0x00, 0x01]), counter: 'not_json_object' },
  { payload: '{"raw": "zz-not-hex"}', counter: 'decode_errors' },
  { payload: '{"raw": "0A0"}', counter: 'decode_errors' },
  { payload: JSON.stringify({ raw: 'A'.repeat(1_000_000) }), counter: 'decode_errors' },
  { payload: 'x'.repeat(1_000_000), counter: 'not_json_object' },
  // Truncated packets: header + a path byte claiming more hops than present.
  { payload: '{"raw": "0105AABB"}', counter: 'decode_errors' },
  { payload: '{"raw": "11"}', counter: 'decode_errors' },
];

describe('e2e: malformed payloads interleaved with good ones (issue 5, 7d)', () => {
  const broker = new MosquittoInstance();
  let ingestor: IngestorProcess;

  beforeAll(async () => {
    await broker.start();
    ingestor = await new IngestorProcess({ config: { mqttSources: [{ name: 'local', broker: broker.url }] } }).start();
    await ingestor.waitFor(() => /subscribed to meshcore\/#/.test(ingestor.logs), 20_000, 'subscribed');
  });

  afterAll(async () => {
    await ingestor?.stop();
    ingestor?.dispose();
    await broker.dispose();
  });

  it('stores every good message, counts every bad one, and stays up', async () => {
    const messages: Array<{ topic: string; payload: string | Buffer }> = [];
    stored.forEach((p, i) => {
      messages.push(packetMessage(p, 'GOODOBS01'));
      if (i % 20 === 0) messages.push({ topic, payload: bad[(i / 20) % bad.length].payload });
    });
    const pub = await publisher(broker.url);
    await publishAll(pub, messages);
    await pub.endAsync();

    await ingestor.waitFor(() => ingestor.count('observations') >= stored.length, 60_000, 'good rows');
    await ingestor.waitFor(
      async () => (await ingestor.fetchJson<{ counters: { messages_processed: number } }>('/api/stats')).counters.messages_processed >= messages.length,
      30_000,
      'all processed',
    );
    expect(ingestor.count('transmissions')).toBe(stored.length);
    expect(ingestor.count('observations')).toBe(stored.length);

    const stats = await ingestor.fetchJson<{ counters: Record<string, number>; dropped: Record<string, number> }>('/api/stats');
    const sent = bad.slice(0, messages.length - stored.length);
    const expectDecodeErrors = sent.filter((b) => b.counter === 'decode_errors').length;
    const expectNotJson = sent.filter((b) => b.counter === 'not_json_object').length;
    expect(stats.counters.decode_errors).toBe(expectDecodeErrors);
    expect(stats.dropped.not_json_object).toBe(expectNotJson);
    expect((await ingestor.fetchJson<{ status: string }>('/api/health/live')).status).toBe('ok');
    // Decode errors are logged on one sanitized line each, with the observer id cut to 8 characters.
    expect(ingestor.logs).toMatch(/decode error: .*observer=BADMSGS0 rawHexLen=/);
    expect(ingestor.logs).not.toContain('A'.repeat(200));
  });

  it('a flood of 1 000 bad messages writes at most 5 full lines per minute for the source; every one is counted', async () => {
    const before = await ingestor.fetchJson<{ counters: Record<string, number> }>('/api/stats');
    const pub = await publisher(broker.url);
    await publishAll(
      pub,
      Array.from({ length: 1000 }, (_, i) => ({ topic, payload: `{"raw": "zz${i}"}` })),
    );
    await pub.endAsync();
    await ingestor.waitFor(
      async () => (await ingestor.fetchJson<{ counters: Record<string, number> }>('/api/stats')).counters.decode_errors >= before.counters.decode_errors + 1000,
      30_000,
      'flood counted',
    );
    const after = await ingestor.fetchJson<{ counters: Record<string, number> }>('/api/stats');
    expect(after.counters.decode_errors - before.counters.decode_errors).toBe(1000);
    expectedDecodeErrors = after.counters.decode_errors;
    const fullLines = ingestor.logs.split('\n').filter((l) => /MQTT \[local\] decode error: (?!\d+ more)/.test(l));
    expect(fullLines.length).toBeLessThanOrEqual(5);
    // What the limit left out is counted (same window: the test's messages came within the minute).
    expect(after.counters.log_lines_suppressed).toBe(after.counters.decode_errors - fullLines.length);
  });

  it('exits 0 on SIGTERM after an orderly shutdown with the final stats line', async () => {
    expect(await ingestor.stop()).toBe(0);
    expect(ingestor.logs).toMatch(/Shutting down\.\.\. \(SIGTERM\)/);
    expect(ingestor.logs).toMatch(/\[stats\] tx_inserted=\d+ tx_dupes=\d+ obs_inserted=\d+/);
    expect(ingestor.logs).toMatch(/Done\./);
    // The open window's summary is written at shutdown, with the exact count left out.
    const stats = ingestor.logs.match(/MQTT \[local\] decode error: (\d+) more in the last \d+ s/g) ?? [];
    const summarized = stats.reduce((n, line) => n + Number(/: (\d+) more/.exec(line)![1]), 0);
    const fullLines = ingestor.logs.split('\n').filter((l) => /MQTT \[local\] decode error: (?!\d+ more)/.test(l)).length;
    expect(summarized + fullLines).toBe(expectedDecodeErrors);
    expect(ingestor.logs).not.toMatch(/WARN.*disconnected from/);
  });
});
