import { maskBrokerUrl } from '../../common/masking/mask-broker-url';
import { formatGoDuration } from '../../common/time/go-duration';

export { formatGoDuration };

/**
 * Stall watchdog (ingestor-spec §2.6): notices sources whose client claims to be connected but
 * delivers nothing (half-open TCP, ACL-denied subscribe, dead upstream), and sources whose
 * client has given up reconnecting. Pure logic plus a small timer; the MQTT layer supplies
 * isConnected / forceReconnect and feeds the mark* clocks.
 */

export type WatchdogLogLevel = 'log' | 'warn' | 'error';

/** Receives every watchdog line; the level lets the caller map onto its logger. */
export type WatchdogEmit = (line: string, level: WatchdogLogLevel) => void;

/** Where the watchdog publishes its own health (SourceStatusRegistry satisfies this). */
export interface WatchdogStatsSink {
  setWatchdogLastTickUnix(unix: number): void;
  setWatchdogPanicCount(count: number): void;
}

export interface StallWatchdogOptions {
  /** Scan period of start()'s timer (reference: 60 000). */
  intervalMs: number;
  /** Silence that counts as a stall (reference: 300). */
  thresholdSec: number;
  /** Clock in epoch milliseconds; defaults to Date.now. */
  now?: () => number;
  /** Whether the client of this source considers itself connected (or reconnecting). */
  isConnected: (tag: string) => boolean;
  /** Drops and re-opens the connection of a source; undefined disables forced reconnects. */
  forceReconnect?: (tag: string) => void | Promise<unknown>;
  emit: WatchdogEmit;
  /** Minimum spacing of forced reconnects per source, also the jitter range (reference: 60 000). */
  forceReconnectThrottleMs?: number;
  /** Reminder period while a source stays stalled (reference: 1 h). */
  heartbeatMs?: number;
  statsSink?: WatchdogStatsSink;
}

export enum LivenessKind {
  OK = 'ok',
  Stalled = 'stalled',
  NeverReceived = 'never-received',
  /** The client reports not connected. Kept apart from OK so a drop never reads as recovery. */
  Disconnected = 'disconnected',
}

export interface LivenessVerdict {
  kind: LivenessKind;
  /** The WARN text for Stalled / NeverReceived, empty otherwise. */
  message: string;
}

export interface LivenessClocks {
  lastReceiptUnix: number;
  lastMessageUnix: number;
}

export const DEFAULT_FORCE_RECONNECT_THROTTLE_MS = 60_000;
export const DEFAULT_HEARTBEAT_MS = 3_600_000;
/** A source disconnected for this many thresholds (plus jitter) gets a forced reconnect. */
export const DISCONNECTED_ESCALATION_MULTIPLIER = 5;

const toUnixSeconds = (ms: number): number => Math.floor(ms / 1000);

/** Liveness clocks of one source, all Unix seconds with 0 = never. */
export class SourceLivenessState {
  /** Stamped when the MQTT library hands over a message (broker liveness). */
  lastReceiptUnix = 0;
  /** Stamped when the buffered job starts running the handler (write-path liveness). */
  lastMessageUnix = 0;
  /** Registration time; never reset, so a flapping broker cannot re-arm the cold-start grace. */
  firstConnectedAt = 0;
  /** Registration time, re-stamped on every reconnect. */
  startedAt = 0;
  /** Last WARN or heartbeat; 0 = not alerting. */
  lastAlertUnix = 0;
  lastForceReconnectUnix = 0;
  /** First tick that saw the source disconnected; 0 = not disconnected. */
  disconnectedSinceUnix = 0;
  /** Connection attempts (every dial, initial and reconnects). */
  attemptCount = 0;

  /** Tag and broker with credentials masked, for log lines. */
  readonly displayTag: string;
  readonly displayBroker: string;

  constructor(
    readonly tag: string,
    readonly broker: string,
  ) {
    this.displayTag = maskBrokerUrl(tag);
    this.displayBroker = maskBrokerUrl(broker);
  }

  markReceipt(nowMs: number): void {
    this.lastReceiptUnix = toUnixSeconds(nowMs);
  }

  markMessage(nowMs: number): void {
    this.lastMessageUnix = toUnixSeconds(nowMs);
  }

  /** On every (re)connect: a pre-outage timestamp or alert must not carry over. */
  markReconnected(nowMs: number): void {
    this.lastMessageUnix = 0;
    this.startedAt = toUnixSeconds(nowMs);
    this.lastAlertUnix = 0;
    this.disconnectedSinceUnix = 0;
  }
}


