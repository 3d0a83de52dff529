import { describe, expect, it } from 'vitest';
import { RecentHashes } from './recent-hashes';

describe('RecentHashes', () => {
  it('answers true for a hash noted before, for at least capacity and at most twice capacity newer hashes', () => {
    const recent = new RecentHashes(3);
    expect(['a', 'b', 'a', 'c'].map((h) => recent.seenBefore(h))).toEqual([false, false, true, false]);
    // three newer hashes: a is still known
    expect(['d', 'e', 'f'].map((h) => recent.seenBefore(h))).toEqual([false, false, false]);
    expect(recent.seenBefore('a')).toBe(true);
    // six newer hashes than a: forgotten, and noted again
    expect(['g', 'h', 'i'].map((h) => recent.seenBefore(h))).toEqual([false, false, false]);
    expect(recent.seenBefore('a')).toBe(false);
    expect(recent.seenBefore('a')).toBe(true);
  });
});
