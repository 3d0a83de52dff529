/**
 * Group commit must not change what is stored (issue 4, "identical to applying each message alone,
 * in order"), including the per-batch coalescing of observer upserts: packets, status messages,
 * naive clocks, companion messages, a reactivated observer and a failing message, interleaved.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  advertHex,
  dumpIngestTables,
  identity,
  type HarnessMessage,
  NOW,
  packetTopic,
  pipelineHarness,
  type PipelineHarness,
  statusTopic,
  uniquePacket,
} from './pipeline.test-support';

/** 93 messages from 4 observers: packets (names and regions changing), status, naive clocks, companion, duplicates. */
function mixedStream(): HarnessMessage[] {
  const out: HarnessMessage[] = [];
  for (let i = 0; i < 90; i++) {
    const observer = `obs${i % 4}`;
    const nowMs = NOW + i * 1000;
    if (i % 9 === 4) {
      out.push({ topic: statusTopic(observer, 'OAK'), payload: { origin: `Status ${i}`, model: `M${i}`, stats: { battery_mv: 4000 + i } }, nowMs });
    } else if (i % 13 === 6) {
      out.push({ topic: 'meshcore/message/channel/1', payload: { text: `Bob: msg ${i}`, sender_timestamp: 1_700_000_000 + i, SNR: 3 }, nowMs });
    } else {
      const payload: Record<string, unknown> = { raw: uniquePacket(i % 30), SNR: i % 10, RSSI: -70 - i };
      if (i % 5 !== 0) payload.origin = `Name ${i % 3}`; // a packet without origin blanks the name (quirk 2)
      if (i % 11 === 3) payload.timestamp = '2026-07-18T09:00:00'; // naive clock: skew recorded on the observer row
      if (i % 7 === 2) payload.region = 'SFO';
      out.push({ topic: packetTopic(observer, i % 2 ? 'SJC' : 'MRY'), payload, nowMs });
    }
  }
  // Adverts of three nodes, each heard by several observers over several paths (same hash, new
  // observation), with names, roles, positions and telemetry changing between copies; and the
  // same observation twice (the ON CONFLICT update keeps the earlier SNR when the later has none).
  for (let i = 0; i < 24; i++) {
    const node = i % 3;
    const appdata = {
      nodeType: i % 2 ? 2 : 4,
      name: i % 4 === 1 ? undefined : `Node ${node}.${i}`,
      ...(i % 5 === 2 ? {} : { lat: 37 + i / 100, lon: -122 - i / 100 }),
      ...(node === 2 ? { batteryMv: 3700 + i } : {}),
    };
    const raw = advertHex(identity(10 + node), appdata, { timestamp: 1_752_840_000 + Math.floor(i / 6), path: Uint8Array.of(i % 4) });
    out.push({ topic: packetTopic(`obs${i % 4}`, 'SJC'), payload: { raw, SNR: i, origin: `Name ${i % 3}` }, nowMs: NOW + 100_000 + i * 1000 });
    if (i % 6 === 0) out.push({ topic: packetTopic(`obs${i % 4}`, 'SJC'), payload: { raw, RSSI: -90 }, nowMs: NOW + 100_500 + i * 1000 });
  }
  // A clock that steps back: a copy of a known packet moves first_seen earlier, a later copy (still before the first) does not.
  out.push({ topic: packetTopic('obs3'), payload: { raw: uniquePacket(7) }, nowMs: NOW - 5000 });
  out.push({ topic: packetTopic('obs2'), payload: { raw: uniquePacket(7) }, nowMs: NOW - 3000 });
  // A status as the last word on an observer: its name and iata must win over the packets before it.
  for (const n of [200, 201]) out.push({ topic: packetTopic('obs0'), payload: { raw: uniquePacket(n), origin: `Late ${n}` }, nowMs: NOW + n * 1000 });
  out.push({ topic: statusTopic('obs0', 'OAK'), payload: { origin: 'Final status' }, nowMs: NOW + 300_000 });
  return out;
}

