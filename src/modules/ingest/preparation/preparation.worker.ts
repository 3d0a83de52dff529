/**
 * Worker thread entry of the preparation stage: decodes batches for the writer on the second core.
 * Loads only the decoder and the preparer (no Nest, no database).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createDecodeContext } from '../../decoder/decode-context';
import { decodePacket } from '../../decoder/packet-decoder';
import { buildRegionKeys } from '../../decoder/region-keys';
import { MessagePreparer } from './message-preparer';
import { decodeMessageBatch } from './message-batch.codec';
import { encodePreparedBatch } from './prepared-batch.codec';
import type { PreparationRequest, PreparationResponse, PreparationWorkerData } from './preparation.protocol';
import { RecentHashes } from './recent-hashes';

/** About ten seconds of a busy mesh: copies of a transmission arrive within a few seconds. */
const RECENT_HASHES = 32_768;

const data = workerData as PreparationWorkerData;
const preparer = new MessagePreparer(
  data.settings,
  createDecodeContext(data.channelKeys, {
    validateSignatures: data.settings.validateSignatures,
    regionKeys: buildRegionKeys(data.hashRegions),
  }),
  decodePacket,
  new RecentHashes(RECENT_HASHES),
);

parentPort!.on('message', (request: PreparationRequest) => {
  let response: PreparationResponse;
  try {
    const messages = decodeMessageBatch(request.batch);
    response = { id: request.id, prepared: encodePreparedBatch(messages.map((m) => preparer.prepare(m))) };
  } catch (err) {
    response = { id: request.id, error: String((err as Error)?.message ?? err) };
  }
  parentPort!.postMessage(response);
});
