#!/usr/bin/env node
// Maintenance benchmark (issue 12 item 8): the real service (`bin/meshcore-ingestor serve`) on a CoreScope
// database of 3.75 million observations over 60 days (bench/support/big-database.mjs: generated, cached in
// os.tmpdir(), copied for each run), its own Mosquitto on a free loopback port, the corpus published by a child
// process. Prints, each with its target:
//   - start → Ready (spawn until GET /api/health/ready answers 200) on that database;
//   - the neighbor builder's warm-up (its first run: the backlog of the newest observations the generator left
//     unbuilt), a tick with an empty delta (median of 3) and one with a 10 000-observation delta;
//   - a packet-retention run (POST /api/maintenance/packetRetention/run) deleting every old transmission and
//     its observations (> 1 million rows) while the corpus is published flat out: its total time, the longest
//     single writer hold (stats file writer_perf, and /metrics for holds above 100 ms in the window), the
//     e2e ingest rate during the prune / the rate without it (measured just before, same run, same load and
//     the same API polling), the latencies of GET /api/maintenance and GET /api/mqtt/status during the prune;
//   - messages lost over the whole run (exit 1 when any is lost or the prune left the wrong rows).
//
// "Flat out": the publisher sends as fast as it can while fewer than BENCH_BACKLOG (50 000) storable messages
// are published but not yet stored, so the ingestor always has a full queue, and Mosquitto's queue never
// overflows (an unbounded burst at ~60 000 msg/s for minutes would). The rate is stored observations per second
// over the measured window, counted in the database.
//
// Config differences from the defaults, all because the benchmark triggers the jobs itself: retention.packetDays
// is 0 at start (otherwise the start-up prune deletes the old rows synchronously before Ready) and set by a reload
// (POST /api/maintenance/reload) just before the run route; the neighbor builder runs every 1h after its warm-up
// (ticks are started through the run route, not in the middle of a rate window); the WAL checkpoint's first run
// is after 1h instead of 30 s (it would land in a measured window).
//
//   npm run bench:maintenance                       # builds first
//   BENCH_OBSERVATIONS=1000000 BENCH_BASELINE_SECONDS=20 node bench/maintenance.bench.mjs
// Env: BENCH_OBSERVATIONS (3750000), BENCH_BASELINE_SECONDS (30), BENCH_DELTA_ROWS (10000), BENCH_BACKLOG (50000),
// BENCH_DELETE_CHUNK_ROWS (the service default when unset), BENCH_KEEP=1 keeps the work directory.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { copyDatabase, ensureBigDatabase, packetDaysFor, root, shared } from './support/big-database.mjs';
import { findMosquitto, freePort, requireFromProject as require } from './bench-support.mjs';

const env = (name, fallback) => Number(process.env[name] ?? fallback);
const OBSERVATIONS = env('BENCH_OBSERVATIONS', 3_750_000);
const BASELINE_SECONDS = env('BENCH_BASELINE_SECONDS', 30);
const DELTA_ROWS = env('BENCH_DELTA_ROWS', 10_000);
const BACKLOG = env('BENCH_BACKLOG', 50_000);
const DELETE_CHUNK_ROWS = process.env.BENCH_DELETE_CHUNK_ROWS ? Number(process.env.BENCH_DELETE_CHUNK_ROWS) : undefined;
const WARM_SECONDS = 3;
const POLL_MS = 50;
const TOKEN = 'bench-maintenance-token';
const OBSERVERS = 32;
// Variant seeds of the three publishing phases, far apart so that no phase repeats another's packets.
const SEEDS = { delta: 1000, baseline: 2000, prune: 3000 };

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();

// ---------------------------------------------------------------------------------------------------------------
// publisher (child process): `node maintenance.bench.mjs --publisher` driven over IPC

