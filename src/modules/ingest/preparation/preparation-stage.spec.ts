/**
 * The preparation stage with its real worker thread (the compiled dist/ script: `npm test` builds
 * first): the worker's results are exactly the writer thread's, and a worker that dies costs a
 * batch's speed, never its messages.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildChannelKeyMap } from '../../decoder/channel-keys';
import type { IngestMessage } from '../ingest-message';
import { advertHex, identity, packetTopic, pipelineHarness, readCorpus, REAL_STATUS_PAYLOAD, statusTopic, type PipelineHarness } from '../pipeline/pipeline.test-support';
import { preparerSettingsOf } from './message-preparer';
import { PreparationStage } from './preparation-stage';

const WORKER_SCRIPT = path.resolve(__dirname, '../../../../dist/modules/ingest/preparation/preparation.worker.js');

function mixedMessages(): IngestMessage[] {
  const corpus = readCorpus().slice(0, 120);
  const messages: IngestMessage[] = corpus.map((line, i) => ({
    source: i % 2 ? 'local' : 'other',
    topic: packetTopic(line.observer, line.iata),
    payload: Buffer.from(JSON.stringify({ raw: line.raw, SNR: -7.25, RSSI: '-101dBm', origin: line.observer_name, timestamp: '2026-07-18T11:59:00' })),
  }));
  messages.push(
    { source: 'local', topic: statusTopic('OBS1'), payload: Buffer.from(REAL_STATUS_PAYLOAD) },
    { source: 'local', topic: packetTopic('OBS1'), payload: Buffer.from('not json') },
    { source: 'local', topic: packetTopic('OBS1'), payload: Buffer.from('{"raw":"zz"}') },
    { source: 'local', topic: packetTopic('OBS1'), payload: Buffer.from('{"raw":"0A"}') },
    { source: 'local', topic: packetTopic('OBS2'), payload: { raw: advertHex(identity(7), { nodeType: 2, name: 'Node7', lat: 37.1, lon: -122.2 }) } },
    { source: 'local', topic: packetTopic('OBS2'), payload: JSON.stringify({ raw: advertHex(identity(8), { nodeType: 1, name: 'Bad' }, { tamper: true }) }) },
    { source: 'other', topic: 'meshcore/message/channel/3', payload: Buffer.from('{"text":"alice: hi"}') },
    { source: 'local', topic: 'meshcore/status', payload: Buffer.from('{}') },
  );
  return messages;
}

describe('PreparationStage', () => {
  let h: PipelineHarness;
  let stage: PreparationStage | undefined;
  let scratch: string | undefined;
  const lines: Array<[string, string]> = [];
  const logger = { warn: (l: string) => lines.push(['warn', l]), error: (l: string) => lines.push(['error', l]) };

  beforeAll(() => {
    if (!existsSync(WORKER_SCRIPT)) throw new Error(`${WORKER_SCRIPT} is missing: run npm run build first`);
  });

  afterEach(async () => {
    await stage?.close();
    stage = undefined;
    await h?.close();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
    scratch = undefined;
    lines.length = 0;
  });

  async function open(options: { useWorker?: boolean; workerScript?: string; onWorkerFailure?: () => void } = {}) {
    h = await pipelineHarness({ config: { mqttSources: [{ name: 'local', broker: 'tcp://localhost:1883', topics: ['#'], iataFilter: ['SJC', 'OAK'] }] } });
    stage = new PreparationStage({
      useWorker: options.useWorker ?? true,
      workerData: { settings: preparerSettingsOf(h.config), channelKeys: buildChannelKeyMap({ hashChannels: h.config.hashChannels, channelKeys: h.config.channelKeys }), hashRegions: [...h.config.hashRegions] },
      inline: h.pipeline.preparer,
      logger,
      workerScript: options.workerScript ?? WORKER_SCRIPT,
      onWorkerFailure: options.onWorkerFailure,
    });
    return stage;
  }

  it('prepares in the worker exactly what the writer thread prepares, in order', async () => {
    const s = await open();
    const messages = mixedMessages();
    const expected = messages.map((m) => h.pipeline.preparer.prepare(m));
    const [first, second] = await Promise.all([s.prepare(messages.slice(0, 50)), s.prepare(messages.slice(50))]);
    expect(s.usesWorker).toBe(true);
    expect([...first, ...second]).toStrictEqual(expected);
    // the mix covers every kind the writer handles
    expect(new Set(expected.map((p) => p.kind))).toEqual(new Set(['packet', 'status', 'drop', 'decode-error', 'companion']));
    expect(expected.some((p) => p.kind === 'packet' && p.advertVerdict === 'bad-signature')).toBe(true);
    expect(lines).toEqual([]);
  });

  it('a copy of a transmission it passed on moments ago comes back without decoded_json', async () => {
    const s = await open();
    // a channel message, whose full preparation has a channel_hash
    const m = mixedMessages().find((x) => {
      const p = h.pipeline.preparer.prepare(x);
      return p.kind === 'packet' && p.payloadType === 5 && p.channelHash !== null;
    })!;
    const copy: IngestMessage = { ...m, topic: packetTopic('OTHER', 'SJC') };
    const badAdvert = mixedMessages().find((x) => typeof x.payload === 'string')!;
    const [first, second, bad1, bad2] = await s.prepare([m, copy, badAdvert, badAdvert]);
    expect(first).toStrictEqual(h.pipeline.preparer.prepare(m));
    const full = h.pipeline.preparer.prepare(copy);
    expect(second).toStrictEqual({ ...full, decodedJson: null, channelHash: null, scopeName: null });
    // a copy of a packet that is not stored (here: a bad signature) keeps it
    expect(bad1).toMatchObject({ kind: 'packet', advertVerdict: 'bad-signature' });
    expect(bad2).toStrictEqual(bad1);
  });

  it('a worker that dies: its batch is prepared on the writer thread, the next batch gets a new worker', async () => {
    scratch = mkdtempSync(path.join(tmpdir(), 'mqi-stage-'));
    const crashing = path.join(scratch, 'crashing.worker.js');
    // Dies on a batch whose first topic is "crash", otherwise behaves as the real worker.
    writeFileSync(
      crashing,
      `const { parentPort } = require('node:worker_threads');
       parentPort.on('message', (r) => { if (r.batch.topics[0] === 'crash') process.exit(3); });
       require(${JSON.stringify(WORKER_SCRIPT)});`,
    );
    let failures = 0;
    const s = await open({ workerScript: crashing, onWorkerFailure: () => failures++ });
    const messages = mixedMessages();
    const crashBatch: IngestMessage[] = [{ source: 'local', topic: 'crash', payload: Buffer.from('{}') }, ...messages.slice(0, 10)];
    const inline = (batch: IngestMessage[]) => batch.map((m) => h.pipeline.preparer.prepare(m));

    expect(await s.prepare(messages.slice(0, 10))).toStrictEqual(inline(messages.slice(0, 10)));
    expect(await s.prepare(crashBatch)).toStrictEqual(inline(crashBatch));
    expect(failures).toBe(1);
    expect(lines.filter(([level]) => level === 'warn').map(([, l]) => l)).toEqual([
      'preparation worker exited with code 3; starting a new one',
      'preparation worker lost a batch of 11 (worker exited with code 3): decoding it on the writer thread',
    ]);
    expect(await s.prepare(messages.slice(10, 40))).toStrictEqual(inline(messages.slice(10, 40)));
    expect(s.usesWorker).toBe(true);
  });

  it('gives up on a worker that keeps dying and prepares every batch on the writer thread', async () => {
    scratch = mkdtempSync(path.join(tmpdir(), 'mqi-stage-'));
    const dying = path.join(scratch, 'dying.worker.js');
    writeFileSync(dying, `require('node:worker_threads').parentPort.on('message', () => process.exit(1));`);
    let failures = 0;
    const s = await open({ workerScript: dying, onWorkerFailure: () => failures++ });
    const batch = mixedMessages().slice(0, 5);
    for (let i = 0; i < 5; i++) expect(await s.prepare(batch)).toStrictEqual(batch.map((m) => h.pipeline.preparer.prepare(m)));
    expect(failures).toBe(5);
    expect(s.usesWorker).toBe(false);
    expect(lines.filter(([level]) => level === 'error').map(([, l]) => l)).toEqual([
      'preparation worker exited with code 1; 5 failures within a minute: decoding on the writer thread from now on',
    ]);
  });

  it('without the worker (ingest.workerThread false, or after close) it prepares on the writer thread', async () => {
    const s = await open({ useWorker: false });
    const batch = mixedMessages().slice(0, 5);
    expect(s.usesWorker).toBe(false);
    expect(await s.prepare(batch)).toStrictEqual(batch.map((m) => h.pipeline.preparer.prepare(m)));
    await s.close();
    expect(await s.prepare(batch)).toStrictEqual(batch.map((m) => h.pipeline.preparer.prepare(m)));
  });

  it('a missing worker script (running from sources) is said once and falls back to the writer thread', async () => {
    const s = await open({ workerScript: path.join(tmpdir(), 'no-such-dir', 'preparation.worker.js') });
    expect(s.usesWorker).toBe(false);
    expect(lines).toEqual([['warn', 'preparation worker script not found (preparation.worker.js): decoding on the writer thread']]);
  });
});
