import type { ChannelKeyMap } from '../../decoder/decoder.types';
import type { PreparerSettings } from './message-preparer';
import type { EncodedMessageBatch } from './message-batch.codec';
import type { EncodedPreparedBatch } from './prepared-batch.codec';

/** What the preparation worker starts with: everything its decoder and preparer read. */
export interface PreparationWorkerData {
  settings: PreparerSettings;
  /** The production key map as the main thread built it (same keys, same order). */
  channelKeys: ChannelKeyMap;
  hashRegions: readonly string[];
}

export interface PreparationRequest {
  id: number;
  batch: EncodedMessageBatch;
}

export type PreparationResponse = { id: number; prepared: EncodedPreparedBatch } | { id: number; error: string };
