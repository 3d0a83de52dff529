import type { AppConfig, GeoFilterConfig } from '../../../config/config.types';
import { validateAdvert } from '../../decoder/advert-checks';
import type { DecodeContext, DecodedPacket, DecodeOutcome } from '../../decoder/decoder.types';
import { decodeFramedPacket, framedPathJson, framePacket } from '../../decoder/packet-decoder';
import { PAYLOAD_TYPE } from '../../decoder/payload-decoders';
import { passesGeoFilter } from '../filters/geo-filter';
import type { IngestMessage, SourceRules } from '../ingest-message';
import { readObservationFields } from '../message/numeric-coercion';
import { readEnvelopeStamp } from '../message/envelope-time';
import { extractObserverMeta } from '../message/observer-status';
import { parseJsonObject, routeMessage, type RoutingRules } from '../routing/topic-router';
import { parseCaptureLine } from './capture-line';
import type { RecentHashes } from './recent-hashes';
import type { AdvertVerdict, PreparedCaptured, PreparedDecodeError, PreparedInvalidLine, PreparedMessage, PreparedPacket } from './prepared-message';

/**
 * The part of the config the preparation reads: plain data, so a worker thread gets it as is
 * (and never sees broker credentials).
 */
export interface PreparerSettings {
  clientRxCoverage: boolean;
  /** Lower-cased, trimmed. */
  observerBlacklist: readonly string[];
  /** Upper-cased, trimmed. */
  observerIATAWhitelist: readonly string[];
  /** Per source name: its iataFilter and fallback region. */
  sources: ReadonlyArray<{ name: string; iataFilter: readonly string[]; region?: string }>;
  geoFilter: GeoFilterConfig | null;
  foreignAdverts: { mode: 'flag' | 'drop' };
  validateSignatures: boolean;
}

export function preparerSettingsOf(config: AppConfig): PreparerSettings {
  return {
    clientRxCoverage: config.clientRxCoverage.enabled,
    observerBlacklist: [...config.observerBlacklist],
    observerIATAWhitelist: [...config.observerIATAWhitelist],
    sources: config.mqttSources.map((s) => ({ name: s.name, iataFilter: [...s.iataFilter], region: s.region })),
    geoFilter: config.geoFilter,
    foreignAdverts: { mode: config.foreignAdverts.mode },
    validateSignatures: config.validateSignatures,
  };
}

const NO_RULES: SourceRules = { iataFilter: new Set() };

/**
 * The database-free half of the ingest pipeline (ingestor-spec §2.3–§2.5, §3.1 steps 1–5): JSON,
 * routing and filters, decoding, the advert checks and the geo filter. Pure and deterministic for
 * a given message (the signature cache only saves time), so it can run in a worker thread while
 * the writer stores the previous batch.
 */
export class MessagePreparer {
  private readonly observerBlacklist: ReadonlySet<string>;
  private readonly iataWhitelist: ReadonlySet<string>;
  private readonly sourceRules = new Map<string, SourceRules>();

  constructor(
    private readonly settings: PreparerSettings,
    private readonly context: DecodeContext,
    private readonly decode: (raw: string, ctx: DecodeContext) => DecodeOutcome,
    /** Worker only: copies of recent transmissions are sent without their transmission columns. */
    private readonly recentHashes?: RecentHashes,
  ) {
    this.observerBlacklist = new Set(settings.observerBlacklist);
    this.iataWhitelist = new Set(settings.observerIATAWhitelist);
    for (const source of settings.sources) {
      // The first source of a name wins, as in the status registry.
      if (!this.sourceRules.has(source.name)) {
        this.sourceRules.set(source.name, { iataFilter: new Set(source.iataFilter), region: source.region });
      }
    }
  }

  /** Never throws: a failure becomes a 'failed' message that the writer counts and skips. */
  prepare(message: Pick<IngestMessage, 'topic' | 'payload' | 'source' | 'captureLine'>): PreparedMessage {
    if (message.captureLine !== undefined) return this.prepareCaptureLine(message.captureLine, message.payload);
    return this.prepareSafely(message);
  }

  private prepareCaptureLine(line: number, text: IngestMessage['payload']): PreparedMessage {
    const parsed = parseCaptureLine(typeof text === 'string' ? text : Buffer.isBuffer(text) ? text.toString('utf8') : JSON.stringify(text));
    if (typeof parsed === 'string') return { kind: 'invalid-line', line, reason: parsed };
    return { kind: 'captured', topic: parsed.topic, source: parsed.source, message: this.prepareSafely(parsed) };
  }

  private prepareSafely(message: Pick<IngestMessage, 'topic' | 'payload' | 'source'>): Exclude<PreparedMessage, PreparedCaptured | PreparedInvalidLine> {
    try {
      return this.prepareUnsafe(message);
    } catch (err) {
      return { kind: 'failed', error: String((err as Error)?.message ?? err) };
    }
  }

