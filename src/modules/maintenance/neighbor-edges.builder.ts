import { toRfc3339 } from '../../common/time/rfc3339';
import type { ChunkedJob } from './chunked-job.runner';
import { parseRfc3339ToEpochSeconds } from './go-time-text';
import type { MaintenanceRepository, NeighborEdgeContribution, NeighborScanRow } from '../persistence/repositories/maintenance.repository';

/**
 * The neighbor edges builder (ingestor-spec §5.4): turns new observations into neighbor_edges rows — the
 * advert originator ↔ its first hop, and the observer ↔ the last hop — so the server can draw the graph.
 * The ingestor is the only writer of neighbor_edges.
 */

/** Observation rows one build may scan (the reference's cap; keeps one build, and its transaction, bounded). */
export const NEIGHBOR_BUILD_BATCH_ROWS = 50_000;

const ADVERT_PAYLOAD_TYPE = 4;
/** Hop prefix lengths in hex characters (1, 2, 3, 4, 6 and 8 bytes). */
const PREFIX_LENGTHS = [2, 4, 6, 8, 12, 16];

/**
 * Hop prefix → every node key starting with it, built from scratch for each build. A hop resolves only when
 * exactly one node matches: the builder is deliberately more conservative than the ingest path's resolver,
 * which may also use the neighbor graph to break ties.
 */
export class NodePrefixIndex {
  private readonly byPrefix = new Map<string, string[]>();

  constructor(nodeKeys: readonly string[]) {
    for (const key of nodeKeys) {
      const lower = key.toLowerCase();
      for (const length of PREFIX_LENGTHS) {
        if (lower.length < length) continue;
        const prefix = lower.slice(0, length);
        const keys = this.byPrefix.get(prefix);
        if (keys) keys.push(lower);
        else this.byPrefix.set(prefix, [lower]);
      }
    }
  }

  /** The one node the hop names, or undefined when none or several match. */
  resolve(hop: string): string | undefined {
    const keys = this.byPrefix.get(hop.toLowerCase());
    return keys?.length === 1 ? keys[0] : undefined;
  }
}

export interface NeighborEdge {
  readonly nodeA: string;
  readonly nodeB: string;
  /** RFC3339 time of the observation. */
  readonly seenAt: string;
}

/** The pair in canonical order (node_a ≤ node_b), as neighbor_edges stores it. */
export function canonicalEdge(first: string, second: string, seenAt: string): NeighborEdge {
  return first <= second ? { nodeA: first, nodeB: second, seenAt } : { nodeA: second, nodeB: first, seenAt };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** decoded_json.pubKey when it is a string (the originator of an advert), else ''. */
function advertPubkey(decodedJson: string): string {
  const decoded = parseJson(decodedJson);
  if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded)) return '';
  const pubKey = (decoded as Record<string, unknown>).pubKey;
  return typeof pubKey === 'string' ? pubKey : '';
}

/** path_json as a list of hops; anything that is not a JSON array of strings counts as "no hops" (null → ''). */
export function parsePathHops(pathJson: string): string[] {
  if (pathJson === '' || pathJson === '[]') return [];
  const parsed = parseJson(pathJson);
  if (!Array.isArray(parsed)) return [];
  if (!parsed.every((hop) => hop === null || typeof hop === 'string')) return [];
  return parsed.map((hop: string | null) => hop ?? '');
}

/**
 * §5.4 step 4: the edges one batch of observations implies, in scan order (duplicates kept). One at a
 * time, so a build holds only the coalesced pairs, never its rows.
 */
export function* extractNeighborEdges(rows: Iterable<NeighborScanRow>, prefixes: NodePrefixIndex): Generator<NeighborEdge> {
  for (const row of rows) {
    // The reference reads decoded_json into a plain string, which fails on NULL and drops the whole row.
    if (row.decodedJson === null) continue;
    const from = (row.fromPubkey || advertPubkey(row.decodedJson)).toLowerCase();
    const isAdvert = row.payloadType === ADVERT_PAYLOAD_TYPE;
    const seenAt = toRfc3339(row.timestamp * 1000);
    const observer = row.observerId.toLowerCase();
    const hops = parsePathHops(row.pathJson);

    if (hops.length === 0) {
      // A zero-hop advert was heard directly by the observer.
      if (isAdvert && from !== '' && observer !== '' && from !== observer) yield canonicalEdge(from, observer, seenAt);
      continue;
    }
    if (isAdvert && from !== '') {
      const firstHop = prefixes.resolve(hops[0]);
      if (firstHop !== undefined && firstHop !== from) yield canonicalEdge(from, firstHop, seenAt);
    }
    if (observer !== '') {
      const lastHop = prefixes.resolve(hops[hops.length - 1]);
      if (lastHop !== undefined && lastHop !== observer) yield canonicalEdge(observer, lastHop, seenAt);
    }
  }
}

