/**
 * The real-packet corpus (../shared/tools/corpus/real-packets.jsonl) through the real pipeline
 * and writer: every line as an observer packet, then again from other observers. Checks the
 * dedup arithmetic, hashes, from_pubkey, node and observer counts, and that batching does not
 * change the result (batch size 1 vs 500, full table dumps).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dumpIngestTables, NOW, packetTopic, pipelineHarness, readCorpus, type CorpusLine, type HarnessMessage, type PipelineHarness } from './pipeline.test-support';

const lines = readCorpus();
const REJECTED_HASH = '420a6702392db6b6';

function messagesFor(pass: 1 | 2): HarnessMessage[] {
  return lines.map((line, i) => ({
    topic: packetTopic(pass === 1 ? line.observer : `${line.observer}-pass2`, line.iata),
    payload: {
      raw: line.raw,
      SNR: ((i * 7) % 40) / 4 - 5, // deterministic synthetic radio values
      RSSI: -60 - ((i * 13) % 60),
      origin: line.observer_name,
    },
    nowMs: NOW + (pass - 1) * lines.length * 1000 + i * 1000,
  }));
}

/** ADVERT pubkey read straight from the raw bytes (independent of the decoder). */
function advertPubkey(line: CorpusLine): string | undefined {
  if (line.payload_type !== 4) return undefined;
  const bytes = Buffer.from(line.raw, 'hex');
  const routeType = bytes[0] & 0x03;
  const pathByteAt = routeType === 0 || routeType === 3 ? 5 : 1;
  const pathByte = bytes[pathByteAt];
  const payloadAt = pathByteAt + 1 + ((pathByte >> 6) + 1) * (pathByte & 0x3f);
  return bytes.length - payloadAt >= 100 ? bytes.toString('hex', payloadAt, payloadAt + 32) : undefined;
}

describe('real-packet corpus through the pipeline', () => {
  let one: PipelineHarness; // batch size 1
  let many: PipelineHarness; // batch size 500
  const passCounters: Array<Record<string, number>> = [];

  beforeAll(async () => {
    one = await pipelineHarness();
    many = await pipelineHarness();
    for (const pass of [1, 2] as const) {
      const before = { ...many.counters.values };
      many.sendAll(messagesFor(pass), 500);
      const after = many.counters.values;
      passCounters.push(Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - before[k as keyof typeof before]])));
      one.sendAll(messagesFor(pass), 1);
    }
  });
  afterAll(async () => {
    await one?.close();
    await many?.close();
  });

  it('the corpus has 499 lines of which exactly one is rejected by the decoder', () => {
    expect(lines).toHaveLength(499);
    expect(passCounters[0].decode_errors).toBe(1);
    expect(passCounters[1].decode_errors).toBe(1);
    expect(many.logs.filter((l) => l.line.includes('decode error')).map((l) => l.line)[0]).toContain('invalid path encoding');
  });

  it('transmissions = storable lines, observations = 2 × storable, tx_dupes = storable on the second pass', () => {
    const storable = lines.length - 1;
    expect(many.count('transmissions')).toBe(storable);
    expect(many.count('observations')).toBe(2 * storable);
    expect(passCounters[0]).toMatchObject({ tx_inserted: storable, tx_dupes: 0, obs_inserted: storable, message_errors: 0 });
    expect(passCounters[1]).toMatchObject({ tx_inserted: 0, tx_dupes: storable, obs_inserted: storable, message_errors: 0 });
    // every observation has its observer (observer row written before the observation)
    expect(many.count('observations', 'observer_idx IS NULL')).toBe(0);
  });

  it("every stored hash equals the line's hash, and raw_hex is the first observer's raw", () => {
    const stored = new Map(many.rows<{ raw_hex: string; hash: string }>('SELECT raw_hex, hash FROM transmissions').map((r) => [r.hash, r.raw_hex]));
    const rejected = lines.filter((line) => !stored.has(line.hash));
    expect(rejected.map((line) => line.hash)).toEqual([REJECTED_HASH]);
    for (const line of lines) if (line !== rejected[0]) expect(stored.get(line.hash)).toBe(line.raw);
  });

  it('from_pubkey is set exactly for adverts; nodes = distinct advert pubkeys', () => {
    const expectedByHash = new Map(lines.map((line) => [line.hash, advertPubkey(line) ?? null]));
    const rows = many.rows<{ hash: string; payload_type: number; from_pubkey: string | null }>('SELECT hash, payload_type, from_pubkey FROM transmissions');
    for (const row of rows) expect([row.hash, row.from_pubkey]).toEqual([row.hash, expectedByHash.get(row.hash)]);
    expect(rows.filter((r) => r.from_pubkey !== null).every((r) => r.payload_type === 4)).toBe(true);
    const pubkeys = new Set(lines.map(advertPubkey).filter((pk): pk is string => pk !== undefined));
    expect(pubkeys.size).toBeGreaterThan(50);
    expect(many.rows<{ public_key: string }>('SELECT public_key FROM nodes').map((r) => r.public_key).sort()).toEqual([...pubkeys].sort());
  });

  it('observer rows = distinct observers of each pass, named from origin', () => {
    // a decode error drops the message before the observer upsert: the observer of the rejected
    // line, which sent nothing else, has no row
    const observers = new Set(lines.filter((line) => line.hash !== REJECTED_HASH).map((line) => line.observer));
    expect(observers.size).toBe(new Set(lines.map((line) => line.observer)).size - 1);
    expect(many.count('observers')).toBe(2 * observers.size);
    const names = new Map(lines.map((line) => [line.observer, line.observer_name]));
    const rows = many.rows<{ id: string; name: string; iata: string }>('SELECT id, name, iata FROM observers');
    for (const row of rows.filter((r) => !r.id.endsWith('-pass2'))) expect(row.name).toBe(names.get(row.id));
    // packet_count of pass-1 observers = the lines they sent (the rejected line never reaches the upsert)
    const sent = new Map<string, number>();
    for (const line of lines) if (line.hash !== REJECTED_HASH) sent.set(line.observer, (sent.get(line.observer) ?? 0) + 1);
    for (const [id, n] of sent) expect(many.value('SELECT packet_count FROM observers WHERE id = ?', id)).toBe(n);
  });

  it('batching does not change the result: batch size 1 and 500 give identical tables', () => {
    expect(one.restarts + many.restarts).toBe(0);
    expect(dumpIngestTables(one.db)).toEqual(dumpIngestTables(many.db));
    expect(one.counters.values).toEqual(many.counters.values);
  });
});
