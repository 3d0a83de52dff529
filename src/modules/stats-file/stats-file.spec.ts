import { lstatSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppConfig } from '../../config/config.types';
import { MqttSourcePool } from '../mqtt/mqtt-source-pool.service';
import { StallWatchdog } from '../mqtt/stall-watchdog';
import { DatabaseService } from '../persistence/database.service';
import { SourceStatusRegistry } from '../source-status/source-status.registry';
import { WriterPerf } from '../persistence/writer/writer-perf';
import { IngestCounters } from '../stats/ingest-counters';
import { IngestStatsService } from '../stats/ingest-stats.service';
import { parseProcSelfIo, procIoRates } from './proc-io';
import { StatsFileService } from './stats-file.service';
import { goEncodeOrdered, writeFileAtomically } from './stats-file.writer';

const NOW = Date.parse('2026-07-18T09:47:37Z');

describe('stats file (ingestor-spec §6.1)', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'mqi-stats-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function service(path: string, writerPerf = new WriterPerf(1e9, () => {})) {
    const stats = new IngestStatsService();
    const batch = new IngestCounters();
    batch.add('tx_inserted', 3);
    batch.add('obs_inserted', 5);
    batch.add('batches_committed', 2);
    stats.commit(batch);
    const status = new SourceStatusRegistry(() => NOW);
    status.register('alpha', 'tcp://u:secret@h:1883');
    status.markConnect('alpha');
    const watchdog = new StallWatchdog({ intervalMs: 60_000, thresholdSec: 300, now: () => NOW, isConnected: () => true, emit: () => undefined });
    watchdog.register('alpha', 'tcp://u:secret@h:1883');
    const mqtt = { watchdog } as unknown as MqttSourcePool;
    const database = { isOpen: true, engine: 'sqlite', writerPerf, asyncMigrations: { backfillUpdateCounts: () => ({ path_json: 7 }) } } as unknown as DatabaseService;
    return new StatsFileService({ statsFilePath: path } as AppConfig, stats, status, mqtt, database);
  }

  it('writes the reference keys in order, masks brokers, file mode 0600, no trailing newline', () => {
    const path = join(dir, 'stats.json');
    const svc = service(path);
    svc.writeNow(NOW);
    const text = readFileSync(path, 'utf8');
    expect(text.endsWith('}')).toBe(true);
    const doc = JSON.parse(text);
    expect(Object.keys(doc).slice(0, 11)).toEqual([
      'sampledAt', 'tx_inserted', 'obs_inserted', 'tx_dupes', 'node_upserts', 'observer_upserts', 'write_errors', 'sig_drops', 'walCommits',
      'groupCommitFlushes', 'backfillUpdates',
    ]);
    expect(doc).toMatchObject({ sampledAt: '2026-07-18T09:47:37Z', tx_inserted: 3, obs_inserted: 5, groupCommitFlushes: 2, backfillUpdates: { path_json: 7 } });
    expect(doc.source_statuses[0]).toMatchObject({ name: 'alpha', broker: 'tcp://u:****@h:1883', connected: true, connectCount: 1 });
    expect(doc.source_liveness).toEqual({ alpha: { lastReceiptUnix: 0, lastMessageUnix: 0 } });
    expect(text).not.toContain('secret');
    expect('watchdogLastTickUnix' in doc).toBe(false);
    expect('writer_perf' in doc).toBe(false); // omitted while nothing has written
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('writes writer_perf per component with exactly the keys of §6.4, after procIO and before source_liveness', () => {
    const path = join(dir, 'stats.json');
    const perf = new WriterPerf(1e9, () => {});
    for (const hold of [1, 2, 3, 4, 100]) perf.record('mqtt_handler', hold === 100 ? 150 : 0.5, hold);
    perf.record('prune_packets', 0, 40);
    service(path, perf).writeNow(NOW);
    const doc = JSON.parse(readFileSync(path, 'utf8'));
    expect(Object.keys(doc.writer_perf)).toEqual(['mqtt_handler', 'prune_packets']);
    expect(doc.writer_perf.mqtt_handler).toEqual({
      count: 5,
      contention_total: 1,
      wait_ms_p50: 0.5,
      wait_ms_p95: 150,
      wait_ms_p99: 150,
      wait_ms_max: 150,
      hold_ms_p50: 3,
      hold_ms_p95: 100,
      hold_ms_p99: 100,
      hold_ms_max: 100,
    });
    const keys = Object.keys(doc);
    expect(keys.indexOf('writer_perf')).toBeLessThan(keys.indexOf('source_liveness'));
    expect(keys.indexOf('writer_perf')).toBeGreaterThan(keys.indexOf('backfillUpdates'));
  });

  it('replaces a symlink at the destination without writing through it (TestWriteStatsAtomic_SymlinkAtDestIsReplaced)', () => {
    const target = join(dir, 'target.txt');
    writeFileSync(target, 'untouched');
    const path = join(dir, 'stats.json');
    symlinkSync(target, path);
    writeFileAtomically(path, '{"a":1}');
    expect(lstatSync(path).isSymbolicLink()).toBe(false);
    expect(readFileSync(target, 'utf8')).toBe('untouched');
  });

  it('refuses a symlink planted at the temp path and leaves no temp file behind', () => {
    const path = join(dir, 'stats.json');
    const target = join(dir, 'elsewhere.txt');
    writeFileSync(target, 'untouched');
    symlinkSync(target, `${path}.tmp`);
    expect(() => writeFileAtomically(path, '{}')).toThrow(/ELOOP|symbolic/i);
    expect(readFileSync(target, 'utf8')).toBe('untouched');
  });

  it('a write failure is logged, never thrown', () => {
    const svc = service(join(dir, 'missing-dir', 'stats.json'));
    expect(() => svc.writeNow(NOW)).not.toThrow();
  });

  it('escapes HTML characters like Go and keeps key order', () => {
    expect(goEncodeOrdered({ b: '<&>', a: 1 })).toBe('{"b":"\\u003c\\u0026\\u003e","a":1}');
  });
});

describe('procIO (stats_file tests)', () => {
  const text = (read: number) => `rchar: 1\nwchar: 2\nsyscr: 10\nsyscw: 20\nread_bytes: ${read}\nwrite_bytes: 0\ncancelled_write_bytes: 0\n`;

  it('a sample is valid only if a known key parsed (Empty / NoKnownKeys / ValidSample)', () => {
    expect(parseProcSelfIo('', 0).ok).toBe(false);
    expect(parseProcSelfIo('rchar: 5\nfoo: 1', 0).ok).toBe(false);
    expect(parseProcSelfIo(text(0), 0).ok).toBe(true);
  });

  it('computes per-second rates; an invalid previous sample suppresses them (NormalPath / ZeroValuePrev)', () => {
    const a = parseProcSelfIo(text(0), 1000);
    const b = parseProcSelfIo(text(1024), 2000);
    expect(procIoRates(a, b, 'T')).toMatchObject({ readBytesPerSec: 1024, sampledAt: 'T' });
    expect(procIoRates(parseProcSelfIo('', 1000), b, 'T')).toBeUndefined();
    expect(procIoRates(undefined, b, 'T')).toBeUndefined();
    expect(procIoRates(b, b, 'T')).toBeUndefined();
  });
});
