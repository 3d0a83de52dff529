import { AppConfig } from '../../../config/config.types';
import { sanitizeLogText, truncateId } from '../../../common/logging/sanitize-log-text';
import { roundToInterval, toEpochSeconds, toRfc3339 } from '../../../common/time/rfc3339';
import { DecodeContext, DecodeOutcome } from '../../decoder/decoder.types';
import { IngestBatchScope, IngestRepository } from '../../persistence/repositories/ingest.repository';
import { IngestCounters } from '../../stats/ingest-counters';
import { IngestMessage } from '../ingest-message';
import { buildCompanionMessage, COMPANION_OBSERVER_ID } from '../message/companion-message';
import { resolveEnvelopeStamp, resolveEnvelopeTime } from '../message/envelope-time';
import { finiteOrNull, firstPresentNumber, firstString, readObservationFields, toFloat64, type ObservationFields } from '../message/numeric-coercion';
import { PathResolver } from '../path-resolution/path-resolver';
import type { PerMessageKey } from '../per-message-log';
import { deriveHeardKey } from './client-reception';
import { MessagePreparer, preparerSettingsOf } from '../preparation/message-preparer';
import type { PreparedMessage, PreparedPacket, PreparedStatus, TransmissionData } from '../preparation/prepared-message';

export interface PipelineLogger {
  log(message: string): void;
  /**
   * `key`: a per-message line (bad input, a failed message), rate-limited per source and reason
   * by the service (README, "Bad input"); the counters count every message regardless.
   */
  warn(message: string, key?: PerMessageKey): void;
  debug(message: string): void;
}

export interface PipelineDeps {
  config: AppConfig;
  decode: (raw: string, ctx: DecodeContext) => DecodeOutcome;
  /** Production context (signature checks per config). */
  context: DecodeContext;
  repository: IngestRepository;
  resolver: PathResolver;
  logger: PipelineLogger;
}

const DAY_MS = 24 * 3600_000;


/**
 * The ingest pipeline of ingestor-spec §3: one message in, the reference's writes out, through the
 * repository. Two halves: MessagePreparer (parse, route, decode, advert checks; no database, may
 * run in a worker thread) and apply() here, which runs inside the writer's transaction and throws
 * only for write failures (the writer then rolls the message back alone, or the whole batch for
 * infrastructure errors).
 */
export class IngestPipeline {
  readonly preparer: MessagePreparer;
  private readonly clientContext: DecodeContext;

  constructor(private readonly deps: PipelineDeps) {
    this.preparer = new MessagePreparer(preparerSettingsOf(deps.config), deps.context, deps.decode);
    this.clientContext = { ...deps.context, validateSignatures: false };
  }

  /** Both halves in one go (replay of a single message, tests). */
  handle(message: IngestMessage, counters: IngestCounters, nowMs = Date.now()): void {
    this.apply(message, this.preparer.prepare(message), counters, nowMs);
  }

  /** The writing half: stores a prepared message at ingest time nowMs. */
  apply(message: IngestMessage, prepared: PreparedMessage, counters: IngestCounters, nowMs = Date.now()): void {
    const tag = message.source;
    switch (prepared.kind) {
      case 'captured':
        // The capture names topic and source (logs, per-source rules); the line stays the payload,
        // so that the message can be prepared again (fullTransmissionOf).
        return this.apply({ ...message, topic: prepared.topic, source: prepared.source }, prepared.message, counters, nowMs);
      case 'invalid-line':
        // Reported by the replay command (its onCommitted), which reads the line numbers.
        counters.add('invalid_lines');
        return;
      case 'drop':
        counters.drop(prepared.reason);
        if (prepared.reason === 'not_json_object') {
          this.deps.logger.debug(`MQTT [${tag}] payload on ${sanitizeLogText(message.topic)} is not a JSON object, dropped`);
        } else if (prepared.reason === 'observer_blacklist') {
          this.deps.logger.debug(`MQTT [${tag}] observer ${truncateId(prepared.observerId ?? '')} blacklisted, dropping`);
        } else if (prepared.reason === 'client_blacklist') {
          this.deps.logger.debug(`MQTT [${tag}] client ${truncateId(prepared.observerId ?? '')} blacklisted, dropping`);
        }
        return;
      case 'status':
        return this.handleStatus(tag, prepared, counters, nowMs);
      case 'packet':
        return this.handlePacket(message, prepared, counters, nowMs);
      case 'decode-error':
        counters.add('decode_errors');
        this.deps.logger.warn(
          `MQTT [${tag}] decode error: ${sanitizeLogText(prepared.error)} (topic=${sanitizeLogText(prepared.shortTopic)} observer=${truncateId(prepared.observerId)} rawHexLen=${prepared.rawLength})`,
          { source: tag, reason: 'decode_error' },
        );
        return;
      case 'companion':
        return this.handleCompanion(tag, prepared.channel ? 'channel' : 'direct', prepared.topicIndex, prepared.msg, counters, nowMs);
      case 'client-reception':
        return this.handleClientReception(tag, prepared.clientKey, prepared.msg, counters, nowMs);
      case 'failed':
        // Same line and counter as a message whose writes failed (the writer's onItemError).
        counters.add('message_errors');
        this.deps.logger.warn(
          `[writer] message on ${sanitizeLogText(message.topic)} from [${tag}] skipped: ${sanitizeLogText(prepared.error)}`,
          { source: tag, reason: 'message_failed' },
        );
        return;
    }
  }

