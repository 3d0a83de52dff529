import { UsageError } from './cli-args';
import type * as DecodeCommand from './decode.command';
import type * as ReplayCommand from './replay.command';
import type * as ServeCommand from './serve.command';

// Commands are loaded on demand: `serve` starts faster without the replay/decode code, and
// `decode` without Nest's application modules.
/* eslint-disable @typescript-eslint/no-require-imports */
const runServeCommand = (argv: readonly string[]) => (require('./serve.command') as typeof ServeCommand).runServeCommand(argv);
const runDecodeCommand = (argv: readonly string[]) => (require('./decode.command') as typeof DecodeCommand).runDecodeCommand(argv);
const runReplayCommand = (argv: readonly string[]) => (require('./replay.command') as typeof ReplayCommand).runReplayCommand(argv);
/* eslint-enable @typescript-eslint/no-require-imports */

const USAGE = `Usage: meshcore-ingestor <command> [options]

Commands:
  serve  [--config FILE]     run the ingestor (HTTP + MQTT + database); the default command
  decode [--channel-keys JSON] [--no-verify-signatures] [--config FILE] [HEX...]
                             decode raw packets (arguments, or one per stdin line) to JSON lines
  replay FILE [--config FILE]
                             ingest a JSONL capture ({"topic","payload","source"?} per line)
                             into the configured database through the live pipeline
  help                       show this text

Options accept the reference's single-dash form too (-config FILE).`;

function packageVersion(): string {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('../../package.json') as { version: string }).version;
  } catch {
    return 'dev';
  }
}

/** Entry point of the `meshcore-ingestor` command. Sets process.exitCode; never throws. */
export async function main(argv: readonly string[]): Promise<void> {
  const [first, ...rest] = argv;
  try {
    if (first === '--version' || first === '-version' || first === 'version') {
      process.stdout.write(`meshcore-ingestor ${packageVersion()}\n`);
      return;
    }
    if (first === 'help' || first === '--help' || first === '-h') {
      process.stdout.write(USAGE + '\n');
      return;
    }
    // Like the reference binary, flags alone (or nothing) mean "run the service".
    if (first === undefined || first.startsWith('-')) return await runServeCommand(argv);
    switch (first) {
      case 'serve':
        return await runServeCommand(rest);
      case 'decode':
        return await runDecodeCommand(rest);
      case 'replay':
        return await runReplayCommand(rest);
      default:
        throw new UsageError(`unknown command "${first}"`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`meshcore-ingestor: ${err.message}\n\n${USAGE}\n`);
      process.exitCode = 2;
      return;
    }
    throw err;
  }
}
