#!/usr/bin/env node
// `npm run demo`: the service on its embedded broker, fed the sample capture over MQTT, so a newcomer
// sees rows, /api/mqtt/status and the status page move without installing a broker.
//
//   node scripts/demo.mjs            runs until Ctrl-C
//   node scripts/demo.mjs --exit     stops the service once the capture is stored (the test uses it)
// Env: DEMO_MQTT_PORT, DEMO_HTTP_PORT (default 1883 / 8080, or a free port when those are taken),
//      DEMO_RATE (messages per second, default 25), DEMO_DIR (default data/demo).
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const exitWhenDone = process.argv.includes('--exit');
const rate = Math.max(1, Number(process.env.DEMO_RATE ?? 25));
const dir = resolve(root, process.env.DEMO_DIR ?? 'data/demo');

/** The wanted port when it is free on 127.0.0.1, else one the system picks. */
function portOrFree(wanted) {
  return new Promise((resolvePort) => {
    const server = createServer();
    server.once('error', () => {
      const other = createServer().listen(0, '127.0.0.1', () => {
        const { port } = other.address();
        other.close(() => resolvePort(port));
      });
    });
    server.listen(wanted, '127.0.0.1', () => server.close(() => resolvePort(wanted)));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what, check, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (service.exitCode !== null) throw new Error(`the service exited (${service.exitCode}) while waiting for ${what}; see ${logPath}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; see ${logPath}`);
    await sleep(200);
  }
}

const mqttPort = Number(process.env.DEMO_MQTT_PORT) || (await portOrFree(1883));
const httpPort = Number(process.env.DEMO_HTTP_PORT) || (await portOrFree(8080));
const base = `http://127.0.0.1:${httpPort}`;
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const dbPath = join(dir, 'meshcore.db');
const configPath = join(dir, 'config.json');
const logPath = join(dir, 'service.log');
writeFileSync(
  configPath,
  JSON.stringify(
    {
      dbPath,
      embeddedBroker: { enabled: true, host: '127.0.0.1', port: mqttPort, users: [{ username: 'demo', password: 'demo-password' }] },
      http: { host: '127.0.0.1', port: httpPort },
    },
    null,
    2,
  ),
);

const log = createWriteStream(logPath);
const service = spawn(join(root, 'bin/meshcore-ingestor'), ['serve', '--config', configPath], {
  cwd: dir,
  env: { ...process.env, NODE: process.execPath, CORESCOPE_INGESTOR_STATS: join(dir, 'stats.json') },
  stdio: ['ignore', 'pipe', 'pipe'],
  // Its own process group: Ctrl-C reaches only this script, which then stops the service once, with SIGTERM
  // (in the terminal's group the service got SIGINT too, took the SIGTERM as a second signal and exited at once).
  detached: true,
});
// Whatever ends this script ends the service (detached, it would otherwise outlive it).
process.on('exit', () => {
  if (service.exitCode === null) service.kill('SIGTERM');
});
service.stdout.pipe(log);
service.stderr.pipe(log);
const exited = new Promise((r) => service.once('exit', (code) => r(code)));

async function stopService() {
  if (service.exitCode === null) service.kill('SIGTERM');
  return exited;
}
process.on('SIGINT', async () => {
  console.log('\nstopping the service…');
  const code = await stopService();
  process.exit(code ?? 1);
});

const rel = (p) => relative(process.cwd(), p) || '.';
try {
  console.log(`demo: starting the service (log: ${rel(logPath)})`);
  await waitFor('readiness', async () => (await fetch(`${base}/api/health/ready`)).status === 200, 60_000);
  await waitFor(
    'the embedded source',
    async () => (await (await fetch(`${base}/api/mqtt/status`)).json()).sources.some((s) => s.name === 'embedded' && s.connected),
    30_000,
  );

  const lines = readFileSync(join(root, 'examples/sample-capture.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  console.log(
    [
      '',
      `  status page      ${base}/`,
      `  MQTT status      ${base}/api/mqtt/status`,
      `  counters         ${base}/api/stats`,
      `  maintenance      ${base}/api/maintenance`,
      `  metrics          ${base}/metrics`,
      `  database         ${rel(dbPath)}   (sqlite3 ${rel(dbPath)} 'select count(*) from observations')`,
      `  embedded broker  mqtt://demo:demo-password@127.0.0.1:${mqttPort}   (publish your own: topic meshcore/<IATA>/<observer>/packets)`,
      '',
      `demo: publishing ${lines.length} real packets at ${rate}/s…`,
    ].join('\n'),
  );
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { username: 'demo', password: 'demo-password', clientId: `demo-publisher-${process.pid}` });
  for (let i = 0; i < lines.length; i++) {
    const { topic, payload } = lines[i];
    // Heard now: recent rows, and the status page's "last message" moves.
    await client.publishAsync(topic, JSON.stringify({ ...payload, timestamp: new Date().toISOString() }), { qos: 1 });
    if ((i + 1) % 50 === 0 || i + 1 === lines.length) {
      const { counters } = await (await fetch(`${base}/api/stats`)).json();
      console.log(`  published ${i + 1}/${lines.length}; stored ${counters.tx_inserted} transmissions, ${counters.obs_inserted} observations`);
    }
    await sleep(1000 / rate);
  }
  await client.endAsync();
  await waitFor('the last rows', async () => (await (await fetch(`${base}/api/stats`)).json()).counters.messages_processed >= lines.length, 30_000);
  const { counters } = await (await fetch(`${base}/api/stats`)).json();
  console.log(`demo: done: ${counters.tx_inserted} transmissions, ${counters.obs_inserted} observations, ${counters.node_upserts} node upserts in ${rel(dbPath)}`);
  if (exitWhenDone) {
    const code = await stopService();
    console.log(`demo: service stopped (exit ${code})`);
    process.exit(code ?? 1);
  }
  console.log('demo: the service keeps running; Ctrl-C stops it.');
} catch (error) {
  console.error(`demo: ${error.message}`);
  await stopService();
  process.exit(1);
}
