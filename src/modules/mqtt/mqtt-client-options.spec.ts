import { describe, expect, it } from 'vitest';
import { MqttSourceConfig } from '../../config/config.types';
import { buildClientOptions, ephemeralClientId, subscriptionTopics } from './mqtt-client-options';

const source = (over: Partial<MqttSourceConfig> = {}): MqttSourceConfig => ({
  name: 'local',
  broker: 'tcp://127.0.0.1:1883',
  topics: ['meshcore/#'],
  iataFilter: [],
  connectTimeoutSec: 30,
  qos: 0,
  sessionExpirySec: 86400,
  ...over,
});

describe('buildClientOptions (mqtt_opts_test.go)', () => {
  it('uses a 30 s keepalive, 10 s connect timeout, clean 3.1.1 session and a unique client id for QoS 0', () => {
    const a = buildClientOptions(source());
    const b = buildClientOptions(source());
    expect(a).toMatchObject({ keepalive: 30, connectTimeout: 10_000, clean: true, protocolVersion: 4, resubscribe: false, writeCache: false });
    expect(a.clientId).not.toBe(b.clientId);
    expect(a.username).toBeUndefined();
    expect(a.password).toBeUndefined();
    expect(a.rejectUnauthorized).toBeUndefined();
  });

  it('sends credentials only when set and disables verification only on explicit false', () => {
    const o = buildClientOptions(source({ username: 'u', password: 'p', rejectUnauthorized: false }));
    expect(o).toMatchObject({ username: 'u', password: 'p', rejectUnauthorized: false });
    expect(buildClientOptions(source({ rejectUnauthorized: true })).rejectUnauthorized).toBeUndefined();
  });

  it('uses a persistent MQTT 5 session with the fixed client id for QoS 1', () => {
    const o = buildClientOptions(source({ qos: 1, clientId: 'ingestor-1', sessionExpirySec: 3600 }));
    expect(o).toMatchObject({ clientId: 'ingestor-1', clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 3600 } });
  });

  it('uses a persistent MQTT 3.1.1 session (clean: false, no v5 properties) for the embedded broker, which has no MQTT 5', () => {
    const o = buildClientOptions(source({ qos: 1, clientId: 'meshcore-ingestor-embedded', embedded: true }));
    expect(o).toMatchObject({ clientId: 'meshcore-ingestor-embedded', clean: false, protocolVersion: 4 });
    expect(o.properties).toBeUndefined();
  });

  it('makes readable ids from URL tags', () => {
    expect(ephemeralClientId('tcp://u@host:1883')).toMatch(/^meshcore-ingestor-u-host-1883-[0-9a-f]{8}$/);
    expect(ephemeralClientId('tcp://u:hunter2@host:1883')).not.toContain('hunter2');
  });
});

describe('subscriptionTopics', () => {
  it('subscribes the configured topics as they are without a shareGroup', () => {
    expect(subscriptionTopics(source({ topics: ['meshcore/#', 'meshcore/SJC/+/status'] }))).toEqual(['meshcore/#', 'meshcore/SJC/+/status']);
  });

  it('prefixes every topic with $share/<shareGroup>/ when the source has one', () => {
    expect(subscriptionTopics(source({ topics: ['meshcore/#', 'meshcore/SJC/+/status'], shareGroup: 'ingestors' }))).toEqual([
      '$share/ingestors/meshcore/#',
      '$share/ingestors/meshcore/SJC/+/status',
    ]);
  });

  it('leaves the client options alone: a shared subscription needs no other connect setting', () => {
    const shared = buildClientOptions(source({ qos: 1, clientId: 'replica-1', shareGroup: 'ingestors' }));
    const plain = buildClientOptions(source({ qos: 1, clientId: 'replica-1' }));
    expect(shared).toEqual(plain);
  });
});
