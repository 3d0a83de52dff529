#!/usr/bin/env node
// Ingest benchmark (issue 4): replays >= 100 000 messages built from the real corpus into a
// fresh database through the same pipeline and single writer as the service, with the
// production key set (built-in Public + the 296-key rainbow file) and signature checks on.
// Each configuration runs in its own process so peak RSS is its own.
//
//   npm run bench:ingest                 # default: 100 000 messages, batch size 2000, both modes, median of 3
//   modes: replay = the `replay` command (reads the JSONL file); memory = messages parsed before the
//   clock starts (the service's write path alone: parse, decode, dedup, upserts, commits)
//   node bench/ingest.bench.mjs --count 200000 --fanout 4 --batch-sizes 500,2000 --repeat 5
//   node bench/ingest.bench.mjs --modes memory --cpu-prof /tmp/prof   # V8 CPU profile per run
//   node bench/ingest.bench.mjs --worker-thread false   # ingest.workerThread (default: unset, replay's choice: the worker)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { arg, requireFromProject as require, root, shared } from './bench-support.mjs';

async function buildCapture(file, count, fanout, observersK) {
  const { loadCorpus, buildObservers, MessageGenerator } = await import(join(shared, 'tools/lib/generator.mjs'));
  const packets = loadCorpus(join(shared, 'tools/corpus/real-packets.jsonl'));
  const { observers } = buildObservers(packets, observersK, 4);
  const gen = new MessageGenerator({ packets, observers, mode: 'unique', fanout });
  const out = createWriteStream(file);
  const t0 = Date.now();
  for (let i = 0; i < count; i++) {
    const tpl = gen.message(i);
    const payload = MessageGenerator.render(tpl, new Date(t0 + i).toISOString());
    if (!out.write(JSON.stringify({ topic: tpl.topic, payload }) + '\n')) await new Promise((r) => out.once('drain', r));
  }
  await new Promise((r) => out.end(r));
  // The generator does not know which corpus packet our decoder rejects (one has a 74-byte path).
  const { decodePacket } = require(join(root, 'dist/modules/decoder/packet-decoder.js'));
  const { createDecodeContext } = require(join(root, 'dist/modules/decoder/decode-context.js'));
  const { buildChannelKeyMap } = require(join(root, 'dist/modules/decoder/channel-keys.js'));
  const ctx = createDecodeContext(buildChannelKeyMap({}), { validateSignatures: false });
  let rejected = 0;
  const rejectedTx = new Set();
  for (let i = 0; i < count; i++) {
    const plan = gen.packetFor(i);
    if (!decodePacket(plan.hex, ctx).ok) {
      rejected++;
      rejectedTx.add(plan.t);
    }
  }
  const all = gen.expected(count);
  return { transmissions: all.transmissions - rejectedTx.size, observations: all.observations - rejected };
}

/**
 * memory mode: the capture is parsed into messages (payload bytes, as MQTT delivers them) before
 * the clock starts, so the figure is the service's write path alone, without reading the file.
 */
async function runInMemory(config, file) {
  const { readFileSync } = await import('node:fs');
  const { NestFactory } = require(join(root, 'node_modules/@nestjs/core'));
  const { ReplayModule } = require(join(root, 'dist/cli/replay.module.js'));
  const { parseCaptureLine } = require(join(root, 'dist/modules/ingest/preparation/capture-line.js'));
  const { DatabaseService } = require(join(root, 'dist/modules/persistence/database.service.js'));
  const { IngestPipelineService } = require(join(root, 'dist/modules/ingest/ingest-pipeline.service.js'));
  const { IngestWriterService } = require(join(root, 'dist/modules/ingest/ingest-writer.service.js'));
  const messages = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => {
    const m = parseCaptureLine(line);
    return { ...m, payload: Buffer.from(m.payload) };
  });
  const app = await NestFactory.createApplicationContext(ReplayModule.forRoot(config), { logger: false });
  await app.init();
  await app.get(DatabaseService).asyncMigrations.whenIdle();
  app.get(IngestPipelineService).refreshPathIndex();
  const writer = app.get(IngestWriterService);
  for (const m of messages) writer.submit(m);
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  writer.start();
  await writer.drain();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  await app.close();
  return { messages: messages.length, seconds, messagesPerSecond: messages.length / seconds, cpuMs: (cpu.user + cpu.system) / 1000, peakRssMiB: process.resourceUsage().maxRSS / 1024 };
}

