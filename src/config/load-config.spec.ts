import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { secretMasker } from '../common/masking/mask-broker-url';
import { ConfigError } from './config.errors';
import type { AppConfig } from './config.types';
import { loadConfig, type LoadedConfig } from './load-config';
import { REFERENCE_SCHEDULES } from './maintenance-schedules';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'meshcore-config-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Writes config.json (an object is serialised, a string is written verbatim) and loads it with only `env`. */
function load(content: unknown, env: NodeJS.ProcessEnv = {}): LoadedConfig {
  writeFileSync(join(dir, 'config.json'), typeof content === 'string' ? content : JSON.stringify(content));
  return loadConfig({ cwd: dir, env });
}

function loadFile(content: unknown, env: NodeJS.ProcessEnv = {}): AppConfig {
  return load(content, env).config;
}

function loadError(content: unknown, env: NodeJS.ProcessEnv = {}): ConfigError {
  try {
    load(content, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected loadConfig to throw a ConfigError');
}

const source = (overrides: Record<string, unknown> = {}) => ({ name: 's', broker: 'tcp://b:1883', ...overrides });
const SHARE_GROUP_LEVEL = 'must not contain "/", "+" or "#" (it is one topic level of $share/<shareGroup>/<topic>),';

describe('reading the file (§1.1)', () => {
  it('loads a valid file', () => {
    const config = loadFile({ dbPath: '/tmp/test.db', mqttSources: [{ name: 's1', broker: 'tcp://localhost:1883', topics: ['meshcore/#'] }] });
    expect(config.dbPath).toBe('/tmp/test.db');
    expect(config.mqttSources).toHaveLength(1);
    expect(config.mqttSources[0].broker).toBe('tcp://localhost:1883');
    expect(config.configFileFound).toBe(true);
    expect(config.configPath).toBe(join(dir, 'config.json'));
  });

  it('accepts a UTF-8 byte order mark', () => {
    const config = loadFile('\uFEFF{"dbPath": "/tmp/bom.db", "mqttSources": [{"name": "bom", "broker": "tcp://localhost:1883"}]}');
    expect(config.dbPath).toBe('/tmp/bom.db');
    expect(config.mqttSources[0].name).toBe('bom');
  });

  it('runs on defaults with a notice when the file does not exist', () => {
    const { config, notices } = loadConfig({ cwd: dir, env: {} });
    expect(notices).toEqual([
      'config file config.json not found, using sensible defaults',
      'no MQTT sources configured, defaulting to mqtt://localhost:1883',
    ]);
    expect(config).toEqual({
      configPath: join(dir, 'config.json'),
      configFileFound: false,
      dbPath: 'data/meshcore.db',
      mqttSources: [
        {
          name: 'local',
          broker: 'tcp://localhost:1883',
          topics: ['meshcore/#'],
          iataFilter: [],
          connectTimeoutSec: 30,
          qos: 0,
          sessionExpirySec: 86400,
        },
      ],
      channelKeysPath: join(dir, 'channel-rainbow.json'),
      channelKeys: {},
      hashChannels: [],
      hashRegions: [],
      retention: { nodeDays: 7, observerDays: 14, metricsDays: 30, packetDays: 0, clientRxDays: 0 },
      metrics: { sampleIntervalSec: 300 },
      runtime: { maxMemoryMB: 0 },
      clientRxCoverage: { enabled: false },
      geoFilter: null,
      foreignAdverts: { mode: 'flag' },
      validateSignatures: true,
      db: { engine: 'sqlite', vacuumOnStartup: false, incrementalVacuumPages: 1024 },
      observerIATAWhitelist: [],
      observerBlacklist: [],
      neighborEdgesMaxAgeDays: 5,
      ingestBufferSize: 50000,
      statsFilePath: '/tmp/corescope-ingestor-stats.json',
      slowWriterMs: 500,
      http: { port: 8080, host: '0.0.0.0', enabled: true, statusApi: true },
      embeddedBroker: { enabled: false, host: '127.0.0.1', port: 1883, users: [] },
      ingest: { batchSize: 2000, flushIntervalMs: 50, highWaterMark: 10000, workerThread: undefined },
      sqlite: { cacheSizeMiB: 16, walAutocheckpointPages: 10000 },
      watchdog: { intervalSec: 60, thresholdSec: 300 },
      log: { format: 'text', level: 'log' },
      maintenance: { deleteChunkRows: 5000 },
      schedules: REFERENCE_SCHEDULES,
    } satisfies AppConfig);
  });

  it('an empty object gives the same defaults as a missing file', () => {
    const fromEmpty = load({});
    const fromMissing = loadConfig({ cwd: mkdtempSync(join(dir, 'missing-')), env: {} });
    const { configPath: _a, configFileFound, channelKeysPath: _b, ...restEmpty } = fromEmpty.config;
    const { configPath: _c, configFileFound: _d, channelKeysPath: _e, ...restMissing } = fromMissing.config;
    expect(configFileFound).toBe(true);
    expect(restEmpty).toEqual(restMissing);
    expect(fromEmpty.notices).toEqual(['no MQTT sources configured, defaulting to mqtt://localhost:1883']);
  });

  it('treats a top-level null as an empty object, like Go', () => {
    expect(loadFile('null').dbPath).toBe('data/meshcore.db');
  });

  it('resolves a relative --config path against cwd and keeps the given spelling in the notice', () => {
    mkdirSync(join(dir, 'etc'));
    writeFileSync(join(dir, 'etc', 'ingestor.json'), JSON.stringify({ dbPath: 'x.db' }));
    const { config } = loadConfig({ configPath: 'etc/ingestor.json', cwd: dir, env: {} });
    expect(config.configPath).toBe(join(dir, 'etc', 'ingestor.json'));
    expect(config.dbPath).toBe('x.db');

    const missing = loadConfig({ configPath: 'etc/nope.json', cwd: dir, env: {} });
    expect(missing.notices[0]).toBe('config file etc/nope.json not found, using sensible defaults');
  });

  it('uses an absolute --config path as-is', () => {
    const other = mkdtempSync(join(dir, 'abs-'));
    writeFileSync(join(other, 'c.json'), JSON.stringify({ dbPath: 'abs.db' }));
    expect(loadConfig({ configPath: join(other, 'c.json'), cwd: '/', env: {} }).config.dbPath).toBe('abs.db');
  });

  it('fails on read errors other than "not found"', () => {
    mkdirSync(join(dir, 'config.json'));
    expect(() => loadConfig({ cwd: dir, env: {} })).toThrow(/^config: reading config\.json: .*EISDIR/);
  });

  it('reports a JSON syntax error with line and column, on one line', () => {
    const error = loadError('{not valid json');
    expect(error.message).toBe(
      "config: parsing config.json: Unexpected token 'n', expected a property name in double quotes (line 1 column 2)",
    );

    const multiLine = loadError('{\n  "dbPath": "x",\n  "retention": { "nodeDays": }\n}\n');
    expect(multiLine.message).toBe("config: parsing config.json: Unexpected token '}', expected a value (line 3 column 30)");
    expect(multiLine.message).not.toContain('\n');
  });

  it.each([
    ['', 'Unexpected end of input, expected a value (line 1 column 1)'],
    ['{"dbPath": "x",}', "Unexpected token '}', expected a property name in double quotes (line 1 column 16)"],
    ['{"dbPath": "x"} {}', "Unexpected '{' after the end of the JSON value (line 1 column 17)"],
    ['{"a": 01}', 'Invalid number (line 1 column 8)'],
    ['{"a": "unterminated', 'Unterminated string (line 1 column 7)'],
  ])('syntax error in %j', (text, problem) => {
    expect(loadError(text).message).toBe(`config: parsing config.json: ${problem}`);
  });

  it('rejects a top level that is not an object', () => {
    expect(loadError('[]').message).toBe('config: parsing config.json: the top level must be a JSON object');
    expect(loadError('"x"').message).toBe('config: parsing config.json: the top level must be a JSON object');
  });

  it('accepts a CoreScope server config.json unchanged', () => {
    const coreScopeStyle = {
      port: 3000,
      apiKey: 'secret',
      nodeBlacklist: [],
      _comment_nodeBlacklist: 'server only',
      observerIATAWhitelist: [],
      retention: { nodeDays: 7, observerDays: 14, packetDays: 30, _comment: 'text' },
      db: { vacuumOnStartup: false, incrementalVacuumPages: 1024, _comment: 'text' },
      https: { cert: '/path/cert.pem', key: '/path/key.pem' },
      branding: { siteName: 'CoreScope', logoUrl: null, faviconUrl: null },
      home: { steps: [{ emoji: 'x', title: 'Connect' }] },
      mqtt: { broker: 'mqtt://localhost:1883', topic: 'meshcore/+/+/packets', _comment: 'legacy' },
      mqttSources: [
        { name: 'local', broker: 'mqtt://localhost:1883', topics: ['meshcore/+/+/packets', 'meshcore/#'] },
        {
          name: 'remote',
          broker: 'mqtts://mqtt.example.com:8883',
          username: 'user',
          password: 'pass-corescope',
          rejectUnauthorized: false,
          topics: ['meshcore/SJC/#'],
          iataFilter: ['SJC'],
          region: 'SJC',
          connectTimeoutSec: 45,
        },
      ],
      channelKeys: { Public: '8b3387e9c5cdea6ac9e5edbaa115cd72' },
      hashChannels: ['#test'],
      healthThresholds: { infraDegradedHours: 24 },
      mapDefaults: { center: [37.45, -122.0], zoom: 9 },
      geo_filter: { polygon: [[37.8, -122.52], [37.8, -121.8], [37.2, -121.8]], bufferKm: 20, _comment: 'text' },
      foreignAdverts: { mode: 'flag', _comment: 'text' },
      packetStore: { maxMemoryMB: 1024 },
      neighborGraph: { maxAgeDays: 9 },
      cacheTTL: { stats: 10 },
    };
    const config = loadFile(coreScopeStyle);
    expect(config.mqttSources.map((s) => [s.name, s.broker])).toEqual([
      ['local', 'tcp://localhost:1883'],
      ['remote', 'ssl://mqtt.example.com:8883'],
    ]);
    expect(config.retention.packetDays).toBe(30);
    expect(config.http.port).toBe(8080); // the server's top-level "port" is not ours
    expect(config.neighborEdgesMaxAgeDays).toBe(5); // neighborGraph.maxAgeDays is server-only (§1.2 note)
    expect(config.geoFilter?.polygon).toHaveLength(3);
  });
});

describe('environment overrides (§1.4)', () => {
  it('DB_PATH replaces dbPath; an empty DB_PATH changes nothing', () => {
    expect(loadFile({ dbPath: 'original.db' }, { DB_PATH: '/override/db.sqlite' }).dbPath).toBe('/override/db.sqlite');
    expect(loadFile({ dbPath: 'original.db' }, { DB_PATH: '' }).dbPath).toBe('original.db');
    expect(loadFile({}, { DB_PATH: '/only/env.db' }).dbPath).toBe('/only/env.db');
  });

  it('empty dbPath falls back to the default', () => {
    expect(loadFile({ dbPath: '' }).dbPath).toBe('data/meshcore.db');
  });

  it('MQTT_BROKER replaces every configured source with one named "env"', () => {
    const config = loadFile(
      { mqttSources: [source({ name: 'file' })], mqtt: { broker: 'tcp://legacy:1883' } },
      { MQTT_BROKER: 'tcp://env-broker:1883', MQTT_TOPIC: 'custom/topic' },
    );
    expect(config.mqttSources).toEqual([
      {
        name: 'env',
        broker: 'tcp://env-broker:1883',
        topics: ['custom/topic'],
        iataFilter: [],
        connectTimeoutSec: 30,
        qos: 0,
        sessionExpirySec: 86400,
      },
    ]);
  });

  it('the env source defaults its topic and maps its scheme', () => {
    const [env] = loadFile({}, { MQTT_BROKER: 'mqtt://env-broker:1883', MQTT_TOPIC: '' }).mqttSources;
    expect(env.topics).toEqual(['meshcore/#']);
    expect(env.broker).toBe('tcp://env-broker:1883');
  });

  it('MQTT_TOPIC alone does nothing', () => {
    const config = loadFile({ mqttSources: [source({ topics: ['a/#'] })] }, { MQTT_TOPIC: 'ignored/#' });
    expect(config.mqttSources[0].topics).toEqual(['a/#']);
  });

  it('CORESCOPE_INGESTOR_STATS sets the stats file path', () => {
    expect(loadFile({}, { CORESCOPE_INGESTOR_STATS: '/var/lib/x/stats.json' }).statsFilePath).toBe('/var/lib/x/stats.json');
    expect(loadFile({}, { CORESCOPE_INGESTOR_STATS: '' }).statsFilePath).toBe('/tmp/corescope-ingestor-stats.json');
  });

  it.each([
    ['250', 250, false],
    ['12.5', 12.5, false],
    ['1e3', 1000, false],
    ['', 500, false],
    ['0', 500, true],
    ['-3', 500, true],
    ['abc', 500, true],
  ])('CORESCOPE_DB_SLOW_WRITER_MS=%j → %d', (raw, expected, noticed) => {
    const { config, notices } = load({ mqttSources: [source()] }, { CORESCOPE_DB_SLOW_WRITER_MS: raw });
    expect(config.slowWriterMs).toBe(expected);
    expect(notices.some((line) => line.includes('CORESCOPE_DB_SLOW_WRITER_MS'))).toBe(noticed);
  });

  it('PORT overrides http.port', () => {
    expect(loadFile({ http: { port: 9000 } }, { PORT: '3001' }).http.port).toBe(3001);
    expect(loadFile({ http: { port: 9000 } }, { PORT: '' }).http.port).toBe(9000);
    expect(loadFile({}, { PORT: '0' }).http.port).toBe(0);
  });

  it.each(['abc', '70000', '-1', '80.5', '0x50'])('rejects PORT=%j', (raw) => {
    const error = loadError({}, { PORT: raw });
    expect(error.message).toBe(`config: env PORT must be an integer between 0 and 65535, got ${JSON.stringify(raw)}`);
    expect(error.keyPath).toBe('PORT');
  });

  it('channelKeysPath: env CHANNEL_KEYS_PATH > channelKeysPath > next to the config file', () => {
    expect(loadFile({ channelKeysPath: '/file/keys.json' }, { CHANNEL_KEYS_PATH: '/env/keys.json' }).channelKeysPath).toBe(
      '/env/keys.json',
    );
    expect(loadFile({ channelKeysPath: '/file/keys.json' }).channelKeysPath).toBe('/file/keys.json');
    expect(loadFile({ channelKeysPath: '' }).channelKeysPath).toBe(join(dir, 'channel-rainbow.json'));

    mkdirSync(join(dir, 'conf'));
    writeFileSync(join(dir, 'conf', 'config.json'), '{}');
    const nested = loadConfig({ configPath: 'conf/config.json', cwd: dir, env: {} }).config;
    expect(nested.channelKeysPath).toBe(join(dir, 'conf', 'channel-rainbow.json'));
  });

  it('reads process.env when no env is passed', () => {
    const previous = process.env.DB_PATH;
    process.env.DB_PATH = '/from/process/env.db';
    try {
      writeFileSync(join(dir, 'config.json'), '{}');
      expect(loadConfig({ cwd: dir }).config.dbPath).toBe('/from/process/env.db');
    } finally {
      if (previous === undefined) delete process.env.DB_PATH;
      else process.env.DB_PATH = previous;
    }
  });
});

describe('MQTT sources (§1.3)', () => {
  it('converts the legacy mqtt block into a source named "default" with both topics', () => {
    const { config, notices } = load({ dbPath: 'test.db', mqtt: { broker: 'tcp://legacy:1883', topic: 'old/topic' } });
    expect(config.mqttSources).toHaveLength(1);
    expect(config.mqttSources[0]).toMatchObject({ name: 'default', broker: 'tcp://legacy:1883', topics: ['old/topic', 'meshcore/#'] });
    expect(notices).toEqual([]);
  });

  it('keeps an empty legacy topic as an empty first filter', () => {
    expect(loadFile({ mqtt: { broker: 'mqtt://legacy:1883' } }).mqttSources[0].topics).toEqual(['', 'meshcore/#']);
  });

  it('ignores the legacy block when mqttSources is non-empty', () => {
    const config = loadFile({
      mqtt: { broker: 'tcp://legacy:1883', topic: 'old/topic' },
      mqttSources: [{ name: 'modern', broker: 'tcp://modern:1883', topics: ['m/#'] }],
    });
    expect(config.mqttSources.map((s) => s.name)).toEqual(['modern']);
  });

  it('uses the legacy block when mqttSources is an empty array', () => {
    expect(loadFile({ mqttSources: [], mqtt: { broker: 'tcp://legacy:1883' } }).mqttSources[0].name).toBe('default');
  });

  it('falls back to the local broker when the legacy broker is empty', () => {
    const { config, notices } = load({ mqtt: { broker: '', topic: 't' } });
    expect(config.mqttSources.map((s) => [s.name, s.broker, s.topics])).toEqual([['local', 'tcp://localhost:1883', ['meshcore/#']]]);
    expect(notices).toEqual(['no MQTT sources configured, defaulting to mqtt://localhost:1883']);
  });

  it('keeps sources in configured order', () => {
    const config = loadFile({ mqttSources: [source({ name: 'a' }), source({ name: 'b', broker: 'tcp://other:1883' })] });
    expect(config.mqttSources.map((s) => s.name)).toEqual(['a', 'b']);
  });

  it.each([
    ['mqtt://host:1883', 'tcp://host:1883'],
    ['mqtts://host:8883', 'ssl://host:8883'],
    ['tcp://host:1883', 'tcp://host:1883'],
    ['ssl://host:8883', 'ssl://host:8883'],
    ['ws://host:8080/mqtt', 'ws://host:8080/mqtt'],
    ['wss://host/mqtt', 'wss://host/mqtt'],
    ['mqtt://user:pw@host:1883', 'tcp://user:pw@host:1883'],
    // The reference's prefix check is case-sensitive.
    ['MQTT://host:1883', 'MQTT://host:1883'],
  ])('maps broker scheme %s → %s', (broker, mapped) => {
    expect(loadFile({ mqttSources: [{ broker }] }).mqttSources[0].broker).toBe(mapped);
  });

  it('tags a source by its name, or by the mapped broker URL when the name is empty', () => {
    const config = loadFile({ mqttSources: [{ name: 'named', broker: 'mqtt://a:1883' }, { name: '', broker: 'mqtt://b:1883' }, { broker: 'ws://c/mqtt' }] });
    expect(config.mqttSources.map((s) => s.name)).toEqual(['named', 'tcp://b:1883', 'ws://c/mqtt']);
  });

  it('defaults topics to meshcore/# when empty or absent; a null topic is Go\'s empty string', () => {
    const config = loadFile({ mqttSources: [source({ topics: [] }), source({ topics: null }), source(), source({ topics: ['a', null] })] });
    expect(config.mqttSources.map((s) => s.topics)).toEqual([['meshcore/#'], ['meshcore/#'], ['meshcore/#'], ['a', '']]);
  });

  it.each([
    [5, 5],
    [0, 30],
    [-3, 30],
    [undefined, 30],
  ])('connectTimeoutSec %j → %d', (value, expected) => {
    expect(loadFile({ mqttSources: [source({ connectTimeoutSec: value })] }).mqttSources[0].connectTimeoutSec).toBe(expected);
  });

  it('reads every source field', () => {
    const [full] = loadFile({
      logLevel: 'debug',
      mqttSources: [
        {
          name: 'full',
          broker: 'tcp://full:1883',
          username: 'user1',
          password: 'pass1-full',
          rejectUnauthorized: false,
          topics: ['a/#', 'b/#'],
          iataFilter: ['SJC', 'LAX'],
          region: 'PDX',
          connectTimeoutSec: 12,
          qos: 1,
          clientId: 'ingestor-full',
          sessionExpirySec: 3600,
          shareGroup: 'ingestors',
        },
      ],
    }).mqttSources;
    expect(full).toEqual({
      name: 'full',
      broker: 'tcp://full:1883',
      username: 'user1',
      password: 'pass1-full',
      rejectUnauthorized: false,
      topics: ['a/#', 'b/#'],
      iataFilter: ['SJC', 'LAX'],
      region: 'PDX',
      connectTimeoutSec: 12,
      qos: 1,
      clientId: 'ingestor-full',
      sessionExpirySec: 3600,
      shareGroup: 'ingestors',
    });
  });

  it('leaves out empty credentials, region and clientId, and an absent rejectUnauthorized', () => {
    const [bare] = loadFile({ mqttSources: [source({ username: '', password: '', region: '', clientId: '' })] }).mqttSources;
    expect(bare).not.toHaveProperty('username');
    expect(bare).not.toHaveProperty('password');
    expect(bare).not.toHaveProperty('region');
    expect(bare).not.toHaveProperty('clientId');
    expect(bare).not.toHaveProperty('rejectUnauthorized');
    expect(bare).not.toHaveProperty('shareGroup');
    expect(loadFile({ mqttSources: [source({ rejectUnauthorized: true })] }).mqttSources[0].rejectUnauthorized).toBe(true);
  });

  it('keeps iataFilter entries exactly (case-sensitive, untrimmed)', () => {
    expect(loadFile({ mqttSources: [source({ iataFilter: ['sjc', ' LAX'] })] }).mqttSources[0].iataFilter).toEqual(['sjc', ' LAX']);
  });
});

describe('CoreScope keys and their "or default" coercions (§1.2)', () => {
  it.each([
    ['nodeDays', 3, 3],
    ['nodeDays', 0, 7],
    ['nodeDays', -1, 7],
    ['observerDays', 30, 30],
    ['observerDays', 0, 14],
    ['observerDays', -1, -1],
    ['observerDays', -5, -5],
    ['metricsDays', 10, 10],
    ['metricsDays', 0, 30],
    ['metricsDays', -2, 30],
    ['packetDays', 30, 30],
    ['packetDays', 0, 0],
    ['packetDays', -4, 0],
    ['clientRxDays', 2, 2],
    ['clientRxDays', -1, 0],
  ] as const)('retention.%s %d → %d', (key, value, expected) => {
    expect(loadFile({ retention: { [key]: value } }).retention[key]).toBe(expected);
  });

  it.each([
    [{ metrics: { sampleIntervalSec: 60 } }, (c: AppConfig) => c.metrics.sampleIntervalSec, 60],
    [{ metrics: { sampleIntervalSec: 0 } }, (c: AppConfig) => c.metrics.sampleIntervalSec, 300],
    [{ runtime: { maxMemoryMB: 512 } }, (c: AppConfig) => c.runtime.maxMemoryMB, 512],
    [{ runtime: { maxMemoryMB: -1 } }, (c: AppConfig) => c.runtime.maxMemoryMB, 0],
    [{ db: { incrementalVacuumPages: 64 } }, (c: AppConfig) => c.db.incrementalVacuumPages, 64],
    [{ db: { incrementalVacuumPages: 0 } }, (c: AppConfig) => c.db.incrementalVacuumPages, 1024],
    [{ neighborEdgesMaxAgeDays: 9 }, (c: AppConfig) => c.neighborEdgesMaxAgeDays, 9],
    [{ neighborEdgesMaxAgeDays: -9 }, (c: AppConfig) => c.neighborEdgesMaxAgeDays, 5],
    [{ ingestBufferSize: 1000 }, (c: AppConfig) => c.ingestBufferSize, 1000],
    [{ ingestBufferSize: 0 }, (c: AppConfig) => c.ingestBufferSize, 50000],
    [{ ingestBufferSize: -10 }, (c: AppConfig) => c.ingestBufferSize, 50000],
  ])('%j', (file, pick, expected) => {
    expect(pick(loadFile(file))).toBe(expected);
  });

  it('reads the boolean switches', () => {
    const config = loadFile({ clientRxCoverage: { enabled: true }, db: { vacuumOnStartup: true } });
    expect(config.clientRxCoverage.enabled).toBe(true);
    expect(config.db.vacuumOnStartup).toBe(true);
  });

  it.each([
    [undefined, true],
    [null, true],
    [true, true],
    [false, false],
  ])('validateSignatures %j → %j (only an explicit false disables)', (value, expected) => {
    expect(loadFile({ validateSignatures: value }).validateSignatures).toBe(expected);
  });

  it.each([
    ['drop', 'drop'],
    [' DROP ', 'drop'],
    ['Drop', 'drop'],
    ['flag', 'flag'],
    ['dropped', 'flag'],
    ['', 'flag'],
    [undefined, 'flag'],
  ])('foreignAdverts.mode %j → %s', (mode, expected) => {
    expect(loadFile({ foreignAdverts: { mode } }).foreignAdverts.mode).toBe(expected);
  });

  it('normalises observerIATAWhitelist to trimmed upper case and drops empty entries', () => {
    const config = loadFile({ observerIATAWhitelist: ['ARN', ' got ', '', '   ', null, 'sjc'] });
    expect(config.observerIATAWhitelist).toEqual(['ARN', 'GOT', 'SJC']);
  });

  it('normalises observerBlacklist to trimmed lower case and drops empty entries', () => {
    expect(loadFile({ observerBlacklist: [' AbCdEf ', '', '0011FF'] }).observerBlacklist).toEqual(['abcdef', '0011ff']);
  });

  it('passes channel key sources through raw (names as written, nulls dropped)', () => {
    const config = loadFile({
      channelKeys: { Public: '8b3387e9c5cdea6ac9e5edbaa115cd72', public: 'aa', '#Mixed Case': 'bb', gone: null },
      hashChannels: ['General', '#test', ' spaced ', null],
      hashRegions: ['sjc', '', 'sjc'],
    });
    expect(config.channelKeys).toEqual({ Public: '8b3387e9c5cdea6ac9e5edbaa115cd72', public: 'aa', '#Mixed Case': 'bb' });
    expect(config.hashChannels).toEqual(['General', '#test', ' spaced ', '']);
    expect(config.hashRegions).toEqual(['sjc', '', 'sjc']);
  });

  it('logLevel is carried along only when present', () => {
    expect(loadFile({ logLevel: 'debug' }).logLevel).toBe('debug');
    expect(loadFile({})).not.toHaveProperty('logLevel');
  });

  describe('geo_filter', () => {
    it('is null when absent or null', () => {
      expect(loadFile({}).geoFilter).toBeNull();
      expect(loadFile({ geo_filter: null }).geoFilter).toBeNull();
    });

    it('an empty block is a filter with no polygon', () => {
      expect(loadFile({ geo_filter: {} }).geoFilter).toEqual({ polygon: [], bufferKm: 0 });
    });

    it('reads polygon and bufferKm', () => {
      const polygon = [
        [37.8, -122.52],
        [37.8, -121.8],
        [37.2, -121.8],
      ];
      expect(loadFile({ geo_filter: { polygon, bufferKm: 12.5 } }).geoFilter).toEqual({ polygon, bufferKm: 12.5 });
    });

    it('decodes points like Go\'s [2]float64: extra values dropped, missing or null ones are 0', () => {
      const geo = loadFile({ geo_filter: { polygon: [[1, 2, 99, 'ignored'], [3], null, [null, 4]] } }).geoFilter;
      expect(geo?.polygon).toEqual([
        [1, 2],
        [3, 0],
        [0, 0],
        [0, 4],
      ]);
    });

    it('reads the legacy bounding box, only the bounds that are set', () => {
      const geo = loadFile({ geo_filter: { latMin: 37, latMax: 38, lonMin: -123, lonMax: -121 } }).geoFilter;
      expect(geo).toEqual({ polygon: [], bufferKm: 0, latMin: 37, latMax: 38, lonMin: -123, lonMax: -121 });
      expect(loadFile({ geo_filter: { latMin: 0 } }).geoFilter).toEqual({ polygon: [], bufferKm: 0, latMin: 0 });
    });
  });
});

describe('Go-like JSON decoding (§1.1)', () => {
  it('matches keys case-insensitively at every level', () => {
    const config = loadFile({
      DBPATH: '/upper.db',
      MQTTSOURCES: [{ NAME: 'x', Broker: 'tcp://b:1883', TOPICS: ['t/#'], ConnectTimeoutSEC: 7 }],
      Retention: { NODEDAYS: 3 },
      Geo_Filter: { BUFFERKM: 2 },
      observeriatawhitelist: ['arn'],
      HTTP: { PORT: 9999 },
    });
    expect(config.dbPath).toBe('/upper.db');
    expect(config.mqttSources[0]).toMatchObject({ name: 'x', broker: 'tcp://b:1883', topics: ['t/#'], connectTimeoutSec: 7 });
    expect(config.retention.nodeDays).toBe(3);
    expect(config.geoFilter).toEqual({ polygon: [], bufferKm: 2 });
    expect(config.observerIATAWhitelist).toEqual(['ARN']);
    expect(config.http.port).toBe(9999);
  });

  it('geo_filter keeps its underscore: geoFilter is just an unknown key', () => {
    expect(loadFile({ geoFilter: { bufferKm: 2 } }).geoFilter).toBeNull();
  });

  it('does not fold channel names: they are map keys, not field names', () => {
    expect(loadFile({ CHANNELKEYS: { PUBLIC: 'aa' } }).channelKeys).toEqual({ PUBLIC: 'aa' });
  });

  it('the later of two spellings of a key wins; two blocks for one key are merged', () => {
    expect(loadFile('{"dbPath": "first.db", "DBPATH": "second.db"}').dbPath).toBe('second.db');
    expect(loadFile('{"DBPATH": "first.db", "dbPath": "second.db"}').dbPath).toBe('second.db');
    const merged = loadFile('{"retention": {"nodeDays": 3, "metricsDays": 4}, "RETENTION": {"metricsDays": 9}}');
    expect(merged.retention).toMatchObject({ nodeDays: 3, metricsDays: 9 });
  });

  it('ignores unknown keys at every level, naming each in one warning line', () => {
    const { config, warnings } = load({
      somethingElse: { deeply: ['nested'] },
      retention: { nodeDays: 2, _comment: 'x', unknownDays: 'not even a number' },
      mqttSources: [source({ extra: { a: 1 } })],
      http: { port: 81, tls: true },
      _comment_top: 'comments are not keys',
    });
    expect(config.retention.nodeDays).toBe(2);
    expect(config.http.port).toBe(81);
    expect(config.mqttSources[0]).not.toHaveProperty('extra');
    expect(warnings).toEqual([
      'config: unknown keys ignored (misspelt? they change nothing): somethingElse, retention.unknownDays, mqttSources[0].extra, http.tls',
    ]);
  });

  it('lists the CoreScope server’s keys and the keys read without effect apart from unknown ones', () => {
    const { warnings, notices } = load({
      port: 3000,
      apiKey: 'server-secret',
      branding: { siteName: 'x' },
      neighborGraph: { maxAgeDays: 5 },
      db: { vacuumOnStartup: false, load: { chunkSize: 1 } },
      logLevel: 'info',
      schedule: { walCheckpoint: { every: '1h' } },
    });
    expect(warnings).toEqual(['config: unknown keys ignored (misspelt? they change nothing): schedule']);
    expect(notices).toContain(
      'config: CoreScope server keys, not used by the ingestor: port, apiKey, branding, neighborGraph, db.load; ' +
        'logLevel: parsed but never used by the Go ingestor either; our level is log.level',
    );
    expect(notices.join('\n')).not.toContain('server-secret');
  });

  it('has no warning for a file with only known keys', () => {
    expect(load({ dbPath: 'x.db', retention: { nodeDays: 3 } }).warnings).toEqual([]);
  });

  it('treats null as "absent"', () => {
    const config = loadFile({
      dbPath: null,
      mqttSources: null,
      retention: { nodeDays: null, observerDays: null },
      channelKeysPath: null,
      ingestBufferSize: null,
      http: null,
      log: { format: null },
    });
    expect(config.dbPath).toBe('data/meshcore.db');
    expect(config.mqttSources[0].name).toBe('local');
    expect(config.retention).toMatchObject({ nodeDays: 7, observerDays: 14 });
    expect(config.channelKeysPath).toBe(join(dir, 'channel-rainbow.json'));
    expect(config.ingestBufferSize).toBe(50000);
    expect(config.http).toEqual({ port: 8080, host: '0.0.0.0', enabled: true, statusApi: true });
    expect(config.log.format).toBe('text');
  });

  it('a null key keeps the value of an earlier spelling (Go leaves the field untouched)', () => {
    expect(loadFile('{"dbPath": "kept.db", "DBPATH": null}').dbPath).toBe('kept.db');
  });

  it('a null source is Go\'s zero value, which then lacks its broker', () => {
    expect(loadError({ mqttSources: [source(), null] }).message).toBe('config: mqttSources[1].broker is required');
  });

  it.each([
    [{ dbPath: 5 }, 'dbPath', 'must be a string'],
    [{ logLevel: false }, 'logLevel', 'must be a string'],
    [{ retention: { nodeDays: '7' } }, 'retention.nodeDays', 'must be an integer'],
    [{ retention: { nodeDays: 1.5 } }, 'retention.nodeDays', 'must be an integer'],
    [{ retention: { observerDays: 1e300 } }, 'retention.observerDays', 'must be an integer'],
    [{ retention: 7 }, 'retention', 'must be an object, not a number'],
    [{ retention: [] }, 'retention', 'must be an object, not an array'],
    [{ metrics: { sampleIntervalSec: true } }, 'metrics.sampleIntervalSec', 'must be an integer'],
    [{ ingestBufferSize: '50000' }, 'ingestBufferSize', 'must be an integer <= 10000000'],
    [{ ingestBufferSize: 20_000_000 }, 'ingestBufferSize', 'must be an integer <= 10000000'],
    [{ validateSignatures: 'false' }, 'validateSignatures', 'must be true or false'],
    [{ clientRxCoverage: { enabled: 1 } }, 'clientRxCoverage.enabled', 'must be true or false'],
    [{ mqttSources: {} }, 'mqttSources', 'must be an array, not an object'],
    [{ mqttSources: 'tcp://b' }, 'mqttSources', 'must be an array, not a string'],
    [{ mqttSources: [source(), 5] }, 'mqttSources[1]', 'must be an object, not a number'],
    [{ mqttSources: [source(), source({ topics: [5] })] }, 'mqttSources[1].topics[0]', 'must be a string'],
    [{ mqttSources: [source({ topics: ['a', 'b', { t: 1 }] })] }, 'mqttSources[0].topics[2]', 'must be a string'],
    [{ mqttSources: [source({ topics: 'meshcore/#' })] }, 'mqttSources[0].topics', 'must be an array of strings'],
    [{ mqttSources: [source({ iataFilter: [1] })] }, 'mqttSources[0].iataFilter[0]', 'must be a string'],
    [{ mqttSources: [source({ connectTimeoutSec: 2.5 })] }, 'mqttSources[0].connectTimeoutSec', 'must be an integer'],
    [{ mqttSources: [source({ rejectUnauthorized: 'no' })] }, 'mqttSources[0].rejectUnauthorized', 'must be true or false'],
    [{ mqttSources: [source({ broker: 1883 })] }, 'mqttSources[0].broker', 'must be a string'],
    [{ mqttSources: [source({ password: 1234 })] }, 'mqttSources[0].password', 'must be a string'],
    [{ mqtt: { broker: ['x'] } }, 'mqtt.broker', 'must be a string'],
    [{ mqtt: 'tcp://b' }, 'mqtt', 'must be an object, not a string'],
    [{ channelKeys: ['aa'] }, 'channelKeys', 'must be an object of name → string'],
    [{ channelKeys: { Public: 5 } }, 'channelKeys.Public', 'must be a string'],
    [{ channelKeys: { 'my chan': 5 } }, 'channelKeys["my chan"]', 'must be a string'],
    [{ hashChannels: '#test' }, 'hashChannels', 'must be an array of strings'],
    [{ observerIATAWhitelist: 'SJC' }, 'observerIATAWhitelist', 'must be an array of strings'],
    [{ observerBlacklist: [null, 7] }, 'observerBlacklist[1]', 'must be a string'],
    [{ geo_filter: { polygon: [[1, 2], [3, 'x']] } }, 'geo_filter.polygon[1][1]', 'must be a number'],
    [{ geo_filter: { polygon: [[1, 2], 5] } }, 'geo_filter.polygon[1]', 'must be a [lat, lon] pair'],
    [{ geo_filter: { polygon: {} } }, 'geo_filter.polygon', 'must be an array of [lat, lon] pairs'],
    [{ geo_filter: { bufferKm: '20' } }, 'geo_filter.bufferKm', 'must be a number'],
    [{ geo_filter: { latMin: true } }, 'geo_filter.latMin', 'must be a number'],
    [{ foreignAdverts: { mode: 1 } }, 'foreignAdverts.mode', 'must be a string'],
    [{ db: { vacuumOnStartup: 'yes' } }, 'db.vacuumOnStartup', 'must be true or false'],
  ])('%j fails at %s', (file, keyPath, problem) => {
    const error = loadError(file);
    expect(error.message).toBe(`config: ${keyPath} ${problem}`);
    expect(error.keyPath).toBe(keyPath);
  });

  it('accepts integral numbers written with a fraction or exponent (JSON.parse cannot tell them apart)', () => {
    expect(loadFile({ retention: { nodeDays: 3.0 } }).retention.nodeDays).toBe(3);
    expect(loadFile('{"ingestBufferSize": 1e3}').ingestBufferSize).toBe(1000);
  });

  it('type errors in file sources are fatal even when MQTT_BROKER replaces them (the file is still parsed)', () => {
    expect(loadError({ mqttSources: [source({ topics: [1] })] }, { MQTT_BROKER: 'tcp://env:1883' }).keyPath).toBe(
      'mqttSources[0].topics[0]',
    );
  });
});

describe('our own keys', () => {
  it('reads all of them', () => {
    const config = loadFile({
      http: { port: 9100, host: '127.0.0.1' },
      ingest: { batchSize: 500, flushIntervalMs: 250, highWaterMark: 20000, workerThread: false },
      sqlite: { cacheSizeMiB: 64, walAutocheckpointPages: 2000 },
      watchdog: { intervalSec: 15, thresholdSec: 120.5 },
      log: { format: 'json', level: 'debug' },
      maintenance: { deleteChunkRows: 250 },
    });
    expect(config.http).toEqual({ port: 9100, host: '127.0.0.1', enabled: true, statusApi: true });
    expect(config.maintenance).toEqual({ deleteChunkRows: 250 });
    expect(config.ingest).toEqual({ batchSize: 500, flushIntervalMs: 250, highWaterMark: 20000, workerThread: false });
    expect(config.sqlite).toEqual({ cacheSizeMiB: 64, walAutocheckpointPages: 2000 });
    expect(config.watchdog).toEqual({ intervalSec: 15, thresholdSec: 120.5 });
    expect(config.log).toEqual({ format: 'json', level: 'debug' });
  });

  it.each([
    [{ http: { port: 0 } }, 0],
    [{ http: { port: 65535 } }, 65535],
  ])('accepts the edges of http.port: %j', (file, port) => {
    expect(loadFile(file).http.port).toBe(port);
  });

  it.each([
    [{ http: { port: 70000 } }, 'http.port', 'must be an integer between 0 and 65535'],
    [{ http: { port: -1 } }, 'http.port', 'must be an integer between 0 and 65535'],
    [{ http: { port: 80.5 } }, 'http.port', 'must be an integer between 0 and 65535'],
    [{ http: { port: '8080' } }, 'http.port', 'must be an integer between 0 and 65535'],
    [{ http: { host: '' } }, 'http.host', 'must not be empty'],
    [{ http: { host: 8080 } }, 'http.host', 'must be a string'],
    [{ ingest: { batchSize: 0 } }, 'ingest.batchSize', 'must be an integer between 1 and 100000'],
    [{ ingest: { batchSize: 100001 } }, 'ingest.batchSize', 'must be an integer between 1 and 100000'],
    [{ ingest: { flushIntervalMs: 0 } }, 'ingest.flushIntervalMs', 'must be an integer between 1 and 60000'],
    [{ ingest: { flushIntervalMs: 60001 } }, 'ingest.flushIntervalMs', 'must be an integer between 1 and 60000'],
    [{ ingest: { highWaterMark: 0 } }, 'ingest.highWaterMark', 'must be an integer between 1 and 10000000'],
    [{ ingest: { workerThread: 'yes' } }, 'ingest.workerThread', 'must be true or false'],
    [{ sqlite: { cacheSizeMiB: 0 } }, 'sqlite.cacheSizeMiB', 'must be an integer between 1 and 4096'],
    [{ sqlite: { cacheSizeMiB: 1.5 } }, 'sqlite.cacheSizeMiB', 'must be an integer between 1 and 4096'],
    [{ sqlite: { walAutocheckpointPages: 99 } }, 'sqlite.walAutocheckpointPages', 'must be an integer between 100 and 1000000'],
    [{ watchdog: { intervalSec: 0.5 } }, 'watchdog.intervalSec', 'must be a number >= 1'],
    [{ watchdog: { thresholdSec: 0 } }, 'watchdog.thresholdSec', 'must be a number >= 1'],
    [{ maintenance: { nodeRetentionIntervalMin: 0 } }, 'maintenance.nodeRetentionIntervalMin', 'must be an integer between 1 and 10080'],
    [{ maintenance: { dailyJobsIntervalHours: 1.5 } }, 'maintenance.dailyJobsIntervalHours', 'must be an integer between 1 and 168'],
    [{ maintenance: { dailyJobsIntervalHours: 169 } }, 'maintenance.dailyJobsIntervalHours', 'must be an integer between 1 and 168'],
    [{ maintenance: { walCheckpointIntervalMin: -60 } }, 'maintenance.walCheckpointIntervalMin', 'must be an integer between 1 and 10080'],
    [{ maintenance: { neighborBuilderIntervalSec: '60' } }, 'maintenance.neighborBuilderIntervalSec', 'must be an integer between 1 and 86400'],
    [{ maintenance: { pruneQueueIntervalSec: 86401 } }, 'maintenance.pruneQueueIntervalSec', 'must be an integer between 1 and 86400'],
    [{ maintenance: { multibyteIntervalMin: 0 } }, 'maintenance.multibyteIntervalMin', 'must be an integer between 1 and 10080'],
    [{ maintenance: { deleteChunkRows: 0 } }, 'maintenance.deleteChunkRows', 'must be an integer between 1 and 1000000'],
    [{ maintenance: 5 }, 'maintenance', 'must be an object, not a number'],
    [{ log: { format: 'xml' } }, 'log.format', 'must be one of: text, json'],
    [{ db: { engine: 'mysql' } }, 'db.engine', 'must be one of: sqlite, postgres'],
    [{ db: { engine: 'postgres' } }, 'db.url', 'is required when db.engine is postgres (or env INGESTOR_DB_URL)'],
    [{ db: { engine: 'postgres', url: '   ' } }, 'db.url', 'is required when db.engine is postgres (or env INGESTOR_DB_URL)'],
    [{ db: { engine: 'postgres', url: 'mysql://u:p@h/db' } }, 'db.url', 'must be a postgres:// or postgresql:// URL'],
    [{ db: { url: 42 } }, 'db.url', 'must be a string'],
    [{ log: { level: 'info' } }, 'log.level', 'must be one of: error, warn, log, debug, verbose'],
    [{ mqttSources: [source({ qos: 2 })] }, 'mqttSources[0].qos', 'must be 0 or 1'],
    [{ mqttSources: [source({ qos: '1' })] }, 'mqttSources[0].qos', 'must be 0 or 1'],
    [{ mqttSources: [source(), source({ qos: 1 })] }, 'mqttSources[1].clientId', 'is required when qos is 1 (a persistent session is resumed by client id)'],
    [{ mqttSources: [source({ qos: 1, clientId: '  ' })] }, 'mqttSources[0].clientId', 'is required when qos is 1 (a persistent session is resumed by client id)'],
    [{ mqttSources: [source({ clientId: 42 })] }, 'mqttSources[0].clientId', 'must be a string'],
    [{ mqttSources: [source({ sessionExpirySec: -1 })] }, 'mqttSources[0].sessionExpirySec', 'must be an integer between 0 and 4294967295'],
    [{ mqttSources: [source({ sessionExpirySec: 1.5 })] }, 'mqttSources[0].sessionExpirySec', 'must be an integer between 0 and 4294967295'],
    [{ mqttSources: [source({ shareGroup: 7 })] }, 'mqttSources[0].shareGroup', 'must be a string'],
    [{ mqttSources: [source({ shareGroup: '' })] }, 'mqttSources[0].shareGroup', 'must not be empty (leave the key out to receive every message)'],
    [{ mqttSources: [source(), source({ shareGroup: '  ' })] }, 'mqttSources[1].shareGroup', 'must not be empty (leave the key out to receive every message)'],
    [{ mqttSources: [source({ shareGroup: 'a/b' })] }, 'mqttSources[0].shareGroup', `${SHARE_GROUP_LEVEL} got "a/b"`],
    [{ mqttSources: [source({ shareGroup: 'group+' })] }, 'mqttSources[0].shareGroup', `${SHARE_GROUP_LEVEL} got "group+"`],
    [{ mqttSources: [source({ shareGroup: '#' })] }, 'mqttSources[0].shareGroup', `${SHARE_GROUP_LEVEL} got "#"`],
    [{ mqttSources: [{ name: 'no-broker' }] }, 'mqttSources[0].broker', 'is required'],
    [{ mqttSources: [source({ broker: '' })] }, 'mqttSources[0].broker', 'must not be empty'],
    [{ mqttSources: [source({ broker: '   ' })] }, 'mqttSources[0].broker', 'must not be empty'],
  ])('%j fails at %s', (file, keyPath, problem) => {
    const error = loadError(file);
    expect(error.message).toBe(`config: ${keyPath} ${problem}`);
    expect(error.keyPath).toBe(keyPath);
  });

  it('db.engine defaults to sqlite (no url kept); postgres takes db.url; the env overrides both', () => {
    expect(loadFile({}).db).toMatchObject({ engine: 'sqlite' });
    expect(loadFile({ db: { url: 'postgres://u:pw-only-in-this-test-7q@h/db' } }).db.url).toBeUndefined();
    expect(loadFile({ db: { engine: 'postgres', url: ' postgresql://u:pw-only-in-this-test-7q@h:5432/db ' } }).db).toMatchObject({ engine: 'postgres', url: 'postgresql://u:pw-only-in-this-test-7q@h:5432/db' });
    const fromEnv = loadFile({ db: { engine: 'sqlite', url: 'postgres://file@h/db' } }, { INGESTOR_DB_ENGINE: 'Postgres', INGESTOR_DB_URL: 'postgres://env@h/db' });
    expect(fromEnv.db).toMatchObject({ engine: 'postgres', url: 'postgres://env@h/db' });
    expect(loadError({}, { INGESTOR_DB_ENGINE: 'oracle' }).message).toBe('config: env INGESTOR_DB_ENGINE must be one of: sqlite, postgres, got "oracle"');
  });

  it('shareGroup is kept as written, for qos 0 and qos 1 sources, and matched case-insensitively as a key', () => {
    const config = loadFile({
      mqttSources: [source({ qos: 1, clientId: 'r1', shareGroup: 'Ingestors-EU_1' }), source({ name: 't', ShareGroup: 'plain $ group' }), source({ name: 'u' })],
    });
    expect(config.mqttSources.map((s) => s.shareGroup)).toEqual(['Ingestors-EU_1', 'plain $ group', undefined]);
  });

  it('a qos 1 source with a clientId is fine; qos 0 may omit it', () => {
    const config = loadFile({ mqttSources: [source({ qos: 1, clientId: 'fixed' }), source({ name: 't', qos: 0 })] });
    expect(config.mqttSources.map((s) => [s.qos, s.clientId])).toEqual([
      [1, 'fixed'],
      [0, undefined],
    ]);
  });

  it('rejects one clientId used twice on the same broker (after scheme mapping), allows it on different brokers', () => {
    const error = loadError({
      mqttSources: [
        source({ name: 'a', broker: 'mqtt://b:1883', clientId: 'same' }),
        source({ name: 'b', broker: 'tcp://b:1883', clientId: 'same' }),
      ],
    });
    expect(error.message).toBe(
      'config: mqttSources[1].clientId duplicates mqttSources[0].clientId on the same broker (the broker would keep disconnecting one of them)',
    );
    const ok = loadFile({
      mqttSources: [source({ broker: 'tcp://one:1883', clientId: 'same' }), source({ broker: 'tcp://two:1883', clientId: 'same' })],
    });
    expect(ok.mqttSources).toHaveLength(2);
  });

  it('error messages are a single line without a stack trace', () => {
    const error = loadError({ mqttSources: [source({ topics: [1] })] });
    expect(error.name).toBe('ConfigError');
    expect(error.message).not.toMatch(/\n|\sat\s/);
  });
});

describe('the result', () => {
  it('is deep-frozen', () => {
    const config = loadFile({ mqttSources: [source({ topics: ['a/#'] })], channelKeys: { x: 'aa' }, geo_filter: { polygon: [[1, 2]] } });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.mqttSources)).toBe(true);
    expect(Object.isFrozen(config.mqttSources[0])).toBe(true);
    expect(Object.isFrozen(config.mqttSources[0].topics)).toBe(true);
    expect(Object.isFrozen(config.retention)).toBe(true);
    expect(Object.isFrozen(config.channelKeys)).toBe(true);
    expect(Object.isFrozen(config.geoFilter?.polygon[0])).toBe(true);
    expect(() => {
      (config as { dbPath: string }).dbPath = 'changed';
    }).toThrow(TypeError);
    expect(() => (config.mqttSources[0].topics as string[]).push('b/#')).toThrow(TypeError);
  });

  it('registers every source password with the log masker', () => {
    const filePassword = `file-secret-${Math.random().toString(36).slice(2)}`;
    const urlPassword = `url-secret-${Math.random().toString(36).slice(2)}`;
    const replacedPassword = `replaced-secret-${Math.random().toString(36).slice(2)}`;
    expect(secretMasker.mask(`x ${filePassword} y`)).toContain(filePassword);

    loadFile({ mqttSources: [source({ password: filePassword }), source({ broker: `tcp://u:${urlPassword}@b:1883` })] });
    expect(secretMasker.mask(`error: bad password ${filePassword}`)).toBe('error: bad password ****');
    expect(secretMasker.mask(`auth ${urlPassword} rejected`)).toBe('auth **** rejected');

    // Passwords read from the file count even when MQTT_BROKER replaces the sources.
    loadFile({ mqttSources: [source({ password: replacedPassword })] }, { MQTT_BROKER: 'tcp://env:1883' });
    expect(secretMasker.mask(replacedPassword)).toBe('****');
  });
});

