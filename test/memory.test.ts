// Memory accounting and eviction without sockets: the keyspace's byte estimate
// follows every write (put, replace, delete, expire, in-place changes settled
// after a write command); access metadata as Redis's robj.lru (24-bit LRU
// clock, LFU counter with log factor and decay); the memory manager's
// policies on a ServerState, each evicted key reported as 'evict'.

import { describe, expect, test } from 'vitest';
import { Keyspace, List } from '../src/store/keyspace.js';
import { KEY_OVERHEAD, TTL_ENTRY_BYTES, keyBytes, stringBytes } from '../src/store/memsize.js';
import { DEFAULT_SETTINGS, ServerState } from '../src/servers/state.js';
import { dispatch } from '../src/commands/dispatch.js';
import { respTable } from '../src/commands/resp/index.js';
import { Recorder } from './helpers/recorder.js';
import { objectFreq, objectIdleTime, objectFreqError, objectIdleTimeError, OBJECT_FREQ_NOT_LFU_ERROR, OBJECT_IDLETIME_LFU_ERROR } from '../src/commands/resp/memory.js';
import { evictionTimeLimitUs } from '../src/servers/memory.js';

describe('the byte estimate', () => {
  test('put, overwrite, TTL, delete and flush keep it exact for strings', () => {
    const ks = new Keyspace(() => 0);
    expect(ks.datasetBytes()).toBe(0);
    ks.put('key', 'v'.repeat(100));
    const one = KEY_OVERHEAD + stringBytes('key') + stringBytes('v'.repeat(100));
    expect(ks.datasetBytes()).toBe(one);
    ks.replace('key', 'w');
    expect(ks.datasetBytes()).toBe(KEY_OVERHEAD + stringBytes('key') + stringBytes('w'));
    ks.setDeadline('key', 1000);
    expect(ks.datasetBytes()).toBe(KEY_OVERHEAD + stringBytes('key') + stringBytes('w') + TTL_ENTRY_BYTES);
    ks.delete('key');
    expect(ks.datasetBytes()).toBe(0);
    for (let i = 0; i < 100; i++) ks.put(`k${i}`, 'x');
    expect(ks.datasetBytes()).toBeGreaterThan(100 * KEY_OVERHEAD);
    ks.flush();
    expect(ks.datasetBytes()).toBe(0);
  });

  test('expiry takes a key out of the estimate', () => {
    let now = 0;
    const ks = new Keyspace(() => now);
    ks.put('a', 'x');
    ks.setDeadline('a', 10);
    now = 20;
    expect(ks.get('a')).toBeUndefined();
    expect(ks.datasetBytes()).toBe(0);
  });

  test('a collection changed in place by write commands is measured again after each', () => {
    const state = new ServerState({ ...DEFAULT_SETTINGS, respPort: null }, () => {});
    const client = state.newClient(0, () => 'test:0');
    const ctx = { store: state.store, client, server: state.context, hooks: state.context.hooks, persistence: state.context.persistence, counters: state.context.counters };
    const run = (...args: string[]) => dispatch(respTable, args, new Recorder(), ctx);
    run('RPUSH', 'l', 'a');
    const small = state.store.datasetBytes();
    for (let i = 0; i < 100; i++) run('RPUSH', 'l', 'x'.repeat(100));
    const big = state.store.datasetBytes();
    expect(big - small).toBeGreaterThan(100 * 100);
    for (let i = 0; i < 100; i++) run('RPOP', 'l');
    expect(state.store.datasetBytes()).toBe(small);
    run('HSET', 'h', 'f', 'v'.repeat(1000));
    expect(state.store.datasetBytes()).toBeGreaterThan(small + 1000);
    run('DEL', 'h', 'l');
    expect(state.store.datasetBytes()).toBe(0);
    // SETRANGE grows a string in place (Bytes): counted too.
    run('SETRANGE', 's', '100000', 'x');
    expect(state.store.datasetBytes()).toBeGreaterThan(100000);
    run('DEL', 's');
    expect(state.store.datasetBytes()).toBe(0);
  });

  test('RENAME, COPY and overwrites of collections move their bytes, never count them twice', () => {
    const state = new ServerState({ ...DEFAULT_SETTINGS, respPort: null }, () => {});
    const client = state.newClient(0, () => 'test:0');
    const ctx = { store: state.store, client, server: state.context, hooks: state.context.hooks, persistence: state.context.persistence, counters: state.context.counters };
    const run = (...args: string[]) => dispatch(respTable, args, new Recorder(), ctx);
    run('RPUSH', 'l1', 'a', 'b', 'c');
    const one = state.store.datasetBytes();
    run('RENAME', 'l1', 'l2');
    expect(state.store.datasetBytes()).toBe(one);
    run('COPY', 'l2', 'l3');
    expect(state.store.datasetBytes()).toBe(2 * one);
    run('SET', 'l3', 'x'); // a collection overwritten by a string
    run('DEL', 'l3');
    expect(state.store.datasetBytes()).toBe(one);
    run('SADD', 'st', 'm');
    run('RPUSH', 'l4', 'a', 'b', 'c');
    run('COPY', 'st', 'l4', 'REPLACE'); // a collection overwritten by another
    run('DEL', 'st', 'l4', 'l2');
    expect(state.store.datasetBytes()).toBe(0);
  });

  test('databases: used_memory sums them; SWAPDB and MOVE carry the bytes with the keys', () => {
    const state = new ServerState({ ...DEFAULT_SETTINGS, respPort: null }, () => {});
    const client = state.newClient(0, () => 'test:0');
    const ctx = { store: state.store, client, server: state.context, hooks: state.context.hooks, persistence: state.context.persistence, counters: state.context.counters };
    const run = (...args: string[]) => dispatch(respTable, args, new Recorder(), ctx);
    const [db0, db1] = state.databases;
    run('RPUSH', 'l', 'a');
    const list = db0.datasetBytes();
    run('SELECT', '1');
    run('SET', 's', 'x'.repeat(1000));
    const str = db1.datasetBytes();
    expect(state.memory.datasetBytes()).toBe(list + str);
    run('SWAPDB', '0', '1');
    expect([db0.datasetBytes(), db1.datasetBytes()]).toEqual([str, list]);
    // This client is on database 1, which now holds the list: its in-place growth is counted there.
    for (let i = 0; i < 100; i++) run('RPUSH', 'l', 'x'.repeat(100));
    expect(db1.datasetBytes()).toBeGreaterThan(list + 100 * 100);
    expect(db0.datasetBytes()).toBe(str);
    const grown = db1.datasetBytes();
    run('MOVE', 'l', '0');
    expect(db1.datasetBytes()).toBe(0);
    expect(db0.datasetBytes()).toBe(str + grown);
    run('SELECT', '0');
    run('DEL', 'l', 's');
    expect(state.memory.datasetBytes()).toBe(0);
  });

  test('keyBytes samples collections: SAMPLES 0 reads every element', () => {
    const l = new List();
    l.pushBack('a');
    for (let i = 0; i < 100; i++) l.pushBack('x'.repeat(1000));
    expect(keyBytes('k', l, 0)).toBeGreaterThan(keyBytes('k', l, 1) * 10);
  });
});

