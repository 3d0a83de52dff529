import { parseArgs, ParseArgsConfig } from 'node:util';

/** A command-line mistake: the CLI prints the message and exits with status 2. */
export class UsageError extends Error {}

/**
 * The reference ingestor takes Go-style single-dash long flags (`-config x.json`); accept them by
 * rewriting `-name` to `--name` for the long options we know.
 */
export function normalizeSingleDashFlags(argv: readonly string[], longNames: readonly string[]): string[] {
  const known = new Set(longNames);
  return argv.map((arg) => {
    const m = /^-([a-zA-Z][\w-]+)(=.*)?$/.exec(arg);
    return m && known.has(m[1]) ? `-${arg}` : arg;
  });
}

export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(
  argv: readonly string[],
  options: T,
  allowPositionals: boolean,
) {
  try {
    return parseArgs({
      args: normalizeSingleDashFlags(argv, Object.keys(options)),
      options,
      allowPositionals,
      strict: true,
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