/**
 * Sums repeated pairs (first-seen order, newest time) so a build issues one upsert per pair. The table ends
 * up exactly as with one `count + 1` upsert per edge, which is what the reference's statement amounts to.
 * `edges` counts what it was given, duplicates included.
 */
export function coalesceEdges(edges: Iterable<NeighborEdge>): { contributions: NeighborEdgeContribution[]; edges: number } {
  const byPair = new Map<string, { nodeA: string; nodeB: string; count: number; lastSeen: string }>();
  let count = 0;
  for (const edge of edges) {
    count++;
    const pair = `${edge.nodeA}\u0000${edge.nodeB}`;
    const existing = byPair.get(pair);
    if (!existing) byPair.set(pair, { nodeA: edge.nodeA, nodeB: edge.nodeB, count: 1, lastSeen: edge.seenAt });
    else {
      existing.count += 1;
      if (edge.seenAt > existing.lastSeen) existing.lastSeen = edge.seenAt;
    }
  }
  return { contributions: [...byPair.values()], edges: count };
}

export interface NeighborEdgesBuilderOptions {
  /** Default NEIGHBOR_BUILD_BATCH_ROWS; smaller values only make the specs cheaper. */
  readonly batchRows?: number;
  /** Wraps the write transaction (slow-writer timing); defaults to running it as is. */
  readonly timeWrite?: <T>(work: () => T) => T;
}

export class NeighborEdgesBuilder {
  readonly batchRows: number;
  private readonly timeWrite: <T>(work: () => T) => T;

  constructor(
    private readonly repository: MaintenanceRepository,
    options: NeighborEdgesBuilderOptions = {},
  ) {
    this.batchRows = options.batchRows ?? NEIGHBOR_BUILD_BATCH_ROWS;
    this.timeWrite = options.timeWrite ?? ((work) => work());
  }

  /**
   * Epoch seconds of the newest edge: observations at or before it count as already built. The table is its
   * own bookmark, so a restart resumes where the last build stopped (0 on an empty or unreadable table).
   */
  watermark(): number {
    const newest = this.repository.newestNeighborEdgeSeen();
    return (newest && parseRfc3339ToEpochSeconds(newest)) || 0;
  }

  /**
   * One build (§5.4): scans at most `batchRows` observations newer than the watermark and upserts their edges
   * in one transaction (all or nothing). Returns the number of edges found, duplicates included.
   *
   * Inherited trade-offs: an observation stored with a timestamp at or below the watermark (late, or in the
   * same second as the watermark but beyond a batch cut) is never scanned; if pruning empties the table the
   * watermark falls back to 0 and old observations are scanned again.
   */
  build(): number {
    const prefixes = new NodePrefixIndex(this.repository.listNodeKeys());
    // Streamed and coalesced as read: 50 000 rows with their decoded_json held at once were ~25 MiB of heap.
    const rows = this.repository.observationsForNeighborScan(this.watermark(), this.batchRows);
    const { contributions, edges } = coalesceEdges(extractNeighborEdges(rows, prefixes));
    if (edges === 0) return 0;
    this.timeWrite(() => this.repository.transaction(() => this.repository.upsertNeighborEdges(contributions)));
    return edges;
  }

  /**
   * Start-up warm-up: builds until one build finds fewer edges than the batch cap, i.e. the backlog is drained
   * (the reference's stop rule, which compares edges with the row cap). Yields between builds; `progress.total`
   * keeps the running total even when a build fails.
   */
  *warmUp(progress: { total: number } = { total: 0 }): ChunkedJob<number> {
    for (;;) {
      const upserted = this.build();
      progress.total += upserted;
      if (upserted < this.batchRows) return progress.total;
      yield;
    }
  }
}
