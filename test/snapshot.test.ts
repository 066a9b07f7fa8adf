// The fork-less snapshot (src/persist/snapshot.ts) in memory: whatever writes
// happen while it walks, the file it produces holds exactly the keyspace as
// it was when it started — checked against a model of that moment, with
// writes of every kind (overwrite, delete, in-place change, new keys, TTL
// changes, expiry, eviction, flush) interleaved with steps of the walk.

import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { loadRdb } from '../src/persist/rdb.js';
import { Snapshot } from '../src/persist/snapshot.js';
import { Keyspace, List, type Stored } from '../src/store/keyspace.js';

const OPTS = { compression: true, checksum: false, redisVersion: '7.0.0', unixNowMs: 1e12, unixOffsetMs: 1e12, usedMem: 0 };
const LOAD = { checksum: false, unixNowMs: 1e12, unixOffsetMs: 1e12 };

/** A sink that keeps the chunks; backlog is what the test has not "consumed" yet. */
class MemSink {
  chunks: Uint8Array[] = [];
  held = 0;
  chunk(b: Uint8Array): void {
    this.chunks.push(b.slice()); // a view of the snapshot's buffer: valid during the call only
    this.held += b.length;
  }
  backlog(): number {
    return this.held;
  }
  file(): Uint8Array {
    return Buffer.concat([...this.chunks, new Uint8Array(8)]);
  }
}

/** The keyspace's content as comparable data: key → [type-tagged value, deadline]. */
function contents(ks: Keyspace): Map<string, unknown> {
  const m = new Map<string, unknown>();
  for (const k of ks.keys()) {
    const v = ks.getRaw(k) as Stored;
    const shown = typeof v === 'string' ? v : v instanceof List ? ['list', ...v.toArray()] : v instanceof Map ? ['hash', ...[...v].sort()] : ['other'];
    m.set(k, [shown, ks.deadline(k) ?? null]);
  }
  return m;
}

function loadBack(sink: MemSink, now: number): Keyspace {
  const back = new Keyspace(() => now);
  loadRdb(sink.file(), back, LOAD);
  return back;
}

function runToEnd(snap: Snapshot, sink: MemSink): void {
  for (let i = 0; i < 1e6; i++) {
    const r = snap.step(0.05);
    if (r === 'done') return;
    if (r === 'failed') throw new Error(snap.error!);
    if (r === 'waiting') sink.held = 0;
  }
  throw new Error('snapshot did not finish');
}

describe('snapshot', () => {
  test('writes of every kind during the walk leave the file at the point in time', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 299 }), fc.integer({ min: 0, max: 3 })), { maxLength: 400 }),
        (ops) => {
          let now = 1000;
          const ks = new Keyspace(() => now);
          for (let i = 0; i < 200; i++) ks.put(`k:${i}`, `v${i}`);
          for (let i = 200; i < 230; i++) {
            const l = new List();
            l.pushBack(`a${i}`);
            l.pushBack(`b${i}`);
            ks.put(`k:${i}`, l);
          }
          for (let i = 0; i < 200; i += 7) ks.setDeadline(`k:${i}`, 5000 + i);
          const atStart = contents(ks);
          const sink = new MemSink();
          const snap = new Snapshot([ks], OPTS, sink, 1 << 30);
          for (const [op, n, steps] of ops) {
            const key = `k:${n}`;
            switch (op) {
              case 0: ks.replace(key, `new${n}`); break;
              case 1: ks.delete(key); break;
              case 2: {
                // An in-place change, as LPUSH does: dispatch calls beforeWrite first.
                snap.preserveArgs(ks, ['lpush', key, 'x']);
                const v = ks.getRaw(key);
                if (v instanceof List) v.pushFront('x');
                break;
              }
              case 3: if (ks.has(key)) ks.setDeadline(key, now + 10); break;
              case 4: ks.clearDeadline(key); break;
              case 5: now += 3000; ks.expireSome(1000); break;
              case 6: if (n === 0) ks.flush(); break;
              case 7: ks.evict(key); break;
            }
            for (let s = 0; s < steps; s++) snap.step(0);
          }
          runToEnd(snap, sink);
          expect(ks.beforeChange).toBeNull();
          expect(contents(loadBack(sink, 1000))).toEqual(atStart);
        },
      ),
      { numRuns: 60 },
    );
  });

  test('a key preserved by a write is counted, and the walk waits while the sink is behind', () => {
    const ks = new Keyspace(() => 0);
    for (let i = 0; i < 5000; i++) ks.put(`key:${i}`, 'x'.repeat(100) + i);
    const sink = new MemSink();
    const snap = new Snapshot([ks], { ...OPTS, compression: false }, sink, 64 * 1024);
    ks.replace('key:4999', 'changed');
    expect(snap.stats.preservedKeys).toBe(1);
    expect(snap.stats.preservedBytes).toBeGreaterThan(100);
    let waited = 0;
    for (;;) {
      const r = snap.step(1000);
      if (r === 'done') break;
      expect(r).toBe('waiting');
      waited++;
      sink.held = 0;
    }
    expect(waited).toBeGreaterThan(0);
    const back = loadBack(sink, 0);
    expect(back.size).toBe(5000);
    expect(back.get('key:4999')).toBe('x'.repeat(100) + 4999);
  });

  test("mass deletions and evictions during the walk (the key table's shards compact under it): the file is the point in time", () => {
    const ks = new Keyspace(() => 0);
    for (let i = 0; i < 40_000; i++) ks.put(`key:${i}`, `v${i}`);
    const atStart = contents(ks);
    const sink = new MemSink();
    const snap = new Snapshot([ks], OPTS, sink, 1 << 30);
    for (let s = 0; s < 20; s++) snap.step(0);
    // Nine keys in ten go, enough for most shards to move their live slots to the front.
    for (let i = 0; i < 40_000; i++) {
      if (i % 10 === 0) continue;
      if (i % 2 === 0) ks.delete(`key:${i}`);
      else ks.evict(`key:${i}`);
    }
    for (let i = 0; i < 1000; i++) ks.put(`new:${i}`, 'n'); // reuses freed slots; not in the file
    runToEnd(snap, sink);
    expect(ks.size).toBe(4000 + 1000);
    expect(contents(loadBack(sink, 0))).toEqual(atStart);
  });
});

describe('snapshot across databases', () => {
  test('SWAPDB during the walk: each database in the file is its content at the start, whatever is written after the swap', () => {
    let now = 1000;
    const a = new Keyspace(() => now, 0);
    const b = new Keyspace(() => now, 1);
    for (let i = 0; i < 2000; i++) {
      a.put(`a${i}`, `A${i}`);
      b.put(`b${i}`, `B${i}`);
    }
    const wantA = contents(a);
    const wantB = contents(b);
    const sink = new MemSink();
    const snap = new Snapshot([a, b], OPTS, sink);
    snap.step(0.001); // a little of the walk
    a.swapContents(b); // SWAPDB 0 1: db 0 now holds the b keys
    // Writes through either database, to keys of both origins, some walked, some not.
    for (let i = 0; i < 2000; i += 3) {
      snap.preserveArgs(a, ['set', `b${i}`]);
      a.replace(`b${i}`, "changed");
      snap.preserveArgs(b, ['del', `a${i}`]);
      b.delete(`a${i}`);
    }
    runToEnd(snap, sink);
    const dbs = [new Keyspace(() => now, 0), new Keyspace(() => now, 1)];
    loadRdb(sink.file(), dbs, LOAD);
    expect(contents(dbs[0])).toEqual(wantA);
    expect(contents(dbs[1])).toEqual(wantB);
    now++;
  });
});
