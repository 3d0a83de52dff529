/**
 * Keys of CoreScope's shared config.json that belong to the CoreScope server (its config.example.json) or that
 * the reference ingestor reads without using. The loader names them apart from keys nobody knows, so an
 * operator pointing us at a CoreScope file sees one informational line instead of a wall of "unknown" keys.
 */

/** Top-level blocks and keys of the server. */
const SERVER_KEYS = [
  'port',
  'apiKey',
  'nodeBlacklist',
  'https',
  'branding',
  'theme',
  'nodeColors',
  'home',
  'healthThresholds',
  'defaultRegion',
  'mapDefaults',
  'regions',
  'cacheTTL',
  'liveMap',
  'timestamps',
  'packetStore',
  'resolvedPath',
  // The server's; the ingestor prunes neighbor edges by the top-level neighborEdgesMaxAgeDays (spec §1.2).
  'neighborGraph',
  'batteryThresholds',
  'cornscope_healthCheck',
  'db.load',
] as const;

const serverKeys = new Set<string>(SERVER_KEYS.map((key) => key.toLowerCase()));

/** Keys we read and accept but that change nothing here, with what to use instead. */
export const READ_BUT_UNUSED: Readonly<Record<string, string>> = {
  logLevel: 'parsed but never used by the Go ingestor either; our level is log.level',
};

/**
 * True for a dropped key path that belongs to the CoreScope server: its top-level name (or `db.load`) is one
 * of the server's, matched case-insensitively like every key. Anything below such a block is the server's too.
 */
export function isCoreScopeServerKey(keyPath: string): boolean {
  const lower = keyPath.toLowerCase();
  const top = lower.split(/[.[]/, 1)[0];
  if (serverKeys.has(top)) return true;
  return [...serverKeys].some((key) => key.includes('.') && (lower === key || lower.startsWith(`${key}.`)));
}
