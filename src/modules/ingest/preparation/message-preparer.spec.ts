/**
 * MessagePreparer with recent hashes (as in the worker): a copy of a transmission prepared moments
 * ago carries everything the writer needs for a copy, and nothing else differs from a full
 * preparation. Checked on every corpus packet.
 */
import { describe, expect, it } from 'vitest';
import { buildChannelKeyMap } from '../../decoder/channel-keys';
import { createDecodeContext } from '../../decoder/decode-context';
import { decodePacket } from '../../decoder/packet-decoder';
import type { IngestMessage } from '../ingest-message';
import { advertHex, identity, packetTopic, readCorpus } from '../pipeline/pipeline.test-support';
import { MessagePreparer, type PreparerSettings } from './message-preparer';
import { RecentHashes } from './recent-hashes';

const settings: PreparerSettings = {
  clientRxCoverage: false,
  observerBlacklist: [],
  observerIATAWhitelist: [],
  sources: [],
  geoFilter: null,
  foreignAdverts: { mode: 'flag' },
  validateSignatures: true,
};

function preparers() {
  const context = () => createDecodeContext(buildChannelKeyMap({ hashChannels: ['#test'] }), { validateSignatures: true });
  return { full: new MessagePreparer(settings, context(), decodePacket), worker: new MessagePreparer(settings, context(), decodePacket, new RecentHashes(1000)) };
}

describe('MessagePreparer with recent hashes', () => {
  it('prepares a first copy in full and a later copy with only what a copy needs', () => {
    const { full, worker } = preparers();
    const corpus = readCorpus();
    const seen = new Set<string>();
    let light = 0;
    for (const [i, line] of corpus.entries()) {
      for (const observer of ['obsA', 'obsB']) {
        const message: IngestMessage = { source: 'x', topic: packetTopic(observer, line.iata), payload: Buffer.from(JSON.stringify({ raw: line.raw, SNR: i % 7 })) };
        const expected = full.prepare(message);
        const got = worker.prepare(message);
        if (expected.kind !== 'packet' || seen.has(expected.hash) === false) {
          expect(got).toStrictEqual(expected);
          if (expected.kind === 'packet') seen.add(expected.hash);
          continue;
        }
        if (expected.payloadType === 9) {
          expect(got).toStrictEqual(expected); // TRACE: path from the payload, always decoded
        } else if (expected.payloadType === 4) {
          expect(got).toStrictEqual({ ...expected, decodedJson: null });
        } else {
          expect(got).toStrictEqual({ ...expected, decodedJson: null, channelHash: null, scopeName: null });
          light++;
        }
      }
    }
    expect(light).toBeGreaterThan(300);
  });

  it('copies of an advert that is not stored keep everything (they are not noted)', () => {
    const { full, worker } = preparers();
    const raw = advertHex(identity(9), { nodeType: 2, name: 'Forged' }, { tamper: true });
    const message: IngestMessage = { source: 'x', topic: packetTopic('o'), payload: { raw } };
    const [a, b] = [worker.prepare(message), worker.prepare(message)];
    expect(a).toMatchObject({ advertVerdict: 'bad-signature' });
    expect(b).toStrictEqual(full.prepare(message));
  });

  it('a framing error is the same decode error as without recent hashes', () => {
    const { full, worker } = preparers();
    for (const raw of ['zz', '0A', '1100', 'C0FF' + '00'.repeat(10)]) {
      const message: IngestMessage = { source: 'x', topic: packetTopic('o'), payload: { raw } };
      expect(worker.prepare(message)).toStrictEqual(full.prepare(message));
    }
  });
});
