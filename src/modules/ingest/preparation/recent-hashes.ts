/**
 * The last `capacity` content hashes the preparation worker passed on for storing. A copy of a
 * transmission heard again (by another observer, over another path) is in the database by the
 * time the writer applies it, so its payload need not be decoded nor its decoded_json cross
 * threads; the writer prepares it again in the rare case it is not (see IngestPipeline).
 */
export class RecentHashes {
  private readonly ring: Array<string | undefined>;
  private readonly known = new Set<string>();
  private next = 0;

  constructor(private readonly capacity: number) {
    this.ring = new Array<string | undefined>(capacity);
  }

  /** True when the hash was noted before and is still remembered; notes it otherwise. */
  seenBefore(hash: string): boolean {
    if (this.known.has(hash)) return true;
    const evicted = this.ring[this.next];
    if (evicted !== undefined) this.known.delete(evicted);
    this.ring[this.next] = hash;
    this.next = (this.next + 1) % this.capacity;
    this.known.add(hash);
    return false;
  }
}
