/**
 * The `schedules` block: when each periodic maintenance job runs. Defaults are the reference's fixed
 * schedule (ingestor-spec §5.1), so a config without the block behaves exactly like the Go ingestor; the
 * older `maintenance.*Interval*` keys still work as aliases.
 */
import { formatDuration } from './duration';
import type { JobSchedule, ScheduleTiming } from './config.types';

/** Config key, API name and metric label of each periodic job, in the reference's order. */
export const MAINTENANCE_JOB_NAMES = [
  'nodeRetention',
  'observerRetention',
  'metricsRetention',
  'packetRetention',
  'clientRxRetention',
  'walCheckpoint',
  'neighborPrune',
  'pruneQueue',
  'multibytePersist',
  'neighborBuilder',
] as const;

export type MaintenanceJobName = (typeof MAINTENANCE_JOB_NAMES)[number];

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

const every = (everyMs: number, initialDelayMs: number | null = null): JobSchedule => ({
  enabled: true,
  timing: { kind: 'every', everyMs },
  initialDelayMs,
});

/**
 * §5.1. `initialDelayMs` null: the first run is one period after the schedules start (the reference's
 * tickers); a number: an extra first run after that delay (the reference's staggers). The neighbor builder's
 * first run is its warm-up, started right away.
 */
export const REFERENCE_SCHEDULES: Readonly<Record<MaintenanceJobName, JobSchedule>> = {
  nodeRetention: every(1 * HOUR),
  observerRetention: every(24 * HOUR, 90 * SECOND),
  metricsRetention: every(24 * HOUR),
  packetRetention: every(24 * HOUR),
  clientRxRetention: every(24 * HOUR),
  walCheckpoint: every(1 * HOUR, 30 * SECOND),
  neighborPrune: every(24 * HOUR, 4 * MINUTE),
  pruneQueue: every(15 * SECOND, 0),
  multibytePersist: every(5 * MINUTE, 2 * MINUTE),
  neighborBuilder: every(60 * SECOND, 0),
};

/** The older period keys (`maintenance.<key>`), each the `every` of the jobs listed, in its unit. */
export const LEGACY_PERIOD_KEYS = {
  nodeRetentionIntervalMin: { unitMs: MINUTE, jobs: ['nodeRetention'] },
  dailyJobsIntervalHours: {
    unitMs: HOUR,
    jobs: ['observerRetention', 'metricsRetention', 'packetRetention', 'clientRxRetention', 'neighborPrune'],
  },
  walCheckpointIntervalMin: { unitMs: MINUTE, jobs: ['walCheckpoint'] },
  neighborBuilderIntervalSec: { unitMs: SECOND, jobs: ['neighborBuilder'] },
  pruneQueueIntervalSec: { unitMs: SECOND, jobs: ['pruneQueue'] },
  multibyteIntervalMin: { unitMs: MINUTE, jobs: ['multibytePersist'] },
} as const satisfies Record<string, { unitMs: number; jobs: readonly MaintenanceJobName[] }>;

export type LegacyPeriodKey = keyof typeof LEGACY_PERIOD_KEYS;

/** One `schedules.<job>` entry as validated (strings still as written). */
export interface JobScheduleEntry {
  readonly enabled?: boolean;
  readonly every?: string;
  readonly cron?: string;
  readonly timeZone?: string;
  readonly initialDelay?: string;
}

export interface ScheduleSources {
  readonly schedules: Partial<Record<MaintenanceJobName, JobScheduleEntry>>;
  readonly legacyPeriods: Partial<Record<LegacyPeriodKey, number>>;
  readonly parseDuration: (text: string) => number;
}

/**
 * Resolves every job's schedule: `schedules.<job>` first, then a legacy period key, then §5.1. A legacy key
 * logs a notice naming its replacement (once per key; also when the new key overrides it).
 */
export function resolveSchedules(sources: ScheduleSources, notices: string[]): Record<MaintenanceJobName, JobSchedule> {
  const legacyEvery = new Map<MaintenanceJobName, number>();
  for (const [key, periodValue] of Object.entries(sources.legacyPeriods) as [LegacyPeriodKey, number | undefined][]) {
    if (periodValue === undefined) continue;
    const { unitMs, jobs } = LEGACY_PERIOD_KEYS[key];
    const overridden = jobs.filter((job) => sources.schedules[job]?.every !== undefined || sources.schedules[job]?.cron !== undefined);
    const replacement = jobs.map((job) => `schedules.${job}.every`).join(', ');
    notices.push(
      overridden.length === jobs.length
        ? `config: maintenance.${key} is an old alias and is overridden by ${replacement}; remove it`
        : `config: maintenance.${key} is an old alias; use ${replacement} (e.g. "${formatDuration(periodValue * unitMs)}")`,
    );
    for (const job of jobs) legacyEvery.set(job, periodValue * unitMs);
  }

  const resolved = {} as Record<MaintenanceJobName, JobSchedule>;
  for (const job of MAINTENANCE_JOB_NAMES) {
    const reference = REFERENCE_SCHEDULES[job];
    const entry = sources.schedules[job] ?? {};
    const legacyMs = legacyEvery.get(job);
    let timing: ScheduleTiming;
    if (entry.cron !== undefined) {
      timing = { kind: 'cron', cron: normalizeCron(entry.cron), ...(entry.timeZone !== undefined && { timeZone: entry.timeZone }) };
    } else if (entry.every !== undefined) {
      timing = { kind: 'every', everyMs: sources.parseDuration(entry.every) };
    } else if (legacyMs !== undefined) {
      timing = { kind: 'every', everyMs: legacyMs };
    } else {
      timing = reference.timing;
    }
    resolved[job] = {
      enabled: entry.enabled ?? true,
      timing,
      initialDelayMs: entry.initialDelay !== undefined ? sources.parseDuration(entry.initialDelay) : reference.initialDelayMs,
    };
  }
  return resolved;
}

/** One space between fields: "30  3 * * *" and "30 3 * * *" are the same schedule. */
export function normalizeCron(expression: string): string {
  return expression.trim().split(/\s+/).join(' ');
}

/** A schedule as the API and the logs show it: `{every, initialDelay?}` or `{cron, timeZone?, initialDelay?}`. */
export function describeSchedule(schedule: JobSchedule): Record<string, string> {
  const { timing } = schedule;
  const shown: Record<string, string> =
    timing.kind === 'every'
      ? { every: formatDuration(timing.everyMs) }
      : { cron: timing.cron, ...(timing.timeZone !== undefined && { timeZone: timing.timeZone }) };
  if (schedule.initialDelayMs !== null) shown.initialDelay = formatDuration(schedule.initialDelayMs);
  return shown;
}

/** Same timers? (enabled is compared apart: a disabled job has none.) */
export function sameTiming(a: JobSchedule, b: JobSchedule): boolean {
  return JSON.stringify(describeSchedule(a)) === JSON.stringify(describeSchedule(b));
}
