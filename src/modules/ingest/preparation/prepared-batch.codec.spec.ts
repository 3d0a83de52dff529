import { describe, expect, it } from 'vitest';
import { decodePreparedBatch, encodePreparedBatch } from './prepared-batch.codec';
import type { PreparedMessage, PreparedPacket } from './prepared-message';

function packet(overrides: Partial<PreparedPacket> = {}): PreparedPacket {
  return {
    kind: 'packet',
    observerId: 'OBS1',
    iata: 'SJC',
    origin: 'Observer One',
    envelope: { ms: 1_752_840_000_123, naive: false },
    snr: -7.25,
    rssi: -101,
    score: null,
    direction: 'rx',
    rawHex: '0A00D69F',
    hash: 'b1f07307cbc01ce5',
    routeType: 2,
    payloadType: 2,
    payloadVersion: 0,
    decodedJson: '{"type":"TXT_MSG"}',
    pathJson: '["AB","CD"]',
    channelHash: null,
    scopeName: null,
    fromPubkey: null,
    advertVerdict: 'none',
    advertReason: null,
    advert: null,
    ...overrides,
  };
}

describe('prepared batch codec', () => {
  it('round-trips every kind, every envelope state and advert verdict, in order', () => {
    const advert = { pubKey: 'ab'.repeat(32), name: 'Node', role: 'repeater', lat: 37.5, lon: undefined, batteryMv: undefined, temperatureC: -3.5 };
    const messages: PreparedMessage[] = [
      packet(),
      packet({ envelope: null, decodedJson: null, direction: null, snr: null }),
      packet({ envelope: 'unparseable' }),
      packet({ envelope: { ms: 1_752_840_000_000, naive: true } }),
      { kind: 'status', observerId: 'OBS2', region: 'OAK', name: '', meta: { model: 'Heltec', batteryMv: 4100 } },
      packet({ payloadType: 4, advertVerdict: 'foreign', advert, fromPubkey: advert.pubKey, scopeName: '#sjc' }),
      packet({ payloadType: 4, advertVerdict: 'rejected', advertReason: 'pubkey is all zeros', advert: { ...advert, pubKey: '00'.repeat(32) } }),
      packet({ payloadType: 4, advertVerdict: 'bad-signature', advert }),
      packet({ payloadType: 4, advertVerdict: 'geo-drop', advert }),
      packet({ payloadType: 4, advertVerdict: 'ok', advert: { ...advert, lat: undefined } }),
      { kind: 'drop', reason: 'observer_blacklist', observerId: 'bad' },
      { kind: 'drop', reason: 'not_json_object' },
      { kind: 'decode-error', error: 'invalid hex', shortTopic: 'meshcore/SJC/OBS1/packets', observerId: 'OBS1', rawLength: 2 },
      { kind: 'companion', channel: true, topicIndex: '3', msg: { text: 'a: b' } },
      { kind: 'client-reception', clientKey: 'abcd', msg: { raw: '00' } },
      { kind: 'failed', error: 'boom' },
      { kind: 'captured', topic: 'meshcore/SJC/OBS1/packets', source: 'replay', message: packet({ decodedJson: null }) },
      { kind: 'captured', topic: 'meshcore/SJC/OBS1/status', source: 'local', message: { kind: 'status', observerId: 'OBS1', region: 'SJC', name: 'One', meta: undefined } },
      { kind: 'invalid-line', line: 12, reason: 'not JSON' },
      packet({ hash: 'last' }),
    ];
    const encoded = encodePreparedBatch(messages);
    expect(decodePreparedBatch(structuredClone(encoded))).toStrictEqual(messages);
  });

  it('sends a packet as a flat run of primitives', () => {
    const encoded = encodePreparedBatch([packet(), packet()]);
    expect(encoded).toHaveLength(2 * 29);
    expect(encoded.every((v) => v === null || v === undefined || typeof v !== 'object')).toBe(true);
  });

  it('an empty batch', () => {
    expect(decodePreparedBatch(encodePreparedBatch([]))).toEqual([]);
  });
});