  /** Where the writer tells the repository that a transaction begins and ends. */
  get batchScope(): IngestBatchScope {
    return this.deps.repository;
  }

  /** Rebuilds the resolved_path index from the database (active nodes, neighbor edges). */
  refreshPathIndex(): void {
    this.deps.resolver.refresh(this.deps.repository.listNodeKeys(), this.deps.repository.listNeighborEdges());
  }

  // ---- status (§3.2) ----

  private handleStatus(tag: string, status: PreparedStatus, counters: IngestCounters, nowMs: number) {
    const { observerId, region, name, meta } = status;
    const now = toRfc3339(nowMs);
    this.deps.repository.upsertObserver({ id: observerId, name, iata: region.trim().toUpperCase(), now, ...meta });
    counters.add('observer_upserts');
    counters.add('status_messages');
    if (meta) {
      this.deps.repository.insertObserverMetrics({
        observerId,
        timestamp: toRfc3339(roundToInterval(nowMs, this.deps.config.metrics.sampleIntervalSec)),
        ...meta,
      });
    }
    this.deps.logger.debug(`MQTT [${tag}] status: ${sanitizeLogText(name || observerId)} (${sanitizeLogText(region)})`);
  }

  // ---- observer packets (§3.1) ----

  private handlePacket(message: IngestMessage, packet: PreparedPacket, counters: IngestCounters, nowMs: number) {
    const tag = message.source;
    const { observerId, origin } = packet;
    const now = toRfc3339(nowMs);

    const envelope = resolveEnvelopeStamp(packet.envelope, nowMs);
    if (envelope.note) {
      this.deps.logger.debug(`MQTT [${tag}] ${envelope.note} from observer ${truncateId(observerId)}, using ingest time`);
    }
    if (envelope.naiveSkewSec !== undefined && observerId) {
      this.deps.repository.recordNaiveSkew(observerId, envelope.naiveSkewSec, now, toRfc3339(nowMs - DAY_MS));
    }

    const advert = packet.advert;
    switch (packet.advertVerdict) {
      case 'rejected':
        counters.add('advert_rejects');
        this.deps.logger.warn(`MQTT [${tag}] skipping corrupted ADVERT: ${sanitizeLogText(packet.advertReason ?? '')}`, {
          source: tag,
          reason: 'advert_rejected',
        });
        return;
      case 'bad-signature':
        this.deps.repository.insertDroppedPacket({
          hash: packet.hash,
          rawHex: packet.rawHex,
          reason: 'invalid signature',
          observerId,
          observerName: origin,
          nodePubkey: advert!.pubKey,
          nodeName: advert!.name,
        });
        counters.add('sig_drops');
        this.deps.logger.warn(
          `MQTT [${tag}] DROPPED invalid signature: hash=${packet.hash} name=${sanitizeLogText(advert!.name)} observer=${sanitizeLogText(origin || observerId)} pubkey=${advert!.pubKey.slice(0, 16)}`,
          { source: tag, reason: 'invalid_signature' },
        );
        return;
      case 'geo-drop':
        counters.add('geo_drops');
        return;
      case 'foreign':
        counters.add('foreign_adverts');
        this.deps.logger.debug(
          `MQTT [${tag}] foreign advert: node=${advert!.pubKey.slice(0, 16)} name=${sanitizeLogText(advert!.name)} lat=${(advert!.lat ?? 0).toFixed(4)} lon=${(advert!.lon ?? 0).toFixed(4)} observer=${sanitizeLogText(origin || observerId)}`,
        );
        break;
    }

    // Deliberate difference (README): the observer row is written before the observation, so the
    // first packet of a new observer gets its observer_idx instead of NULL (reference quirk 1).
    let observerIdx: number | undefined;
    if (observerId) {
      observerIdx = this.deps.repository.upsertPacketObserver({ id: observerId, name: origin, iata: packet.iata, now });
      counters.add('observer_upserts');
    }

    const newTransmissionId = this.insertTransmission(packet, observerId, packet, packet.rawHex, nowMs, counters, observerIdx, () => this.fullTransmissionOf(message));

    if (advert) {
      const pk = advert.pubKey;
      this.deps.repository.upsertNode({ publicKey: pk, name: advert.name, role: advert.role, lat: advert.lat, lon: advert.lon, now });
      counters.add('node_upserts');
      if (packet.advertVerdict === 'foreign') this.deps.repository.markNodeForeign(pk);
      if (newTransmissionId !== undefined) this.deps.repository.incrementAdvertCount(pk, newTransmissionId);
      if (advert.batteryMv !== undefined || advert.temperatureC !== undefined) {
        this.deps.repository.updateNodeTelemetry(pk, advert.batteryMv, advert.temperatureC);
      }
      if (packet.scopeName) this.deps.repository.updateNodeDefaultScope(pk, packet.scopeName);
    }
  }

