import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT, SHARED_DIR } from './ingestor-process';

/**
 * Typed access to two plain-JavaScript modules the e2e tests share with the benchmarks: the large-database
 * generator (bench/support/big-database.mjs) and the load generator of ../shared/tools. Loaded with a dynamic
 * import of their file URL (they are ES modules without type declarations).
 */

export interface BigDatabaseParams {
  observations: number;
  days: number;
  cutDaysAgo: number;
  fanoutMin: number;
  fanoutMax: number;
  observers: number;
  warmupBacklog: number;
  seed: number;
}

export interface BigDatabaseMeta {
  params: BigDatabaseParams;
  anchorMs: number;
  counts: {
    oldTx: number;
    oldObs: number;
    recentTx: number;
    recentObs: number;
    transmissions: number;
    observations: number;
    nodes: number;
    observers: number;
    edges: number;
  };
  firstTxId: number;
  maxTxId: number;
  maxObsId: number;
  /** first_seen of the newest old transmission / of the oldest recent one (RFC3339). */
  oldFirstSeenMax: string;
  recentFirstSeenMin: string;
  buildSeconds?: number;
}

interface BigDatabaseModule {
  ensureBigDatabase(
    params: Partial<BigDatabaseParams>,
    options?: { log?: (line: string) => void },
  ): Promise<{ path: string; meta: BigDatabaseMeta; cached: boolean }>;
  copyDatabase(source: string, destination: string): void;
  packetDaysFor(meta: BigDatabaseMeta, nowMs?: number): number;
}

export async function bigDatabaseModule(): Promise<BigDatabaseModule> {
  return (await import(pathToFileURL(join(REPO_ROOT, 'bench/support/big-database.mjs')).href)) as BigDatabaseModule;
}

export interface GeneratedPacket {
  hex: string;
  obsIndex: number;
}

export interface LoadGenerator {
  observers: { id: string; iata: string }[];
  packetCount: number;
  /** Message i: its topic and payload (the meshcoretomqtt envelope, timestamp = now). */
  message(i: number): { topic: string; payload: string; hex: string; observerId: string };
}

/** The shared load generator in `unique` mode: every message a new observation (mostly new transmissions). */
export async function loadGenerator(seed: number, observerCount = 32): Promise<LoadGenerator> {
  const lib = (await import(pathToFileURL(join(SHARED_DIR, 'tools/lib/generator.mjs')).href)) as {
    loadCorpus(file: string): unknown[];
    buildObservers(packets: unknown[], k: number, m: number): { observers: { id: string; iata: string }[] };
    MessageGenerator: {
      new (options: Record<string, unknown>): {
        message(i: number): { topic: string; head: string; tail: string };
        packetFor(i: number): GeneratedPacket;
      };
      render(template: { head: string; tail: string }, iso: string): string;
    };
  };
  const packets = lib.loadCorpus(join(SHARED_DIR, 'tools/corpus/real-packets.jsonl'));
  const { observers } = lib.buildObservers(packets, observerCount, 4);
  const gen = new lib.MessageGenerator({ packets, observers, mode: 'unique', fanout: 1, seed });
  return {
    observers,
    packetCount: packets.length,
    message(i) {
      const template = gen.message(i);
      const { hex, obsIndex } = gen.packetFor(i);
      return {
        topic: template.topic,
        payload: lib.MessageGenerator.render(template, new Date().toISOString()),
        hex,
        observerId: observers[obsIndex].id,
      };
    },
  };
}
