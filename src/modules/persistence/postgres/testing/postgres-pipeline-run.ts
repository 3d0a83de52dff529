/**
 * Test harness of the PostgreSQL ingest path: the real pipeline on the unit-of-work repository and its batch
 * writer, batch by batch as the writer service runs it (prepare, prefetch the keys, apply, commit), and the
 * message set the parity specs store into both engines. No test-framework imports here.
 */
import type { Pool } from 'pg';
import { buildChannelKeyMap } from '../../../decoder/channel-keys';
import { createDecodeContext } from '../../../decoder/decode-context';
import { decodePacket } from '../../../decoder/packet-decoder';
import { buildRegionKeys } from '../../../decoder/region-keys';
import type { IngestMessage } from '../../../ingest/ingest-message';
import { PathResolver } from '../../../ingest/path-resolution/path-resolver';
import { IngestPipeline, type PipelineLogger } from '../../../ingest/pipeline/ingest-pipeline';
import {
  advertHex,
  identity,
  NOW,
  packetTopic,
  readCorpus,
  REAL_STATUS_PAYLOAD,
  scopedAdvertHex,
  statusTopic,
  uniquePacket,
  type HarnessMessage,
  type PipelineHarness,
} from '../../../ingest/pipeline/pipeline.test-support';
import { keysOfPrepared } from '../../../ingest/preparation/prepared-keys';
import { IngestCounters } from '../../../stats/ingest-counters';
import { PostgresBatchWriter } from '../postgres-batch-writer';
import { PostgresIngestRepository } from '../postgres-ingest.repository';

export const PARITY_BATCH = 100;
/** Client receptions on; a geo filter in flag mode (foreign_advert) and region keys (default_scope) for the adverts. */
export const PARITY_CONFIG = {
  clientRxCoverage: { enabled: true },
  hashRegions: ['sjc', '#lax'],
  geo_filter: { polygon: [[37.8, -122.52], [37.8, -121.8], [37.2, -121.8], [37.2, -122.52]], bufferKm: 10 },
};

function toMessage(m: HarnessMessage): IngestMessage {
  const payload = Buffer.isBuffer(m.payload) || typeof m.payload === 'string' ? m.payload : Buffer.from(JSON.stringify(m.payload));
  return { source: m.source ?? 'test', topic: m.topic, payload };
}

