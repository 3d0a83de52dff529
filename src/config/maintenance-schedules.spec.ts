import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from './config.errors';
import { formatDuration, MAX_TIMER_DELAY_MS, parseDuration } from './duration';
import { loadConfig, type LoadedConfig } from './load-config';
import { describeSchedule, REFERENCE_SCHEDULES } from './maintenance-schedules';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'meshcore-schedules-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function load(content: unknown): LoadedConfig {
  writeFileSync(join(dir, 'config.json'), JSON.stringify(content));
  return loadConfig({ cwd: dir, env: {} });
}

function loadError(content: unknown): string {
  try {
    load(content);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error('expected a ConfigError');
}

describe('durations', () => {
  it.each([
    ['30s', 30_000],
    ['15m', 900_000],
    ['1h', 3_600_000],
    ['24h', 86_400_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    ['250ms', 250],
    ['2m30s', 150_000],
    ['0', 0],
    ['0s', 0],
  ])('reads %s as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '60', '-5m', '+5m', '1d', '1 h', 'h', '1h 30m', '1hh', 'PT1H', '.m'])('rejects %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it.each([
    [0, '0s'],
    [90_000, '1m30s'],
    [3_600_000, '1h'],
    [5_400_000, '1h30m'],
    [1_500, '1.5s'],
    [250, '250ms'],
    [86_400_000, '24h'],
  ])('writes %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
    expect(parseDuration(text)).toBe(ms);
  });
});

describe('schedules block', () => {
  it('defaults to the reference schedule of §5.1', () => {
    const { config } = load({});
    expect(config.schedules).toEqual(REFERENCE_SCHEDULES);
    expect(describeSchedule(config.schedules.walCheckpoint)).toEqual({ every: '1h', initialDelay: '30s' });
    expect(describeSchedule(config.schedules.nodeRetention)).toEqual({ every: '1h' });
  });

  it("reads the README's example: packet retention at 03:30 Berlin time, the builder every 2 min, multibyte off", () => {
    const { config } = load({
      retention: { packetDays: 30 },
      schedules: {
        packetRetention: { cron: '30 3 * * *', timeZone: 'Europe/Berlin' },
        neighborBuilder: { every: '2m' },
        multibytePersist: { enabled: false },
        WALCHECKPOINT: { every: '1h30m', initialDelay: '5m' },
      },
    });
    expect(config.schedules.packetRetention).toEqual({
      enabled: true,
      timing: { kind: 'cron', cron: '30 3 * * *', timeZone: 'Europe/Berlin' },
      initialDelayMs: null,
    });
    // An entry that changes the period keeps the job's reference initial delay.
    expect(config.schedules.neighborBuilder).toEqual({ enabled: true, timing: { kind: 'every', everyMs: 120_000 }, initialDelayMs: 0 });
    expect(config.schedules.multibytePersist).toEqual({ ...REFERENCE_SCHEDULES.multibytePersist, enabled: false });
    expect(config.schedules.walCheckpoint).toEqual({ enabled: true, timing: { kind: 'every', everyMs: 5_400_000 }, initialDelayMs: 300_000 });
    expect(config.schedules.nodeRetention).toEqual(REFERENCE_SCHEDULES.nodeRetention);
  });

  it('accepts a 6-field cron (seconds first) and normalises its spacing', () => {
    const { config } = load({ schedules: { pruneQueue: { cron: ' 0   */5 *  * * * ' } } });
    expect(config.schedules.pruneQueue.timing).toEqual({ kind: 'cron', cron: '0 */5 * * * *' });
  });

  it('keeps the older period keys working as aliases and names the new key', () => {
    const { config, notices } = load({ maintenance: { dailyJobsIntervalHours: 12, walCheckpointIntervalMin: 30, deleteChunkRows: 100 } });
    expect(config.schedules.observerRetention).toEqual({ ...REFERENCE_SCHEDULES.observerRetention, timing: { kind: 'every', everyMs: 12 * 3_600_000 } });
    expect(config.schedules.neighborPrune.timing).toEqual({ kind: 'every', everyMs: 12 * 3_600_000 });
    expect(config.schedules.walCheckpoint.timing).toEqual({ kind: 'every', everyMs: 1_800_000 });
    expect(config.maintenance.deleteChunkRows).toBe(100);
    expect(notices).toContain(
      'config: maintenance.walCheckpointIntervalMin is an old alias; use schedules.walCheckpoint.every (e.g. "30m")',
    );
    expect(notices.some((line) => line.startsWith('config: maintenance.dailyJobsIntervalHours is an old alias; use schedules.observerRetention.every'))).toBe(true);
  });

  it('lets schedules.<job> win over an alias, and says so', () => {
    const { config, notices } = load({ maintenance: { walCheckpointIntervalMin: 30 }, schedules: { walCheckpoint: { every: '2h' } } });
    expect(config.schedules.walCheckpoint.timing).toEqual({ kind: 'every', everyMs: 7_200_000 });
    expect(notices).toContain('config: maintenance.walCheckpointIntervalMin is an old alias and is overridden by schedules.walCheckpoint.every; remove it');
  });

  it.each([
    [{ walChekpoint: { every: '1h' } }, 'config: schedules.walChekpoint is not a known key (known here: nodeRetention, observerRetention,'],
    [{ walCheckpoint: { every: '1h', evry: '2h' } }, 'config: schedules.walCheckpoint.evry is not a known key (known here: enabled, every, cron, timeZone, initialDelay)'],
    [{ walCheckpoint: { every: '1h', cron: '0 * * * *' } }, 'config: schedules.walCheckpoint.every and cron are both set: give exactly one of them'],
    [{ walCheckpoint: { initialDelay: '1m' } }, 'config: schedules.walCheckpoint.every is missing: give exactly one of every (e.g. "1h") or cron'],
    [{ walCheckpoint: { every: 'hourly' } }, 'config: schedules.walCheckpoint.every must be a duration like "30s", "15m", "1h" or "1h30m" (units ms, s, m, h), got "hourly"'],
    [{ walCheckpoint: { every: 60 } }, 'config: schedules.walCheckpoint.every must be a duration string like "15m" or "1h30m"'],
    [{ walCheckpoint: { every: '0s' } }, 'config: schedules.walCheckpoint.every must be at least 1s, got "0s"'],
    [{ walCheckpoint: { every: '-1h' } }, 'config: schedules.walCheckpoint.every must be a duration like'],
    [{ walCheckpoint: { every: '600h' } }, "config: schedules.walCheckpoint.every must be at most 596h31m23.647s (Node's timer limit"],
    [{ walCheckpoint: { every: '1h', initialDelay: '-5s' } }, 'config: schedules.walCheckpoint.initialDelay must be a duration like'],
    [{ walCheckpoint: { every: '1h', initialDelay: '900h' } }, 'config: schedules.walCheckpoint.initialDelay must be at most'],
    [{ walCheckpoint: { cron: '0 * * *' } }, 'config: schedules.walCheckpoint.cron must have 5 fields (minute hour day month weekday) or 6 (with seconds first), got 4'],
    [{ walCheckpoint: { cron: '61 * * * *' } }, 'config: schedules.walCheckpoint.cron is not a valid cron expression'],
    [{ walCheckpoint: { cron: '0 0 31 2 *' } }, 'config: schedules.walCheckpoint.cron never fires (no date matches it): "0 0 31 2 *"'],
    [{ walCheckpoint: { cron: '0 3 * * *', timeZone: 'Europe/Nowhere' } }, 'config: schedules.walCheckpoint.timeZone is not a known IANA time zone (e.g. "Europe/Berlin", "UTC"): "Europe/Nowhere"'],
    [{ walCheckpoint: { every: '1h', timeZone: 'UTC' } }, 'config: schedules.walCheckpoint.every cannot be combined with timeZone'],
    [{ walCheckpoint: { every: '1h', enabled: 'no' } }, 'config: schedules.walCheckpoint.enabled must be true or false'],
    [{ walCheckpoint: 'hourly' }, 'config: schedules.walCheckpoint must be an object, not a string'],
  ])('rejects %j naming the full key', (schedules, message) => {
    expect(loadError({ schedules })).toContain(message);
  });

  it('states the timer limit exactly', () => {
    expect(MAX_TIMER_DELAY_MS).toBe(2_147_483_647);
    expect(load({ schedules: { walCheckpoint: { every: formatDuration(MAX_TIMER_DELAY_MS) } } }).config.schedules.walCheckpoint.timing).toEqual({
      kind: 'every',
      everyMs: MAX_TIMER_DELAY_MS,
    });
  });

  it('accepts enabled: false alone, and comments inside the block', () => {
    const { config, warnings } = load({ schedules: { _comment: 'x', neighborPrune: { enabled: false, _why: 'edges kept' } } });
    expect(config.schedules.neighborPrune.enabled).toBe(false);
    expect(warnings).toEqual([]);
  });
});

describe('http.adminToken', () => {
  it('comes from the file or from INGESTOR_ADMIN_TOKEN, which wins; blank means unset', () => {
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ http: { adminToken: ' file-token ' } }));
    expect(loadConfig({ cwd: dir, env: {} }).config.http.adminToken).toBe('file-token');
    expect(loadConfig({ cwd: dir, env: { INGESTOR_ADMIN_TOKEN: 'env-token' } }).config.http.adminToken).toBe('env-token');
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ http: { adminToken: '  ' } }));
    expect(loadConfig({ cwd: dir, env: { INGESTOR_ADMIN_TOKEN: '' } }).config.http).not.toHaveProperty('adminToken');
  });
});
