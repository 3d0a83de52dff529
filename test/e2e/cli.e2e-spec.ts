import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCorpus } from './support/corpus';
import { storedCorpusPackets } from './support/expected';
import { REPO_ROOT, SHARED_DIR } from './support/ingestor-process';

const BIN = join(REPO_ROOT, 'bin/meshcore-ingestor.js');
const dir = mkdtempSync(join(tmpdir(), 'mqi-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, input, encoding: 'utf8', env: { ...process.env, MQTT_BROKER: '' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, lines: r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)) };
}

interface Vector {
  raw_hex: string;
  context: { channel_keys: Record<string, string>; validate_signatures: boolean };
  expected: { hash: string; decoded_json?: string; path_json?: string; channel_hash?: string | null };
  ingest: string;
}

describe('meshcore-ingestor decode', () => {
  it('decodes arguments and stdin lines in order, one JSON line each, rejected lines included; exit 0', () => {
    const vectors = JSON.parse(readFileSync(join(SHARED_DIR, 'vectors/decoder-vectors.json'), 'utf8')) as Vector[];
    const plain = vectors.filter((v) => Object.keys(v.context.channel_keys).length === 0 && !v.context.validate_signatures).slice(0, 20);
    const input = ['', ...plain.map((v) => v.raw_hex), '   ', 'zz', ''].join('\n');
    const r = cli(['decode', '--channel-keys', '{}', '--no-verify-signatures'], input);
    expect(r.status).toBe(0);
    expect(r.lines).toHaveLength(plain.length + 1);
    plain.forEach((v, i) => {
      expect(r.lines[i].hash).toBe(v.expected.hash);
      if (v.expected.decoded_json !== undefined) {
        expect(r.lines[i].decoded_json).toBe(v.expected.decoded_json);
        expect(r.lines[i].path_json).toBe(v.expected.path_json);
      } else {
        expect(r.lines[i].ingest).toBe('rejected');
      }
    });
    expect(r.lines.at(-1)).toEqual({ hash: 'zz', error: expect.stringContaining('invalid hex'), ingest: 'rejected' });
  });

  it('uses the production keys without --channel-keys (built-in Public decrypts) and reports signature drops', () => {
    const vectors = JSON.parse(readFileSync(join(SHARED_DIR, 'vectors/decoder-vectors.json'), 'utf8')) as Vector[];
    const publicChan = vectors.find((v) => v.expected.channel_hash === 'Public' && 'Public' in v.context.channel_keys)!;
    const r = cli(['decode', publicChan.raw_hex]);
    expect(r.status).toBe(0);
    expect(r.lines[0].channel_hash).toBe('Public');
    const dropped = vectors.find((v) => v.ingest.startsWith('dropped'))!;
    expect(cli(['decode', dropped.raw_hex]).lines[0].ingest).toBe('dropped: invalid signature');
    expect(cli(['decode', '--no-verify-signatures', dropped.raw_hex]).lines[0].ingest).toBe('stored');
  });

  it('exits 2 on a usage error and 1 on an invalid config naming the key', () => {
    expect(cli(['decode', '--bogus']).status).toBe(2);
    expect(cli(['decode', '--channel-keys', '[1]']).status).toBe(2);
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ mqttSources: [{ broker: 'mqtt://x', topics: [1] }] }));
    const r = cli(['decode', '-config', 'bad.json', '00']);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe('meshcore-ingestor: config: mqttSources[0].topics[0] must be a string');
  });
});

describe('meshcore-ingestor replay', () => {
  it('ingests a JSONL capture through the pipeline into the configured database and prints a summary', () => {
    const corpus = loadCorpus();
    const stored = storedCorpusPackets(corpus);
    const lines = corpus.map((p) =>
      JSON.stringify({ topic: `meshcore/${p.iata}/${p.observer}/packets`, payload: { raw: p.raw, SNR: -5, origin: 'obs' }, source: 'local' }),
    );
    lines.push(JSON.stringify({ topic: 'meshcore/SJC/OBS9/status', payload: JSON.stringify({ origin: 'Nine', model: 'Heltec V3' }) }));
    lines.push('not json', '', JSON.stringify({ payload: {} }));
    writeFileSync(join(dir, 'capture.jsonl'), lines.join('\n') + '\n');
    writeFileSync(join(dir, 'replay.json'), JSON.stringify({ dbPath: join(dir, 'replay.db'), mqttSources: [{ name: 'local', broker: 'mqtt://127.0.0.1:1' }] }));
    const r = spawnSync(process.execPath, [BIN, 'replay', 'capture.jsonl', '--config', 'replay.json'], { cwd: dir, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`messages:      ${corpus.length + 1} (+2 unusable lines)`);
    expect(r.stdout).toContain(`transmissions: ${stored.length} new`);
    expect(r.stdout).toMatch(/msgs\/s/);
    const db = new Database(join(dir, 'replay.db'), { readonly: true });
    expect(db.prepare('SELECT count(*) FROM transmissions').pluck().get()).toBe(stored.length);
    expect(db.prepare("SELECT model FROM observers WHERE id = 'OBS9'").pluck().get()).toBe('Heltec V3');
    db.close();
  });

  it('reads no further ahead than the ingest buffer takes: a batch larger than the buffer loses no line', () => {
    const stored = storedCorpusPackets(loadCorpus());
    const lines: string[] = [];
    for (let o = 0; o < 25; o++) {
      for (const p of stored) lines.push(JSON.stringify({ topic: `meshcore/${p.iata}/OBS${o}/packets`, payload: { raw: p.raw } }));
    }
    writeFileSync(join(dir, 'big.jsonl'), lines.join('\n') + '\n');
    writeFileSync(join(dir, 'big.json'), JSON.stringify({ dbPath: join(dir, 'big.db'), ingestBufferSize: 1000, ingest: { batchSize: 5000 } }));
    const r = spawnSync(process.execPath, [BIN, 'replay', 'big.jsonl', '--config', 'big.json'], { cwd: dir, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`messages:      ${lines.length}\n`);
    expect(r.stdout).toContain('errors:        0');
    const db = new Database(join(dir, 'big.db'), { readonly: true });
    expect(db.prepare('SELECT count(*) FROM observations').pluck().get()).toBe(lines.length);
    db.close();
  });

  it('a missing file exits 1; no file argument is a usage error (exit 2)', () => {
    expect(spawnSync(process.execPath, [BIN, 'replay', 'nope.jsonl'], { cwd: dir }).status).toBe(1);
    expect(spawnSync(process.execPath, [BIN, 'replay'], { cwd: dir }).status).toBe(2);
  });
});
