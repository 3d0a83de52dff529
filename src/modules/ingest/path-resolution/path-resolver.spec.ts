import { describe, expect, it } from 'vitest';
import { PathResolver } from './path-resolver';

const A = 'aa11' + '0'.repeat(60);
const B1 = 'bb22' + '1'.repeat(60);
const B2 = 'bb33' + '2'.repeat(60);
const C = 'cc44' + '3'.repeat(60);

describe('PathResolver (resolved_path_test.go)', () => {
  it('resolves unique prefixes and leaves unknown hops null', () => {
    const r = new PathResolver();
    r.refresh([A, C.toUpperCase()], []);
    expect(r.resolve(['AA', 'CC44', 'DD'], null)).toBe(JSON.stringify([A, C, null]));
  });

  it('stores NULL when every hop is unresolved or there are no hops', () => {
    const r = new PathResolver();
    r.refresh([A], []);
    expect(r.resolve(['DD', 'EE'], null)).toBeNull();
    expect(r.resolve([], null)).toBeNull();
    expect(new PathResolver().resolve(['AA'], null)).toBeNull();
  });

  it('resolvePathJson reads the path_json column the same way', () => {
    const r = new PathResolver();
    expect(r.resolvePathJson('["AA"]', null)).toBeNull(); // nothing indexed yet
    r.refresh([A, C], []);
    expect(r.resolvePathJson('["AA","CC44","DD"]', null)).toBe(JSON.stringify([A, C, null]));
    expect(r.resolvePathJson('[]', null)).toBeNull();
  });

  it('leaves ambiguous prefixes null without a graph or anchor', () => {
    const r = new PathResolver();
    r.refresh([B1, B2], []);
    expect(r.resolve(['BB'], A)).toBeNull();
    r.refresh([B1, B2], [[A, B1]]);
    expect(r.resolve(['BB'], null)).toBeNull();
  });

  it('disambiguates 1-byte collisions through adjacency to the advert sender and then the previous hop', () => {
    const r = new PathResolver();
    r.refresh([A, B1, B2, C], [
      [A, B2],
      [B2, C],
    ]);
    expect(r.resolve(['BB'], A)).toBe(JSON.stringify([B2]));
    // Anchor moves: C resolves uniquely, then BB is chosen via C's neighbor B2.
    expect(r.resolve(['CC', 'BB'], null)).toBe(JSON.stringify([C, B2]));
  });

  it('never resolves a hop to the sender itself or to a node already on the path', () => {
    const r = new PathResolver();
    r.refresh([A], []);
    expect(r.resolve(['AA'], A)).toBeNull();
    expect(r.resolve(['AA', 'AA'], null)).toBe(JSON.stringify([A, null]));
  });
});
