/**
 * Bad input inside a batch (issue 4 item 7; TestHandleMessagePanicRecovery): a message that throws
 * anywhere in the pipeline is rolled back alone (its savepoint), counted and skipped; the rest of
 * the batch commits. Infrastructure errors (SQLITE_BUSY/FULL…) abort the whole batch for a retry.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { IngestRepository } from '../../persistence/repositories/ingest.repository';
import { BatchAbortedError } from '../../persistence/writer/batch-aborted.error';
import { advertHex, identity, packetTopic, pipelineHarness, pubkeyHex, uniquePacket, type PipelineHarness } from './pipeline.test-support';

/** A repository whose method `name` throws `error()` while `when(args)` holds. */
function failingRepository(
  real: IngestRepository,
  name: keyof IngestRepository,
  when: (args: unknown[]) => boolean,
  error: () => unknown,
): IngestRepository {
  return new Proxy(real, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (prop !== name || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
      return (...args: unknown[]) => {
        if (when(args)) throw error();
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

describe('IngestPipeline — failures inside a batch', () => {
  let h: PipelineHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('a repository throwing on one message rolls back only that message (all its writes) and commits the others', async () => {
    const poison = identity(50);
    h = await pipelineHarness({
      // upsertNode is one of the last writes of an advert: observer, transmission and observation are already written
      wrapRepository: (real) =>
        failingRepository(real, 'upsertNode', ([row]) => (row as { publicKey: string }).publicKey === pubkeyHex(poison), () => new Error('disk says no')),
    });
    const { counters, errors } = h.batch([
      { topic: packetTopic('obsA'), payload: { raw: uniquePacket(1) } },
      { topic: packetTopic('obsPoison'), payload: { raw: advertHex(poison, { nodeType: 2, name: 'Poison' }), origin: 'P' } },
      { topic: packetTopic('obsB'), payload: { raw: advertHex(identity(51), { nodeType: 2, name: 'Fine' }) } },
      { topic: packetTopic('obsC'), payload: { raw: uniquePacket(1) } }, // duplicate of the first: same batch, dedup still works
    ]);
    expect(errors).toHaveLength(1);
    expect(errors[0].topic).toBe(packetTopic('obsPoison'));
    expect((errors[0].error as Error).message).toBe('disk says no');
    expect(h.rows('SELECT id FROM observers ORDER BY id').map((r) => r.id)).toEqual(['obsA', 'obsB', 'obsC']);
    expect(h.count('transmissions')).toBe(2);
    expect(h.count('observations')).toBe(3);
    expect(h.rows('SELECT name FROM nodes')).toEqual([{ name: 'Fine' }]);
    // the failed message's counters are not applied; message_errors counts it. The writer ran the
    // batch a second time with savepoints: the counts of the first attempt are forgotten.
    expect(h.restarts).toBe(1);
    expect(counters.values).toMatchObject({ message_errors: 1, tx_inserted: 2, tx_dupes: 1, obs_inserted: 3, observer_upserts: 3, node_upserts: 1 });
  });

  it('a decoder that throws skips that message only', async () => {
    const bad = uniquePacket(2);
    h = await pipelineHarness({
      decode: (raw, ctx, real) => {
        if (raw === bad) throw new TypeError('decoder exploded');
        return real(raw, ctx);
      },
    });
    const { errors, counters } = h.batch([
      { topic: packetTopic('obs1'), payload: { raw: uniquePacket(1) } },
      { topic: packetTopic('obs1'), payload: { raw: bad } },
      { topic: packetTopic('obs1'), payload: { raw: uniquePacket(3) } },
    ]);
    // Decoding happens before any write: the message is skipped without rolling the batch back.
    expect(errors).toEqual([]);
    expect(h.restarts).toBe(0);
    expect(h.logs.filter((l) => l.level === 'warn').map((l) => l.line)).toEqual([
      '[writer] message on meshcore/SJC/obs1/packets from [test] skipped: decoder exploded',
    ]);
    expect(h.count('transmissions')).toBe(2);
    expect(counters.values).toMatchObject({ message_errors: 1, tx_inserted: 2, observer_upserts: 2 });
    expect(h.value("SELECT packet_count FROM observers WHERE id = 'obs1'")).toBe(2);
  });

  it('a constraint violation raised by SQLite is a message error (write_errors class), not a batch abort', async () => {
    const victim = uniquePacket(5);
    h = await pipelineHarness({
      // a NOT NULL violation on one message's transmission insert
      wrapRepository: (real) =>
        new Proxy(real, {
          get(target, prop, receiver) {
            const value = Reflect.get(target, prop, receiver) as unknown;
            if (prop === 'insertTransmission') {
              return (row: Parameters<IngestRepository['insertTransmission']>[0]) =>
                target.insertTransmission(row.rawHex === victim ? { ...row, firstSeen: null as unknown as string } : row);
            }
            return typeof value === 'function' ? value.bind(target) : value;
          },
        }),
    });
    const { errors } = h.batch([
      { topic: packetTopic('obs1'), payload: { raw: uniquePacket(4) } },
      { topic: packetTopic('obs2'), payload: { raw: victim } },
      { topic: packetTopic('obs3'), payload: { raw: uniquePacket(6) } },
    ]);
    expect(errors).toHaveLength(1);
    expect((errors[0].error as { code: string }).code).toBe('SQLITE_CONSTRAINT_NOTNULL');
    expect(h.rows('SELECT id FROM observers ORDER BY id').map((r) => r.id)).toEqual(['obs1', 'obs3']);
    expect(h.count('transmissions')).toBe(2);
  });

  it('an infrastructure error (SQLITE_FULL) aborts the whole batch: nothing of it is committed', async () => {
    h = await pipelineHarness({
      wrapRepository: (real) =>
        failingRepository(real, 'upsertObservation', ([row]) => (row as { transmissionId: number }).transmissionId === 2, () =>
          Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }),
        ),
    });
    h.send(packetTopic('before'), { raw: uniquePacket(0) }); // committed earlier, must survive
    let caught: unknown;
    try {
      h.batch([
        { topic: packetTopic('obs1'), payload: { raw: uniquePacket(1) } }, // transmission id 2
        { topic: packetTopic('obs2'), payload: { raw: uniquePacket(2) } },
      ]);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(BatchAbortedError);
    expect(((caught as BatchAbortedError).cause as { code: string }).code).toBe('SQLITE_FULL');
    expect(h.rows('SELECT id FROM observers').map((r) => r.id)).toEqual(['before']);
    expect(h.count('transmissions')).toBe(1);
    // the harness applies counters only on commit, like the writer
    expect(h.counters.values.tx_inserted).toBe(1);
    // the connection is usable afterwards and the same batch can be retried
    expect(h.db.inTransaction).toBe(false);
  });
});