/** Like Go's Duration.Round(time.Second) for the non-negative gaps used here. */
const roundToSecond = (ms: number): number => Math.round(ms / 1000) * 1000;

/** FNV-1a, 32 bit, over the UTF-8 bytes of text. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/**
 * Disconnected time after which a source is force-reconnected: 5 × threshold plus a per-tag
 * jitter in [0, throttle) so sources behind one failed broker do not reconnect in lockstep.
 * Deterministic per tag, so repeated outages escalate at the same offset.
 */
export function escalationGapMs(
  tag: string,
  thresholdMs: number,
  throttleMs: number = DEFAULT_FORCE_RECONNECT_THROTTLE_MS,
): number {
  const base = DISCONNECTED_ESCALATION_MULTIPLIER * thresholdMs;
  const range = Math.floor(throttleMs);
  return range > 0 ? base + (fnv1a32(tag) % range) : base;
}

/** Classifies one source at nowMs; pure, used by tick() and directly by tests. */
export function classifyLiveness(
  state: SourceLivenessState,
  connected: boolean,
  thresholdMs: number,
  nowMs: number,
): LivenessVerdict {
  if (!connected) return { kind: LivenessKind.Disconnected, message: '' };
  const threshold = formatGoDuration(thresholdMs);
  if (state.lastMessageUnix === 0) {
    // A state that was never registered has no grace anchor; stay quiet rather than guess.
    if (state.firstConnectedAt === 0) return { kind: LivenessKind.OK, message: '' };
    const sinceFirst = nowMs - state.firstConnectedAt * 1000;
    if (sinceFirst < thresholdMs) return { kind: LivenessKind.OK, message: '' };
    return {
      kind: LivenessKind.NeverReceived,
      message:
        `MQTT [${state.displayTag}] WATCHDOG: client reports connected to ${state.displayBroker} but has NEVER ` +
        `received a message in ${formatGoDuration(roundToSecond(sinceFirst))} (threshold ${threshold}) — ` +
        'check channel hash / subscribe ACL / half-open TCP',
    };
  }
  const silentFor = nowMs - state.lastMessageUnix * 1000;
  if (silentFor < thresholdMs) return { kind: LivenessKind.OK, message: '' };
  return {
    kind: LivenessKind.Stalled,
    message:
      `MQTT [${state.displayTag}] WATCHDOG: client reports connected to ${state.displayBroker} but no messages ` +
      `received for ${formatGoDuration(roundToSecond(silentFor))} (threshold ${threshold}) — possible half-open ` +
      'socket or upstream stall',
  };
}

function describeThrown(value: unknown): string {
  if (value instanceof Error) return value.message;
  return String(value);
}

export class StallWatchdog {
  private readonly states = new Map<string, SourceLivenessState>();
  private readonly thresholdMs: number;
  private readonly throttleMs: number;
  private readonly heartbeatMs: number;
  private readonly clock: () => number;
  private timer: NodeJS.Timeout | undefined;
  private tickUnix = 0;
  private panics = 0;

  constructor(private readonly options: StallWatchdogOptions) {
    if (!(options.intervalMs > 0) || !(options.thresholdSec > 0)) {
      throw new RangeError(
        `stall watchdog needs a positive interval and threshold (got ${options.intervalMs} ms, ${options.thresholdSec} s)`,
      );
    }
    this.thresholdMs = options.thresholdSec * 1000;
    this.throttleMs = options.forceReconnectThrottleMs ?? DEFAULT_FORCE_RECONNECT_THROTTLE_MS;
    this.heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    this.clock = options.now ?? Date.now;
  }

  /** Unix seconds of the last tick, 0 before the first; stale values mean the watchdog itself died. */
  get lastTickUnix(): number {
    return this.tickUnix;
  }

  /** Exceptions recovered while processing a source. */
  get panicCount(): number {
    return this.panics;
  }

  get running(): boolean {
    return this.timer !== undefined;
  }

