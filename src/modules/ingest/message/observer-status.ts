import { firstPresentNumber, roundHalfAwayFromZero, toFloat64 } from './numeric-coercion';

/** Observer metadata carried by a status message (ingestor-spec §2.4); undefined = not sent. */
export interface ObserverMeta {
  model?: string;
  firmware?: string;
  clientVersion?: string;
  radio?: string;
  batteryMv?: number;
  uptimeSecs?: number;
  noiseFloor?: number;
  txAirSecs?: number;
  rxAirSecs?: number;
  recvErrors?: number;
  packetsSent?: number;
  packetsRecv?: number;
  /** observers.can_relay (1/0) from `repeat`. */
  canRelay?: 0 | 1;
}

const TRUE_WORDS = new Set(['on', 'true', '1', 'yes']);
const FALSE_WORDS = new Set(['off', 'false', '0', 'no']);

function nonEmptyString(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function parseRepeat(v: unknown): 0 | 1 | undefined {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return v !== 0 ? 1 : 0;
  if (typeof v === 'string') {
    const word = v.trim().toLowerCase();
    if (TRUE_WORDS.has(word)) return 1;
    if (FALSE_WORDS.has(word)) return 0;
  }
  return undefined;
}

/**
 * Numeric stats live in a nested `stats` object or at top level; a key present in `stats` (even
 * null) hides the top-level one.
 */
function statNumber(msg: Record<string, unknown>, stats: Record<string, unknown> | undefined, key: string): number | undefined {
  if (stats && Object.prototype.hasOwnProperty.call(stats, key)) return toFloat64(stats[key]);
  return firstPresentNumber(msg, [key]);
}

function finite(n: number | undefined): number | undefined {
  return n !== undefined && Number.isFinite(n) ? n : undefined;
}

function statInt(msg: Record<string, unknown>, stats: Record<string, unknown> | undefined, key: string): number | undefined {
  const n = finite(statNumber(msg, stats, key));
  return n === undefined ? undefined : roundHalfAwayFromZero(n);
}

/** Returns undefined when the message carries none of the metadata fields ("meta absent"). */
export function extractObserverMeta(msg: Record<string, unknown>): ObserverMeta | undefined {
  const rawStats = msg.stats;
  const stats =
    rawStats !== null && typeof rawStats === 'object' && !Array.isArray(rawStats)
      ? (rawStats as Record<string, unknown>)
      : undefined;
  const meta: ObserverMeta = {
    model: nonEmptyString(msg.model),
    firmware: nonEmptyString(msg.firmware_version) ?? nonEmptyString(msg.firmware),
    clientVersion: nonEmptyString(msg.clientVersion) ?? nonEmptyString(msg.client_version),
    radio: nonEmptyString(msg.radio),
    batteryMv: statInt(msg, stats, 'battery_mv'),
    uptimeSecs: statInt(msg, stats, 'uptime_secs'),
    noiseFloor: finite(statNumber(msg, stats, 'noise_floor')),
    txAirSecs: statInt(msg, stats, 'tx_air_secs'),
    rxAirSecs: statInt(msg, stats, 'rx_air_secs'),
    recvErrors: statInt(msg, stats, 'recv_errors'),
    packetsSent: statInt(msg, stats, 'packets_sent'),
    packetsRecv: statInt(msg, stats, 'packets_recv'),
    canRelay: parseRepeat(msg.repeat),
  };
  return Object.values(meta).some((v) => v !== undefined) ? meta : undefined;
}
