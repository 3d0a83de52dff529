// Shared by the benchmark scripts: where things are, and --name value arguments.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const shared = resolve(root, '../shared');
/** require() relative to the project, for the compiled service in dist/. */
export const requireFromProject = createRequire(resolve(root, 'package.json'));

/** The value after --name on the command line, or the fallback. */
export function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

/** A TCP port free on 127.0.0.1 right now (closed again before it is returned). */
export const freePort = () =>
  new Promise((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });

/** The mosquitto binary: the Debian locations first, then PATH. */
export function findMosquitto() {
  for (const c of ['/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto', '/usr/bin/mosquitto']) if (existsSync(c)) return c;
  const r = spawnSync('sh', ['-c', 'command -v mosquitto'], { encoding: 'utf8' });
  if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  throw new Error('mosquitto not found (apt-get install mosquitto)');
}

/**
 * A copy of the build (bin/, dist/, package.json; node_modules linked) in `work`, so that a rebuild in this tree
 * while a benchmark runs (another change being built) does not change what it measures. Returns its root.
 */
export function snapshotBuild(work) {
  const app = join(work, 'app');
  for (const dir of ['bin', 'dist']) cpSync(join(root, dir), join(app, dir), { recursive: true });
  cpSync(join(root, 'package.json'), join(app, 'package.json'));
  symlinkSync(join(root, 'node_modules'), join(app, 'node_modules'));
  return app;
}

/**
 * The machine's CPU pressure (Linux PSI, /proc/pressure/cpu "some"): start() then stop() gives the share of the
 * interval in which some runnable task waited for a CPU, in percent (null without PSI). The benchmark's own
 * processes compete too; on a shared machine a high figure next to a slow run says the run lost time to others.
 */
export function cpuPressure() {
  const read = () => {
    try {
      return Number(/some .*total=(\d+)/.exec(readFileSync('/proc/pressure/cpu', 'utf8'))[1]);
    } catch {
      return null;
    }
  };
  const t0 = performance.now();
  const p0 = read();
  return () => {
    const p1 = read();
    return p0 === null || p1 === null ? null : Math.round((p1 - p0) / 10 / (performance.now() - t0));
  };
}