describe('batching is invisible in the stored rows', () => {
  const harnesses: PipelineHarness[] = [];
  const open = async () => {
    const h = await pipelineHarness();
    harnesses.push(h);
    return h;
  };
  afterEach(async () => {
    await Promise.all(harnesses.splice(0).map((h) => h.close()));
  });

  it('one message per transaction and the whole stream in one transaction store identical tables and counters', async () => {
    const [alone, grouped] = [await open(), await open()];
    const stream = mixedStream();
    // An observer soft-deleted before the stream is reactivated by it.
    for (const h of [alone, grouped]) {
      h.send(packetTopic('obs2'), { raw: uniquePacket(999), origin: 'Before' }, NOW - 60_000);
      h.db.prepare("UPDATE observers SET inactive = 1 WHERE id = 'obs2'").run();
    }
    alone.sendAll(stream, 1);
    grouped.batch(stream);
    expect(grouped.restarts).toBe(0);
    const tables = dumpIngestTables(grouped.db);
    expect(tables.observers).toHaveLength(4);
    expect(tables.nodes).toHaveLength(3);
    expect(grouped.counters.values.tx_dupes).toBeGreaterThan(20);
    expect(dumpIngestTables(alone.db)).toEqual(tables);
    expect(alone.value("SELECT inactive FROM observers WHERE id = 'obs2'")).toBe(0);
    const skew = 'SELECT clock_skew_seconds, clock_skew_count_24h, clock_last_naive_at FROM observers ORDER BY id';
    expect(grouped.rows(skew)).toEqual(alone.rows(skew));
    expect(grouped.counters.values).toEqual(alone.counters.values);
  });

  it('observer rows are written once per observer and batch, not once per packet', async () => {
    const h = await open();
    h.db.exec('CREATE TEMP TABLE observer_writes (id TEXT)');
    h.db.exec('CREATE TEMP TRIGGER count_updates AFTER UPDATE ON main.observers BEGIN INSERT INTO observer_writes VALUES (new.id); END');
    h.db.exec('CREATE TEMP TRIGGER count_inserts AFTER INSERT ON main.observers BEGIN INSERT INTO observer_writes VALUES (new.id); END');
    const packets = Array.from({ length: 100 }, (_, i) => ({ topic: packetTopic(`obs${i % 2}`), payload: { raw: uniquePacket(i), origin: `N${i}` }, nowMs: NOW + i }));
    h.batch(packets);
    // first packet of each observer: the upsert (insert); the other 49: one deferred update
    expect(h.value('SELECT COUNT(*) FROM observer_writes')).toBe(4);
    expect(h.rows('SELECT id, name, packet_count FROM observers ORDER BY id')).toEqual([
      { id: 'obs0', name: 'N98', packet_count: 50 },
      { id: 'obs1', name: 'N99', packet_count: 50 },
    ]);
  });

  it('node rows are written once per node and batch, plus one merged update', async () => {
    const h = await open();
    h.db.exec('CREATE TEMP TABLE node_writes (k TEXT)');
    h.db.exec('CREATE TEMP TRIGGER count_node_updates AFTER UPDATE ON main.nodes BEGIN INSERT INTO node_writes VALUES (new.public_key); END');
    h.db.exec('CREATE TEMP TRIGGER count_node_inserts AFTER INSERT ON main.nodes BEGIN INSERT INTO node_writes VALUES (new.public_key); END');
    const raw = advertHex(identity(3), { nodeType: 2, name: 'Repeater' });
    const copies = Array.from({ length: 10 }, (_, i) => ({ topic: packetTopic(`obs${i}`), payload: { raw }, nowMs: NOW + i }));
    h.batch(copies);
    // insert, advert_count + 1 (the first copy only), the merged update
    expect(h.value('SELECT COUNT(*) FROM node_writes')).toBe(3);
    expect(h.row('SELECT name, role, last_seen, advert_count FROM nodes')).toEqual({ name: 'Repeater', role: 'repeater', last_seen: '2026-07-18T12:00:00Z', advert_count: 1 });
    expect(h.count('observations')).toBe(10);
  });

  it('observer ids that differ only in lone UTF-16 surrogates stay two rows, as without batching', async () => {
    const [alone, grouped] = [await open(), await open()];
    const [a, b] = ['obs\ud800', 'obs\udbff']; // the map keys differ; so do the stored ids
    const stream = [a, b, b, a].map((id, i) => ({ topic: packetTopic(id), payload: { raw: uniquePacket(i), origin: `N${i}` }, nowMs: NOW + i }));
    alone.sendAll(stream, 1);
    grouped.batch(stream);
    expect(grouped.rows('SELECT name, packet_count FROM observers ORDER BY name')).toEqual([
      { name: 'N2', packet_count: 2 },
      { name: 'N3', packet_count: 2 },
    ]);
    expect(dumpIngestTables(grouped.db)).toEqual(dumpIngestTables(alone.db));
  });

  it('a failing message rolls back its own observer count even when the batch coalesced before the failure', async () => {
    const poisonRaw = uniquePacket(77);
    const failing = await pipelineHarness({
      wrapRepository: (real) =>
        new Proxy(real, {
          get(target, prop, receiver) {
            const value = Reflect.get(target, prop, receiver) as unknown;
            if (typeof value !== 'function') return value;
            if (prop !== 'upsertObservation') return value.bind(target);
            return (row: { rawHex: string | null }) => {
              if (row.rawHex === poisonRaw) throw new Error('poisoned');
              return (value as (r: unknown) => void).call(target, row);
            };
          },
        }),
    });
    harnesses.push(failing);
    const messages = [1, 2, 77, 3, 4].map((n, i) => ({ topic: packetTopic('obs1'), payload: { raw: uniquePacket(n), origin: `N${n}` }, nowMs: NOW + i }));
    const { errors } = failing.batch(messages);
    expect(errors).toHaveLength(1);
    expect(failing.restarts).toBe(1);
    expect(failing.rows('SELECT name, packet_count FROM observers')).toEqual([{ name: 'N4', packet_count: 4 }]);
    expect(failing.count('observations')).toBe(4);
  });
});