describe('the key table', () => {
  test('after mass deletions (slots compacted) every key is still found, sampled and listed, with its metadata', () => {
    const ks = new Keyspace(() => 0);
    ks.setClock(5000);
    for (let i = 0; i < 20_000; i++) ks.put(`k${i}`, `v${i}`);
    ks.setClock(9000);
    const kept = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      if (i % 1000 === 7) {
        kept.add(`k${i}`);
        ks.get(`k${i}`); // stamped at 9 s
      } else ks.delete(`k${i}`);
    }
    expect(ks.size).toBe(kept.size);
    expect(new Set(ks.keys())).toEqual(kept);
    for (const k of kept) expect(ks.peek(k)).toBe(`v${k.slice(1)}`);
    for (let i = 0; i < 50; i++) expect(kept.has(ks.randomKey()!)).toBe(true);
    const keys: string[] = [];
    const meta: number[] = [];
    const got = ks.sample(5, keys, meta);
    expect(got).toBeGreaterThan(0);
    for (let i = 0; i < got; i++) {
      expect(kept.has(keys[i])).toBe(true);
      expect(meta[i]).toBe(9); // the LRU clock of its last lookup survived the move
    }
    for (let i = 0; i < 100; i++) ks.put(`n${i}`, 'x'); // freed slots are reused after compaction
    expect(ks.size).toBe(kept.size + 100);
  });
});