  /**
   * Starts tracking a source. A duplicate tag is a config mistake: it is logged and skipped
   * (returns false) rather than fatal, and the first registration stays authoritative.
   */
  register(tag: string, broker: string): boolean {
    const existing = this.states.get(tag);
    if (existing) {
      const shownTag = JSON.stringify(maskBrokerUrl(tag));
      this.options.emit(
        `[ingestor] ERROR: source tag collision ${shownTag} — skipping duplicate liveness registration, this ` +
          'source will connect but will not be tracked by the watchdog (liveness registry: duplicate tag ' +
          `${shownTag} (existing broker=${existing.displayBroker}, new broker=${maskBrokerUrl(broker)}) — fix ` +
          'config so each MQTT source has a unique Name)',
        'error',
      );
      return false;
    }
    const state = new SourceLivenessState(tag, broker);
    const nowUnix = toUnixSeconds(this.clock());
    state.startedAt = nowUnix;
    state.firstConnectedAt = nowUnix;
    this.states.set(tag, state);
    return true;
  }

  get(tag: string): SourceLivenessState | undefined {
    return this.states.get(tag);
  }

  // Hot-path entry points; unknown tags (e.g. skipped duplicates) are ignored.

  markReceipt(tag: string): void {
    this.states.get(tag)?.markReceipt(this.clock());
  }

  markMessage(tag: string): void {
    this.states.get(tag)?.markMessage(this.clock());
  }

  markReconnected(tag: string): void {
    this.states.get(tag)?.markReconnected(this.clock());
  }

  /** Counts a connection attempt and returns its number (0 for an unknown tag). */
  noteConnectionAttempt(tag: string): number {
    const state = this.states.get(tag);
    return state ? ++state.attemptCount : 0;
  }

  /** Receipt vs write-path clocks per tag, for the stats file and health checks. */
  livenessClocks(): Record<string, LivenessClocks> {
    const out: Record<string, LivenessClocks> = {};
    for (const [tag, state] of this.states) {
      out[tag] = { lastReceiptUnix: state.lastReceiptUnix, lastMessageUnix: state.lastMessageUnix };
    }
    return out;
  }

  /** One scan over all sources at atMs. Never throws because of a single source. */
  tick(atMs: number = this.clock()): void {
    // Stamped before any per-source work so a failure below cannot freeze the health clock.
    this.tickUnix = toUnixSeconds(atMs);
    this.options.statsSink?.setWatchdogLastTickUnix(this.tickUnix);
    for (const state of Array.from(this.states.values())) {
      try {
        const verdict = classifyLiveness(state, this.options.isConnected(state.tag), this.thresholdMs, atMs);
        this.escalateIfDisconnectedTooLong(state, verdict.kind, atMs);
        this.applyTransition(state, verdict, atMs);
      } catch (err) {
        this.recoverFromPanic(state, err);
      }
    }
  }

  /** Runs tick() every intervalMs. The timer is unref'd: the watchdog never keeps the process alive. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      try {
        this.tick();
      } catch (err) {
        // Only the stats sink can get here; the timer must survive it.
        this.writeStderr(`[ingestor] WATCHDOG tick failed: ${describeThrown(err)}\n`);
      }
    }, this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * The disconnect timer starts on the first Disconnected tick and clears on any other verdict.
   * Past the jittered gap, escalate, but only when a reconnect would actually be issued, so a
   * long outage yields one ESCALATION line per throttle window instead of one per tick.
   */
  private escalateIfDisconnectedTooLong(state: SourceLivenessState, kind: LivenessKind, nowMs: number): void {
    if (kind !== LivenessKind.Disconnected) {
      state.disconnectedSinceUnix = 0;
      return;
    }
    if (state.disconnectedSinceUnix === 0) {
      state.disconnectedSinceUnix = toUnixSeconds(nowMs);
      return;
    }
    const gap = nowMs - state.disconnectedSinceUnix * 1000;
    const escalateAt = escalationGapMs(state.tag, this.thresholdMs, this.throttleMs);
    if (gap < escalateAt) return;
    if (!this.options.forceReconnect || this.isThrottled(state, nowMs)) return;
    this.options.emit(
      `MQTT [${state.displayTag}] WATCHDOG ESCALATION: paho disconnected for ${formatGoDuration(roundToSecond(gap))} ` +
        `(>${DISCONNECTED_ESCALATION_MULTIPLIER}×threshold=${formatGoDuration(escalateAt)}) with no auto-reconnect — ` +
        'forcing reconnect (#1749)',
      'warn',
    );
    this.maybeForceReconnect(state, nowMs);
  }

