import type { DynamicModule, ValueProvider } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { APP_CONFIG, type AppConfig } from '../config/config.types';
import { loadConfig } from '../config/load-config';
import { ReplayModule } from './replay.module';

/** The configuration the replay module gives its providers. */
function replayConfigOf(config: AppConfig): AppConfig {
  const configModule = ReplayModule.forRoot(config).imports![0] as DynamicModule;
  const provider = configModule.providers!.find((p) => (p as ValueProvider).provide === APP_CONFIG) as ValueProvider<AppConfig>;
  return provider.useValue;
}

describe('ReplayModule', () => {
  const { config: defaults } = loadConfig({ configPath: 'no-such-config.json', env: {} });

  it('prepares in the worker thread unless ingest.workerThread says otherwise (serve defaults to one thread)', () => {
    expect(defaults.ingest.workerThread).toBeUndefined();
    expect(replayConfigOf(defaults).ingest.workerThread).toBe(true);
    for (const workerThread of [false, true]) {
      expect(replayConfigOf({ ...defaults, ingest: { ...defaults.ingest, workerThread } }).ingest.workerThread).toBe(workerThread);
    }
  });

  it('leaves the rest of the configuration as loaded', () => {
    const replayConfig = replayConfigOf(defaults);
    expect({ ...replayConfig, ingest: { ...replayConfig.ingest, workerThread: undefined } }).toEqual(defaults);
  });
});
