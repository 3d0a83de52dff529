#!/usr/bin/env node
// End-to-end benchmark (issues 5 and 14): publisher → Mosquitto → service → database, driven by the shared
// harness (../shared/tools: bench-run.mjs + mqtt-load.mjs --wait-db for SQLite; mqtt-load.mjs and a waiter on the
// database for PostgreSQL, bench/support/postgres-e2e.mjs; mqtt-sink.mjs --parse for the ceiling). Production key
// set (Public + rainbow). In one run, interleaved per repeat (SQLite, PostgreSQL ×1, PostgreSQL ×2, ceiling), then
// medians of the repeats:
//   - e2e observations/s flat out, loss (the stored rows counted in the database against the storable ones),
//     CPU ms per observation (every replica process; PostgreSQL's backends of the replicas beside it), peak RSS,
//     startup time to "subscribed";
//   - PostgreSQL with one replica and with two on an MQTT shared subscription (mqttSources[].shareGroup "bench":
//     $share/bench/meshcore/#; a build without that key gets the $share topic itself), each run on a throw-away
//     database (CREATE DATABASE mci_bench_<random>, dropped WITH (FORCE) afterwards), the rows counted after it;
//   - the broker + JSON.parse ceiling: a do-nothing subscriber under the same publisher;
//   - SQLite only: loss at a paced 2 000 msg/s for 60 s (medians of 3 as before).
//
//   npm run bench                                              # builds first
//   node bench/e2e.bench.mjs --count 100000 --paced-seconds 60 --repeat 3
//   npm run bench:postgres [-- --repeat 1]                    # the PostgreSQL part alone (BENCH_ENGINES=postgres,postgres2)
// The build (bin/, dist/) is copied at the start, so that a rebuild in this tree during the run changes nothing.
// Env: BENCH_ENGINES (sqlite,postgres,postgres2), BENCH_CEILING=0 leaves the ceiling out, BENCH_PG_ADMIN_URL (the
// local server as postgres, then as the OS user), BENCH_PG_STATEMENTS=1 prints the top statements per PostgreSQL
// run (needs pg_stat_statements in shared_preload_libraries), BENCH_OUT=FILE appends every run as a JSON line,
// BENCH_KEEP=1 keeps the work directory (replica logs and configs). For profiling (bench/support/postgres-e2e.mjs):
// BENCH_CPU_PROF=DIR (V8 CPU profiles of the ingestor processes), BENCH_NODE_FLAGS (their node flags, after the
// launcher's), BENCH_SERVICE_CONFIG (JSON merged into every ingestor's config file, e.g. '{"ingest":{"batchSize":500}}').
import { spawn } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { arg, cpuPressure, findMosquitto, freePort, root, shared, snapshotBuild } from './bench-support.mjs';
import { ingestorNode, runCeiling, runPostgres, serverInfo, serviceConfig, shareGroupKeySupported } from './support/postgres-e2e.mjs';
const COUNT = Number(arg('count', '100000'));
const PACED_RATE = Number(arg('paced-rate', '2000'));
const PACED_SECONDS = Number(arg('paced-seconds', '60'));
const REPEAT = Number(arg('repeat', '3'));
const ENGINES = (process.env.BENCH_ENGINES || arg('engines', 'sqlite,postgres,postgres2')).split(',').map((e) => e.trim()).filter(Boolean);
const CEILING = process.env.BENCH_CEILING !== '0';
const STATEMENTS = process.env.BENCH_PG_STATEMENTS === '1';
const OUT = process.env.BENCH_OUT;
const ENGINE_LABELS = { sqlite: 'SQLite, 1 process', postgres: 'PostgreSQL, 1 replica', postgres2: 'PostgreSQL, 2 replicas ($share)' };
for (const e of ENGINES) if (!(e in ENGINE_LABELS)) throw new Error(`BENCH_ENGINES: unknown engine ${e} (sqlite, postgres, postgres2)`);

