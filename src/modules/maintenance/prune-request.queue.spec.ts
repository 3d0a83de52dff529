import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parsePruneRequest, PruneRequestQueue, pruneRequestDirectory } from './prune-request.queue';
import { SqliteMaintenanceRepository } from '../persistence/sqlite/sqlite-maintenance.repository';
import { countRows, insertNode, logSink, TestDatabases, type TestDatabase } from './testing/maintenance-fixtures';

/** Ports of prune_geofilter_test.go (ingestor-spec §5.6). */

const databases = new TestDatabases();
afterEach(() => databases.closeAll());

const COMPLETED_AT = Date.parse('2026-07-18T10:00:00.250Z');

async function queueFor(database: TestDatabase) {
  const directory = pruneRequestDirectory(database.dbPath);
  await mkdir(directory, { recursive: true });
  const sink = logSink();
  const queue = new PruneRequestQueue(new SqliteMaintenanceRepository(database.db), {
    directory,
    log: sink.log,
    now: () => COMPLETED_AT,
  });
  return { queue, directory, lines: sink.lines };
}

async function writeRequest(directory: string, fileId: string, content: unknown): Promise<void> {
  await writeFile(path.join(directory, `request-${fileId}.json`), typeof content === 'string' ? content : JSON.stringify(content));
}

