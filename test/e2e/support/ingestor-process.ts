import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { freePort } from './mosquitto';

export const REPO_ROOT = resolve(__dirname, '../../..');
export const SHARED_DIR = resolve(REPO_ROOT, '../shared');

export interface IngestorOptions {
  /** config.json content (dbPath and http.port are filled in when absent). */
  config: Record<string, unknown>;
  env?: Record<string, string>;
  /** Reuse a working directory (restart on the same database). */
  dir?: string;
  /** Started once this line is logged, instead of once /api/health/live answers (a service without HTTP). */
  startedWhenLogged?: RegExp;
}

/** The real service, started as in production (`bin/meshcore-ingestor serve --config …`), in a child process with its own temp dir. */
export class IngestorProcess {
  readonly dir: string;
  readonly dbPath: string;
  port = 0;
  private proc?: ChildProcess;
  private output = '';
  private exitPromise?: Promise<number | null>;

  constructor(private readonly options: IngestorOptions) {
    this.dir = options.dir ?? mkdtempSync(join(tmpdir(), 'mqi-e2e-'));
    this.dbPath = (options.config.dbPath as string | undefined) ?? join(this.dir, 'data', 'meshcore.db');
  }

  /** The config.json the service reads (rewrite it, then signal('SIGHUP'), to test a reload). */
  get configFile(): string {
    return join(this.dir, 'config.json');
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Everything the process wrote to stdout and stderr so far. */
  get logs(): string {
    return this.output;
  }

  async start(): Promise<this> {
    if (!this.port) this.port = await freePort();
    const config = {
      dbPath: this.dbPath,
      ...this.options.config,
      http: { host: '127.0.0.1', port: this.port, ...((this.options.config.http as object) ?? {}) },
    };
    const configFile = this.configFile;
    writeFileSync(configFile, JSON.stringify(config, null, 2));
    // The launcher execs node (this test's), so the child's pid is the service's own (SIGKILL tests).
    this.proc = spawn(join(REPO_ROOT, 'bin/meshcore-ingestor'), ['serve', '--config', configFile], {
      cwd: this.dir,
      env: { ...process.env, NODE: process.execPath, CORESCOPE_INGESTOR_STATS: join(this.dir, 'stats.json'), ...this.options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc.stdout?.on('data', (d) => (this.output += d));
    this.proc.stderr?.on('data', (d) => (this.output += d));
    this.exitPromise = new Promise((res) => this.proc?.once('exit', (code) => res(code)));
    const started = this.options.startedWhenLogged;
    if (started) await this.waitFor(() => started.test(this.output), 30_000, `log line ${started}`);
    else await this.waitFor(async () => (await this.fetchJson('/api/health/live').catch(() => undefined)) !== undefined, 30_000, 'HTTP up');
    return this;
  }

  async fetchJson<T = unknown>(path: string): Promise<T> {
    const res = await fetch(this.url + path);
    return (await res.json()) as T;
  }

  async fetchStatusCode(path: string): Promise<number> {
    return (await fetch(this.url + path)).status;
  }

  async fetchText(path: string): Promise<string> {
    return (await fetch(this.url + path)).text();
  }

  /** Graceful stop (SIGTERM) and the exit code. */
  async stop(): Promise<number | null> {
    if (!this.proc || this.proc.exitCode !== null) return this.proc?.exitCode ?? null;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc?.kill('SIGKILL'), 20_000);
    const code = await this.exitPromise!;
    clearTimeout(timer);
    return code;
  }

  /** Sends a signal to the service (SIGHUP: reload the config). */
  signal(signal: NodeJS.Signals): void {
    this.proc?.kill(signal);
  }

  /** POST with an optional bearer token; the status code and parsed body. */
  async post<T = unknown>(path: string, token?: string): Promise<{ status: number; body: T }> {
    const res = await fetch(this.url + path, { method: 'POST', headers: token ? { Authorization: `Bearer ${token}` } : {} });
    return { status: res.status, body: (await res.json()) as T };
  }

  async kill(): Promise<void> {
    if (!this.proc || this.proc.exitCode !== null) return;
    this.proc.kill('SIGKILL');
    await this.exitPromise;
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  async waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await check()) return;
      if (this.proc && this.proc.exitCode !== null) {
        throw new Error(`ingestor exited (${this.proc.exitCode}) while waiting for ${what}:\n${this.output.slice(-4000)}`);
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${this.output.slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Runs a read-only query against the service's database. */
  query<T = Record<string, unknown>>(sql: string, ...params: unknown[]): T[] {
    const db = new Database(this.dbPath, { readonly: true, fileMustExist: true });
    try {
      return db.prepare(sql).all(...params) as T[];
    } finally {
      db.close();
    }
  }

  count(table: string, where = '1=1'): number {
    try {
      return (this.query<{ n: number }>(`SELECT count(*) AS n FROM ${table} WHERE ${where}`)[0]?.n ?? 0) as number;
    } catch {
      return 0;
    }
  }
}