/** Observations the stream really carries: the generator does not know which packets our decoder rejects. */
async function storableObservations(app, toolsDir, count, extra) {
  const require = createRequire(join(app, 'package.json'));
  const { loadCorpus, buildObservers, MessageGenerator } = await import(join(toolsDir, 'lib/generator.mjs'));
  const { decodePacket } = require(join(app, 'dist/modules/decoder/packet-decoder.js'));
  const { createDecodeContext } = require(join(app, 'dist/modules/decoder/decode-context.js'));
  const { buildChannelKeyMap } = require(join(app, 'dist/modules/decoder/channel-keys.js'));
  const ctx = createDecodeContext(buildChannelKeyMap({}), { validateSignatures: false });
  const packets = loadCorpus(join(toolsDir, 'corpus/real-packets.jsonl'));
  const { observers } = buildObservers(packets, Number(extra.observers ?? 32), 4);
  const gen = new MessageGenerator({ packets, observers, mode: 'unique', fanout: 1 });
  let rejected = 0;
  for (let i = 0; i < count; i++) if (!decodePacket(gen.packetFor(i).hex, ctx).ok) rejected++;
  return gen.expected(count).observations - rejected;
}

function runBenchRun(app, toolsDir, { label, brokerUrl, brokerPid, loadArgs, expect, dbDir, configFile, repeat }) {
  mkdirSync(dbDir, { recursive: true });
  return new Promise(async (resolvePromise, reject) => {
    const httpPort = await freePort();
    const env = [
      'DB_PATH={db}',
      `MQTT_BROKER=${brokerUrl}`,
      `PORT=${httpPort}`,
      `CHANNEL_KEYS_PATH=${join(shared, 'tools/corpus/channel-rainbow.json')}`,
      `CORESCOPE_INGESTOR_STATS=${join(dbDir, 'stats.json')}`,
      `NODE=${ingestorNode(dbDir)}`,
    ].join(',');
    const args = [
      join(toolsDir, 'bench-run.mjs'),
      '--label', label, '--cwd', app, '--cmd', `bin/meshcore-ingestor serve --config ${configFile}`, '--env', env,
      '--db-dir', dbDir, '--repeat', String(repeat), '--broker-pid', String(brokerPid), '--settle-s', '2',
      '--', '--url', brokerUrl, ...loadArgs, '--expect', String(expect), '--idle-ms', '8000',
    ];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.on('exit', (code) => (code === 0 ? resolvePromise(JSON.parse(out.trim().split('\n').pop())) : reject(new Error(`bench-run exited ${code}`))));
  });
}

