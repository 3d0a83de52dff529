import { describe, expect, it } from 'vitest';
import { parseCaptureLine } from '../modules/ingest/preparation/capture-line';
import { readLines } from './replay-runner';

async function collect(chunks: Buffer[]): Promise<string[]> {
  const out: string[] = [];
  async function* source() {
    yield* chunks;
  }
  for await (const lines of readLines(source())) out.push(...lines.map((line) => line.toString('utf8')));
  return out;
}

describe('replay line reader', () => {
  it('joins lines split across chunks, strips CRLF, keeps empty lines and a last line without newline', async () => {
    expect(await collect([Buffer.from('{"a":1}\n{"b"'), Buffer.from(':2}\r\n\n{"c":3}')])).toEqual(['{"a":1}', '{"b":2}', '', '{"c":3}']);
    // CR and LF in different chunks; a line spread over three chunks
    expect(await collect([Buffer.from('x\r'), Buffer.from('\nab'), Buffer.from('c'), Buffer.from('d\n')])).toEqual(['x', 'abcd']);
  });

  it('a multi-byte UTF-8 character split between chunks arrives whole', async () => {
    const bytes = Buffer.from('{"origin":"Zürich 🛰"}\n', 'utf8');
    const cut = bytes.indexOf(0xf0) + 2; // inside the 4-byte emoji
    expect(await collect([bytes.subarray(0, cut), bytes.subarray(cut)])).toEqual(['{"origin":"Zürich 🛰"}']);
  });

  it('a line longer than many chunks arrives whole', async () => {
    const long = 'x'.repeat(300_000);
    const chunks = [Buffer.from('a\n' + long.slice(0, 1000))];
    for (let i = 1000; i < long.length; i += 65_536) chunks.push(Buffer.from(long.slice(i, i + 65_536)));
    chunks.push(Buffer.from('\nb'));
    expect(await collect(chunks)).toEqual(['a', long, 'b']);
  });

  it('no trailing newline, no empty last line; an empty file yields nothing', async () => {
    expect(await collect([Buffer.from('x\n')])).toEqual(['x']);
    expect(await collect([])).toEqual([]);
  });
});

describe('parseCaptureLine', () => {
  it('accepts object and string payloads and names what is wrong otherwise', () => {
    expect(parseCaptureLine('{"topic":"t","payload":{"raw":"00"}}')).toEqual({ topic: 't', payload: { raw: '00' }, source: 'replay' });
    expect(parseCaptureLine('{"topic":"t","payload":"{}","source":"s"}')).toEqual({ topic: 't', payload: '{}', source: 's' });
    expect(parseCaptureLine('nope')).toBe('not JSON');
    expect(parseCaptureLine('[1]')).toBe('not a JSON object');
    expect(parseCaptureLine('{"payload":{}}')).toBe('missing "topic"');
    expect(parseCaptureLine('{"topic":"t","payload":[1]}')).toBe('"payload" must be an object or a string');
  });
});
