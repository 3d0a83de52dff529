import { sanitizeLogText } from './sanitize-log-text';

export type LimitedLevel = 'log' | 'warn' | 'error';

/** What a line is about: who sent it and a fixed reason, never text taken from the message. */
export interface LimitKey<R extends string = string> {
  source: string;
  reason: R;
}

/** A closed window's suppressed lines, for the summary line. */
export interface SuppressedSummary<R extends string = string> {
  /** Sanitized and cut to MAX_SOURCE_CHARS. */
  source: string;
  reason: R;
  count: number;
  /** Length of the window the count covers, in whole seconds (shorter at shutdown). */
  seconds: number;
  /** Lines written in full per window (the limit). */
  limit: number;
}

export interface RateLimitedLogOptions<R extends string> {
  /** Where lines (and summary lines) go. */
  emit: (level: LimitedLevel, line: string) => void;
  /** The fixed set of reasons; any other value is counted under `fallbackReason`. */
  reasons: readonly R[];
  fallbackReason: R;
  /** Text of the summary line of a window that suppressed lines. */
  formatSummary: (summary: SuppressedSummary<R>) => string;
  /** Lines written in full per key and window. Default 5. */
  limit?: number;
  /** Window length. Default 60 s. */
  windowMs?: number;
  /** Most keys tracked at once; lines of further sources share one key per reason. Default 256. */
  maxKeys?: number;
  /** Called for every suppressed line (the `log_lines_suppressed` counter). */
  onSuppressed?: (n: number) => void;
  /** Clock (tests). Default Date.now. */
  now?: () => number;
}

/** Source name of the shared keys once maxKeys sources are tracked. */
export const OVERFLOW_SOURCE = '(other sources)';
/** Longest source name kept in a key and shown in a summary. */
export const MAX_SOURCE_CHARS = 64;

interface Window<R extends string> {
  source: string;
  reason: R;
  level: LimitedLevel;
  startMs: number;
  written: number;
  suppressed: number;
}

/**
 * Per-key log rate limit: for each (source, reason), the first `limit` lines of a window (one
 * minute) are written in full, the rest of that window are only counted, and when the window ends
 * one summary line gives the count. The summary is written when the next line of that key finds
 * its window over, by an unref'd timer at the window's end when no line comes (traffic stopped),
 * or by close() at shutdown, whichever comes first; nothing suppressed goes unreported.
 *
 * Memory is bounded: at most `maxKeys` (source, reason) windows plus one shared window per reason
 * for every further source; a window is forgotten once it has ended. Reasons come from a fixed
 * list, so message content can never create keys.
 */
export class RateLimitedLog<R extends string> {
  readonly limit: number;
  readonly windowMs: number;
  private readonly maxKeys: number;
  private readonly now: () => number;
  private readonly reasons: ReadonlySet<string>;
  private readonly windows = new Map<string, Window<R>>();
  private timer?: NodeJS.Timeout;
  private timerAtMs = Infinity;
  private closed = false;
  private suppressedTotal = 0;

  constructor(private readonly options: RateLimitedLogOptions<R>) {
    this.limit = Math.max(0, Math.floor(options.limit ?? 5));
    this.windowMs = Math.max(1, options.windowMs ?? 60_000);
    this.maxKeys = Math.max(1, Math.floor(options.maxKeys ?? 256));
    this.now = options.now ?? Date.now;
    this.reasons = new Set(options.reasons);
  }

  /** Lines suppressed since start (every key, every window). */
  get suppressed(): number {
    return this.suppressedTotal;
  }

  /** Windows currently tracked (tests: bounded memory). */
  get trackedKeys(): number {
    return this.windows.size;
  }