  /**
   * The transmission columns of a packet whose preparation left them out (a copy of a transmission
   * the worker had just passed on): prepared again here, when that transmission is not in the
   * database after all (its first copy failed, or retention removed it in between).
   */
  private fullTransmissionOf(message: IngestMessage): TransmissionData {
    let again = this.preparer.prepare(message);
    if (again.kind === 'captured') again = again.message;
    if (again.kind !== 'packet' || again.decodedJson === null) throw new Error('packet could not be prepared again');
    return again;
  }

  /** InsertTransmission (§3.4): dedup by hash, observation upsert. Returns the transmission's id when the hash was new. */
  private insertTransmission(
    data: TransmissionData,
    observerId: string,
    fields: ObservationFields,
    observationRawHex: string,
    nowMs: number,
    counters: IngestCounters,
    /** The observer's rowid when the caller has just upserted it (observer packets). */
    knownObserverIdx?: number,
    /** The transmission's columns when data leaves them out (decodedJson null) and it turns out to be new. */
    fullTransmission?: () => TransmissionData,
  ): number | undefined {
    if (!data.hash) return undefined;
    const repo = this.deps.repository;
    const rxTime = toRfc3339(nowMs);
    const epoch = toEpochSeconds(nowMs);
    let transmissionId: number;
    let isNew = false;
    const existing = repo.findTransmissionByHash(data.hash);
    if (existing) {
      counters.add('tx_dupes');
      transmissionId = existing.id;
      if (rxTime < existing.firstSeen) repo.moveTransmissionFirstSeen(existing.id, rxTime);
    } else {
      if (data.decodedJson === null && fullTransmission) data = fullTransmission();
      transmissionId = repo.insertTransmission({
        rawHex: data.rawHex,
        hash: data.hash,
        firstSeen: rxTime,
        routeType: data.routeType,
        payloadType: data.payloadType,
        payloadVersion: data.payloadVersion,
        decodedJson: data.decodedJson,
        channelHash: data.channelHash,
        scopeName: data.scopeName,
        fromPubkey: data.fromPubkey,
        lastSeen: epoch,
      });
      counters.add('tx_inserted');
      isNew = true;
    }
    let observerIdx: number | null = knownObserverIdx ?? null;
    if (observerId && knownObserverIdx === undefined) {
      const rowid = repo.findObserverRowid(observerId);
      if (rowid !== undefined) {
        observerIdx = rowid;
        repo.markObserverPacket(rowid, rxTime);
      }
    }
    repo.upsertObservation({
      transmissionId,
      observerIdx,
      direction: fields.direction,
      snr: fields.snr,
      rssi: fields.rssi,
      score: fields.score,
      pathJson: data.pathJson,
      timestamp: epoch,
      rawHex: observationRawHex || null,
      resolvedPath: this.deps.resolver.resolvePathJson(data.pathJson, data.fromPubkey),
    });
    counters.add('obs_inserted');
    // A new row already has last_seen = epoch; an old one only moves forward.
    if (existing && epoch > existing.lastSeen) repo.raiseTransmissionLastSeen(transmissionId, epoch);
    counters.add('walCommits');
    return isNew ? transmissionId : undefined;
  }

