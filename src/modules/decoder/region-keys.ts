/**
 * Transport scope (ingestor-spec §3.10): which configured region a transport-routed packet's
 * first transport code belongs to.
 */

import { createHash, createHmac } from 'node:crypto';
import type { RegionKey, RegionKeys } from './decoder.types';

export type RegionKeyLog = (line: string, level?: 'log' | 'warn') => void;

/** Region key = SHA-256(`#name`)[0:16]. */
export function deriveRegionKey(regionName: string): Buffer {
  return createHash('sha256').update(regionName, 'utf8').digest().subarray(0, 16);
}

/** hashRegions entries → region keys: trimmed, `#` prepended, empty and duplicate entries skipped. */
export function buildRegionKeys(hashRegions: readonly string[], log: RegionKeyLog = () => undefined): RegionKeys {
  const keys: RegionKey[] = [];
  const seen = new Set<string>();
  for (const entry of hashRegions) {
    const trimmed = entry.trim();
    if (trimmed === '') {
      log('[regions] skipping empty hashRegions entry', 'warn');
      continue;
    }
    const name = trimmed.startsWith('#') ? trimmed : `#${trimmed}`;
    if (seen.has(name)) {
      log(`[regions] ignoring duplicate hashRegions entry ${name}`, 'warn');
      continue;
    }
    seen.add(name);
    keys.push({ name, key: deriveRegionKey(name) });
  }
  if (keys.length > 0) log(`[regions] ${keys.length} region keys loaded from hashRegions`);
  return keys;
}

/**
 * The transport code a region gives a payload: first two bytes of
 * HMAC-SHA256(key, [payloadType] ‖ payload) as a little-endian uint16, 0 → 1, 0xFFFF → 0xFFFE
 * (both reserved by the firmware).
 */
export function regionTransportCode(key: Buffer, payloadType: number, payload: Uint8Array): number {
  const mac = createHmac('sha256', key).update(Uint8Array.of(payloadType)).update(payload).digest();
  const code = mac[0] | (mac[1] << 8);
  if (code === 0) return 1;
  if (code === 0xffff) return 0xfffe;
  return code;
}

/**
 * scope_name of a transport-scoped packet: the first region (config order) whose code equals
 * code1 (wire bytes 1–2, read as little-endian), or '' when none matches, there are no region
 * keys, the payload is empty or code1 is 0000.
 */
export function matchScope(regionKeys: RegionKeys, payloadType: number, payload: Uint8Array, code1: number): string {
  if (code1 === 0 || regionKeys.length === 0 || payload.length === 0) return '';
  for (const region of regionKeys) {
    if (regionTransportCode(region.key, payloadType, payload) === code1) return region.name;
  }
  return '';
}