async function worker() {
  const [file, dir, batchSize, mode] = [arg('file'), arg('dir'), Number(arg('batch')), arg('mode', 'replay')];
  const workerThread = { true: true, false: false }[arg('worker-thread', '')];
  const { loadConfig } = require(join(root, 'dist/config/load-config.js'));
  const { runReplay } = require(join(root, 'dist/cli/replay-runner.js'));
  // As the replay command does before it starts.
  require(join(root, 'dist/common/runtime/memory-tuning.js')).applyMemoryTuning();
  const configPath = join(dir, `config-${batchSize}.json`);
  for (const suffix of ['', '-wal', '-shm']) rmSync(join(dir, `bench-${batchSize}.db${suffix}`), { force: true });
  writeFileSync(
    configPath,
    JSON.stringify({
      dbPath: join(dir, `bench-${batchSize}.db`),
      channelKeysPath: join(shared, 'tools/corpus/channel-rainbow.json'),
      ingest: { batchSize, flushIntervalMs: 50, workerThread },
      ingestBufferSize: mode === 'memory' ? 1_000_000 : 50000,
    }),
  );
  const { config } = loadConfig({ configPath, env: {} });
  const s = mode === 'memory' ? await runInMemory(config, file) : await runReplay(config, file, false);
  const Database = require('better-sqlite3');
  const db = new Database(config.dbPath, { readonly: true });
  const rows = db.prepare('SELECT (SELECT count(*) FROM observations) AS obs, (SELECT count(*) FROM transmissions) AS tx').get();
  db.close();
  process.stdout.write(JSON.stringify({ batchSize, ...s, obsRows: rows.obs, txRows: rows.tx }) + '\n');
}

const median = (values) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)];

async function main() {
  const count = Number(arg('count', '100000'));
  const fanout = Number(arg('fanout', '3'));
  const observersK = Number(arg('observers', '32'));
  const batchSizes = arg('batch-sizes', '2000').split(',').map(Number);
  // The machine is shared: one run can be a third off. Each row is the median of `repeat` runs.
  const repeat = Number(arg('repeat', '3'));
  const dir = mkdtempSync(join(tmpdir(), 'mqi-bench-ingest-'));
  try {
    const file = join(dir, 'capture.jsonl');
    const expected = await buildCapture(file, count, fanout, observersK);
    console.log(`capture: ${count} messages, ${expected.transmissions} transmissions, ${expected.observations} observations, ` +
      `fanout ${fanout}, ${observersK} observers; keys: Public + 296 rainbow; signatures on; median of ${repeat} runs`);
    console.log('mode    batch  msgs/s   obs/s    CPU ms/msg  peak RSS MiB  tx rows  obs rows  obs/s of each run');
    const modes = arg('modes', 'replay,memory').split(',');
    for (const mode of modes) for (const batch of batchSizes) {
      const runs = [];
      for (let i = 0; i < repeat; i++) {
        const profile = arg('cpu-prof', '') ? ['--cpu-prof', '--cpu-prof-dir', arg('cpu-prof', '')] : [];
        const workerThread = arg('worker-thread', '') ? ['--worker-thread', arg('worker-thread', '')] : [];
        const r = spawnSync(process.execPath, [...profile, fileURLToPath(import.meta.url), '--worker', '--file', file, '--dir', dir, '--batch', String(batch), '--mode', mode, ...workerThread], {
          encoding: 'utf8',
          maxBuffer: 1 << 24,
        });
        if (r.status !== 0) {
          console.error(r.stderr);
          process.exit(1);
        }
        const s = JSON.parse(r.stdout.trim().split('\n').pop());
        if (s.obsRows !== expected.observations || s.txRows !== expected.transmissions) {
          console.error(`row mismatch: expected ${expected.transmissions} tx / ${expected.observations} obs, got ${s.txRows} / ${s.obsRows}`);
          process.exitCode = 1;
        }
        runs.push({ ...s, obsPerSec: s.obsRows / s.seconds, cpuPerMsg: s.cpuMs / s.messages });
      }
      const m = (key) => median(runs.map((r) => r[key]));
      const last = runs[runs.length - 1];
      console.log(
        `${mode.padEnd(6)}  ${String(batch).padStart(5)}  ${String(Math.round(m('messagesPerSecond'))).padStart(7)}  ${String(Math.round(m('obsPerSec'))).padStart(7)}  ` +
          `${m('cpuPerMsg').toFixed(4).padStart(10)}  ${m('peakRssMiB').toFixed(1).padStart(12)}  ${String(last.txRows).padStart(7)}  ${String(last.obsRows).padStart(8)}  ` +
          runs.map((r) => Math.round(r.obsPerSec)).join(' / '),
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv.includes('--worker')) await worker();
else await main();
