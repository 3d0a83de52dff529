import { createHash } from 'node:crypto';
import { goFormatValue, goMarshal } from '../../../common/json/go-marshal';
import { toRfc3339 } from '../../../common/time/rfc3339';

/**
 * Companion-bridge text messages (ingestor-spec §3.12): plain text on
 * meshcore/message/channel/<n> or meshcore/message/direct/<id>, no raw packet. They become a
 * transmission with a synthetic hash (text + second of arrival), stored under observer "companion".
 */
export interface CompanionTransmission {
  hash: string;
  decodedJson: string;
  payloadType: 2 | 5;
  /** `ch<idx>` for channel messages, null for direct ones. */
  channelHash: string | null;
  sender: string;
}

export const COMPANION_OBSERVER_ID = 'companion';

/** Sender = text before the first ": " when it starts after byte 0 and before byte 50. */
function splitSender(text: string): string {
  const idx = text.indexOf(': ');
  if (idx <= 0) return '';
  const byteOffset = Buffer.byteLength(text.slice(0, idx), 'utf8');
  return byteOffset > 0 && byteOffset < 50 ? text.slice(0, idx) : '';
}

function shortSha256(input: string): string {
  return createHash('sha256').update(input, 'utf8').digest('hex').slice(0, 16);
}

export function buildCompanionMessage(
  kind: 'channel' | 'direct',
  topicIndex: string,
  msg: Record<string, unknown>,
  nowMs: number,
): CompanionTransmission | undefined {
  const text = msg.text;
  if (typeof text !== 'string' || text === '') return undefined;
  const sender = splitSender(text);
  const doc: Record<string, unknown> = { sender, text };
  if (Object.prototype.hasOwnProperty.call(msg, 'sender_timestamp')) doc.sender_timestamp = msg.sender_timestamp;
  const now = toRfc3339(nowMs);
  if (kind === 'channel') {
    const idx = Object.prototype.hasOwnProperty.call(msg, 'channel_idx') ? goFormatValue(msg.channel_idx) : topicIndex;
    doc.channel = `ch${idx}`;
    doc.type = 'CHAN';
    return {
      hash: shortSha256(`ch:${idx}:${text}:${now}`),
      decodedJson: goMarshal(doc),
      payloadType: 5,
      channelHash: `ch${idx}`,
      sender,
    };
  }
  doc.type = 'DM';
  return { hash: shortSha256(`dm:${text}:${now}`), decodedJson: goMarshal(doc), payloadType: 2, channelHash: null, sender };
}