async function publisherMain() {
  const { default: mqtt } = await import('mqtt');
  const Database = require('better-sqlite3');
  const { loadCorpus, buildObservers, MessageGenerator } = await import(pathToFileURL(join(shared, 'tools/lib/generator.mjs')).href);
  const { decodePacket } = require(join(root, 'dist/modules/decoder/packet-decoder.js'));
  const { createDecodeContext } = require(join(root, 'dist/modules/decoder/decode-context.js'));
  const { buildChannelKeyMap } = require(join(root, 'dist/modules/decoder/channel-keys.js'));
  const { ingestVerdict } = require(join(root, 'dist/modules/decoder/ingest-verdict.js'));
  const packets = loadCorpus(join(shared, 'tools/corpus/real-packets.jsonl'));
  const { observers } = buildObservers(packets, OBSERVERS, 4);
  // What the service does with each corpus packet (signatures on, as configured). A variant keeps the packet's
  // structure and, for adverts, its signed payload, so it gets the same verdict; the end-of-run count checks it.
  const ctx = createDecodeContext(buildChannelKeyMap({}), { validateSignatures: true });
  const storable = packets.map((p) => ingestVerdict(decodePacket(p.raw, ctx), ctx) === 'stored');

  let client;
  let db;
  let stopRequested = false;
  process.on('message', async (msg) => {
    if (msg.cmd === 'stop') stopRequested = true;
    if (msg.cmd === 'exit') {
      await client?.endAsync();
      db?.close();
      process.exit(0);
    }
    if (msg.cmd !== 'publish') return;
    stopRequested = false;
    client ??= await mqtt.connectAsync(msg.url, { clientId: `bench-pub-${process.pid}`, reconnectPeriod: 0 });
    db ??= new Database(msg.dbPath, { readonly: true, fileMustExist: true });
    const maxId = db.prepare('SELECT max(id) FROM observations').pluck();
    const gen = new MessageGenerator({ packets, observers, mode: 'unique', fanout: 1, seed: msg.seed });
    let published = 0;
    let expected = 0;
    let pending = 0;
    let stored = 0;
    let checkedAt = 0;
    const window = 1000;
    let wake;
    const done = () => {
      pending--;
      if (wake && pending < window / 2) {
        const w = wake;
        wake = undefined;
        w();
      }
    };
    for (let i = 0; !stopRequested && (msg.storable === undefined || expected < msg.storable); i++) {
      const m = gen.message(i);
      client.publish(m.topic, MessageGenerator.render(m, new Date().toISOString()), { qos: 0 }, done);
      pending++;
      published++;
      if (storable[i % packets.length]) expected++;
      if (pending >= window) await new Promise((r) => (wake = r));
      if ((published & 255) === 0) {
        // Backpressure on the backlog only: the ingestor must always have work, the broker never an overflow.
        for (;;) {
          if (now() - checkedAt > 20) {
            stored = (maxId.get() ?? 0) - msg.baseObsId;
            checkedAt = now();
          }
          if (expected - stored < BACKLOG || stopRequested) break;
          await sleep(5);
        }
        await new Promise((r) => setImmediate(r));
      }
    }
    while (pending > 0) await sleep(5);
    process.send({ type: 'stopped', published, expected });
  });
  process.send({ type: 'ready' });
}

// ---------------------------------------------------------------------------------------------------------------
// the benchmark


function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * (sorted.length - 1) + 0.5))];
}
function summary(samples) {
  const s = [...samples].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 0.5), p95: percentile(s, 0.95), max: s[s.length - 1] ?? NaN };
}
const ms = (x) => (Number.isFinite(x) ? `${x.toFixed(1)} ms` : 'n/a');

/** meshcore_ingestor_writer_hold_seconds: per component, holds counted and holds ≤ 100 ms. */
function holdHistogram(text) {
  const out = {};
  // prom-client writes a bucket's labels as {le="…",component="…"}: read them in any order.
  for (const line of text.split('\n')) {
    const m = /^meshcore_ingestor_writer_hold_seconds_(bucket|count)\{([^}]*)\} (\d+)/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...m[2].matchAll(/(\w+)="([^"]*)"/g)].map(([, k, v]) => [k, v]));
    if (!labels.component) continue;
    if (m[1] === 'count') (out[labels.component] ??= {}).count = Number(m[3]);
    else if (labels.le === '0.1') (out[labels.component] ??= {}).le100 = Number(m[3]);
  }
  return out;
}

