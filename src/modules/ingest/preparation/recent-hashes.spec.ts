import { describe, expect, it } from 'vitest';
import { RecentHashes } from './recent-hashes';

describe('RecentHashes', () => {
  it('answers true for a hash noted before, until capacity newer hashes pushed it out', () => {
    const recent = new RecentHashes(3);
    expect(['a', 'b', 'a', 'c'].map((h) => recent.seenBefore(h))).toEqual([false, false, true, false]);
    expect(recent.seenBefore('d')).toBe(false); // evicts a
    expect(recent.seenBefore('a')).toBe(false); // noted again, evicts b
    expect(['c', 'd', 'a', 'b'].map((h) => recent.seenBefore(h))).toEqual([true, true, true, false]);
  });
});
