// TTL and expiry tests with an injectable clock: the deadline heap
// (src/store/ttl.ts), lazy and active expiry in the keyspace, pttl, and the
// per-call cap on active expiry that keeps the loop from stalling.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bookStringCommands } from '../src/commands/book/strings.js';
import type { CommandContext } from '../src/commands/types.js';
import type { ReplyWriter } from '../src/protocol/reply.js';
import { EXPIRE_BUDGET_STRIDE, Keyspace } from '../src/store/keyspace.js';
import { TtlHeap, type TtlEntry } from '../src/store/ttl.js';

/** A keyspace on a clock the test moves by hand. */
function fakeClockKeyspace(start = 1000): { store: Keyspace; advance(ms: number): void; at(t: number): void } {
  let now = start;
  const store = new Keyspace(() => now);
  return { store, advance: (ms) => void (now += ms), at: (t) => void (now = t) };
}

/** Checks the heap property and every entry's back-index; returns the entries. */
function checkHeap(heap: TtlHeap): TtlEntry[] {
  const items = (heap as unknown as { items: TtlEntry[] }).items;
  items.forEach((e, i) => {
    expect(e.pos).toBe(i);
    if (i > 0) expect(items[(i - 1) >> 1].deadline).toBeLessThanOrEqual(e.deadline);
  });
  return items;
}

describe('TtlHeap', () => {
  it('keeps heap order and back-indexes under random pushes, updates and removals', () => {
    type Op = { kind: 'push' | 'update' | 'remove'; pick: number; deadline: number };
    const opArb: fc.Arbitrary<Op> = fc.record({
      kind: fc.constantFrom('push', 'push', 'update', 'remove'),
      pick: fc.nat(),
      deadline: fc.integer({ min: 0, max: 50 }), // a small range: many equal deadlines
    });
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 150 }), (ops) => {
        const heap = new TtlHeap();
        const live: TtlEntry[] = [];
        let id = 0;
        for (const op of ops) {
          if (op.kind === 'push' || live.length === 0) {
            const e: TtlEntry = { key: `k${id++}`, deadline: op.deadline, pos: -1 };
            heap.push(e);
            live.push(e);
          } else if (op.kind === 'update') {
            const e = live[op.pick % live.length];
            e.deadline = op.deadline;
            heap.update(e);
          } else {
            const [e] = live.splice(op.pick % live.length, 1);
            heap.remove(e);
            expect(e.pos).toBe(-1);
          }
          expect(heap.size).toBe(live.length);
          expect(heap.peek()?.deadline).toBe(live.length ? Math.min(...live.map((e) => e.deadline)) : undefined);
        }
        checkHeap(heap);
        // Draining from the top yields the deadlines in order.
        const drained: number[] = [];
        for (let top = heap.peek(); top !== undefined; top = heap.peek()) {
          drained.push(top.deadline);
          heap.remove(top);
        }
        expect(drained).toEqual(live.map((e) => e.deadline).sort((a, b) => a - b));
      }),
      { numRuns: 300 },
    );
  });
});

