import { describe, expect, it } from 'vitest';
import { decodeMessageBatch, encodeMessageBatch } from './message-batch.codec';

describe('message batch codec', () => {
  it('round-trips Buffer, string and object payloads in order', () => {
    // A Buffer that is a slice of a larger chunk, as mqtt.js hands them out.
    const chunk = Buffer.from('xxxx{"raw":"0A00"}yyyy');
    const messages = [
      { topic: 'meshcore/SJC/a/packets', source: 'one', payload: chunk.subarray(4, 18) },
      { topic: 'meshcore/SJC/b/status', source: 'two', payload: '{"status":"online"}' },
      { topic: 'meshcore/SJC/c/packets', source: 'one', payload: { raw: '0B00', SNR: -7.5 } },
      { topic: 'meshcore/SJC/d/packets', source: 'one', payload: Buffer.alloc(0) },
      { topic: 'meshcore/SJC/e/packets', source: 'one', payload: Buffer.from([0xff, 0x00, 0x7b]) },
      { topic: '', source: 'replay', payload: Buffer.from('{"topic":"t","payload":{}}'), captureLine: 41 },
    ];
    const encoded = encodeMessageBatch(messages);
    // Only the payload bytes travel, not the chunks they were cut from.
    expect(encoded.bytes.byteLength).toBe(14 + 0 + 3 + 26);
    const decoded = decodeMessageBatch(structuredClone(encoded, { transfer: [encoded.bytes] }));
    expect(decoded.map((m) => [m.topic, m.source])).toEqual(messages.map((m) => [m.topic, m.source]));
    expect((decoded[0].payload as Buffer).toString()).toBe('{"raw":"0A00"}');
    expect(decoded[1].payload).toBe('{"status":"online"}');
    expect(decoded[2].payload).toEqual({ raw: '0B00', SNR: -7.5 });
    expect(Buffer.isBuffer(decoded[3].payload) && (decoded[3].payload as Buffer).length).toBe(0);
    expect([...(decoded[4].payload as Buffer)]).toEqual([0xff, 0x00, 0x7b]);
    expect(decoded[5]).toStrictEqual({ topic: '', source: 'replay', payload: expect.any(Buffer), captureLine: 41 });
    expect(decoded.slice(0, 5).every((m) => !('captureLine' in m))).toBe(true);
  });

  it('encodes an empty batch', () => {
    expect(decodeMessageBatch(encodeMessageBatch([]))).toEqual([]);
  });
});
