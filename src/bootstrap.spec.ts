import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startService } from './bootstrap';
import { loadConfig } from './config/load-config';
import { ConfigReloadService } from './modules/config-reload/config-reload.service';

const SIGNALS = ['SIGHUP', 'SIGTERM', 'SIGINT'] as const;

describe('startService signal handling', () => {
  let app: INestApplication | undefined;
  let dir: string | undefined;
  const before = new Map(SIGNALS.map((signal) => [signal, process.listeners(signal)]));

  afterEach(async () => {
    await app?.close();
    // The service's own handlers on this (test) process go with it.
    for (const signal of SIGNALS) {
      for (const listener of process.listeners(signal)) if (!before.get(signal)!.includes(listener)) process.off(signal, listener);
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
    vi.restoreAllMocks();
  });

  it('a SIGHUP during start-up is held and applied once the service is up (its default action would end the process)', async () => {
    dir = mkdtempSync(join(tmpdir(), 'mqi-bootstrap-'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ dbPath: join(dir, 'meshcore.db'), mqttSources: [{ name: 'nowhere', broker: 'mqtt://127.0.0.1:9' }], http: { enabled: false } }));
    const { config } = loadConfig({ cwd: dir, env: {} });
    const reload = vi.spyOn(ConfigReloadService.prototype, 'reload').mockImplementation(() => ({ ok: true, rescheduled: [], applied: [], needsRestart: [] }));
    const starting = startService(config, [], { logger: false });
    // Modules are not initialised yet: without the early handler this signal would have no listener at all.
    expect(process.listenerCount('SIGHUP')).toBeGreaterThan(before.get('SIGHUP')!.length);
    process.emit('SIGHUP', 'SIGHUP');
    expect(reload).not.toHaveBeenCalled();
    app = await starting;
    expect(reload).toHaveBeenCalledTimes(1);
    expect(reload).toHaveBeenCalledWith('SIGHUP');
    // Afterwards SIGHUP goes straight to the reload, and the start-up handler is gone.
    process.emit('SIGHUP', 'SIGHUP');
    expect(reload).toHaveBeenCalledTimes(2);
    expect(process.listenerCount('SIGHUP')).toBe(before.get('SIGHUP')!.length + 1);
  }, 30_000);
});