describe('access metadata (Redis robj.lru)', () => {
  test('LRU: a lookup stamps the clock; peek, EXISTS-style has() and metaOf do not', () => {
    const ks = new Keyspace(() => 0);
    ks.setClock(1000_000); // 1000 s
    ks.put('k', 'v');
    ks.setClock(1010_000);
    expect(objectIdleTime(ks, 'k')).toBe(10);
    ks.peek('k');
    ks.has('k');
    expect(objectIdleTime(ks, 'k')).toBe(10);
    ks.get('k');
    expect(objectIdleTime(ks, 'k')).toBe(0);
    expect(objectIdleTime(ks, 'missing')).toBeUndefined();
    expect(objectIdleTimeError(ks)).toBeNull();
    expect(objectFreqError(ks)).toBe(OBJECT_FREQ_NOT_LFU_ERROR);
  });

  test('LRU: the 24-bit clock wraps as Redis estimates it', () => {
    const ks = new Keyspace(() => 0);
    const wrap = 2 ** 24;
    ks.setClock((wrap - 5) * 1000);
    ks.put('k', 'v');
    ks.setClock((wrap + 5) * 1000); // the clock is now 5
    expect(objectIdleTime(ks, 'k')).toBe(9); // Redis's estimate: clock + (LRU_CLOCK_MAX - lru)
  });

  test('LFU: new keys start at 5; lookups increment logarithmically; idle minutes decay it', () => {
    const ks = new Keyspace(() => 0);
    ks.access.lfu = true;
    ks.access.lfuLogFactor = 0; // p = 1 at every step: deterministic
    ks.setClock(0);
    ks.put('k', 'v');
    expect(objectFreq(ks, 'k')).toBe(5);
    expect(objectIdleTimeError(ks)).toBe(OBJECT_IDLETIME_LFU_ERROR);
    for (let i = 0; i < 20; i++) ks.get('k');
    expect(objectFreq(ks, 'k')).toBe(25);
    for (let i = 0; i < 1000; i++) ks.get('k');
    expect(objectFreq(ks, 'k')).toBe(255); // saturates
    ks.access.lfuDecayTime = 2;
    ks.setClock(10 * 60_000); // 10 minutes: 5 periods of 2
    expect(objectFreq(ks, 'k')).toBe(250);
    // With the default factor 10 the counter grows slowly: 1000 hits stay far below 255.
    ks.access.lfuLogFactor = 10;
    ks.put('j', 'v');
    for (let i = 0; i < 1000; i++) ks.get('j');
    const f = objectFreq(ks, 'j')!;
    expect(f).toBeGreaterThan(10);
    expect(f).toBeLessThan(60);
  });

  test('LFU: an overwrite keeps the counter (Redis dbSetValue)', () => {
    const ks = new Keyspace(() => 0);
    ks.access.lfu = true;
    ks.access.lfuLogFactor = 0;
    ks.put('k', 'v');
    for (let i = 0; i < 10; i++) ks.get('k');
    ks.replace('k', 'w');
    expect(objectFreq(ks, 'k')).toBe(15);
  });
});

