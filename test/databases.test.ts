// The keyspace's side of multiple databases: a Keyspace's id, SWAPDB's
// swapContents (tables and TTL heaps move, ids stay, expiry keeps working on
// both sides), holds() (present even when expired, without expiring), avgTtl
// (exact, then sampled), and the server's active expiry over every database.

import { describe, expect, test } from 'vitest';
import { Keyspace } from '../src/store/keyspace.js';
import { DEFAULT_SETTINGS, ServerState } from '../src/servers/state.js';
import { BookClient, startServer } from './helpers/server.js';
import { RawClient } from './compat/harness.js';

describe('Keyspace and databases', () => {
  test('swapContents exchanges keys, values and TTLs; ids stay; each side expires on its own afterwards', () => {
    let now = 1000;
    const a = new Keyspace(() => now, 0);
    const b = new Keyspace(() => now, 1);
    a.put('x', 'in a');
    a.setDeadline('x', 1500);
    b.put('y', 'in b');
    b.put('z', 'in b too');
    b.setDeadline('z', 2000);
    a.swapContents(b);
    expect([a.id, b.id]).toEqual([0, 1]);
    expect([...a.keys()].sort()).toEqual(['y', 'z']);
    expect([...b.keys()]).toEqual(['x']);
    expect(a.deadline('z')).toBe(2000);
    expect(b.deadline('x')).toBe(1500);
    expect([a.volatileCount, b.volatileCount]).toEqual([1, 1]);
    now = 1600;
    expect(b.expireSome(10)).toBe(1);
    expect(a.expireSome(10)).toBe(0);
    expect(b.size).toBe(0);
    now = 2100;
    expect(a.nextDeadline()).toBe(2000);
    expect(a.expireSome(10)).toBe(1);
    expect([...a.keys()]).toEqual(['y']);
  });

  test('holds() sees an expired key that is still in the table, and does not expire it', () => {
    let now = 0;
    const ks = new Keyspace(() => now);
    ks.put('k', 'v');
    ks.setDeadline('k', 10);
    now = 20;
    expect(ks.holds('k')).toBe(true);
    expect(ks.size).toBe(1);
    expect(ks.has('k')).toBe(false);
    expect(ks.holds('k')).toBe(false);
  });

  test('avgTtl: the mean remaining TTL, 0 without TTLs; sampled beyond 10,000 keys', () => {
    const now = 0;
    const ks = new Keyspace(() => now);
    expect(ks.avgTtl()).toBe(0);
    ks.put('p', 'v');
    expect(ks.avgTtl()).toBe(0);
    ks.put('a', 'v');
    ks.setDeadline('a', 1000);
    ks.put('b', 'v');
    ks.setDeadline('b', 3000);
    expect(ks.avgTtl()).toBe(2000);
    const big = new Keyspace(() => now);
    // 50,000 keys with TTLs 1..50,000 s: mean 25,000.5 s; a 10,000-key sample lands within 3%.
    for (let i = 1; i <= 50_000; i++) {
      big.put(`k${i}`, 'v');
      big.setDeadline(`k${i}`, i * 1000);
    }
    const avg = big.avgTtl();
    expect(avg).toBeGreaterThan(25_000_500 * 0.97);
    expect(avg).toBeLessThan(25_000_500 * 1.03);
  });

  test('a server has --databases Keyspaces, each with its index as id; active expiry visits every one', () => {
    const state = new ServerState({ ...DEFAULT_SETTINGS, respPort: null, databases: 5 }, () => {});
    expect(state.databases.map((db) => db.id)).toEqual([0, 1, 2, 3, 4]);
    expect(state.store).toBe(state.databases[0]);
    expect(state.nextDeadline()).toBeNull();
    const past = state.store.now() - 1;
    for (const i of [1, 3, 4]) {
      for (let k = 0; k < 3; k++) {
        state.databases[i].put(`k${k}`, 'v');
        state.databases[i].setDeadline(`k${k}`, past - i);
      }
    }
    expect(state.nextDeadline()).toBe(past - 4);
    // A cap of 4 per call: later calls carry on where the last stopped, so every database is reached.
    expect(state.expireSome(4)).toBe(4);
    expect(state.expireSome(4)).toBe(4);
    expect(state.expireSome(4)).toBe(1);
    expect(state.databases.map((db) => db.size)).toEqual([0, 0, 0, 0, 0]);
    expect(state.expiredCount()).toBe(9);
    expect(state.nextDeadline()).toBeNull();
  });
});

describe('the book port', () => {
  test('stays on database 0 whatever RESP clients select; FLUSHALL over RESP empties it too', async () => {
    const srv = await startServer(['--quiet']);
    const book = await BookClient.connect(srv.bookPort);
    const resp = await RawClient.connect(srv.respPort);
    try {
      for (const cmd of [['SELECT', '3'], ['SET', 'k', 'in 3'], ['SELECT', '0'], ['SET', 'k', 'in 0'], ['SELECT', '3']]) await resp.call(cmd);
      expect(await book.call('get', 'k')).toEqual({ type: 'str', value: Buffer.from('in 0') });
      await book.call('set', 'b', 'from book');
      expect((await resp.call(['EXISTS', 'b'])).toString()).toBe(':0\r\n');
      expect((await resp.call(['SELECT', '0'])).toString()).toBe('+OK\r\n');
      expect((await resp.call(['GET', 'b'])).toString()).toBe('$9\r\nfrom book\r\n');
      await resp.call(['FLUSHALL']);
      expect(await book.call('get', 'k')).toEqual({ type: 'nil' });
    } finally {
      book.close();
      resp.close();
      await srv.stop();
    }
  });
});