class Service {
  constructor(work, dbPath, brokerUrl) {
    this.work = work;
    this.dbPath = dbPath;
    this.brokerUrl = brokerUrl;
    this.statsFile = join(work, 'stats.json');
    this.configFile = join(work, 'config.json');
    this.output = '';
  }

  writeConfig(packetDays) {
    const config = {
      dbPath: this.dbPath,
      mqttSources: [{ name: 'local', broker: this.brokerUrl, topics: ['meshcore/#'] }],
      channelKeysPath: join(shared, 'tools/corpus/channel-rainbow.json'),
      retention: { packetDays },
      http: { host: '127.0.0.1', port: this.port, adminToken: TOKEN },
      ...(DELETE_CHUNK_ROWS !== undefined && { maintenance: { deleteChunkRows: DELETE_CHUNK_ROWS } }),
      schedules: { neighborBuilder: { every: '1h', initialDelay: '0s' }, walCheckpoint: { every: '1h', initialDelay: '1h' } },
    };
    writeFileSync(this.configFile, JSON.stringify(config, null, 2));
  }

  async start() {
    this.port = await freePort();
    this.writeConfig(0);
    this.spawnedAt = now();
    this.proc = spawn(join(root, 'bin/meshcore-ingestor'), ['serve', '--config', this.configFile], {
      cwd: this.work,
      env: { ...process.env, NODE: process.execPath, CORESCOPE_INGESTOR_STATS: this.statsFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const onData = (d) => {
      this.output += d;
      if (this.subscribedMs === undefined && /subscribed to/.test(this.output)) this.subscribedMs = now() - this.spawnedAt;
    };
    this.proc.stdout.on('data', onData);
    this.proc.stderr.on('data', onData);
    this.exited = new Promise((r) => this.proc.once('exit', r));
    for (;;) {
      if (this.proc.exitCode !== null) throw new Error(`service exited ${this.proc.exitCode}:\n${this.output.slice(-3000)}`);
      const status = await fetch(`${this.url}/api/health/ready`).then((r) => r.status, () => 0);
      if (status === 200) return now() - this.spawnedAt;
      if (now() - this.spawnedAt > 120_000) throw new Error(`not ready after 120 s:\n${this.output.slice(-3000)}`);
      await sleep(20);
    }
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  async get(path) {
    const res = await fetch(this.url + path);
    return res.headers.get('content-type')?.includes('json') ? res.json() : res.text();
  }

  async post(path) {
    const res = await fetch(this.url + path, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}` } });
    return { status: res.status, body: await res.json() };
  }

  async job(name) {
    return (await this.get('/api/maintenance')).jobs.find((j) => j.name === name);
  }

  /** Waits until the job has finished more than `runsBefore` runs; its lastRun. */
  async waitRun(name, runsBefore, timeoutMs = 600_000) {
    const deadline = now() + timeoutMs;
    for (;;) {
      const job = await this.job(name);
      if (job.runs > runsBefore && !job.running) return job.lastRun;
      if (now() > deadline) throw new Error(`${name} did not finish within ${timeoutMs} ms`);
      await sleep(100);
    }
  }

  async runJob(name) {
    const before = await this.job(name);
    const started = await this.post(`/api/maintenance/${name}/run`);
    if (started.status !== 202) throw new Error(`POST ${name}/run: ${started.status} ${JSON.stringify(started.body)}`);
    return this.waitRun(name, before.runs);
  }

  writerPerf() {
    return JSON.parse(readFileSync(this.statsFile, 'utf8')).writer_perf ?? {};
  }

  async stop() {
    if (!this.proc || this.proc.exitCode !== null) return;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 30_000);
    await this.exited;
    clearTimeout(timer);
  }
}

class Publisher {
  constructor() {
    this.child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--publisher'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.ready = this.next('ready');
  }

  next(type) {
    return new Promise((resolve, reject) => {
      const onExit = (code) => reject(new Error(`publisher exited ${code}`));
      const onMessage = (m) => {
        if (m.type !== type) return;
        this.child.off('message', onMessage);
        this.child.off('exit', onExit);
        resolve(m);
      };
      this.child.on('message', onMessage);
      this.child.once('exit', onExit);
    });
  }

  /** Starts publishing; resolves with { published, expected } once stopped (or once `storable` are out). */
  publish(options) {
    const stopped = this.next('stopped');
    this.child.send({ cmd: 'publish', ...options });
    return stopped;
  }

  stop() {
    this.child.send({ cmd: 'stop' });
  }

  exit() {
    if (this.child.exitCode === null && this.child.connected) this.child.send({ cmd: 'exit' });
  }
}

/** Polls both status endpoints one after the other while `active()`; latencies in ms per endpoint. */
async function pollLatencies(service, active) {
  const latencies = { '/api/maintenance': [], '/api/mqtt/status': [] };
  while (active()) {
    for (const path of Object.keys(latencies)) {
      const t = now();
      const res = await fetch(service.url + path);
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`GET ${path}: ${res.status}`);
      latencies[path].push(now() - t);
    }
    await sleep(100);
  }
  return latencies;
}

async function main() {
  const t0 = now();
  const Database = require('better-sqlite3');
  console.error(`building / reusing the database (${OBSERVATIONS} observations over 60 days)…`);
  const big = await ensureBigDatabase({ observations: OBSERVATIONS }, { log: (l) => console.error(l) });
  const { meta } = big;
  const work = mkdtempSync(join(tmpdir(), 'mqi-bench-maint-'));
  const dbPath = join(work, 'meshcore.db');
  let copyMs = now();
  copyDatabase(big.path, dbPath);
  copyMs = now() - copyMs;

  const port = await freePort();
  const conf = join(work, 'mosquitto.conf');
  writeFileSync(
    conf,
    [...(process.getuid?.() === 0 ? ['user root'] : []), `listener ${port} 127.0.0.1`, 'allow_anonymous true', 'max_queued_messages 1000000', 'max_inflight_messages 0', ''].join('\n'),
  );
  const broker = spawn(findMosquitto(), ['-c', conf], { stdio: 'ignore' });
  await sleep(500);
  const brokerUrl = `mqtt://127.0.0.1:${port}`;
  const service = new Service(work, dbPath, brokerUrl);
  const publisher = new Publisher();
  let exitCode = 0;
  try {
    await publisher.ready;
    const readyMs = await service.start();
    const reader = new Database(dbPath, { readonly: true, fileMustExist: true });
    const maxObsId = reader.prepare('SELECT max(id) FROM observations').pluck();
    const baseObsId = maxObsId.get();
    const stored = () => maxObsId.get() - baseObsId;
    let expectedTotal = 0;

    // ---- neighbor builder ----
    const warmup = await service.waitRun('neighborBuilder', 0);
    const emptyTicks = [];
    for (let i = 0; i < 3; i++) emptyTicks.push(await service.runJob('neighborBuilder'));
    const deltaPub = await publisher.publish({ url: brokerUrl, dbPath, baseObsId, seed: SEEDS.delta, storable: DELTA_ROWS });
    expectedTotal += deltaPub.expected;
    while (stored() < expectedTotal) await sleep(POLL_MS);
    const watermark = reader.prepare('SELECT max(last_seen) FROM neighbor_edges').pluck().get();
    const deltaRows = reader.prepare('SELECT count(*) FROM observations WHERE timestamp > ?').pluck().get(Math.floor(Date.parse(watermark) / 1000));
    const deltaTick = await service.runJob('neighborBuilder');

    // ---- one measured window of flat-out publishing; `during` runs inside it and ends it ----
    const measure = async (seed, during) => {
      const storedBefore = stored();
      const pub = publisher.publish({ url: brokerUrl, dbPath, baseObsId: baseObsId + storedBefore, seed });
      while (stored() === storedBefore) await sleep(POLL_MS);
      await sleep(WARM_SECONDS * 1000);
      let active = true;
      const polling = pollLatencies(service, () => active);
      // The longest time no new row appeared (the ingestor stalled: a long transaction or a blocked loop).
      const sampling = (async () => {
        let last = stored();
        let since = now();
        let longest = 0;
        while (active) {
          await sleep(POLL_MS);
          const s = stored();
          if (s !== last) {
            last = s;
            since = now();
          } else longest = Math.max(longest, now() - since);
        }
        return longest;
      })();
      const t1 = now();
      const s1 = stored();
      const result = await during();
      const t2 = now();
      const s2 = stored();
      active = false;
      const latencies = await polling;
      const longestStallMs = await sampling;
      publisher.stop();
      const published = await pub;
      expectedTotal += published.expected;
      return { rate: (s2 - s1) / ((t2 - t1) / 1000), seconds: (t2 - t1) / 1000, rows: s2 - s1, latencies, result, published, longestStallMs };
    };

    const perfBeforeBaseline = service.writerPerf();
    const histBeforeBaseline = holdHistogram(await service.get('/metrics'));
    const baseline = await measure(SEEDS.baseline, () => sleep(BASELINE_SECONDS * 1000));
    const drainDeadline = now() + 120_000;
    while (stored() < expectedTotal && now() < drainDeadline) await sleep(POLL_MS);

    // ---- packet retention while publishing ----
    const packetDays = packetDaysFor(meta);
    service.writeConfig(packetDays);
    const reload = await service.post('/api/maintenance/reload');
    if (reload.status !== 200 || !reload.body.ok) throw new Error(`reload: ${reload.status} ${JSON.stringify(reload.body)}`);
    const perfBefore = service.writerPerf();
    const histBefore = holdHistogram(await service.get('/metrics'));
    const prune = await measure(SEEDS.prune, async () => {
      const before = await service.job('packetRetention');
      const started = await service.post('/api/maintenance/packetRetention/run');
      if (started.status !== 202) throw new Error(`POST packetRetention/run: ${started.status}`);
      return service.waitRun('packetRetention', before.runs);
    });
    const finalDeadline = now() + 180_000;
    while (stored() < expectedTotal && now() < finalDeadline) await sleep(POLL_MS);
    await sleep(1500); // one more stats-file write
    const perfAfter = service.writerPerf();
    const histAfter = holdHistogram(await service.get('/metrics'));

    // ---- checks ----
    const storedTotal = reader.prepare('SELECT count(*) FROM observations WHERE id > ?').pluck().get(baseObsId);
    const lost = expectedTotal - storedTotal;
    const oldLeft = reader.prepare('SELECT count(*) FROM transmissions WHERE id <= ? AND first_seen <= ?').pluck().get(meta.maxTxId, meta.oldFirstSeenMax);
    const oldObsLeft = reader.prepare('SELECT count(*) FROM observations o JOIN transmissions t ON t.id = o.transmission_id WHERE t.first_seen <= ?').pluck().get(meta.oldFirstSeenMax);
    const recentTx = reader.prepare('SELECT count(*) FROM transmissions WHERE id <= ?').pluck().get(meta.maxTxId);
    const recentObs = reader.prepare('SELECT count(*) FROM observations WHERE id <= ?').pluck().get(baseObsId);
    reader.close();
    const run = prune.result;
    const expectRows = meta.counts.oldTx + meta.counts.oldObs;
    const rowsOk = oldLeft === 0 && oldObsLeft === 0 && recentTx === meta.counts.recentTx && recentObs === meta.counts.recentObs && run.rows === expectRows && run.result === 'ok';

    // Holds in a window: a component's running maximum is exact when it rose in the window; the histogram counts
    // holds above 100 ms. Maintenance components (the prune's chunks, its incremental vacuum, anything else that
    // ran) are the target; mqtt_handler is the ingest's own batches (up to ingest.batchSize messages each).
    const holdsBetween = (perfA, histA, perfB, histB) => {
      const out = {};
      for (const [component, figures] of Object.entries(perfB)) {
        const before = perfA[component];
        const count = figures.count - (before?.count ?? 0);
        if (count === 0) continue;
        const rose = !before || figures.hold_ms_max > before.hold_ms_max;
        const over100 = (histB[component]?.count ?? 0) - (histA[component]?.count ?? 0) - ((histB[component]?.le100 ?? 0) - (histA[component]?.le100 ?? 0));
        out[component] = { count, over100, maxInWindow: rose ? figures.hold_ms_max : `<= ${before.hold_ms_max.toFixed(1)}` };
      }
      return out;
    };
    const holdsInWindow = holdsBetween(perfBefore, histBefore, perfAfter, histAfter);
    const holdsInBaseline = holdsBetween(perfBeforeBaseline, histBeforeBaseline, perfBefore, histBefore);
    const maintenanceHolds = Object.entries(holdsInWindow).filter(([c]) => c !== 'mqtt_handler');
    const longestHold = Math.max(0, ...maintenanceHolds.map(([, h]) => (typeof h.maxInWindow === 'number' ? h.maxInWindow : 0)));
    const longestComponent = maintenanceHolds.find(([, h]) => h.maxInWindow === longestHold)?.[0];
    const holdsOver100 = maintenanceHolds.reduce((n, [, h]) => n + h.over100, 0);
    const batchHold = (w) => (w.mqtt_handler ? `max ${typeof w.mqtt_handler.maxInWindow === 'number' ? ms(w.mqtt_handler.maxInWindow) : w.mqtt_handler.maxInWindow + ' ms'}, ${w.mqtt_handler.over100}/${w.mqtt_handler.count} > 100 ms` : 'n/a');
    const pp = perfAfter.prune_packets ?? {};
    const ratio = prune.rate / baseline.rate;
    const emptyTick = summary(emptyTicks.map((r) => r.durationMs));
    const lat = (phase, path) => summary(phase.latencies[path]);

    const rows = [
      ['start → Ready', ms(readyMs), '< 5 000 ms', readyMs < 5000],
      ['neighbor warm-up (first run)', `${ms(warmup.durationMs)}, ${warmup.rows} edges from ${meta.counts.warmupBacklogObservations} observations`, '—', null],
      ['neighbor tick, empty delta (median of 3)', `${ms(emptyTick.p50)} (max ${ms(emptyTick.max)})`, '< 1 000 ms', emptyTick.max < 1000],
      [`neighbor tick, ${deltaRows}-row delta`, `${ms(deltaTick.durationMs)}, ${deltaTick.rows} edges`, '—', null],
      ['packet retention: total time', `${(run.durationMs / 1000).toFixed(1)} s, ${run.rows} rows (${meta.counts.oldObs} obs + ${meta.counts.oldTx} tx)`, '—', null],
      ['longest maintenance writer hold (prune window)', `${ms(longestHold)} (${longestComponent}); prune chunks: ${pp.count}, p50 ${ms(pp.hold_ms_p50)} p99 ${ms(pp.hold_ms_p99)} max ${ms(pp.hold_ms_max)}; ${holdsOver100} maintenance holds > 100 ms`, '< 100 ms', longestHold < 100],
      ['  ingest batch holds (mqtt_handler)', `during prune ${batchHold(holdsInWindow)}; without ${batchHold(holdsInBaseline)}`, '—', null],
      ['e2e rate without prune', `${Math.round(baseline.rate)} obs/s over ${baseline.seconds.toFixed(1)} s (longest gap without a new row ${ms(baseline.longestStallMs)})`, '—', null],
      ['e2e rate during prune', `${Math.round(prune.rate)} obs/s over ${prune.seconds.toFixed(1)} s (longest gap without a new row ${ms(prune.longestStallMs)})`, '—', null],
      ['  ratio during / without', ratio.toFixed(3), '≥ 0.7', ratio >= 0.7],
      ['GET /api/maintenance during prune', `p50 ${ms(lat(prune, '/api/maintenance').p50)} p95 ${ms(lat(prune, '/api/maintenance').p95)} max ${ms(lat(prune, '/api/maintenance').max)} (n=${lat(prune, '/api/maintenance').n})`, '—', null],
      ['GET /api/mqtt/status during prune', `p50 ${ms(lat(prune, '/api/mqtt/status').p50)} p95 ${ms(lat(prune, '/api/mqtt/status').p95)} max ${ms(lat(prune, '/api/mqtt/status').max)} (n=${lat(prune, '/api/mqtt/status').n})`, '—', null],
      ['  same, without prune', `maintenance p50 ${ms(lat(baseline, '/api/maintenance').p50)} max ${ms(lat(baseline, '/api/maintenance').max)}; mqtt/status p50 ${ms(lat(baseline, '/api/mqtt/status').p50)} max ${ms(lat(baseline, '/api/mqtt/status').max)}`, '—', null],
      ['messages lost', `${lost} (${storedTotal} stored / ${expectedTotal} expected)`, '0', lost === 0],
      ['prune removed exactly the old rows', rowsOk ? 'yes' : `NO: old tx left ${oldLeft}, old obs left ${oldObsLeft}, recent tx ${recentTx}/${meta.counts.recentTx}, recent obs ${recentObs}/${meta.counts.recentObs}, run ${run.result} rows ${run.rows}/${expectRows}`, 'exact', rowsOk],
    ];
    const w0 = Math.max(...rows.map((r) => r[0].length));
    const w1 = Math.max(...rows.map((r) => r[1].length));
    const w2 = Math.max(...rows.map((r) => r[2].length));
    console.log(`\nmeshcore-ingestor maintenance benchmark — ${meta.counts.observations} observations / ${meta.counts.transmissions} transmissions over ${meta.params.days} days`);
    console.log(`database ${big.cached ? 'reused from cache' : `built in ${meta.buildSeconds} s`} (${(meta.bytes / 2 ** 30).toFixed(2)} GiB, copy ${Math.round(copyMs)} ms), packetDays ${packetDays}, deleteChunkRows ${DELETE_CHUNK_ROWS ?? 'default'}, publisher backlog ≤ ${BACKLOG}`);
    console.log(`${'figure'.padEnd(w0)}  ${'result'.padEnd(w1)}  ${'target'.padEnd(w2)}  verdict`);
    for (const [name, value, target, ok] of rows) console.log(`${name.padEnd(w0)}  ${value.padEnd(w1)}  ${target.padEnd(w2)}  ${ok === null ? '' : ok ? 'PASS' : 'MISS'}`);
    console.log(`(spawn → "subscribed" ${ms(service.subscribedMs)}; total ${((now() - t0) / 1000).toFixed(0)} s)`);
    console.log(
      JSON.stringify({
        meta: { counts: meta.counts, params: meta.params, cached: big.cached, buildSeconds: meta.buildSeconds },
        readyMs, warmup, emptyTicks, deltaRows, deltaTick,
        baseline: { rate: baseline.rate, seconds: baseline.seconds, rows: baseline.rows, longestStallMs: baseline.longestStallMs, latencies: { maintenance: lat(baseline, '/api/maintenance'), mqttStatus: lat(baseline, '/api/mqtt/status') } },
        prune: { rate: prune.rate, seconds: prune.seconds, rows: prune.rows, longestStallMs: prune.longestStallMs, run, latencies: { maintenance: lat(prune, '/api/maintenance'), mqttStatus: lat(prune, '/api/mqtt/status') } },
        ratio, longestHold, longestComponent, holdsInWindow, holdsInBaseline, writerPerf: perfAfter, lost, rowsOk,
      }),
    );
    if (lost !== 0 || !rowsOk) exitCode = 1;
  } catch (error) {
    console.error(error);
    console.error(service.output.slice(-3000));
    exitCode = 1;
  } finally {
    publisher.exit();
    await service.stop();
    broker.kill('SIGTERM');
    if (process.env.BENCH_KEEP) console.error(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
  process.exit(exitCode);
}

if (process.argv.includes('--publisher')) await publisherMain();
else await main();