  /**
   * Writes the line, or counts it when its key has used up this window. Returns true when the
   * line was written. `line` may be a function, called only when the line is written.
   */
  write(level: LimitedLevel, key: LimitKey<R>, line: string | (() => string)): boolean {
    const nowMs = this.now();
    const window = this.windowFor(key, level, nowMs);
    window.level = level;
    if (window.written < this.limit) {
      window.written++;
      this.options.emit(level, typeof line === 'string' ? line : line());
      return true;
    }
    window.suppressed++;
    this.suppressedTotal++;
    this.options.onSuppressed?.(1);
    return false;
  }

  /** Counts n lines of key as suppressed without writing any (lines whose text was not kept). */
  suppress(level: LimitedLevel, key: LimitKey<R>, n: number): void {
    if (!(n > 0)) return;
    const window = this.windowFor(key, level, this.now());
    window.level = level;
    window.suppressed += n;
    this.suppressedTotal += n;
    this.options.onSuppressed?.(n);
  }

  /** Writes the summary of every window that has ended (the timer calls it; tests may too). */
  flushExpired(): void {
    const nowMs = this.now();
    for (const [id, window] of this.windows) {
      if (nowMs - window.startMs < this.windowMs) continue;
      this.windows.delete(id);
      this.summarize(window, nowMs);
    }
    this.schedule();
  }

  /** Shutdown: writes the summary of every open window that suppressed lines and stops the timer. */
  flushAll(): void {
    const nowMs = this.now();
    const open = [...this.windows.values()];
    this.windows.clear();
    this.cancelTimer();
    for (const window of open) this.summarize(window, nowMs);
  }

  /** flushAll(); later lines are still limited, but without a timer (nothing runs after shutdown). */
  close(): void {
    this.closed = true;
    this.flushAll();
  }

  private windowFor(key: LimitKey<R>, level: LimitedLevel, nowMs: number): Window<R> {
    const reason = this.reasons.has(key.reason) ? key.reason : this.options.fallbackReason;
    let source = sanitizeLogText(key.source.length > MAX_SOURCE_CHARS ? key.source.slice(0, MAX_SOURCE_CHARS) : key.source);
    let id = `${reason}\u0000${source}`;
    let window = this.windows.get(id);
    if (window && nowMs - window.startMs >= this.windowMs) {
      // The window ended and the timer has not run yet: its summary first, then a new window.
      this.windows.delete(id);
      this.summarize(window, nowMs);
      window = undefined;
    }
    if (window) return window;
    if (this.windows.size >= this.maxKeys) {
      // Full: this source shares its reason's overflow window (at most one per reason beyond maxKeys).
      source = OVERFLOW_SOURCE;
      id = `${reason}\u0000${source}`;
      window = this.windows.get(id);
      if (window && nowMs - window.startMs >= this.windowMs) {
        this.windows.delete(id);
        this.summarize(window, nowMs);
        window = undefined;
      }
      if (window) return window;
    }
    window = { source, reason, level, startMs: nowMs, written: 0, suppressed: 0 };
    this.windows.set(id, window);
    this.schedule();
    return window;
  }

  private summarize(window: Window<R>, nowMs: number): void {
    if (window.suppressed === 0) return;
    const seconds = Math.max(1, Math.ceil(Math.min(nowMs - window.startMs, this.windowMs) / 1000));
    this.options.emit(
      window.level,
      this.options.formatSummary({ source: window.source, reason: window.reason, count: window.suppressed, seconds, limit: this.limit }),
    );
  }

  /** One timer, at the end of the earliest open window; none while nothing is tracked. */
  private schedule(): void {
    if (this.closed) return;
    let earliest = Infinity;
    for (const window of this.windows.values()) earliest = Math.min(earliest, window.startMs + this.windowMs);
    if (earliest === Infinity) return this.cancelTimer();
    if (this.timer && this.timerAtMs <= earliest) return;
    this.cancelTimer();
    this.timerAtMs = earliest;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAtMs = Infinity;
      this.flushExpired();
    }, Math.max(1, earliest - this.now()));
    this.timer.unref?.();
  }

  private cancelTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAtMs = Infinity;
  }
}
