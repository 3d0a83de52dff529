import { LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createReadStream, statSync } from 'node:fs';
import { sanitizeLogText } from '../common/logging/sanitize-log-text';
import { AppConfig } from '../config/config.types';
import { REPLAY_SOURCE } from '../modules/ingest/preparation/capture-line';
import type { PreparedMessage } from '../modules/ingest/preparation/prepared-message';
import { IngestPipelineService } from '../modules/ingest/ingest-pipeline.service';
import { IngestWriterService } from '../modules/ingest/ingest-writer.service';
import { DatabaseService } from '../modules/persistence/database.service';
import { IngestStatsService } from '../modules/stats/ingest-stats.service';
import { ReplayModule } from './replay.module';

export interface ReplaySummary {
  messages: number;
  /** Start-up (Nest, database open, migrations) before the first message, not part of `seconds`. */
  startupSeconds: number;
  invalidLines: number;
  transmissions: number;
  observations: number;
  duplicates: number;
  errors: number;
  seconds: number;
  messagesPerSecond: number;
  cpuMs: number;
  peakRssMiB: number;
}

export interface ReplayProgress {
  /** Bytes of the file read so far, and its size. */
  onProgress?(bytesRead: number, totalBytes: number, messages: number): void;
  /** One sanitized line per unusable input line. */
  onInvalidLine?(lineNumber: number, reason: string): void;
  /** Once per `source` value that names no configured source. */
  onUnknownSource?(source: string): void;
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/**
 * Lines of a file as bytes, one await per chunk read (runReplay reads 1 MiB at a time), and no text decoding on
 * the writer's thread (the preparation reads each line; a UTF-8 character split between chunks is
 * whole once the line is). A line ending in CR LF loses the CR.
 */
export async function* readLines(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer[]> {
  // The start of a line that has no end yet, in pieces: joined once, when its end arrives.
  let pending: Buffer[] = [];
  for await (const chunk of chunks) {
    let end = chunk.indexOf(NEWLINE);
    if (end < 0) {
      pending.push(chunk);
      continue;
    }
    pending.push(chunk.subarray(0, end));
    const lines = [withoutCarriageReturn(pending.length === 1 ? pending[0] : Buffer.concat(pending))];
    pending = [];
    let start = end + 1;
    while ((end = chunk.indexOf(NEWLINE, start)) >= 0) {
      lines.push(withoutCarriageReturn(chunk.subarray(start, end)));
      start = end + 1;
    }
    if (start < chunk.length) pending.push(chunk.subarray(start));
    yield lines;
  }
  const last = Buffer.concat(pending);
  if (last.length > 0) yield [withoutCarriageReturn(last)];
}

const withoutCarriageReturn = (line: Buffer): Buffer => (line.length > 0 && line[line.length - 1] === CARRIAGE_RETURN ? line.subarray(0, -1) : line);

/** A line of nothing but ASCII blanks holds no message and is skipped without a word. */
function isBlank(line: Buffer): boolean {
  for (const byte of line) if (byte !== 0x20 && (byte < 0x09 || byte > 0x0d)) return false;
  return true;
}

/**
 * Ingests a JSONL capture through the same pipeline and single writer as the live service, into
 * the configured database.
 */
export async function runReplay(config: AppConfig, file: string, logger: LoggerService | false, hooks: ReplayProgress = {}): Promise<ReplaySummary> {
  const totalBytes = statSync(file).size;
  const launched = process.hrtime.bigint();
  const app = await NestFactory.createApplicationContext(ReplayModule.forRoot(config), { logger });
  try {
    await app.init();
    const database = app.get(DatabaseService);
    if (database.engine === 'sqlite') await database.asyncMigrations.whenIdle();
    await app.get(IngestPipelineService).reloadPathIndex();
    const writer = app.get(IngestWriterService);
    writer.start();
    const started = process.hrtime.bigint();
    const cpuStart = process.cpuUsage();

    // A file needs no deep queue (nothing is lost by reading it later): a few batches ahead, and
    // never more than the buffer takes.
    const readAhead = Math.max(1, Math.min(8 * config.ingest.batchSize, config.ingest.highWaterMark, config.ingestBufferSize));
    const knownSources = new Set(config.mqttSources.map((s) => s.name));
    const reportedSources = new Set<string>();
    let messages = 0;
    let invalidLines = 0;
    let lineNumber = 0;
    const stream = createReadStream(file, { highWaterMark: 1 << 20 });
    // The lines are read by the preparation (in its worker thread); what they held is known once
    // their batch has committed.
    const onCommitted = (prepared: PreparedMessage): void => {
      if (prepared.kind === 'invalid-line') {
        invalidLines++;
        hooks.onInvalidLine?.(prepared.line, prepared.reason);
        return;
      }
      if (prepared.kind !== 'captured') return;
      if (((++messages) & 1023) === 0) hooks.onProgress?.(stream.bytesRead, totalBytes, messages);
      const { source } = prepared;
      if (source !== REPLAY_SOURCE && !knownSources.has(source) && !reportedSources.has(source)) {
        reportedSources.add(source);
        hooks.onUnknownSource?.(sanitizeLogText(source));
      }
    };
    for await (const chunkLines of readLines(stream)) {
      for (const line of chunkLines) {
        lineNumber++;
        if (isBlank(line)) continue;
        if (writer.buffer.pending >= readAhead) await writer.waitForRoom(readAhead / 2);
        if (!writer.submit({ source: REPLAY_SOURCE, topic: '', payload: line, captureLine: lineNumber, onCommitted })) {
          // Cannot happen while reading stays below the buffer's size; said, never silent.
          invalidLines++;
          hooks.onInvalidLine?.(lineNumber, 'not stored: the ingest buffer is full');
        }
      }
    }
    await writer.drain();
    hooks.onProgress?.(totalBytes, totalBytes, messages);

    const stats = app.get(IngestStatsService);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const cpu = process.cpuUsage(cpuStart);
    const errors =
      invalidLines + stats.get('decode_errors') + stats.get('message_errors') + stats.get('advert_rejects') + (stats.dropped('not_json_object') ?? 0);
    return {
      messages,
      startupSeconds: Number(started - launched) / 1e9,
      invalidLines,
      transmissions: stats.get('tx_inserted'),
      observations: stats.get('obs_inserted'),
      duplicates: stats.get('tx_dupes'),
      errors,
      seconds,
      messagesPerSecond: messages / Math.max(seconds, 1e-9),
      cpuMs: (cpu.user + cpu.system) / 1000,
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
    };
  } finally {
    await app.close();
  }
}

export function formatSummary(s: ReplaySummary): string {
  return [
    `messages:      ${s.messages}${s.invalidLines ? ` (+${s.invalidLines} unusable lines)` : ''}`,
    `transmissions: ${s.transmissions} new (${s.duplicates} duplicates)`,
    `observations:  ${s.observations}`,
    `errors:        ${s.errors}`,
    `time:          ${s.seconds.toFixed(2)} s, ${Math.round(s.messagesPerSecond)} msgs/s (after ${s.startupSeconds.toFixed(2)} s start-up)`,
  ].join('\n');
}

export function invalidLineText(lineNumber: number, reason: string): string {
  return `line ${lineNumber}: ${sanitizeLogText(reason)}, skipped`;
}
