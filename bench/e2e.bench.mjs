#!/usr/bin/env node
// End-to-end benchmark (issue 5): publisher → Mosquitto → service → SQLite, driven by the shared
// harness (../shared/tools/bench-run.mjs + mqtt-load.mjs --wait-db). Prints medians of 3 runs:
// e2e observations/s flat out, loss, CPU ms per observation, peak RSS, startup time to
// "subscribed", and loss at a paced 2 000 msg/s for 60 s. Production key set (Public + rainbow).
//
//   npm run bench                                  # builds first
//   node bench/e2e.bench.mjs --count 100000 --paced-seconds 60 --repeat 3
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { arg, findMosquitto, freePort, requireFromProject as require, root, shared } from './bench-support.mjs';
const COUNT = Number(arg('count', '100000'));
const PACED_RATE = Number(arg('paced-rate', '2000'));
const PACED_SECONDS = Number(arg('paced-seconds', '60'));
const REPEAT = Number(arg('repeat', '3'));


/** Observations the stream really carries: the generator does not know which packets our decoder rejects. */
async function storableObservations(toolsDir, count, extra) {
  const { loadCorpus, buildObservers, MessageGenerator } = await import(join(toolsDir, 'lib/generator.mjs'));
  const { decodePacket } = require(join(root, 'dist/modules/decoder/packet-decoder.js'));
  const { createDecodeContext } = require(join(root, 'dist/modules/decoder/decode-context.js'));
  const { buildChannelKeyMap } = require(join(root, 'dist/modules/decoder/channel-keys.js'));
  const ctx = createDecodeContext(buildChannelKeyMap({}), { validateSignatures: false });
  const packets = loadCorpus(join(toolsDir, 'corpus/real-packets.jsonl'));
  const { observers } = buildObservers(packets, Number(extra.observers ?? 32), 4);
  const gen = new MessageGenerator({ packets, observers, mode: 'unique', fanout: 1 });
  let rejected = 0;
  for (let i = 0; i < count; i++) if (!decodePacket(gen.packetFor(i).hex, ctx).ok) rejected++;
  return gen.expected(count).observations - rejected;
}

function runBenchRun(toolsDir, label, brokerUrl, brokerPid, loadArgs, expect, dbDir) {
  return new Promise(async (resolvePromise, reject) => {
    const httpPort = await freePort();
    const env = [
      'DB_PATH={db}',
      `MQTT_BROKER=${brokerUrl}`,
      `PORT=${httpPort}`,
      `CHANNEL_KEYS_PATH=${join(shared, 'tools/corpus/channel-rainbow.json')}`,
      `CORESCOPE_INGESTOR_STATS=${join(dbDir, 'stats.json')}`,
      `NODE=${process.execPath}`,
    ].join(',');
    const args = [
      join(toolsDir, 'bench-run.mjs'),
      '--label', label, '--cwd', root, '--cmd', 'bin/meshcore-ingestor serve', '--env', env,
      '--db-dir', dbDir, '--repeat', String(REPEAT), '--broker-pid', String(brokerPid), '--settle-s', '2',
      '--', '--url', brokerUrl, ...loadArgs, '--expect', String(expect), '--idle-ms', '8000',
    ];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.on('exit', (code) => (code === 0 ? resolvePromise(JSON.parse(out.trim().split('\n').pop())) : reject(new Error(`bench-run exited ${code}`))));
  });
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'mqi-bench-e2e-'));
  // shared/ is read-only: run the harness from a copy that uses this project's node_modules (mqtt, better-sqlite3).
  const toolsDir = join(work, 'tools');
  cpSync(join(shared, 'tools'), toolsDir, { recursive: true, filter: (src) => !src.includes('node_modules') });
  symlinkSync(join(root, 'node_modules'), join(toolsDir, 'node_modules'));
  const port = await freePort();
  const conf = join(work, 'mosquitto.conf');
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 1000000\n`);
  const broker = spawn(findMosquitto(), ['-c', conf], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 500));
  const url = `mqtt://127.0.0.1:${port}`;
  try {
    const flatExpect = await storableObservations(toolsDir, COUNT, {});
    const flat = await runBenchRun(toolsDir, 'flat-out', url, broker.pid, ['--count', String(COUNT)], flatExpect, join(work, 'db'));
    const pacedCount = PACED_RATE * PACED_SECONDS;
    const pacedExpect = await storableObservations(toolsDir, pacedCount, {});
    const paced = await runBenchRun(
      toolsDir, 'paced', url, broker.pid, ['--count', String(pacedCount), '--rate', String(PACED_RATE)], pacedExpect, join(work, 'db'),
    );
    const m = flat.median;
    console.log(`\nmeshcore-ingestor e2e benchmark (medians of ${REPEAT} runs; Public + 296 rainbow keys; signatures on)`);
    console.log(`flat out, ${COUNT} messages (${flatExpect} storable observations):`);
    console.log(`  e2e observations/s   ${m.e2e_obs_per_s}`);
    console.log(`  stored / expected    ${m.stored_observations} / ${flatExpect}  (loss ${flatExpect - m.stored_observations})`);
    console.log(`  CPU ms/observation   ${m.cpu_ms_per_obs}`);
    console.log(`  peak RSS MiB         ${m.vmhwm_mib}`);
    console.log(`  startup ms           ${m.startup_ms}  (spawn → "subscribed")`);
    console.log(`  idle RSS MiB         ${m.idle_rss_mib}`);
    console.log(`paced ${PACED_RATE} msg/s for ${PACED_SECONDS} s (${pacedExpect} storable observations):`);
    console.log(`  stored / expected    ${paced.median.stored_observations} / ${pacedExpect}  (loss ${pacedExpect - paced.median.stored_observations})`);
    console.log(`  CPU ms/observation   ${paced.median.cpu_ms_per_obs}, peak RSS MiB ${paced.median.vmhwm_mib}`);
    console.log(JSON.stringify({ flat, paced, flatExpect, pacedExpect }));
  } finally {
    broker.kill('SIGTERM');
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
