import { describe, expect, it } from 'vitest';
import { SourceStatusRegistry } from './source-status.registry';

const T0 = 1_700_000_000_000; // ms, a whole second

function registryAt(start = T0) {
  const clock = { now: start };
  const registry = new SourceStatusRegistry(() => clock.now);
  return { registry, clock };
}

describe('SourceStatusRegistry (source_status_test.go)', () => {
  it('BasicLifecycle: idempotent registration, counters, raw broker, 5-minute window expiry', () => {
    const { registry, clock } = registryAt();
    const state = registry.register('local', 'mqtt://broker.example.com:1883');
    expect(registry.register('local', 'mqtt://other')).toBe(state);

    registry.markConnect('local');
    registry.markPacket('local');
    clock.now = T0 + 1000;
    registry.markPacket('local');
    clock.now = T0 + 2000;
    registry.markPacket('local');

    clock.now = T0 + 3000;
    const [snap] = registry.snapshot();
    expect(snap.connected).toBe(true);
    expect(snap.packetsTotal).toBe(3);
    expect(snap.packetsLast5m).toBe(3);
    expect(snap.connectCount).toBe(1);
    expect(snap.lastConnectUnix).toBe(T0 / 1000);
    expect(snap.lastPacketUnix).toBe(T0 / 1000 + 2);
    expect(snap.broker).toBe('mqtt://broker.example.com:1883');
    expect(snap).not.toHaveProperty('lastError');

    clock.now = T0 + 6 * 60_000;
    const [later] = registry.snapshot();
    expect(later.packetsLast5m).toBe(0);
    expect(later.packetsTotal).toBe(3);
  });

  it('Disconnect: connected false, disconnectCount 1, lastDisconnectUnix stamped', () => {
    const { registry, clock } = registryAt();
    registry.register('local', 'tcp://h:1883');
    registry.markConnect('local');
    clock.now = T0 + 5000;
    registry.markDisconnect('local');
    const [snap] = registry.snapshot();
    expect(snap.connected).toBe(false);
    expect(snap.disconnectCount).toBe(1);
    expect(snap.lastDisconnectUnix).toBe(T0 / 1000 + 5);
    expect(snap).not.toHaveProperty('lastError');
  });

  it('SnapshotSourceStatuses_ReturnsAll: two registrations → two snapshots', () => {
    const { registry } = registryAt();
    registry.register('a', 'tcp://a:1883');
    registry.register('b', 'tcp://b:1883');
    expect(registry.snapshot().map((s) => s.name)).toEqual(['a', 'b']);
  });

  it('MarkConnectClearsLastError', () => {
    const { registry } = registryAt();
    registry.register('local', 'tcp://h:1883');
    registry.markDisconnect('local', 'EOF');
    expect(registry.snapshot()[0].lastError).toBe('EOF');
    registry.markConnect('local');
    expect(registry.snapshot()[0]).not.toHaveProperty('lastError');
  });

  it('a disconnect without an error keeps the previous error', () => {
    const { registry } = registryAt();
    registry.register('local', 'tcp://h:1883');
    registry.markDisconnect('local', 'connection refused');
    registry.markDisconnect('local');
    expect(registry.snapshot()[0].lastError).toBe('connection refused');
  });

  it('two sources with the same tag share one entry and accumulate', () => {
    const { registry } = registryAt();
    const first = registry.register('dup', 'tcp://a:1883');
    const second = registry.register('dup', 'tcp://b:1883');
    expect(second).toBe(first);
    registry.markPacket('dup');
    second.markPacket(T0);
    const snaps = registry.snapshot();
    expect(snaps).toHaveLength(1);
    expect(snaps[0].packetsTotal).toBe(2);
    expect(snaps[0].broker).toBe('tcp://a:1883');
  });

  it('marks for unknown tags are ignored', () => {
    const { registry } = registryAt();
    expect(() => {
      registry.markPacket('nope');
      registry.markConnect('nope');
      registry.markDisconnect('nope', 'x');
    }).not.toThrow();
    expect(registry.snapshot()).toEqual([]);
  });
});

describe('packetsLast5m sliding window', () => {
  it('counts exactly the seconds in [now−299, now]', () => {
    const { registry, clock } = registryAt();
    const state = registry.register('s', 'tcp://h:1883');
    // One packet at each of seconds 0, 100, 200, 299 and two at 250.
    for (const sec of [0, 100, 200, 250, 250, 299]) state.markPacket(T0 + sec * 1000 + 999);

    const at = (sec: number) => state.packetsLast5m(T0 + sec * 1000);
    expect(at(299)).toBe(6);
    expect(at(300)).toBe(5); // second 0 left the window
    expect(at(399)).toBe(5);
    expect(at(400)).toBe(4); // second 100 left
    expect(at(549)).toBe(3); // seconds 250 (×2) and 299 remain
    expect(at(550)).toBe(1); // only 299
    expect(at(598)).toBe(1);
    expect(at(599)).toBe(0);
  });

  it('resets a slot reused by a later second instead of adding to it', () => {
    const { registry } = registryAt();
    const state = registry.register('s', 'tcp://h:1883');
    state.markPacket(T0 + 5_000);
    state.markPacket(T0 + 5_000);
    // 300 s later the same slot (second mod 300) is reused.
    state.markPacket(T0 + 305_000);
    expect(state.packetsLast5m(T0 + 305_000)).toBe(1);
    expect(state.packetsTotal).toBe(3);
  });

  it('ignores packets stamped in the future relative to the snapshot', () => {
    const { registry } = registryAt();
    const state = registry.register('s', 'tcp://h:1883');
    state.markPacket(T0 + 10_000);
    expect(state.packetsLast5m(T0 + 9_000)).toBe(0);
    expect(state.packetsLast5m(T0 + 10_000)).toBe(1);
  });
});

describe('watchdog fields', () => {
  it('are zero until the watchdog sets them', () => {
    const { registry } = registryAt();
    expect(registry.watchdogStatus()).toEqual({ watchdogLastTickUnix: 0, watchdogPanicCount: 0 });
    registry.setWatchdogLastTickUnix(1_700_000_060);
    registry.setWatchdogPanicCount(2);
    expect(registry.watchdogStatus()).toEqual({ watchdogLastTickUnix: 1_700_000_060, watchdogPanicCount: 2 });
  });
});