describe('eviction (memory manager on a ServerState)', () => {
  function server(policy: string, maxmemory: number) {
    // Tenacity 100: one run evicts all it must (no timer to carry on without a loop).
    const state = new ServerState({ ...DEFAULT_SETTINGS, respPort: null, maxmemory, maxmemoryPolicy: policy, maxmemoryEvictionTenacity: 100 }, () => {});
    const events: [string | null, string][] = [];
    state.context.addKeyListener((key, why) => events.push([key, why]));
    return { state, events, store: state.store };
  }

  test("every evicted key is reported as 'evict' and counted; used memory ends under maxmemory", () => {
    const { state, events, store } = server('allkeys-random', 1 << 20);
    for (let i = 0; i < 20_000; i++) store.put(`key:${i}`, 'x'.repeat(100));
    events.length = 0;
    expect(state.memory.performEvictions()).toBe('ok');
    const evicted = events.filter(([, why]) => why === 'evict');
    expect(evicted.length).toBe(events.length);
    expect(evicted.length).toBe(store.evictedCount);
    expect(evicted.length).toBe(20_000 - store.size);
    expect(state.memory.used()).toBeLessThanOrEqual(1 << 20);
    for (const [key] of evicted) expect(store.has(key!)).toBe(false);
  });

  test('volatile-*: only keys with a TTL go; when none is left it fails', () => {
    for (const policy of ['volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl']) {
      const { state, store } = server(policy, 1 << 20);
      for (let i = 0; i < 2000; i++) store.put(`keep:${i}`, 'x'.repeat(100));
      for (let i = 0; i < 20_000; i++) {
        store.put(`ttl:${i}`, 'x'.repeat(100));
        store.setDeadline(`ttl:${i}`, 1e12 + i);
      }
      expect(state.memory.performEvictions(), policy).toBe('ok');
      for (let i = 0; i < 2000; i++) expect(store.has(`keep:${i}`), policy).toBe(true);
      expect(store.evictedCount, policy).toBeGreaterThan(0);
      // Over the limit again with persistent keys only: nothing to evict.
      for (let i = 0; i < 20_000; i++) store.put(`more:${i}`, 'x'.repeat(100));
      expect(state.memory.performEvictions(), policy).toBe('fail');
      expect(store.volatileCount, policy).toBe(0);
    }
  });

  test('volatile-ttl evicts the nearest deadlines first', () => {
    const { state, store } = server('volatile-ttl', 1 << 20);
    const order = Array.from({ length: 20_000 }, (_, i) => i).sort(() => Math.random() - 0.5);
    for (const i of order) {
      store.put(`ttl:${i}`, 'x'.repeat(100));
      store.setDeadline(`ttl:${i}`, 1e12 + i);
    }
    state.memory.performEvictions();
    const gone = store.evictedCount;
    for (let i = 0; i < 20_000; i++) expect(store.has(`ttl:${i}`)).toBe(i >= gone);
  });

  test('allkeys-lru prefers the least recently used: old keys go before recently read ones', () => {
    const { state, store } = server('allkeys-lru', 1 << 20);
    store.setClock(0);
    for (let i = 0; i < 10_000; i++) store.put(`old:${i}`, 'x'.repeat(100));
    store.setClock(100_000);
    for (let i = 0; i < 10_000; i += 10) store.get(`old:${i}`); // a tenth read recently
    state.memory.performEvictions();
    let readKept = 0;
    let otherKept = 0;
    for (let i = 0; i < 10_000; i++) if (store.has(`old:${i}`)) i % 10 === 0 ? readKept++ : otherKept++;
    expect(readKept / 1000).toBeGreaterThan(0.95);
    expect(otherKept / 9000).toBeLessThan(0.5);
  });

  test('allkeys-lru samples every database with one clock: the idle keys of database 1 go before the recently read ones of database 0', () => {
    const { state, store } = server('allkeys-lru', 1 << 20);
    const other = state.databases[1];
    store.setClock(0);
    for (let i = 0; i < 5000; i++) other.put(`cold:${i}`, 'x'.repeat(100));
    for (let i = 0; i < 5000; i++) store.put(`hot:${i}`, 'x'.repeat(100));
    // Setting the clock through database 0 moves it for database 1 too (one clock per server).
    store.setClock(100_000);
    expect(other.currentLruClock).toBe(100);
    for (let i = 0; i < 5000; i++) store.get(`hot:${i}`);
    state.memory.performEvictions();
    expect(other.evictedCount).toBeGreaterThan(0);
    let hotKept = 0;
    for (let i = 0; i < 5000; i++) if (store.has(`hot:${i}`)) hotKept++;
    expect(hotKept / 5000).toBeGreaterThan(0.95);
    expect(state.memory.used()).toBeLessThanOrEqual(1 << 20);
  });

  test('allkeys-lfu keeps the frequently read keys', () => {
    const { state, store } = server('allkeys-lfu', 1 << 20);
    for (let i = 0; i < 10_000; i++) store.put(`k:${i}`, 'x'.repeat(100));
    for (let r = 0; r < 50; r++) for (let i = 0; i < 10_000; i += 10) store.get(`k:${i}`);
    state.memory.performEvictions();
    let hotKept = 0;
    for (let i = 0; i < 10_000; i += 10) if (store.has(`k:${i}`)) hotKept++;
    expect(hotKept / 1000).toBeGreaterThan(0.95);
    expect(store.size).toBeLessThan(6000);
  });

  test('noeviction fails without evicting; CONFIG SET maxmemory-policy switches at run time', () => {
    const { state, store } = server('noeviction', 1 << 20);
    for (let i = 0; i < 20_000; i++) store.put(`k:${i}`, 'x'.repeat(100));
    expect(state.memory.performEvictions()).toBe('fail');
    expect(store.size).toBe(20_000);
    expect(state.configStore.set([['maxmemory-policy', 'allkeys-lfu']])).toBeNull();
    expect(store.access.lfu).toBe(true);
    expect(state.memory.performEvictions()).toBe('ok');
    expect(store.size).toBeLessThan(20_000);
  });

  test('tenacity: the time limit of one run, as Redis computes it', () => {
    expect(evictionTimeLimitUs(0)).toBe(0);
    expect(evictionTimeLimitUs(10)).toBe(500);
    expect(evictionTimeLimitUs(20)).toBeCloseTo(500 * 1.15 ** 10);
    expect(evictionTimeLimitUs(100)).toBe(Infinity);
  });
});