/** Every kind of write the ingest path does, in a deterministic order and clock. */
export function parityMessages(): HarnessMessage[] {
  const corpus = readCorpus();
  const out: HarnessMessage[] = [];
  let t = NOW;
  const at = () => (t += 1000);
  // An observer heard once, at the very start, with metrics: the one a short observer retention makes inactive.
  const earlyStatus = JSON.parse(REAL_STATUS_PAYLOAD) as Record<string, unknown>;
  out.push({ topic: statusTopic('EARLYBIRD', 'SJC'), payload: { ...earlyStatus, origin: 'Early bird' }, nowMs: at() });
  for (const pass of [1, 2]) {
    corpus.forEach((line, i) => {
      out.push({
        topic: packetTopic(pass === 1 ? line.observer : `${line.observer}-p2`, line.iata),
        payload: { raw: line.raw, SNR: ((i * 7) % 40) / 4 - 5, RSSI: -60 - ((i * 13) % 60), origin: line.observer_name },
        nowMs: at(),
      });
      if (i % 50 === 0) {
        const status = JSON.parse(REAL_STATUS_PAYLOAD) as Record<string, unknown>;
        out.push({ topic: statusTopic(line.observer, line.iata), payload: { ...status, origin: line.observer_name }, nowMs: at() });
      }
    });
  }
  // An earlier copy (first_seen moves back). (The same copy again from the same observer is the one case where
  // the engines count apart on purpose: see the redelivery test below.)
  out.push({ topic: packetTopic('late-observer', 'SJC'), payload: { raw: corpus[4].raw }, nowMs: NOW - 60_000 });
  // Adverts: valid with telemetry-free appdata, re-heard; a tampered one (dropped_packets).
  const node = identity(21);
  const advert = advertHex(node, { nodeType: 2, name: 'Parity Repeater', lat: 37.1, lon: -122.2 });
  for (const observer of ['adv-a', 'adv-b', 'adv-c']) out.push({ topic: packetTopic(observer), payload: { raw: advert, origin: observer }, nowMs: at() });
  out.push({ topic: packetTopic('adv-a'), payload: { raw: advertHex(identity(22), { nodeType: 1, name: 'Bad' }, { tamper: true }), origin: 'adv-a' }, nowMs: at() });
  // A sensor with telemetry, heard twice; a far-away repeater (foreign); region-scoped adverts, the scope changing.
  const sensor = advertHex(identity(23), { nodeType: 4, name: 'Sensor', lat: 37.4, lon: -122.0, batteryMv: 3900, temperatureRaw: 2150 });
  for (const observer of ['adv-a', 'adv-b']) out.push({ topic: packetTopic(observer), payload: { raw: sensor }, nowMs: at() });
  out.push({ topic: packetTopic('adv-c'), payload: { raw: advertHex(identity(24), { nodeType: 2, name: 'Paris', lat: 48.85, lon: 2.35 }) }, nowMs: at() });
  const scoped = identity(25);
  out.push({ topic: packetTopic('adv-a'), payload: { raw: scopedAdvertHex(scoped, { nodeType: 2, name: 'Scoped' }, 'lax') }, nowMs: at() });
  out.push({ topic: packetTopic('adv-b'), payload: { raw: scopedAdvertHex(scoped, { nodeType: 2, name: 'Scoped 2' }, 'sjc') }, nowMs: at() });
  // Companion bridge text and client receptions.
  out.push({ topic: 'meshcore/message/channel/1', payload: { text: 'Alice: parity', channel_idx: 1, SNR: 3.5, RSSI: -90 }, nowMs: at() });
  const gps = { lat: 37.3, lon: -121.9, acc_m: 12 };
  for (let n = 0; n < 5; n++) {
    out.push({
      topic: 'meshcore/client/a1b2c3d4e5f60718/packets',
      payload: { raw: uniquePacket(900 + n, { routeType: 1, pathByte: 0x42, path: Uint8Array.of(0xa1, 0xb2, 0xc3, 0xd4) }), gps, direction: 'rx' },
      nowMs: at(),
    });
  }
  return out;
}

/** The pipeline on PostgreSQL, as the writer service will run it. */
export class PostgresRun {
  readonly counters = new IngestCounters();
  readonly repository = new PostgresIngestRepository();
  readonly writer: PostgresBatchWriter;
  readonly pipeline: IngestPipeline;
  readonly failed: string[] = [];

  constructor(
    readonly pool: Pool,
    harness: PipelineHarness,
  ) {
    const config = harness.config;
    const logger: PipelineLogger = { log: () => undefined, warn: () => undefined, debug: () => undefined };
    this.pipeline = new IngestPipeline({
      config,
      decode: decodePacket,
      context: createDecodeContext(buildChannelKeyMap({ hashChannels: config.hashChannels, channelKeys: config.channelKeys }), {
        validateSignatures: config.validateSignatures,
        regionKeys: buildRegionKeys(config.hashRegions),
      }),
      repository: this.repository,
      resolver: new PathResolver(),
      logger,
    });
    this.writer = new PostgresBatchWriter(pool, this.repository);
  }

  async batch(batch: readonly HarnessMessage[]): Promise<void> {
    const items = batch.map((m) => {
      const message = toMessage(m);
      return { m, message, prepared: this.pipeline.preparer.prepare(message) };
    });
    await this.writer.commitBatch(
      items,
      (item) => keysOfPrepared(item.prepared),
      (item) => this.pipeline.apply(item.message, item.prepared, this.counters, item.m.nowMs ?? NOW),
      (item) => this.failed.push(item.m.topic),
    );
  }

  async sendAll(all: readonly HarnessMessage[], size: number): Promise<void> {
    for (let i = 0; i < all.length; i += size) await this.batch(all.slice(i, i + size));
  }
}
