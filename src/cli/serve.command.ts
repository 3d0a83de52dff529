import { startService } from '../bootstrap';
import { applyMemoryTuning } from '../common/runtime/memory-tuning';
import { parseCommandArgs } from './cli-args';
import { loadConfigOrExit } from './load-config';

/** `meshcore-ingestor serve [--config FILE]`: the long-running service. */
export async function runServeCommand(argv: readonly string[]): Promise<void> {
  applyMemoryTuning();
  const { values } = parseCommandArgs(argv, { config: { type: 'string' } }, false);
  const loaded = loadConfigOrExit(values.config);
  if (!loaded) return;
  try {
    await startService(loaded.config, loaded.notices, {}, loaded.warnings);
  } catch (err) {
    // Start-up failures (database cannot be opened, port taken, …) are one clear line and exit 1.
    process.stderr.write(`meshcore-ingestor: start failed: ${(err as Error).message}\n`);
    process.exit(1);
  }
}
