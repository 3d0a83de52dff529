import { describe, expect, it } from 'vitest';
import { parseJsonObject, routeMessage, RoutingRules } from './topic-router';

const rules = (over: Partial<RoutingRules> = {}): RoutingRules => ({
  clientRxCoverage: false,
  observerBlacklist: new Set(),
  iataWhitelist: new Set(),
  sourceIataFilter: new Set(),
  ...over,
});
const RAW = { raw: '0A00D69FD7A5' };

describe('parseJsonObject', () => {
  it('accepts objects only', () => {
    expect(parseJsonObject(Buffer.from('{"a":1}'))).toEqual({ a: 1 });
    for (const bad of ['[1,2]', '"str"', '42', 'null', '{bad', '', '\u0000']) expect(parseJsonObject(bad)).toBeUndefined();
  });
});

describe('routeMessage (ingestor-spec §2.3)', () => {
  it('routes observer packets and status', () => {
    expect(routeMessage('meshcore/SJC/OBS1/packets', RAW, rules())).toEqual({ kind: 'packet', observerId: 'OBS1', region: 'SJC' });
    expect(routeMessage('meshcore/SJC/OBS1/status', { status: 'online' }, rules())).toEqual({
      kind: 'status',
      observerId: 'OBS1',
      region: 'SJC',
    });
  });

  it('accepts raw packets on short topics (TestHandleMessageMinimalTopic / NoObserverID)', () => {
    expect(routeMessage('meshcore', RAW, rules())).toEqual({ kind: 'packet', observerId: '', region: '' });
    expect(routeMessage('meshcore/SJC', RAW, rules())).toEqual({ kind: 'packet', observerId: '', region: 'SJC' });
  });

  it('ignores the two status topics even with raw (TestHandleMessageSkipStatusTopics)', () => {
    expect(routeMessage('meshcore/status', RAW, rules())).toEqual({ kind: 'drop', reason: 'ignored_topic' });
    expect(routeMessage('meshcore/events/connection', RAW, rules())).toEqual({ kind: 'drop', reason: 'ignored_topic' });
  });

  it('drops blacklisted observers case-insensitively, status included', () => {
    const r = rules({ observerBlacklist: new Set(['abc']) });
    expect(routeMessage('meshcore/SJC/ABC/packets', RAW, r)).toMatchObject({ reason: 'observer_blacklist' });
    expect(routeMessage('meshcore/SJC/ Abc /status', {}, r)).toMatchObject({ reason: 'observer_blacklist' });
    expect(routeMessage('meshcore/SJC/ABCD/packets', RAW, r).kind).toBe('packet');
  });

  it('applies the IATA whitelist to status and packets (TestHandleMessageObserverIATAWhitelist)', () => {
    const r = rules({ iataWhitelist: new Set(['SJC']) });
    expect(routeMessage('meshcore/ sjc /O/packets', RAW, r).kind).toBe('packet');
    expect(routeMessage('meshcore/OAK/O/packets', RAW, r)).toMatchObject({ reason: 'iata_whitelist' });
    expect(routeMessage('meshcore/OAK/O/status', {}, r)).toMatchObject({ reason: 'iata_whitelist' });
    // QUIRK: companion topics have "message" as their region.
    expect(routeMessage('meshcore/message/channel/1', { text: 'x' }, r)).toMatchObject({ reason: 'iata_whitelist' });
  });

  it('applies the per-source iataFilter to packets but not status (TestIATAFilterDoesNotDropStatusMessages)', () => {
    const r = rules({ sourceIataFilter: new Set(['SJC']) });
    expect(routeMessage('meshcore/OAK/O/packets', RAW, r)).toMatchObject({ reason: 'source_iata_filter' });
    expect(routeMessage('meshcore/sjc/O/packets', RAW, r)).toMatchObject({ reason: 'source_iata_filter' });
    expect(routeMessage('meshcore/OAK/O/status', {}, r).kind).toBe('status');
  });

  it('routes companion bridge messages without raw', () => {
    expect(routeMessage('meshcore/message/channel/3', { text: 'hi' }, rules())).toEqual({ kind: 'companion-channel', topicIndex: '3' });
    expect(routeMessage('meshcore/message/direct/ab', { text: 'hi' }, rules())).toEqual({ kind: 'companion-direct' });
    expect(routeMessage('meshcore/SJC/O/other', { text: 'hi' }, rules())).toEqual({ kind: 'drop', reason: 'unrouted' });
  });

  it('client coverage topics: gated by the feature (QUIRK when off)', () => {
    const topic = 'meshcore/client/AABBCC/packets';
    expect(routeMessage(topic, RAW, rules())).toEqual({ kind: 'packet', observerId: 'AABBCC', region: 'client' });
    expect(routeMessage(topic, RAW, rules({ clientRxCoverage: true }))).toEqual({ kind: 'client-reception', clientKey: 'AABBCC' });
    expect(
      routeMessage(topic, RAW, rules({ clientRxCoverage: true, observerBlacklist: new Set(['aabbcc']) })),
    ).toMatchObject({ reason: 'client_blacklist' });
  });
});
