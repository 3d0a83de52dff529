import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  classifyLiveness,
  escalationGapMs,
  fnv1a32,
  formatGoDuration,
  LivenessKind,
  SourceLivenessState,
  StallWatchdog,
  type StallWatchdogOptions,
  type WatchdogLogLevel,
} from './stall-watchdog';

const T0 = 1_700_000_000_000; // ms, a whole second
const SEC = 1000;
const MIN = 60 * SEC;
const THRESHOLD_MS = 5 * MIN;

/** A watchdog on a fake clock that records every line, level and forced reconnect. */
function harness(overrides: Partial<StallWatchdogOptions> & { withReconnect?: boolean } = {}) {
  const clock = { now: T0 };
  const lines: { line: string; level: WatchdogLogLevel }[] = [];
  const connected = new Map<string, boolean>();
  const reconnects: string[] = [];
  const { withReconnect = true, ...rest } = overrides;
  const watchdog = new StallWatchdog({
    intervalMs: MIN,
    thresholdSec: 300,
    now: () => clock.now,
    isConnected: (tag) => connected.get(tag) ?? true,
    forceReconnect: withReconnect ? (tag) => void reconnects.push(tag) : undefined,
    emit: (line, level) => void lines.push({ line, level }),
    ...rest,
  });
  const text = () => lines.map((l) => l.line);
  const matching = (needle: string) => text().filter((l) => l.includes(needle));
  /** Moves the clock to T0 + offset and runs one scan there. */
  const tickAt = (offsetMs: number) => {
    clock.now = T0 + offsetMs;
    watchdog.tick();
  };
  return { watchdog, clock, lines, text, matching, connected, reconnects, tickAt };
}

/** A registered source whose last handled message was `silentMs` before T0. */
function stalledSource(h: ReturnType<typeof harness>, tag: string, silentMs = 10 * MIN, broker = 'tcp://x:1883') {
  h.clock.now = T0 - 20 * MIN;
  h.watchdog.register(tag, broker);
  h.clock.now = T0 - silentMs;
  h.watchdog.markMessage(tag);
  h.clock.now = T0;
  return h.watchdog.get(tag)!;
}

