import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { loadCorpus } from './support/corpus';
import { storedCorpusPackets } from './support/expected';
import { REPO_ROOT } from './support/ingestor-process';
import { freePort } from './support/mosquitto';

describe('e2e: npm run demo (issue 13, item 5)', () => {
  it('starts the service on its embedded broker, publishes the sample capture over MQTT, and the rows are in the database', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mqi-demo-'));
    try {
      const env = {
        ...process.env,
        DEMO_DIR: dir,
        DEMO_RATE: '500',
        DEMO_MQTT_PORT: String(await freePort()),
        DEMO_HTTP_PORT: String(await freePort()),
      };
      const demo = spawn(process.execPath, [join(REPO_ROOT, 'scripts/demo.mjs'), '--exit'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      demo.stdout.on('data', (d) => (output += d));
      demo.stderr.on('data', (d) => (output += d));
      const code = await new Promise<number | null>((resolve) => demo.once('exit', resolve));
      expect(code, output).toBe(0);

      // The capture is the corpus's first 300 packets.
      const expected = storedCorpusPackets(loadCorpus().slice(0, 300)).length;
      const db = new Database(join(dir, 'meshcore.db'), { readonly: true });
      const count = (table: string) => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
      try {
        expect(count('transmissions')).toBe(expected);
        expect(count('observations')).toBe(expected);
        expect(count('nodes')).toBeGreaterThan(0);
      } finally {
        db.close();
      }
      expect(output).toContain(`demo: done: ${expected} transmissions, ${expected} observations`);
      expect(output).toMatch(/status page +http:\/\/127\.0\.0\.1:\d+\//);
      expect(output).toContain('demo: service stopped (exit 0)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
