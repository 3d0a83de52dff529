import { chmod, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { sanitizeLogText } from '../../common/logging/sanitize-log-text';
import { yieldToEventLoop } from './chunked-job.runner';
import { field, HandoffShapeError, isJsonObject, jsonType, listField, stringField } from './go-json-fields';
import { formatGoDuration, parseRfc3339, toRfc3339Nano } from './go-time-text';
import type { MaintenanceRepository } from '../persistence/repositories/maintenance.repository';
import { oneLineError } from './one-line-error';

/**
 * Geo-prune request queue (ingestor-spec §5.6). The server (read-only on the database) asks for nodes outside
 * the geo filter to be deleted by dropping `request-<id>.json` into `<dir(dbPath)>/prune-requests/`; the
 * ingestor deletes them, answers with `result-<id>.json` and removes the request.
 */

export const PRUNE_REQUEST_DIR = 'prune-requests';
/** Keys per DELETE statement: bounds both the statement and the time one transaction holds the writer. */
export const PRUNE_DELETE_CHUNK = 500;
/** What the server generates; the id becomes part of a file name, so nothing else is accepted. */
const VALID_REQUEST_ID = /^[0-9a-fA-F]{1,64}$/;
const REQUEST_FILE = /^request-.*\.json$/;
/** Go's zero time.Time, which is what a request without requestedAt reads back as. */
const GO_ZERO_TIME = '0001-01-01T00:00:00Z';
const RESULT_FILE_MODE = 0o644;

export function pruneRequestDirectory(dbPath: string): string {
  return path.join(path.dirname(dbPath), PRUNE_REQUEST_DIR);
}

export interface PruneRequest {
  readonly id: string;
  /** As written by the server (RFC3339), echoed in the result. */
  readonly requestedAt: string;
  readonly reason: string;
  readonly pubkeys: readonly string[];
}

/** result-<id>.json; property order is the file's key order. */
export interface PruneResult {
  readonly id: string;
  readonly requestedAt: string;
  readonly completedAt: string;
  readonly deleted: number;
  readonly error?: string;
}

/** Parses a request file; throws on anything the reference's JSON decoding would reject. */
export function parsePruneRequest(text: string): PruneRequest {
  const root = JSON.parse(text) as unknown;
  if (root === null) return { id: '', requestedAt: GO_ZERO_TIME, reason: '', pubkeys: [] };
  if (!isJsonObject(root)) throw new HandoffShapeError(`json: cannot unmarshal ${jsonType(root)} into a request object`);
  const requestedAt = field(root, 'requestedAt');
  if (requestedAt !== undefined && (typeof requestedAt !== 'string' || parseRfc3339(requestedAt) === undefined)) {
    throw new HandoffShapeError(`requestedAt is not an RFC3339 time: ${JSON.stringify(requestedAt)}`);
  }
  return {
    id: stringField(root, 'id'),
    requestedAt: requestedAt ?? GO_ZERO_TIME,
    reason: stringField(root, 'reason'),
    pubkeys: listField(root, 'pubkeys', (key, index) => {
      if (key === null) return '';
      if (typeof key !== 'string') throw new HandoffShapeError(`pubkeys[${index}] must be a string, not ${jsonType(key)}`);
      return key;
    }),
  };
}

export interface PruneRequestQueueOptions {
  readonly directory: string;
  readonly log: (line: string) => void;
  readonly now?: () => number;
  /** Between delete chunks and between requests (default: one event-loop turn). */
  readonly pause?: () => Promise<void>;
}

export class PruneRequestQueue {
  private readonly now: () => number;
  private readonly pause: () => Promise<void>;

  constructor(
    private readonly repository: MaintenanceRepository,
    private readonly options: PruneRequestQueueOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.pause = options.pause ?? yieldToEventLoop;
  }

  /** Handles every pending request in file-name order; returns how many were answered with a result file. */
  async processPending(): Promise<number> {
    let answered = 0;
    for (const file of await this.listPending()) {
      if (await this.processRequest(path.join(this.options.directory, file))) answered += 1;
      await this.pause();
    }
    return answered;
  }

  private async listPending(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.options.directory);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.options.log(`[prune-queue] list pending failed: ${oneLineError(error)}`);
      }
      return [];
    }
    return names.filter((name) => REQUEST_FILE.test(name)).sort();
  }

  private async processRequest(requestPath: string): Promise<boolean> {
    let request: PruneRequest;
    try {
      request = parsePruneRequest(await readFile(requestPath, 'utf8'));
    } catch (error) {
      this.options.log(`[prune-queue] read ${requestPath} failed: ${oneLineError(error)} — removing`);
      await this.removeQuietly(requestPath);
      return false;
    }
    // The reference deletes first and then fails to write the result for such an id, so the request is retried
    // (and its nodes deleted again) every run, forever. Refusing it up front touches nothing and ends the loop.
    if (!VALID_REQUEST_ID.test(request.id)) {
      this.options.log(
        `[prune-queue] ${requestPath} has an invalid id ${JSON.stringify(sanitizeLogText(request.id))} ` +
          '(want 1-64 hex characters) — removing without deleting anything',
      );
      await this.removeQuietly(requestPath);
      return false;
    }

    this.options.log(
      `[prune-queue] processing request ${request.id}: ${request.pubkeys.length} pubkey(s) (${sanitizeLogText(request.reason)})`,
    );
    const startedAt = performance.now();
    const { deleted, error } = await this.deleteNodes(request.pubkeys);
    const elapsed = formatGoDuration(performance.now() - startedAt);
    if (error === undefined) this.options.log(`[prune-queue] request ${request.id} deleted ${deleted} node(s) in ${elapsed}`);
    else this.options.log(`[prune-queue] request ${request.id} FAILED after ${elapsed}: ${error}`);

    const result: PruneResult = {
      id: request.id,
      requestedAt: request.requestedAt,
      completedAt: toRfc3339Nano(this.now()),
      deleted,
      ...(error !== undefined && { error }),
    };
    try {
      await this.writeResult(result);
    } catch (writeError) {
      // The request stays and is tried again on the next run.
      this.options.log(`[prune-queue] write result for ${request.id} failed: ${oneLineError(writeError)}`);
      return false;
    }
    await this.removeQuietly(requestPath);
    return true;
  }

  /** Exact-match deletes from nodes only (no cascade), PRUNE_DELETE_CHUNK keys per transaction. */
  private async deleteNodes(keys: readonly string[]): Promise<{ deleted: number; error?: string }> {
    let deleted = 0;
    for (let start = 0; start < keys.length; start += PRUNE_DELETE_CHUNK) {
      const end = Math.min(start + PRUNE_DELETE_CHUNK, keys.length);
      const batch = keys.slice(start, end);
      try {
        deleted += this.repository.transaction(() => this.repository.deleteNodes(batch));
      } catch (error) {
        return { deleted, error: `delete batch [${start}:${end}]: ${oneLineError(error)}` };
      }
      if (end < keys.length) await this.pause();
    }
    return { deleted };
  }

  /** Temp file + rename, so the server never reads a half-written result. */
  private async writeResult(result: PruneResult): Promise<void> {
    const finalPath = path.join(this.options.directory, `result-${result.id}.json`);
    const tempPath = path.join(this.options.directory, `.result-${result.id}.json.${process.pid}.tmp`);
    try {
      await writeFile(tempPath, JSON.stringify(result, null, 2), { mode: RESULT_FILE_MODE });
      await chmod(tempPath, RESULT_FILE_MODE); // the umask may have narrowed the mode given at creation
      await rename(tempPath, finalPath);
    } catch (error) {
      await this.removeQuietly(tempPath);
      throw error;
    }
  }

  private async removeQuietly(filePath: string): Promise<void> {
    try {
      await unlink(filePath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.options.log(`[prune-queue] remove ${filePath} failed: ${oneLineError(error)}`);
      }
    }
  }
}
