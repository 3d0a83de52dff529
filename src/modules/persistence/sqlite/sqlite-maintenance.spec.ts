import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from './open-database';
import { checkAutoVacuum, checkpointWal, runIncrementalVacuum } from './sqlite-maintenance';
import { openPlain, TempDirs } from './testing/sqlite-test-helpers';

describe('connection-level maintenance (§5.2)', () => {
  const tempDirs = new TempDirs();
  afterEach(() => tempDirs.removeAll());

  /** An auto_vacuum=NONE database with holes in the observers rowids (deleted rows). */
  async function legacyNoneDatabase(): Promise<string> {
    const dbPath = path.join(await tempDirs.create(), 'none.db');
    const db = openPlain(dbPath);
    db.exec(`CREATE TABLE observers (id TEXT PRIMARY KEY, name TEXT, iata TEXT, last_seen TEXT, first_seen TEXT)`);
    const insert = db.prepare(`INSERT INTO observers (id, name) VALUES (?, ?)`);
    for (let i = 0; i < 500; i += 1) insert.run(`obs-${i}`, `name-${i % 7}`);
    db.exec(`DELETE FROM observers WHERE rowid % 3 = 0`);
    db.close();
    return dbPath;
  }

  it('reports INCREMENTAL on a fresh database and does nothing', async () => {
    const opened = await openDatabase(path.join(await tempDirs.create(), 'fresh.db'));
    const lines: string[] = [];
    try {
      expect(checkAutoVacuum(opened.connection, true, (line) => lines.push(line))).toEqual({ modeBefore: 2, vacuumed: false });
      expect(lines).toEqual(['[db] auto_vacuum=INCREMENTAL']);
      runIncrementalVacuum(opened.connection, 1024);
      expect(checkpointWal(opened.connection)).toMatchObject({ busy: false });
    } finally {
      await opened.close();
    }
  });

  it('only warns on a NONE database without vacuumOnStartup', async () => {
    const opened = await openDatabase(await legacyNoneDatabase());
    const lines: string[] = [];
    try {
      expect(checkAutoVacuum(opened.connection, false, (line) => lines.push(line))).toEqual({ modeBefore: 0, vacuumed: false });
      expect(lines[0]).toMatch(/^\[db\] auto_vacuum=NONE — DB needs one-time VACUUM/);
      expect(opened.connection.pragma('auto_vacuum', { simple: true })).toBe(0);
    } finally {
      await opened.close();
    }
  });

  it('with vacuumOnStartup switches to INCREMENTAL and keeps observers rowids (observer_idx references them)', async () => {
    const opened = await openDatabase(await legacyNoneDatabase());
    try {
      const rowidsBefore = opened.connection.prepare(`SELECT rowid, id FROM observers ORDER BY id`).all();
      await opened.asyncMigrations.whenSettled();
      expect(checkAutoVacuum(opened.connection, true)).toEqual({ modeBefore: 0, vacuumed: true });
      expect(opened.connection.pragma('auto_vacuum', { simple: true })).toBe(2);
      expect(opened.connection.prepare(`SELECT rowid, id FROM observers ORDER BY id`).all()).toEqual(rowidsBefore);
    } finally {
      await opened.close();
    }
  });
});
