import { Inject, Injectable, Optional } from '@nestjs/common';

/**
 * Per-MQTT-source connection state and counters (ingestor-spec §6.2), served live by
 * GET /api/mqtt/status and readable by the stats-file writer.
 */

/** Optional clock override (epoch milliseconds); tests provide one, production uses Date.now. */
export const SOURCE_STATUS_CLOCK = Symbol('SOURCE_STATUS_CLOCK');

/** One source as the stats file and the status API see it. Times are Unix seconds, 0 = never. */
export interface SourceStatusSnapshot {
  name: string;
  /** Raw (unmasked) scheme-mapped broker URL; whoever serves it must mask it. */
  broker: string;
  connected: boolean;
  lastConnectUnix: number;
  lastDisconnectUnix: number;
  lastPacketUnix: number;
  connectCount: number;
  disconnectCount: number;
  packetsTotal: number;
  packetsLast5m: number;
  /** Present only when non-empty. */
  lastError?: string;
}

export interface WatchdogStatus {
  watchdogLastTickUnix: number;
  watchdogPanicCount: number;
}

/** Width of the sliding packet window, one bucket per second. */
const WINDOW_SECONDS = 300;

const toUnixSeconds = (ms: number): number => Math.floor(ms / 1000);

/** Mutable state of one source. Obtained from SourceStatusRegistry.register; keep the handle to skip the tag lookup. */
export class SourceStatusState {
  connected = false;
  lastConnectUnix = 0;
  lastDisconnectUnix = 0;
  lastPacketUnix = 0;
  connectCount = 0;
  disconnectCount = 0;
  packetsTotal = 0;
  lastError = '';

  // Parallel typed arrays: the second each slot currently represents (0 = unused) and its count.
  // Preallocated so markPacket never allocates.
  private readonly bucketSecond = new Float64Array(WINDOW_SECONDS);
  private readonly bucketCount = new Float64Array(WINDOW_SECONDS);

  constructor(
    readonly name: string,
    readonly broker: string,
  ) {}

  markConnect(nowMs: number): void {
    this.connected = true;
    this.lastConnectUnix = toUnixSeconds(nowMs);
    this.connectCount++;
    // A stale error next to connected=true would mislead whoever reads the status.
    this.lastError = '';
  }

  markDisconnect(nowMs: number, error?: string): void {
    this.connected = false;
    this.lastDisconnectUnix = toUnixSeconds(nowMs);
    this.disconnectCount++;
    if (error) this.lastError = error;
  }

  /** Hot path (every MQTT message): O(1), no allocation. */
  markPacket(nowMs: number): void {
    const second = toUnixSeconds(nowMs);
    this.lastPacketUnix = second;
    this.packetsTotal++;
    const slot = second % WINDOW_SECONDS;
    if (this.bucketSecond[slot] !== second) {
      this.bucketSecond[slot] = second;
      this.bucketCount[slot] = 0;
    }
    this.bucketCount[slot]++;
  }

  /** Messages whose second lies in [now−299, now]; buckets outside the window are ignored, not summed. */
  packetsLast5m(nowMs: number): number {
    const now = toUnixSeconds(nowMs);
    const cutoff = now - WINDOW_SECONDS + 1;
    let total = 0;
    for (let slot = 0; slot < WINDOW_SECONDS; slot++) {
      const second = this.bucketSecond[slot];
      if (second >= cutoff && second <= now) total += this.bucketCount[slot];
    }
    return total;
  }

  snapshot(nowMs: number): SourceStatusSnapshot {
    const snap: SourceStatusSnapshot = {
      name: this.name,
      broker: this.broker,
      connected: this.connected,
      lastConnectUnix: this.lastConnectUnix,
      lastDisconnectUnix: this.lastDisconnectUnix,
      lastPacketUnix: this.lastPacketUnix,
      connectCount: this.connectCount,
      disconnectCount: this.disconnectCount,
      packetsTotal: this.packetsTotal,
      packetsLast5m: this.packetsLast5m(nowMs),
    };
    if (this.lastError) snap.lastError = this.lastError;
    return snap;
  }
}

@Injectable()
export class SourceStatusRegistry {
  private readonly sources = new Map<string, SourceStatusState>();
  private readonly clock: () => number;
  private lastTickUnix = 0;
  private panicCount = 0;

  constructor(@Optional() @Inject(SOURCE_STATUS_CLOCK) clock?: () => number) {
    this.clock = clock ?? Date.now;
  }

  /** Current time of the registry's clock, epoch milliseconds. */
  now(): number {
    return this.clock();
  }

  /**
   * Idempotent per tag: a repeated registration returns the existing state (counters keep
   * accumulating, the first broker stays), so two sources with the same tag share one entry.
   */
  register(tag: string, broker: string): SourceStatusState {
    let state = this.sources.get(tag);
    if (!state) {
      state = new SourceStatusState(tag, broker);
      this.sources.set(tag, state);
    }
    return state;
  }

  get(tag: string): SourceStatusState | undefined {
    return this.sources.get(tag);
  }

  // The mark* methods ignore unknown tags: a status miss must never break message handling.

  markConnect(tag: string): void {
    this.sources.get(tag)?.markConnect(this.clock());
  }

  markDisconnect(tag: string, error?: string): void {
    this.sources.get(tag)?.markDisconnect(this.clock(), error);
  }

  markPacket(tag: string): void {
    this.sources.get(tag)?.markPacket(this.clock());
  }

  /** Every registered source, in registration order, unmasked. */
  snapshot(): SourceStatusSnapshot[] {
    const nowMs = this.clock();
    const out: SourceStatusSnapshot[] = [];
    for (const state of this.sources.values()) out.push(state.snapshot(nowMs));
    return out;
  }

  // Watchdog health (ingestor-spec §2.6), written by the stall watchdog.

  setWatchdogLastTickUnix(unix: number): void {
    this.lastTickUnix = unix;
  }

  setWatchdogPanicCount(count: number): void {
    this.panicCount = count;
  }

  watchdogStatus(): WatchdogStatus {
    return { watchdogLastTickUnix: this.lastTickUnix, watchdogPanicCount: this.panicCount };
  }
}
