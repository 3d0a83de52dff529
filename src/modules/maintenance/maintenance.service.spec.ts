import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Logger } from '@nestjs/common';
import { ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AppConfigModule } from '../../config/config.module';
import type { AppConfig } from '../../config/config.types';
import { DatabaseService } from '../persistence/database.service';
import { openPlain } from '../persistence/sqlite/testing/sqlite-test-helpers';
import { MaintenanceModule } from './maintenance.module';
import { REFERENCE_SCHEDULES } from '../../config/maintenance-schedules';
import { MaintenanceService } from './maintenance.service';
import { multibyteSnapshotPath } from './multibyte-capability.persister';
import { pruneRequestDirectory } from './prune-request.queue';
import {
  countRows,
  insertClientReception,
  insertDroppedPacket,
  insertMetrics,
  insertNode,
  insertObservation,
  insertObserver,
  insertTransmission,
  key,
  testConfig,
} from './testing/maintenance-fixtures';

const NOW = Date.parse('2026-07-18T12:00:00Z');
const DAY = 86_400_000;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const daysAgo = (days: number) => `${new Date(NOW - days * DAY).toISOString().slice(0, 19)}Z`;
const clock = { now: () => NOW };

let dirs: string[] = [];
const opened: DatabaseService[] = [];

async function tempDbPath(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'meshcore-maintenance-service-'));
  dirs.push(dir);
  return path.join(dir, 'meshcore.db');
}

/** A DatabaseService on a fresh file, opened (and its async migrations done) with real timers. */
async function openDatabaseService(config: AppConfig): Promise<DatabaseService> {
  const quiet = vi.spyOn(Logger.prototype, 'log').mockImplementation(() => {}); // migration chatter
  try {
    const database = new DatabaseService(config);
    await database.onModuleInit();
    await database.asyncMigrations.whenIdle();
    opened.push(database);
    return database;
  } finally {
    quiet.mockRestore();
  }
}

/** Collects what the service logs, in order, whatever the level. */
function captureLogs(): string[] {
  const lines: string[] = [];
  for (const level of ['log', 'warn', 'error', 'debug'] as const) {
    vi.spyOn(Logger.prototype, level).mockImplementation(function (this: Logger, message: unknown) {
      lines.push(String(message));
    });
  }
  return lines;
}

/** One real event-loop turn (setImmediate is not faked): lets async job bodies make progress. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
async function turns(count = 10): Promise<void> {
  for (let i = 0; i < count; i += 1) await turn();
}

/** Turns the event loop until `done()` holds (file I/O completes on libuv's pool, not on a fixed turn). */
async function until(done: () => boolean | Promise<boolean>, limitMs = 5_000): Promise<void> {
  const deadline = performance.now() + limitMs;
  while (!(await done())) {
    if (performance.now() > deadline) throw new Error('condition not reached');
    await turn();
  }
}

afterEach(async () => {
  vi.useRealTimers();
  for (const database of opened.splice(0)) await database.close(); // while the test's log capture still mutes it
  vi.restoreAllMocks();
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  dirs = [];
});

