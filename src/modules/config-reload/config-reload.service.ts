import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { ConfigError } from '../../config/config.errors';
import { APP_CONFIG, type AppConfig } from '../../config/config.types';
import { loadConfig, type LoadedConfig } from '../../config/load-config';
import { MaintenanceService } from '../maintenance/maintenance.service';
import { changedConfigKeys, isLiveKey, withLiveKeys } from './config-diff';

/** Reads the config again; tests swap it. Default: the file the service started with, and the process env. */
export const CONFIG_RELOADER = Symbol('CONFIG_RELOADER');
export type ConfigReloader = (configPath: string) => LoadedConfig;

export type ReloadTrigger = 'SIGHUP' | 'api';

export interface ReloadOutcome {
  readonly ok: boolean;
  /** The first problem in the file, naming the key (the running schedules are kept). */
  readonly error?: string;
  /** Jobs that got new timers. */
  readonly rescheduled: string[];
  /** Changed keys applied without a restart. */
  readonly applied: string[];
  /** Changed keys that only take effect after a restart. */
  readonly needsRestart: string[];
}

/**
 * SIGHUP and POST /api/maintenance/reload: re-read and validate the config file, hand the keys that can change
 * live (schedules and the maintenance jobs' parameters) to the maintenance service, and name the ones that need
 * a restart. MQTT sessions, the ingest writer and runs in flight are not touched; an invalid file changes nothing.
 */
@Injectable()
export class ConfigReloadService {
  private readonly logger = new Logger('Config');
  /** What runs now: the start-up config with the live keys of every applied reload. */
  private running: AppConfig;
  private readonly reader: ConfigReloader;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly maintenance: MaintenanceService,
    @Optional() @Inject(CONFIG_RELOADER) reader?: ConfigReloader,
  ) {
    this.running = config;
    this.reader = reader ?? ((configPath) => loadConfig({ configPath }));
  }

  reload(trigger: ReloadTrigger): ReloadOutcome {
    const { configPath } = this.running;
    let loaded: LoadedConfig;
    try {
      loaded = this.reader(configPath);
    } catch (error) {
      const message = error instanceof ConfigError ? error.message : `config: ${(error as Error).message}`;
      this.logger.error(`reload (${trigger}) failed, the running configuration stays: ${message}`);
      return { ok: false, error: message, rescheduled: [], applied: [], needsRestart: [] };
    }
    if (this.running.configFileFound && !loaded.config.configFileFound) {
      // Defaults in place of a file that went away would silently undo the operator's schedules.
      const message = `config: ${configPath} is gone; the running configuration stays`;
      this.logger.error(`reload (${trigger}) failed: ${message}`);
      return { ok: false, error: message, rescheduled: [], applied: [], needsRestart: [] };
    }
    for (const warning of loaded.warnings) this.logger.warn(warning);

    const changed = changedConfigKeys(this.running, loaded.config);
    const applied = changed.filter(isLiveKey);
    const needsRestart = changed.filter((key) => !isLiveKey(key));
    this.running = withLiveKeys(this.running, loaded.config);
    const rescheduled = this.maintenance.applyConfig(this.running);

    this.logger.log(
      `reloaded ${configPath} (${trigger}): ${applied.length > 0 ? `applied ${applied.join(', ')}` : 'nothing to apply'}` +
        (rescheduled.length > 0 ? `; rescheduled ${rescheduled.join(', ')}` : ''),
    );
    if (needsRestart.length > 0) this.logger.warn(`config: changed, needs a restart: ${needsRestart.join(', ')}`);
    return { ok: true, rescheduled, applied, needsRestart };
  }
}
