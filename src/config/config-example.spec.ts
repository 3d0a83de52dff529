import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigFileDto, describeDto, type DtoClass } from './config.schema';
import { loadConfig } from './load-config';
import { LEGACY_PERIOD_KEYS, MAINTENANCE_JOB_NAMES, REFERENCE_SCHEDULES } from './maintenance-schedules';

const examplePath = resolve(__dirname, '..', '..', 'config.example.json');

/** Every DTO key path, with "[]" marking the elements of a list of DTOs. */
function allKeyPaths(dto: DtoClass, prefix = ''): string[] {
  const { properties, nested } = describeDto(dto);
  return properties.flatMap((property) => {
    const path = `${prefix}${property}`;
    const child = nested.get(property);
    return child ? [path, ...allKeyPaths(child.type(), child.list ? `${path}[].` : `${path}.`)] : [path];
  });
}

/** Key paths present in the example, with list elements merged under "[]". */
function presentKeyPaths(value: unknown, prefix = '', into = new Set<string>()): Set<string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return into;
  for (const [key, child] of Object.entries(value)) {
    const path = `${prefix}${key}`;
    into.add(path);
    if (key === 'channelKeys') continue; // a map: its keys are data
    if (Array.isArray(child)) for (const item of child) presentKeyPaths(item, `${path}[].`, into);
    else presentKeyPaths(child, `${path}.`, into);
  }
  return into;
}

describe('config.example.json', () => {
  it('loads and validates', () => {
    const { config, notices, warnings } = loadConfig({ configPath: examplePath, env: {} });
    expect(notices).toEqual(['config: logLevel: parsed but never used by the Go ingestor either; our level is log.level']);
    expect(warnings).toEqual([]);
    expect(config.mqttSources.map((s) => [s.name, s.broker, s.qos])).toEqual([
      ['local', 'tcp://localhost:1883', 0],
      ['regional', 'ssl://mqtt.example.org:8883', 1],
    ]);
    expect(config.geoFilter?.polygon).toHaveLength(4);
    expect(config.http).toEqual({ port: 8080, host: '0.0.0.0', enabled: true, statusApi: true });
    expect(config.schedules).toEqual(REFERENCE_SCHEDULES);
  });

  it('shows every key the ingestor reads', () => {
    const example: unknown = JSON.parse(readFileSync(examplePath, 'utf8'));
    const present = presentKeyPaths(example);
    // A schedule key counts as shown when some job shows it: one entry cannot have both every and cron.
    const shownForSomeJob = (path: string) => {
      const match = /^schedules\.(\w+)\.(\w+)$/.exec(path);
      return match !== null && present.has(`schedules.${match[1]}`) && [...present].some((p) => p.endsWith(`.${match[2]}`) && p.startsWith('schedules.'));
    };
    const missing = allKeyPaths(ConfigFileDto).filter((path) => !present.has(path) && !shownForSomeJob(path));
    // Documented in comments: the bounding box (an alternative to the polygon), cron schedules and the old period aliases.
    const documentedElsewhere = [
      'geo_filter.latMin',
      'geo_filter.latMax',
      'geo_filter.lonMin',
      'geo_filter.lonMax',
      ...MAINTENANCE_JOB_NAMES.flatMap((job) => [`schedules.${job}.cron`, `schedules.${job}.timeZone`]),
      ...Object.keys(LEGACY_PERIOD_KEYS).map((key) => `maintenance.${key}`),
    ];
    expect(missing.filter((path) => !documentedElsewhere.includes(path))).toEqual([]);
  });

  it('uses the built-in defaults wherever it does not show an alternative', () => {
    const { config } = loadConfig({ configPath: examplePath, env: {} });
    const { config: defaults } = loadConfig({ configPath: join(__dirname, 'no-such-config.json'), env: {} });
    expect(config.retention).toEqual(defaults.retention);
    // workerThread, left out, lets each command choose; the example shows serve's choice.
    expect(defaults.ingest.workerThread).toBeUndefined();
    expect(config.ingest).toEqual({ ...defaults.ingest, workerThread: false });
    expect(config.watchdog).toEqual(defaults.watchdog);
    expect(config.log).toEqual(defaults.log);
    expect(config.maintenance).toEqual(defaults.maintenance);
    expect(config.ingestBufferSize).toBe(defaults.ingestBufferSize);
    expect(config.neighborEdgesMaxAgeDays).toBe(defaults.neighborEdgesMaxAgeDays);
  });

  it("is what the README's block of every key shows, without the comments", () => {
    const readme = readFileSync(resolve(__dirname, '..', '..', 'README.md'), 'utf8');
    const block = /Every key, with its default[^\n]*\n\n```json\n([\s\S]*?)\n```/.exec(readme);
    expect(block).not.toBeNull();
    const withoutComments = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.map(withoutComments);
      if (typeof value !== 'object' || value === null) return value;
      return Object.fromEntries(Object.entries(value).filter(([key]) => !key.startsWith('_comment')).map(([key, child]) => [key, withoutComments(child)]));
    };
    expect(JSON.parse(block![1])).toEqual(withoutComments(JSON.parse(readFileSync(examplePath, 'utf8'))));
  });
});

