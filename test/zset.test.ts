// Model-based tests of the sorted set (src/store/zset.ts) and of the book's
// zadd/zrem/zscore/zquery commands, against a naive sorted array; and the
// pop core the RESP pops share (zpopApply).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bookZsetCommands } from '../src/commands/book/zset.js';
import { WRONG } from '../src/commands/common.js';
import { zpopApply, type ZPopShape } from '../src/commands/resp/zset.js';
import type { CommandContext } from '../src/commands/types.js';
import { Keyspace } from '../src/store/keyspace.js';
import { ZSet, type ZEntry } from '../src/store/zset.js';
import { Recorder, type Reply } from './helpers/recorder.js';

/** A command context with only what the pops' cores read: the keyspace, notifications off. */
const cx = (store: Keyspace) => ({ store, counters: { settings: { notifyKeyspaceEvents: 0 } } }) as unknown as CommandContext;

const commands = new Map(bookZsetCommands.map((c) => [c.name, c]));

function run(store: Keyspace, ...args: string[]): Reply {
  const spec = commands.get(args[0])!;
  expect(spec.arity > 0 ? args.length === spec.arity : args.length >= -spec.arity).toBe(true);
  const w = new Recorder();
  spec.run(args, w, { store, counters: { settings: { notifyKeyspaceEvents: 0 } } } as unknown as CommandContext);
  return w.reply();
}

// ---------- the naive model ----------

const before = (a: ZEntry, b: ZEntry): boolean => a.score < b.score || (a.score === b.score && a.name < b.name);

class Model {
  items: ZEntry[] = [];
  add(name: string, score: number): boolean {
    const i = this.items.findIndex((e) => e.name === name);
    if (i >= 0 && this.items[i].score === score) return false;
    if (i >= 0) this.items.splice(i, 1);
    this.items.push({ name, score });
    this.items.sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
    return i < 0;
  }
  remove(name: string): boolean {
    const i = this.items.findIndex((e) => e.name === name);
    if (i >= 0) this.items.splice(i, 1);
    return i >= 0;
  }
  seek(score: number, name: string): number {
    const i = this.items.findIndex((e) => !before(e, { score, name }));
    return i < 0 ? this.items.length : i;
  }
  /** The book's zquery, literally: seek, move, emit while fewer than limit elements. */
  zquery(score: number, name: string, offset: number, limit: number): Reply {
    const i = this.seek(score, name);
    if (i === this.items.length) return [];
    const out: Reply[] = [];
    for (let j = i + offset; j >= 0 && j < this.items.length && out.length < limit; j++) {
      out.push(this.items[j].name, { dbl: this.items[j].score });
    }
    return out;
  }
}

// ---------- generators ----------

// Few distinct names, including a prefix pair ("a" < "ab") and the byte extremes, so collisions,
// updates and bytewise ties are common.
const nameArb = fc.constantFrom('', 'a', 'ab', 'b', 'ba', '\x00', '\xff', 'a\xff', 'z');
const scoreArb = fc.oneof(
  fc.integer({ min: -4, max: 4 }),
  fc.constantFrom(Infinity, -Infinity, 0.5, -2.25, 1e300),
);
type Op = { add: true; name: string; score: number } | { add: false; name: string };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ add: fc.constant(true as const), name: nameArb, score: scoreArb }) },
  { weight: 1, arbitrary: fc.record({ add: fc.constant(false as const), name: nameArb }) },
);
const queryArb = fc.record({
  score: scoreArb,
  name: nameArb,
  offset: fc.integer({ min: -12, max: 12 }),
  limit: fc.integer({ min: -3, max: 25 }),
});

// ---------- structural invariants ----------

interface RawNode { left: RawNode | null; right: RawNode | null; parent: RawNode | null; height: number; count: number; }

/** Checks AVL balance, subtree counts and parent links; returns the height. */
function checkTree(n: RawNode | null, parent: RawNode | null): number {
  if (n === null) return 0;
  expect(n.parent).toBe(parent);
  const hl = checkTree(n.left, n);
  const hr = checkTree(n.right, n);
  expect(Math.abs(hl - hr)).toBeLessThanOrEqual(1);
  expect(n.height).toBe(1 + Math.max(hl, hr));
  expect(n.count).toBe(1 + (n.left?.count ?? 0) + (n.right?.count ?? 0));
  return n.height;
}

