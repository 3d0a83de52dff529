import { Logger } from '@nestjs/common';
import { createInterface } from 'node:readline';
import { AppLogger } from '../common/logging/app-logger';
import { createExplicitKeysContext } from '../modules/decoder/decode-context';
import { DecoderService } from '../modules/decoder/decoder.service';
import { DecodeContext } from '../modules/decoder/decoder.types';
import { ingestVerdict } from '../modules/decoder/ingest-verdict';
import { decodePacket } from '../modules/decoder/packet-decoder';
import { parseCommandArgs, UsageError } from './cli-args';
import { loadConfigOrExit } from './load-config';

function parseChannelKeys(text: string): Record<string, string> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--channel-keys is not valid JSON: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UsageError('--channel-keys must be a JSON object of channel name → hex key');
  }
  for (const [name, key] of Object.entries(value)) {
    if (typeof key !== 'string') throw new UsageError(`--channel-keys: key of "${name}" must be a string`);
  }
  return value as Record<string, string>;
}

/** One output line per input, as documented in the README. */
export function decodeLine(raw: string, context: DecodeContext): string {
  const outcome = decodePacket(raw, context);
  if (!outcome.ok) return JSON.stringify({ hash: outcome.hash, error: outcome.error, ingest: 'rejected' });
  const p = outcome.packet;
  return JSON.stringify({
    hash: p.hash,
    route_type: p.routeType,
    payload_type: p.payloadType,
    payload_version: p.payloadVersion,
    decoded_json: p.decodedJson,
    path_json: p.pathJson,
    channel_hash: p.channelHash,
    from_pubkey: p.fromPubkey,
    ingest: ingestVerdict(outcome, context),
  });
}

/**
 * `meshcore-ingestor decode [--channel-keys JSON] [--no-verify-signatures] [--config FILE] [HEX...]`
 * Offline: reads hex packets from the arguments or stdin (one per line), writes JSON lines.
 */
export async function runDecodeCommand(argv: readonly string[]): Promise<void> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      'channel-keys': { type: 'string' },
      'no-verify-signatures': { type: 'boolean' },
      config: { type: 'string' },
    },
    true,
  );
  const explicitKeys = values['channel-keys'] !== undefined ? parseChannelKeys(values['channel-keys']) : undefined;
  const loaded = loadConfigOrExit(values.config);
  if (!loaded) return;
  const { config } = loaded;
  // stdout carries the results; every log line goes to stderr.
  Logger.overrideLogger(new AppLogger({ format: config.log.format, level: 'warn', stderrOnly: true }));
  const validateSignatures = values['no-verify-signatures'] ? false : config.validateSignatures;
  const production = new DecoderService(config).context;
  const context: DecodeContext = explicitKeys
    ? createExplicitKeysContext(explicitKeys, { validateSignatures, regionKeys: production.regionKeys })
    : { ...production, validateSignatures };

  const out: string[] = [];
  const flush = () => {
    if (out.length) process.stdout.write(out.join('\n') + '\n');
    out.length = 0;
  };
  if (positionals.length > 0) {
    for (const raw of positionals) out.push(decodeLine(raw, context));
    flush();
    return;
  }
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue; // blank lines (e.g. a trailing newline) are not packets
    out.push(decodeLine(line, context));
    if (out.length >= 256) flush();
  }
  flush();
}
