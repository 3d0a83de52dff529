import { Logger } from '@nestjs/common';
import { existsSync } from 'node:fs';
import { SingleBar } from 'cli-progress';
import { AppLogger } from '../common/logging/app-logger';
import { applyMemoryTuning } from '../common/runtime/memory-tuning';
import { parseCommandArgs, UsageError } from './cli-args';
import { loadConfigOrExit } from './load-config';
import { formatSummary, invalidLineText, runReplay } from './replay-runner';

/** `meshcore-ingestor replay FILE [--config FILE]`: ingest a JSONL capture into the configured database. */
export async function runReplayCommand(argv: readonly string[]): Promise<void> {
  applyMemoryTuning();
  const { values, positionals } = parseCommandArgs(argv, { config: { type: 'string' } }, true);
  if (positionals.length !== 1) throw new UsageError('replay needs exactly one FILE');
  const file = positionals[0];
  if (!existsSync(file)) {
    process.stderr.write(`meshcore-ingestor: replay: no such file: ${file}\n`);
    process.exitCode = 1;
    return;
  }
  const loaded = loadConfigOrExit(values.config);
  if (!loaded) return;
  const { config } = loaded;
  const logger = new AppLogger({ format: config.log.format, level: 'warn', stderrOnly: true });
  Logger.overrideLogger(logger);
  const log = new Logger('Replay');
  for (const warning of loaded.warnings) log.warn(warning);

  const tty = Boolean(process.stderr.isTTY);
  const bar = tty ? new SingleBar({ format: 'replay [{bar}] {percentage}% | {messages} msgs | {eta_formatted} left', stream: process.stderr, hideCursor: true }) : undefined;
  bar?.start(100, 0, { messages: 0 });
  try {
    const summary = await runReplay(config, file, logger, {
      onProgress: (read, total, messages) => bar?.update(total ? Math.floor((read / total) * 100) : 100, { messages }),
      onInvalidLine: (n, reason) => log.warn(invalidLineText(n, reason)),
      onUnknownSource: (source) => log.warn(`source "${source}" is not in the config: its messages get no per-source rules (iataFilter, region)`),
    });
    bar?.stop();
    process.stdout.write(`replayed ${file} into ${config.dbPath}\n${formatSummary(summary)}\n`);
  } catch (err) {
    bar?.stop();
    process.stderr.write(`meshcore-ingestor: replay failed: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
