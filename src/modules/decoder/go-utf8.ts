/**
 * UTF-8 decoding with Go's rune-by-rune semantics: an invalid or incomplete sequence is one
 * error rune that consumes exactly one byte. (WHATWG decoders, e.g. TextDecoder, replace a
 * whole "maximal subpart" with a single U+FFFD instead, which would not match CoreScope.)
 */

import { isUtf8 } from 'node:buffer';

/** Returned by decodeRuneAt for a byte that does not start a valid sequence. */
export const INVALID_RUNE = -1;

const SIZE_SHIFT = 21;
const CODE_POINT_MASK = (1 << SIZE_SHIFT) - 1;

/**
 * Decodes the rune starting at `at` (which must be < end). Returns INVALID_RUNE (the caller
 * advances one byte) or the code point packed with its byte length; split it with
 * runeCodePoint / runeSize.
 */
export function decodeRuneAt(bytes: Uint8Array, at: number, end: number): number {
  const b0 = bytes[at];
  if (b0 < 0x80) return b0 | (1 << SIZE_SHIFT);
  if (b0 < 0xc2 || b0 > 0xf4) return INVALID_RUNE;
  const available = end - at;
  if (b0 < 0xe0) {
    if (available < 2) return INVALID_RUNE;
    const b1 = bytes[at + 1];
    if ((b1 & 0xc0) !== 0x80) return INVALID_RUNE;
    return (((b0 & 0x1f) << 6) | (b1 & 0x3f)) | (2 << SIZE_SHIFT);
  }
  if (b0 < 0xf0) {
    if (available < 3) return INVALID_RUNE;
    const b1 = bytes[at + 1];
    // E0 excludes overlong forms, ED excludes UTF-16 surrogates.
    const low = b0 === 0xe0 ? 0xa0 : 0x80;
    const high = b0 === 0xed ? 0x9f : 0xbf;
    if (b1 < low || b1 > high) return INVALID_RUNE;
    const b2 = bytes[at + 2];
    if ((b2 & 0xc0) !== 0x80) return INVALID_RUNE;
    return (((b0 & 0x0f) << 12) | ((b1 & 0x3f) << 6) | (b2 & 0x3f)) | (3 << SIZE_SHIFT);
  }
  if (available < 4) return INVALID_RUNE;
  const b1 = bytes[at + 1];
  // F0 excludes overlong forms, F4 caps the range at U+10FFFF.
  const low = b0 === 0xf0 ? 0x90 : 0x80;
  const high = b0 === 0xf4 ? 0x8f : 0xbf;
  if (b1 < low || b1 > high) return INVALID_RUNE;
  const b2 = bytes[at + 2];
  const b3 = bytes[at + 3];
  if ((b2 & 0xc0) !== 0x80 || (b3 & 0xc0) !== 0x80) return INVALID_RUNE;
  return (((b0 & 0x07) << 18) | ((b1 & 0x3f) << 12) | ((b2 & 0x3f) << 6) | (b3 & 0x3f)) | (4 << SIZE_SHIFT);
}

export function runeCodePoint(rune: number): number {
  return rune & CODE_POINT_MASK;
}

export function runeSize(rune: number): number {
  return rune >>> SIZE_SHIFT;
}

/** Text of a Go string: valid sequences as they are, each invalid byte as one U+FFFD. */
export function goBytesToString(bytes: Uint8Array): string {
  if (isUtf8(bytes)) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  let text = '';
  for (let at = 0; at < bytes.length; ) {
    const rune = decodeRuneAt(bytes, at, bytes.length);
    if (rune === INVALID_RUNE) {
      text += '\ufffd';
      at += 1;
    } else {
      text += String.fromCodePoint(runeCodePoint(rune));
      at += runeSize(rune);
    }
  }
  return text;
}
