import { spawn, spawnSync } from 'node:child_process';

/**
 * The container tools as the image test drives them: buildah builds the image and runs its entrypoint
 * (`--isolation chroot`: no runtime sandbox needed), podman tags the base and probes `podman run`.
 */

export const BASE_IMAGE = 'localhost/node:22-bookworm-slim';

export interface CommandResult {
  status: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a command to its end (async, so the test's event loop keeps turning during a long build). */
export function run(cmd: string, args: string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<CommandResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = options.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), options.timeoutMs) : undefined;
    child.once('error', reject);
    child.once('close', (status) => {
      if (timer) clearTimeout(timer);
      resolve({ status, stdout, stderr, ms: performance.now() - started });
    });
  });
}

export function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).status === 0;
}

/** What the host lacks to build and run the image, each with why it is needed; empty when all is there. */
export function missingPrerequisites(): string[] {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root: buildah --isolation chroot and debootstrap need it (run the suite as root, as .ci/run does)');
  for (const tool of ['buildah', 'podman', 'debootstrap']) {
    if (!hasCommand(tool)) missing.push(`${tool}: apt-get install ${tool} (.ci/run installs it)`);
  }
  return missing;
}

export async function imageExists(name: string): Promise<boolean> {
  return (await run('buildah', ['inspect', '--type', 'image', name])).status === 0;
}

/** The image's Docker-format config (Entrypoint, Cmd, User, Healthcheck, …), as `docker inspect` shows it. */
export async function imageConfig(name: string): Promise<DockerImageConfig> {
  const r = await run('buildah', ['inspect', '--type', 'image', name]);
  if (r.status !== 0) throw new Error(`buildah inspect ${name}: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { Docker: { config: DockerImageConfig } }).Docker.config;
}

export interface DockerImageConfig {
  User: string;
  Entrypoint: string[];
  Cmd: string[];
  WorkingDir: string;
  Env: string[];
  Volumes: Record<string, unknown>;
  ExposedPorts: Record<string, unknown>;
  Labels: Record<string, string>;
  StopSignal?: string;
  Healthcheck?: { Test: string[]; Interval: number; Timeout: number; StartPeriod: number; Retries: number };
}

/** Size of an image in bytes, and the bytes its own layers add on top of `base`. */
export async function imageSizes(name: string, base: string): Promise<{ total: number; added: number }> {
  const size = async (image: string) => {
    const r = await run('podman', ['image', 'inspect', '--format', '{{.Size}}', image]);
    if (r.status !== 0) throw new Error(`podman image inspect ${image}: ${r.stderr}`);
    return Number(r.stdout.trim());
  };
  const total = await size(name);
  return { total, added: total - (await size(base)) };
}
