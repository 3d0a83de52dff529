/**
 * Message handling through the real pipeline on a migrated database: topic dispatch, filters,
 * status messages, field aliases and the companion-bridge formats (ingestor-spec §2.3–§2.5,
 * §3.2, §3.12; the handler tests of main_test.go and friends, observer_blacklist_test.go,
 * observer_status_meta_test.go).
 */
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  advertHex,
  identity,
  NOW,
  NOW_EPOCH,
  NOW_RFC3339,
  packetTopic,
  pipelineHarness,
  REAL_STATUS_PAYLOAD,
  statusTopic,
  uniquePacket,
  type PipelineHarness,
} from './pipeline.test-support';

const HOUR = 3600_000;

describe('IngestPipeline — handleMessage', () => {
  let h: PipelineHarness;
  beforeEach(async () => {
    h = await pipelineHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  const empty = { transmissions: 0, observations: 0, observers: 0, nodes: 0, observer_metrics: 0, dropped_packets: 0, client_receptions: 0, client_observers: 0 };

  it('TestHandleMessageRawPacket: a packet creates one transmission, one observation and its observer', () => {
    h.send(packetTopic('obs1'), { raw: uniquePacket(1), origin: 'One' });
    expect(h.counts()).toEqual({ ...empty, transmissions: 1, observations: 1, observers: 1 });
  });

  it('TestHandleMessageRawPacketAdvert: an advert also creates its node', () => {
    h.send(packetTopic('obs1'), { raw: advertHex(identity(1), { nodeType: 2, name: 'Rep' }), origin: 'One' });
    expect(h.counts()).toEqual({ ...empty, transmissions: 1, observations: 1, observers: 1, nodes: 1 });
  });

  it('TestHandleMessageInvalidJSON: invalid JSON, arrays, strings and numbers insert nothing', () => {
    for (const payload of ['not json', '{"raw":', '[1,2]', '"raw"', '42', 'null', Buffer.from([0xff, 0xfe])]) {
      const { counters } = h.send(packetTopic('obs1'), payload);
      expect(counters.drops.get('not_json_object')).toBe(1);
    }
    expect(h.counts()).toEqual(empty);
  });

  it('TestHandleMessageNoRawHex: a packet topic without raw (or with an empty / non-string raw) inserts nothing', () => {
    h.send(packetTopic('obs1'), { SNR: 5, origin: 'x' });
    h.send(packetTopic('obs1'), { raw: '', origin: 'x' });
    h.send(packetTopic('obs1'), { raw: 1234, origin: 'x' });
    expect(h.counts()).toEqual(empty);
  });

  it('TestHandleMessageBadRawHex: a decode error inserts nothing (no observer) and logs a redacted line', () => {
    const { counters } = h.send('meshcore/SJC/ABCDEFGHIJKLMNOP/packets', { raw: 'zz', origin: 'x' });
    expect(h.counts()).toEqual(empty);
    expect(counters.values.decode_errors).toBe(1);
    const line = h.logs.find((l) => l.line.includes('decode error'))!;
    expect(line.level).toBe('warn');
    expect(line.line).toContain('(topic=meshcore/SJC/ABCDEFGH/packets observer=ABCDEFGH rawHexLen=2)');
    expect(line.line).not.toContain('IJKLMNOP');
  });

  it('TestHandleMessageStatusTopic: status upserts the observer name and iata', () => {
    const { counters } = h.send(statusTopic('obs1', 'sjc'), { status: 'online', origin: 'My Observer' });
    expect(h.row('SELECT name, iata, last_seen, first_seen, packet_count, last_packet_at FROM observers WHERE id = ?', 'obs1')).toEqual({
      name: 'My Observer',
      iata: 'SJC',
      last_seen: NOW_RFC3339,
      first_seen: NOW_RFC3339,
      packet_count: 1,
      last_packet_at: null,
    });
    expect(counters.values).toMatchObject({ observer_upserts: 1, status_messages: 1 });
    // no metadata fields → no metrics row
    expect(h.count('observer_metrics')).toBe(0);
  });

  it('TestHandleMessageStatusOriginFallback: works without origin and blanks an existing name (quirk 2)', () => {
    h.send(statusTopic('obs1'), { origin: 'Before' });
    h.send(statusTopic('obs1'), { status: 'online' }, NOW + 1000);
    expect(h.row('SELECT name, packet_count FROM observers WHERE id = ?', 'obs1')).toEqual({ name: '', packet_count: 2 });
    // a non-string origin is treated as absent
    h.send(statusTopic('obs2'), { origin: 42 });
    expect(h.value('SELECT name FROM observers WHERE id = ?', 'obs2')).toBe('');
  });

  it('status is taken before raw: a status topic carrying raw stores no packet', () => {
    h.send(statusTopic('obs1'), { raw: uniquePacket(1), origin: 'x' });
    expect(h.count('transmissions')).toBe(0);
    expect(h.count('observers')).toBe(1);
  });

  it('TestHandleMessageSkipStatusTopics: meshcore/status and meshcore/events/connection are ignored even with raw', () => {
    h.send('meshcore/status', { raw: uniquePacket(1), origin: 'x' });
    h.send('meshcore/events/connection', { raw: uniquePacket(2), origin: 'x' });
    expect(h.counts()).toEqual(empty);
    expect(h.counters.drops.get('ignored_topic')).toBe(2);
  });

  it('TestHandleMessageMinimalTopic: short topics still insert; the 4th segment need not be "packets"', () => {
    h.send('meshcore', { raw: uniquePacket(1) });
    h.send('meshcore/SJC', { raw: uniquePacket(2) });
    h.send('meshcore/SJC/obs9/whatever/extra', { raw: uniquePacket(3) });
    expect(h.count('transmissions')).toBe(3);
    expect(h.rows('SELECT id, iata FROM observers')).toEqual([{ id: 'obs9', iata: 'SJC' }]);
  });

  it('TestHandleMessageNoObserverID: no observer row and a NULL observer_idx without an id', () => {
    h.send('meshcore/SJC', { raw: uniquePacket(1), origin: 'ignored' });
    h.send('meshcore/SJC//packets', { raw: uniquePacket(2), origin: 'ignored' });
    expect(h.count('observers')).toBe(0);
    expect(h.rows('SELECT observer_idx FROM observations')).toEqual([{ observer_idx: null }, { observer_idx: null }]);
  });

  it('unrouted topics (no raw, not companion) are ignored', () => {
    h.send('meshcore/SJC/obs1/telemetry', { foo: 1 });
    h.send('other/thing', { text: 'hello' });
    expect(h.counts()).toEqual(empty);
  });

  describe('observer status metadata (observer_status_meta_test.go, TestUpsertObserverWithMeta)', () => {
    it('the real status payload persists every field and one metrics sample', () => {
      h.send(statusTopic('AABBCCDD', 'sjc'), REAL_STATUS_PAYLOAD, Date.parse('2026-07-18T12:02:29Z'));
      expect(
        h.row(
          `SELECT name, iata, model, firmware, client_version, radio, battery_mv, uptime_secs, noise_floor, can_relay, can_relay_seen
           FROM observers WHERE id = 'AABBCCDD'`,
        ),
      ).toEqual({
        name: 'TestObserver',
        iata: 'SJC',
        model: 'Heltec V3',
        firmware: '1.12.0-test',
        client_version: 'meshcoretomqtt/1.0.8.0',
        radio: '910.5250244,62.5,7,5',
        battery_mv: 4209,
        uptime_secs: 75821,
        noise_floor: -109,
        can_relay: 1,
        can_relay_seen: 0,
      });
      expect(h.rows('SELECT * FROM observer_metrics')).toEqual([
        {
          observer_id: 'AABBCCDD',
          timestamp: '2026-07-18T12:00:00Z', // rounded to the 300 s bucket
          noise_floor: -109,
          tx_air_secs: 80,
          rx_air_secs: 1903,
          recv_errors: 934,
          battery_mv: 4209,
          packets_sent: null,
          packets_recv: null,
        },
      ]);
    });

    it('TestSchemaNoiseFloorIsReal: an integral noise floor is stored as REAL in both tables', () => {
      h.send(statusTopic('obs1'), REAL_STATUS_PAYLOAD);
      expect(h.value("SELECT typeof(noise_floor) FROM observers WHERE id = 'obs1'")).toBe('real');
      expect(h.value('SELECT typeof(noise_floor) FROM observer_metrics')).toBe('real');
      expect(h.value("SELECT typeof(battery_mv) FROM observers WHERE id = 'obs1'")).toBe('integer');
    });

    it('TestUpsertObserverMetaPreservesExisting: a later status or packet without metadata keeps it', () => {
      h.send(statusTopic('obs1'), REAL_STATUS_PAYLOAD);
      h.send(statusTopic('obs1'), { origin: 'TestObserver', status: 'online' }, NOW + 1000);
      h.send(packetTopic('obs1'), { raw: uniquePacket(1), origin: 'TestObserver', model: 'ignored on packets' }, NOW + 2000);
      expect(h.row("SELECT model, firmware, battery_mv, noise_floor, packet_count FROM observers WHERE id = 'obs1'")).toEqual({
        model: 'Heltec V3',
        firmware: '1.12.0-test',
        battery_mv: 4209,
        noise_floor: -109,
        packet_count: 3,
      });
      // a new value replaces the old one
      h.send(statusTopic('obs1'), { origin: 'TestObserver', model: 'RAK 4631', stats: { battery_mv: 3900.5 } }, NOW + 3000);
      expect(h.row("SELECT model, battery_mv, firmware FROM observers WHERE id = 'obs1'")).toEqual({ model: 'RAK 4631', battery_mv: 3901, firmware: '1.12.0-test' });
    });

    it('repeat → can_relay (+ can_relay_seen), preserved when absent', () => {
      h.send(statusTopic('obs1'), { origin: 'a', repeat: ' OFF ' });
      expect(h.row("SELECT can_relay, can_relay_seen FROM observers WHERE id = 'obs1'")).toEqual({ can_relay: 0, can_relay_seen: 1 });
      h.send(statusTopic('obs1'), { origin: 'a', repeat: 'maybe' });
      expect(h.row("SELECT can_relay, can_relay_seen FROM observers WHERE id = 'obs1'")).toEqual({ can_relay: 0, can_relay_seen: 1 });
      h.send(statusTopic('obs1'), { origin: 'a', repeat: 2 });
      expect(h.row("SELECT can_relay, can_relay_seen FROM observers WHERE id = 'obs1'")).toEqual({ can_relay: 1, can_relay_seen: 1 });
    });

    it('TestInsertMetricsIdempotent / NullFields: one row per bucket, a later status replaces the whole row', () => {
      const bucketStart = Date.parse('2026-07-18T11:57:30Z'); // rounds to 12:00:00
      h.send(statusTopic('obs1'), { stats: { noise_floor: -100, tx_air_secs: 5, battery_mv: 4000 } }, bucketStart);
      h.send(statusTopic('obs1'), { stats: { noise_floor: -101 } }, Date.parse('2026-07-18T12:02:29Z'));
      expect(h.rows('SELECT timestamp, noise_floor, tx_air_secs, battery_mv FROM observer_metrics')).toEqual([
        { timestamp: '2026-07-18T12:00:00Z', noise_floor: -101, tx_air_secs: null, battery_mv: null },
      ]);
      // 12:02:30 ties round up into the next bucket
      h.send(statusTopic('obs1'), { stats: { recv_errors: 1 } }, Date.parse('2026-07-18T12:02:30Z'));
      expect(h.rows('SELECT timestamp FROM observer_metrics ORDER BY timestamp')).toEqual([
        { timestamp: '2026-07-18T12:00:00Z' },
        { timestamp: '2026-07-18T12:05:00Z' },
      ]);
      // a status whose only metadata is a model still writes an all-NULL sample (meta present)
      h.send(statusTopic('obs2'), { model: 'X' });
      expect(h.row("SELECT noise_floor, tx_air_secs, rx_air_secs, recv_errors, battery_mv, packets_sent, packets_recv FROM observer_metrics WHERE observer_id = 'obs2'")).toEqual({
        noise_floor: null,
        tx_air_secs: null,
        rx_air_secs: null,
        recv_errors: null,
        battery_mv: null,
        packets_sent: null,
        packets_recv: null,
      });
    });

    it('uses the configured metrics sample interval', async () => {
      const hourly = await pipelineHarness({ config: { metrics: { sampleIntervalSec: 3600 } } });
      try {
        hourly.send(statusTopic('obs1'), { stats: { noise_floor: -90 } }, Date.parse('2026-07-18T12:31:00Z'));
        expect(hourly.value('SELECT timestamp FROM observer_metrics')).toBe('2026-07-18T13:00:00Z');
      } finally {
        await hourly.close();
      }
    });

    it('a status reactivates a soft-deleted observer', () => {
      h.send(statusTopic('obs1'), { origin: 'a' });
      h.db.prepare('UPDATE observers SET inactive = 1').run();
      h.send(statusTopic('obs1'), { origin: 'a' });
      expect(h.value("SELECT inactive FROM observers WHERE id = 'obs1'")).toBe(0);
    });
  });

  describe('observation field aliases (§2.4)', () => {
    const send = (payload: Record<string, unknown>) => {
      h.db.prepare('DELETE FROM observations').run();
      h.send(packetTopic('obs1'), { raw: uniquePacket(1), ...payload });
      return h.row<{ snr: number | null; rssi: number | null; score: number | null; direction: string | null }>(
        'SELECT snr, rssi, score, direction FROM observations',
      )!;
    };

    it('TestHandleMessageSNRNotFloat: a present but non-numeric SNR hides snr (presence rule)', () => {
      expect(send({ SNR: 'abc', snr: 5, RSSI: true, rssi: -70 })).toMatchObject({ snr: null, rssi: null });
      expect(send({ SNR: null, snr: 5 })).toMatchObject({ snr: null });
    });

    it('TestHandleMessageWithLowercaseSNRRSSI', () => {
      expect(send({ snr: 7.5, rssi: -91 })).toMatchObject({ snr: 7.5, rssi: -91 });
    });

    it('TestHandleMessageSNRRSSIUppercaseWins', () => {
      expect(send({ SNR: 1.25, snr: 2, RSSI: -101, rssi: -2 })).toMatchObject({ snr: 1.25, rssi: -101 });
    });

    it('TestHandleMessageNoSNRRSSI', () => {
      expect(send({})).toEqual({ snr: null, rssi: null, score: null, direction: null });
    });

    it('numeric strings with unit suffixes are coerced (TestToFloat64WithUnits)', () => {
      expect(send({ SNR: ' -5.5dB ', RSSI: '-110dBm', score: '12' })).toMatchObject({ snr: -5.5, rssi: -110, score: 12 });
    });

    it('TestHandleMessageUppercaseScoreDirection', () => {
      expect(send({ Score: 3, Direction: 'tx' })).toMatchObject({ score: 3, direction: 'tx' });
    });

    it('TestHandleMessageRawLowercaseScore: lower-case score wins; presence rule applies to score too', () => {
      expect(send({ score: 4, Score: 9 })).toMatchObject({ score: 4 });
      expect(send({ score: 'bad', Score: 9 })).toMatchObject({ score: null });
    });

    it('a non-string direction falls through to Direction; direction wins over Direction', () => {
      expect(send({ direction: 5, Direction: 'rx' })).toMatchObject({ direction: 'rx' });
      expect(send({ direction: 'tx', Direction: 'rx' })).toMatchObject({ direction: 'tx' });
    });

    it('NaN / Inf values are not stored', () => {
      expect(send({ SNR: 'NaN', RSSI: '-Inf' })).toMatchObject({ snr: null, rssi: null });
    });
  });

  describe('companion bridge messages (§3.12)', () => {
    interface CompanionTx {
      raw_hex: string;
      hash: string;
      first_seen: string;
      route_type: number;
      payload_type: number;
      payload_version: number;
      decoded_json: string;
      channel_hash: string | null;
      scope_name: string | null;
      from_pubkey: string | null;
      last_seen: number;
    }
    const tx = () => h.rows<CompanionTx>('SELECT raw_hex, hash, first_seen, route_type, payload_type, payload_version, decoded_json, channel_hash, scope_name, from_pubkey, last_seen FROM transmissions ORDER BY id');
    const sha16 = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16);

    it('TestHandleMessageChannelMessage: channel_idx overrides the topic index; no node, no observer', () => {
      const { counters } = h.send('meshcore/message/channel/2', {
        text: 'Alice: hi <all>',
        channel_idx: 3,
        sender_timestamp: 1_700_000_000,
        SNR: 4.5,
        RSSI: -88,
        score: 2,
        direction: 'rx',
      });
      expect(tx()).toEqual([
        {
          raw_hex: '',
          hash: sha16(`ch:3:Alice: hi <all>:${NOW_RFC3339}`),
          first_seen: NOW_RFC3339,
          route_type: 1,
          payload_type: 5,
          payload_version: 0,
          decoded_json: '{"channel":"ch3","sender":"Alice","sender_timestamp":1700000000,"text":"Alice: hi \\u003call\\u003e","type":"CHAN"}',
          channel_hash: 'ch3',
          scope_name: null,
          from_pubkey: null,
          last_seen: NOW_EPOCH,
        },
      ]);
      expect(h.rows('SELECT observer_idx, snr, rssi, score, direction, path_json, raw_hex, resolved_path, timestamp FROM observations')).toEqual([
        { observer_idx: null, snr: 4.5, rssi: -88, score: 2, direction: 'rx', path_json: '[]', raw_hex: null, resolved_path: null, timestamp: NOW_EPOCH },
      ]);
      expect(h.count('nodes')).toBe(0);
      expect(h.count('observers')).toBe(0);
      expect(counters.values).toMatchObject({ companion_messages: 1, tx_inserted: 1, obs_inserted: 1 });
      expect(h.logs.some((l) => l.line === 'MQTT [test] channel message: ch3 from Alice')).toBe(true);
    });

    it('TestHandleMessageChannelMessageEmptyText: empty or missing text is ignored', () => {
      h.send('meshcore/message/channel/1', { text: '' });
      h.send('meshcore/message/channel/1', { sender_timestamp: 1 });
      h.send('meshcore/message/direct/x', { text: '' });
      expect(h.counts()).toEqual(empty);
    });

    it('TestHandleMessageChannelMessageNoSender / LongSender: sender only when ": " is at byte 1..49', () => {
      h.send('meshcore/message/channel/7', { text: 'no sender here' });
      h.send('meshcore/message/channel/7', { text: `${'x'.repeat(50)}: too long` });
      expect(tx().map((t) => JSON.parse(t.decoded_json).sender)).toEqual(['', '']);
      expect(tx().map((t) => t.channel_hash)).toEqual(['ch7', 'ch7']);
      expect(h.logs.filter((l) => l.line.endsWith('from unknown'))).toHaveLength(2);
    });

    it('TestHandleMessageChannelMessageLowercaseFields / UppercaseScoreDirection', () => {
      h.send('meshcore/message/channel/1', { text: 'a', snr: 3, rssi: -70, Score: 5, Direction: 'rx' });
      expect(h.row('SELECT snr, rssi, score, direction FROM observations')).toEqual({ snr: 3, rssi: -70, score: 5, direction: 'rx' });
    });

    it('identical messages within one second dedupe; the next second is a new transmission', () => {
      h.send('meshcore/message/channel/1', { text: 'same' }, NOW);
      h.send('meshcore/message/channel/1', { text: 'same' }, NOW + 999);
      h.send('meshcore/message/channel/1', { text: 'same' }, NOW + 1000);
      expect(h.count('transmissions')).toBe(2);
      expect(h.count('observations')).toBe(3); // observer_idx NULL never conflicts
    });

    it('TestHandleMessageDirectMessage: payload type 2, no channel_hash, DM decoded_json', () => {
      h.send('meshcore/message/direct/abc', { text: 'Bob: yo', sender_timestamp: 'x', rssi: -60, score: 1.5 });
      const [t] = tx();
      expect(t).toMatchObject({
        raw_hex: '',
        hash: sha16(`dm:Bob: yo:${NOW_RFC3339}`),
        route_type: 1,
        payload_type: 2,
        channel_hash: null,
        decoded_json: '{"sender":"Bob","sender_timestamp":"x","text":"Bob: yo","type":"DM"}',
      });
      expect(h.row('SELECT rssi, score, typeof(score) AS t, observer_idx FROM observations')).toEqual({ rssi: -60, score: 1.5, t: 'real', observer_idx: null });
      expect(h.count('nodes') + h.count('observers')).toBe(0);
      expect(h.logs.some((l) => l.line === 'MQTT [test] direct message from Bob')).toBe(true);
    });

    it('#1370: channel and DM messages store ingest time even with a 7 h stale envelope', () => {
      const stale = new Date(NOW - 7 * HOUR).toISOString();
      h.send('meshcore/message/channel/1', { text: 'c', timestamp: stale });
      h.send('meshcore/message/direct/1', { text: 'd', timestamp: stale });
      expect(tx().map((t) => t.first_seen)).toEqual([NOW_RFC3339, NOW_RFC3339]);
      expect(h.rows('SELECT timestamp FROM observations')).toEqual([{ timestamp: NOW_EPOCH }, { timestamp: NOW_EPOCH }]);
    });

    it('a raw field takes precedence over the companion format', () => {
      h.send('meshcore/message/channel/1', { raw: uniquePacket(1), text: 'x' });
      expect(tx()[0].payload_type).toBe(2);
      expect(tx()[0].raw_hex).toBe(uniquePacket(1));
      // the observer is parts[2] = "channel" (topic not otherwise checked)
      expect(h.value('SELECT id FROM observers')).toBe('channel');
    });

    it('an existing "companion" observer row gets the observation (observer id "companion")', () => {
      h.send('meshcore/XYZ/companion/status', { origin: 'L1' });
      h.send('meshcore/message/channel/1', { text: 'x' }, NOW + 1000);
      expect(h.value('SELECT observer_idx FROM observations')).toBe(h.value("SELECT rowid FROM observers WHERE id = 'companion'"));
      expect(h.value("SELECT last_packet_at FROM observers WHERE id = 'companion'")).toBe('2026-07-18T12:00:01Z');
    });
  });
});

describe('IngestPipeline — filters (§2.5)', () => {
  it('TestHandleMessageIATAFilter / TestIATAFilterDoesNotDropStatusMessages: exact, case-sensitive, packets only', async () => {
    const h = await pipelineHarness({
      config: { mqttSources: [{ name: 'src', broker: 'mqtt://localhost:1883', iataFilter: ['SJC'] }] },
    });
    try {
      h.send(packetTopic('obs1', 'SJC'), { raw: uniquePacket(1) }, NOW, 'src');
      h.send(packetTopic('obs2', 'LAX'), { raw: uniquePacket(2) }, NOW, 'src');
      h.send(packetTopic('obs3', 'sjc'), { raw: uniquePacket(3) }, NOW, 'src');
      h.send(statusTopic('obs4', 'LAX'), { origin: 'status passes' }, NOW, 'src');
      h.send('meshcore/message/channel/1', { text: 'companion region is "message"' }, NOW, 'src');
      // another source has no filter
      h.send(packetTopic('obs5', 'LAX'), { raw: uniquePacket(5) }, NOW, 'other');
      expect(h.count('transmissions')).toBe(2);
      expect(h.rows('SELECT id FROM observers ORDER BY id').map((r) => r.id)).toEqual(['obs1', 'obs4', 'obs5']);
      expect(h.counters.drops.get('source_iata_filter')).toBe(3);
    } finally {
      await h.close();
    }
  });

  it('TestHandleMessageObserverIATAWhitelist: status and packets outside the whitelist are dropped (trim + upper)', async () => {
    const h = await pipelineHarness({ config: { observerIATAWhitelist: [' sjc ', 'sfo'] } });
    try {
      h.send(packetTopic('obs1', 'SJC'), { raw: uniquePacket(1) });
      h.send(packetTopic('obs2', ' sfo '), { raw: uniquePacket(2) });
      h.send(packetTopic('obs3', 'LAX'), { raw: uniquePacket(3) });
      h.send(statusTopic('obs4', 'LAX'), { origin: 'x' });
      h.send(statusTopic('obs5', 'sjc'), { origin: 'x' });
      expect(h.rows('SELECT id FROM observers ORDER BY id').map((r) => r.id)).toEqual(['obs1', 'obs2', 'obs5']);
      expect(h.count('transmissions')).toBe(2);
      // quirk 8: companion topics have region "message" and are dropped too
      h.send('meshcore/message/channel/1', { text: 'dropped' });
      h.send('meshcore/message/direct/1', { text: 'dropped' });
      expect(h.count('transmissions')).toBe(2);
      expect(h.counters.drops.get('iata_whitelist')).toBe(4);
    } finally {
      await h.close();
    }
    const withMessage = await pipelineHarness({ config: { observerIATAWhitelist: ['SJC', 'message'] } });
    try {
      withMessage.send('meshcore/message/channel/1', { text: 'kept' });
      expect(withMessage.count('transmissions')).toBe(1);
    } finally {
      await withMessage.close();
    }
  });

  it('observer_blacklist_test.go: case-insensitive (trimmed) match, nothing written for status, metrics or packets', async () => {
    const h = await pipelineHarness({ config: { observerBlacklist: [' BadObserver '] } });
    try {
      h.send(statusTopic('badobserver'), REAL_STATUS_PAYLOAD);
      h.send(packetTopic('BADOBSERVER'), { raw: uniquePacket(1), origin: 'x' });
      h.send(packetTopic(' BadObserver '), { raw: advertHex(identity(3), { nodeType: 1, name: 'n' }), timestamp: '2026-07-18T19:00:00' });
      expect(h.counts()).toEqual({
        transmissions: 0,
        observations: 0,
        observers: 0,
        nodes: 0,
        observer_metrics: 0,
        dropped_packets: 0,
        client_receptions: 0,
        client_observers: 0,
      });
      expect(h.counters.drops.get('observer_blacklist')).toBe(3);
      expect(h.logs.filter((l) => l.line === 'MQTT [test] observer badobser blacklisted, dropping')).toHaveLength(1);
      // other observers are unaffected
      h.send(packetTopic('goodObserver'), { raw: uniquePacket(1) });
      expect(h.count('transmissions')).toBe(1);
    } finally {
      await h.close();
    }
  });

  it('observer_blacklist_test.go: an empty or blank blacklist blacklists nothing', async () => {
    for (const observerBlacklist of [[], ['', '   ']]) {
      const h = await pipelineHarness({ config: { observerBlacklist } });
      try {
        h.send(statusTopic('obs1'), { origin: 'x' });
        h.send(packetTopic(''), { raw: uniquePacket(1) });
        expect(h.count('observers')).toBe(1);
        expect(h.count('transmissions')).toBe(1);
      } finally {
        await h.close();
      }
    }
  });

  it('the blacklist is checked before the whitelist and also covers companion topics on parts[2]', async () => {
    const h = await pipelineHarness({ config: { observerBlacklist: ['channel'] } });
    try {
      h.send('meshcore/message/channel/1', { text: 'x' });
      expect(h.count('transmissions')).toBe(0);
      h.send('meshcore/message/direct/1', { text: 'x' });
      expect(h.count('transmissions')).toBe(1);
    } finally {
      await h.close();
    }
  });
});
