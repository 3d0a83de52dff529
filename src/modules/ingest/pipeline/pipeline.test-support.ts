/**
 * Test harness of the ingest pipeline: a real migrated SQLite file in a temp folder, a real
 * AppConfig (loadConfig on a temp config.json), the real decoder, repository and batch writer.
 * Messages go through `SqliteBatchWriter.commitBatch` exactly as `IngestWriterService` runs them
 * (one transaction per batch, a savepoint per message, counters applied only on commit), but
 * synchronously and with an explicit `nowMs` per message. No test-framework imports here.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { AppConfig } from '../../../config/config.types';
import { loadConfig } from '../../../config/load-config';
import { buildChannelKeyMap } from '../../decoder/channel-keys';
import { createDecodeContext } from '../../decoder/decode-context';
import type { DecodeContext, DecodeOutcome } from '../../decoder/decoder.types';
import { buildPacket, buildSignedAdvertPayload, buildAdvertAppdata, type AdvertAppdata, type Ed25519Identity, identityFromSeed, type PacketEnvelope } from '../../decoder/packet-builders';
import { decodePacket } from '../../decoder/packet-decoder';
import { buildRegionKeys, deriveRegionKey, regionTransportCode } from '../../decoder/region-keys';
import { openDatabase, type OpenedDatabase } from '../../persistence/sqlite/open-database';
import type { IngestRepository } from '../../persistence/repositories/ingest.repository';
import { SqliteIngestRepository } from '../../persistence/sqlite/sqlite-ingest.repository';
import { SqliteBatchWriter } from '../../persistence/sqlite/sqlite-batch-writer';
import { IngestCounters } from '../../stats/ingest-counters';
import type { IngestMessage } from '../ingest-message';
import { PathResolver } from '../path-resolution/path-resolver';
import { IngestPipeline, type PipelineDeps, type PipelineLogger } from './ingest-pipeline';

/** A fixed ingest clock: 2026-07-18T12:00:00Z. */
export const NOW = Date.parse('2026-07-18T12:00:00Z');
export const NOW_RFC3339 = '2026-07-18T12:00:00Z';
export const NOW_EPOCH = NOW / 1000;

/** The real-packet corpus shared by the tools (498 storable lines + 1 rejected). */
export const CORPUS_PATH = path.resolve(__dirname, '../../../../../shared/tools/corpus/real-packets.jsonl');

export interface CorpusLine {
  raw: string;
  hash: string;
  payload_type: number;
  route_type: number;
  observer: string;
  observer_name: string;
  iata: string;
}

export function readCorpus(): CorpusLine[] {
  return readFileSync(CORPUS_PATH, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as CorpusLine);
}

export interface LogLine {
  level: 'log' | 'warn' | 'debug';
  line: string;
}

export interface HarnessOptions {
  /** Content of the temp config.json (the real loader validates it). */
  config?: Record<string, unknown>;
  /** Wraps the real repository (fault injection, call spying). */
  wrapRepository?: (real: IngestRepository) => IngestRepository;
  /** Replaces the decoder (fault injection). Receives the real one. */
  decode?: (raw: string, ctx: DecodeContext, real: PipelineDeps['decode']) => DecodeOutcome;
}

export interface HarnessMessage {
  topic: string;
  /** Object → JSON-encoded Buffer (what MQTT delivers); string/Buffer passed as is. */
  payload: unknown;
  nowMs?: number;
  source?: string;
}

export interface ItemError {
  topic: string;
  error: unknown;
}

export interface BatchResult {
  /** Counters of this batch (only meaningful when it committed). */
  counters: IngestCounters;
  errors: ItemError[];
}

export const DEFAULT_SOURCE = 'test';

function toPayload(payload: unknown): IngestMessage['payload'] {
  if (Buffer.isBuffer(payload) || typeof payload === 'string') return payload;
  return Buffer.from(JSON.stringify(payload), 'utf8');
}

export class PipelineHarness {
  readonly logs: LogLine[] = [];
  /** Totals of the committed batches. */
  readonly counters = new IngestCounters();
  /** How many batches the writer had to re-run with savepoints. */
  restarts = 0;
  readonly writer: SqliteBatchWriter;
  readonly repository: SqliteIngestRepository;
  readonly pipeline: IngestPipeline;
  readonly context: DecodeContext;

