// SCAN's cursor (src/commands/resp/keys.ts scanKeys) over a real Keyspace: about COUNT keys per
// call, and every key present for the whole iteration returned, while keys come and go.
import { describe, expect, test } from 'vitest';
import { scanKeys } from '../src/commands/resp/keys.js';
import { Keyspace } from '../src/store/keyspace.js';

function fill(store: Keyspace, n: number, prefix: string): string[] {
  const keys: string[] = [];
  for (let i = 0; i < n; i++) {
    const k = `${prefix}${i}`;
    store.put(k, 'v');
    keys.push(k);
  }
  return keys;
}

/** Walks a whole iteration; between calls, `between(call)` may change the keyspace. */
function walk(store: Keyspace, count: number, between: (call: number) => void, cursorOf = (c: string) => BigInt(c)): { seen: Map<string, number>; calls: number; maxReturned: number } {
  const seen = new Map<string, number>();
  let cursor = 0n;
  let calls = 0;
  let maxReturned = 0;
  do {
    const [next, keys] = scanKeys(store, cursor, count, null, null);
    maxReturned = Math.max(maxReturned, keys.length);
    for (const k of keys) seen.set(k, (seen.get(k) ?? 0) + 1);
    between(calls++);
    cursor = cursorOf(next);
  } while (cursor !== 0n);
  return { seen, calls, maxReturned };
}

describe('SCAN cursor', () => {
  test('100k keys: each call returns at most COUNT keys, and the walk returns every key present throughout while keys are inserted and deleted', () => {
    const store = new Keyspace();
    const keep = fill(store, 100_000, 'keep:');
    const gone = fill(store, 20_000, 'gone:');
    let added = 0;
    const { seen, calls, maxReturned } = walk(store, 100, (call) => {
      // Each call: delete 20 of the doomed keys and add 30 new ones (shards grow and rehash).
      for (let i = 0; i < 20 && gone.length > 0; i++) store.delete(gone.pop()!);
      for (let i = 0; i < 30; i++) store.put(`new:${call}:${added++}`, 'v');
    });
    expect(maxReturned).toBeLessThanOrEqual(100);
    // ~120k-190k keys at 100 a call: about that many calls, not 256 whole shards.
    expect(calls).toBeGreaterThan(1000);
    for (const k of keep) expect(seen.has(k)).toBe(true);
    // A key present throughout comes once here (no iterator was dropped).
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    // Nothing that never existed is returned.
    for (const k of seen.keys()) expect(/^(keep|gone|new):/.test(k)).toBe(true);
  });

  test('a cursor whose iterator was dropped restarts its shard: still every key present throughout', () => {
    const store = new Keyspace();
    const keep = fill(store, 20_000, 'k:');
    const { seen } = walk(
      store,
      50,
      (call) => {
        // Other clients open 1100 cursors: every parked iterator, ours included, is dropped.
        if (call % 7 === 3) for (let i = 0; i < 1100; i++) scanKeys(store, 0n, 1, null, null);
        store.delete(`k:${call}`); // keys present only part of the time
      },
    );
    for (const k of keep.slice(1000)) expect(seen.has(k)).toBe(true);
  });

  test('a made-up or foreign cursor restarts the shard it names; FLUSHALL mid-walk returns no deleted key', () => {
    const store = new Keyspace();
    fill(store, 1000, 'a:');
    const [next] = scanKeys(store, 0n, 10, null, null);
    const other = new Keyspace();
    fill(other, 1000, 'b:');
    const [, fromOther] = scanKeys(other, BigInt(next), 10, null, null);
    expect(fromOther.every((k) => k.startsWith('b:'))).toBe(true);
    store.flush();
    const [end, after] = scanKeys(store, BigInt(next), 10, null, null);
    expect(after).toEqual([]);
    expect(end).toBe('0');
    // A cursor beyond 2^53 parses and simply restarts its shard.
    expect(() => scanKeys(other, 2n ** 64n - 1n, 10, null, null)).not.toThrow();
  });

  test('MATCH and TYPE filter the keys walked; COUNT counts keys walked, not keys returned', () => {
    const store = new Keyspace();
    fill(store, 5000, 's:');
    for (let i = 0; i < 5000; i++) store.put(`h:${i}`, new Map([['f', 'v']]));
    const got = new Set<string>();
    let cursor = 0n;
    do {
      const [next, keys] = scanKeys(store, cursor, 100, 'h:*', 'hash');
      expect(keys.length).toBeLessThanOrEqual(100);
      for (const k of keys) got.add(k);
      cursor = BigInt(next);
    } while (cursor !== 0n);
    expect(got.size).toBe(5000);
    expect([...got].every((k) => k.startsWith('h:'))).toBe(true);
  });
});