describe('runStartupJobs (§7.1 steps 7, 9, 14)', () => {
  it('soft-deletes the blacklist, checks auto_vacuum, then runs every retention job in order', async () => {
    const config = testConfig({
      dbPath: await tempDbPath(),
      observerBlacklist: ['badobserver'],
      retention: { nodeDays: 7, observerDays: 14, metricsDays: 30, packetDays: 5, clientRxDays: 7 },
    });
    const database = await openDatabaseService(config);
    const db = database.connection;
    insertObserver(db, { id: 'BadObserver', lastSeen: daysAgo(0) });
    insertObserver(db, { id: 'stale', lastSeen: daysAgo(20) });
    insertNode(db, { publicKey: 'stale-node', lastSeen: daysAgo(8) });
    insertMetrics(db, 'fresh-observer', daysAgo(31));
    insertDroppedPacket(db, '2026-01-01 00:00:00');
    const oldTx = insertTransmission(db, { hash: 'old', firstSeen: daysAgo(6) });
    insertObservation(db, { transmissionId: oldTx, timestamp: 1 });
    insertClientReception(db, 'rx', 'aa', daysAgo(8));
    const lines = captureLogs();

    new MaintenanceService(database, config, new SchedulerRegistry(), clock).runStartupJobs();

    expect(lines).toEqual([
      '[observer-blacklist] soft-deleted 1 blacklisted observer(s)',
      '[db] auto_vacuum=INCREMENTAL',
      'Moved 1 node(s) to inactive_nodes (not seen in 7 days)',
      'Marked 1 observer(s) as inactive (not seen in 14 days)',
      '[metrics] Pruned 1 rows older than 30 days',
      'Pruned 1 dropped packet(s) older than 30 days',
      '[prune] deleted 1 transmissions older than 5 days',
      '[prune] deleted 1 client_receptions older than 7 days',
    ]);
    expect(countRows(db, 'observers', 'inactive = 1')).toBe(2);
    for (const table of ['nodes', 'observer_metrics', 'dropped_packets', 'transmissions', 'observations', 'client_receptions']) {
      expect(countRows(db, table)).toBe(0);
    }
  });

  it('leaves packets and client receptions alone when their retention is disabled', async () => {
    const config = testConfig({ dbPath: await tempDbPath() });
    const database = await openDatabaseService(config);
    insertTransmission(database.connection, { hash: 'ancient', firstSeen: daysAgo(900) });
    insertClientReception(database.connection, 'rx', 'aa', daysAgo(900));
    captureLogs();
    new MaintenanceService(database, config, new SchedulerRegistry(), clock).runStartupJobs();
    expect(countRows(database.connection, 'transmissions')).toBe(1);
    expect(countRows(database.connection, 'client_receptions')).toBe(1);
  });

  it('logs a failing job on one line and still runs the next ones', async () => {
    const config = testConfig({ dbPath: await tempDbPath() });
    const database = await openDatabaseService(config);
    insertNode(database.connection, { publicKey: 'stale-node', lastSeen: daysAgo(30) });
    insertMetrics(database.connection, 'o', daysAgo(31));
    database.connection.exec(`CREATE TRIGGER no_moves BEFORE DELETE ON nodes BEGIN SELECT RAISE(ABORT, 'moves are off'); END`);
    const lines = captureLogs();
    new MaintenanceService(database, config, new SchedulerRegistry(), clock).runStartupJobs();
    expect(lines).toContain('[maintenance] start-up MoveStaleNodes failed: moves are off');
    expect(lines).toContain('[metrics] Pruned 1 rows older than 30 days');
    expect(countRows(database.connection, 'inactive_nodes')).toBe(0); // the move rolled back as a whole
  });

  it('TestIngestorVacuumOnStartupMigratesNONEtoINCREMENTAL', async () => {
    const dbPath = await tempDbPath();
    const legacy = openPlain(dbPath);
    legacy.pragma('auto_vacuum = NONE');
    legacy.exec(`CREATE TABLE leftover (x TEXT); INSERT INTO leftover VALUES ('kept');`);
    legacy.close();
    const config = testConfig({ dbPath, db: { engine: 'sqlite', vacuumOnStartup: true, incrementalVacuumPages: 1024 } });
    const database = await openDatabaseService(config);
    expect(database.connection.pragma('auto_vacuum', { simple: true })).toBe(0);
    const lines = captureLogs();

    new MaintenanceService(database, config, new SchedulerRegistry(), clock).runStartupJobs();

    expect(database.connection.pragma('auto_vacuum', { simple: true })).toBe(2);
    expect(database.connection.prepare(`SELECT x FROM leftover`).pluck().get()).toBe('kept');
    expect(lines.some((line) => line.startsWith('[db] auto_vacuum=NONE'))).toBe(true);
  });
});

