import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildChannelKeyMap } from '../../src/modules/decoder/channel-keys';
import { createDecodeContext } from '../../src/modules/decoder/decode-context';
import { ingestVerdict } from '../../src/modules/decoder/ingest-verdict';
import { decodePacket } from '../../src/modules/decoder/packet-decoder';
import { loadGenerator } from '../e2e/support/big-database';
import { REPO_ROOT, SHARED_DIR } from '../e2e/support/ingestor-process';
import { findMosquitto, freePort, MosquittoInstance } from '../e2e/support/mosquitto';
import { publishAll, publisher } from '../e2e/support/publisher';
import { BASE_IMAGE, hasCommand, imageConfig, imageExists, imageSizes, missingPrerequisites, run, type DockerImageConfig } from './support/buildah';

/**
 * Issue 13, items 1–3: the Dockerfile really built (buildah, on a Node 22 base made from Debian's packages
 * by ../shared/tools/container/make-base.sh when it is not there yet) and its entrypoint really run from the
 * image as its non-root user, with a data folder mounted at /app/data, against a Mosquitto on the host's
 * loopback (`buildah run --isolation chroot` shares the host's network). `podman run` is tried too; on
 * machines whose sandbox refuses crun's rlimits it cannot start, which the test states and checks.
 */

const IMAGE = 'localhost/meshcore-ingestor:test';
const MESSAGES = 1_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('container image (Dockerfile, buildah)', () => {
  const missing = missingPrerequisites();
  const broker = new MosquittoInstance();
  const work = mkdtempSync(join(tmpdir(), 'mqi-image-'));
  const dataDir = join(work, 'data');
  const configFile = join(work, 'config.json');
  let config: DockerImageConfig;
  let container = '';
  let httpPort = 0;
  let build: { ms: number; baseMs: number | null };

  beforeAll(async () => {
    if (missing.length) return;
    let baseMs: number | null = null;
    if (!(await imageExists(BASE_IMAGE))) {
      const made = await run('bash', [join(SHARED_DIR, 'tools/container/make-base.sh'), BASE_IMAGE], { timeoutMs: 600_000 });
      if (made.status !== 0) throw new Error(`make-base.sh failed (${made.status}):\n${made.stderr.slice(-4000)}`);
      baseMs = made.ms;
    }
    const registry = spawnSync('npm', ['config', 'get', 'registry'], { encoding: 'utf8' }).stdout.trim();
    const cafile = spawnSync('npm', ['config', 'get', 'cafile'], { encoding: 'utf8' }).stdout.trim();
    const args = ['bud', '--isolation', 'chroot', '--format', 'docker', '--layers', '-t', IMAGE];
    args.push('--build-arg', `NODE_IMAGE=${BASE_IMAGE}`, '--build-arg', `NPM_CONFIG_REGISTRY=${registry}`);
    // A registry behind a private CA: the bundle goes in as a build secret, never into a layer.
    if (cafile && cafile !== 'null' && existsSync(cafile)) args.push('--secret', `id=npm_ca,src=${cafile}`);
    const built = await run('buildah', [...args, REPO_ROOT], { timeoutMs: 900_000 });
    if (built.status !== 0) throw new Error(`buildah bud failed (${built.status}):\n${(built.stdout + built.stderr).slice(-6000)}`);
    build = { ms: built.ms, baseMs };
    config = await imageConfig(IMAGE);

    await broker.start();
    httpPort = await freePort();
    mkdirSync(dataDir);
    chownSync(dataDir, 1000, 1000); // a bind-mounted data folder must belong to the image's user
    writeFileSync(
      configFile,
      JSON.stringify({ mqttSources: [{ name: 'host', broker: broker.url, topics: ['meshcore/#'], qos: 1, clientId: 'image-test' }], http: { port: httpPort } }),
    );
    container = (await run('buildah', ['from', '--pull-never', IMAGE])).stdout.trim();
    expect(container).not.toBe('');
  }, 1_200_000);

  afterAll(async () => {
    await service?.stop().catch(() => undefined);
    if (container) await run('buildah', ['rm', container]);
    await broker.dispose();
    rmSync(work, { recursive: true, force: true });
  });

  it('has what it needs on this machine (.ci/run installs the tools)', () => {
    expect(missing, `cannot build or run the image here: ${missing.join('; ')}`).toEqual([]);
  });

  it('is built from the Dockerfile: non-root, tini as PID 1 before the launcher, the CoreScope layout, health by Node, SIGTERM', async () => {
    expect(config.User).toBe('1000:1000');
    expect(config.Entrypoint).toEqual(['/usr/bin/tini', '-s', '--', '/app/bin/meshcore-ingestor']);
    expect(config.Cmd).toEqual(['serve', '--config', '/app/config.json']);
    expect(config.WorkingDir).toBe('/app');
    expect(Object.keys(config.Volumes)).toEqual(['/app/data']);
    expect(config.StopSignal).toBe('SIGTERM');
    expect(config.Healthcheck?.Test.slice(0, 2)).toEqual(['CMD', 'node']);
    expect(config.Healthcheck?.Test.join(' ')).toContain('/api/health/ready');
    expect(config.Labels['org.opencontainers.image.title']).toBe('meshcore-ingestor');
    expect(config.Labels['org.opencontainers.image.base.name']).toBe(BASE_IMAGE);
    // No curl, no npm, no compiler in the runtime stage.
    for (const tool of ['curl', 'npm', 'g++', 'make']) {
      const r = await run('buildah', ['run', '--isolation', 'chroot', container, '--', 'sh', '-c', `command -v ${tool} || echo absent`]);
      expect(r.stdout.trim(), tool).toBe('absent');
    }
    const sizes = await imageSizes(IMAGE, BASE_IMAGE);
    console.log(
      `[image] ${IMAGE}: ${(sizes.total / 1e6).toFixed(1)} MB, ${(sizes.added / 1e6).toFixed(1)} MB over the base; ` +
        `build ${(build.ms / 1000).toFixed(1)} s${build.baseMs === null ? ' (layer cache as it was)' : `, base made in ${(build.baseMs / 1000).toFixed(1)} s`}`,
    );
    expect(sizes.added).toBeLessThan(40e6);
  });

  let service: ContainerProcess | undefined;

  it('runs as uid 1000 from the image, turns ready, stores 1 000 corpus messages in the mounted data folder, passes its HEALTHCHECK, and stops on SIGTERM', async () => {
    const healthcheck = config.Healthcheck!.Test.slice(1);
    const probe = () =>
      run('buildah', ['run', '--isolation', 'chroot', '--user', config.User, '--env', `PORT=${httpPort}`, container, '--', ...healthcheck], { timeoutMs: 30_000 });
    // Before the service runs the HEALTHCHECK command fails: it really probes.
    expect((await probe()).status).toBe(1);

    service = new ContainerProcess(container, config, [
      ['-v', `${dataDir}:/app/data`],
      ['-v', `${configFile}:/app/config.json:ro`],
    ]);
    await service.start();
    await waitFor(async () => (await fetch(`http://127.0.0.1:${httpPort}/api/health/ready`).then((r) => r.status, () => 0)) === 200, 60_000, 'ready', service);
    // The answer came from this container's service (another process on a port freed a moment ago would answer too).
    expect(service.output).toMatch(new RegExp(`HTTP listening on [0-9.]+:${httpPort}\\b`));
    // The image's PID 1 stand-in (tini) and the service under it run as the image's user.
    expect(service.uids()).toEqual({ tini: 1000, node: 1000 });

    const gen = await loadGenerator(13);
    const context = createDecodeContext(buildChannelKeyMap({}), { validateSignatures: true });
    const messages: ReturnType<typeof gen.message>[] = [];
    for (let i = 0; messages.length < MESSAGES; i++) {
      const m = gen.message(i);
      if (ingestVerdict(decodePacket(m.hex, context), context) === 'stored') messages.push(m);
    }
    const pub = await publisher(broker.url);
    await publishAll(pub, messages, 1, 200);
    await pub.endAsync();

    const dbFile = join(dataDir, 'meshcore.db');
    // Committed, as the service counts it; the file itself is read once the service has stopped (below). While it
    // ran, a fresh read-only connection from the host counted 0 rows in 2 of 5 runs with the CPU saturated, although
    // the service had committed all of them (in the WAL); the cause is not found yet (README, Container).
    const committed = async () =>
      (await fetch(`http://127.0.0.1:${httpPort}/api/stats`).then((r) => r.json() as Promise<{ counters: { obs_inserted: number } }>, () => undefined))
        ?.counters.obs_inserted ?? 0;
    await waitFor(async () => (await committed()) >= MESSAGES, 60_000, `${MESSAGES} observations committed`, service);
    expect(await committed()).toBe(MESSAGES);
    expect(statSync(dbFile).uid).toBe(1000);
    expect((await probe()).status).toBe(0);

    const stopped = performance.now();
    service.signal('SIGTERM');
    const code = await service.exited(30_000);
    const stopMs = performance.now() - stopped;
    console.log(`[image] SIGTERM → exit ${code} in ${stopMs.toFixed(0)} ms`);
    expect(code, service.output.slice(-3000)).toBe(0);
    expect(stopMs).toBeLessThan(30_000);
    const wal = `${dbFile}-wal`;
    expect(!existsSync(wal) || statSync(wal).size === 0).toBe(true);
    const db = new Database(dbFile, { readonly: true });
    expect((db.prepare('SELECT count(*) AS n FROM observations').get() as { n: number }).n).toBe(MESSAGES);
    db.close();
  }, 240_000);

  it('podman run: runs the image where the sandbox allows it, else says exactly why not', async () => {
    const r = await run('podman', ['run', '--rm', '--pull=never', IMAGE, '--version'], { timeoutMs: 60_000 });
    if (r.status === 0) {
      expect(r.stdout).toMatch(/^meshcore-ingestor \d+\.\d+\.\d+/m);
      return;
    }
    // Known on these machines (../shared/tools/container/README.md): the sandbox refuses the rlimits crun sets.
    console.log(`[image] podman run cannot start a container here: ${r.stderr.trim().split('\n').pop()}`);
    expect(r.stderr).toMatch(/setrlimit.*Operation not permitted/);
  }, 90_000);

  it('compose.yaml is valid for docker-compose (Debian), with the broker gated on health and the ingestor stopped gracefully', async () => {
    expect(hasCommand('docker-compose'), 'docker-compose missing: apt-get install docker-compose (.ci/run installs it)').toBe(true);
    const r = await run('docker-compose', ['-f', join(REPO_ROOT, 'compose.yaml'), '--project-directory', REPO_ROOT, 'config']);
    expect(r.status, r.stderr).toBe(0);
    const ingestor = /^  ingestor:\n([\s\S]*?)^  mosquitto:/m.exec(r.stdout)?.[1] ?? '';
    expect(ingestor).toMatch(/condition: service_healthy/);
    expect(ingestor).toMatch(/init: true/);
    expect(ingestor).toMatch(/stop_grace_period: 30s/);
    expect(ingestor).toMatch(/corescope-data:\/app\/data/);
    expect(ingestor).toMatch(/\/api\/health\/ready/);
    expect(r.stdout).toMatch(/image: eclipse-mosquitto:2/);

    const pg = await run('docker-compose', ['-f', join(REPO_ROOT, 'compose.yaml'), '--project-directory', REPO_ROOT, '--profile', 'postgres', 'config']);
    expect(pg.status, pg.stderr).toBe(0);
    const service = (name: string) => new RegExp(`^  ${name}:\\n([\\s\\S]*?)(?=^  [a-z][a-z0-9-]*:\\n|^[a-z])`, 'm').exec(pg.stdout)?.[1] ?? '';
    expect(service('postgres')).toMatch(/pg_isready/);
    const replicas = ['ingestor-pg-1', 'ingestor-pg-2'].map(service);
    for (const replica of replicas) {
      // Started only with their profile (`config` lists every service either way).
      expect(replica).toMatch(/profiles:\n\s+- postgres/);
      expect(replica).toMatch(/INGESTOR_DB_ENGINE: postgres/);
      expect(replica).toMatch(/INGESTOR_DB_URL: postgres:\/\/meshcore:.*@postgres:5432\/meshcore/);
      expect(replica).toMatch(/postgres:\n\s+condition: service_healthy/);
      expect(replica).toMatch(/stop_grace_period: 30s/);
    }
    expect(replicas[0]).toMatch(/examples\/postgres-replicas\/config\.json:\/app\/config\.json/);
    expect(replicas[1]).toMatch(/examples\/postgres-replicas\/replica-2\.json:\/app\/config\.json/);
  });

  it('compose up: brings the stack up and down where the machine allows it, else says exactly why not', async () => {
    // Up needs the broker's image (pulled from a registry) and a runtime that can start containers.
    const mosquittoImage = await run('podman', ['image', 'exists', 'docker.io/library/eclipse-mosquitto:2']);
    const runtime = await run('podman', ['run', '--rm', '--pull=never', IMAGE, '--version'], { timeoutMs: 60_000 });
    const reasons = [
      ...(mosquittoImage.status === 0 ? [] : ['eclipse-mosquitto:2 is not in local storage and no container registry is reachable to pull it']),
      ...(runtime.status === 0 ? [] : [`podman cannot start containers here (${runtime.stderr.trim().split('\n').pop()})`]),
      ...(hasCommand('podman-compose') ? [] : ['podman-compose is not installed']),
    ];
    if (reasons.length > 0) {
      console.log(`[compose] not brought up: ${reasons.join('; ')}`);
      expect(mosquittoImage.status !== 0 || runtime.status !== 0 || !hasCommand('podman-compose')).toBe(true);
      return;
    }
    const compose = (...args: string[]) => run('podman-compose', ['-f', join(REPO_ROOT, 'compose.yaml'), ...args], { timeoutMs: 300_000 });
    // The per-install password file, with the ingestor login of examples/beside-corescope/config.json.
    const passwd = join(REPO_ROOT, 'deploy/mosquitto/passwd');
    const madePasswd = !existsSync(passwd);
    if (madePasswd) expect((await run('mosquitto_passwd', ['-c', '-b', passwd, 'ingestor', 'change-me'])).status).toBe(0);
    try {
      const up = await compose('up', '-d');
      expect(up.status, up.stderr).toBe(0);
    } finally {
      const down = await compose('down', '-v');
      if (madePasswd) rmSync(passwd, { force: true });
      expect(down.status, down.stderr).toBe(0);
    }
  }, 600_000);

  it("compose's mosquitto.conf works on a real Mosquitto 2: logins required on 1883, the healthcheck's anonymous $SYS probe on 1880 only", async () => {
    const dir = join(work, 'mosquitto');
    mkdirSync(dir, { recursive: true });
    const [main, health] = [await freePort(), await freePort()];
    const conf = readFileSync(join(REPO_ROOT, 'deploy/mosquitto/mosquitto.conf'), 'utf8')
      .replaceAll('/mosquitto/config/', `${dir}/`)
      .replaceAll('/mosquitto/data/', `${dir}/`)
      .replace('listener 1883 0.0.0.0', `listener ${main} 127.0.0.1`)
      .replace('listener 1880 127.0.0.1', `listener ${health} 127.0.0.1`);
    writeFileSync(join(dir, 'mosquitto.conf'), (process.getuid?.() === 0 ? 'user root\n' : '') + conf);
    writeFileSync(join(dir, 'health.acl'), readFileSync(join(REPO_ROOT, 'deploy/mosquitto/health.acl')));
    expect((await run('mosquitto_passwd', ['-c', '-b', join(dir, 'passwd'), 'ingestor', 'compose-secret'])).status).toBe(0);
    const mosquitto = spawn(findMosquitto(), ['-c', join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    mosquitto.stdout.on('data', (d) => (log += d));
    mosquitto.stderr.on('data', (d) => (log += d));
    try {
      const sub = (port: number, topic: string, auth: string[] = []) =>
        run('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(port), '-t', topic, '-C', '1', '-W', '3', ...auth], { timeoutMs: 10_000 });
      await waitFor(async () => (await sub(health, '$SYS/broker/uptime')).status === 0, 10_000, 'the health listener', { get output() { return log; } });
      // The compose healthcheck's command, as written there, against the health listener.
      expect((await sub(health, '$SYS/broker/uptime')).stdout).toMatch(/seconds/);
      // Anonymous clients cannot use the observer listener; the password file's login can.
      expect((await sub(main, '$SYS/broker/uptime')).status).not.toBe(0);
      expect((await sub(main, '$SYS/broker/uptime', ['-u', 'ingestor', '-P', 'compose-secret'])).status).toBe(0);
      // The anonymous health listener reads nothing but $SYS.
      const pub = await publisher(`mqtt://127.0.0.1:${main}`, { username: 'ingestor', password: 'compose-secret' });
      const peek = sub(health, 'meshcore/#');
      await sleep(500);
      await pub.publishAsync('meshcore/TST/ab/packets', '{}', { qos: 1, retain: true });
      expect((await peek).stdout).toBe('');
      await pub.publishAsync('meshcore/TST/ab/packets', '', { qos: 1, retain: true });
      await pub.endAsync();
    } finally {
      mosquitto.kill('SIGTERM');
    }
  }, 60_000);
});

/** The image's entrypoint + command, run from the image by `buildah run` as the image's user. */
class ContainerProcess {
  private proc?: ChildProcess;
  output = '';
  private exit?: Promise<number | null>;

  constructor(
    private readonly container: string,
    private readonly config: DockerImageConfig,
    private readonly mounts: string[][],
  ) {}

  async start(): Promise<void> {
    const args = ['run', '--isolation', 'chroot', '--user', this.config.User, '--workingdir', this.config.WorkingDir, ...this.mounts.flat()];
    this.proc = spawn('buildah', [...args, this.container, '--', ...this.config.Entrypoint, ...this.config.Cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout?.on('data', (d) => (this.output += d));
    this.proc.stderr?.on('data', (d) => (this.output += d));
    const proc = this.proc;
    this.exit = new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
    await waitFor(() => this.tiniPid() !== undefined, 30_000, 'tini to start', this);
  }

  /** tini, the entrypoint's first process (the container's PID 1 under a real runtime): a stop signal goes to it. */
  tiniPid(): number | undefined {
    if (!this.proc?.pid) return undefined;
    return descendants(this.proc.pid).find((pid) => commandOf(pid)[0] === '/usr/bin/tini');
  }

  uids(): { tini: number; node: number } {
    const tini = this.tiniPid()!;
    const node = descendants(tini).find((pid) => /node$/.test(commandOf(pid)[0] ?? ''))!;
    return { tini: uidOf(tini), node: uidOf(node) };
  }

  signal(sig: NodeJS.Signals): void {
    process.kill(this.tiniPid()!, sig);
  }

  async exited(timeoutMs: number): Promise<number | null> {
    return Promise.race([this.exit!, sleep(timeoutMs).then(() => Promise.reject(new Error(`no exit within ${timeoutMs} ms`)))]);
  }

  async stop(): Promise<void> {
    if (!this.proc || this.proc.exitCode !== null) return;
    const tini = this.tiniPid();
    if (tini) process.kill(tini, 'SIGKILL');
    this.proc.kill('SIGKILL');
  }
}

function descendants(pid: number): number[] {
  const r = spawnSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' });
  const children = new Map<number, number[]>();
  for (const line of r.stdout.trim().split('\n')) {
    const [p, pp] = line.trim().split(/\s+/).map(Number);
    children.set(pp, [...(children.get(pp) ?? []), p]);
  }
  const out: number[] = [];
  const queue = [...(children.get(pid) ?? [])];
  while (queue.length) {
    const p = queue.shift()!;
    out.push(p);
    queue.push(...(children.get(p) ?? []));
  }
  return out;
}

function commandOf(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return []; // already gone
  }
}

function uidOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^Uid:\s+(\d+)/m.exec(status)?.[1] ?? NaN);
}

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string, proc?: { output: string }): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}${proc ? `\n${proc.output.slice(-3000)}` : ''}`);
}
