/**
 * Which keys of a reloaded config differ from the running one, and which of them a running service can take.
 * Key paths only, never values: a changed password shows up as `mqttSources[0].password`.
 */
import type { AppConfig } from '../../config/config.types';

/** Read at each maintenance run or by the scheduler: a reload applies them. Everything else needs a restart. */
export const LIVE_KEY_PREFIXES = ['schedules', 'retention', 'neighborEdgesMaxAgeDays', 'maintenance.deleteChunkRows', 'db.incrementalVacuumPages'] as const;

/** Bookkeeping of where the config came from, not settings. */
const NOT_SETTINGS = new Set(['configPath', 'configFileFound']);

export function isLiveKey(keyPath: string): boolean {
  return LIVE_KEY_PREFIXES.some((prefix) => keyPath === prefix || keyPath.startsWith(`${prefix}.`) || keyPath.startsWith(`${prefix}[`));
}

/**
 * Key paths whose values differ, as the operator writes them: leaf keys (an array of another length as the
 * array), a schedule as `schedules.<job>` (its resolved form has no keys of the file).
 */
export function changedConfigKeys(before: AppConfig, after: AppConfig): string[] {
  const paths = changedKeyPaths(before, after).map((path) => (path.startsWith('schedules.') ? path.split('.', 2).join('.') : path));
  return [...new Set(paths)];
}

function changedKeyPaths(before: unknown, after: unknown, prefix = ''): string[] {
  if (Object.is(before, after)) return [];
  const bothArrays = Array.isArray(before) && Array.isArray(after);
  if (bothArrays) {
    if (before.length !== after.length) return [prefix];
    return before.flatMap((item, index) => changedKeyPaths(item, after[index], `${prefix}[${index}]`));
  }
  const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    return keys
      .filter((key) => prefix !== '' || !NOT_SETTINGS.has(key))
      .flatMap((key) => changedKeyPaths(before[key], after[key], prefix === '' ? key : `${prefix}.${key}`));
  }
  return [prefix];
}

/** The running config with the live keys of `next` laid on top; the rest keeps running as it started. */
export function withLiveKeys(running: AppConfig, next: AppConfig): AppConfig {
  return {
    ...running,
    schedules: next.schedules,
    retention: next.retention,
    neighborEdgesMaxAgeDays: next.neighborEdgesMaxAgeDays,
    maintenance: { ...running.maintenance, deleteChunkRows: next.maintenance.deleteChunkRows },
    db: { ...running.db, incrementalVacuumPages: next.db.incrementalVacuumPages },
  };
}