  constructor(
    readonly dir: string,
    readonly config: AppConfig,
    readonly database: OpenedDatabase,
    options: HarnessOptions,
  ) {
    const db = database.connection;
    this.repository = new SqliteIngestRepository(db);
    this.writer = new SqliteBatchWriter(db);
    this.context = createDecodeContext(
      buildChannelKeyMap({ hashChannels: config.hashChannels, channelKeys: config.channelKeys }),
      { validateSignatures: config.validateSignatures, regionKeys: buildRegionKeys(config.hashRegions) },
    );
    const logger: PipelineLogger = {
      log: (line) => this.logs.push({ level: 'log', line }),
      warn: (line) => this.logs.push({ level: 'warn', line }),
      debug: (line) => this.logs.push({ level: 'debug', line }),
    };
    const customDecode = options.decode;
    this.pipeline = new IngestPipeline({
      config,
      decode: customDecode ? (raw, ctx) => customDecode(raw, ctx, decodePacket) : decodePacket,
      context: this.context,
      repository: options.wrapRepository ? options.wrapRepository(this.repository) : this.repository,
      resolver: new PathResolver(),
      logger,
    });
  }

  get db(): BetterSqlite3.Database {
    return this.database.connection;
  }

  /** Runs the messages as one batch (one transaction, a savepoint each); throws BatchAbortedError like the writer. */
  batch(messages: readonly HarnessMessage[]): BatchResult {
    const batchCounters = new IngestCounters();
    const item = new IngestCounters();
    const errors: ItemError[] = [];
    this.writer.commitBatch(
      messages,
      // as IngestWriterService: the first attempt counts into the batch, the savepoint attempt per message
      (m, isolated) => {
        const message = { source: m.source ?? DEFAULT_SOURCE, topic: m.topic, payload: toPayload(m.payload) };
        if (!isolated) return this.pipeline.handle(message, batchCounters, m.nowMs ?? NOW);
        item.reset();
        this.pipeline.handle(message, item, m.nowMs ?? NOW);
        batchCounters.merge(item);
      },
      (m, error) => {
        batchCounters.add('message_errors');
        errors.push({ topic: m.topic, error });
      },
      // the writer re-runs a batch with per-message savepoints after a failure: forget the first attempt
      () => {
        batchCounters.reset();
        errors.length = 0;
        this.restarts++;
      },
      this.pipeline.batchScope,
    );
    this.counters.merge(batchCounters);
    return { counters: batchCounters, errors };
  }

  /** One message in its own batch. */
  send(topic: string, payload: unknown, nowMs = NOW, source = DEFAULT_SOURCE): BatchResult {
    return this.batch([{ topic, payload, nowMs, source }]);
  }

  /** Messages in consecutive batches of `size`. */
  sendAll(messages: readonly HarnessMessage[], size: number): void {
    for (let i = 0; i < messages.length; i += size) this.batch(messages.slice(i, i + size));
  }

  rows<T = Record<string, unknown>>(sql: string, ...params: unknown[]): T[] {
    return this.db.prepare(sql).all(...params) as T[];
  }

  row<T = Record<string, unknown>>(sql: string, ...params: unknown[]): T | undefined {
    return this.db.prepare(sql).get(...params) as T | undefined;
  }

  value<T = unknown>(sql: string, ...params: unknown[]): T {
    return this.db.prepare(sql).pluck().get(...params) as T;
  }

  count(table: string, where = '1=1', ...params: unknown[]): number {
    return this.value<number>(`SELECT COUNT(*) FROM ${table} WHERE ${where}`, ...params);
  }

  /** Row counts of every table the ingest path writes. */
  counts(): Record<string, number> {
    const tables = ['transmissions', 'observations', 'observers', 'nodes', 'observer_metrics', 'dropped_packets', 'client_receptions', 'client_observers'];
    return Object.fromEntries(tables.map((t) => [t, this.count(t)]));
  }

  async close(): Promise<void> {
    await this.database.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Opens a fresh migrated database and builds the pipeline on it. */
export async function pipelineHarness(options: HarnessOptions = {}): Promise<PipelineHarness> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mqi-pipeline-'));
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ dbPath: 'ingest.db', ...options.config }));
  const { config } = loadConfig({ configPath: 'config.json', cwd: dir, env: {} });
  const database = await openDatabase(path.join(dir, 'ingest.db'), { startBackgroundJobs: false });
  return new PipelineHarness(dir, config, database, options);
}

// ---------------------------------------------------------------------------
// Packet and message builders
// ---------------------------------------------------------------------------

/** A deterministic identity from one seed byte. */
export function identity(seedByte: number): Ed25519Identity {
  return identityFromSeed(new Uint8Array(32).fill(seedByte));
}

