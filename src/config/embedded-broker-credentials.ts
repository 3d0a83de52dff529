import { randomBytes } from 'node:crypto';

/**
 * The credentials the service's own source uses on its embedded broker. Made once per process, so
 * a config reload resolves the same source (no "needs a restart"), and never written anywhere: the
 * broker accepts them beside the configured users, and no observer can know them.
 */
export const EMBEDDED_INGEST_CREDENTIALS = Object.freeze({
  username: '$meshcore-ingestor',
  password: randomBytes(24).toString('base64url'),
});
