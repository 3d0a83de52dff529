/**
 * InsertTransmission, BuildPacketData and the observer side effects of packets, through the real
 * pipeline, repository and batch writer on a migrated SQLite file (ingestor-spec §3.1, §3.3–§3.5;
 * db_test.go highlights, #1370, #1465, #1690).
 */
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deriveHashtagKey, PUBLIC_CHANNEL_KEY } from '../../decoder/channel-keys';
import { buildChannelPacket, buildPacket } from '../../decoder/packet-builders';
import {
  advertHex,
  identity,
  NOW,
  NOW_EPOCH,
  NOW_RFC3339,
  packetTopic,
  pipelineHarness,
  statusTopic,
  uniquePacket,
  type PipelineHarness,
} from './pipeline.test-support';

const HOUR = 3600_000;
const rfc = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`;

interface TxRow {
  id: number;
  raw_hex: string;
  hash: string;
  first_seen: string;
  route_type: number;
  payload_type: number;
  payload_version: number;
  decoded_json: string;
  from_pubkey: string | null;
  last_seen: number;
  channel_hash: string | null;
  scope_name: string | null;
}

interface ObsRow {
  id: number;
  transmission_id: number;
  observer_idx: number | null;
  direction: string | null;
  snr: number | null;
  rssi: number | null;
  score: number | null;
  path_json: string;
  timestamp: number;
  raw_hex: string | null;
  resolved_path: string | null;
}

describe('IngestPipeline — transmissions and observations', () => {
  let h: PipelineHarness;
  beforeEach(async () => {
    h = await pipelineHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  const txs = () => h.rows<TxRow>('SELECT * FROM transmissions ORDER BY id');
  const obs = () => h.rows<ObsRow>('SELECT * FROM observations ORDER BY id');

  it('TestInsertTransmission: one transmission + one observation; the same hash again adds no transmission', () => {
    const raw = uniquePacket(1);
    h.send(packetTopic('obs1'), { raw, SNR: 5 });
    expect(h.count('transmissions')).toBe(1);
    expect(h.count('observations')).toBe(1);
    h.send(packetTopic('obs1'), { raw, SNR: 5 }, NOW + 1000);
    expect(h.count('transmissions')).toBe(1);
    // Same transmission, observer and path → the observation is upserted, not duplicated.
    expect(h.count('observations')).toBe(1);
    h.send(packetTopic('obs2'), { raw }, NOW + 2000);
    expect(h.count('transmissions')).toBe(1);
    expect(h.count('observations')).toBe(2);
    expect(h.counters.values).toMatchObject({ tx_inserted: 1, tx_dupes: 2, obs_inserted: 3, walCommits: 3 });
  });

  it('BuildPacketData: stored columns of a plain packet (raw verbatim, hash, header, decoded payload, path)', () => {
    const raw = uniquePacket(7, { path: Uint8Array.of(0xa1, 0xb2) }).toLowerCase();
    h.send(packetTopic('obs1'), { raw });
    const [tx] = txs();
    expect(tx).toMatchObject({
      raw_hex: raw, // not re-cased
      // content hash (§3.4.1): SHA-256 of [payload type] ‖ payload, path and route excluded
      hash: createHash('sha256').update(Uint8Array.of(2, 0x10, 0x20, 7, 0, 0xaa, 0xbb, 0xcc, 0xdd)).digest('hex').slice(0, 16),
      first_seen: NOW_RFC3339,
      route_type: 1,
      payload_type: 2,
      payload_version: 0,
      from_pubkey: null,
      channel_hash: null,
      scope_name: null,
      last_seen: NOW_EPOCH,
    });
    expect(JSON.parse(tx.decoded_json)).toMatchObject({ type: 'TXT_MSG', destHash: '10', srcHash: '20' });
    const [o] = obs();
    expect(o).toMatchObject({ path_json: '["A1","B2"]', raw_hex: raw, timestamp: NOW_EPOCH, transmission_id: tx.id });
  });

  it('the hash is route-independent: the same payload relayed along another path is one transmission', () => {
    const flood = uniquePacket(3);
    const relayed = uniquePacket(3, { path: Uint8Array.of(0x11, 0x22, 0x33) });
    const direct = uniquePacket(3, { routeType: 2, path: Uint8Array.of(0x44) });
    h.batch([
      { topic: packetTopic('obs1'), payload: { raw: flood } },
      { topic: packetTopic('obs2'), payload: { raw: relayed } },
      { topic: packetTopic('obs3'), payload: { raw: direct } },
    ]);
    expect(h.count('transmissions')).toBe(1);
    // TestPerObservationRawHex: the transmission keeps the first raw, each observation its own.
    expect(txs()[0].raw_hex).toBe(flood);
    expect(obs().map((o) => [o.raw_hex, o.path_json])).toEqual([
      [flood, '[]'],
      [relayed, '["11","22","33"]'],
      [direct, '["44"]'],
    ]);
  });

  it('BuildPacketData: non-TRACE packets take hops from the raw header (2-byte hops too)', () => {
    // path byte 0x42: hash size 2, two hops
    const raw = buildPacket(2, Uint8Array.of(1, 2, 3, 4, 5, 6), { pathByte: 0x42, path: Uint8Array.of(0xa1, 0xb2, 0xc3, 0xd4) });
    h.send(packetTopic('obs1'), { raw });
    expect(obs()[0].path_json).toBe('["A1B2","C3D4"]');
  });

  it('BuildPacketData: TRACE uses the payload route as path_json, not the SNR bytes of the header', () => {
    // header path bytes 2F F8 are SNR values; the route is C0DE 1000 DEDE (flags 1 → 2-byte hops)
    const raw = buildPacket(9, Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0, 1, 0xc0, 0xde, 0x10, 0x00, 0xde, 0xde), {
      routeType: 2,
      path: Uint8Array.of(0x2f, 0xf8),
    });
    h.send(packetTopic('obs1'), { raw });
    expect(obs()[0].path_json).toBe('["C0DE","1000","DEDE"]');
    expect(txs()[0].payload_type).toBe(9);
  });

  it('BuildPacketData: channel_hash = decrypted channel name, enc_<HH> when undecryptable, NULL for GRP_DATA', async () => {
    const keyed = await pipelineHarness({ config: { hashChannels: ['test'] } });
    try {
      const unknownKey = '00112233445566778899aabbccddeeff';
      keyed.send(packetTopic('obs1'), { raw: buildChannelPacket({ keyHex: PUBLIC_CHANNEL_KEY, text: 'Alice: hello' }) });
      keyed.send(packetTopic('obs1'), { raw: buildChannelPacket({ keyHex: deriveHashtagKey('#test'), text: 'Bob: hi' }) });
      keyed.send(packetTopic('obs1'), { raw: buildChannelPacket({ keyHex: unknownKey, text: 'Eve: secret', channelByte: 0xab }) });
      keyed.send(packetTopic('obs1'), { raw: buildChannelPacket({ keyHex: PUBLIC_CHANNEL_KEY, text: 'data', data: true }) });
      const rows = keyed.rows<{ payload_type: number; channel_hash: string | null; decoded_json: string }>('SELECT payload_type, channel_hash, decoded_json FROM transmissions ORDER BY id');
      expect(rows.map((r) => [r.payload_type, r.channel_hash])).toEqual([
        [5, 'Public'],
        [5, '#test'],
        [5, 'enc_AB'],
        [6, null],
      ]);
      expect(JSON.parse(rows[0].decoded_json)).toMatchObject({ type: 'CHAN', channel: 'Public', sender: 'Alice', decryptionStatus: 'decrypted' });
      expect(JSON.parse(rows[2].decoded_json)).toMatchObject({ type: 'GRP_TXT', decryptionStatus: 'decryption_failed' });
    } finally {
      await keyed.close();
    }
  });

  it('BuildPacketData: the observer region comes from the payload `region` when set, else the topic', () => {
    h.send(packetTopic('obsA', 'sjc'), { raw: uniquePacket(1) });
    h.send(packetTopic('obsB', 'sjc'), { raw: uniquePacket(2), region: 'lax' });
    h.send(packetTopic('obsC', 'sjc'), { raw: uniquePacket(3), region: '' });
    h.send(packetTopic('obsD', 'sjc'), { raw: uniquePacket(4), region: 42 });
    expect(h.rows('SELECT id, iata FROM observers ORDER BY id')).toEqual([
      { id: 'obsA', iata: 'SJC' },
      { id: 'obsB', iata: 'LAX' },
      { id: 'obsC', iata: 'SJC' },
      { id: 'obsD', iata: 'SJC' },
    ]);
  });

  it('a topic without region falls back to the source region (#788)', async () => {
    const withRegion = await pipelineHarness({
      config: { mqttSources: [{ name: 'regional', broker: 'mqtt://localhost:1883', region: 'sfo' }] },
    });
    try {
      withRegion.send('meshcore//obsR/packets', { raw: uniquePacket(1) }, NOW, 'regional');
      withRegion.send('meshcore//obsS/packets', { raw: uniquePacket(2) }, NOW, 'other-source');
      expect(withRegion.rows('SELECT id, iata FROM observers ORDER BY id')).toEqual([
        { id: 'obsR', iata: 'SFO' },
        { id: 'obsS', iata: '' },
      ]);
    } finally {
      await withRegion.close();
    }
  });

  it('TestInsertTransmissionEmptyHash: an empty hash is a no-op (no transmission, no observation)', async () => {
    const empty = await pipelineHarness({
      decode: (raw, ctx, real) => {
        const outcome = real(raw, ctx);
        return outcome.ok ? { ok: true, packet: { ...outcome.packet, hash: '' } } : outcome;
      },
    });
    try {
      const { counters } = empty.send(packetTopic('obs1'), { raw: uniquePacket(1) });
      expect(empty.count('transmissions')).toBe(0);
      expect(empty.count('observations')).toBe(0);
      expect(counters.values.tx_inserted).toBe(0);
      expect(counters.values.obs_inserted).toBe(0);
      expect(counters.values.walCommits).toBe(0);
    } finally {
      await empty.close();
    }
  });

  it('TestInsertTransmissionEarlierFirstSeen: an earlier sighting moves first_seen back', () => {
    const raw = uniquePacket(1);
    h.send(packetTopic('obs1'), { raw }, NOW);
    h.send(packetTopic('obs2'), { raw }, NOW - HOUR);
    expect(txs()[0].first_seen).toBe(rfc(NOW - HOUR));
    // last_seen (epoch of the newest observation) never moves backwards
    expect(txs()[0].last_seen).toBe(NOW_EPOCH);
    expect(obs().map((o) => o.timestamp)).toEqual([NOW_EPOCH, NOW_EPOCH - 3600]);
  });

  it('TestInsertTransmissionLaterFirstSeenNotUpdated / issue1690: a later sighting keeps first_seen, raises last_seen', () => {
    const raw = uniquePacket(1);
    h.send(packetTopic('obs1'), { raw }, NOW);
    h.send(packetTopic('obs2'), { raw }, NOW + 2 * HOUR);
    const [tx] = txs();
    expect(tx.first_seen).toBe(NOW_RFC3339);
    expect(tx.last_seen).toBe(NOW_EPOCH + 7200);
  });

  it('TestInsertTransmissionNilSNRRSSI: absent SNR/RSSI/score/direction are NULL', () => {
    h.send(packetTopic('obs1'), { raw: uniquePacket(1) });
    expect(obs()[0]).toMatchObject({ snr: null, rssi: null, score: null, direction: null });
  });

  it('TestInsertTransmissionWithScoreAndDirection: score keeps INTEGER affinity (10.0 → integer, 7.5 → real)', () => {
    h.send(packetTopic('obs1'), { raw: uniquePacket(1), SNR: 5, RSSI: -90, score: 10.0, direction: 'rx' });
    h.send(packetTopic('obs1'), { raw: uniquePacket(2), score: 7.5, direction: 'tx' });
    expect(h.rows('SELECT score, typeof(score) AS t, direction, typeof(snr) AS st, typeof(rssi) AS rt FROM observations ORDER BY id')).toEqual([
      { score: 10, t: 'integer', direction: 'rx', st: 'real', rt: 'real' },
      { score: 7.5, t: 'real', direction: 'tx', st: 'null', rt: 'null' },
    ]);
  });

  it('TestInsertTransmissionDedupObservation: observations without observer never conflict (NULLs are distinct)', () => {
    const raw = uniquePacket(1);
    h.send('meshcore/SJC', { raw });
    h.send('meshcore/SJC', { raw });
    expect(h.count('transmissions')).toBe(1);
    expect(h.rows('SELECT observer_idx FROM observations')).toEqual([{ observer_idx: null }, { observer_idx: null }]);
  });

  it('TestInsertObservationSNRFillIn: NULL SNR/RSSI filled by a later arrival, never erased by a later NULL', () => {
    const raw = uniquePacket(1);
    h.send(packetTopic('obs1'), { raw, direction: 'rx' }, NOW);
    expect(obs()[0]).toMatchObject({ snr: null, rssi: null });
    h.send(packetTopic('obs1'), { raw, SNR: 6.5, RSSI: -80, score: 3, direction: 'tx' }, NOW + 60_000);
    h.send(packetTopic('obs1'), { raw }, NOW + 120_000);
    const rows = obs();
    expect(rows).toHaveLength(1);
    // direction and timestamp are not changed on conflict
    expect(rows[0]).toMatchObject({ snr: 6.5, rssi: -80, score: 3, direction: 'rx', timestamp: NOW_EPOCH });
    // a later non-NULL value replaces the earlier one
    h.send(packetTopic('obs1'), { raw, SNR: -1 }, NOW + 180_000);
    expect(obs()[0].snr).toBe(-1);
    // … and the transmission's last_seen followed the newest observation
    expect(txs()[0].last_seen).toBe(NOW_EPOCH + 180);
  });

  it('#1370: a 7 h stale envelope does not change first_seen or observations.timestamp (ingest time is stored)', () => {
    const stale = new Date(NOW - 7 * HOUR).toISOString();
    h.send(packetTopic('obs1'), { raw: uniquePacket(1), timestamp: stale });
    expect(txs()[0].first_seen).toBe(NOW_RFC3339);
    expect(obs()[0].timestamp).toBe(NOW_EPOCH);
    expect(txs()[0].last_seen).toBe(NOW_EPOCH);
  });
});

describe('IngestPipeline — observer rows from packets and status', () => {
  let h: PipelineHarness;
  beforeEach(async () => {
    h = await pipelineHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  interface ObserverRow {
    rowid: number;
    id: string;
    name: string | null;
    iata: string | null;
    last_seen: string | null;
    first_seen: string | null;
    packet_count: number;
    last_packet_at: string | null;
    inactive: number;
  }
  const observer = (id: string) => h.row<ObserverRow>('SELECT rowid, * FROM observers WHERE id = ?', id);

  it('deliberate difference to quirk 1: the first packet of a brand-new observer gets its observer_idx and last_packet_at', () => {
    h.send(packetTopic('newObs'), { raw: uniquePacket(1), origin: 'New' });
    const row = observer('newObs')!;
    expect(row).toMatchObject({ name: 'New', iata: 'SJC', last_seen: NOW_RFC3339, first_seen: NOW_RFC3339, last_packet_at: NOW_RFC3339, packet_count: 1 });
    expect(h.value('SELECT observer_idx FROM observations')).toBe(row.rowid);
    // the packets_v view joins the observer through the rowid (TestPacketsViewQueryable)
    expect(h.row('SELECT observer_id, observer_name FROM packets_v')).toEqual({ observer_id: 'newObs', observer_name: 'New' });
  });

  it('TestInsertTransmissionUpdatesObserverLastSeen / TestLastPacketAtUpdatedOnPacketOnly', () => {
    h.send(statusTopic('obs1'), { origin: 'One' }, NOW);
    expect(observer('obs1')).toMatchObject({ last_seen: NOW_RFC3339, last_packet_at: null });
    h.send(packetTopic('obs1'), { raw: uniquePacket(1), origin: 'One' }, NOW + HOUR);
    expect(observer('obs1')).toMatchObject({ last_seen: rfc(NOW + HOUR), last_packet_at: rfc(NOW + HOUR) });
    h.send(statusTopic('obs1'), { origin: 'One' }, NOW + 2 * HOUR);
    expect(observer('obs1')).toMatchObject({ last_seen: rfc(NOW + 2 * HOUR), last_packet_at: rfc(NOW + HOUR), first_seen: NOW_RFC3339 });
  });

  it('quirk 3: packet_count counts status messages and packet messages alike', () => {
    h.send(statusTopic('obs1'), { origin: 'One' });
    h.send(packetTopic('obs1'), { raw: uniquePacket(1), origin: 'One' });
    h.send(packetTopic('obs1'), { raw: uniquePacket(1), origin: 'One' }); // duplicate packet counts too
    expect(observer('obs1')!.packet_count).toBe(3);
  });

  it('quirk 2: a packet without origin blanks the name; an empty effective region blanks iata', () => {
    h.send(packetTopic('obs1'), { raw: uniquePacket(1), origin: 'Named' });
    h.send('meshcore//obs1/packets', { raw: uniquePacket(2) });
    expect(observer('obs1')).toMatchObject({ name: '', iata: '' });
  });

  it('a packet reactivates a soft-deleted observer', () => {
    h.send(packetTopic('obs1'), { raw: uniquePacket(1), origin: 'One' });
    h.db.prepare('UPDATE observers SET inactive = 1').run();
    h.send(packetTopic('obs1'), { raw: uniquePacket(2), origin: 'One' });
    expect(observer('obs1')!.inactive).toBe(0);
  });

  it('observer ids keep their case; the region is trimmed and upper-cased (TestUpsertObserver " sjc " → SJC)', () => {
    h.send('meshcore/ sjc /ObsMixedCase/status', { origin: 'x' });
    h.send('meshcore/ sjc /ObsMixedCase2/packets', { raw: uniquePacket(1) });
    expect(h.rows('SELECT id, iata FROM observers ORDER BY id')).toEqual([
      { id: 'ObsMixedCase', iata: 'SJC' },
      { id: 'ObsMixedCase2', iata: 'SJC' },
    ]);
  });

  it('#1465: observer last_seen is ingest time whatever the envelope says (past or future, status or packet)', () => {
    const past = new Date(NOW - 5 * HOUR).toISOString();
    const future = new Date(NOW + 3 * HOUR).toISOString();
    h.send(statusTopic('s1'), { origin: 'a', timestamp: past });
    h.send(statusTopic('s2'), { origin: 'b', timestamp: future });
    h.send(packetTopic('p1'), { raw: uniquePacket(1), timestamp: past });
    h.send(packetTopic('p2'), { raw: uniquePacket(2), timestamp: future });
    expect(h.rows('SELECT id, last_seen FROM observers ORDER BY id')).toEqual(
      ['p1', 'p2', 's1', 's2'].map((id) => ({ id, last_seen: NOW_RFC3339 })),
    );
  });

  describe('naive-clock skew (RecordNaiveSkew)', () => {
    interface SkewRow {
      clock_skew_seconds: number | null;
      clock_skew_count_24h: number;
      clock_last_naive_at: string | null;
    }
    const skew = (id: string) =>
      h.row<SkewRow>('SELECT clock_skew_seconds, clock_skew_count_24h, clock_last_naive_at FROM observers WHERE id = ?', id);

    it('records the signed offset of a naive timestamp more than 15 min off, counting within 24 h', () => {
      h.send(packetTopic('obs1'), { raw: uniquePacket(1), timestamp: '2026-07-18T19:00:00' }, NOW);
      expect(skew('obs1')).toEqual({ clock_skew_seconds: 25200, clock_skew_count_24h: 1, clock_last_naive_at: NOW_RFC3339 });
      h.send(packetTopic('obs1'), { raw: uniquePacket(2), timestamp: '2026-07-18T12:30:00' }, NOW + HOUR);
      expect(skew('obs1')).toEqual({ clock_skew_seconds: -1800, clock_skew_count_24h: 2, clock_last_naive_at: rfc(NOW + HOUR) });
      // more than 24 h after the last naive record: the count restarts
      const later = NOW + 26 * HOUR;
      h.send(packetTopic('obs1'), { raw: uniquePacket(3), timestamp: rfc(later + 2 * HOUR).slice(0, 19) }, later);
      expect(skew('obs1')).toEqual({ clock_skew_seconds: 7200, clock_skew_count_24h: 1, clock_last_naive_at: rfc(later) });
    });

    it('ignores naive timestamps within 15 min, zone-aware timestamps and numeric timestamps', () => {
      h.send(packetTopic('obs1'), { raw: uniquePacket(1), timestamp: '2026-07-18T12:10:00' });
      h.send(packetTopic('obs1'), { raw: uniquePacket(2), timestamp: '2026-07-18T19:00:00Z' });
      h.send(packetTopic('obs1'), { raw: uniquePacket(3), timestamp: 1_800_000_000 });
      expect(skew('obs1')).toEqual({ clock_skew_seconds: null, clock_skew_count_24h: 0, clock_last_naive_at: null });
    });

    it('needs an observer id (no row for a topic without one)', () => {
      h.send('meshcore/SJC', { raw: uniquePacket(1), timestamp: '2026-07-18T19:00:00' });
      expect(h.count('observers')).toBe(0);
    });

    it('runs before the advert checks: a dropped packet still records skew on a bare observer row', () => {
      // A decode that succeeds but whose advert fails validation (lat out of range) drops the message
      // after the skew step, leaving the reference's NULL-name observer row.
      const raw = advertHex(identity(9), { nodeType: 1, lat: 95, lon: 10, name: 'Bad' });
      h.send(packetTopic('obsSkew'), { raw, timestamp: '2026-07-18T19:00:00' });
      expect(h.count('transmissions')).toBe(0);
      expect(h.row('SELECT name, first_seen, last_seen, packet_count, clock_skew_seconds FROM observers WHERE id = ?', 'obsSkew')).toEqual({
        name: null,
        first_seen: null,
        last_seen: null,
        packet_count: 0,
        clock_skew_seconds: 25200,
      });
    });
  });
});
