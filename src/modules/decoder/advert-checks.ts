/**
 * Ingest-time ADVERT checks (decoder-spec §9, ingestor-spec §3.1 step 5.1) and the node role.
 */

const ROLE_BY_TYPE: readonly string[] = ['none', 'companion', 'repeater', 'room', 'sensor'];

/** Node role from the advert flags' low nibble; an advert without flags is a companion. */
export function advertRole(flagsType: number | undefined): string {
  if (flagsType === undefined) return 'companion';
  return ROLE_BY_TYPE[flagsType] ?? `type-${flagsType}`;
}

const KNOWN_ROLE = /^(none|companion|repeater|room|sensor|type-\d+)$/;

export interface AdvertFields {
  pubKey: string;
  lat?: number;
  lon?: number;
  name?: string;
  flagsType?: number;
}

/** Go's `%f`: six decimals, NaN / +Inf / -Inf spelled as Go spells them. */
function formatGoFloat(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  if (Object.is(value, -0)) return '-0.000000';
  return value.toFixed(6);
}

function outOfRange(value: number, limit: number): boolean {
  return !Number.isFinite(value) || value < -limit || value > limit;
}

// 0x00–0x08, 0x0B, 0x0C, 0x0E–0x1F and DEL; TAB, LF and CR are allowed.
const FORBIDDEN_NAME_CHARACTER = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/**
 * The reason an advert must not be stored, or null when it passes. Reasons are the texts
 * CoreScope logs after `skipping corrupted ADVERT: `.
 */
export function validateAdvert(advert: AdvertFields): string | null {
  const { pubKey } = advert;
  if (pubKey.length < 16) return `pubkey too short (${pubKey.length} hex chars)`;
  if (/^0*$/.test(pubKey)) return 'pubkey is all zeros';
  if (advert.lat !== undefined && outOfRange(advert.lat, 90)) return `invalid lat: ${formatGoFloat(advert.lat)}`;
  if (advert.lon !== undefined && outOfRange(advert.lon, 180)) return `invalid lon: ${formatGoFloat(advert.lon)}`;
  const name = advert.name ?? '';
  if (name !== '') {
    if (FORBIDDEN_NAME_CHARACTER.test(name)) return 'name contains control characters';
    const bytes = Buffer.byteLength(name, 'utf8');
    if (bytes > 64) return `name too long (${bytes} chars)`;
  }
  if (advert.flagsType !== undefined) {
    const role = advertRole(advert.flagsType);
    if (!KNOWN_ROLE.test(role)) return `unknown role: ${role}`;
  }
  return null;
}