describe('startSchedules / stopSchedules (§5.1)', () => {
  async function scheduledService(overrides: Partial<AppConfig> = {}) {
    const config = testConfig({ dbPath: await tempDbPath(), ...overrides });
    const database = await openDatabaseService(config);
    const registry = new SchedulerRegistry();
    const lines = captureLogs();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const service = new MaintenanceService(database, config, registry, clock);
    return { service, registry, database, db: database.connection, lines };
  }

  const BASE_INTERVALS = [
    'maintenance:nodeRetention',
    'maintenance:observerRetention',
    'maintenance:metricsRetention',
    'maintenance:walCheckpoint',
    'maintenance:neighborPrune',
    'maintenance:pruneQueue',
    'maintenance:multibytePersist',
    'maintenance:neighborBuilder',
  ];
  const FIRST_RUNS = [
    'maintenance:observerRetention:initial',
    'maintenance:walCheckpoint:initial',
    'maintenance:neighborPrune:initial',
    'maintenance:multibytePersist:initial',
  ];
  const stagger = (job: keyof typeof REFERENCE_SCHEDULES) => REFERENCE_SCHEDULES[job].initialDelayMs ?? 0;

  it('registers the reference’s jobs with the SchedulerRegistry; the builder warms up first', async () => {
    const { service, registry, lines } = await scheduledService();
    service.startSchedules();
    expect(registry.getIntervals()).toEqual(BASE_INTERVALS);
    expect(registry.getTimeouts()).toEqual(FIRST_RUNS);

    await turns();
    expect(lines).toContain('[db] WAL checkpoint scheduled every 1h');
    expect(lines).toContain('[neighbor-prune] auto-prune enabled: edges older than 5 days');
    expect(lines).toContain('[multibyte-persist] enabled (interval=5m)');
    expect(lines).toContain('[neighbor-build] enabled (interval=1m0s)');
    expect(lines.some((line) => /^\[neighbor-build\] initial build: 0 edges upserted in \S+$/.test(line))).toBe(true);

    service.startSchedules(); // idempotent: no duplicate registrations
    await service.stopSchedules();
    expect(registry.getIntervals()).toEqual([]);
    expect(registry.getTimeouts()).toEqual([]);
  });

  it('adds packet and client-RX retention only when enabled', async () => {
    const { service, registry, lines } = await scheduledService({
      retention: { nodeDays: 7, observerDays: 14, metricsDays: 30, packetDays: 3, clientRxDays: 2 },
    });
    service.startSchedules();
    expect(registry.getIntervals()).toEqual([
      ...BASE_INTERVALS.slice(0, 3),
      'maintenance:packetRetention',
      'maintenance:clientRxRetention',
      ...BASE_INTERVALS.slice(3),
    ]);
    expect(lines).toContain('[prune] auto-prune enabled: packets older than 3 days will be removed daily');
    expect(lines).toContain('[prune] auto-prune enabled: client_receptions older than 2 days will be removed daily');
    await service.stopSchedules();
  });

  it('runs each job on its stagger and period, and nothing after stop', async () => {
    const { service, db } = await scheduledService({
      schedules: { ...testConfig().schedules, nodeRetention: { enabled: true, timing: { kind: 'every', everyMs: 30 * MINUTE }, initialDelayMs: null } },
    });
    insertObserver(db, { id: 'stale', lastSeen: daysAgo(20) });
    service.startSchedules();
    await turns();

    insertNode(db, { publicKey: 'n1', lastSeen: daysAgo(10) });
    await vi.advanceTimersByTimeAsync(30 * MINUTE - 1);
    expect(countRows(db, 'nodes')).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(countRows(db, 'nodes')).toBe(0); // configured 30 min period

    // Observer retention: 90 s stagger (already passed at 30 min).
    expect(countRows(db, 'observers', 'inactive = 1')).toBe(1);
    expect(stagger('observerRetention')).toBe(90_000);

    await service.stopSchedules();
    insertNode(db, { publicKey: 'n2', lastSeen: daysAgo(10) });
    await vi.advanceTimersByTimeAsync(3 * HOUR);
    expect(countRows(db, 'nodes')).toBe(1);
  });

  it('staggers the observer retention by 90 s and the multibyte persist by 2 min', async () => {
    const { service, db, database } = await scheduledService();
    insertObserver(db, { id: 'stale', lastSeen: daysAgo(20) });
    insertNode(db, { publicKey: 'mb1' });
    const snapshot = multibyteSnapshotPath(database.connection.name);
    await mkdir(path.dirname(snapshot), { recursive: true });
    await writeFile(snapshot, JSON.stringify({ entries: [{ public_key: 'mb1', status: 'confirmed', evidence: 'advert' }] }));
    service.startSchedules();
    await turns();

    await vi.advanceTimersByTimeAsync(stagger('observerRetention') - 1);
    expect(countRows(db, 'observers', 'inactive = 1')).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(countRows(db, 'observers', 'inactive = 1')).toBe(1);

    expect(countRows(db, 'nodes', 'multibyte_sup = 2')).toBe(0);
    await vi.advanceTimersByTimeAsync(stagger('multibytePersist') - stagger('observerRetention') - 1);
    await turns();
    expect(countRows(db, 'nodes', 'multibyte_sup = 2')).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    await until(() => countRows(db, 'nodes', 'multibyte_sup = 2') === 1); // the snapshot is read with async file I/O
    await service.stopSchedules();
  });

  it('processes the prune-request queue right away', async () => {
    const { service, db, database } = await scheduledService();
    insertNode(db, { publicKey: 'outside' });
    const directory = pruneRequestDirectory(database.connection.name);
    await mkdir(directory, { recursive: true });
    await writeFile(path.join(directory, 'request-0a.json'), JSON.stringify({ id: '0a', pubkeys: ['outside'] }));
    service.startSchedules();
    // The result is written first, then the request removed: wait for both.
    await until(async () => (await readdir(directory)).join() === 'result-0a.json');
    expect(countRows(db, 'nodes')).toBe(0);
    await service.stopSchedules();
  });

  it('warms the neighbor edges up in the background and notifies listeners after each build', async () => {
    const { service, db } = await scheduledService();
    insertNode(db, { publicKey: key('bb') });
    const tx = insertTransmission(db, { hash: 'a1', firstSeen: daysAgo(0), fromPubkey: key('aa') });
    insertObservation(db, { transmissionId: tx, pathJson: '["bb"]', timestamp: NOW / 1000 });
    const refreshes = vi.fn();
    service.onNeighborEdgesBuilt(refreshes);
    service.startSchedules();
    await turns();
    expect(countRows(db, 'neighbor_edges')).toBe(1);
    expect(refreshes).toHaveBeenCalledTimes(1);

    const tx2 = insertTransmission(db, { hash: 'a2', firstSeen: daysAgo(0), fromPubkey: key('aa') });
    insertObservation(db, { transmissionId: tx2, pathJson: '["bb"]', timestamp: NOW / 1000 + 5 });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(refreshes).toHaveBeenCalledTimes(2);
    expect(db.prepare(`SELECT count FROM neighbor_edges`).pluck().get()).toBe(2);
    await service.stopSchedules();
  });
});

describe('Nest wiring', () => {
  it('resolves MaintenanceService from MaintenanceModule and stops its schedules on application shutdown', async () => {
    const config = testConfig({ dbPath: await tempDbPath() });
    captureLogs();
    const moduleRef = await Test.createTestingModule({
      imports: [AppConfigModule.forRoot(config), ScheduleModule.forRoot(), MaintenanceModule],
    }).compile();
    await moduleRef.init();
    const service = moduleRef.get(MaintenanceService);
    const registry = moduleRef.get(SchedulerRegistry);
    const database = moduleRef.get(DatabaseService);
    await database.asyncMigrations.whenIdle();

    service.runStartupJobs();
    service.startSchedules();
    await turns();
    expect(registry.getIntervals()).toContain('maintenance:neighborBuilder');

    const stop = vi.spyOn(service, 'stopSchedules');
    await moduleRef.close();
    expect(stop).toHaveBeenCalledTimes(1);
    expect(registry.getIntervals()).toEqual([]);
    expect(database.isOpen).toBe(false);
  });
});
