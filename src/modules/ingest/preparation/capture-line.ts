import type { IngestMessage } from '../ingest-message';

/** Source tag of a capture line without `"source"`. */
export const REPLAY_SOURCE = 'replay';

/**
 * One line of a replay capture: `{"topic": "...", "payload": <object or string>, "source"?: "..."}`,
 * exactly what a broker delivered. Returns the message, or why the line cannot be used.
 */
export function parseCaptureLine(line: string): Pick<IngestMessage, 'topic' | 'payload' | 'source'> | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return 'not JSON';
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'not a JSON object';
  const rec = value as Record<string, unknown>;
  if (typeof rec.topic !== 'string' || rec.topic === '') return 'missing "topic"';
  const payload = rec.payload;
  const source = typeof rec.source === 'string' ? rec.source : REPLAY_SOURCE;
  if (typeof payload === 'string') return { topic: rec.topic, payload, source };
  if (payload !== null && typeof payload === 'object' && !Array.isArray(payload)) {
    return { topic: rec.topic, payload: payload as Record<string, unknown>, source };
  }
  return '"payload" must be an object or a string';
}