/** Lets promise callbacks (the async "reconnect attempt issued" report) run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function silenceStderr() {
  return vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
}

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe('classifyLiveness (mqtt_reconnect_test.go, mqtt_watchdog_r1_test.go)', () => {
  const stateWith = (fields: Partial<SourceLivenessState>, tag = 'test') =>
    Object.assign(new SourceLivenessState(tag, 'tcp://x:1883'), fields);

  it('FiresOnSilentSource: connected, silent 10 min, threshold 5 min → Stalled', () => {
    const state = stateWith({ lastMessageUnix: (T0 - 10 * MIN) / SEC });
    const verdict = classifyLiveness(state, true, THRESHOLD_MS, T0);
    expect(verdict.kind).toBe(LivenessKind.Stalled);
    expect(verdict.message).toContain('no messages');
    expect(verdict.message).toContain('test');
    expect(verdict.message).toBe(
      'MQTT [test] WATCHDOG: client reports connected to tcp://x:1883 but no messages received for 10m0s ' +
        '(threshold 5m0s) — possible half-open socket or upstream stall',
    );
  });

  it('QuietWhenRecent: last message 30 s ago → OK', () => {
    const state = stateWith({ lastMessageUnix: (T0 - 30 * SEC) / SEC });
    expect(classifyLiveness(state, true, THRESHOLD_MS, T0).kind).toBe(LivenessKind.OK);
  });

  it('QuietWhenDisconnected: not connected → Disconnected, not OK', () => {
    const state = stateWith({ lastMessageUnix: (T0 - 60 * MIN) / SEC });
    const verdict = classifyLiveness(state, false, THRESHOLD_MS, T0);
    expect(verdict.kind).toBe(LivenessKind.Disconnected);
    expect(verdict.message).toBe('');
  });

  it('stalls exactly at the threshold, not one millisecond before', () => {
    const state = stateWith({ lastMessageUnix: T0 / SEC });
    expect(classifyLiveness(state, true, THRESHOLD_MS, T0 + THRESHOLD_MS - 1).kind).toBe(LivenessKind.OK);
    expect(classifyLiveness(state, true, THRESHOLD_MS, T0 + THRESHOLD_MS).kind).toBe(LivenessKind.Stalled);
  });

  it('FiresOnSilentFromStart: never received, 10 min after first connect → NeverReceived', () => {
    const state = stateWith({ firstConnectedAt: (T0 - 10 * MIN) / SEC, startedAt: (T0 - 10 * MIN) / SEC }, 'cold');
    const verdict = classifyLiveness(state, true, THRESHOLD_MS, T0);
    expect(verdict.kind).toBe(LivenessKind.NeverReceived);
    expect(verdict.message.toUpperCase()).toContain('NEVER');
    expect(verdict.message).toContain('cold');
    expect(verdict.message).toBe(
      'MQTT [cold] WATCHDOG: client reports connected to tcp://x:1883 but has NEVER received a message in 10m0s ' +
        '(threshold 5m0s) — check channel hash / subscribe ACL / half-open TCP',
    );
  });

  it('QuietDuringColdStartGrace: 30 s after first connect → OK', () => {
    const state = stateWith({ firstConnectedAt: (T0 - 30 * SEC) / SEC });
    expect(classifyLiveness(state, true, THRESHOLD_MS, T0).kind).toBe(LivenessKind.OK);
  });

  it('OnReconnectResetsClocks: MarkReconnected zeroes message/alert clocks, re-stamps StartedAt, next check quiet', () => {
    const state = stateWith({
      lastMessageUnix: (T0 - 120 * MIN) / SEC,
      startedAt: (T0 - 180 * MIN) / SEC,
      lastAlertUnix: (T0 - 90 * MIN) / SEC,
    });
    state.markReconnected(T0);
    expect(state.lastMessageUnix).toBe(0);
    expect(state.startedAt).toBe(T0 / SEC);
    expect(state.lastAlertUnix).toBe(0);
    expect(classifyLiveness(state, true, THRESHOLD_MS, T0 + SEC).kind).toBe(LivenessKind.OK);
  });

  it('masks credentials of the broker in the message', () => {
    const state = Object.assign(new SourceLivenessState('s', 'tcp://u:secret@h:1883'), { lastMessageUnix: 1 });
    const { message } = classifyLiveness(state, true, THRESHOLD_MS, T0);
    expect(message).toContain('tcp://u:****@h:1883');
    expect(message).not.toContain('secret');
  });
});

describe('SourceLivenessState', () => {
  it('ReceiptVsWriteSeparate: markReceipt and markMessage move only their own clock', () => {
    const state = new SourceLivenessState('s', 'tcp://x:1883');
    state.markReceipt(T0);
    expect(state.lastReceiptUnix).toBe(T0 / SEC);
    expect(state.lastMessageUnix).toBe(0);
    state.markMessage(T0 + 5 * SEC);
    expect(state.lastMessageUnix).toBe(T0 / SEC + 5);
    expect(state.lastReceiptUnix).toBe(T0 / SEC);
  });

  it('MarkReconnectedClearsDisconnectedSince, keeps FirstConnectedAt', () => {
    const state = Object.assign(new SourceLivenessState('s', 'tcp://x:1883'), {
      disconnectedSinceUnix: (T0 - 60 * MIN) / SEC,
      firstConnectedAt: (T0 - 120 * MIN) / SEC,
    });
    state.markReconnected(T0);
    expect(state.disconnectedSinceUnix).toBe(0);
    expect(state.firstConnectedAt).toBe((T0 - 120 * MIN) / SEC);
  });
});

describe('registration', () => {
  it('stamps StartedAt and FirstConnectedAt at registration', () => {
    const h = harness();
    expect(h.watchdog.register('a', 'tcp://a:1883')).toBe(true);
    expect(h.watchdog.get('a')).toMatchObject({ startedAt: T0 / SEC, firstConnectedAt: T0 / SEC, lastMessageUnix: 0 });
  });

  it('DetectsTagCollision: duplicate tag refused, first registration stays authoritative', () => {
    const h = harness();
    expect(h.watchdog.register('dup', 'tcp://a:1883')).toBe(true);
    const first = h.watchdog.get('dup');
    h.watchdog.markMessage('dup');
    expect(h.watchdog.register('dup', 'tcp://b:1883')).toBe(false);
    expect(h.watchdog.get('dup')).toBe(first);
    expect(h.watchdog.get('dup')!.broker).toBe('tcp://a:1883');
    expect(h.watchdog.get('dup')!.lastMessageUnix).toBe(T0 / SEC);
  });

  it('RegisterLivenessOrSkip: a collision logs an ERROR with the tag and "skip" and does not throw', () => {
    const h = harness();
    h.watchdog.register('dup', 'tcp://a:1883');
    expect(() => h.watchdog.register('dup', 'tcp://u:pw@b:1883')).not.toThrow();
    expect(h.lines).toHaveLength(1);
    const [{ line, level }] = h.lines;
    expect(level).toBe('error');
    expect(line).toContain('ERROR');
    expect(line).toContain('"dup"');
    expect(line).toContain('skip');
    expect(line).toContain('new broker=tcp://u:****@b:1883');
    expect(line).not.toContain(':pw@');
  });

  it('counts connection attempts per source', () => {
    const h = harness();
    h.watchdog.register('a', 'tcp://a:1883');
    expect(h.watchdog.noteConnectionAttempt('a')).toBe(1);
    expect(h.watchdog.noteConnectionAttempt('a')).toBe(2);
    expect(h.watchdog.noteConnectionAttempt('unknown')).toBe(0);
  });

  it('exposes receipt and write clocks per tag', () => {
    const h = harness();
    h.watchdog.register('a', 'tcp://a:1883');
    h.watchdog.markReceipt('a');
    h.clock.now = T0 + 2 * SEC;
    h.watchdog.markMessage('a');
    h.watchdog.markMessage('unknown');
    expect(h.watchdog.livenessClocks()).toEqual({ a: { lastReceiptUnix: T0 / SEC, lastMessageUnix: T0 / SEC + 2 } });
  });
});

describe('edge-triggered transitions', () => {
  it('EdgeTriggeredEmitsOnlyOnce: 3 consecutive stalled ticks → exactly one WARN', () => {
    const h = harness({ withReconnect: false });
    stalledSource(h, 'stuck');
    h.tickAt(0);
    h.tickAt(30 * SEC);
    h.tickAt(60 * SEC);
    expect(h.lines).toHaveLength(1);
    expect(h.lines[0].level).toBe('warn');
    expect(h.lines[0].line).toContain('MQTT [stuck] WATCHDOG: client reports connected');
  });

  it('RecoveryEmitOnce: stall, then a fresh message → 1 WARN + 1 recovery, then silence', () => {
    const h = harness({ withReconnect: false });
    stalledSource(h, 'src-b');
    h.tickAt(0);
    h.clock.now = T0 + 30 * SEC;
    h.watchdog.markMessage('src-b');
    h.tickAt(60 * SEC);
    h.tickAt(120 * SEC);
    h.tickAt(180 * SEC);
    expect(h.text()).toEqual([
      expect.stringContaining('no messages received for 10m0s'),
      'MQTT [src-b] WATCHDOG INFO: messages flowing again (recovered)',
    ]);
    expect(h.lines[1].level).toBe('log');
    expect(h.watchdog.get('src-b')!.lastAlertUnix).toBe(0);
  });

  it('heartbeat: still stalled after 1 h → one reminder, which also retries the forced reconnect', () => {
    const h = harness();
    stalledSource(h, 'hb');
    h.tickAt(0);
    for (let t = MIN; t < 60 * MIN; t += MIN) h.tickAt(t);
    expect(h.matching('heartbeat')).toHaveLength(0);
    h.tickAt(60 * MIN);
    const heartbeats = h.matching('heartbeat');
    expect(heartbeats).toHaveLength(1);
    expect(heartbeats[0]).toMatch(/^MQTT \[hb\] WATCHDOG heartbeat: still stalled — MQTT \[hb\] WATCHDOG: client reports/);
    expect(heartbeats[0]).toContain('no messages received for 1h10m0s');
    expect(h.reconnects).toEqual(['hb', 'hb']);
    expect(h.watchdog.get('hb')!.lastAlertUnix).toBe((T0 + 60 * MIN) / SEC);
  });

  it('NoFalseRecoveryOnDisconnect: a stalled source that disconnects emits no recovery and keeps its alert', () => {
    const h = harness({ withReconnect: false });
    const state = stalledSource(h, 'flap');
    h.tickAt(0);
    h.connected.set('flap', false);
    h.tickAt(MIN);
    h.tickAt(2 * MIN);
    expect(h.matching('recovered')).toHaveLength(0);
    expect(state.lastAlertUnix).toBe(T0 / SEC);
    // Back to connected but still silent: the earlier alert still covers it, no second WARN.
    h.connected.set('flap', true);
    h.tickAt(3 * MIN);
    expect(h.lines).toHaveLength(1);
  });

  it('ColdStartSurvivesBrokerFlap: reconnects every minute do not re-arm the NEVER-received grace', () => {
    const h = harness({ withReconnect: false });
    h.watchdog.register('flappy', 'tcp://x:1883');
    for (let t = MIN; t <= 5 * MIN; t += MIN) {
      h.clock.now = T0 + t - 10 * SEC;
      h.watchdog.markReconnected('flappy');
      h.tickAt(t);
    }
    const never = h.matching('NEVER');
    expect(never).toHaveLength(1);
    expect(never[0]).toContain('has NEVER received a message in 5m0s');
    expect(h.watchdog.get('flappy')!.startedAt).toBe((T0 + 5 * MIN - 10 * SEC) / SEC);
  });

  it('TransientReconnectDuringGraceStaysQuiet: a reconnect inside the grace window stays OK', () => {
    const h = harness();
    h.watchdog.register('blip', 'tcp://x:1883');
    h.clock.now = T0 + 10 * SEC;
    h.watchdog.markMessage('blip');
    h.clock.now = T0 + 60 * SEC;
    h.watchdog.markReconnected('blip');
    h.tickAt(90 * SEC);
    h.tickAt(4 * MIN);
    expect(h.lines).toEqual([]);
    expect(h.reconnects).toEqual([]);
  });

  it('reference behaviour: after a reconnect past the cold-start window, a tick before the next message reports NEVER', () => {
    // Spec §2.6 measures a zero LastMessageUnix against FirstConnectedAt, which a reconnect keeps.
    const h = harness();
    h.watchdog.register('late', 'tcp://x:1883');
    h.clock.now = T0 + 9 * MIN;
    h.watchdog.markMessage('late');
    h.clock.now = T0 + 10 * MIN;
    h.watchdog.markReconnected('late');
    h.tickAt(10 * MIN + 30 * SEC);
    expect(h.matching('has NEVER received a message in 10m30s')).toHaveLength(1);
    expect(h.reconnects).toEqual([]);
    h.watchdog.markMessage('late');
    h.tickAt(11 * MIN);
    expect(h.matching('recovered')).toHaveLength(1);
  });
});

describe('forced reconnect', () => {
  it('ForceReconnectOnStallEdge: the Stalled edge reconnects exactly once and reports it', async () => {
    const h = harness();
    stalledSource(h, 'half-open');
    h.tickAt(0);
    h.tickAt(MIN);
    h.tickAt(2 * MIN);
    expect(h.reconnects).toEqual(['half-open']);
    expect(h.text()).toContain(
      'MQTT [half-open] WATCHDOG forcing reconnect (half-open TCP suspected — paho.IsConnected==true but no messages)',
    );
    expect(h.watchdog.get('half-open')!.lastForceReconnectUnix).toBe(T0 / SEC);
    await settle();
    expect(h.matching('reconnect attempt issued')).toEqual(['MQTT [half-open] WATCHDOG reconnect attempt issued']);
  });

  it('ForceReconnectThrottled: a second edge within 60 s is suppressed; after the window it reconnects', () => {
    const h = harness();
    const state = stalledSource(h, 'thr');
    h.tickAt(0);
    expect(h.reconnects).toHaveLength(1);

    state.lastAlertUnix = 0; // re-arm the edge while the source stays stalled
    h.tickAt(30 * SEC);
    expect(h.reconnects).toHaveLength(1);
    expect(h.text()).toContain('MQTT [thr] WATCHDOG suppressing forced reconnect (last attempt 30s ago, throttle 1m0s)');

    state.lastAlertUnix = 0;
    h.tickAt(60 * SEC);
    expect(h.reconnects).toHaveLength(2);
  });

  it('NoForceReconnectOnNeverReceived: neither the edge nor the heartbeat reconnects', () => {
    const h = harness();
    h.watchdog.register('acl-denied', 'tcp://x:1883');
    for (let t = 0; t <= 125 * MIN; t += MIN) h.tickAt(t);
    expect(h.matching('NEVER')).toHaveLength(3); // edge at 5 min, heartbeats at 65 and 125 min
    expect(h.reconnects).toEqual([]);
    expect(h.matching('forcing reconnect')).toEqual([]);
  });

  it('NilForceReconnectFnIsSafe: no reconnect function → WARN only, no error', () => {
    const h = harness({ withReconnect: false });
    const stderr = silenceStderr();
    stalledSource(h, 'nil-fn');
    expect(() => h.tickAt(0)).not.toThrow();
    expect(h.lines).toHaveLength(1);
    expect(h.watchdog.panicCount).toBe(0);
    expect(stderr).not.toHaveBeenCalled();
  });

  it('reports a rejected reconnect without an unhandled rejection', async () => {
    const h = harness({
      forceReconnect: () => Promise.reject(new Error('dial tcp://u:pw@x:1883 refused')),
    });
    stalledSource(h, 'rej');
    h.tickAt(0);
    await settle();
    expect(h.matching('forced reconnect failed')).toEqual([
      'MQTT [rej] WATCHDOG forced reconnect failed: dial tcp://u:****@x:1883 refused',
    ]);
    expect(h.matching('attempt issued')).toEqual([]);
  });

  it('reports a reconnect function that throws synchronously and keeps scanning', () => {
    const h = harness({
      forceReconnect: () => {
        throw new Error('client destroyed');
      },
    });
    stalledSource(h, 'sync-throw');
    stalledSource(h, 'other');
    h.tickAt(0);
    expect(h.matching('forced reconnect failed: client destroyed')).toEqual([
      'MQTT [sync-throw] WATCHDOG forced reconnect failed: client destroyed',
      'MQTT [other] WATCHDOG forced reconnect failed: client destroyed',
    ]);
    expect(h.matching('MQTT [other] WATCHDOG: client reports')).toHaveLength(1);
    expect(h.watchdog.panicCount).toBe(0);
  });
});

describe('disconnected escalation (#1749, #1810)', () => {
  const THRESHOLD_1M = { thresholdSec: 60 };

  it('EscalationJitterPerSource: different tags, different gaps, each in [base, base + 60 s)', () => {
    const base = 5 * 60 * SEC;
    const gapA = escalationGapMs('source-a', 60 * SEC);
    const gapB = escalationGapMs('source-b', 60 * SEC);
    expect(gapA).not.toBe(gapB);
    for (const gap of [gapA, gapB]) {
      expect(gap).toBeGreaterThanOrEqual(base);
      expect(gap).toBeLessThan(base + 60 * SEC);
    }
    expect(gapA).toBe(base + (fnv1a32('source-a') % 60_000));
  });

  it('fnv1a32 matches the reference vectors', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('EscalateOnPersistentDisconnect: past 5×threshold + jitter the source is force-reconnected', () => {
    const h = harness(THRESHOLD_1M);
    h.watchdog.register('silent-client', 'ssl://u:pw@mqtt2.example.com:8883');
    h.connected.set('silent-client', false);
    const gap = escalationGapMs('silent-client', 60 * SEC);
    let firstAt = -1;
    for (let t = 0; t <= 7 * MIN; t += SEC) {
      h.tickAt(t);
      if (firstAt < 0 && h.reconnects.length > 0) firstAt = t;
    }
    expect(h.reconnects.length).toBeGreaterThanOrEqual(1);
    expect(firstAt).toBe(Math.ceil(gap / SEC) * SEC);
    const escalation = h.matching('ESCALATION');
    expect(escalation[0]).toBe(
      `MQTT [silent-client] WATCHDOG ESCALATION: paho disconnected for ${formatGoDuration(firstAt)} ` +
        `(>5×threshold=${formatGoDuration(gap)}) with no auto-reconnect — forcing reconnect (#1749)`,
    );
    expect(h.lines.find((l) => l.line.includes('ESCALATION'))!.level).toBe('warn');
    // Disconnected never produces stall or recovery lines of its own.
    expect(h.matching('WATCHDOG:')).toEqual([]);
    expect(h.matching('recovered')).toEqual([]);
  });

  it('DisconnectedEscalationThrottled: crossing the boundary on every tick of one window → one reconnect', () => {
    const h = harness(THRESHOLD_1M);
    h.watchdog.register('throttle-escalate', 'ssl://example.com:8883');
    h.connected.set('throttle-escalate', false);
    const boundary = Math.ceil(escalationGapMs('throttle-escalate', 60 * SEC) / SEC) * SEC;
    for (let t = 0; t < boundary + 60 * SEC; t += SEC) h.tickAt(t);
    expect(h.reconnects).toHaveLength(1);
    h.tickAt(boundary + 60 * SEC);
    expect(h.reconnects).toHaveLength(2);
  });

  it('EscalationWarnThrottled: many ticks past the boundary → one ESCALATION line per throttle window', () => {
    const h = harness({ thresholdSec: 1 });
    h.watchdog.register('warn-throttle', 'tcp://x:1883');
    h.connected.set('warn-throttle', false);
    const boundary = Math.ceil(escalationGapMs('warn-throttle', SEC) / SEC) * SEC;
    for (let t = 0; t < boundary + 180 * SEC; t += SEC) h.tickAt(t);
    expect(h.matching('WATCHDOG ESCALATION')).toHaveLength(3);
    expect(h.reconnects).toHaveLength(3);
    expect(h.matching('suppressing')).toEqual([]);
  });

  it('no ESCALATION line when no reconnect function is wired', () => {
    const h = harness({ ...THRESHOLD_1M, withReconnect: false });
    h.watchdog.register('unwired', 'tcp://x:1883');
    h.connected.set('unwired', false);
    for (let t = 0; t <= 10 * MIN; t += MIN) h.tickAt(t);
    expect(h.lines).toEqual([]);
  });

  it('a connected tick clears the disconnect timer, so the next outage starts from zero', () => {
    const h = harness(THRESHOLD_1M);
    h.watchdog.register('flap', 'tcp://x:1883');
    h.watchdog.markMessage('flap');
    h.connected.set('flap', false);
    h.tickAt(0);
    expect(h.watchdog.get('flap')!.disconnectedSinceUnix).toBe(T0 / SEC);
    h.tickAt(4 * MIN);
    h.connected.set('flap', true);
    h.clock.now = T0 + 4 * MIN + 30 * SEC;
    h.watchdog.markMessage('flap');
    h.tickAt(4 * MIN + 30 * SEC);
    expect(h.watchdog.get('flap')!.disconnectedSinceUnix).toBe(0);
    h.connected.set('flap', false);
    h.tickAt(5 * MIN);
    h.tickAt(6 * MIN + 30 * SEC); // 10 min after the first drop, but only 90 s into this one
    expect(h.reconnects).toEqual([]);
    expect(h.watchdog.get('flap')!.disconnectedSinceUnix).toBe((T0 + 5 * MIN) / SEC);
  });
});

describe('robustness (#1749, #1810)', () => {
  it('LoopRecoversFromPanicInEmit: a throwing emit neither escapes tick() nor stops later ticks or sources', () => {
    const stderr = silenceStderr();
    const calls: string[] = [];
    const h = harness({
      withReconnect: false,
      emit: (line) => {
        calls.push(line);
        if (line.includes('panic-emit')) throw new Error('synthetic emit failure');
      },
    });
    stalledSource(h, 'panic-emit');
    stalledSource(h, 'healthy-logger');
    expect(() => h.tickAt(0)).not.toThrow();
    expect(h.watchdog.panicCount).toBe(1);
    // The alert was never recorded, so the next tick tries again: the loop is alive.
    h.tickAt(MIN);
    expect(calls.filter((l) => l.includes('panic-emit'))).toHaveLength(2);
    expect(calls.filter((l) => l.includes('healthy-logger'))).toHaveLength(1);
    expect(h.watchdog.panicCount).toBe(2);
    expect(h.watchdog.lastTickUnix).toBe((T0 + MIN) / SEC);
    expect(stderr).toHaveBeenCalledTimes(2);
  });

  it('LoopRecoversFromPanicInEmit, escalation path', () => {
    silenceStderr();
    let escalations = 0;
    const h = harness({
      thresholdSec: 60,
      emit: (line) => {
        if (line.includes('ESCALATION')) {
          escalations++;
          throw new Error('log pipe blocked');
        }
      },
    });
    h.watchdog.register('esc-panic', 'tcp://x:1883');
    h.connected.set('esc-panic', false);
    const boundary = Math.ceil(escalationGapMs('esc-panic', 60 * SEC) / SEC) * SEC;
    for (let t = 0; t <= boundary + 2 * SEC; t += SEC) h.tickAt(t);
    expect(escalations).toBe(3); // boundary, +1 s, +2 s: the throttle stamp is never reached
    expect(h.watchdog.panicCount).toBe(3);
    expect(h.watchdog.lastTickUnix).toBe((T0 + boundary + 2 * SEC) / SEC);
  });

  it('recovers from a throwing isConnected callback too', () => {
    silenceStderr();
    const h = harness({
      isConnected: (tag) => {
        if (tag === 'broken') throw new Error('client gone');
        return true;
      },
      withReconnect: false,
    });
    stalledSource(h, 'broken');
    stalledSource(h, 'fine');
    h.tickAt(0);
    expect(h.watchdog.panicCount).toBe(1);
    expect(h.matching('MQTT [fine]')).toHaveLength(1);
  });

  it('PanicRecoverWritesToStderrNotLog: the recovery line goes to process.stderr, not through emit', () => {
    const stderr = silenceStderr();
    const emitted: string[] = [];
    const h = harness({
      withReconnect: false,
      emit: (line) => {
        emitted.push(line);
        throw new Error('synthetic panic to drive recover');
      },
    });
    stalledSource(h, 'panic-sink', 10 * MIN, 'tcp://u:pw@x:1883');
    h.tickAt(0);
    expect(stderr).toHaveBeenCalledWith(
      '[ingestor] WATCHDOG RECOVERED panic processing source "panic-sink": synthetic panic to drive recover\n',
    );
    expect(emitted).toHaveLength(1);
    expect(emitted.some((l) => l.includes('WATCHDOG RECOVERED'))).toBe(false);
  });

  it('PanicCountIncrementsOnRecover and is published to the stats sink', () => {
    silenceStderr();
    const sink = { setWatchdogLastTickUnix: vi.fn(), setWatchdogPanicCount: vi.fn() };
    const h = harness({
      withReconnect: false,
      statsSink: sink,
      emit: () => {
        throw 'boom';
      },
    });
    stalledSource(h, 'panic-count');
    const before = h.watchdog.panicCount;
    h.tickAt(0);
    expect(h.watchdog.panicCount).toBe(before + 1);
    expect(sink.setWatchdogPanicCount).toHaveBeenLastCalledWith(1);
  });

  it('a throwing emit after the async reconnect counts as a recovered panic, not an unhandled rejection', async () => {
    const stderr = silenceStderr();
    const h = harness({
      emit: (line) => {
        if (line.includes('attempt issued')) throw new Error('late failure');
      },
    });
    stalledSource(h, 'late');
    h.tickAt(0);
    await settle();
    expect(h.watchdog.panicCount).toBe(1);
    expect(stderr).toHaveBeenCalledWith(expect.stringContaining('source "late": late failure'));
  });

  it('LastTickUnixExposed: the tick clock advances to the tick time before any source work', () => {
    const sink = { setWatchdogLastTickUnix: vi.fn(), setWatchdogPanicCount: vi.fn() };
    const h = harness({ statsSink: sink });
    expect(h.watchdog.lastTickUnix).toBe(0);
    const stamp = T0 + 48 * 60 * MIN + 500;
    h.watchdog.tick(stamp);
    expect(h.watchdog.lastTickUnix).toBe(Math.floor(stamp / SEC));
    expect(sink.setWatchdogLastTickUnix).toHaveBeenCalledWith(Math.floor(stamp / SEC));
    expect(sink.setWatchdogPanicCount).not.toHaveBeenCalled();
  });
});

describe('runner', () => {
  it('LoopEmitsAndStopsCleanly: one interval with two stalled sources → two emits; stop ends the timer', () => {
    vi.useFakeTimers({ now: T0 });
    const lines: string[] = [];
    const watchdog = new StallWatchdog({
      intervalMs: MIN,
      thresholdSec: 300,
      isConnected: () => true,
      emit: (line) => void lines.push(line),
    });
    watchdog.register('a', 'tcp://a:1883');
    watchdog.register('b', 'tcp://b:1883');
    watchdog.get('a')!.lastMessageUnix = (T0 - 10 * MIN) / SEC;
    watchdog.get('b')!.lastMessageUnix = (T0 - 10 * MIN) / SEC;

    watchdog.start();
    watchdog.start(); // idempotent: still one timer
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(MIN - 1);
    expect(watchdog.lastTickUnix).toBe(0);
    vi.advanceTimersByTime(1);
    expect(lines).toHaveLength(2);
    expect(watchdog.lastTickUnix).toBe((T0 + MIN) / SEC);

    watchdog.stop();
    expect(watchdog.running).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(10 * MIN);
    expect(watchdog.lastTickUnix).toBe((T0 + MIN) / SEC);
    watchdog.stop(); // idempotent
  });

  it('RunStopsCleanly: the real timer is unref’d and cleared by stop()', () => {
    const setIntervalSpy = vi.spyOn(globalThis, 'setInterval');
    const clearIntervalSpy = vi.spyOn(globalThis, 'clearInterval');
    const watchdog = new StallWatchdog({ intervalMs: MIN, thresholdSec: 300, isConnected: () => true, emit: () => {} });
    watchdog.start();
    const timer = setIntervalSpy.mock.results[0].value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
    watchdog.stop();
    expect(clearIntervalSpy).toHaveBeenCalledWith(timer);
  });

  it('the timer survives a throwing stats sink', () => {
    vi.useFakeTimers({ now: T0 });
    const stderr = silenceStderr();
    let ticks = 0;
    const watchdog = new StallWatchdog({
      intervalMs: MIN,
      thresholdSec: 300,
      isConnected: () => true,
      emit: () => {},
      statsSink: {
        setWatchdogLastTickUnix: () => {
          ticks++;
          throw new Error('sink down');
        },
        setWatchdogPanicCount: () => {},
      },
    });
    watchdog.start();
    vi.advanceTimersByTime(3 * MIN);
    watchdog.stop();
    expect(ticks).toBe(3);
    expect(stderr).toHaveBeenCalledWith('[ingestor] WATCHDOG tick failed: sink down\n');
  });

  it('rejects a non-positive interval or threshold', () => {
    const base = { isConnected: () => true, emit: () => {} };
    expect(() => new StallWatchdog({ ...base, intervalMs: 0, thresholdSec: 300 })).toThrow(RangeError);
    expect(() => new StallWatchdog({ ...base, intervalMs: MIN, thresholdSec: -1 })).toThrow(RangeError);
  });
});

describe('formatGoDuration', () => {
  it.each([
    [0, '0s'],
    [250, '250ms'],
    [1000, '1s'],
    [1500, '1.5s'],
    [37_123, '37.123s'],
    [60_000, '1m0s'],
    [300_000, '5m0s'],
    [61_000, '1m1s'],
    [1_537_120, '25m37.12s'],
    [3_600_000, '1h0m0s'],
    [4_200_000, '1h10m0s'],
    [-1500, '-1.5s'],
  ])('%d ms → %s', (ms, expected) => {
    expect(formatGoDuration(ms)).toBe(expected);
  });
});
