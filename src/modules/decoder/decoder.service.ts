import { readFileSync } from 'node:fs';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { sanitizeLogText } from '../../common/logging/sanitize-log-text';
import { APP_CONFIG, type AppConfig } from '../../config/config.types';
import { buildChannelKeyMap } from './channel-keys';
import { createDecodeContext } from './decode-context';
import type { ChannelKeyMap, DecodeContext, DecodeOutcome } from './decoder.types';
import { decodePacket } from './packet-decoder';
import { buildRegionKeys } from './region-keys';

type RainbowLoad = { keys: Record<string, string> } | { missing: true } | { warning: string };

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The rainbow table: a JSON object of name → hex key. A missing file is not an error. */
function readRainbowFile(path: string): RainbowLoad {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { missing: true };
    return { warning: `could not read channel keys file ${path}: ${errorMessage(error)}` };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { warning: `could not parse channel keys file ${path}: ${errorMessage(error)}` };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { warning: `could not parse channel keys file ${path}: expected a JSON object of name → hex key` };
  }
  const keys: Record<string, string> = {};
  for (const [name, key] of Object.entries(parsed)) {
    if (typeof key !== 'string') {
      return { warning: `could not parse channel keys file ${path}: key of "${name}" is not a string` };
    }
    keys[name] = key;
  }
  return { keys };
}

/**
 * Nest face of the decoder: builds the production key ring (built-in Public → rainbow file →
 * hashChannels → channelKeys) and the region keys once, then decodes with them.
 */
@Injectable()
export class DecoderService {
  private readonly logger = new Logger('Decoder');
  readonly channelKeys: ChannelKeyMap;
  readonly context: DecodeContext;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    const log = (line: string, level: 'log' | 'warn' = 'log'): void => {
      if (level === 'warn') this.logger.warn(line);
      else this.logger.log(line);
    };
    const rainbow = readRainbowFile(config.channelKeysPath);
    if ('warning' in rainbow) log(rainbow.warning, 'warn');
    this.channelKeys = buildChannelKeyMap(
      {
        rainbow: 'keys' in rainbow ? rainbow.keys : undefined,
        rainbowPath: config.channelKeysPath,
        hashChannels: config.hashChannels,
        channelKeys: config.channelKeys,
      },
      log,
    );
    log(`Loaded ${this.channelKeys.size} channel keys for GRP_TXT decryption`);
    for (const [name, entry] of this.channelKeys) {
      // Like the reference, such a key is kept but skipped at decryption time; say so once.
      if (!/^[0-9a-fA-F]{32}$/.test(entry.key)) {
        log(`channel key "${sanitizeLogText(name)}" is not 32 hex characters: it can never decrypt`, 'warn');
      }
    }
    this.context = createDecodeContext(this.channelKeys, {
      validateSignatures: config.validateSignatures,
      regionKeys: buildRegionKeys(config.hashRegions, log),
    });
  }

  decode(raw: string): DecodeOutcome {
    return decodePacket(raw, this.context);
  }
}
