import { connectAsync, MqttClient } from 'mqtt';

/** A test publisher on one broker. */
export async function publisher(url: string, options: { username?: string; password?: string } = {}): Promise<MqttClient> {
  const client = await connectAsync(url, { ...options, reconnectPeriod: 0, clientId: `e2e-pub-${Math.random().toString(16).slice(2)}` });
  client.setMaxListeners(0); // a window of in-flight publishes each waits on the client
  return client;
}

/** Publishes messages in order with a bounded window of unacknowledged publishes. */
export async function publishAll(
  client: MqttClient,
  messages: Iterable<{ topic: string; payload: string | Buffer }>,
  qos: 0 | 1 = 1,
  window = 500,
): Promise<number> {
  const inFlight = new Set<Promise<unknown>>();
  let n = 0;
  for (const m of messages) {
    const p = client.publishAsync(m.topic, m.payload, { qos }).finally(() => inFlight.delete(p));
    inFlight.add(p);
    n++;
    if (inFlight.size >= window) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  return n;
}