  // ---- companion bridge (§3.12) ----

  private handleCompanion(
    tag: string,
    kind: 'channel' | 'direct',
    topicIndex: string,
    msg: Record<string, unknown>,
    counters: IngestCounters,
    nowMs: number,
  ) {
    const built = buildCompanionMessage(kind, topicIndex, msg, nowMs);
    if (!built) return;
    this.insertTransmission(
      {
        rawHex: '',
        hash: built.hash,
        routeType: 1,
        payloadType: built.payloadType,
        payloadVersion: 0,
        decodedJson: built.decodedJson,
        pathJson: '[]',
        channelHash: built.channelHash,
        scopeName: null,
        fromPubkey: null,
      },
      COMPANION_OBSERVER_ID,
      readObservationFields(msg),
      '',
      nowMs,
      counters,
    );
    counters.add('companion_messages');
    const sender = sanitizeLogText(built.sender || 'unknown');
    this.deps.logger.debug(
      kind === 'channel'
        ? `MQTT [${tag}] channel message: ${sanitizeLogText(built.channelHash ?? '')} from ${sender}`
        : `MQTT [${tag}] direct message from ${sender}`,
    );
  }

  // ---- mobile client RX coverage (§3.11) ----

  private handleClientReception(tag: string, clientKey: string, msg: Record<string, unknown>, counters: IngestCounters, nowMs: number) {
    const rxPubkey = clientKey.trim().toLowerCase();
    if (!/^[0-9a-f]{2,64}$/.test(rxPubkey)) {
      counters.drop('client_invalid');
      this.deps.logger.debug(`MQTT [${tag}] client: invalid pubkey ${truncateId(clientKey)}, dropping`);
      return;
    }
    const gps = msg.gps as Record<string, unknown> | undefined;
    const raw = msg.raw;
    if (typeof raw !== 'string' || raw === '' || !gps || typeof gps !== 'object' || Array.isArray(gps)) {
      counters.drop('client_invalid');
      return;
    }
    // toFloat64 like every numeric field (§2.4): numeric strings and unit suffixes are accepted.
    // NaN passes the reference's range check but then fails the NOT NULL insert: nothing is stored.
    const lat = finiteOrNull(toFloat64(gps.lat));
    const lon = finiteOrNull(toFloat64(gps.lon));
    if (lat === null || lon === null) {
      counters.drop('client_invalid');
      return;
    }
    const outcome = this.deps.decode(raw, this.clientContext);
    if (!outcome.ok) {
      counters.add('decode_errors');
      this.deps.logger.warn(`MQTT [${tag}] client decode error: ${sanitizeLogText(outcome.error)}`, { source: tag, reason: 'client_decode_error' });
      return;
    }
    if (lat < -90 || lat > 90 || lon < -180 || lon > 180) {
      counters.drop('client_invalid');
      return;
    }
    const direction = firstString(msg, ['direction', 'Direction']);
    const heard = deriveHeardKey(outcome.packet, direction);
    if (!heard) {
      counters.drop('client_invalid');
      return;
    }
    const rssi = finiteOrNull(firstPresentNumber(msg, ['RSSI', 'rssi']));
    this.deps.repository.insertClientReception({
      rxPubkey,
      heardKey: heard.key,
      heardKeylen: heard.key.length / 2,
      rssi: rssi === null ? null : Math.trunc(rssi),
      snr: finiteOrNull(firstPresentNumber(msg, ['SNR', 'snr'])),
      lat,
      lon,
      posAccM: finiteOrNull(toFloat64(gps.acc_m)),
      rxAt: toRfc3339(resolveEnvelopeTime(msg.timestamp, nowMs).ms),
      ingestedAt: toRfc3339(nowMs),
      src: heard.src,
    });
    counters.add('client_receptions');
    if (typeof msg.origin === 'string' && msg.origin !== '') {
      this.deps.repository.upsertClientObserver(rxPubkey, msg.origin, toRfc3339(nowMs));
    }
  }
}
