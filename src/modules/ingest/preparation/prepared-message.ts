import type { DropReason } from '../routing/topic-router';
import type { EnvelopeStamp } from '../message/envelope-time';
import type { ObservationFields } from '../message/numeric-coercion';
import type { ObserverMeta } from '../message/observer-status';

/**
 * A message after the database-free half of the pipeline (parse, route, filters, decode, advert
 * checks): everything the writer needs to apply it, as plain data a worker thread can send.
 * Nothing here depends on the ingest clock; the writer applies `nowMs` when it stores it.
 */
export type PreparedMessage =
  | PreparedCaptured
  | PreparedInvalidLine
  | PreparedDrop
  | PreparedStatus
  | PreparedPacket
  | PreparedDecodeError
  | PreparedCompanion
  | PreparedClientReception
  | PreparedFailure;

/** A replay capture line: the message it holds, prepared, and the topic and source it names. */
export interface PreparedCaptured {
  kind: 'captured';
  topic: string;
  source: string;
  message: Exclude<PreparedMessage, PreparedCaptured | PreparedInvalidLine>;
}

/** A replay capture line that holds no message. */
export interface PreparedInvalidLine {
  kind: 'invalid-line';
  line: number;
  reason: string;
}

export interface PreparedDrop {
  kind: 'drop';
  reason: DropReason;
  observerId?: string;
}

export interface PreparedStatus {
  kind: 'status';
  observerId: string;
  region: string;
  /** `origin` of the message, '' when absent. */
  name: string;
  meta: ObserverMeta | undefined;
}

export interface PreparedDecodeError {
  kind: 'decode-error';
  error: string;
  /** The topic with the observer segment cut to 8 characters (as the reference logs it). */
  shortTopic: string;
  observerId: string;
  rawLength: number;
}

/**
 * What the advert checks decided, before any write:
 * - 'none': not an ADVERT;
 * - 'rejected': a corrupted advert (advertReason says why), skipped;
 * - 'bad-signature': dropped into dropped_packets;
 * - 'geo-drop': outside the geo filter with foreignAdverts.mode = drop;
 * - 'foreign': outside the geo filter, stored and flagged;
 * - 'ok': stored.
 */
export type AdvertVerdict = 'none' | 'rejected' | 'bad-signature' | 'geo-drop' | 'foreign' | 'ok';

export interface PreparedAdvert {
  pubKey: string;
  name: string;
  role: string;
  lat: number | undefined;
  lon: number | undefined;
  batteryMv: number | undefined;
  temperatureC: number | undefined;
}

/** A transmission's columns (pathJson is the observation's path_json). */
export interface TransmissionData {
  rawHex: string;
  hash: string;
  routeType: number;
  payloadType: number;
  payloadVersion: number;
  /**
   * null: the transmission's columns (decodedJson, channelHash, scopeName) were left out by the
   * preparation worker, which passed the same hash on moments ago: the transmission is stored by
   * then, and the writer prepares the message again in the rare case it is not.
   */
  decodedJson: string | null;
  pathJson: string;
  channelHash: string | null;
  scopeName: string | null;
  fromPubkey: string | null;
}

/** An observer packet (ingestor-spec §3.1) that decoded. */
export interface PreparedPacket extends ObservationFields, TransmissionData {
  kind: 'packet';
  observerId: string;
  /** observers.iata: the payload's region, else the topic's, else the source's; trimmed, upper case. */
  iata: string;
  /** `origin` of the message, '' when absent. */
  origin: string;
  envelope: EnvelopeStamp;
  advertVerdict: AdvertVerdict;
  /** Why a 'rejected' advert was skipped. */
  advertReason: string | null;
  advert: PreparedAdvert | null;
}

/** Companion-bridge text (ingestor-spec §3.12): built at apply time, its hash uses the arrival second. */
export interface PreparedCompanion {
  kind: 'companion';
  channel: boolean;
  topicIndex: string;
  msg: Record<string, unknown>;
}

/** Mobile client RX coverage (ingestor-spec §3.11), rare and opt-in: applied from the message itself. */
export interface PreparedClientReception {
  kind: 'client-reception';
  clientKey: string;
  msg: Record<string, unknown>;
}

/** Preparation threw (a bug, never bad input): the message is skipped and counted. */
export interface PreparedFailure {
  kind: 'failed';
  error: string;
}
