/** Replaces control characters (below 0x20, and DEL) with '?' so observer-supplied text cannot forge log lines. */
export function sanitizeLogText(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]/g, '?');
}

/** First n characters (observer ids are cut to 8 in drop/decode-error lines). */
export function truncateId(id: string, n = 8): string {
  return sanitizeLogText(id.length > n ? id.slice(0, n) : id);
}
