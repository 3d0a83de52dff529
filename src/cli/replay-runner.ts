import { LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createReadStream, statSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { sanitizeLogText } from '../common/logging/sanitize-log-text';
import { AppConfig } from '../config/config.types';
import { IngestMessage } from '../modules/ingest/ingest-message';
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

/** Parses one capture line: `{"topic": "...", "payload": <object or string>, "source"?: "..."}`. */
export function parseReplayLine(line: string): IngestMessage | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return 'not JSON';
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'not a JSON object';
  const rec = value as Record<string, unknown>;
  if (typeof rec.topic !== 'string' || rec.topic === '') return 'missing "topic"';
  const payload = rec.payload;
  if (typeof payload === 'string') return { topic: rec.topic, payload, source: typeof rec.source === 'string' ? rec.source : 'replay' };
  if (payload !== null && typeof payload === 'object' && !Array.isArray(payload)) {
    return { topic: rec.topic, payload: payload as Record<string, unknown>, source: typeof rec.source === 'string' ? rec.source : 'replay' };
  }
  return '"payload" must be an object or a string';
}

/**
 * Lines of a file, read in 64 KiB chunks: one await per chunk instead of one per line
 * (node:readline's async iterator cost about 10 µs a line, half the writer's own cost).
 */
export async function* readLines(chunks: AsyncIterable<Buffer | string>): AsyncGenerator<string[]> {
  // A UTF-8 character split between two chunks is joined by the decoder.
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for await (const chunk of chunks) {
    const text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
    // Only the new text is searched: a very long line costs linear time, not quadratic.
    if (!text.includes('\n')) {
      rest += text;
      continue;
    }
    const lines = text.split('\n');
    lines[0] = rest + lines[0];
    rest = lines.pop() ?? '';
    yield lines.map(withoutCarriageReturn);
  }
  rest += decoder.end();
  if (rest !== '') yield [withoutCarriageReturn(rest)];
}

const withoutCarriageReturn = (line: string): string => (line.endsWith('\r') ? line.slice(0, -1) : line);

/**
 * Ingests a JSONL capture through the same pipeline and single writer as the live service, into
 * the configured database.
 */
export async function runReplay(config: AppConfig, file: string, logger: LoggerService | false, hooks: ReplayProgress = {}): Promise<ReplaySummary> {
  const totalBytes = statSync(file).size;
  const app = await NestFactory.createApplicationContext(ReplayModule.forRoot(config), { logger });
  const launched = process.hrtime.bigint();
  try {
    await app.init();
    await app.get(DatabaseService).asyncMigrations.whenIdle();
    app.get(IngestPipelineService).refreshPathIndex();
    const writer = app.get(IngestWriterService);
    writer.start();
    const started = process.hrtime.bigint();
    const cpuStart = process.cpuUsage();

    const readAhead = 4 * config.ingest.batchSize;
    const knownSources = new Set(config.mqttSources.map((s) => s.name));
    const reportedSources = new Set<string>();
    let messages = 0;
    let invalidLines = 0;
    let lineNumber = 0;
    const stream = createReadStream(file);
    for await (const chunkLines of readLines(stream)) {
      for (const line of chunkLines) {
        lineNumber++;
        if (line.trim() === '') continue;
        const parsed = parseReplayLine(line);
        if (typeof parsed === 'string') {
          invalidLines++;
          hooks.onInvalidLine?.(lineNumber, parsed);
          continue;
        }
        messages++;
        if (parsed.source !== 'replay' && !knownSources.has(parsed.source) && !reportedSources.has(parsed.source)) {
          reportedSources.add(parsed.source);
          hooks.onUnknownSource?.(sanitizeLogText(parsed.source));
        }
        // A file needs no deep queue (nothing is lost by reading it later): a few batches ahead.
        if (writer.buffer.pending >= readAhead) await writer.waitForRoom(readAhead / 2);
        writer.submit(parsed);
        if ((messages & 1023) === 0) hooks.onProgress?.(stream.bytesRead, totalBytes, messages);
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
