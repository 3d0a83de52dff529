/**
 * Content hashes the preparation worker recently passed on for storing: at least the last
 * `capacity`, at most the last 2 × `capacity`. A copy of a transmission heard again (by another
 * observer, over another path) is in the database by the time the writer applies it, so its
 * payload need not be decoded nor its decoded_json cross threads; the writer prepares it again in
 * the rare case it is not (see IngestPipeline).
 *
 * Two generations of sets instead of an exact ring: with mostly new hashes (every message
 * evicting one) the ring's delete cost ~1.6 µs a message; a generation change costs nothing.
 */
export class RecentHashes {
  private current = new Set<string>();
  private previous = new Set<string>();

  constructor(private readonly capacity: number) {}

  /** True when the hash was noted before and is still remembered; notes it otherwise. */
  seenBefore(hash: string): boolean {
    if (this.current.has(hash) || this.previous.has(hash)) return true;
    if (this.current.size >= this.capacity) {
      this.previous = this.current;
      this.current = new Set();
    }
    this.current.add(hash);
    return false;
  }
}
