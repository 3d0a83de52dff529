import { readFileSync } from 'node:fs';

/** One reading of /proc/self/io; valid only when at least one known key parsed. */
export interface ProcIoSample {
  atMs: number;
  readBytes: number;
  writeBytes: number;
  cancelledWriteBytes: number;
  syscr: number;
  syscw: number;
  ok: boolean;
}

export interface ProcIoRates {
  readBytesPerSec: number;
  writeBytesPerSec: number;
  cancelledWriteBytesPerSec: number;
  syscallsRead: number;
  syscallsWrite: number;
  sampledAt: string;
}

const KEYS: Record<string, keyof Omit<ProcIoSample, 'atMs' | 'ok'>> = {
  read_bytes: 'readBytes',
  write_bytes: 'writeBytes',
  cancelled_write_bytes: 'cancelledWriteBytes',
  syscr: 'syscr',
  syscw: 'syscw',
};

export function parseProcSelfIo(text: string, atMs: number): ProcIoSample {
  const sample: ProcIoSample = { atMs, readBytes: 0, writeBytes: 0, cancelledWriteBytes: 0, syscr: 0, syscw: 0, ok: false };
  for (const line of text.split('\n')) {
    const [key, value] = line.split(':').map((p) => p?.trim());
    const field = KEYS[key ?? ''];
    if (!field || value === undefined || !/^\d+$/.test(value)) continue;
    sample[field] = Number(value);
    sample.ok = true;
  }
  return sample;
}

export function readProcSelfIo(atMs: number): ProcIoSample {
  try {
    return parseProcSelfIo(readFileSync('/proc/self/io', 'utf8'), atMs);
  } catch {
    return parseProcSelfIo('', atMs);
  }
}

/** Per-second rates between two valid samples at least 1 ms apart (else undefined). */
export function procIoRates(prev: ProcIoSample | undefined, cur: ProcIoSample, sampledAt: string): ProcIoRates | undefined {
  if (!prev || !prev.ok || !cur.ok) return undefined;
  const seconds = (cur.atMs - prev.atMs) / 1000;
  if (seconds < 0.001) return undefined;
  const rate = (a: number, b: number) => (b - a) / seconds;
  return {
    readBytesPerSec: rate(prev.readBytes, cur.readBytes),
    writeBytesPerSec: rate(prev.writeBytes, cur.writeBytes),
    cancelledWriteBytesPerSec: rate(prev.cancelledWriteBytes, cur.cancelledWriteBytes),
    syscallsRead: rate(prev.syscr, cur.syscr),
    syscallsWrite: rate(prev.syscw, cur.syscw),
    sampledAt,
  };
}