function median(xs) {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/** One row per engine: the same fields whatever measured it. */
function sqliteRow(summary) {
  const m = summary.median;
  return {
    e2e_obs_per_s: m.e2e_obs_per_s, stored: m.stored_observations, ingestor_ms_per_obs: m.cpu_ms_per_obs, pg_ms_per_obs: null,
    total_ms_per_obs: m.cpu_ms_per_obs, ingestor_cores: m.cpu_cores_avg, pg_cores: null, vmhwm_mib: m.vmhwm_mib, startup_ms: m.startup_ms,
    psi: summary.cpu_pressure_pct, idle_rss_mib: m.idle_rss_mib,
  };
}

function postgresRow(r) {
  return {
    e2e_obs_per_s: r.e2e_obs_per_s, stored: r.stored_observations, ingestor_ms_per_obs: r.cpu.ingestor_ms_per_obs, pg_ms_per_obs: r.cpu.pg_ms_per_obs,
    total_ms_per_obs: r.cpu.total_ms_per_obs, ingestor_cores: r.cpu.ingestor_cores_avg, pg_cores: r.cpu.pg_cores_avg, vmhwm_mib: r.vmhwm_mib, startup_ms: r.startup_ms,
    psi: r.cpu_pressure_pct,
  };
}

const fmt = (x, digits = 0) => (x === null || x === undefined ? '—' : digits ? x.toFixed(digits) : String(Math.round(x)));
const pad = (s, n) => String(s).padStart(n);

/** Why two replicas do not add up here, from what the runs measured. */
function twoReplicasText(m1, m2, runs) {
  const lockPct = median(runs.map((r) => Object.entries(r.pg_backend_states).reduce((a, [k, v]) => a + (k.startsWith('active Lock/') ? v : 0), 0)));
  const retries = runs.map((r) => r.replicas_detail.reduce((a, d) => a + (d.commit_retries ?? 0), 0));
  const waits = [...new Set(runs.flatMap((r) => Object.keys(r.pg_backend_states).filter((k) => k.startsWith('active Lock/'))))].map((k) => k.slice(7));
  const deadlocks = retries.some((n) => n > 0) ? `; commits retried (deadlocks) per run: ${retries.join('/')}` : '';
  return [
    `  2 replicas: ${(m2.e2e_obs_per_s / m1.e2e_obs_per_s).toFixed(2)} × 1 replica, CPU ${fmt(m1.total_ms_per_obs, 3)} → ${fmt(m2.total_ms_per_obs, 3)} ms/obs (replicas + backends).`,
    '  Two replicas cannot scale on this 2-core machine: one replica, its backend, the broker and the publisher already share',
    `  the two cores (machine CPU pressure ${fmt(m1.psi)} % with one replica, ${fmt(m2.psi)} % with two), and a second replica is one more`,
    '  decode thread and writer on the same cores. What would scale on more cores: a core per replica and its backend (each',
    '  replica is bounded as above), cores for PostgreSQL and the broker, and the shared subscription splitting the messages;',
    `  then the rates add up only if the writers do not queue on the same rows: here a backend waited on the other replica's`,
    `  row locks in ${fmt(lockPct)} % of polls${waits.length ? ` (${waits.join(', ')})` : ''}${deadlocks}.`,
  ].join('\n');
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'mqi-bench-e2e-'));
  // shared/ is read-only: run the harness from a copy that uses this project's node_modules (mqtt, better-sqlite3).
  const toolsDir = join(work, 'tools');
  cpSync(join(shared, 'tools'), toolsDir, { recursive: true, filter: (src) => !src.includes('node_modules') });
  symlinkSync(join(root, 'node_modules'), join(toolsDir, 'node_modules'));
  const app = snapshotBuild(work);
  const configFile = join(work, 'config.json');
  writeFileSync(configFile, JSON.stringify(serviceConfig()));
  const pgWork = join(work, 'pg');
  mkdirSync(pgWork);
  const port = await freePort();
  const conf = join(work, 'mosquitto.conf');
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 1000000\n`);
  const broker = spawn(findMosquitto(), ['-c', conf], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 500));
  const url = `mqtt://127.0.0.1:${port}`;
  const record = (kind, r) => OUT && appendFileSync(OUT, JSON.stringify({ kind, at: new Date().toISOString(), ...r }) + '\n');
  try {
    const usesPostgres = ENGINES.some((e) => e.startsWith('postgres'));
    const pg = usesPostgres ? await serverInfo() : null;
    const flatExpect = await storableObservations(app, toolsDir, COUNT, {});
    const runs = Object.fromEntries(ENGINES.map((e) => [e, []]));
    const ceilings = [];
    for (let n = 1; n <= REPEAT; n++) {
      for (const engine of ENGINES) {
        const pressure = cpuPressure();
        if (engine === 'sqlite') {
          const s = await runBenchRun(app, toolsDir, {
            label: `flat-out-${n}`, brokerUrl: url, brokerPid: broker.pid, loadArgs: ['--count', String(COUNT)], expect: flatExpect,
            dbDir: join(work, 'db'), configFile, repeat: 1,
          });
          s.cpu_pressure_pct = pressure();
          runs.sqlite.push({ summary: s, row: sqliteRow(s) });
          record('sqlite', s);
          continue;
        }
        const replicas = engine === 'postgres2' ? 2 : 1;
        const r = await runPostgres({
          app, label: `${engine}-${n}`, replicas, shareGroup: replicas > 1 ? 'bench' : undefined, toolsDir, work: pgWork, brokerUrl: url,
          brokerPid: broker.pid, loadArgs: ['--count', String(COUNT)], expect: flatExpect, statements: STATEMENTS && pg.statements,
        });
        r.cpu_pressure_pct = pressure();
        runs[engine].push({ summary: r, row: postgresRow(r) });
        record(engine, r);
        const split = r.replicas_detail
          .map((d) => `${d.messages_received} msgs/${d.batches_committed} batches/${d.commit_retries} retried/hold ${d.mqtt_handler_hold_ms_mean} ms`)
          .join(' | ');
        console.error(`[e2e] ${engine} #${n}: ${r.e2e_obs_per_s} obs/s, stored ${r.stored_observations}/${flatExpect} (${r.reason}), ` +
          `CPU ms/obs ${r.cpu.ingestor_ms_per_obs} + PG ${r.cpu.pg_ms_per_obs}, cores ${r.cpu.ingestor_cores_avg} + PG ${r.cpu.pg_cores_avg}, ` +
          `main threads waited for a CPU ${r.cpu.ingestors_run_queue_wait_s} s + PG ${r.cpu.pg_backends_run_queue_wait_s} s in ${r.last_row_s} s, machine CPU pressure ${r.cpu_pressure_pct} %; ${split}`);
        console.error(`  PG backends (% of polls): ${Object.entries(r.pg_backend_states).map(([k, v]) => `${k} ${v}`).join(', ')}`);
        if (r.statements) for (const st of r.statements) console.error(`  ${pad(st.calls, 7)} calls ${pad(st.total_ms.toFixed(0), 7)} ms ${pad(st.mean_ms.toFixed(3), 8)} ms/call  ${st.query}`);
      }
      if (CEILING) {
        const pressure = cpuPressure();
        const c = await runCeiling({ toolsDir, brokerUrl: url, count: COUNT });
        c.cpu_pressure_pct = pressure();
        ceilings.push(c);
        record('ceiling', c);
        console.error(`[e2e] ceiling #${n}: ${c.e2e_msgs_per_s} msgs/s first publish → last received (${c.received}/${COUNT}; sink's own span ${c.sink_msgs_per_s} msgs/s)`);
      }
    }

    let paced = null;
    let pacedExpect = null;
    if (ENGINES.includes('sqlite') && PACED_SECONDS > 0) {
      const pacedCount = PACED_RATE * PACED_SECONDS;
      pacedExpect = await storableObservations(app, toolsDir, pacedCount, {});
      paced = await runBenchRun(app, toolsDir, {
        label: 'paced', brokerUrl: url, brokerPid: broker.pid, loadArgs: ['--count', String(pacedCount), '--rate', String(PACED_RATE)],
        expect: pacedExpect, dbDir: join(work, 'db'), configFile, repeat: REPEAT,
      });
    }

    const med = Object.fromEntries(
      ENGINES.map((e) => {
        const rows = runs[e].map((r) => r.row);
        return [e, Object.fromEntries(Object.keys(rows[0]).map((k) => [k, median(rows.map((r) => r[k]))]))];
      }),
    );
    const lost = Object.fromEntries(ENGINES.map((e) => [e, runs[e].map((r) => flatExpect - r.row.stored)]));
    const ceiling = CEILING ? median(ceilings.map((c) => c.e2e_msgs_per_s)) : null;
    const base = med.sqlite?.e2e_obs_per_s;

    console.log(`\nmeshcore-ingestor e2e benchmark (medians of ${REPEAT} interleaved runs; Public + 296 rainbow keys; signatures on)`);
    console.log(`flat out, ${COUNT} messages (${flatExpect} storable observations), Mosquitto on loopback, the engines in turn in each repeat`);
    if (pg) {
      const how = shareGroupKeySupported(app) ? 'mqttSources[].shareGroup "bench"' : 'the topic $share/bench/meshcore/#';
      console.log(`PostgreSQL ${pg.version} at ${pg.host}, a throw-away database per run; the 2 replicas subscribe with ${how}`);
    }
    console.log('');
    const columns = [
      ['obs/s', 7, (m) => fmt(m.e2e_obs_per_s)],
      ['×SQLite', 7, (m) => (base ? fmt(m.e2e_obs_per_s / base, 2) : '—')],
      ['CPU ms/obs', 10, (m) => fmt(m.ingestor_ms_per_obs, 3)],
      ['+PG srv', 7, (m) => fmt(m.pg_ms_per_obs, 3)],
      ['=total', 7, (m) => fmt(m.total_ms_per_obs, 3)],
      ['cores', 5, (m) => fmt(m.ingestor_cores, 2)],
      ['+PG', 5, (m) => fmt(m.pg_cores, 2)],
      ['lost', 9, (m, e) => lost[e].join('/')],
      ['RSS MiB', 7, (m) => fmt(m.vmhwm_mib, 1)],
      ['start ms', 8, (m) => fmt(m.startup_ms)],
      ['psi %', 5, (m) => fmt(m.psi)],
    ];
    const line = (label, cells) => console.log(`  ${label.padEnd(32)} ${cells.join(' ')}`.trimEnd());
    line('engine', columns.map(([h, w]) => pad(h, w)));
    for (const e of ENGINES) line(ENGINE_LABELS[e], columns.map(([, w, cell]) => pad(cell(med[e], e), w)));
    if (CEILING) {
      const psi = fmt(median(ceilings.map((c) => c.cpu_pressure_pct)));
      line('broker + JSON.parse ceiling', [pad(fmt(ceiling), 7), pad(base ? fmt(ceiling / base, 2) : '—', 7), ` (mqtt-sink --parse: msgs/s first publish → last received; psi ${psi} %)`]);
    }
    console.log(`
  CPU ms/obs: all replica processes (every thread), from the first publish to the last row; +PG srv: the PostgreSQL
  backends of those replicas (pg_stat_activity application_name meshcore-ingestor → /proc); the server's WAL writer,
  checkpointer and the benchmark's own polling backend are not in it. cores: average cores used over the same interval.
  lost: storable observations not in the database, per run (count(*) after each run). psi: the machine's CPU pressure
  over the run (/proc/pressure/cpu "some": share of the time a runnable task waited for a CPU; this machine is shared).`);
    if (med.postgres && base) {
      const ratio = med.postgres.e2e_obs_per_s / base;
      const m1 = med.postgres;
      console.log(`\n  target: 1 PostgreSQL replica ≥ 0.5 × SQLite: ${ratio.toFixed(2)} — ${ratio >= 0.5 ? 'met' : 'NOT met'}`);
      console.log(
        "  One replica's writer and its backend mostly take turns (a batch is decoded and run through the pipeline in the\n" +
          '  service, then written by PostgreSQL while the service waits), so one replica runs near 1 / (service + PG CPU ms/obs):\n' +
          `  1 / (${fmt(m1.ingestor_ms_per_obs, 3)} + ${fmt(m1.pg_ms_per_obs, 3)} ms) ≈ ${fmt(1000 / m1.total_ms_per_obs)} obs/s (not exact: V8's GC helper threads are in the service's CPU).`,
      );
    }
    if (med.postgres && med.postgres2) console.log(twoReplicasText(med.postgres, med.postgres2, runs.postgres2.map((r) => r.summary)));
    if (med.sqlite) console.log(`\n  SQLite: idle RSS MiB ${fmt(med.sqlite.idle_rss_mib, 1)}, peak RSS MiB ${fmt(med.sqlite.vmhwm_mib, 1)}`);
    if (paced) {
      const p = paced.median;
      console.log(
        `  SQLite paced ${PACED_RATE} msg/s for ${PACED_SECONDS} s (${pacedExpect} storable observations): stored / expected ` +
          `${p.stored_observations} / ${pacedExpect} (loss ${pacedExpect - p.stored_observations}), CPU ms/observation ${p.cpu_ms_per_obs}, peak RSS MiB ${p.vmhwm_mib}`,
      );
    }
    console.log(JSON.stringify({ flatExpect, medians: med, ceiling, lost, runs: Object.fromEntries(ENGINES.map((e) => [e, runs[e].map((r) => r.summary)])), ceilings, paced, pacedExpect }));
    const anyLost = ENGINES.some((e) => lost[e].some((x) => x !== 0));
    if (anyLost) process.exitCode = 1;
  } finally {
    broker.kill('SIGTERM');
    if (process.env.BENCH_KEEP === '1') console.error(`[e2e] kept ${work} (replica logs in pg/)`);
    else rmSync(work, { recursive: true, force: true });
  }
}

await main();
