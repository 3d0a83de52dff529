/**
 * Mobile client RX coverage end to end (ingestor-spec §2.3 step 3, §3.11; client_reception_test.go,
 * coverage_gate_test.go): heard-key rules, range checks, idempotent insert, feature gate,
 * blacklist on the client topic, non-hex key rejection, client_observers upsert.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  advertHex,
  identity,
  NOW,
  NOW_RFC3339,
  pipelineHarness,
  pubkeyHex,
  uniquePacket,
  type PipelineHarness,
} from './pipeline.test-support';

const CLIENT = 'a1b2c3d4e5f60718';
const clientTopic = (key = CLIENT) => `meshcore/client/${key}/packets`;
const gps = { lat: 37.3, lon: -121.9, acc_m: 12 };
/** Flood packet with two 2-byte hops A1B2, C3D4 (path byte 0x42). */
const twoByteHops = (n = 1, routeType = 1) =>
  uniquePacket(n, { routeType, pathByte: 0x42, path: Uint8Array.of(0xa1, 0xb2, 0xc3, 0xd4) });

interface ReceptionRow {
  rx_pubkey: string;
  heard_key: string;
  heard_keylen: number;
  rssi: number | null;
  snr: number | null;
  lat: number;
  lon: number;
  pos_acc_m: number | null;
  rx_at: string;
  ingested_at: string;
  src: string;
}

