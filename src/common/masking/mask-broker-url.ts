/**
 * Credential masking for broker URLs (ingestor-spec §6.3) and PostgreSQL URLs. One function serves the status
 * API and every log line, so a password can never reach one and not the other.
 */

const MASKABLE_SCHEMES = new Set(['mqtt', 'mqtts', 'tcp', 'ssl', 'ws', 'wss', 'postgres', 'postgresql']);
const URL_IN_TEXT = /(mqtt|mqtts|tcp|ssl|ws|wss|postgres|postgresql):\/\/\S*/gi;
const DATABASE_URL_IN_TEXT = /postgres(?:ql)?:\/\/\S*/gi;
const PASSWORD_PARAMETER = /([?&]password=)[^&#\s]*/gi;
const SCHEME_PREFIX = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;

/** Returns the masked URL, or null when the string is not a URL with a password part. */
function redactUrl(candidate: string): string | null {
  const scheme = SCHEME_PREFIX.exec(candidate);
  if (!scheme || !MASKABLE_SCHEMES.has(scheme[1].toLowerCase())) return null;
  // Like Go's url.Parse: fragment and query are cut first, the authority ends at the first '/'.
  let rest = candidate.slice(scheme[0].length);
  const cut = rest.search(/[#?]/);
  if (cut >= 0) rest = rest.slice(0, cut);
  const slash = rest.indexOf('/');
  const authority = slash >= 0 ? rest.slice(0, slash) : rest;
  const at = authority.lastIndexOf('@');
  if (at < 0) return null;
  const userinfo = authority.slice(0, at);
  const colon = userinfo.indexOf(':');
  if (colon < 0) return null; // a username alone is not a secret
  // Stricter than the reference (which leaves URLs with bad %-escapes unmasked): mask anyway.
  let username = userinfo.slice(0, colon);
  try {
    username = decodeURIComponent(username);
  } catch {
    /* keep the username as written */
  }
  return `${scheme[1]}://${username}:****@${candidate.slice(candidate.lastIndexOf('@') + 1)}`;
}

/** Masks the password of a broker URL or of every broker URL inside a free-text message. */
export function maskBrokerUrl(value: string): string {
  if (!value) return value;
  const whole = redactUrl(value);
  if (whole !== null) return whole;
  return value.replace(URL_IN_TEXT, (match) => redactUrl(match) ?? match);
}

/**
 * Masks the password of a PostgreSQL URL, or of every such URL (and broker URL) inside free text. libpq and pg
 * also take the password as a query parameter (`?password=`), so that is masked too.
 */
export function maskDatabaseUrl(value: string): string {
  if (!value) return value;
  return maskBrokerUrl(value).replace(DATABASE_URL_IN_TEXT, (url) => url.replace(PASSWORD_PARAMETER, '$1****'));
}

/**
 * Masks broker and PostgreSQL URLs plus any literal secret registered from config (a password can also show up
 * outside a URL, e.g. in a client library's error text).
 */
export class SecretMasker {
  private readonly secrets = new Set<string>();

  register(secret: string | undefined): void {
    // Very short secrets would mask ordinary words; they are still masked inside URLs.
    if (secret && secret.length >= 3) this.secrets.add(secret);
  }

  mask(text: string): string {
    // Callers pass what they were given; a logger hands over undefined for a missing stack.
    if (typeof text !== 'string') return text;
    let out = maskDatabaseUrl(text);
    for (const secret of this.secrets) {
      if (out.includes(secret)) out = out.split(secret).join('****');
    }
    return out;
  }
}

/** Process-wide masker used by the logger; config loading registers the passwords it reads. */
export const secretMasker = new SecretMasker();
