import { describe, expect, it } from 'vitest';
import { extractObserverMeta } from './observer-status';

describe('extractObserverMeta (TestExtractObserverMeta*)', () => {
  it('reads the real status payload (observer_status_meta_test.go)', () => {
    const msg = JSON.parse(
      '{"status":"online","origin":"TestObserver","origin_id":"AABBCCDD","radio":"910.5250244,62.5,7,5","model":"Heltec V3","firmware_version":"1.12.0-test","client_version":"meshcoretomqtt/1.0.8.0","stats":{"battery_mv":4209,"uptime_secs":75821,"noise_floor":-109,"tx_air_secs":80,"rx_air_secs":1903,"recv_errors":934}}',
    );
    expect(extractObserverMeta(msg)).toEqual({
      model: 'Heltec V3',
      firmware: '1.12.0-test',
      clientVersion: 'meshcoretomqtt/1.0.8.0',
      radio: '910.5250244,62.5,7,5',
      batteryMv: 4209,
      uptimeSecs: 75821,
      noiseFloor: -109,
      txAirSecs: 80,
      rxAirSecs: 1903,
      recvErrors: 934,
      packetsSent: undefined,
      packetsRecv: undefined,
      canRelay: undefined,
    });
  });

  it('nested stats win over top level (NestedStatsPrecedence), even when null (NestedNilSkipsTopLevel)', () => {
    expect(extractObserverMeta({ stats: { battery_mv: 4000 }, battery_mv: 3000 })?.batteryMv).toBe(4000);
    const meta = extractObserverMeta({ stats: { battery_mv: null }, battery_mv: 3000, model: 'x' });
    expect(meta?.batteryMv).toBeUndefined();
  });

  it('falls back to top level (FlatFallback, EmptyStats, StatsNotAMap)', () => {
    expect(extractObserverMeta({ battery_mv: 3700, uptime_secs: '12' })).toMatchObject({ batteryMv: 3700, uptimeSecs: 12 });
    expect(extractObserverMeta({ stats: {}, noise_floor: -100 })?.noiseFloor).toBe(-100);
    expect(extractObserverMeta({ stats: 'nope', noise_floor: -101 })?.noiseFloor).toBe(-101);
  });

  it('keeps noise floor as a float and rounds integer stats half away from zero (NoiseFloorFloat)', () => {
    const meta = extractObserverMeta({ stats: { noise_floor: -109.5, battery_mv: 4208.5, recv_errors: -2.5 } });
    expect(meta?.noiseFloor).toBe(-109.5);
    expect(meta?.batteryMv).toBe(4209);
    expect(meta?.recvErrors).toBe(-3);
  });

  it('reads the newer fields (NewFields) and alias precedence', () => {
    const meta = extractObserverMeta({
      firmware: 'old',
      firmware_version: 'new',
      client_version: 'snake',
      clientVersion: 'camel',
      stats: { packets_sent: 10, packets_recv: 20 },
    });
    expect(meta).toMatchObject({ firmware: 'new', clientVersion: 'camel', packetsSent: 10, packetsRecv: 20 });
  });

  it.each([
    [true, 1],
    [false, 0],
    ['ON', 1],
    [' yes ', 1],
    ['off', 0],
    ['0', 0],
    [2, 1],
    [0, 0],
    ['maybe', undefined],
  ])('repeat %j → can_relay %s', (repeat, expected) => {
    expect(extractObserverMeta({ repeat, model: 'm' })?.canRelay).toBe(expected);
  });

  it('is absent when no field yields a value', () => {
    expect(extractObserverMeta({ status: 'online', origin: 'x', model: '', stats: { foo: 1 } })).toBeUndefined();
  });
});