describe('broker URLs are checked at start (stricter than the reference)', () => {
  const load = (file: unknown, env: NodeJS.ProcessEnv = {}) => {
    const dir = mkdtempSync(join(tmpdir(), 'mqi-broker-'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify(file));
    try {
      return loadConfig({ cwd: dir, env });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it.each([
    ['mqtt://u:Secr3tPw@[::1', 'mqttSources[0].broker'],
    ['user:Secr3tPw@host', 'mqttSources[0].broker'],
    ['mqtt://user:Secr3tPw@host:notaport', 'mqttSources[0].broker'],
    ['http://host:1883', 'mqttSources[0].broker'],
  ])('%s fails with the key path and without the password', (broker, keyPath) => {
    let error: unknown;
    try {
      load({ mqttSources: [{ broker }] });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).keyPath).toBe(keyPath);
    expect((error as ConfigError).message).not.toContain('Secr3tPw');
  });

  it('checks MQTT_BROKER and the legacy block too, and accepts every supported scheme', () => {
    expect(() => load({}, { MQTT_BROKER: 'nonsense' })).toThrow(/env MQTT_BROKER must be a broker URL/);
    expect(() => load({ mqtt: { broker: 'x' } })).toThrow(/mqtt\.broker must be a broker URL/);
    const schemes = ['mqtt://h', 'mqtts://h:8883', 'tcp://h:1883', 'ssl://h', 'ws://h:8080/mqtt', 'wss://u:p@h/mqtt', 'MQTT://h:1883'];
    const { config } = load({ mqttSources: schemes.map((broker) => ({ broker })) });
    expect(config.mqttSources).toHaveLength(schemes.length);
  });
});

describe('http switches, the embedded broker and runtime.maxMemoryMB', () => {
  it('http.enabled and http.statusApi default to true; the file and then the env turn them off', () => {
    expect(loadFile({}).http).toMatchObject({ enabled: true, statusApi: true });
    expect(loadFile({ http: { enabled: false, statusApi: false } }).http).toMatchObject({ enabled: false, statusApi: false });
    expect(loadFile({ http: { enabled: false } }, { INGESTOR_HTTP_ENABLED: 'true' }).http.enabled).toBe(true);
    expect(loadFile({}, { INGESTOR_STATUS_API: 'off', INGESTOR_HTTP_ENABLED: '0' }).http).toMatchObject({ enabled: false, statusApi: false });
    expect(loadFile({}, { INGESTOR_STATUS_API: ' ' }).http.statusApi).toBe(true);
  });

  it('a switch that is not a boolean fails the start, naming the key or variable', () => {
    expect(loadError({ http: { statusApi: 'no' } }).keyPath).toBe('http.statusApi');
    const error = loadError({}, { INGESTOR_STATUS_API: 'sometimes' });
    expect(error.keyPath).toBe('INGESTOR_STATUS_API');
    expect(error.message).toBe('config: env INGESTOR_STATUS_API must be true or false, got "sometimes"');
  });

  it('the embedded broker is off by default and adds no source', () => {
    const config = loadFile({});
    expect(config.embeddedBroker).toEqual({ enabled: false, host: '127.0.0.1', port: 1883, users: [] });
    expect(config.mqttSources.map((s) => s.name)).toEqual(['local']);
  });

  it('enabled, its QoS 1 source replaces the default localhost one, or comes after the configured ones', () => {
    const only = load({ embeddedBroker: { enabled: true, port: 1999 } }, {});
    expect(only.notices.join('\n')).not.toMatch(/defaulting to/);
    expect(only.config.mqttSources).toEqual([
      expect.objectContaining({
        name: 'embedded',
        broker: 'tcp://127.0.0.1:1999',
        topics: ['meshcore/#'],
        qos: 1,
        clientId: 'meshcore-ingestor-embedded',
        embedded: true,
        username: expect.any(String),
        password: expect.any(String),
      }),
    ]);
    const both = loadFile({ mqttSources: [source({ name: 'east' })], embeddedBroker: { enabled: true, host: '0.0.0.0' } });
    expect(both.mqttSources.map((s) => [s.name, s.broker])).toEqual([
      ['east', 'tcp://b:1883'],
      // Listening on every address, the service connects to itself over loopback.
      ['embedded', 'tcp://127.0.0.1:1883'],
    ]);
    // The same process resolves the same credentials: a reload sees no change.
    expect(loadFile({ embeddedBroker: { enabled: true } }).mqttSources[0].password).toBe(only.config.mqttSources[0].password);
  });

  it('env switches it on and moves its port', () => {
    const config = loadFile({}, { INGESTOR_EMBEDDED_BROKER: 'yes', INGESTOR_EMBEDDED_BROKER_PORT: '2883' });
    expect(config.embeddedBroker).toMatchObject({ enabled: true, port: 2883 });
    expect(config.mqttSources.map((s) => s.broker)).toEqual(['tcp://127.0.0.1:2883']);
    expect(loadError({}, { INGESTOR_EMBEDDED_BROKER_PORT: '0' }).keyPath).toBe('INGESTOR_EMBEDDED_BROKER_PORT');
  });

  it.each([
    [{ embeddedBroker: { port: 0 } }, 'embeddedBroker.port', 'must be an integer between 1 and 65535'],
    [{ embeddedBroker: { host: ' ' } }, 'embeddedBroker.host', 'must not be empty'],
    [{ embeddedBroker: { users: [{ username: 'a' }] } }, 'embeddedBroker.users[0].password', 'must be a string'],
    [{ embeddedBroker: { users: [{ username: '', password: 'x' }] } }, 'embeddedBroker.users[0].username', 'must not be empty'],
  ])('rejects %j naming %s', (file, keyPath, problem) => {
    const error = loadError(file);
    expect(error.keyPath).toBe(keyPath);
    expect(error.message).toContain(problem);
  });

  it('a misspelt key inside embeddedBroker stops the start (it would do nothing)', () => {
    expect(loadError({ embeddedBroker: { enable: true } }).message).toMatch(/embeddedBroker\.enable/);
  });

  it('runtime.maxMemoryMB is named as ignored at start', () => {
    expect(load({ runtime: { maxMemoryMB: 256 } }, {}).warnings).toEqual([
      "config: runtime.maxMemoryMB=256 is ignored (Node has no soft memory limit like Go's); for a hard V8 heap cap set NODE_OPTIONS=--max-old-space-size=<MiB>",
    ]);
    expect(load({}, {}).warnings).toEqual([]);
  });
});
