import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../persistence/sqlite/open-database';
import { MultibyteCapabilityPersister, multibyteSnapshotPath, parseMultibyteSnapshot } from './multibyte-capability.persister';
import { SqliteMaintenanceRepository } from '../persistence/sqlite/sqlite-maintenance.repository';
import { insertNode, logSink, TestDatabases, type TestDatabase } from './testing/maintenance-fixtures';

/** Ports of multibyte_persist_test.go (ingestor-spec §5.5). */

const databases = new TestDatabases();
afterEach(() => databases.closeAll());

async function writeSnapshot(database: TestDatabase, content: unknown): Promise<void> {
  const file = multibyteSnapshotPath(database.dbPath);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
}

function persisterFor(database: TestDatabase) {
  const sink = logSink();
  const persister = new MultibyteCapabilityPersister(new SqliteMaintenanceRepository(database.db), {
    snapshotPath: multibyteSnapshotPath(database.dbPath),
    log: sink.log,
  });
  return { persister, lines: sink.lines };
}

function capability(database: TestDatabase, table: string, publicKey: string) {
  return database.db
    .prepare(`SELECT multibyte_sup AS sup, multibyte_evidence AS evidence FROM ${table} WHERE public_key = ?`)
    .get(publicKey);
}

const ZERO_STATS = { readEntries: 0, updatedActive: 0, updatedInactive: 0, skipped: 0 };