function checkAgainstModel(z: ZSet, m: Model): void {
  expect(z.size).toBe(m.items.length);
  checkTree((z as unknown as { root: RawNode | null }).root, null);
  expect([...z].map((e) => [e.name, e.score])).toEqual(m.items.map((e) => [e.name, e.score]));
  expect([...z.iterateReverse()].map((e) => e.name)).toEqual(m.items.map((e) => e.name).reverse());
  m.items.forEach((e, i) => {
    expect(z.rank(e.name)).toBe(i);
    expect(z.score(e.name)).toBe(e.score);
    expect(z.at(i)).toEqual(expect.objectContaining({ name: e.name, score: e.score }));
  });
  expect(z.at(-1)).toBeUndefined();
  expect(z.at(m.items.length)).toBeUndefined();
}

describe('ZSet against a sorted-array model', () => {
  it('add/remove keep order, ranks, scores and AVL invariants', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        const z = new ZSet();
        const m = new Model();
        for (const op of ops) {
          if (op.add) expect(z.add(op.name, op.score)).toBe(m.add(op.name, op.score));
          else expect(z.remove(op.name)).toBe(m.remove(op.name));
        }
        checkAgainstModel(z, m);
        expect(z.rank('not-a-member')).toBeUndefined();
        expect(z.score('not-a-member')).toBeUndefined();
      }),
      { numRuns: 300 },
    );
  });

  it('seek, firstRankByScore, range and offset agree with the model', () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { maxLength: 40 }),
        scoreArb,
        nameArb,
        fc.boolean(),
        fc.integer({ min: -2, max: 45 }),
        fc.integer({ min: -2, max: 45 }),
        (ops, score, name, exclusive, a, b) => {
          const z = new ZSet();
          const m = new Model();
          for (const op of ops) op.add ? (z.add(op.name, op.score), m.add(op.name, op.score)) : (z.remove(op.name), m.remove(op.name));
          const n = m.items.length;
          expect(z.seek(score, name)).toBe(m.seek(score, name));
          const byScore = m.items.findIndex((e) => (exclusive ? e.score > score : e.score >= score));
          expect(z.firstRankByScore(score, exclusive)).toBe(byScore < 0 ? n : byScore);
          const start = Math.max(0, Math.min(a, b));
          const stop = Math.min(n - 1, Math.max(a, b));
          const expected = stop >= start ? m.items.slice(start, stop + 1) : []; // (slice would read a negative end from the back)
          expect(z.range(start, stop).map((e) => e.name)).toEqual(expected.map((e) => e.name));
          const target = start + (b - a);
          expect(z.offset(start, b - a)).toBe(target >= 0 && target < n ? target : -1);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('firstRankByLex finds the first name ≥ / > a bound when all scores are equal', () => {
    fc.assert(
      fc.property(fc.uniqueArray(nameArb), nameArb, fc.boolean(), (names, bound, exclusive) => {
        const z = new ZSet();
        for (const n of names) z.add(n, 0);
        const sorted = [...names].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
        const i = sorted.findIndex((n) => (exclusive ? n > bound : n >= bound));
        expect(z.firstRankByLex(bound, exclusive)).toBe(i < 0 ? sorted.length : i);
      }),
      { numRuns: 200 },
    );
  });

  it('orders a prefix first and compares bytes, not locale', () => {
    const z = new ZSet();
    for (const n of ['b', 'ab', 'a', '\xff', 'B', '\x00']) z.add(n, 1);
    expect([...z].map((e) => e.name)).toEqual(['\x00', 'B', 'a', 'ab', 'b', '\xff']);
    z.add('lo', -Infinity);
    z.add('hi', Infinity);
    expect(z.at(0)?.name).toBe('lo');
    expect(z.at(z.size - 1)?.name).toBe('hi');
    expect(() => z.add('x', NaN)).toThrow(RangeError);
  });

  it('clone() is a consistent, independent copy; byInsertion() walks members in the order first added', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), fc.array(opArb, { maxLength: 20 }), (ops, later) => {
        const z = new ZSet();
        const m = new Model();
        for (const op of ops) {
          if (op.add) z.add(op.name, op.score), m.add(op.name, op.score);
          else z.remove(op.name), m.remove(op.name);
        }
        const copy = z.clone();
        const snapshot = new Model();
        snapshot.items = m.items.slice();
        checkAgainstModel(copy, snapshot);
        expect(new Set([...copy.byInsertion()].map((e) => e.name))).toEqual(new Set(m.items.map((e) => e.name)));
        // Changing either one leaves the other as it was.
        for (const op of later) {
          if (op.add) copy.add(op.name, op.score), snapshot.add(op.name, op.score);
          else copy.remove(op.name), snapshot.remove(op.name);
        }
        checkAgainstModel(copy, snapshot);
        checkAgainstModel(z, m);
      }),
      { numRuns: 200 },
    );
    const z = new ZSet();
    for (const [name, score] of [['b', 5], ['a', 1], ['c', 3]] as const) z.add(name, score);
    z.add('a', 9); // a score update keeps the member's place
    z.remove('b');
    z.add('b', 0); // removed and added again: now last
    expect([...z.byInsertion()].map((e) => [e.name, e.score])).toEqual([['a', 9], ['c', 3], ['b', 0]]);
  });

  it('an entry handed out is a snapshot: a later score update does not change it', () => {
    const z = new ZSet();
    z.add('m', 1);
    const e = z.at(0)!;
    expect(z.add('m', 7)).toBe(false);
    expect(e.score).toBe(1);
    expect(z.score('m')).toBe(7);
  });

  it('stays balanced and consistent at 20 000 members (sequential inserts, then removals)', () => {
    const z = new ZSet();
    const n = 20_000;
    for (let i = 0; i < n; i++) z.add(`m${i}`, i);
    expect(z.height).toBe((z as unknown as { root: RawNode }).root.height);
    expect(z.height).toBeLessThanOrEqual(Math.ceil(1.45 * Math.log2(n + 2)));
    for (let i = 0; i < n; i += 2) z.remove(`m${i}`);
    expect(z.size).toBe(n / 2);
    expect(z.at(0)?.name).toBe('m1');
    expect(z.rank('m19999')).toBe(n / 2 - 1);
    expect(z.seek(10_000, '')).toBe(5_000);
    checkTree((z as unknown as { root: RawNode }).root, null);
  });
});

