import type { IngestMessage } from '../ingest-message';

/** The messages of one batch as they cross to the preparation worker. */
export interface EncodedMessageBatch {
  topics: string[];
  sources: string[];
  /**
   * Every Buffer payload, back to back in one ArrayBuffer that is transferred, not copied. (Posting
   * the Buffers themselves would copy each one's whole backing store: mqtt.js hands out slices of
   * 64 KiB socket chunks.)
   */
  bytes: ArrayBuffer;
  /** Per message: [start, end) in bytes, or -1/-1 when the payload is in `values`. */
  offsets: Int32Array;
  /** Per message: a string or object payload (replay), null for a Buffer payload. */
  values: Array<string | Record<string, unknown> | null>;
  /** Per message: its capture line number (replay), 0 for an MQTT message. */
  captureLines: Int32Array;
}

type BatchMessage = Pick<IngestMessage, 'topic' | 'payload' | 'source' | 'captureLine'>;

export function encodeMessageBatch(messages: readonly BatchMessage[]): EncodedMessageBatch {
  let total = 0;
  for (const m of messages) if (Buffer.isBuffer(m.payload)) total += m.payload.length;
  const bytes = new ArrayBuffer(total);
  const view = new Uint8Array(bytes);
  const offsets = new Int32Array(messages.length * 2);
  const topics = new Array<string>(messages.length);
  const sources = new Array<string>(messages.length);
  const values = new Array<string | Record<string, unknown> | null>(messages.length);
  const captureLines = new Int32Array(messages.length);
  let at = 0;
  for (let i = 0; i < messages.length; i++) {
    const { topic, source, payload, captureLine } = messages[i];
    topics[i] = topic;
    sources[i] = source;
    captureLines[i] = captureLine ?? 0;
    if (Buffer.isBuffer(payload)) {
      view.set(payload, at);
      offsets[2 * i] = at;
      offsets[2 * i + 1] = at + payload.length;
      at += payload.length;
      values[i] = null;
    } else {
      offsets[2 * i] = -1;
      offsets[2 * i + 1] = -1;
      values[i] = payload;
    }
  }
  return { topics, sources, bytes, offsets, values, captureLines };
}

export function decodeMessageBatch(batch: EncodedMessageBatch): BatchMessage[] {
  const out = new Array<BatchMessage>(batch.topics.length);
  for (let i = 0; i < out.length; i++) {
    const start = batch.offsets[2 * i];
    const payload = start < 0 ? batch.values[i]! : Buffer.from(batch.bytes, start, batch.offsets[2 * i + 1] - start);
    const line = batch.captureLines[i];
    out[i] = line === 0 ? { topic: batch.topics[i], source: batch.sources[i], payload } : { topic: batch.topics[i], source: batch.sources[i], payload, captureLine: line };
  }
  return out;
}
