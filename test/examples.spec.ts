import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load-config';

const examples = resolve(__dirname, '..', 'examples');

describe('examples/', () => {
  const folders = readdirSync(examples, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);

  // compose.yaml gives the PostgreSQL replicas their URL (with the password) through the env.
  const env = { INGESTOR_DB_URL: 'postgres://meshcore:change-me@postgres:5432/meshcore' };

  it('has the three ways people run this, and the PostgreSQL replicas of compose.yaml', () => {
    expect(folders.sort()).toEqual(['beside-corescope', 'postgres-replicas', 'several-brokers', 'single-box']);
  });

  it.each(folders)('%s/config.json loads and validates without unknown keys', (folder) => {
    const { config, warnings } = loadConfig({ configPath: join(examples, folder, 'config.json'), env });
    expect(warnings).toEqual([]);
    expect(config.mqttSources.length).toBeGreaterThan(0);
  });

  it('single-box ingests from its embedded broker only; beside-corescope names the server keys it shares the file with', () => {
    const single = loadConfig({ configPath: join(examples, 'single-box/config.json'), env: {} }).config;
    expect(single.mqttSources.map((s) => s.name)).toEqual(['embedded']);
    const beside = loadConfig({ configPath: join(examples, 'beside-corescope/config.json'), env: {} });
    expect(beside.config.dbPath).toBe('/app/data/meshcore.db');
    expect(beside.notices.join('\n')).toMatch(/CoreScope server keys, not used by the ingestor: port, defaultRegion, mapDefaults/);
  });

  it('postgres-replicas: two replicas on PostgreSQL, one share group, a client id each', () => {
    const replicas = ['config.json', 'replica-2.json'].map((file) => loadConfig({ configPath: join(examples, 'postgres-replicas', file), env }));
    for (const { warnings, config } of replicas) {
      expect(warnings).toEqual([]);
      expect(config.db.engine).toBe('postgres');
      expect(config.mqttSources.map((s) => [s.qos, s.shareGroup])).toEqual([[1, 'meshcore-ingestors']]);
    }
    expect(new Set(replicas.map(({ config }) => config.mqttSources[0].clientId)).size).toBe(2);
  });
});
