import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Finds the Mosquitto binary (Debian installs it in /usr/sbin, often not on PATH). */
export function findMosquitto(): string {
  for (const candidate of ['/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto', '/usr/bin/mosquitto']) {
    if (existsSync(candidate)) return candidate;
  }
  const which = spawnSync('sh', ['-c', 'command -v mosquitto'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return which.stdout.trim();
  throw new Error('mosquitto not found: install it (apt-get install mosquitto); .ci/run does this');
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = new Socket();
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => (s.destroy(), resolve(false)));
      s.connect(port, '127.0.0.1');
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface MosquittoOptions {
  port?: number;
  /** username → password; when set, anonymous access is refused. */
  users?: Record<string, string>;
  maxQueuedMessages?: number;
  /** Keep persistent-session state across restarts of this instance (for QoS 1 tests). */
  persistence?: boolean;
}

/** A private Mosquitto on a loopback port, owned by one test file. */
export class MosquittoInstance {
  private proc?: ChildProcess;
  readonly dir: string;
  port = 0;
  output = '';

  constructor(private readonly options: MosquittoOptions = {}) {
    this.dir = mkdtempSync(join(tmpdir(), 'mqi-mosq-'));
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    if (!this.port) this.port = this.options.port ?? (await freePort());
    const lines = [
      // As root, Mosquitto drops to user "mosquitto", which cannot read our private temp dir.
      ...(process.getuid?.() === 0 ? ['user root'] : []),
      `listener ${this.port} 127.0.0.1`,
      `max_queued_messages ${this.options.maxQueuedMessages ?? 1_000_000}`,
      'max_inflight_messages 0',
      'persistent_client_expiration 1d',
    ];
    if (this.options.persistence) {
      lines.push('persistence true', `persistence_location ${this.dir}/`, 'autosave_interval 1');
    }
    if (this.options.users) {
      const pwFile = join(this.dir, 'passwd');
      writeFileSync(pwFile, '');
      for (const [user, pass] of Object.entries(this.options.users)) {
        const r = spawnSync('mosquitto_passwd', ['-b', pwFile, user, pass], { encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`mosquitto_passwd failed: ${r.stderr}`);
      }
      lines.push('allow_anonymous false', `password_file ${pwFile}`);
    } else {
      lines.push('allow_anonymous true');
    }
    const conf = join(this.dir, 'mosquitto.conf');
    writeFileSync(conf, lines.join('\n') + '\n');
    this.proc = spawn(findMosquitto(), ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout?.on('data', (d) => (this.output += d));
    this.proc.stderr?.on('data', (d) => (this.output += d));
    try {
      await waitForPort(this.port, 10_000);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${this.output}`);
    }
    return this;
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    this.proc = undefined;
    if (!proc || proc.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
      setTimeout(() => proc.kill('SIGKILL'), 5_000).unref();
    });
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
