import { randomBytes } from 'node:crypto';
import type { IClientOptions } from 'mqtt';
import { maskBrokerUrl } from '../../common/masking/mask-broker-url';
import { MqttSourceConfig } from '../../config/config.types';

/** Keepalive of the reference (§2.1); a missing PINGRESP ends the connection. */
export const KEEPALIVE_SEC = 30;
export const CONNECT_TIMEOUT_MS = 10_000;
/** Reconnect backoff: starts at 1 s, doubles per failed attempt, capped like the reference. */
export const RECONNECT_START_MS = 1_000;
export const RECONNECT_MAX_MS = 30_000;

/** A client id unique per source and process, for clean (QoS 0) sessions. */
export function ephemeralClientId(tag: string): string {
  // A tag can be a broker URL with credentials: mask before it becomes part of the id.
  const slug = maskBrokerUrl(tag).replace(/\*+/g, '').replace(/^[a-z]+:\/\//i, '').replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, 24);
  return `meshcore-ingestor-${slug}-${randomBytes(4).toString('hex')}`;
}

/**
 * mqtt.js options for one source. QoS 0 keeps the reference's clean MQTT 3.1.1 session; QoS 1
 * uses MQTT 5 with a fixed client id and a session that outlives the connection, so the broker
 * keeps what we have not acknowledged. The embedded broker's source is the exception: MQTT 3.1.1
 * with clean: false, the same guarantee on a broker without version 5.
 */
export function buildClientOptions(source: MqttSourceConfig): IClientOptions {
  const persistent = source.qos === 1;
  const options: IClientOptions = {
    clientId: persistent ? source.clientId : ephemeralClientId(source.name),
    keepalive: KEEPALIVE_SEC,
    connectTimeout: CONNECT_TIMEOUT_MS,
    reconnectPeriod: RECONNECT_START_MS,
    clean: !persistent,
    // We subscribe ourselves on every connect (the reference does, and mqtt.js skips it when the
    // broker reports a present session).
    resubscribe: false,
    // The embedded broker speaks 3.1.1 only: its persistent session is the 3.1.1 kind (clean: false).
    protocolVersion: persistent && !source.embedded ? 5 : 4,
    // mqtt-packet otherwise pre-builds a 2-byte Buffer for each of the 65 536 message ids and
    // lengths on the first write: 6 MiB of heap (measured in a heap snapshot) for a client that
    // mostly reads.
    writeCache: false,
  };
  if (persistent && !source.embedded) options.properties = { sessionExpiryInterval: source.sessionExpirySec };
  if (source.username) options.username = source.username;
  if (source.password) options.password = source.password;
  if (source.rejectUnauthorized === false) options.rejectUnauthorized = false;
  return options;
}

/**
 * The topic filters a source subscribes to. With a shareGroup each is an MQTT 5 shared subscription,
 * `$share/<group>/<topic>`: the broker hands each matching message to one member of the group. The prefix
 * exists only in the SUBSCRIBE; every message still arrives with the topic it was published to, which is
 * what the ingest routes on.
 */
export function subscriptionTopics(source: Pick<MqttSourceConfig, 'topics' | 'shareGroup'>): string[] {
  const group = source.shareGroup;
  return source.topics.map((topic) => (group === undefined ? topic : `$share/${group}/${topic}`));
}
