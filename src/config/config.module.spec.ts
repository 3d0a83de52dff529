import { Inject, Injectable, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AppConfigModule } from './config.module';
import { APP_CONFIG, type AppConfig } from './config.types';
import { loadConfig } from './load-config';

const emptyDir = mkdtempSync(join(tmpdir(), 'meshcore-config-module-'));
afterAll(() => rmSync(emptyDir, { recursive: true, force: true }));

@Injectable()
class NeedsConfig {
  constructor(@Inject(APP_CONFIG) readonly config: AppConfig) {}
}

/** A feature module that does not import AppConfigModule: the config must reach it anyway (global). */
@Module({ providers: [NeedsConfig], exports: [NeedsConfig] })
class FeatureModule {}

describe('AppConfigModule', () => {
  it('provides the loaded config as APP_CONFIG and through ConfigService, globally', async () => {
    const { config } = loadConfig({ cwd: emptyDir, env: { PORT: '9123', DB_PATH: '/x/meshcore.db' } });
    const moduleRef = await Test.createTestingModule({ imports: [AppConfigModule.forRoot(config), FeatureModule] }).compile();
    try {
      expect(moduleRef.get(APP_CONFIG)).toBe(config);
      expect(moduleRef.get(NeedsConfig).config).toBe(config);

      const configService = moduleRef.get(ConfigService);
      expect(configService.get<number>('http.port')).toBe(9123);
      expect(configService.get<string>('dbPath')).toBe('/x/meshcore.db');
      expect(configService.get<string>('mqttSources.0.name')).toBe('local');
    } finally {
      await moduleRef.close();
    }
  });

  it('ConfigService does not let process.env shadow a config key', async () => {
    const { config } = loadConfig({ cwd: emptyDir, env: {} });
    process.env.dbPath = '/shadow.db';
    try {
      const moduleRef = await Test.createTestingModule({ imports: [AppConfigModule.forRoot(config)] }).compile();
      expect(moduleRef.get(ConfigService).get('dbPath')).toBe('data/meshcore.db');
      await moduleRef.close();
    } finally {
      delete process.env.dbPath;
    }
  });
});
