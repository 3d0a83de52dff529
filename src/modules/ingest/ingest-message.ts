import type { PreparedMessage } from './preparation/prepared-message';

/** One MQTT message on its way to the database. */
export interface IngestMessage {
  /** Source tag (config name, or broker URL). */
  source: string;
  topic: string;
  /** Raw MQTT payload bytes (a replay capture line: see captureLine; tests may pass the parsed JSON). */
  payload: Buffer | string | Record<string, unknown>;
  /**
   * Called once the transaction holding this message has committed (QoS 1 acknowledgement), with
   * what the preparation made of it.
   */
  onCommitted?: (prepared: PreparedMessage) => void;
  /**
   * Replay: the payload is line number `captureLine` of a capture file, read by the preparation
   * (parseCaptureLine); `topic` and `source` stand in until then. Reading lines on the writer's
   * thread cost it about a tenth of its time.
   */
  captureLine?: number;
}

/** Routing rules of one source (ingestor-spec §2.5, per-source part). */
export interface SourceRules {
  iataFilter: ReadonlySet<string>;
  /** Fallback observer region when the topic has none. */
  region?: string;
}