  private prepareUnsafe(message: Pick<IngestMessage, 'topic' | 'payload' | 'source'>): Exclude<PreparedMessage, PreparedCaptured | PreparedInvalidLine> {
    const { payload } = message;
    const msg = typeof payload === 'object' && !Buffer.isBuffer(payload) ? payload : parseJsonObject(payload);
    if (!msg) return { kind: 'drop', reason: 'not_json_object' };
    const rules = this.sourceRules.get(message.source) ?? NO_RULES;
    const routing: RoutingRules = {
      clientRxCoverage: this.settings.clientRxCoverage,
      observerBlacklist: this.observerBlacklist,
      iataWhitelist: this.iataWhitelist,
      sourceIataFilter: rules.iataFilter,
    };
    const route = routeMessage(message.topic, msg, routing);
    switch (route.kind) {
      case 'drop':
        return route.observerId === undefined
          ? { kind: 'drop', reason: route.reason }
          : { kind: 'drop', reason: route.reason, observerId: route.observerId };
      case 'status':
        return {
          kind: 'status',
          observerId: route.observerId,
          region: route.region,
          name: typeof msg.origin === 'string' ? msg.origin : '',
          meta: extractObserverMeta(msg),
        };
      case 'packet':
        return this.preparePacket(message.topic, route.observerId, route.region || rules.region || '', msg);
      case 'companion-channel':
        return { kind: 'companion', channel: true, topicIndex: route.topicIndex, msg };
      case 'companion-direct':
        return { kind: 'companion', channel: false, topicIndex: '', msg };
      case 'client-reception':
        return { kind: 'client-reception', clientKey: route.clientKey, msg };
    }
  }

  private preparePacket(topic: string, observerId: string, region: string, msg: Record<string, unknown>): PreparedPacket | PreparedDecodeError {
    const raw = msg.raw as string;
    const outcome = this.decodeForStoring(raw);
    if (!outcome.ok) {
      const parts = topic.split('/');
      if (parts.length > 2) parts[2] = parts[2].slice(0, 8);
      return { kind: 'decode-error', error: outcome.error, shortTopic: parts.join('/'), observerId, rawLength: raw.length };
    }
    const packet = outcome.packet;
    const origin = typeof msg.origin === 'string' ? msg.origin : '';
    const payloadRegion = typeof msg.region === 'string' && msg.region !== '' ? msg.region : '';

    let advertVerdict: AdvertVerdict = 'none';
    let advertReason: string | null = null;
    const advert = packet.payloadType === 4 ? packet.advert : undefined;
    if (advert) {
      advertReason = validateAdvert(advert);
      if (advertReason) advertVerdict = 'rejected';
      else if (this.settings.validateSignatures && advert.signatureValid === false) advertVerdict = 'bad-signature';
      else if (!passesGeoFilter(this.settings.geoFilter, advert.lat, advert.lon)) {
        advertVerdict = this.settings.foreignAdverts.mode === 'drop' ? 'geo-drop' : 'foreign';
      } else advertVerdict = 'ok';
    }

    // A copy of an advert being stored leaves out decoded_json too (it still needs the decoding:
    // its node is updated from every copy).
    const decodedJson = advert && this.recentHashes && isStored(advertVerdict) && this.recentHashes.seenBefore(packet.hash) ? null : packet.decodedJson;

    const prepared: PreparedPacket = {
      kind: 'packet',
      observerId,
      iata: (payloadRegion || region).trim().toUpperCase(),
      origin,
      envelope: readEnvelopeStamp(msg.timestamp),
      ...readObservationFields(msg),
      rawHex: packet.raw,
      hash: packet.hash,
      routeType: packet.routeType,
      payloadType: packet.payloadType,
      payloadVersion: packet.payloadVersion,
      decodedJson,
      pathJson: packet.pathJson,
      channelHash: packet.channelHash,
      scopeName: packet.scopeName,
      fromPubkey: packet.fromPubkey,
      advertVerdict,
      advertReason,
      advert: advert
        ? {
            pubKey: advert.pubKey,
            name: advert.name,
            role: advert.role,
            lat: advert.lat,
            lon: advert.lon,
            batteryMv: advert.batteryMv,
            temperatureC: advert.temperatureC,
          }
        : null,
    };
    return prepared;
  }

  /**
   * Decodes a packet for the writer. With recentHashes (the worker), a copy of a transmission
   * passed on moments ago is only framed (checks, hash, path): the writer finds it stored and
   * needs none of its payload. Adverts are always decoded (their node is updated from every
   * copy), TRACE packets too (their path comes from the payload).
   */
  private decodeForStoring(raw: string): { ok: false; error: string } | { ok: true; packet: DecodedColumns } {
    if (!this.recentHashes) return this.decode(raw, this.context);
    const framed = framePacket(raw);
    if (!framed.ok) return framed;
    const frame = framed.frame;
    const pathJson = framedPathJson(frame);
    if (pathJson !== undefined && frame.payloadType !== PAYLOAD_TYPE.ADVERT && this.recentHashes.seenBefore(frame.hash)) {
      return {
        ok: true,
        packet: {
          raw,
          hash: frame.hash,
          routeType: frame.routeType,
          payloadType: frame.payloadType,
          payloadVersion: frame.payloadVersion,
          decodedJson: null,
          pathJson,
          channelHash: null,
          scopeName: null,
          fromPubkey: null,
        },
      };
    }
    return decodeFramedPacket(frame, this.context);
  }
}

/** The columns a prepared packet takes from decoding (decodedJson null: only framed). */
type DecodedColumns = Pick<DecodedPacket, 'raw' | 'hash' | 'routeType' | 'payloadType' | 'payloadVersion' | 'pathJson' | 'channelHash' | 'scopeName' | 'fromPubkey' | 'advert'> & {
  decodedJson: string | null;
};

const isStored = (verdict: AdvertVerdict): boolean => verdict === 'ok' || verdict === 'foreign' || verdict === 'none';
