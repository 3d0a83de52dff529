// The PostgreSQL side of the e2e benchmark (issue 14 item 6): N replicas of `bin/meshcore-ingestor serve` on
// one throw-away PostgreSQL database, the shared publisher (mqtt-load.mjs, no --wait-db: its waiter reads
// SQLite files only) and a waiter here that polls the database, samples the CPU of every replica and of
// their PostgreSQL backends (pg_stat_activity, application_name meshcore-ingestor → /proc/PID/stat), and
// scrapes each replica's /metrics at the end. The same definitions as the harness: e2e observations/s =
// stored observations / (first publish → the poll that first saw the last row); CPU over the same interval.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freePort, requireFromProject as require, shared } from '../bench-support.mjs';

const { Client } = require('pg');
const { procSample } = await import(pathToFileURL(join(shared, 'tools/lib/proc.mjs')).href);

export const APPLICATION_NAME = 'meshcore-ingestor';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.timeOrigin + performance.now(); // epoch ms, the clock mqtt-load reports start_ms in
const round3 = (x) => Math.round(x * 1000) / 1000;

// ---------------------------------------------------------------------------------------------------------------
// throw-away databases (the lines of src/modules/persistence/postgres/testing/postgres-test-database.ts)

let adminUrlFound;

/** BENCH_PG_ADMIN_URL, else PGTEST_ADMIN_URL, else the local server as `postgres`, then as the OS user. */
async function findAdminUrl() {
  const given = process.env.BENCH_PG_ADMIN_URL || process.env.PGTEST_ADMIN_URL;
  const candidates = given
    ? [given]
    : ['postgres://postgres@127.0.0.1:5432/postgres', `postgres://${encodeURIComponent(userInfo().username)}@127.0.0.1:5432/postgres`];
  const failures = [];
  for (const url of candidates) {
    try {
      await asAdmin(url, 'SELECT 1');
      return url;
    } catch (error) {
      failures.push(`${new URL(url).host}: ${error.message}`);
    }
  }
  throw new Error(`no PostgreSQL admin connection for the benchmark (set BENCH_PG_ADMIN_URL): ${failures.join('; ')}`);
}

