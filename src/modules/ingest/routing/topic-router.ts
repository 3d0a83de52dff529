/**
 * Where an MQTT message goes (ingestor-spec §2.3), decided from its topic and parsed payload
 * alone. Pure: the pipeline acts on the decision and counts the drops per filter.
 */

export interface RoutingRules {
  clientRxCoverage: boolean;
  /** Lower-cased, trimmed observer ids. */
  observerBlacklist: ReadonlySet<string>;
  /** Upper-cased, trimmed IATA codes; empty = allow all. */
  iataWhitelist: ReadonlySet<string>;
  /** The source's own region filter (exact, case-sensitive); empty = none. */
  sourceIataFilter: ReadonlySet<string>;
}

export type DropReason =
  | 'not_json_object'
  | 'ignored_topic'
  | 'observer_blacklist'
  | 'client_blacklist'
  | 'iata_whitelist'
  | 'source_iata_filter'
  | 'unrouted';

export type Route =
  | { kind: 'drop'; reason: DropReason; observerId?: string }
  | { kind: 'client-reception'; clientKey: string }
  | { kind: 'status'; observerId: string; region: string }
  | { kind: 'packet'; observerId: string; region: string }
  | { kind: 'companion-channel'; topicIndex: string }
  | { kind: 'companion-direct' };

const IGNORED_TOPICS = new Set(['meshcore/status', 'meshcore/events/connection']);
const CHANNEL_PREFIX = 'meshcore/message/channel/';
const DIRECT_PREFIX = 'meshcore/message/direct/';

/** Parses an MQTT payload as a JSON object; anything else (invalid, array, string, number) → undefined. */
export function parseJsonObject(payload: Buffer | string): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch {
    return undefined;
  }
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** Blacklist lookup; the normalized id is only built when there is a blacklist (once per message). */
function blacklisted(rules: RoutingRules, id: string): boolean {
  return rules.observerBlacklist.size > 0 && rules.observerBlacklist.has(id.trim().toLowerCase());
}

export function routeMessage(topic: string, msg: Record<string, unknown>, rules: RoutingRules): Route {
  const parts = topic.split('/');

  if (rules.clientRxCoverage && parts.length >= 4 && parts[1] === 'client' && parts[3] === 'packets') {
    if (blacklisted(rules, parts[2])) return { kind: 'drop', reason: 'client_blacklist', observerId: parts[2] };
    return { kind: 'client-reception', clientKey: parts[2] };
  }
  if (IGNORED_TOPICS.has(topic)) return { kind: 'drop', reason: 'ignored_topic' };
  if (parts.length > 2 && blacklisted(rules, parts[2])) {
    return { kind: 'drop', reason: 'observer_blacklist', observerId: parts[2] };
  }
  if (parts.length > 1 && rules.iataWhitelist.size > 0 && !rules.iataWhitelist.has(parts[1].trim().toUpperCase())) {
    return { kind: 'drop', reason: 'iata_whitelist' };
  }
  if (parts.length >= 4 && parts[3] === 'status') return { kind: 'status', observerId: parts[2], region: parts[1] };
  if (rules.sourceIataFilter.size > 0 && parts.length > 1 && !rules.sourceIataFilter.has(parts[1])) {
    return { kind: 'drop', reason: 'source_iata_filter' };
  }
  if (typeof msg.raw === 'string' && msg.raw !== '') {
    return { kind: 'packet', observerId: parts[2] ?? '', region: parts[1] ?? '' };
  }
  if (topic.startsWith(CHANNEL_PREFIX)) return { kind: 'companion-channel', topicIndex: parts[3] ?? '' };
  if (topic.startsWith(DIRECT_PREFIX)) return { kind: 'companion-direct' };
  return { kind: 'drop', reason: 'unrouted' };
}
