import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseRfc3339 } from './go-time-text';
import { field, HandoffShapeError, isJsonObject, jsonType, listField, stringField, type JsonObject } from './go-json-fields';
import type { MaintenanceRepository } from '../persistence/repositories/maintenance.repository';
import { oneLineError } from './one-line-error';

/**
 * Multibyte capability persistence (ingestor-spec §5.5). The server works out which nodes support multi-byte
 * path hashes but opens the database read-only, so it publishes a snapshot file and the ingestor — the only
 * writer — copies it into nodes / inactive_nodes. The file stays in place and is re-applied on every run.
 */

export const MULTIBYTE_SNAPSHOT_DIR = 'mbcap-snapshot';
export const MULTIBYTE_SNAPSHOT_FILE = 'snapshot.json';

/** `<dir(dbPath)>/mbcap-snapshot/snapshot.json`: the handoff directory sits next to the database file. */
export function multibyteSnapshotPath(dbPath: string): string {
  return path.join(path.dirname(dbPath), MULTIBYTE_SNAPSHOT_DIR, MULTIBYTE_SNAPSHOT_FILE);
}

export interface MultibyteSnapshotEntry {
  readonly publicKey: string;
  readonly status: string;
  readonly evidence: string;
}

export interface MultibytePersistStats {
  /** Entries in the snapshot. */
  readEntries: number;
  /** Rows updated in nodes. */
  updatedActive: number;
  /** Rows updated in inactive_nodes. */
  updatedInactive: number;
  /** Entries whose status is neither confirmed nor suspected. */
  skipped: number;
}

/** Database value of a status; 0 (unknown, or anything else) is never written. */
const SUPPORT_BY_STATUS: ReadonlyMap<string, number> = new Map([
  ['confirmed', 2],
  ['suspected', 1],
]);

export class MalformedSnapshotError extends Error {}

/** Parses the snapshot the way the reference's JSON decoding accepts it; any shape problem means "malformed". */
export function parseMultibyteSnapshot(text: string): MultibyteSnapshotEntry[] {
  let root: unknown;
  try {
    root = JSON.parse(text) as unknown;
  } catch (error) {
    throw new MalformedSnapshotError(`unmarshal: ${oneLineError(error)}`);
  }
  if (root === null) return [];
  try {
    if (!isJsonObject(root)) throw new HandoffShapeError(`json: cannot unmarshal ${jsonType(root)} into a snapshot object`);
    const writtenAt = field(root, 'writtenAt');
    if (writtenAt !== undefined && (typeof writtenAt !== 'string' || parseRfc3339(writtenAt) === undefined)) {
      throw new HandoffShapeError(`writtenAt is not an RFC3339 time: ${JSON.stringify(writtenAt)}`);
    }
    return listField(root, 'entries', (entry) => {
      if (entry === null) return { publicKey: '', status: '', evidence: '' };
      if (!isJsonObject(entry)) throw new HandoffShapeError(`json: cannot unmarshal ${jsonType(entry)} into an entry`);
      const object: JsonObject = entry;
      return {
        publicKey: stringField(object, 'public_key'),
        status: stringField(object, 'status'),
        evidence: stringField(object, 'evidence'),
      };
    });
  } catch (error) {
    throw new MalformedSnapshotError(`unmarshal: ${oneLineError(error)}`);
  }
}

export interface MultibytePersisterOptions {
  readonly snapshotPath: string;
  readonly log: (line: string) => void;
}

export class MultibyteCapabilityPersister {
  constructor(
    private readonly repository: MaintenanceRepository,
    private readonly options: MultibytePersisterOptions,
  ) {}

  /**
   * One run: a missing file (the steady state until the server's first analytics cycle), a malformed file, an
   * empty snapshot or a legacy schema are all logged no-ops, never errors, so the schedule keeps going.
   */
  async run(): Promise<MultibytePersistStats> {
    const stats: MultibytePersistStats = { readEntries: 0, updatedActive: 0, updatedInactive: 0, skipped: 0 };
    let text: string;
    try {
      text = await readFile(this.options.snapshotPath, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.options.log(`[multibyte-persist] read snapshot: ${oneLineError(error)} (no-op)`);
      }
      return stats;
    }

    let entries: MultibyteSnapshotEntry[];
    try {
      entries = parseMultibyteSnapshot(text);
    } catch (error) {
      this.options.log(`[multibyte-persist] malformed snapshot on disk (no-op): ${oneLineError(error)}`);
      return stats;
    }
    stats.readEntries = entries.length;
    if (entries.length === 0) return stats;

    if (!this.repository.hasMultibyteColumns()) {
      this.options.log(
        `[multibyte-persist] schema missing: nodes.multibyte_sup not present on this DB (legacy schema) — ` +
          `skipping ${stats.readEntries} entries`,
      );
      return stats;
    }

    this.repository.transaction(() => {
      for (const entry of entries) {
        const support = SUPPORT_BY_STATUS.get(entry.status) ?? 0;
        // Never overwrite a confirmed/suspected value with "unknown".
        if (support === 0) {
          stats.skipped += 1;
          continue;
        }
        // A key lives in exactly one of the two tables: probe nodes once instead of updating both.
        if (this.repository.isActiveNode(entry.publicKey)) {
          stats.updatedActive += this.repository.setMultibyteCapability('nodes', entry.publicKey, support, entry.evidence);
        } else {
          stats.updatedInactive += this.repository.setMultibyteCapability(
            'inactive_nodes',
            entry.publicKey,
            support,
            entry.evidence,
          );
        }
      }
    });
    if (stats.updatedActive + stats.updatedInactive > 0) {
      this.options.log(
        `[multibyte-persist] applied snapshot: ${stats.readEntries} entries (${stats.skipped} skipped); ` +
          `updated ${stats.updatedActive} active + ${stats.updatedInactive} inactive nodes`,
      );
    }
    return stats;
  }
}
