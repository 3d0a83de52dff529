/** Byte → two-digit hex lookups; cheaper than toString(16) per byte on the hot path. */

export const HEX_LOWER: readonly string[] = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));
export const HEX_UPPER: readonly string[] = HEX_LOWER.map((pair) => pair.toUpperCase());

/** Upper-case hex of bytes [start, end). */
export function upperHex(bytes: Uint8Array, start: number, end: number): string {
  let out = '';
  for (let i = start; i < end; i++) out += HEX_UPPER[bytes[i]];
  return out;
}

/** A little-endian uint32 as 8 lower-case hex digits (the wire bytes reversed). */
export function uint32LeHex(bytes: Buffer, offset: number): string {
  return bytes.readUInt32LE(offset).toString(16).padStart(8, '0');
}