  /** Edge-triggered alerting: one WARN per stall, an hourly reminder, one recovery line. */
  private applyTransition(state: SourceLivenessState, verdict: LivenessVerdict, nowMs: number): void {
    const { kind, message } = verdict;
    switch (kind) {
      case LivenessKind.Stalled:
      case LivenessKind.NeverReceived: {
        if (state.lastAlertUnix === 0) {
          this.options.emit(message, 'warn');
          state.lastAlertUnix = toUnixSeconds(nowMs);
          // A new socket does not fix an ACL deny or a wrong channel hash; only true stalls reconnect.
          if (kind === LivenessKind.Stalled) this.maybeForceReconnect(state, nowMs);
          return;
        }
        if (nowMs - state.lastAlertUnix * 1000 >= this.heartbeatMs) {
          this.options.emit(`MQTT [${state.displayTag}] WATCHDOG heartbeat: still stalled — ${message}`, 'warn');
          state.lastAlertUnix = toUnixSeconds(nowMs);
          if (kind === LivenessKind.Stalled) this.maybeForceReconnect(state, nowMs);
        }
        return;
      }
      case LivenessKind.OK:
        if (state.lastAlertUnix !== 0) {
          this.options.emit(`MQTT [${state.displayTag}] WATCHDOG INFO: messages flowing again (recovered)`, 'log');
          state.lastAlertUnix = 0;
        }
        return;
      case LivenessKind.Disconnected:
        // Not a recovery: keep the alert so a flapping source cannot re-fire the WARN every cycle.
        return;
    }
  }

  private isThrottled(state: SourceLivenessState, nowMs: number): boolean {
    const last = state.lastForceReconnectUnix;
    return last !== 0 && nowMs - last * 1000 < this.throttleMs;
  }

  private maybeForceReconnect(state: SourceLivenessState, nowMs: number): void {
    const forceReconnect = this.options.forceReconnect;
    if (!forceReconnect) return;
    if (this.isThrottled(state, nowMs)) {
      const since = nowMs - state.lastForceReconnectUnix * 1000;
      this.options.emit(
        `MQTT [${state.displayTag}] WATCHDOG suppressing forced reconnect (last attempt ` +
          `${formatGoDuration(roundToSecond(since))} ago, throttle ${formatGoDuration(this.throttleMs)})`,
        'log',
      );
      return;
    }
    state.lastForceReconnectUnix = toUnixSeconds(nowMs);
    this.options.emit(
      `MQTT [${state.displayTag}] WATCHDOG forcing reconnect (half-open TCP suspected — paho.IsConnected==true but no messages)`,
      'warn',
    );
    // The scan must not wait on one slow broker, so completion is reported asynchronously.
    let outcome: void | Promise<unknown>;
    try {
      outcome = forceReconnect(state.tag);
    } catch (err) {
      this.reportReconnectFailure(state, err);
      return;
    }
    Promise.resolve(outcome).then(
      () => this.emitDetached(state, `MQTT [${state.displayTag}] WATCHDOG reconnect attempt issued`, 'log'),
      (err: unknown) => this.reportReconnectFailure(state, err),
    );
  }

  private reportReconnectFailure(state: SourceLivenessState, err: unknown): void {
    this.emitDetached(
      state,
      `MQTT [${state.displayTag}] WATCHDOG forced reconnect failed: ${maskBrokerUrl(describeThrown(err))}`,
      'warn',
    );
  }

  /** emit outside tick(): a throwing logger must not become an unhandled rejection. */
  private emitDetached(state: SourceLivenessState, line: string, level: WatchdogLogLevel): void {
    try {
      this.options.emit(line, level);
    } catch (err) {
      this.recoverFromPanic(state, err);
    }
  }

  /**
   * Counts the failure and reports it straight to stderr: the logger is the prime suspect
   * (blocked pipe, full log driver), so using it here could fail the same way.
   */
  private recoverFromPanic(state: SourceLivenessState, err: unknown): void {
    this.panics++;
    try {
      this.options.statsSink?.setWatchdogPanicCount(this.panics);
    } catch {
      /* the count is still readable through panicCount */
    }
    this.writeStderr(
      `[ingestor] WATCHDOG RECOVERED panic processing source ${JSON.stringify(state.displayTag)}: ` +
        `${maskBrokerUrl(describeThrown(err))}\n`,
    );
  }

  private writeStderr(text: string): void {
    try {
      process.stderr.write(text);
    } catch {
      /* nowhere left to report to */
    }
  }
}
