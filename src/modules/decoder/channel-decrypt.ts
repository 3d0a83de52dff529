/**
 * GRP_TXT / GRP_DATA decryption (decoder-spec §7.2): per candidate key, a 2-byte
 * HMAC-SHA256 check over the ciphertext, then AES-128-ECB; for text, a plausibility check.
 */

import { isUtf8 } from 'node:buffer';
import { createDecipheriv, hash as oneShotHash } from 'node:crypto';
import type { ChannelKeyRing, PreparedChannelKey } from './decoder.types';

/** Ciphertext bytes needed before any key is tried. */
export const MIN_CIPHERTEXT_FOR_DECRYPTION = 5;
const AES_BLOCK = 16;
const MAX_NON_PRINTABLE = 2;
/** The sender prefix must end before this byte offset. */
const SENDER_LIMIT_BYTES = 50;

export interface ChannelText {
  timestamp: number;
  sender: string;
  message: string;
}

// HMAC scratch: inner block = ipad(64) ‖ ciphertext; outer block = opad(64) ‖ inner digest(32).
// Two one-shot hashes over reused buffers cost about half of crypto.createHmac per key.
// Payloads are at most 184 bytes, so the ciphertext always fits.
const MAX_CIPHERTEXT = 256;
const innerBlock = Buffer.alloc(64 + MAX_CIPHERTEXT);
const outerBlock = Buffer.alloc(64 + 32);

/** True when the first two HMAC-SHA256 bytes of ciphertext under this key are mac0, mac1. */
function macMatches(key: PreparedChannelKey, ciphertextLength: number, mac0: number, mac1: number): boolean {
  key.hmacInnerPad.copy(innerBlock, 0);
  // 'binary' (latin1) output: one char per byte, far cheaper than allocating a Buffer.
  const innerDigest = oneShotHash('sha256', innerBlock.subarray(0, 64 + ciphertextLength), 'binary');
  key.hmacOuterPad.copy(outerBlock, 0);
  outerBlock.write(innerDigest, 64, 'latin1');
  const mac = oneShotHash('sha256', outerBlock, 'binary');
  return mac.charCodeAt(0) === mac0 && mac.charCodeAt(1) === mac1;
}

function decryptAesEcb(key: Buffer, ciphertext: Buffer): Buffer {
  const decipher = createDecipheriv('aes-128-ecb', key, null);
  decipher.setAutoPadding(false);
  const head = decipher.update(ciphertext);
  const tail = decipher.final();
  return tail.length === 0 ? head : Buffer.concat([head, tail]);
}

/**
 * Plaintext of a GRP_TXT: timestamp(4 LE) flags(1) message up to the first 0x00. Null when it is
 * too short, not valid UTF-8, or has more than two non-printable characters (C0 controls other
 * than LF and TAB, and U+FFFD).
 */
export function parseChannelText(plaintext: Buffer): ChannelText | null {
  if (plaintext.length < 5) return null;
  const end = plaintext.indexOf(0, 5);
  const messageBytes = plaintext.subarray(5, end < 0 ? plaintext.length : end);
  if (!isUtf8(messageBytes)) return null;
  const text = messageBytes.toString('utf8');
  let nonPrintable = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x0a && c !== 0x09) || c === 0xfffd) {
      if (++nonPrintable > MAX_NON_PRINTABLE) return null;
    }
  }
  const timestamp = plaintext.readUInt32LE(0);
  // The sender split works on byte offsets (an emoji counts 4), not UTF-16 positions.
  const separator = messageBytes.indexOf(': ');
  if (separator > 0 && separator < SENDER_LIMIT_BYTES) {
    let plausibleSender = true;
    for (let i = 0; i < separator; i++) {
      const b = messageBytes[i];
      if (b === 0x3a || b === 0x5b || b === 0x5d) {
        plausibleSender = false;
        break;
      }
    }
    if (plausibleSender) {
      return {
        timestamp,
        sender: messageBytes.toString('utf8', 0, separator),
        message: messageBytes.toString('utf8', separator + 2),
      };
    }
  }
  return { timestamp, sender: '', message: text };
}

export interface ChannelTextMatch {
  key: PreparedChannelKey;
  text: ChannelText;
}

export interface ChannelDataMatch {
  key: PreparedChannelKey;
  plaintext: Buffer;
}

/**
 * Tries the ring's candidates for this channel byte in order; the first key that passes the
 * MAC (and, for text, the plausibility check) wins. Null when none does.
 */
export function decryptChannelPayload(
  ring: ChannelKeyRing,
  channelByte: number,
  mac0: number,
  mac1: number,
  ciphertext: Buffer,
  kind: 'text',
): ChannelTextMatch | null;
export function decryptChannelPayload(
  ring: ChannelKeyRing,
  channelByte: number,
  mac0: number,
  mac1: number,
  ciphertext: Buffer,
  kind: 'data',
): ChannelDataMatch | null;
export function decryptChannelPayload(
  ring: ChannelKeyRing,
  channelByte: number,
  mac0: number,
  mac1: number,
  ciphertext: Buffer,
  kind: 'text' | 'data',
): ChannelTextMatch | ChannelDataMatch | null {
  // A key whose MAC matches is still skipped unless the ciphertext is whole AES blocks, so
  // an unaligned ciphertext can never decrypt: no need to compute any MAC.
  if (ciphertext.length % AES_BLOCK !== 0 || ciphertext.length > MAX_CIPHERTEXT) return null;
  const candidates = ring.candidatesFor(channelByte);
  if (candidates.length === 0) return null;
  ciphertext.copy(innerBlock, 64);
  for (const key of candidates) {
    if (!macMatches(key, ciphertext.length, mac0, mac1)) continue;
    const plaintext = decryptAesEcb(key.key, ciphertext);
    if (kind === 'data') return { key, plaintext };
    const text = parseChannelText(plaintext);
    if (text !== null) return { key, text };
  }
  return null;
}