describe('RunMultibyteCapPersist', () => {
  it('AppliesSnapshot: confirmed → nodes, suspected → inactive_nodes, unknown skipped', async () => {
    const database = await databases.create();
    insertNode(database.db, { publicKey: 'active1' });
    insertNode(database.db, { publicKey: 'inactive1' }, 'inactive_nodes');
    insertNode(database.db, { publicKey: 'keep1', multibyteSup: 2, multibyteEvidence: 'advert' });
    await writeSnapshot(database, {
      writtenAt: '2026-07-18T09:00:00Z',
      entries: [
        { public_key: 'active1', status: 'confirmed', evidence: 'advert' },
        { public_key: 'inactive1', status: 'suspected', evidence: 'path' },
        { public_key: 'keep1', status: 'unknown', evidence: '' },
      ],
    });
    const { persister, lines } = persisterFor(database);

    expect(await persister.run()).toEqual({ readEntries: 3, updatedActive: 1, updatedInactive: 1, skipped: 1 });

    expect(capability(database, 'nodes', 'active1')).toEqual({ sup: 2, evidence: 'advert' });
    expect(capability(database, 'inactive_nodes', 'inactive1')).toEqual({ sup: 1, evidence: 'path' });
    expect(capability(database, 'nodes', 'keep1')).toEqual({ sup: 2, evidence: 'advert' });
    expect(lines).toEqual([
      '[multibyte-persist] applied snapshot: 3 entries (1 skipped); updated 1 active + 1 inactive nodes',
    ]);
    // The file stays and is re-applied on the next run (idempotent).
    expect(await persister.run()).toEqual({ readEntries: 3, updatedActive: 1, updatedInactive: 1, skipped: 1 });
  });

  it('NoSnapshot_NoOp: no file → zero stats, no log', async () => {
    const database = await databases.create();
    const { persister, lines } = persisterFor(database);
    expect(await persister.run()).toEqual(ZERO_STATS);
    expect(lines).toEqual([]);
  });

  it('RoundTrip: persisted values survive closing and reopening the database', async () => {
    const database = await databases.create();
    insertNode(database.db, { publicKey: 'rt1' });
    await writeSnapshot(database, { entries: [{ public_key: 'rt1', status: 'confirmed', evidence: 'advert' }] });
    await persisterFor(database).persister.run();
    await database.opened.close();

    const reopened = await openDatabase(database.dbPath, { startBackgroundJobs: false });
    try {
      expect(reopened.connection.prepare(`SELECT multibyte_sup, multibyte_evidence FROM nodes`).get()).toEqual({
        multibyte_sup: 2,
        multibyte_evidence: 'advert',
      });
    } finally {
      await reopened.close();
    }
  });

  it('MalformedSnapshot: garbage → no error, zero stats, a "malformed" log line', async () => {
    const database = await databases.create();
    insertNode(database.db, { publicKey: 'm1' });
    await writeSnapshot(database, '{"entries": [ {"public_key": "m1", "status": "confirmed"');
    const { persister, lines } = persisterFor(database);
    expect(await persister.run()).toEqual(ZERO_STATS);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\[multibyte-persist\] malformed snapshot on disk \(no-op\): /);
    expect(capability(database, 'nodes', 'm1')).toEqual({ sup: 0, evidence: null });
  });

  it.each([
    ['entries is not a list', { entries: { public_key: 'x' } }],
    ['status is not a string', { entries: [{ public_key: 'x', status: 2 }] }],
    ['writtenAt is not a time', { writtenAt: 'yesterday', entries: [] }],
    ['the top level is a list', [1, 2]],
  ])('treats a snapshot whose %s as malformed', async (_case, content) => {
    const database = await databases.create();
    await writeSnapshot(database, content);
    const { persister, lines } = persisterFor(database);
    expect(await persister.run()).toEqual(ZERO_STATS);
    expect(lines[0]).toMatch(/malformed snapshot/);
  });

  it('reports other read failures as such', async () => {
    const database = await databases.create();
    await mkdir(multibyteSnapshotPath(database.dbPath), { recursive: true }); // a directory where the file should be
    const { persister, lines } = persisterFor(database);
    expect(await persister.run()).toEqual(ZERO_STATS);
    expect(lines[0]).toMatch(/^\[multibyte-persist\] read snapshot: .*EISDIR.* \(no-op\)$/);
  });

  it('MissingSchemaColumns: legacy schema → no writes, a "schema missing" log line', async () => {
    const database = await databases.create();
    insertNode(database.db, { publicKey: 'legacy1' });
    database.db.exec(`ALTER TABLE nodes DROP COLUMN multibyte_sup; ALTER TABLE nodes DROP COLUMN multibyte_evidence;`);
    await writeSnapshot(database, { entries: [{ public_key: 'legacy1', status: 'confirmed', evidence: 'advert' }] });
    const { persister, lines } = persisterFor(database);

    expect(await persister.run()).toEqual({ ...ZERO_STATS, readEntries: 1 });
    expect(lines).toEqual([
      '[multibyte-persist] schema missing: nodes.multibyte_sup not present on this DB (legacy schema) — skipping 1 entries',
    ]);
  });

  it('PreservesConfirmedOnUnknown: an all-unknown snapshot changes nothing', async () => {
    const database = await databases.create();
    insertNode(database.db, { publicKey: 'p1', multibyteSup: 2, multibyteEvidence: 'advert' });
    insertNode(database.db, { publicKey: 'p2', multibyteSup: 1, multibyteEvidence: 'path' }, 'inactive_nodes');
    await writeSnapshot(database, {
      entries: [
        { public_key: 'p1', status: 'unknown', evidence: '' },
        { public_key: 'p2', status: 'whatever', evidence: '' },
      ],
    });
    const { persister, lines } = persisterFor(database);

    expect(await persister.run()).toEqual({ readEntries: 2, updatedActive: 0, updatedInactive: 0, skipped: 2 });
    expect(capability(database, 'nodes', 'p1')).toEqual({ sup: 2, evidence: 'advert' });
    expect(capability(database, 'inactive_nodes', 'p2')).toEqual({ sup: 1, evidence: 'path' });
    expect(lines).toEqual([]);
  });

  it('is a no-op for an empty snapshot, even on a legacy schema', async () => {
    const database = await databases.create();
    database.db.exec(`ALTER TABLE nodes DROP COLUMN multibyte_sup`);
    await writeSnapshot(database, { writtenAt: '2026-07-18T09:00:00.5+02:00', entries: [] });
    const { persister, lines } = persisterFor(database);
    expect(await persister.run()).toEqual(ZERO_STATS);
    expect(lines).toEqual([]);
  });
});

describe('parseMultibyteSnapshot', () => {
  it('matches keys case-insensitively and fills absent fields with empty strings, like Go', () => {
    expect(parseMultibyteSnapshot('{"ENTRIES": [{"Public_Key": "k", "STATUS": "confirmed"}, null]}')).toEqual([
      { publicKey: 'k', status: 'confirmed', evidence: '' },
      { publicKey: '', status: '', evidence: '' },
    ]);
    expect(parseMultibyteSnapshot('null')).toEqual([]);
  });
});