describe('client RX coverage (enabled)', () => {
  let h: PipelineHarness;
  beforeEach(async () => {
    h = await pipelineHarness({ config: { clientRxCoverage: { enabled: true } } });
  });
  afterEach(async () => {
    await h.close();
  });

  const receptions = () => h.rows<ReceptionRow>('SELECT rx_pubkey, heard_key, heard_keylen, rssi, snr, lat, lon, pos_acc_m, rx_at, ingested_at, src FROM client_receptions ORDER BY id');

  it('a flood packet with 2-byte hops records the last hop (rxlog); never touches the observer tables', () => {
    const { counters } = h.send(clientTopic(), {
      raw: twoByteHops(),
      gps,
      direction: 'rx',
      SNR: 6.25,
      RSSI: -97.9,
      timestamp: '2026-07-18T11:00:00Z',
    });
    expect(receptions()).toEqual([
      {
        rx_pubkey: CLIENT,
        heard_key: 'c3d4',
        heard_keylen: 2,
        rssi: -97, // truncated toward zero
        snr: 6.25,
        lat: 37.3,
        lon: -121.9,
        pos_acc_m: 12,
        rx_at: '2026-07-18T11:00:00Z', // envelope time honoured
        ingested_at: NOW_RFC3339,
        src: 'rxlog',
      },
    ]);
    expect(h.counts()).toMatchObject({ transmissions: 0, observations: 0, observers: 0, nodes: 0 });
    expect(counters.values.client_receptions).toBe(1);
  });

  it('TRANSPORT_FLOOD counts as flood; 3-byte hops give keylen 3; lower-case "Direction" alias and "RX" accepted', () => {
    h.send(clientTopic(), { raw: twoByteHops(1, 0), gps, Direction: 'RX' });
    h.send(clientTopic(), { raw: uniquePacket(2, { pathByte: 0x81, path: Uint8Array.of(0xde, 0xad, 0xbe) }), gps, direction: 'Rx', timestamp: '2026-07-18T11:00:00Z' });
    expect(receptions().map((r) => [r.heard_key, r.heard_keylen, r.src])).toEqual([
      ['c3d4', 2, 'rxlog'],
      ['deadbe', 3, 'rxlog'],
    ]);
  });

  it('a zero-hop advert records its sender by full pubkey (src advert), signature not checked', () => {
    const id = identity(40);
    h.send(clientTopic(), { raw: advertHex(id, { nodeType: 2, name: 'R' }, { tamper: true }), gps, direction: 'rx' });
    expect(receptions().map((r) => [r.heard_key, r.heard_keylen, r.src])).toEqual([[pubkeyHex(id), 32, 'advert']]);
    expect(h.count('dropped_packets')).toBe(0);
    expect(h.count('nodes')).toBe(0);
  });

  it('rejects what is not attributable: 1-byte hops, direct routes with hops, zero-hop non-adverts, non-rx direction', () => {
    h.send(clientTopic(), { raw: uniquePacket(1, { path: Uint8Array.of(0xa1, 0xb2) }), gps, direction: 'rx' });
    h.send(clientTopic(), { raw: twoByteHops(2, 2), gps, direction: 'rx' });
    h.send(clientTopic(), { raw: twoByteHops(3, 3), gps, direction: 'rx' });
    h.send(clientTopic(), { raw: uniquePacket(4), gps, direction: 'rx' });
    h.send(clientTopic(), { raw: twoByteHops(5), gps, direction: 'tx' });
    h.send(clientTopic(), { raw: twoByteHops(6), gps });
    h.send(clientTopic(), { raw: twoByteHops(7), gps, direction: 7 });
    expect(h.count('client_receptions')).toBe(0);
  });

  it('range checks: lat within [-90, 90], lon within [-180, 180] (bounds inclusive)', () => {
    const at = (lat: number, lon: number, n: number) => h.send(clientTopic(), { raw: twoByteHops(n), gps: { lat, lon }, direction: 'rx', timestamp: new Date(NOW - n * 1000).toISOString() });
    at(90.0001, 0, 1);
    at(-90.5, 0, 2);
    at(0, 180.01, 3);
    at(0, -181, 4);
    expect(h.count('client_receptions')).toBe(0);
    at(90, 180, 5);
    at(-90, -180, 6);
    expect(receptions().map((r) => [r.lat, r.lon, r.pos_acc_m])).toEqual([
      [90, 180, null],
      [-90, -180, null],
    ]);
  });

  it('requires raw and a gps object with numeric lat/lon (numeric strings coerce like every numeric field)', () => {
    h.send(clientTopic(), { gps, direction: 'rx' });
    h.send(clientTopic(), { raw: twoByteHops(), direction: 'rx' });
    h.send(clientTopic(), { raw: twoByteHops(), gps: [37, -122], direction: 'rx' });
    h.send(clientTopic(), { raw: twoByteHops(), gps: { lat: 37 }, direction: 'rx' });
    h.send(clientTopic(), { raw: twoByteHops(), gps: { lat: 'north', lon: -122 }, direction: 'rx' });
    h.send(clientTopic(), { raw: twoByteHops(), gps: { lat: null, lon: -122 }, direction: 'rx' });
    expect(h.count('client_receptions')).toBe(0);
    h.send(clientTopic(), { raw: twoByteHops(), gps: { lat: ' 37.5 ', lon: '-122.25', acc_m: '8m' }, direction: 'rx' });
    expect(receptions().map((r) => [r.lat, r.lon, r.pos_acc_m])).toEqual([[37.5, -122.25, 8]]);
  });

  it('a decode error drops the message with a log line', () => {
    const { counters } = h.send(clientTopic(), { raw: 'zz', gps, direction: 'rx' });
    expect(h.count('client_receptions')).toBe(0);
    expect(counters.values.decode_errors).toBe(1);
    expect(h.logs.some((l) => l.line.startsWith('MQTT [test] client decode error: '))).toBe(true);
  });

  it('is idempotent on (rx_pubkey, heard_key, rx_at)', () => {
    const payload = { raw: twoByteHops(), gps, direction: 'rx', timestamp: '2026-07-18T11:00:00Z', SNR: 1 };
    h.send(clientTopic(), payload);
    h.send(clientTopic(), { ...payload, SNR: 2 }, NOW + 5000);
    expect(receptions().map((r) => r.snr)).toEqual([1]);
    // another second is another row
    h.send(clientTopic(), { ...payload, timestamp: '2026-07-18T11:00:01Z' });
    expect(h.count('client_receptions')).toBe(2);
  });

  it('rx_at: missing or out-of-range envelope → now; a naive skewed clock records no skew', () => {
    h.send(clientTopic(), { raw: twoByteHops(1), gps, direction: 'rx' });
    h.send(clientTopic(), { raw: twoByteHops(2), gps, direction: 'rx', timestamp: '2026-07-18T19:00:00' });
    h.send(clientTopic(), { raw: twoByteHops(3), gps, direction: 'rx', timestamp: '2026-05-01T00:00:00Z' });
    expect(receptions().map((r) => r.rx_at)).toEqual([NOW_RFC3339]);
    expect(h.count('observers')).toBe(0);
  });

  it('the topic key is trimmed and lower-cased; a non-hex key is rejected with a log line', () => {
    h.send(clientTopic(' A1B2C3D4E5F60718 '), { raw: twoByteHops(), gps, direction: 'rx' });
    expect(receptions().map((r) => r.rx_pubkey)).toEqual([CLIENT]);
    for (const bad of ['zz11', 'a', '!@#$', 'a'.repeat(65), '']) {
      h.send(clientTopic(bad), { raw: twoByteHops(9), gps, direction: 'rx', timestamp: '2026-07-18T11:11:11Z' });
    }
    expect(h.count('client_receptions')).toBe(1);
    expect(h.logs.some((l) => l.line === 'MQTT [test] client: invalid pubkey zz11, dropping')).toBe(true);
    expect(h.counts()).toMatchObject({ transmissions: 0, observers: 0, client_observers: 0 });
  });

  it('client_observers: origin upserts the name and last_seen (ingest time); no origin, no row', () => {
    h.send(clientTopic(), { raw: twoByteHops(1), gps, direction: 'rx' });
    expect(h.count('client_observers')).toBe(0);
    h.send(clientTopic(), { raw: twoByteHops(2), gps, direction: 'rx', origin: 'Alice', timestamp: '2026-07-18T10:00:00Z' });
    expect(h.rows('SELECT * FROM client_observers')).toEqual([{ pubkey: CLIENT, name: 'Alice', last_seen: NOW_RFC3339 }]);
    h.send(clientTopic(), { raw: twoByteHops(3), gps, direction: 'rx', origin: 'Alice 2' }, NOW + 60_000);
    expect(h.rows('SELECT * FROM client_observers')).toEqual([{ pubkey: CLIENT, name: 'Alice 2', last_seen: '2026-07-18T12:01:00Z' }]);
    // an unattributable packet writes no client_observers row either
    h.send(clientTopic('bb'), { raw: uniquePacket(4), gps, direction: 'rx', origin: 'Bob' });
    expect(h.count('client_observers')).toBe(1);
  });

  it('the observer blacklist applies to the client topic key', async () => {
    const bl = await pipelineHarness({ config: { clientRxCoverage: { enabled: true }, observerBlacklist: [CLIENT.toUpperCase()] } });
    try {
      const { counters } = bl.send(clientTopic(), { raw: twoByteHops(), gps, direction: 'rx', origin: 'x' });
      expect(bl.counts()).toMatchObject({ client_receptions: 0, client_observers: 0, transmissions: 0, observers: 0 });
      expect(counters.drops.get('client_blacklist')).toBe(1);
      expect(bl.logs.some((l) => l.line === `MQTT [test] client ${CLIENT.slice(0, 8)} blacklisted, dropping`)).toBe(true);
    } finally {
      await bl.close();
    }
  });

  it('the global IATA whitelist does not apply to client topics (handled before it)', async () => {
    const wl = await pipelineHarness({ config: { clientRxCoverage: { enabled: true }, observerIATAWhitelist: ['SJC'] } });
    try {
      wl.send(clientTopic(), { raw: twoByteHops(), gps, direction: 'rx' });
      expect(wl.count('client_receptions')).toBe(1);
    } finally {
      await wl.close();
    }
  });
});

describe('client RX coverage (feature gate off, quirk 7)', () => {
  it('client topics become ordinary observer packets with region CLIENT', async () => {
    const h = await pipelineHarness();
    try {
      expect(h.config.clientRxCoverage.enabled).toBe(false);
      h.send(clientTopic(), { raw: twoByteHops(), gps, direction: 'rx', origin: 'Phone' });
      expect(h.count('client_receptions')).toBe(0);
      expect(h.count('client_observers')).toBe(0);
      expect(h.count('transmissions')).toBe(1);
      expect(h.rows('SELECT id, name, iata FROM observers')).toEqual([{ id: CLIENT, name: 'Phone', iata: 'CLIENT' }]);
      expect(h.row('SELECT direction, path_json FROM observations')).toEqual({ direction: 'rx', path_json: '["A1B2","C3D4"]' });
    } finally {
      await h.close();
    }
  });
});
