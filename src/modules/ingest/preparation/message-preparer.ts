import type { AppConfig, GeoFilterConfig } from '../../../config/config.types';
import { validateAdvert } from '../../decoder/advert-checks';
import type { DecodeContext, DecodeOutcome } from '../../decoder/decoder.types';
import { passesGeoFilter } from '../filters/geo-filter';
import type { IngestMessage, SourceRules } from '../ingest-message';
import { firstPresentNumber, firstString } from '../message/numeric-coercion';
import { readEnvelopeStamp } from '../message/envelope-time';
import { extractObserverMeta } from '../message/observer-status';
import { parseJsonObject, routeMessage, type RoutingRules } from '../routing/topic-router';
import type { AdvertVerdict, PreparedMessage, PreparedPacket } from './prepared-message';

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

function finiteOrNull(n: number | undefined): number | null {
  return n === undefined || !Number.isFinite(n) ? null : n;
}

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
  prepare(message: Pick<IngestMessage, 'topic' | 'payload' | 'source'>): PreparedMessage {
    try {
      return this.prepareUnsafe(message);
    } catch (err) {
      return { kind: 'failed', error: String((err as Error)?.message ?? err) };
    }
  }

  private prepareUnsafe(message: Pick<IngestMessage, 'topic' | 'payload' | 'source'>): PreparedMessage {
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

  private preparePacket(topic: string, observerId: string, region: string, msg: Record<string, unknown>): PreparedMessage {
    const raw = msg.raw as string;
    const outcome = this.decode(raw, this.context);
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

    const prepared: PreparedPacket = {
      kind: 'packet',
      observerId,
      iata: (payloadRegion || region).trim().toUpperCase(),
      origin,
      envelope: readEnvelopeStamp(msg.timestamp),
      snr: finiteOrNull(firstPresentNumber(msg, ['SNR', 'snr'])),
      rssi: finiteOrNull(firstPresentNumber(msg, ['RSSI', 'rssi'])),
      score: finiteOrNull(firstPresentNumber(msg, ['score', 'Score'])),
      direction: firstString(msg, ['direction', 'Direction']) ?? null,
      rawHex: packet.raw,
      hash: packet.hash,
      routeType: packet.routeType,
      payloadType: packet.payloadType,
      payloadVersion: packet.payloadVersion,
      decodedJson: packet.decodedJson,
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
}
