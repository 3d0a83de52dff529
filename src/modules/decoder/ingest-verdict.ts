/**
 * What the ingestor does with a decode result before any geo filter (decoder-spec §8, §9, §13):
 * the advert check runs first, then the invalid-signature drop.
 */

import { validateAdvert } from './advert-checks';
import type { DecodeContext, DecodeOutcome, IngestVerdict } from './decoder.types';

export function ingestVerdict(outcome: DecodeOutcome, ctx: Pick<DecodeContext, 'validateSignatures'>): IngestVerdict {
  if (!outcome.ok) return 'rejected';
  const { advert } = outcome.packet;
  // Only an ADVERT that carries a public key takes the advert branch; a short one is stored as is.
  if (advert === undefined) return 'stored';
  const reason = validateAdvert(advert);
  if (reason !== null) return `skipped: ${reason}`;
  if (ctx.validateSignatures && advert.signatureValid === false) return 'dropped: invalid signature';
  return 'stored';
}
