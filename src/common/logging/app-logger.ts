import { ConsoleLogger, LogLevel } from '@nestjs/common';
import { secretMasker } from '../masking/mask-broker-url';

const LEVEL_ORDER: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

export interface AppLoggerOptions {
  format: 'text' | 'json';
  level: 'error' | 'warn' | 'log' | 'debug' | 'verbose';
  /** Write every level to stderr (commands whose stdout is data, like `decode`). */
  stderrOnly?: boolean;
}

/** Levels at or above the configured one (Nest takes an explicit list). */
export function levelsFrom(level: AppLoggerOptions['level']): LogLevel[] {
  return LEVEL_ORDER.slice(0, LEVEL_ORDER.indexOf(level) + 1);
}

/**
 * Nest's console logger with one addition: every line goes through the secret masker, so a
 * broker password can reach no log line, whatever code produced the message.
 */
export class AppLogger extends ConsoleLogger {
  private readonly stderrOnly: boolean;

  constructor(options: AppLoggerOptions = { format: 'text', level: 'log' }) {
    const json = options.format === 'json';
    super({
      json,
      colors: !json && Boolean(process.stdout.isTTY),
      prefix: 'meshcore-ingestor',
      logLevels: levelsFrom(options.level),
    });
    this.stderrOnly = options.stderrOnly ?? false;
  }

  protected override printMessages(
    messages: unknown[],
    context?: string,
    logLevel?: LogLevel,
    writeStreamType?: 'stdout' | 'stderr',
    errorStack?: unknown,
    params?: Record<string, unknown>,
  ): void {
    super.printMessages(messages, context, logLevel, this.stderrOnly ? 'stderr' : writeStreamType, errorStack, params);
  }

  protected override formatMessage(
    logLevel: LogLevel,
    message: unknown,
    pidMessage: string,
    formattedLogLevel: string,
    contextMessage: string,
    timestampDiff: string,
    params?: Record<string, unknown>,
  ): string {
    const line = super.formatMessage(logLevel, message, pidMessage, formattedLogLevel, contextMessage, timestampDiff, params);
    return secretMasker.mask(line);
  }

  protected override stringifyJsonLogObject(logObject: Record<string, unknown>): string {
    // Mask the values, not the serialized line: inside JSON a URL runs into the closing quote.
    return super.stringifyJsonLogObject(maskStrings(logObject) as Record<string, unknown>);
  }

  protected override printStackTrace(stack: string): void {
    // Nest calls this for every error line, with undefined when there is no stack.
    super.printStackTrace(typeof stack === 'string' ? secretMasker.mask(stack) : stack);
  }
}

function maskStrings(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return secretMasker.mask(value);
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => maskStrings(v, depth + 1));
  if (value instanceof Error) {
    const masked = new Error(secretMasker.mask(value.message));
    masked.name = value.name;
    masked.stack = value.stack && secretMasker.mask(value.stack);
    return masked;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = maskStrings(v, depth + 1);
  return out;
}
