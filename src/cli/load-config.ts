import { ConfigError } from '../config/config.errors';
import { loadConfig, LoadedConfig } from '../config/load-config';

/**
 * Loads the config for a command. A config problem is one line on stderr and exit status 1
 * (never a stack trace); returns undefined in that case.
 */
export function loadConfigOrExit(configPath: string | undefined): LoadedConfig | undefined {
  try {
    return loadConfig({ configPath });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`meshcore-ingestor: ${err.message}\n`);
      process.exitCode = 1;
      return undefined;
    }
    throw err;
  }
}
