/**
 * ADVERT handling through the real pipeline (ingestor-spec §3.1 step 5, §3.6–§3.8, §3.10):
 * node upserts, telemetry, corrupted adverts, signature validation (sig_validate_ingest_test.go),
 * geo filter / foreign adverts (foreign_advert_test.go), from_pubkey (from_pubkey_test.go),
 * transport scope, and resolved_path end to end (resolved_path_test.go).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildPacket, buildSignedAdvert } from '../../decoder/packet-builders';
import {
  advertHex,
  GOLDEN_ADVERT_HASH,
  GOLDEN_ADVERT_HEX,
  GOLDEN_ADVERT_PUBKEY,
  identity,
  NOW,
  NOW_RFC3339,
  packetTopic,
  pipelineHarness,
  pubkeyHex,
  scopedAdvertHex,
  uniquePacket,
  type PipelineHarness,
} from './pipeline.test-support';

const HOUR = 3600_000;
const rfc = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`;

interface NodeRow {
  public_key: string;
  name: string | null;
  role: string | null;
  lat: number | null;
  lon: number | null;
  last_seen: string | null;
  first_seen: string | null;
  advert_count: number;
  battery_mv: number | null;
  temperature_c: number | null;
  foreign_advert: number;
  default_scope: string | null;
}

describe('IngestPipeline — adverts', () => {
  let h: PipelineHarness;
  beforeEach(async () => {
    h = await pipelineHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  const node = (pk: string) => h.row<NodeRow>('SELECT * FROM nodes WHERE public_key = ?', pk);

  it('TestEndToEndIngest: the golden MRR2-R advert → transmission, observation, node', () => {
    const { counters } = h.send(packetTopic('obs1'), { raw: GOLDEN_ADVERT_HEX, SNR: 9.5, origin: 'Obs One' });
    expect(h.row('SELECT hash, payload_type, from_pubkey, raw_hex FROM transmissions')).toEqual({
      hash: GOLDEN_ADVERT_HASH,
      payload_type: 4,
      from_pubkey: GOLDEN_ADVERT_PUBKEY,
      raw_hex: GOLDEN_ADVERT_HEX,
    });
    const row = node(GOLDEN_ADVERT_PUBKEY)!;
    expect(row.name).toContain('MRR2-R');
    expect(row).toMatchObject({ lat: 37, lon: -122.1, advert_count: 1, first_seen: NOW_RFC3339, last_seen: NOW_RFC3339, foreign_advert: 0 });
    expect(counters.values).toMatchObject({ tx_inserted: 1, obs_inserted: 1, node_upserts: 1, observer_upserts: 1, sig_drops: 0 });
  });

  it('TestUpsertNode (via adverts): later adverts update name/role/position; absent position is kept; advert_count counts distinct transmissions', () => {
    const id = identity(1);
    const pk = pubkeyHex(id);
    h.send(packetTopic('obs1'), { raw: advertHex(id, { nodeType: 1, name: 'First', lat: 37.5, lon: -122.25 }, { timestamp: 1000 }) }, NOW);
    expect(node(pk)).toMatchObject({ name: 'First', role: 'companion', lat: 37.5, lon: -122.25, advert_count: 1 });

    const second = advertHex(id, { nodeType: 2, name: 'Second' }, { timestamp: 2000 });
    h.send(packetTopic('obs1'), { raw: second }, NOW + HOUR);
    expect(node(pk)).toMatchObject({ name: 'Second', role: 'repeater', lat: 37.5, lon: -122.25, advert_count: 2, first_seen: NOW_RFC3339, last_seen: rfc(NOW + HOUR) });

    // the same advert heard by another observer: node upserted again (last_seen follows), count unchanged
    h.send(packetTopic('obs2'), { raw: second }, NOW + 2 * HOUR);
    expect(node(pk)).toMatchObject({ advert_count: 2, last_seen: rfc(NOW + 2 * HOUR) });

    // quirk 2: an advert without a name blanks the name
    h.send(packetTopic('obs1'), { raw: advertHex(id, { nodeType: 3 }, { timestamp: 3000 }) }, NOW + 3 * HOUR);
    expect(node(pk)).toMatchObject({ name: '', role: 'room', advert_count: 3 });
    expect(h.counters.values.node_upserts).toBe(4);
  });

  it('advertRole through the pipeline: 0 none, 4 sensor, ≥ 5 type-N; a bare 100-byte advert is a companion', () => {
    h.send(packetTopic('o'), { raw: advertHex(identity(1), { nodeType: 0, name: 'a' }) });
    h.send(packetTopic('o'), { raw: advertHex(identity(2), { nodeType: 4, name: 'b' }) });
    h.send(packetTopic('o'), { raw: advertHex(identity(3), { nodeType: 7, name: 'c' }) });
    // a 100-byte advert (no appdata at all), correctly signed
    h.send(packetTopic('o'), { raw: buildSignedAdvert(identity(4), 1_752_840_000, new Uint8Array(0)) });
    const roles = Object.fromEntries(h.rows<{ public_key: string; role: string; name: string }>('SELECT public_key, role, name FROM nodes').map((r) => [r.public_key, [r.role, r.name]]));
    expect(roles).toEqual({
      [pubkeyHex(identity(1))]: ['none', 'a'],
      [pubkeyHex(identity(2))]: ['sensor', 'b'],
      [pubkeyHex(identity(3))]: ['type-7', 'c'],
      [pubkeyHex(identity(4))]: ['companion', ''],
    });
  });

  it('TestHandleMessageAdvertWithTelemetry: sensor battery and temperature reach the node, kept when absent later', () => {
    const id = identity(5);
    const pk = pubkeyHex(id);
    h.send(packetTopic('obs1'), { raw: advertHex(id, { nodeType: 4, name: 'Sensor', batteryMv: 3700, temperatureRaw: 2150 }, { timestamp: 1 }) });
    expect(node(pk)).toMatchObject({ role: 'sensor', battery_mv: 3700, temperature_c: 21.5 });
    h.send(packetTopic('obs1'), { raw: advertHex(id, { nodeType: 4, name: 'Sensor' }, { timestamp: 2 }) });
    expect(node(pk)).toMatchObject({ battery_mv: 3700, temperature_c: 21.5, advert_count: 2 });
    h.send(packetTopic('obs1'), { raw: advertHex(id, { nodeType: 4, name: 'Sensor', batteryMv: 3650, temperatureRaw: -550 }, { timestamp: 3 }) });
    expect(node(pk)).toMatchObject({ battery_mv: 3650, temperature_c: -5.5 });
  });

  it('TestHandleMessageCorruptedAdvert: a too-short advert is stored as a transmission but creates no node', () => {
    const raw = buildPacket(4, Buffer.alloc(50, 0x11));
    h.send(packetTopic('obs1'), { raw, origin: 'o' });
    expect(h.count('transmissions')).toBe(1);
    expect(h.count('observations')).toBe(1);
    expect(h.count('nodes')).toBe(0);
    expect(h.value('SELECT from_pubkey FROM transmissions')).toBeNull();
  });

  it('an advert failing ValidateAdvert drops the whole message (no transmission, observation or observer)', () => {
    const { counters } = h.send(packetTopic('obs1'), { raw: advertHex(identity(6), { nodeType: 1, lat: 95, lon: 10, name: 'Far' }), origin: 'o' });
    expect(h.counts()).toMatchObject({ transmissions: 0, observations: 0, observers: 0, nodes: 0, dropped_packets: 0 });
    expect(counters.values.advert_rejects).toBe(1);
    expect(h.logs.some((l) => l.level === 'warn' && l.line === 'MQTT [test] skipping corrupted ADVERT: invalid lat: 95.000000')).toBe(true);
  });

  it('from_pubkey_test.go: from_pubkey is set for adverts (lower-case) and NULL otherwise', () => {
    const id = identity(7);
    h.send(packetTopic('obs1'), { raw: advertHex(id, { nodeType: 1, name: 'x' }).toUpperCase() });
    h.send(packetTopic('obs1'), { raw: uniquePacket(1) });
    h.send('meshcore/message/channel/1', { text: 'hi' });
    expect(h.rows('SELECT payload_type, from_pubkey FROM transmissions ORDER BY id')).toEqual([
      { payload_type: 4, from_pubkey: pubkeyHex(id) },
      { payload_type: 2, from_pubkey: null },
      { payload_type: 5, from_pubkey: null },
    ]);
  });

  describe('signature validation (sig_validate_ingest_test.go)', () => {
    it('validation defaults to on; a valid advert is stored', () => {
      expect(h.config.validateSignatures).toBe(true);
      h.send(packetTopic('obs1'), { raw: advertHex(identity(8), { nodeType: 1, name: 'Good' }), origin: 'TestObs' });
      expect(h.count('transmissions')).toBe(1);
      expect(h.count('dropped_packets')).toBe(0);
    });

    it('a tampered signature is dropped into dropped_packets with every field; nothing else is written', () => {
      const id = identity(9);
      const raw = advertHex(id, { nodeType: 1, name: 'LogTestNode' }, { tamper: true });
      const { counters } = h.send(packetTopic('obs1'), { raw, origin: 'MyObserver' });
      expect(h.counts()).toMatchObject({ transmissions: 0, observations: 0, observers: 0, nodes: 0, dropped_packets: 1 });
      const dropped = h.row<Record<string, unknown>>('SELECT * FROM dropped_packets')!;
      expect(dropped).toMatchObject({
        raw_hex: raw,
        reason: 'invalid signature',
        observer_id: 'obs1',
        observer_name: 'MyObserver',
        node_pubkey: pubkeyHex(id),
        node_name: 'LogTestNode',
      });
      // hash = the content hash the transmission would have had
      expect(dropped.hash).toMatch(/^[0-9a-f]{16}$/);
      expect(counters.values.sig_drops).toBe(1);
      const log = h.logs.find((l) => l.line.includes('DROPPED invalid signature'))!;
      expect(log.line).toBe(`MQTT [test] DROPPED invalid signature: hash=${String(dropped.hash)} name=LogTestNode observer=MyObserver pubkey=${pubkeyHex(id).slice(0, 16)}`);
    });

    it('the dropped hash equals the stored hash of the same advert with validation off', async () => {
      const raw = advertHex(identity(10), { nodeType: 1, name: 'X' }, { tamper: true });
      h.send(packetTopic('obs1'), { raw });
      const off = await pipelineHarness({ config: { validateSignatures: false } });
      try {
        off.send(packetTopic('obs1'), { raw });
        expect(off.value('SELECT hash FROM transmissions')).toBe(h.value('SELECT hash FROM dropped_packets'));
        expect(off.count('dropped_packets')).toBe(0);
        expect(off.count('nodes')).toBe(1);
      } finally {
        await off.close();
      }
    });

    it('a truncated advert (appdata cut after signing) is dropped; the observer name falls back to the id in the log', () => {
      const raw = advertHex(identity(11), { nodeType: 1, name: 'TruncNode' });
      const truncated = raw.slice(0, raw.length - 4);
      h.send(packetTopic('obs1'), { raw: truncated });
      expect(h.count('transmissions')).toBe(0);
      expect(h.row('SELECT reason, observer_name, node_name FROM dropped_packets')).toEqual({ reason: 'invalid signature', observer_name: '', node_name: 'TruncNo' });
      expect(h.logs.some((l) => l.line.includes('observer=obs1 pubkey='))).toBe(true);
    });

    it('the drop counter counts every dropped advert', () => {
      const id = identity(12);
      for (let i = 0; i < 3; i++) {
        h.send(packetTopic('obs1'), { raw: advertHex(id, { nodeType: 1, name: 'Node' }, { timestamp: 1_700_000_000 + i, tamper: true }), origin: 'Obs' });
      }
      expect(h.counters.values.sig_drops).toBe(3);
      expect(h.count('dropped_packets')).toBe(3);
    });

    it('validateSignatures: false stores a tampered advert', async () => {
      const off = await pipelineHarness({ config: { validateSignatures: false } });
      try {
        off.send(packetTopic('obs1'), { raw: advertHex(identity(13), { nodeType: 1, name: 'NoValNode' }, { tamper: true }) });
        expect(off.count('transmissions')).toBe(1);
        expect(off.value('SELECT name FROM nodes')).toBe('NoValNode');
      } finally {
        await off.close();
      }
    });
  });

  describe('transport scope (§3.10)', () => {
    let scoped: PipelineHarness;
    beforeEach(async () => {
      scoped = await pipelineHarness({ config: { hashRegions: ['sjc', '#lax'] } });
    });
    afterEach(async () => {
      await scoped.close();
    });

    it('TestHandleMessageAdvert_MatchedScopeUpdatesDefaultScope', () => {
      const id = identity(20);
      scoped.send(packetTopic('obs1'), { raw: scopedAdvertHex(id, { nodeType: 2, name: 'R' }, 'lax') });
      expect(scoped.value('SELECT scope_name FROM transmissions')).toBe('#lax');
      expect(scoped.value('SELECT default_scope FROM nodes WHERE public_key = ?', pubkeyHex(id))).toBe('#lax');
      // a later match of another region moves the default scope
      scoped.send(packetTopic('obs1'), { raw: scopedAdvertHex(id, { nodeType: 2, name: 'R2' }, 'sjc') });
      expect(scoped.value('SELECT default_scope FROM nodes WHERE public_key = ?', pubkeyHex(id))).toBe('#sjc');
    });

    it('TestHandleMessageAdvert_EmptyScopeSkipsDefaultScopeUpdate: scoped but unmatched → scope_name "" and no default_scope', () => {
      const id = identity(21);
      scoped.send(packetTopic('obs1'), { raw: scopedAdvertHex(id, { nodeType: 2, name: 'R' }, 'lax') });
      scoped.send(packetTopic('obs1'), { raw: scopedAdvertHex(id, { nodeType: 2, name: 'R again' }, undefined) });
      expect(scoped.rows('SELECT scope_name FROM transmissions ORDER BY id')).toEqual([{ scope_name: '#lax' }, { scope_name: '' }]);
      expect(scoped.value('SELECT default_scope FROM nodes')).toBe('#lax');
    });

    it('TestBuildPacketDataScopeMatching / NoMatch: unscoped packets have NULL scope_name (code1 0000 or flood route)', () => {
      scoped.send(packetTopic('obs1'), { raw: uniquePacket(1) });
      scoped.send(packetTopic('obs1'), { raw: uniquePacket(2, { routeType: 0, transportCodes: [0, 0, 5, 6] }) });
      scoped.send(packetTopic('obs1'), { raw: uniquePacket(3, { routeType: 0, transportCodes: [9, 9, 0, 0] }) });
      expect(scoped.rows('SELECT scope_name FROM transmissions ORDER BY id')).toEqual([{ scope_name: null }, { scope_name: null }, { scope_name: '' }]);
    });

    it('without hashRegions a scoped packet is stored with scope_name ""', () => {
      h.send(packetTopic('obs1'), { raw: scopedAdvertHex(identity(22), { nodeType: 2, name: 'R' }, 'sjc') });
      expect(h.value('SELECT scope_name FROM transmissions')).toBe('');
      expect(h.value('SELECT default_scope FROM nodes')).toBeNull();
    });
  });
});

describe('IngestPipeline — geo filter and foreign adverts (foreign_advert_test.go, §3.8)', () => {
  // A square around the San Francisco Bay Area.
  const geo_filter = {
    polygon: [
      [37.8, -122.52],
      [37.8, -121.8],
      [37.2, -121.8],
      [37.2, -122.52],
    ],
    bufferKm: 10,
  };

  it('flag mode (default): an out-of-area advert is stored with foreign_advert = 1; in-area has 0; sticky', async () => {
    const h = await pipelineHarness({ config: { geo_filter } });
    try {
      expect(h.config.foreignAdverts.mode).toBe('flag');
      const foreign = identity(30);
      const local = identity(31);
      const { counters } = h.send(packetTopic('obs1'), { raw: advertHex(foreign, { nodeType: 2, name: 'Paris', lat: 48.85, lon: 2.35 }, { timestamp: 1 }), origin: 'o' });
      h.send(packetTopic('obs1'), { raw: advertHex(local, { nodeType: 2, name: 'SJ', lat: 37.33, lon: -121.89 }) });
      h.send(packetTopic('obs1'), { raw: advertHex(identity(32), { nodeType: 1, name: 'NoPos' }) });
      h.send(packetTopic('obs1'), { raw: advertHex(identity(33), { nodeType: 1, name: 'Zero', lat: 0, lon: 0 }) });
      // inside the 10 km buffer but outside the polygon
      h.send(packetTopic('obs1'), { raw: advertHex(identity(34), { nodeType: 1, name: 'Buffer', lat: 37.85, lon: -122.0 }) });
      const flags = Object.fromEntries(h.rows<{ name: string; foreign_advert: number }>('SELECT name, foreign_advert FROM nodes').map((r) => [r.name, r.foreign_advert]));
      expect(flags).toEqual({ Paris: 1, SJ: 0, NoPos: 0, Zero: 0, Buffer: 0 });
      expect(h.count('transmissions')).toBe(5);
      expect(counters.values.foreign_adverts).toBe(1);
      expect(h.logs.some((l) => l.line === `MQTT [test] foreign advert: node=${pubkeyHex(foreign).slice(0, 16)} name=Paris lat=48.8500 lon=2.3500 observer=o`)).toBe(true);
      // quirk 11: the flag is never reset by a later in-area advert
      h.send(packetTopic('obs1'), { raw: advertHex(foreign, { nodeType: 2, name: 'Paris', lat: 37.5, lon: -122 }, { timestamp: 2 }) });
      expect(h.value('SELECT foreign_advert FROM nodes WHERE public_key = ?', pubkeyHex(foreign))).toBe(1);
    } finally {
      await h.close();
    }
  });

  it('drop mode: an out-of-area advert stores nothing at all; non-adverts are never geo-filtered', async () => {
    const h = await pipelineHarness({ config: { geo_filter, foreignAdverts: { mode: 'drop' } } });
    try {
      const { counters } = h.send(packetTopic('obs1'), { raw: advertHex(identity(35), { nodeType: 2, name: 'Paris', lat: 48.85, lon: 2.35 }), origin: 'o' });
      expect(h.counts()).toMatchObject({ transmissions: 0, observations: 0, observers: 0, nodes: 0, dropped_packets: 0 });
      expect(counters.values.geo_drops).toBe(1);
      h.send(packetTopic('obs1'), { raw: advertHex(identity(36), { nodeType: 2, name: 'SJ', lat: 37.33, lon: -121.89 }) });
      h.send(packetTopic('obs1'), { raw: uniquePacket(1) });
      expect(h.count('transmissions')).toBe(2);
      expect(h.value('SELECT foreign_advert FROM nodes')).toBe(0);
    } finally {
      await h.close();
    }
  });

  it('the legacy bounding box applies without a polygon', async () => {
    const h = await pipelineHarness({ config: { geo_filter: { latMin: 30, latMax: 40, lonMin: -125, lonMax: -115 }, foreignAdverts: { mode: 'drop' } } });
    try {
      h.send(packetTopic('obs1'), { raw: advertHex(identity(37), { nodeType: 2, name: 'In', lat: 35, lon: -120 }) });
      h.send(packetTopic('obs1'), { raw: advertHex(identity(38), { nodeType: 2, name: 'Out', lat: 45, lon: -120 }) });
      expect(h.rows('SELECT name FROM nodes')).toEqual([{ name: 'In' }]);
    } finally {
      await h.close();
    }
  });
});

describe('IngestPipeline — resolved_path end to end (resolved_path_test.go, §3.7)', () => {
  let h: PipelineHarness;
  beforeEach(async () => {
    h = await pipelineHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  /** Seeds whose pubkeys have distinct first bytes, and a pair sharing one. */
  let seeds: { unique: number[]; collidingPair: [number, number] } | undefined;
  function pickSeeds(): { unique: number[]; collidingPair: [number, number] } {
    if (seeds) return seeds;
    const byFirst = new Map<number, number[]>();
    for (let seed = 1; seed < 200; seed++) {
      const first = identity(seed).publicKey[0];
      byFirst.set(first, [...(byFirst.get(first) ?? []), seed]);
    }
    const pair = [...byFirst.values()].find((seeds) => seeds.length >= 2)!;
    const unique = [...byFirst.values()].filter((seeds) => seeds.length === 1).map((seeds) => seeds[0]);
    seeds = { unique: unique.slice(0, 4), collidingPair: [pair[0], pair[1]] };
    return seeds;
  }

  const advertOf = (seed: number) => h.send(packetTopic('seeder'), { raw: advertHex(identity(seed), { nodeType: 2, name: `n${seed}` }) });
  const hop = (seed: number) => identity(seed).publicKey.subarray(0, 1);
  const resolved = () => h.rows<{ resolved_path: string | null }>('SELECT resolved_path FROM observations WHERE observer_idx = (SELECT rowid FROM observers WHERE id = ?) ORDER BY id', 'obsR').map((r) => r.resolved_path);

  it('is NULL until the prefix index is built, then unique prefixes resolve and unknown ones are null', () => {
    const { unique } = pickSeeds();
    const [a, b] = unique;
    advertOf(a);
    advertOf(b);
    // the middle hop matches no node
    const known = new Set(h.rows<{ public_key: string }>('SELECT public_key FROM nodes').map((r) => r.public_key.slice(0, 2)));
    let filler = 0;
    while (known.has(filler.toString(16).padStart(2, '0'))) filler++;
    const path = Buffer.concat([hop(a), Uint8Array.of(filler), hop(b)]);

    h.send(packetTopic('obsR'), { raw: uniquePacket(1, { path }) });
    expect(resolved()).toEqual([null]);

    h.pipeline.refreshPathIndex();
    h.send(packetTopic('obsR'), { raw: uniquePacket(2, { path }) });
    expect(resolved()[1]).toBe(JSON.stringify([pubkeyHex(identity(a)), null, pubkeyHex(identity(b))]));

    // every hop unknown → NULL column (not an array of nulls)
    h.send(packetTopic('obsR'), { raw: uniquePacket(3, { path: Uint8Array.of(filler) }) });
    expect(resolved()[2]).toBeNull();
  });

  it('an advert is anchored on its sender: a hop naming the sender itself is not resolved', () => {
    const { unique } = pickSeeds();
    const [a, b] = unique;
    advertOf(a);
    advertOf(b);
    h.pipeline.refreshPathIndex();
    const raw = advertHex(identity(a), { nodeType: 2, name: 'relayed' }, { timestamp: 99, path: Buffer.concat([hop(a), hop(b)]) });
    h.send(packetTopic('obsR'), { raw });
    expect(resolved()).toEqual([JSON.stringify([null, pubkeyHex(identity(b))])]);
  });

  it('an ambiguous 1-byte prefix resolves through the neighbor graph anchored on the advert originator', () => {
    const { unique, collidingPair } = pickSeeds();
    const origin = unique[0];
    const [c1, c2] = collidingPair;
    for (const seed of [origin, c1, c2]) advertOf(seed);
    h.pipeline.refreshPathIndex();
    const path = hop(c1); // shared by c1 and c2
    h.send(packetTopic('obsR'), { raw: advertHex(identity(origin), { nodeType: 2, name: 'o' }, { timestamp: 5, path }) });
    expect(resolved()[0]).toBeNull(); // ambiguous, no graph

    const [x, y] = [pubkeyHex(identity(origin)), pubkeyHex(identity(c2))].sort();
    h.db.prepare('INSERT INTO neighbor_edges (node_a, node_b, count, last_seen) VALUES (?, ?, 1, ?)').run(x, y, NOW_RFC3339);
    h.pipeline.refreshPathIndex();
    h.send(packetTopic('obsR'), { raw: advertHex(identity(origin), { nodeType: 2, name: 'o' }, { timestamp: 6, path }) });
    expect(resolved()[1]).toBe(JSON.stringify([pubkeyHex(identity(c2))]));
  });

  it('an all-null resolution never clobbers an earlier resolved_path of the same observation', () => {
    const { unique } = pickSeeds();
    const [a] = unique;
    advertOf(a);
    h.pipeline.refreshPathIndex();
    const raw = uniquePacket(1, { path: hop(a) });
    h.send(packetTopic('obsR'), { raw });
    const first = JSON.stringify([pubkeyHex(identity(a))]);
    expect(resolved()).toEqual([first]);
    // the node goes away (e.g. moved to inactive_nodes): the same observation now resolves to nothing
    h.db.prepare('DELETE FROM nodes WHERE public_key = ?').run(pubkeyHex(identity(a)));
    h.send(packetTopic('seeder'), { raw: advertHex(identity(unique[1]), { nodeType: 2, name: 'keep index non-empty' }) });
    h.pipeline.refreshPathIndex();
    h.send(packetTopic('obsR'), { raw, SNR: 3 }, NOW + 1000);
    expect(h.rows('SELECT resolved_path, snr FROM observations WHERE observer_idx = (SELECT rowid FROM observers WHERE id = ?)', 'obsR')).toEqual([{ resolved_path: first, snr: 3 }]);
  });
});