describe('Keyspace expiry', () => {
  it('expires lazily on access, exactly at the deadline', () => {
    const { store, advance } = fakeClockKeyspace();
    store.put('k', 'v');
    store.setDeadline('k', store.now() + 100);
    advance(99.9);
    expect(store.get('k')).toBe('v');
    expect(store.size).toBe(1);
    advance(0.1);
    expect(store.size).toBe(1); // still stored: nothing has touched it
    expect(store.get('k')).toBeUndefined();
    expect(store.size).toBe(0);
    expect(store.volatileCount).toBe(0);
    expect(store.expiredCount).toBe(1);
    expect(store.nextDeadline()).toBeNull();
  });

  it('has, delete and pttl also expire lazily', () => {
    const { store, advance } = fakeClockKeyspace();
    for (const k of ['a', 'b', 'c']) {
      store.put(k, k);
      store.setDeadline(k, store.now() + 10);
    }
    advance(10);
    expect(store.has('a')).toBe(false);
    expect(store.delete('b')).toBe(false); // an expired key is not "removed" by DEL
    expect(store.pttl('c')).toBe(-2);
    expect(store.size).toBe(0);
    expect(store.expiredCount).toBe(3);
  });

  it('keys() never yields an expired key, even before anything removed it', () => {
    fc.assert(
      fc.property(
        fc.array(fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }), { maxLength: 60 }),
        fc.integer({ min: 0, max: 120 }),
        (ttls, elapsed) => {
          const { store, advance } = fakeClockKeyspace();
          const t0 = store.now();
          ttls.forEach((ttl, i) => {
            store.put(`k${i}`, 'v');
            if (ttl !== undefined) store.setDeadline(`k${i}`, t0 + ttl);
          });
          advance(elapsed);
          const expected = ttls.flatMap((ttl, i) => (ttl === undefined || ttl > elapsed ? [`k${i}`] : []));
          expect([...store.keys()].sort()).toEqual(expected.sort());
          expect(store.size).toBe(ttls.length); // keys() itself does not delete
        },
      ),
      { numRuns: 200 },
    );
  });

  it('expireSome removes at most max keys per call: 5000 due keys take 2000 + 2000 + 1000', () => {
    const { store, advance } = fakeClockKeyspace();
    const t0 = store.now();
    for (let i = 0; i < 5000; i++) {
      store.put(`due${i}`, 'v');
      store.setDeadline(`due${i}`, t0 + 1 + (i % 50));
    }
    for (let i = 0; i < 300; i++) {
      store.put(`later${i}`, 'v');
      store.setDeadline(`later${i}`, t0 + 10_000);
    }
    for (let i = 0; i < 200; i++) store.put(`forever${i}`, 'v');
    expect(store.expireSome(2000)).toBe(0); // nothing due yet
    advance(60);
    expect(store.expireSome(2000)).toBe(2000);
    expect(store.size).toBe(5500 - 2000);
    expect(store.expireSome(2000)).toBe(2000);
    expect(store.expireSome(2000)).toBe(1000);
    expect(store.expireSome(2000)).toBe(0);
    expect(store.size).toBe(500);
    expect(store.expiredCount).toBe(5000);
    expect(store.nextDeadline()).toBe(t0 + 10_000);
    expect([...store.keys()].filter((k) => k.startsWith('due'))).toEqual([]);
  });

  it('expireSome with a time budget stops early, after a whole stride of deletions', () => {
    const { store, advance } = fakeClockKeyspace();
    for (let i = 0; i < 500; i++) {
      store.put(`k${i}`, 'v');
      store.setDeadline(`k${i}`, store.now() + 1);
    }
    advance(1);
    expect(store.expireSome(2000, 0)).toBe(EXPIRE_BUDGET_STRIDE); // budget spent at the first check
    expect(store.expireSome(100, 0)).toBe(EXPIRE_BUDGET_STRIDE);
    expect(store.expireSome(10, 0)).toBe(10); // max still caps
    expect(store.expireSome(2000, 60_000)).toBe(500 - 2 * EXPIRE_BUDGET_STRIDE - 10);
    expect(store.size).toBe(0);
  });

  it('expireSome removes keys in deadline order, and only due ones', () => {
    const { store, at } = fakeClockKeyspace(0);
    const deadlines = [50, 10, 40, 20, 30];
    deadlines.forEach((d, i) => {
      store.put(`k${i}`, 'v');
      store.setDeadline(`k${i}`, d);
    });
    at(35);
    expect(store.expireSome(2)).toBe(2);
    // 10 and 20 went first; 30 is due but over the cap: still stored, though keys() hides it.
    expect(store.size).toBe(3);
    expect(store.deadline('k4')).toBe(30);
    expect(new Set(store.keys())).toEqual(new Set(['k0', 'k2']));
    expect(store.expireSome(10)).toBe(1);
    expect(new Set(store.keys())).toEqual(new Set(['k0', 'k2']));
    expect(store.nextDeadline()).toBe(40);
  });

  it('nextDeadline and expireSome agree with a model under random TTL changes', () => {
    type Op = { kind: 'set' | 'clear' | 'del' | 'put' | 'tick'; key: number; ms: number };
    const opArb: fc.Arbitrary<Op> = fc.record({
      kind: fc.constantFrom('set', 'set', 'clear', 'del', 'put', 'tick'),
      key: fc.integer({ min: 0, max: 9 }),
      ms: fc.integer({ min: 0, max: 30 }),
    });
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 80 }), (ops) => {
        let now = 0;
        const store = new Keyspace(() => now);
        const model = new Map<string, number | undefined>(); // live key → deadline
        const expireModel = () => {
          for (const [k, d] of model) if (d !== undefined && d <= now) model.delete(k);
        };
        for (const op of ops) {
          const k = `k${op.key}`;
          if (op.kind === 'tick') now += op.ms;
          else if (op.kind === 'put') {
            store.put(k, 'v');
            expireModel();
            model.set(k, model.get(k));
          } else if (op.kind === 'set' && store.has(k)) {
            store.setDeadline(k, now + op.ms);
            model.set(k, now + op.ms);
          } else if (op.kind === 'clear' && store.has(k)) {
            store.clearDeadline(k);
            model.set(k, undefined);
          } else if (op.kind === 'del') {
            expireModel();
            expect(store.delete(k)).toBe(model.delete(k));
          }
          expireModel();
          // pttl per key agrees with the model
          for (let i = 0; i < 10; i++) {
            const key = `k${i}`;
            const d = model.get(key);
            expect(store.pttl(key)).toBe(!model.has(key) ? -2 : d === undefined ? -1 : d - now);
          }
          const due = [...model.values()].filter((d): d is number => d !== undefined);
          expect(store.nextDeadline()).toBe(due.length ? Math.min(...due) : null);
        }
        now += 100;
        expireModel();
        store.expireSome(1000);
        expect(store.size).toBe(model.size);
        expect(store.nextDeadline()).toBeNull();
      }),
      { numRuns: 200 },
    );
  });

  it('pttl: -2 missing, -1 no TTL, remaining ms rounded up', () => {
    const { store, advance } = fakeClockKeyspace();
    expect(store.pttl('k')).toBe(-2);
    store.put('k', 'v');
    expect(store.pttl('k')).toBe(-1);
    store.setDeadline('k', store.now() + 1500);
    expect(store.pttl('k')).toBe(1500);
    advance(0.5);
    expect(store.pttl('k')).toBe(1500);
    advance(1498.5);
    expect(store.pttl('k')).toBe(1);
    store.setDeadline('k', store.now() + 20); // changing a TTL re-sorts the heap entry
    expect(store.pttl('k')).toBe(20);
    expect(store.clearDeadline('k')).toBe(true);
    expect(store.clearDeadline('k')).toBe(false);
    expect(store.pttl('k')).toBe(-1);
  });

  it('put on a key whose deadline passed (not yet removed) stores a live key without the stale TTL', () => {
    const { store, advance } = fakeClockKeyspace();
    store.put('k', 'old');
    store.setDeadline('k', store.now() + 10);
    advance(10);
    store.put('k', 'new');
    expect(store.get('k')).toBe('new');
    expect(store.pttl('k')).toBe(-1);
    expect(store.expiredCount).toBe(1);
  });

  it('the sharded tables count, list and delete keys like one Map', () => {
    const { store } = fakeClockKeyspace();
    const names = Array.from({ length: 5000 }, (_, i) => (i % 2 ? `key:${i}` : `${'x'.repeat(i % 40)}\xff${i}`));
    for (const k of names) store.put(k, k);
    store.put(names[0], 'again'); // an overwrite is not a new key
    expect(store.size).toBe(5000);
    expect(new Set(store.keys())).toEqual(new Set(names));
    for (let i = 0; i < 5000; i += 2) expect(store.delete(names[i])).toBe(true);
    expect(store.delete(names[0])).toBe(false);
    expect(store.size).toBe(2500);
    expect([...store.keys()].sort()).toEqual(names.filter((_, i) => i % 2).sort());
    expect(store.get(names[1])).toBe(names[1]);
    expect(store.get(names[0])).toBeUndefined();
  });

  it('keysInShard: walking every shard returns each live key exactly once, even across changes', () => {
    const { store, advance } = fakeClockKeyspace();
    for (let i = 0; i < 3000; i++) store.put(`k${i}`, 'v');
    store.setDeadline('k0', store.now() + 5);
    const seen: string[] = [];
    for (let shard = 0; shard < Keyspace.shardCount; shard++) {
      seen.push(...store.keysInShard(shard));
      if (shard === 10) {
        // Changes mid-walk: keys present throughout must still come back exactly once.
        for (let i = 3000; i < 3500; i++) store.put(`k${i}`, 'v');
        store.delete('k1');
        advance(5); // k0 expires
      }
    }
    const counts = new Map<string, number>();
    for (const k of seen) counts.set(k, (counts.get(k) ?? 0) + 1);
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
    for (let i = 2; i < 3000; i++) expect(counts.has(`k${i}`)).toBe(true);
    expect(Keyspace.shardCount).toBeGreaterThan(1);
  });

  it('replace drops the TTL, put keeps it, flush clears everything', () => {
    const { store } = fakeClockKeyspace();
    store.put('a', '1');
    store.setDeadline('a', store.now() + 50);
    store.put('a', '2');
    expect(store.pttl('a')).toBe(50);
    store.replace('a', '3');
    expect(store.pttl('a')).toBe(-1);
    store.setDeadline('a', store.now() + 50);
    store.flush();
    expect(store.size).toBe(0);
    expect(store.nextDeadline()).toBeNull();
  });
});

