import { Controller, Get } from '@nestjs/common';
import { secretMasker } from '../../common/masking/mask-broker-url';
import { toRfc3339 } from '../../common/time/rfc3339';
import { SourceStatusRegistry, type SourceStatusSnapshot, type WatchdogStatus } from '../source-status/source-status.registry';

/** Response of GET /api/mqtt/status (ingestor-spec §6.3); key order is part of the contract. */
export interface MqttStatusResponse {
  sources: SourceStatusSnapshot[];
  sampleAt: string;
  watchdogLastTickUnix?: number;
  watchdogPanicCount?: number;
}

/**
 * Builds the response from live state. name, broker and lastError are masked here, at the last
 * moment, because the endpoint has no authentication; secretMasker also catches configured
 * passwords that show up outside a URL.
 */
export function buildMqttStatusResponse(
  sources: readonly SourceStatusSnapshot[],
  watchdog: WatchdogStatus,
  nowMs: number,
): MqttStatusResponse {
  const body: MqttStatusResponse = {
    sources: sources.map((s) => {
      const out: SourceStatusSnapshot = {
        // An unnamed source is tagged with its broker URL, credentials included: mask it too.
        name: secretMasker.mask(s.name),
        broker: secretMasker.mask(s.broker),
        connected: s.connected,
        lastConnectUnix: s.lastConnectUnix,
        lastDisconnectUnix: s.lastDisconnectUnix,
        lastPacketUnix: s.lastPacketUnix,
        connectCount: s.connectCount,
        disconnectCount: s.disconnectCount,
        packetsTotal: s.packetsTotal,
        packetsLast5m: s.packetsLast5m,
      };
      if (s.lastError) out.lastError = secretMasker.mask(s.lastError);
      return out;
    }),
    sampleAt: toRfc3339(nowMs),
  };
  if (watchdog.watchdogLastTickUnix) body.watchdogLastTickUnix = watchdog.watchdogLastTickUnix;
  if (watchdog.watchdogPanicCount) body.watchdogPanicCount = watchdog.watchdogPanicCount;
  return body;
}

@Controller('api/mqtt')
export class MqttStatusController {
  constructor(private readonly registry: SourceStatusRegistry) {}

  @Get('status')
  status(): MqttStatusResponse {
    return buildMqttStatusResponse(this.registry.snapshot(), this.registry.watchdogStatus(), this.registry.now());
  }
}