describe('RunPendingPruneRequests', () => {
  it('deletes the listed nodes, writes result-<id>.json (deleted=1) and removes the request', async () => {
    const database = await databases.create();
    insertNode(database.db, { publicKey: 'outside1' });
    insertNode(database.db, { publicKey: 'inside1' });
    const { queue, directory, lines } = await queueFor(database);
    await writeRequest(directory, 'ab12', {
      id: 'ab12',
      requestedAt: '2026-07-18T09:59:00Z',
      reason: 'geofilter',
      pubkeys: ['outside1', 'not-there'],
    });

    expect(await queue.processPending()).toBe(1);

    expect(database.db.prepare(`SELECT public_key FROM nodes`).pluck().all()).toEqual(['inside1']);
    expect(await readdir(directory)).toEqual(['result-ab12.json']);
    const resultPath = path.join(directory, 'result-ab12.json');
    const text = await readFile(resultPath, 'utf8');
    expect(JSON.parse(text)).toEqual({
      id: 'ab12',
      requestedAt: '2026-07-18T09:59:00Z',
      completedAt: '2026-07-18T10:00:00.25Z',
      deleted: 1,
    });
    expect(text).toContain('\n  "deleted": 1'); // two-space indentation
    expect((await stat(resultPath)).mode & 0o777).toBe(0o644);
    expect(lines[0]).toBe('[prune-queue] processing request ab12: 2 pubkey(s) (geofilter)');
    expect(lines[1]).toMatch(/^\[prune-queue\] request ab12 deleted 1 node\(s\) in \S+$/);
  });

  it('matches keys exactly and touches only the nodes table', async () => {
    const database = await databases.create();
    insertNode(database.db, { publicKey: 'abcd' });
    insertNode(database.db, { publicKey: 'abcd' }, 'inactive_nodes');
    const { queue, directory } = await queueFor(database);
    await writeRequest(directory, '01', { id: '01', pubkeys: ['ABCD'] });
    await writeRequest(directory, '02', { id: '02', pubkeys: ['abcd'] });
    await queue.processPending();
    expect(countRows(database.db, 'nodes')).toBe(0);
    expect(countRows(database.db, 'inactive_nodes')).toBe(1);
    expect(JSON.parse(await readFile(path.join(directory, 'result-01.json'), 'utf8')).deleted).toBe(0);
    expect(JSON.parse(await readFile(path.join(directory, 'result-02.json'), 'utf8')).deleted).toBe(1);
  });

  it('is a no-op on an empty queue, and when the directory does not exist', async () => {
    const database = await databases.create();
    const { queue, directory, lines } = await queueFor(database);
    expect(await queue.processPending()).toBe(0);
    expect(await readdir(directory)).toEqual([]);

    const missing = new PruneRequestQueue(new SqliteMaintenanceRepository(database.db), {
      directory: path.join(database.dir, 'no-such-dir'),
      log: (line) => lines.push(line),
    });
    expect(await missing.processPending()).toBe(0);
    expect(lines).toEqual([]);
  });

  it.each([
    ['invalid JSON', '{"id": "ab", "pubkeys": ['],
    ['a pubkey that is not a string', { id: 'ab', pubkeys: [42] }],
    ['requestedAt that is not a time', { id: 'ab', requestedAt: 'soon', pubkeys: [] }],
  ])('deletes a request with %s and carries on', async (_case, content) => {
    const database = await databases.create();
    insertNode(database.db, { publicKey: 'n1' });
    const { queue, directory, lines } = await queueFor(database);
    await writeRequest(directory, 'aa', content);
    await writeRequest(directory, 'bb', { id: 'bb', pubkeys: ['n1'] });

    expect(await queue.processPending()).toBe(1);

    expect(await readdir(directory)).toEqual(['result-bb.json']);
    expect(lines[0]).toMatch(/^\[prune-queue\] read .*request-aa\.json failed: .* — removing$/);
    expect(countRows(database.db, 'nodes')).toBe(0);
  });

  it('refuses a request whose id is not 1-64 hex characters without deleting anything (deliberate fix)', async () => {
    const database = await databases.create();
    insertNode(database.db, { publicKey: 'n1' });
    const { queue, directory, lines } = await queueFor(database);
    await writeRequest(directory, 'x', { id: '../escape', pubkeys: ['n1'] });

    expect(await queue.processPending()).toBe(0);

    expect(await readdir(directory)).toEqual([]);
    expect(countRows(database.db, 'nodes')).toBe(1);
    expect(lines[0]).toMatch(/invalid id "\.\.\/escape" .* removing without deleting anything$/);
  });

  it('processes requests in file-name order, deleting large key lists in chunks', async () => {
    const database = await databases.create();
    const keys = Array.from({ length: 1200 }, (_, index) => `k${String(index).padStart(4, '0')}`);
    database.db.transaction(() => keys.forEach((publicKey) => insertNode(database.db, { publicKey })))();
    const { queue, directory, lines } = await queueFor(database);
    await writeRequest(directory, 'b2', { id: 'b2', reason: 'second', pubkeys: keys.slice(0, 10) });
    await writeRequest(directory, 'a1', { id: 'a1', reason: 'first', pubkeys: keys });

    expect(await queue.processPending()).toBe(2);

    expect(lines.filter((line) => line.includes('processing'))).toEqual([
      '[prune-queue] processing request a1: 1200 pubkey(s) (first)',
      '[prune-queue] processing request b2: 10 pubkey(s) (second)',
    ]);
    expect(JSON.parse(await readFile(path.join(directory, 'result-a1.json'), 'utf8')).deleted).toBe(1200);
    expect(JSON.parse(await readFile(path.join(directory, 'result-b2.json'), 'utf8')).deleted).toBe(0);
    expect(countRows(database.db, 'nodes')).toBe(0);
  });

  it('reports a failed delete in the result and still answers the request', async () => {
    const database = await databases.create();
    insertNode(database.db, { publicKey: 'n1' });
    database.db.exec(`CREATE TRIGGER keep_nodes BEFORE DELETE ON nodes BEGIN SELECT RAISE(ABORT, 'nodes are locked'); END`);
    const { queue, directory, lines } = await queueFor(database);
    await writeRequest(directory, 'cc', { id: 'cc', pubkeys: ['n1'] });

    expect(await queue.processPending()).toBe(1);

    const result = JSON.parse(await readFile(path.join(directory, 'result-cc.json'), 'utf8'));
    expect(result).toMatchObject({ id: 'cc', deleted: 0, error: 'delete batch [0:1]: nodes are locked' });
    expect(lines[1]).toMatch(/^\[prune-queue\] request cc FAILED after \S+: delete batch \[0:1\]: nodes are locked$/);
  });
});

describe('parsePruneRequest', () => {
  it('reads keys case-insensitively and defaults requestedAt to Go’s zero time', () => {
    expect(parsePruneRequest('{"ID": "ff", "Reason": "r", "PubKeys": ["a", null]}')).toEqual({
      id: 'ff',
      requestedAt: '0001-01-01T00:00:00Z',
      reason: 'r',
      pubkeys: ['a', ''],
    });
  });
});
