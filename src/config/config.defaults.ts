/**
 * Default values. CoreScope's are those of the reference ingestor (ingestor-spec §1.2–1.4); the
 * ones marked "ours" belong to blocks CoreScope does not have and are documented in the README.
 */
export const CONFIG_DEFAULTS = {
  configFileName: 'config.json',
  dbPath: 'data/meshcore.db',
  channelKeysFileName: 'channel-rainbow.json',
  statsFilePath: '/tmp/corescope-ingestor-stats.json',
  slowWriterMs: 500,

  localSource: { name: 'local', broker: 'mqtt://localhost:1883' },
  envSourceName: 'env',
  legacySourceName: 'default',
  topic: 'meshcore/#',
  connectTimeoutSec: 30,

  retention: { nodeDays: 7, observerDays: 14, metricsDays: 30, packetDays: 0, clientRxDays: 0 },
  metricsSampleIntervalSec: 300,
  maxMemoryMB: 0,
  incrementalVacuumPages: 1024,
  neighborEdgesMaxAgeDays: 5,
  ingestBufferSize: 50_000,

  // ours
  qos: 0,
  sessionExpirySec: 86_400,
  http: { port: 8080, host: '0.0.0.0', enabled: true, statusApi: true },
  embeddedBroker: { enabled: false, host: '127.0.0.1', port: 1883 },
  embeddedSource: { name: 'embedded', clientId: 'meshcore-ingestor-embedded' },
  ingest: { batchSize: 2000, flushIntervalMs: 50, highWaterMark: 10000, workerThread: undefined },
  sqlite: { cacheSizeMiB: 16, walAutocheckpointPages: 10_000 },
  watchdog: { intervalSec: 60, thresholdSec: 300 },
  log: { format: 'text', level: 'log' },
  // Schedules: REFERENCE_SCHEDULES in maintenance-schedules.ts.
  maintenance: { deleteChunkRows: 5000 },
} as const;
