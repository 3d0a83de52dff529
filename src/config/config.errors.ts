/**
 * A configuration problem the operator has to fix. The message is a single line that starts with
 * `config:` and names the offending key path, so the CLI can print it as-is and exit 1.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(
    message: string,
    /** Key path of the offending value (e.g. `mqttSources[1].topics[0]`), when there is one. */
    readonly keyPath?: string,
  ) {
    super(message);
  }
}

/** Error for a value at a key path: `config: <path> <problem>`. */
export function configValueError(keyPath: string, problem: string): ConfigError {
  return new ConfigError(`config: ${keyPath} ${problem}`, keyPath);
}