describe("the book's pexpire and pttl on a fake clock", () => {
  const specs = new Map(bookStringCommands.map((c) => [c.name, c]));
  function run(store: Keyspace, ...args: string[]): unknown {
    const out: unknown[] = [];
    const w = {
      nil: () => out.push(null),
      int: (n: number | bigint) => out.push(n),
      str: (s: string) => out.push(s),
      err: (code: number, msg: string) => out.push({ err: code, msg }),
    } as unknown as ReplyWriter;
    specs.get(args[0])!.run(args, w, { store, counters: { settings: { notifyKeyspaceEvents: 0 } } } as unknown as CommandContext);
    expect(out).toHaveLength(1);
    return out[0];
  }

  it('pexpire sets, negative ms removes, pttl reports, and the key goes at its deadline', () => {
    const { store, advance } = fakeClockKeyspace();
    expect(run(store, 'pexpire', 'k', '100')).toBe(0);
    run(store, 'set', 'k', 'v');
    expect(run(store, 'pexpire', 'k', '100')).toBe(1);
    expect(run(store, 'pttl', 'k')).toBe(100);
    expect(run(store, 'pexpire', 'k', '-1')).toBe(1);
    expect(run(store, 'pttl', 'k')).toBe(-1);
    expect(run(store, 'pexpire', 'k', '100')).toBe(1);
    expect(run(store, 'pexpire', 'k', 'soon')).toEqual({ err: 4, msg: 'expect int64' });
    advance(100);
    expect([...store.keys()]).toEqual([]);
    expect(run(store, 'get', 'k')).toBeNull();
    expect(run(store, 'pttl', 'k')).toBe(-2);
  });
});
