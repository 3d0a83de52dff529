import { type LimitKey, type LimitedLevel, RateLimitedLog, type SuppressedSummary } from '../../common/logging/rate-limited-log';

/**
 * The per-message log lines of the ingest path, by fixed reason. Each (source, reason) gets
 * PER_MESSAGE_LINES_PER_MINUTE lines in full per minute, then one summary line per minute with the
 * count (README, "Bad input"). The counters still count every message.
 */
export const PER_MESSAGE_REASONS = [
  'decode_error',
  'advert_rejected',
  'invalid_signature',
  'client_decode_error',
  /** The message's preparation (parse, decode) threw. */
  'message_failed',
  /** The message's writes failed; it was rolled back alone. */
  'write_skipped',
  /** A QoS 1 acknowledgement failed after the commit. */
  'ack_failed',
  /** Not one of the above (a programming error: reasons are fixed). */
  'other',
] as const;

export type PerMessageReason = (typeof PER_MESSAGE_REASONS)[number];
export type PerMessageKey = LimitKey<PerMessageReason>;

export const PER_MESSAGE_LINES_PER_MINUTE = 5;
export const PER_MESSAGE_WINDOW_MS = 60_000;

/** The start of each reason's summary line (the wording of its full lines) and the counter that counts it. */
const SUMMARIES: Record<PerMessageReason, { head: (source: string) => string; counter?: string }> = {
  decode_error: { head: (s) => `MQTT [${s}] decode error`, counter: 'decode_errors' },
  advert_rejected: { head: (s) => `MQTT [${s}] skipping corrupted ADVERT`, counter: 'advert_rejects' },
  invalid_signature: { head: (s) => `MQTT [${s}] DROPPED invalid signature`, counter: 'sig_drops' },
  client_decode_error: { head: (s) => `MQTT [${s}] client decode error`, counter: 'decode_errors' },
  message_failed: { head: (s) => `[writer] message from [${s}] skipped (preparation failed)`, counter: 'message_errors' },
  write_skipped: { head: (s) => `[writer] message from [${s}] skipped (writes failed)`, counter: 'message_errors' },
  ack_failed: { head: (s) => `[writer] acknowledgement of a message from [${s}] failed after commit` },
  other: { head: (s) => `[ingest] [${s}] per-message line` },
};

/**
 * `MQTT [local] decode error: 995 more in the last 60 s (suppressed after 5 per minute; counted in /api/stats decode_errors)`.
 * The source is already sanitized and cut by the limiter.
 */
export function formatPerMessageSummary({ source, reason, count, seconds, limit }: SuppressedSummary<PerMessageReason>): string {
  const { head, counter } = SUMMARIES[reason];
  const counted = counter ? `; counted in /api/stats ${counter}` : '';
  return `${head(source)}: ${count} more in the last ${seconds} s (suppressed after ${limit} per minute${counted})`;
}

export interface PerMessageLogOptions {
  emit: (level: LimitedLevel, line: string) => void;
  onSuppressed?: (n: number) => void;
  now?: () => number;
  limit?: number;
  windowMs?: number;
}

export function createPerMessageLog(options: PerMessageLogOptions): RateLimitedLog<PerMessageReason> {
  return new RateLimitedLog<PerMessageReason>({
    emit: options.emit,
    onSuppressed: options.onSuppressed,
    now: options.now,
    reasons: PER_MESSAGE_REASONS,
    fallbackReason: 'other',
    formatSummary: formatPerMessageSummary,
    limit: options.limit ?? PER_MESSAGE_LINES_PER_MINUTE,
    windowMs: options.windowMs ?? PER_MESSAGE_WINDOW_MS,
  });
}
