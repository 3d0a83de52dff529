import { createHash, timingSafeEqual } from 'node:crypto';
import type { EmbeddedBrokerConfig } from '../../config/config.types';

export interface BrokerLogin {
  clientId: string;
  username?: string;
  password?: Buffer;
}

export type LoginVerdict = 'internal' | 'user' | 'anonymous' | 'rejected';

interface Credentials {
  readonly username: string;
  readonly password: string;
}

/** Compares digests, so neither the length nor the content of a secret shows in the timing. */
function sameSecret(given: Buffer | undefined, expected: string): boolean {
  const digest = (value: Buffer | string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given ?? Buffer.alloc(0)), digest(expected));
}

/**
 * Who may connect to the embedded broker: the service's own source (its per-process credentials;
 * its client id is reserved for it, so nobody can take over its session), a configured user, or
 * anyone when no user is configured.
 */
export function checkBrokerLogin(
  login: BrokerLogin,
  config: Pick<EmbeddedBrokerConfig, 'users'>,
  internal: Credentials & { readonly clientId: string },
): LoginVerdict {
  const isInternal = login.username === internal.username && sameSecret(login.password, internal.password);
  if (login.clientId === internal.clientId) return isInternal ? 'internal' : 'rejected';
  if (isInternal) return 'internal';
  if (config.users.length === 0) return 'anonymous';
  // Every user is checked (no early exit), so the time does not tell which name exists.
  let matched = false;
  for (const user of config.users) {
    const nameMatches = login.username === user.username;
    const passwordMatches = sameSecret(login.password, user.password);
    matched = (nameMatches && passwordMatches) || matched;
  }
  return matched ? 'user' : 'rejected';
}
