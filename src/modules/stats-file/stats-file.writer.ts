import { closeSync, constants, openSync, renameSync, rmSync, writeSync } from 'node:fs';

const GO_HTML_ESCAPES: Record<string, string> = { '<': '\\u003c', '>': '\\u003e', '&': '\\u0026', '\u2028': '\\u2028', '\u2029': '\\u2029' };

/** Compact JSON in insertion order with Go's HTML-safe escaping (the reference's encoder output). */
export function goEncodeOrdered(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => GO_HTML_ESCAPES[c]);
}

/**
 * Atomic replace (ingestor-spec §6.1): write `<path>.tmp` (created 0600, O_NOFOLLOW so a planted
 * symlink at the temp path fails), then rename over `<path>` — which replaces even a symlink at
 * the destination without writing through it. The temp file is removed on any error.
 */
export function writeFileAtomically(path: string, content: string): void {
  const tmp = `${path}.tmp`;
  let fd: number | undefined;
  try {
    fd = openSync(tmp, constants.O_CREAT | constants.O_WRONLY | constants.O_TRUNC | constants.O_NOFOLLOW, 0o600);
    writeSync(fd, content);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
}
