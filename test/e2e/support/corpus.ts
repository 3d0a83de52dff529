import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SHARED_DIR } from './ingestor-process';

export interface CorpusPacket {
  raw: string;
  hash: string;
  payload_type: number;
  route_type: number;
  observer: string;
  observer_name?: string;
  iata: string;
}

export function loadCorpus(): CorpusPacket[] {
  return readFileSync(join(SHARED_DIR, 'tools/corpus/real-packets.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as CorpusPacket);
}

/** An observer packet message as meshcoretomqtt publishes it. */
export function packetMessage(p: CorpusPacket, observer = p.observer, iata = p.iata): { topic: string; payload: string } {
  return {
    topic: `meshcore/${iata}/${observer}/packets`,
    payload: JSON.stringify({
      origin: p.observer_name ?? observer.slice(0, 8),
      origin_id: observer,
      type: 'PACKET',
      direction: 'rx',
      raw: p.raw,
      SNR: -7.5,
      RSSI: -101,
      score: 600,
      timestamp: new Date().toISOString(),
    }),
  };
}
