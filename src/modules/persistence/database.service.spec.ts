import path from 'node:path';
import { Global, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { APP_CONFIG, type AppConfig } from '../../config/config.types';
import { DatabaseService } from './database.service';
import { PersistenceModule } from './persistence.module';
import { openPlain, TempDirs } from './sqlite/testing/sqlite-test-helpers';

function configModule(config: Partial<AppConfig>) {
  @Global()
  @Module({ providers: [{ provide: APP_CONFIG, useValue: config }], exports: [APP_CONFIG] })
  class TestConfigModule {}
  return TestConfigModule;
}

describe('PersistenceModule / DatabaseService', () => {
  const tempDirs = new TempDirs();
  afterEach(() => tempDirs.removeAll());

  it('opens and migrates on init, exposes the connection, checkpoints and closes on shutdown', async () => {
    const dbPath = path.join(await tempDirs.create(), 'sub', 'app.db');
    const moduleRef = await Test.createTestingModule({
      imports: [configModule({ dbPath, db: { engine: 'sqlite', vacuumOnStartup: false, incrementalVacuumPages: 16 } }), PersistenceModule],
    }).compile();
    const service = moduleRef.get(DatabaseService);
    expect(service.isOpen).toBe(false);
    expect(() => service.connection).toThrow(/not open yet/);

    await moduleRef.init();
    expect(service.isOpen).toBe(true);
    expect(service.connection.prepare(`SELECT COUNT(*) FROM nodes`).pluck().get()).toBe(0);
    expect(service.dataSource.isInitialized).toBe(true);
    // TypeORM and the raw handle are the same single connection.
    await service.dataSource.query(`INSERT INTO client_observers (pubkey, name) VALUES ('pk', 'via typeorm')`);
    expect(service.connection.prepare(`SELECT name FROM client_observers`).pluck().get()).toBe('via typeorm');
    await service.asyncMigrations.whenIdle();
    expect(service.checkAutoVacuum()).toEqual({ modeBefore: 2, vacuumed: false });
    service.runIncrementalVacuum();
    expect(service.startDefaultScopeBackfill(false)).toBeUndefined();

    const connection = service.connection;
    await moduleRef.close();
    expect(connection.open).toBe(false);
    expect(service.isOpen).toBe(false);

    const check = openPlain(dbPath);
    expect(check.prepare(`SELECT name FROM client_observers`).pluck().get()).toBe('via typeorm');
    check.close();
  });

  it('fails init with a "db: applying schema: …" error when the schema cannot be applied', async () => {
    const dbPath = path.join(await tempDirs.create(), 'dup.db');
    const seed = openPlain(dbPath);
    seed.exec(`
      CREATE TABLE transmissions (id INTEGER PRIMARY KEY AUTOINCREMENT, raw_hex TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,
                                  first_seen TEXT NOT NULL, route_type INTEGER, payload_type INTEGER,
                                  payload_version INTEGER, decoded_json TEXT, created_at TEXT);
      CREATE TABLE observations (id INTEGER PRIMARY KEY AUTOINCREMENT, transmission_id INTEGER NOT NULL,
                                 observer_idx INTEGER, direction TEXT, snr REAL, rssi REAL, score INTEGER,
                                 path_json TEXT, timestamp INTEGER NOT NULL);
      INSERT INTO transmissions (raw_hex, hash, first_seen) VALUES ('00', 'h', 'x');
      INSERT INTO observations (transmission_id, observer_idx, timestamp) VALUES (1, 1, 1), (1, 1, 2);
    `);
    seed.close();
    const moduleRef = await Test.createTestingModule({
      imports: [configModule({ dbPath, db: { engine: 'sqlite', vacuumOnStartup: false, incrementalVacuumPages: 16 } }), PersistenceModule],
    }).compile();
    await expect(moduleRef.init()).rejects.toThrow(/^db: applying schema: canonical indexes: cannot create idx_observations_dedup/);
  });
});
