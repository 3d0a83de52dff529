import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AsyncMigrationRunner } from './async-migration-runner';
import {
  advertPubkeyOf,
  backfillDefaultScope,
  backfillFromPubkey,
  backfillPathJsonFromRawHex,
  backfillTransmissionLastSeen,
  DEFAULT_SCOPE_BACKFILL_MARKER,
  PATH_JSON_BACKFILL_MARKER,
  startDefaultScopeBackfill,
} from './background-jobs';
import { openDatabase, type OpenedDatabase } from './open-database';
import { migrationMarkers, scalar, TempDirs } from './testing/sqlite-test-helpers';

/** The chunked jobs driven directly, with chunk sizes small enough to cross several chunks. */
describe('background jobs', () => {
  const tempDirs = new TempDirs();
  let opened: OpenedDatabase;
  let runner: AsyncMigrationRunner;

  beforeEach(async () => {
    opened = await openDatabase(path.join(await tempDirs.create(), 'jobs.db'), { startBackgroundJobs: false });
    runner = opened.asyncMigrations;
  });

  afterEach(async () => {
    await opened.close();
    await tempDirs.removeAll();
  });

  function insertTransmission(id: number, payloadType: number, decodedJson: string | null, extra: Record<string, unknown> = {}): void {
    opened.connection
      .prepare(
        `INSERT INTO transmissions (id, raw_hex, hash, first_seen, payload_type, decoded_json, from_pubkey, scope_name)
         VALUES (@id, '00', @hash, @first_seen, @payload_type, @decoded_json, @from_pubkey, @scope_name)`,
      )
      .run({
        id,
        hash: `h${id}`,
        first_seen: '2025-01-01T00:00:00Z',
        payload_type: payloadType,
        decoded_json: decodedJson,
        from_pubkey: null,
        scope_name: null,
        ...extra,
      });
  }

  it('tx last_seen backfill walks sparse ids in chunks and only touches rows at 0', async () => {
    const ids = [1, 2, 3, 50, 51, 1000, 1001, 99_999];
    for (const id of ids) insertTransmission(id, 2, null);
    opened.connection.exec(`UPDATE transmissions SET last_seen = 777 WHERE id = 3`);
    const insertObs = opened.connection.prepare(`INSERT INTO observations (transmission_id, observer_idx, timestamp) VALUES (?, ?, ?)`);
    for (const id of ids.filter((id) => id !== 51)) {
      insertObs.run(id, 1, id * 10);
      insertObs.run(id, 2, id * 10 + 5);
    }

    let updated = 0;
    await runner.runTracked('last_seen', async (context) => {
      updated = await backfillTransmissionLastSeen(context, { chunkSize: 3 });
    });

    expect(updated).toBe(6);
    expect(opened.connection.prepare(`SELECT id, last_seen FROM transmissions ORDER BY id`).all()).toEqual([
      { id: 1, last_seen: 15 },
      { id: 2, last_seen: 25 },
      { id: 3, last_seen: 777 },
      { id: 50, last_seen: 505 },
      { id: 51, last_seen: 0 },
      { id: 1000, last_seen: 10_005 },
      { id: 1001, last_seen: 10_015 },
      { id: 99_999, last_seen: 999_995 },
    ]);
  });

  it('path_json backfill crosses batch boundaries and is not stopped by a row it cannot write', async () => {
    insertTransmission(1, 4, null);
    const raw = '0142AABBCCDD00';
    const insertObs = opened.connection.prepare(
      `INSERT INTO observations (transmission_id, observer_idx, timestamp, raw_hex, path_json) VALUES (1, ?, ?, ?, ?)`,
    );
    for (let i = 1; i <= 7; i += 1) insertObs.run(i, i, raw, null);
    // Observer 8 already holds the derived path, so filling row 9 (observer 8, NULL path) collides with the
    // unique dedup index: the write fails, the loop must still finish.
    insertObs.run(8, 8, raw, '["AABB","CCDD"]');
    insertObs.run(8, 9, raw, null);
    const logLines: string[] = [];
    const logRunner = new AsyncMigrationRunner(opened.connection, (line) => logLines.push(line));

    let result: Awaited<ReturnType<typeof backfillPathJsonFromRawHex>> | undefined;
    await logRunner.runTracked('path_json', async (context) => {
      result = await backfillPathJsonFromRawHex(context, { chunkSize: 3, pauseMs: 1 });
    });

    expect(result).toEqual({ skipped: false, rowsWritten: 7, markerRecorded: true });
    expect(scalar(opened.connection, `SELECT COUNT(*) FROM observations WHERE path_json = '["AABB","CCDD"]'`)).toBe(8);
    expect(scalar(opened.connection, `SELECT path_json FROM observations WHERE observer_idx = 8 AND timestamp = 9`)).toBeNull();
    expect(logLines.some((line) => /^\[backfill\] write error \(id=9\): .*UNIQUE/.test(line))).toBe(true);
    expect(logRunner.backfillUpdateCounts()).toEqual({ path_json: 7 });
    expect(migrationMarkers(opened.connection)).toContain(PATH_JSON_BACKFILL_MARKER);

    // Marker recorded → the next run is skipped outright.
    await logRunner.runTracked('again', async (context) => {
      result = await backfillPathJsonFromRawHex(context);
    });
    expect(result).toEqual({ skipped: true, rowsWritten: 0, markerRecorded: false });
  });

  it('from_pubkey backfill fills ADVERTs chunk by chunk, with the \'\' sentinel', async () => {
    for (let id = 1; id <= 7; id += 1) insertTransmission(id, 4, JSON.stringify({ type: 'ADVERT', pubKey: `pk${id}` }));
    insertTransmission(8, 4, '{broken');
    insertTransmission(9, 4, JSON.stringify({ type: 'ADVERT' }));
    insertTransmission(10, 4, JSON.stringify({ type: 'ADVERT', pubKey: 'keep' }), { from_pubkey: 'already' });
    insertTransmission(11, 5, JSON.stringify({ type: 'CHAN', pubKey: 'not-an-advert' }));

    let updated = 0;
    await runner.runUntracked('from_pubkey', async (context) => {
      updated = await backfillFromPubkey(context, { chunkSize: 2, pauseMs: 1 });
    });

    expect(updated).toBe(9);
    expect(opened.connection.prepare(`SELECT from_pubkey FROM transmissions ORDER BY id`).pluck().all()).toEqual([
      'pk1', 'pk2', 'pk3', 'pk4', 'pk5', 'pk6', 'pk7', '', '', 'already', null,
    ]);

    // Nothing left: a later boot's run is a single COUNT.
    await runner.runUntracked('from_pubkey again', async (context) => {
      updated = await backfillFromPubkey(context);
    });
    expect(updated).toBe(0);
  });

  it('advertPubkeyOf reads pubKey or returns the sentinel', () => {
    expect(advertPubkeyOf('{"pubKey":"abc"}')).toBe('abc');
    expect(advertPubkeyOf('{"pubKey":5}')).toBe('');
    expect(advertPubkeyOf('[1,2]')).toBe('');
    expect(advertPubkeyOf('null')).toBe('');
    expect(advertPubkeyOf('nope')).toBe('');
    expect(advertPubkeyOf(null)).toBe('');
  });

  describe('default_scope backfill (§5.3)', () => {
    beforeEach(() => {
      const db = opened.connection;
      db.exec(`INSERT INTO nodes (public_key, name) VALUES ('n1', 'one'), ('n2', 'two'), ('n3', 'three')`);
      db.exec(`UPDATE nodes SET default_scope = 'untouched' WHERE public_key = 'n3'`);
      insertTransmission(1, 4, null, { from_pubkey: 'n1', scope_name: 'old-region', first_seen: '2025-01-01T00:00:00Z' });
      insertTransmission(2, 4, null, { from_pubkey: 'n1', scope_name: 'new-region', first_seen: '2025-03-01T00:00:00Z' });
      insertTransmission(3, 4, null, { from_pubkey: 'n1', scope_name: '', first_seen: '2025-04-01T00:00:00Z' });
      insertTransmission(4, 4, null, { from_pubkey: 'n2', scope_name: null, first_seen: '2025-04-01T00:00:00Z' });
      insertTransmission(5, 5, null, { from_pubkey: 'n3', scope_name: 'not-an-advert' });
    });

    it('does nothing without region keys', () => {
      expect(backfillDefaultScope(opened.connection, false)).toEqual({ ran: false, nodesUpdated: 0 });
      expect(startDefaultScopeBackfill(runner, false)).toBeUndefined();
      expect(migrationMarkers(opened.connection)).not.toContain(DEFAULT_SCOPE_BACKFILL_MARKER);
    });

    it('sets the newest non-empty ADVERT scope, once, and counts one update', async () => {
      await expect(startDefaultScopeBackfill(runner, true)).resolves.toBe('done');
      expect(opened.connection.prepare(`SELECT public_key, default_scope FROM nodes ORDER BY public_key`).all()).toEqual([
        { public_key: 'n1', default_scope: 'new-region' },
        { public_key: 'n2', default_scope: null },
        { public_key: 'n3', default_scope: 'untouched' },
      ]);
      expect(migrationMarkers(opened.connection)).toContain(DEFAULT_SCOPE_BACKFILL_MARKER);
      expect(runner.backfillUpdateCounts()).toEqual({ default_scope: 1 });

      opened.connection.exec(`UPDATE nodes SET default_scope = NULL`);
      expect(backfillDefaultScope(opened.connection, true)).toEqual({ ran: false, nodesUpdated: 0 });
      expect(scalar(opened.connection, `SELECT default_scope FROM nodes WHERE public_key = 'n1'`)).toBeNull();
    });
  });
});
