/**
 * resolved_path (ingestor-spec §3.7): maps each path hop (a 1–3 byte pubkey prefix) to the full
 * key of the node it names, when that is unambiguous — directly, or through the neighbor graph
 * anchored on the previous resolved hop (or the advert's sender).
 */

const PREFIX_LENGTHS = [2, 4, 6, 8, 12, 16];

export class PathResolver {
  private prefixIndex = new Map<string, string[]>();
  private neighbors = new Map<string, Set<string>>();

  /** Rebuilds the prefix index from the active node keys and the graph from neighbor_edges. */
  refresh(nodeKeys: readonly string[], edges: ReadonlyArray<readonly [string, string]>): void {
    const index = new Map<string, string[]>();
    for (const raw of nodeKeys) {
      const key = raw.toLowerCase();
      for (const len of PREFIX_LENGTHS) {
        if (key.length < len) break;
        const prefix = key.slice(0, len);
        const list = index.get(prefix);
        if (list) {
          if (!list.includes(key)) list.push(key);
        } else index.set(prefix, [key]);
      }
    }
    const graph = new Map<string, Set<string>>();
    const link = (a: string, b: string) => {
      let set = graph.get(a);
      if (!set) graph.set(a, (set = new Set()));
      set.add(b);
    };
    for (const [rawA, rawB] of edges) {
      const a = rawA.toLowerCase();
      const b = rawB.toLowerCase();
      if (a === b) continue;
      link(a, b);
      link(b, a);
    }
    this.prefixIndex = index;
    this.neighbors = graph;
  }

  get indexedPrefixes(): number {
    return this.prefixIndex.size;
  }

  /** resolve() for an observation's path_json; the hops are only parsed when something can resolve. */
  resolvePathJson(pathJson: string, fromPubkey: string | null): string | null {
    if (pathJson === '[]' || this.prefixIndex.size === 0) return null;
    return this.resolve(JSON.parse(pathJson) as string[], fromPubkey);
  }

  /** The resolved_path column: JSON array of keys/null, or null when empty or all null. */
  resolve(hops: readonly string[], fromPubkey: string | null): string | null {
    if (hops.length === 0 || this.prefixIndex.size === 0) return null;
    let anchor = (fromPubkey ?? '').toLowerCase();
    const excluded = new Set<string>();
    if (anchor) excluded.add(anchor);
    const resolved: (string | null)[] = [];
    let any = false;
    for (const hop of hops) {
      const candidates = this.prefixIndex.get(hop.toLowerCase()) ?? [];
      let pick: string | null = null;
      if (candidates.length === 1) {
        pick = excluded.has(candidates[0]) ? null : candidates[0];
      } else if (candidates.length > 1 && anchor && this.neighbors.size > 0) {
        const adjacent = this.neighbors.get(anchor);
        const survivors = candidates.filter((c) => !excluded.has(c) && adjacent?.has(c));
        if (survivors.length === 1) pick = survivors[0];
      }
      resolved.push(pick);
      if (pick) {
        any = true;
        anchor = pick;
        excluded.add(pick);
      } else {
        anchor = '';
      }
    }
    return any ? JSON.stringify(resolved) : null;
  }
}