async function asAdmin(url, sql) {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

/** CREATE DATABASE mci_bench_<random>; drop() removes it WITH (FORCE). */
export async function createBenchDatabase() {
  const adminUrl = await (adminUrlFound ??= findAdminUrl());
  const name = `mci_bench_${randomBytes(6).toString('hex')}`;
  await asAdmin(adminUrl, `CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { name, url: url.toString(), drop: () => asAdmin(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/** The server's version and whether pg_stat_statements can be read (it needs shared_preload_libraries). */
export async function serverInfo() {
  const adminUrl = await (adminUrlFound ??= findAdminUrl());
  const { rows } = await asAdmin(adminUrl, "SELECT current_setting('server_version') AS v, current_setting('shared_preload_libraries') AS l");
  return { version: rows[0].v, statements: /pg_stat_statements/.test(rows[0].l), host: new URL(adminUrl).host };
}

// ---------------------------------------------------------------------------------------------------------------
// replicas

/**
 * The node binary the ingestor launcher runs (its NODE variable): node itself, or a wrapper in `dir` when
 *   BENCH_CPU_PROF=DIR  the ingestor processes, and only they, write V8 CPU profiles to DIR when they exit
 *                       (--cpu-prof is not allowed in NODE_OPTIONS);
 *   BENCH_NODE_FLAGS    node/V8 flags placed after the launcher's own (the last one wins in V8), e.g.
 *                       "--max-semi-space-size=16" against the launcher's 1 MiB.
 */
export function ingestorNode(dir) {
  const flags = [process.env.BENCH_NODE_FLAGS ?? ''];
  if (process.env.BENCH_CPU_PROF) {
    mkdirSync(process.env.BENCH_CPU_PROF, { recursive: true });
    flags.push(`--cpu-prof --cpu-prof-dir=${process.env.BENCH_CPU_PROF}`);
  }
  const extra = flags.join(' ').trim();
  if (!extra) return process.execPath;
  const wrapper = join(dir, 'node-wrapper.sh');
  writeFileSync(
    wrapper,
    `#!/bin/sh\npre=""\nwhile [ $# -gt 0 ]; do case "$1" in --*) pre="$pre $1"; shift;; *) break;; esac; done\nexec ${process.execPath} $pre ${extra} "$@"\n`,
    { mode: 0o755 },
  );
  return wrapper;
}

/** The config file every ingestor of the benchmark gets: HTTP on loopback, and BENCH_SERVICE_CONFIG (JSON) merged in. */
export function serviceConfig() {
  const given = process.env.BENCH_SERVICE_CONFIG ? JSON.parse(process.env.BENCH_SERVICE_CONFIG) : {};
  return { ...given, http: { host: '127.0.0.1', ...given.http } };
}

/** True once src/config knows `mqttSources[].shareGroup` (another change adds it); until then the topic carries $share. */
export function shareGroupKeySupported(app) {
  try {
    return readFileSync(join(app, 'dist/config/config.schema.js'), 'utf8').includes('shareGroup');
  } catch {
    return false;
  }
}

class Replica {
  constructor({ app, index, work, label, dbUrl, brokerUrl, shareGroup }) {
    this.app = app;
    this.index = index;
    this.label = `${label}-r${index}`;
    this.work = work;
    this.dbUrl = dbUrl;
    this.brokerUrl = brokerUrl;
    this.shareGroup = shareGroup;
    this.output = '';
  }

  async start() {
    this.port = await freePort();
    const configFile = join(this.work, `${this.label}.config.json`);
    const env = {
      ...process.env,
      NODE: ingestorNode(this.work),
      PORT: String(this.port),
      CHANNEL_KEYS_PATH: join(shared, 'tools/corpus/channel-rainbow.json'),
      CORESCOPE_INGESTOR_STATS: join(this.work, `${this.label}.stats.json`),
      INGESTOR_DB_ENGINE: 'postgres',
      INGESTOR_DB_URL: this.dbUrl,
    };
    const config = serviceConfig();
    if (this.shareGroup && shareGroupKeySupported(this.app)) {
      config.mqttSources = [{ name: 'env', broker: this.brokerUrl, topics: ['meshcore/#'], shareGroup: this.shareGroup }];
      this.subscription = `shareGroup "${this.shareGroup}" + meshcore/#`;
    } else {
      env.MQTT_BROKER = this.brokerUrl;
      env.MQTT_TOPIC = this.shareGroup ? `$share/${this.shareGroup}/meshcore/#` : 'meshcore/#';
      this.subscription = env.MQTT_TOPIC;
    }
    writeFileSync(configFile, JSON.stringify(config));
    const log = createWriteStream(join(this.work, `${this.label}.log`));
    this.spawnedAt = performance.now();
    this.proc = spawn(join(this.app, 'bin/meshcore-ingestor'), ['serve', '--config', configFile], { cwd: this.work, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise((r) => this.proc.once('exit', r));
    const onData = (chunk) => {
      log.write(chunk);
      if (this.readyMs !== undefined) return;
      this.output = (this.output + chunk).slice(-65536);
      if (/subscribed/.test(this.output)) this.readyMs = Math.round(performance.now() - this.spawnedAt);
    };
    this.proc.stdout.on('data', onData);
    this.proc.stderr.on('data', onData);
    this.proc.once('exit', () => log.end());
    while (this.readyMs === undefined) {
      if (this.proc.exitCode !== null) throw new Error(`${this.label} exited ${this.proc.exitCode} before "subscribed":\n${this.output.slice(-3000)}`);
      if (performance.now() - this.spawnedAt > 60_000) throw new Error(`${this.label} not subscribed after 60 s:\n${this.output.slice(-3000)}`);
      await sleep(20);
    }
  }

  get pid() {
    return this.proc.pid;
  }

  async metrics() {
    const text = await fetch(`http://127.0.0.1:${this.port}/metrics`).then((r) => r.text());
    return parseMetrics(text);
  }

  async stop() {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** The counters and writer histograms of one /metrics text. */
function parseMetrics(text) {
  const counters = {};
  const hold = {};
  for (const line of text.split('\n')) {
    let m = /^meshcore_ingestor_events_total\{counter="(\w+)"\} (\S+)/.exec(line);
    if (m) counters[m[1]] = Number(m[2]);
    m = /^meshcore_ingestor_writer_(hold|wait)_seconds_(sum|count)\{component="(\w+)"\} (\S+)/.exec(line);
    if (m) ((hold[m[3]] ??= {})[`${m[1]}_${m[2]}`] = Number(m[4]));
  }
  return { counters, hold };
}

// ---------------------------------------------------------------------------------------------------------------
// CPU of a changing set of processes

/** Seconds the process's main thread (the writer's) has waited for a CPU while runnable (/proc/PID/schedstat, field 2). */
function runQueueWait(pid) {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1e9;
  } catch {
    return null;
  }
}

/** CPU seconds (the harness's /proc/PID/stat reading) and run-queue wait of a growing set of processes. */
class CpuMeter {
  constructor() {
    this.base = new Map(); // pid → { cpu, wait } when first counted
    this.last = new Map(); // pid → latest { cpu, wait }
  }

  read(pid) {
    const s = procSample(pid);
    return s ? { cpu: s.cpuSec, wait: runQueueWait(pid) ?? 0 } : null;
  }

  /** Adds pids; one seen for the first time with `fromZero` counts from 0 (a backend opened during the run). */
  track(pids, fromZero) {
    for (const pid of pids) {
      if (this.base.has(pid)) continue;
      const r = this.read(pid);
      if (!r) continue;
      this.base.set(pid, fromZero ? { cpu: 0, wait: 0 } : r);
      this.last.set(pid, r);
    }
  }

  sample() {
    for (const pid of this.base.keys()) {
      const r = this.read(pid);
      if (r) this.last.set(pid, r); // an exited process keeps its last reading
    }
  }

  /** { cpu, wait } seconds since each process was first counted. */
  snapshot() {
    const total = { cpu: 0, wait: 0 };
    for (const [pid, base] of this.base) {
      total.cpu += this.last.get(pid).cpu - base.cpu;
      total.wait += this.last.get(pid).wait - base.wait;
    }
    return total;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// one measured run

/**
 * Starts `replicas` services (the build at `app`) on a fresh database, publishes with mqtt-load, waits for `expect` observations,
 * verifies the count, and returns the measurement. `loadArgs` go to mqtt-load (--url is added).
 */
export async function runPostgres({ app, label, replicas, shareGroup, toolsDir, work, brokerUrl, brokerPid, loadArgs, expect, idleMs = 8000, settleMs = 2000, pollMs = 50, statements = false }) {
  const db = await createBenchDatabase();
  const services = [];
  const waiter = new Client({ connectionString: db.url, application_name: 'mci-bench-waiter' });
  let load = null;
  try {
    for (let i = 0; i < replicas; i++) services.push(new Replica({ app, index: i + 1, work, label, dbUrl: db.url, brokerUrl, shareGroup }));
    // One after the other: the first one's migrations create the schema (the others would wait on its lock).
    for (const s of services) await s.start();
    const startupMs = Math.max(...services.map((s) => s.readyMs));
    await sleep(settleMs);
    await waiter.connect();
    const q = async (sql, params) => (await waiter.query(sql, params)).rows;
    const backends = async () =>
      (await q('SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = $2', [db.name, APPLICATION_NAME])).map((r) => r.pid);
    const [{ pid: waiterBackend }] = await q('SELECT pg_backend_pid() AS pid');
    if (statements) await q('CREATE EXTENSION IF NOT EXISTS pg_stat_statements').then(() => q('SELECT pg_stat_statements_reset()'));
    const count = async () => Number((await q('SELECT count(*) AS n FROM observations'))[0].n);
    const maxId = async () => Number((await q('SELECT coalesce(max(id), 0) AS m FROM observations'))[0].m);
    const baseCount = await count();
    const baseMax = await maxId();

    const ingestors = new CpuMeter();
    const pgBackends = new CpuMeter();
    const waiterCpu = new CpuMeter();
    const broker = new CpuMeter();

    // The publisher: its "publishing" line is the start of the measured interval (t0 is printed as start_ms).
    let started = null;
    load = spawn(process.execPath, [join(toolsDir, 'mqtt-load.mjs'), '--url', brokerUrl, ...loadArgs, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    load.stdout.on('data', (c) => (out += c));
    load.stderr.on('data', (c) => {
      err = (err + c).slice(-8192);
      if (started === null && /\[mqtt-load\] publishing/.test(err)) {
        started = now();
        ingestors.track(services.map((s) => s.pid), false);
        broker.track([brokerPid], false);
        waiterCpu.track([waiterBackend], false);
      }
    });
    let loadResult = null;
    let loadError = null;
    const loadDone = new Promise((resolvePromise) =>
      load.once('exit', (code) => {
        if (code !== 0) loadError = new Error(`mqtt-load exited ${code}: ${err.slice(-2000)}`);
        else loadResult = JSON.parse(out.trim().split('\n').pop());
        resolvePromise();
      }),
    );
    while (started === null) {
      if (loadError) throw loadError;
      await sleep(5);
    }
    pgBackends.track(await backends(), false);

    // Poll: max(id) is an index probe, count(*) a scan; the count is read once the ids say the rows may be there
    // (ids of a rolled-back batch or of another replica's open transaction make max(id) run ahead of the count).
    let progress = 0;
    let lastChangeAt = null;
    let firstRowAt = null;
    let lastBackendScan = now();
    let reason = 'reached';
    // What the replicas' backends are doing, sampled at each poll: running a statement (and waiting on what),
    // or idle in transaction (the replica is working between its statements), or idle (between batches).
    const states = new Map();
    let stateSamples = 0;
    for (;;) {
      const activity = await q('SELECT state, wait_event_type, wait_event, query FROM pg_stat_activity WHERE datname = $1 AND application_name = $2', [
        db.name,
        APPLICATION_NAME,
      ]);
      for (const r of activity) {
        // A lock wait names its statement ("INSERT INTO observers"): which rows the replicas queue on.
        const statement = r.wait_event_type === 'Lock' ? ` (${r.query.trim().split(/\s+/).slice(0, 3).join(' ')})` : '';
        const key = r.state === 'active' ? `active${r.wait_event ? ` ${r.wait_event_type}/${r.wait_event}${statement}` : ' on CPU'}` : r.state;
        states.set(key, (states.get(key) ?? 0) + 1);
      }
      stateSamples++;
      if (loadError) throw loadError;
      const m = (await maxId()) - baseMax;
      const seen = m >= expect ? (await count()) - baseCount : m;
      const t = now();
      if (t - lastBackendScan >= 500) {
        lastBackendScan = t;
        pgBackends.track(await backends(), true);
      }
      if (seen !== progress) {
        if (firstRowAt === null) firstRowAt = t;
        progress = seen;
        lastChangeAt = t;
        for (const meter of [ingestors, pgBackends, waiterCpu, broker]) meter.sample();
      }
      if (seen >= expect) break;
      if (loadResult) {
        const publishEnd = loadResult.start_ms + loadResult.publish.duration_s * 1000;
        if (t - Math.max(lastChangeAt ?? 0, publishEnd) >= idleMs) {
          reason = 'idle';
          break;
        }
      }
      if (started !== null && t - started > 600_000) {
        reason = 'timeout';
        break;
      }
      await sleep(pollMs);
    }
    await loadDone;
    if (loadError) throw loadError;
    const t0 = loadResult.start_ms;
    const endAt = lastChangeAt ?? now();
    const elapsed = (endAt - t0) / 1000;
    const stored = (await count()) - baseCount;
    const storedTx = Number((await q('SELECT count(*) AS n FROM transmissions'))[0].n);
    const perReplica = [];
    for (const s of services) perReplica.push({ pid: s.pid, ...(await s.metrics()) });
    const { cpu: ingestorCpu, wait: ingestorWait } = ingestors.snapshot();
    const { cpu: backendCpu, wait: backendWait } = pgBackends.snapshot();
    const result = {
      label,
      replicas,
      subscription: services[0].subscription,
      reason,
      expected_observations: expect,
      stored_observations: stored,
      stored_transmissions: storedTx,
      lost: expect - stored,
      first_row_s: firstRowAt === null ? null : round3((firstRowAt - t0) / 1000),
      last_row_s: round3(elapsed),
      e2e_obs_per_s: elapsed > 0 ? Math.round(stored / elapsed) : null,
      drain_after_publish_s: round3((endAt - (t0 + loadResult.publish.duration_s * 1000)) / 1000),
      publish_msgs_per_s: loadResult.publish.msgs_per_s,
      startup_ms: startupMs,
      cpu: {
        ingestors_s: round3(ingestorCpu),
        pg_backends_s: round3(backendCpu),
        pg_backends_seen: pgBackends.base.size,
        waiter_backend_s: round3(waiterCpu.snapshot().cpu),
        broker_s: round3(broker.snapshot().cpu),
        // Main threads runnable but not running: time lost to the other processes on the machine (and to each other).
        ingestors_run_queue_wait_s: round3(ingestorWait),
        pg_backends_run_queue_wait_s: round3(backendWait),
        ingestor_ms_per_obs: stored > 0 ? round3((ingestorCpu * 1000) / stored) : null,
        pg_ms_per_obs: stored > 0 ? round3((backendCpu * 1000) / stored) : null,
        total_ms_per_obs: stored > 0 ? round3(((ingestorCpu + backendCpu) * 1000) / stored) : null,
        ingestor_cores_avg: elapsed > 0 ? round3(ingestorCpu / elapsed) : null,
        pg_cores_avg: elapsed > 0 ? round3(backendCpu / elapsed) : null,
      },
      // Share of polls in which a backend was in each state (summed over the replicas' backends).
      pg_backend_states: Object.fromEntries([...states].sort((a, b) => b[1] - a[1]).map(([k, n]) => [k, Math.round((100 * n) / stateSamples)])),
      vmhwm_mib: Math.round(Math.max(...services.map((s) => procSample(s.pid)?.hwmKiB ?? 0)) / 102.4) / 10,
      replicas_detail: perReplica.map(({ pid, counters, hold }) => ({
        pid,
        messages_received: counters.messages_received,
        obs_inserted: counters.obs_inserted,
        batches_committed: counters.batches_committed,
        commit_retries: counters.commit_retries,
        write_errors: counters.write_errors,
        mqtt_handler_hold_ms_mean: hold.mqtt_handler?.hold_count ? round3((hold.mqtt_handler.hold_sum * 1000) / hold.mqtt_handler.hold_count) : null,
        mqtt_handler_hold_s_total: hold.mqtt_handler ? round3(hold.mqtt_handler.hold_sum) : null,
      })),
    };
    if (statements) result.statements = await topStatements(q, db.name);
    return result;
  } finally {
    if (load && load.exitCode === null && load.signalCode === null) load.kill('SIGTERM');
    await waiter.end().catch(() => {});
    for (const s of services) await s.stop();
    await db.drop();
  }
}

/** The statements of this database by total execution time (pg_stat_statements, when the server loads it). */
async function topStatements(q, dbName) {
  const rows = await q(
    `SELECT calls, round(total_exec_time::numeric, 1) AS total_ms, round(mean_exec_time::numeric, 3) AS mean_ms, rows,
            left(regexp_replace(query, '\\s+', ' ', 'g'), 110) AS query
       FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
      WHERE d.datname = $1 ORDER BY total_exec_time DESC LIMIT 15`,
    [dbName],
  );
  return rows.map((r) => ({ ...r, calls: Number(r.calls), total_ms: Number(r.total_ms), mean_ms: Number(r.mean_ms), rows: Number(r.rows) }));
}

// ---------------------------------------------------------------------------------------------------------------
// the broker + parse ceiling (the harness's mqtt-sink --parse under the same publisher)

export async function runCeiling({ toolsDir, brokerUrl, count }) {
  const sink = spawn(process.execPath, [join(toolsDir, 'mqtt-sink.mjs'), '--url', brokerUrl, '--count', String(count), '--parse', '--idle-ms', '5000', '--json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let sinkOut = '';
  let sinkErr = '';
  sink.stdout.on('data', (c) => (sinkOut += c));
  const ready = new Promise((resolvePromise, reject) => {
    sink.stderr.on('data', (c) => {
      sinkErr += c;
      if (/ready/.test(sinkErr)) resolvePromise();
    });
    sink.once('exit', (code) => reject(new Error(`mqtt-sink exited ${code} before ready: ${sinkErr}`)));
  });
  await ready;
  const sinkDone = new Promise((r) => sink.once('exit', r));
  const load = spawn(process.execPath, [join(toolsDir, 'mqtt-load.mjs'), '--url', brokerUrl, '--count', String(count), '--json', '--quiet'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let loadOut = '';
  load.stdout.on('data', (c) => (loadOut += c));
  await new Promise((r) => load.once('exit', r));
  await sinkDone;
  const s = JSON.parse(sinkOut.trim().split('\n').pop());
  const l = JSON.parse(loadOut.trim().split('\n').pop());
  const lastAt = s.first_ms + s.span_s * 1000;
  return {
    received: s.received,
    sink_msgs_per_s: s.msgs_per_s,
    // The e2e definition: first publish → last message received.
    e2e_msgs_per_s: Math.round(s.received / ((lastAt - l.start_ms) / 1000)),
    publish_msgs_per_s: l.publish.msgs_per_s,
  };
}