// ---------- the book's commands ----------

describe("the book's zset commands", () => {
  it('zquery agrees with the model for random sets and queries (negative offsets, limit ≤ 0 included)', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 40 }), fc.array(queryArb, { minLength: 1, maxLength: 8 }), (ops, queries) => {
        const store = new Keyspace(() => 0);
        const m = new Model();
        for (const op of ops) {
          if (op.add) expect(run(store, 'zadd', 'z', String(op.score), op.name)).toBe(m.add(op.name, op.score) ? 1 : 0);
          else expect(run(store, 'zrem', 'z', op.name)).toBe(m.remove(op.name) ? 1 : 0);
        }
        expect(store.has('z')).toBe(m.items.length > 0); // an emptied zset is deleted
        for (const q of queries) {
          const got = run(store, 'zquery', 'z', String(q.score), q.name, String(q.offset), String(q.limit));
          expect(got).toEqual(m.zquery(q.score, q.name, q.offset, q.limit));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('zquery emits pairs while the array has fewer than limit elements', () => {
    const store = new Keyspace(() => 0);
    for (const [s, n] of [[1, 'a'], [2, 'b'], [3, 'c']] as const) run(store, 'zadd', 'z', String(s), n);
    expect(run(store, 'zquery', 'z', '1', '', '0', '1')).toEqual(['a', { dbl: 1 }]);
    expect(run(store, 'zquery', 'z', '1', '', '0', '2')).toEqual(['a', { dbl: 1 }]);
    expect(run(store, 'zquery', 'z', '1', '', '0', '3')).toEqual(['a', { dbl: 1 }, 'b', { dbl: 2 }]);
    expect(run(store, 'zquery', 'z', '1', '', '0', '0')).toEqual([]);
    expect(run(store, 'zquery', 'z', '1', '', '0', '-5')).toEqual([]);
    expect(run(store, 'zquery', 'z', '2', 'b', '-1', '10')).toEqual(['a', { dbl: 1 }, 'b', { dbl: 2 }, 'c', { dbl: 3 }]);
    expect(run(store, 'zquery', 'z', '2', 'b', '-2', '10')).toEqual([]);
    expect(run(store, 'zquery', 'z', '2', 'b', '2', '10')).toEqual([]);
    expect(run(store, 'zquery', 'z', '3', 'c\x00', '-1', '10')).toEqual([]); // nothing ≥ (3, "c\0"): empty even with an offset back
    expect(run(store, 'zquery', 'z', '2', 'b', '9223372036854775807', '10')).toEqual([]);
    expect(run(store, 'zquery', 'z', '-inf', '', '0', '9223372036854775807')).toHaveLength(6);
    expect(run(store, 'zquery', 'missing', '1', '', '0', '10')).toEqual([]);
  });

  it('zadd, zscore and zrem reply as the book specifies', () => {
    const store = new Keyspace(() => 0);
    expect(run(store, 'zadd', 'z', '1.5', 'n')).toBe(1);
    expect(run(store, 'zadd', 'z', '2.5', 'n')).toBe(0);
    expect(run(store, 'zadd', 'z', '2.5', 'n')).toBe(0);
    expect(run(store, 'zscore', 'z', 'n')).toEqual({ dbl: 2.5 });
    expect(run(store, 'zscore', 'z', 'x')).toBeNull();
    expect(run(store, 'zscore', 'nokey', 'x')).toBeNull();
    expect(run(store, 'zadd', 'z', '-inf', 'lo')).toBe(1);
    expect(run(store, 'zscore', 'z', 'lo')).toEqual({ dbl: -Infinity });
    expect(run(store, 'zrem', 'z', 'x')).toBe(0);
    expect(run(store, 'zrem', 'nokey', 'x')).toBe(0);
    expect(run(store, 'zrem', 'z', 'n')).toBe(1);
    expect(run(store, 'zrem', 'z', 'lo')).toBe(1);
    expect(store.has('z')).toBe(false);
  });

  it('bad numbers are err 4 with the book wording; another type is err 3', () => {
    const store = new Keyspace(() => 0);
    store.put('s', 'a string');
    expect(run(store, 'zadd', 'z', 'nan', 'n')).toEqual({ err: 4, msg: 'expect float' });
    expect(run(store, 'zadd', 'z', '1x', 'n')).toEqual({ err: 4, msg: 'expect float' });
    expect(store.has('z')).toBe(false);
    expect(run(store, 'zquery', 'z', 'x', 'n', '0', '1')).toEqual({ err: 4, msg: 'expect fp number' });
    expect(run(store, 'zquery', 'z', '1', 'n', '0.5', '1')).toEqual({ err: 4, msg: 'expect int' });
    expect(run(store, 'zquery', 'z', '1', 'n', '0', 'ten')).toEqual({ err: 4, msg: 'expect int' });
    const wrongType = { err: 3, msg: 'WRONGTYPE Operation against a key holding the wrong kind of value' };
    expect(run(store, 'zadd', 's', '1', 'n')).toEqual(wrongType);
    expect(run(store, 'zrem', 's', 'n')).toEqual(wrongType);
    expect(run(store, 'zscore', 's', 'n')).toEqual(wrongType);
    expect(run(store, 'zquery', 's', '1', 'n', '0', '1')).toEqual(wrongType);
    expect(store.get('s')).toBe('a string');
  });
});

describe('zpopApply (ZPOPMIN/ZPOPMAX, ZMPOP and the blocking pops)', () => {
  it('pops from the first key that exists, in each reply shape', () => {
    const s = new Keyspace(() => 0);
    const z = new ZSet();
    for (const [n, sc] of [['a', 1], ['b', 2], ['c', 3], ['d', 4]] as const) z.add(n, sc);
    s.put('z', z);
    const pop = (keys: string[], end: 'min' | 'max', count: number, shape: ZPopShape) => {
      const w = new Recorder();
      const r = zpopApply(cx(s), keys, end, count, shape, w);
      return [r, w.calls.length === 0 ? 'nothing written' : w.reply()];
    };
    expect(pop(['nokey'], 'min', 1, 'flat')).toEqual([null, 'nothing written']);
    expect(pop(['nokey', 'z'], 'min', 1, 'flat')).toEqual(['z', ['a', { dbl: 1 }]]);
    expect(pop(['z'], 'max', 1, 'keyed')).toEqual(['z', ['z', 'd', { dbl: 4 }]]);
    expect(pop(['z'], 'max', 0, 'nested')).toEqual(['z', []]);
    expect(pop(['z'], 'max', 5, 'nested')).toEqual(['z', ['z', [['c', { dbl: 3 }], ['b', { dbl: 2 }]]]]);
    expect(s.has('z')).toBe(false);
    s.put('str', 'v');
    s.put('z2', new ZSet());
    (s.get('z2') as ZSet).add('m', 1);
    expect(pop(['str', 'z2'], 'min', 1, 'nested')).toEqual([WRONG, { err: 3, msg: 'WRONGTYPE Operation against a key holding the wrong kind of value' }]);
    expect((s.get('z2') as ZSet).size).toBe(1);
  });
});