export function pubkeyHex(id: Ed25519Identity): string {
  return id.publicKey.toString('hex');
}

/** A signed advert; `tamper` flips a signature byte, `truncateSignature` keeps the bytes but corrupts the tail. */
export function advertHex(
  id: Ed25519Identity,
  appdata: AdvertAppdata,
  options: PacketEnvelope & { timestamp?: number; tamper?: boolean } = {},
): string {
  const payload = Buffer.from(buildSignedAdvertPayload(id, options.timestamp ?? 1_752_840_000, buildAdvertAppdata(appdata)));
  if (options.tamper) payload[36 + 10] ^= 0xff; // inside the 64-byte signature (after pubkey 32 + timestamp 4)
  return buildPacket(4, payload, options);
}

/**
 * A transport-scoped (TRANSPORT_FLOOD) advert whose code1 is the region's transport code, so the
 * decoder matches `#<region>`; `region` undefined → a code that matches no configured region.
 */
export function scopedAdvertHex(id: Ed25519Identity, appdata: AdvertAppdata, region: string | undefined, path: Uint8Array = new Uint8Array(0)): string {
  const payload = buildSignedAdvertPayload(id, 1_752_840_000, buildAdvertAppdata(appdata));
  const code = region === undefined ? 0x1234 : regionTransportCode(deriveRegionKey(`#${region}`), 4, payload);
  return buildPacket(4, payload, { routeType: 0, transportCodes: [code & 0xff, code >> 8, 0, 0], path });
}

/** A plain TXT_MSG-like packet (payload type 2) with arbitrary payload bytes. */
export function textPacketHex(payloadBytes: readonly number[], envelope: PacketEnvelope = {}): string {
  return buildPacket(2, Uint8Array.from(payloadBytes), envelope);
}

/** A distinct TXT_MSG packet per n (payload varies, so does the content hash). */
export function uniquePacket(n: number, envelope: PacketEnvelope = {}): string {
  return buildPacket(2, Uint8Array.of(0x10, 0x20, n & 0xff, (n >> 8) & 0xff, 0xaa, 0xbb, 0xcc, 0xdd), envelope);
}

/** Observer packet topic. */
export function packetTopic(observer: string, iata = 'SJC'): string {
  return `meshcore/${iata}/${observer}/packets`;
}

export function statusTopic(observer: string, iata = 'SJC'): string {
  return `meshcore/${iata}/${observer}/status`;
}

/** The real status payload of ingestor-spec §2.4 (observer_status_meta_test.go). */
export const REAL_STATUS_PAYLOAD =
  '{"status":"online","origin":"TestObserver","origin_id":"AABBCCDD","radio":"910.5250244,62.5,7,5","model":"Heltec V3","firmware_version":"1.12.0-test","client_version":"meshcoretomqtt/1.0.8.0","stats":{"battery_mv":4209,"uptime_secs":75821,"noise_floor":-109,"tx_air_secs":80,"rx_air_secs":1903,"recv_errors":934}}';

/** The golden MRR2-R advert of the reference's decoder tests (valid signature, lat 37, lon -122.1). */
export const GOLDEN_ADVERT_HEX =
  '120046D62DE27D4C5194D7821FC5A34A45565DCC2537B300B9AB6275255CEFB65D840CE5C169C94C9AED39E8BCB6CB6EB0335497A198B33A1A610CD3B03D8DCFC160900E5244280323EE0B44CACAB8F02B5B38B91CFA18BD067B0B5E63E94CFC85F758A8530B9240933402E0E6B8F84D5252322D52';
export const GOLDEN_ADVERT_PUBKEY = '46d62de27d4c5194d7821fc5a34a45565dcc2537b300b9ab6275255cefb65d84';
export const GOLDEN_ADVERT_HASH = 'a2df093d3bfc51f5';

/** Every table the corpus comparison looks at, wall-clock columns excluded. */
export function dumpIngestTables(db: BetterSqlite3.Database): Record<string, unknown[]> {
  return {
    transmissions: db
      .prepare(
        `SELECT id, raw_hex, hash, first_seen, route_type, payload_type, payload_version, decoded_json, from_pubkey, last_seen,
           channel_hash, scope_name FROM transmissions ORDER BY id`,
      )
      .all(),
    observations: db.prepare('SELECT * FROM observations ORDER BY id').all(),
    nodes: db.prepare('SELECT * FROM nodes ORDER BY public_key').all(),
    observers: db.prepare('SELECT rowid AS _rowid, * FROM observers ORDER BY id').all(),
  };
}
