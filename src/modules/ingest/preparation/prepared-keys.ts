import type { BatchItemKeys } from '../../persistence/ingest-store';
import type { PreparedMessage } from './prepared-message';

/**
 * The transmission hash and observer id a prepared message will look up when stored, for engines that load
 * them before the batch (PostgreSQL). Companion text has its hash built at store time: it is not named here,
 * and its insert merges on the unique hash instead.
 */
export function keysOfPrepared(prepared: PreparedMessage): BatchItemKeys {
  switch (prepared.kind) {
    case 'captured':
      return keysOfPrepared(prepared.message);
    case 'packet':
      return { hash: prepared.hash, observerId: prepared.observerId };
    case 'status':
      return { observerId: prepared.observerId };
    default:
      return {};
  }
}
