// Differential: memory reporting and maxmemory against redis-server 7.0.
// - INFO memory names Redis's fields in Redis's order (redloop adds its own after);
// - MEMORY HELP, MEMORY's errors (unknown subcommand, arity, USAGE's SAMPLES
//   syntax), USAGE of a missing key: the same bytes; MEMORY USAGE of each type
//   within an order of magnitude of Redis's figure (the layouts differ);
// - CONFIG SET maxmemory / maxmemory-policy / lfu-* validation: the same bytes;
// - over maxmemory with nothing evictable (maxmemory 1, noeviction; or a
//   volatile policy and no key with a TTL): the same commands refused with the
//   same -OOM, the same ones allowed (reads, DEL, EXPIRE), MULTI/EXEC and
//   scripts as Redis, and the same errorstats.

import { describe, expect, test } from 'vitest';
import { parseReply } from '../../src/protocol/resp.js';
import { useServers, type RawClient } from './harness.js';

async function info(c: RawClient, section: string): Promise<string[]> {
  const r = parseReply(await c.call(['INFO', section]));
  if (r === null) throw new Error('incomplete reply');
  const reply = r.reply;
  const text = reply.type === 'bulk' || reply.type === 'verbatim' ? (reply.value ?? Buffer.alloc(0)).toString('latin1') : '';
  return text.split('\r\n').filter((l) => l !== '' && !l.startsWith('#'));
}

async function usage(c: RawClient, key: string): Promise<number> {
  const r = parseReply(await c.call(['MEMORY', 'USAGE', key, 'SAMPLES', '0']));
  if (r === null || r.reply.type !== 'int') throw new Error(`MEMORY USAGE ${key}: ${r?.reply.type}`);
  return Number(r.reply.value);
}

describe('INFO memory and MEMORY', () => {
  const s = useServers();

  test("INFO memory: Redis's field names, in Redis's order", async () => {
    const names = async (c: RawClient) => (await info(c, 'memory')).map((l) => l.slice(0, l.indexOf(':')));
    const theirs = await names(s.redis);
    const ours = await names(s.ours);
    expect(ours.slice(0, theirs.length)).toEqual(theirs);
    expect(ours.slice(theirs.length).every((n) => n.startsWith('redloop_'))).toBe(true);
  });

  test('INFO memory: maxmemory and the policy follow CONFIG SET', async () => {
    await s.same([
      ['CONFIG', 'SET', 'maxmemory', '100mb', 'maxmemory-policy', 'allkeys-lfu'],
      ['CONFIG', 'GET', 'maxmemory'],
    ]);
    const pick = async (c: RawClient) => (await info(c, 'memory')).filter((l) => /^maxmemory/.test(l));
    expect(await pick(s.ours)).toEqual(await pick(s.redis));
    await s.same([['CONFIG', 'SET', 'maxmemory', '0', 'maxmemory-policy', 'noeviction']]);
  });

  test('MEMORY HELP, errors, USAGE of a missing key; TOUCH', async () => {
    await s.same([
      ['TOUCH', 'k', 'nokey'],
      ['MEMORY', 'HELP'],
      ['MEMORY', 'help', 'x'],
      ['MEMORY'],
      ['MEMORY', 'FOO'],
      ['MEMORY', 'USAGE'],
      ['MEMORY', 'USAGE', 'missing'],
      ['SET', 'k', 'v'],
      ['MEMORY', 'USAGE', 'k', 'SAMPLES'],
      ['MEMORY', 'USAGE', 'k', 'SAMPLES', 'x'],
      ['MEMORY', 'USAGE', 'k', 'SAMPLES', '-1'],
      ['MEMORY', 'USAGE', 'k', 'FOO', '1'],
      ['MEMORY', 'STATS', 'x'],
      ['MEMORY', 'DOCTOR', 'x'],
      ['MEMORY', 'PURGE', 'x'],
      ['MEMORY', 'MALLOC-STATS', 'x'],
      ['MEMORY', 'PURGE'],
    ]);
  });

  test('MEMORY USAGE of each type: within an order of magnitude of Redis', async () => {
    const fill: string[][] = [
      ['SET', 'str', 'x'.repeat(10)],
      ['SET', 'bigstr', 'x'.repeat(100_000)],
      ['HSET', 'hash', ...Array.from({ length: 400 }, (_, i) => [`field${i}`, `value${i}`]).flat()],
      ['RPUSH', 'list', ...Array.from({ length: 1000 }, (_, i) => `element-${i}`)],
      ['SADD', 'set', ...Array.from({ length: 1000 }, (_, i) => `member-${i}`)],
      ['ZADD', 'zset', ...Array.from({ length: 500 }, (_, i) => [String(i), `m${i}`]).flat()],
      // Redis preallocates a 4 KiB listpack per stream node: a one-entry stream is no fair comparison.
      ...Array.from({ length: 300 }, (_, i) => ['XADD', 'stream', `1-${i + 1}`, 'field-a', `value-${i}`, 'field-b', `value-${i}`]),
    ];
    await s.same(fill);
    for (const key of ['str', 'bigstr', 'hash', 'list', 'set', 'zset', 'stream']) {
      const theirs = await usage(s.redis, key);
      const ours = await usage(s.ours, key);
      expect(ours / theirs, `${key}: redis ${theirs}, redloop ${ours}`).toBeGreaterThan(0.1);
      expect(ours / theirs, `${key}: redis ${theirs}, redloop ${ours}`).toBeLessThan(10);
    }
  });

  test('MEMORY STATS: the same field names in the same order', async () => {
    await s.same([['SET', 'k', 'v']]);
    const names = async (c: RawClient) => {
      const r = parseReply(await c.call(['MEMORY', 'STATS']));
      if (r === null || (r.reply.type !== 'array' && r.reply.type !== 'map') || r.reply.items === null) throw new Error('MEMORY STATS');
      const items = r.reply.items;
      const out: string[] = [];
      for (let i = 0; i < items.length; i += 2) {
        const it = items[i];
        out.push(it.type === 'bulk' || it.type === 'status' ? String(it.value) : '?');
      }
      return out;
    };
    expect(await names(s.ours)).toEqual(await names(s.redis));
  });

  test('CONFIG SET of the eviction parameters: the same validation', async () => {
    await s.same([
      ['CONFIG', 'SET', 'maxmemory-policy', 'lru'],
      ['CONFIG', 'SET', 'maxmemory-policy', 'ALLKEYS-LRU'],
      ['CONFIG', 'GET', 'maxmemory-policy'],
      ['CONFIG', 'SET', 'maxmemory-policy', 'volatile-ttl'],
      ['CONFIG', 'SET', 'maxmemory', '-1'],
      ['CONFIG', 'SET', 'maxmemory', '1x'],
      ['CONFIG', 'SET', 'maxmemory', '2gb'],
      ['CONFIG', 'GET', 'maxmemory'],
      ['CONFIG', 'SET', 'maxmemory-samples', '0'],
      ['CONFIG', 'SET', 'maxmemory-samples', '10'],
      ['CONFIG', 'SET', 'maxmemory-eviction-tenacity', '101'],
      ['CONFIG', 'SET', 'maxmemory-eviction-tenacity', '50'],
      ['CONFIG', 'SET', 'lfu-log-factor', '-1'],
      ['CONFIG', 'SET', 'lfu-decay-time', 'x'],
      { cmd: ['CONFIG', 'GET', 'maxmemory*'], match: 'unordered' },
      ['CONFIG', 'SET', 'maxmemory', '0', 'maxmemory-policy', 'noeviction', 'maxmemory-samples', '5', 'maxmemory-eviction-tenacity', '10'],
    ]);
  });
});

describe('over maxmemory: -OOM as Redis', () => {
  const s = useServers();

  test('COMMAND: the same commands carry the denyoom flag (the ones refused over maxmemory)', async () => {
    const denyoom = async (c: RawClient) => {
      const r = parseReply(await c.call(['COMMAND']));
      if (r === null || r.reply.type !== 'array' || r.reply.items === null) throw new Error('COMMAND');
      const out = new Map<string, boolean>();
      for (const cmd of r.reply.items) {
        if (cmd.type !== 'array' || cmd.items === null) continue;
        const [name, , flags] = cmd.items;
        const words = (flags as { items: { value: unknown }[] | null }).items ?? [];
        out.set(String((name as { value: unknown }).value), words.some((f) => String(f.value) === 'denyoom'));
      }
      return out;
    };
    const theirs = await denyoom(s.redis);
    const ours = await denyoom(s.ours);
    const differ = [...ours].filter(([name, d]) => theirs.has(name) && theirs.get(name) !== d).map(([name]) => name);
    expect(differ).toEqual([]);
    expect([...ours.values()].filter((d) => d).length).toBeGreaterThan(40);
  });

  test('noeviction: denyoom commands refused, reads and deletes allowed', async () => {
    await s.same([
      ['SET', 'k', 'v'],
      ['RPUSH', 'l', 'a'],
      ['EXPIRE', 'l', '1000'],
      ['CONFIG', 'SET', 'maxmemory', '1'],
      ['SET', 'k', 'w'],
      ['SET', 'new', 'x'],
      ['GET', 'k'],
      ['APPEND', 'k', 'x'],
      ['INCR', 'n'],
      ['RPUSH', 'l', 'b'],
      ['LPOP', 'l'],
      ['HSET', 'h', 'f', 'v'],
      ['SADD', 's', 'm'],
      ['ZADD', 'z', '1', 'm'],
      ['XADD', 'x', '*', 'f', 'v'],
      ['SETRANGE', 'k', '100', 'x'],
      ['PFADD', 'hll', 'a'],
      ['EXPIRE', 'k', '100'],
      ['PERSIST', 'k'],
      ['TTL', 'k'],
      ['EXISTS', 'k'],
      ['DEL', 'k'],
      ['FLUSHALL'],
      ['PING'],
      ['CONFIG', 'SET', 'maxmemory', '0'],
      ['SET', 'k', 'v'],
    ]);
  });

  test('inside MULTI every queued command is refused, and EXEC then aborts', async () => {
    await s.same([
      ['CONFIG', 'SET', 'maxmemory', '1'],
      ['MULTI'],
      ['GET', 'k'],
      ['SET', 'k', 'v'],
      ['EXEC'],
      ['MULTI'],
      ['DISCARD'],
      ['CONFIG', 'SET', 'maxmemory', '0'],
      ['MULTI'],
      ['SET', 'k', 'v'],
      ['GET', 'k'],
      ['CONFIG', 'SET', 'maxmemory', '1'],
      ['EXEC'],
      ['CONFIG', 'SET', 'maxmemory', '0'],
    ]);
  });

  test('volatile policies with no volatile key: OOM; scripts refuse denyoom commands', async () => {
    await s.same([
      ['SET', 'a', '1'],
      ['CONFIG', 'SET', 'maxmemory-policy', 'volatile-lru'],
      ['CONFIG', 'SET', 'maxmemory', '1'],
      ['SET', 'b', '2'],
      ['CONFIG', 'SET', 'maxmemory-policy', 'volatile-ttl'],
      ['SET', 'b', '2'],
      ['EVAL', "return redis.call('get', 'a')", '0'],
      ['EVAL', "return redis.pcall('set', 'a', 'x')", '0'],
      ['GET', 'a'],
      ['CONFIG', 'SET', 'maxmemory', '0', 'maxmemory-policy', 'noeviction'],
    ]);
  });

  test('allkeys policies evict what they must: a key written over the limit is gone', async () => {
    await s.same([
      ['SET', 'a', '1'],
      ['CONFIG', 'SET', 'maxmemory-policy', 'allkeys-random'],
      ['CONFIG', 'SET', 'maxmemory', '1'],
      ['SET', 'b', '2'],
      ['DBSIZE'],
      ['CONFIG', 'SET', 'maxmemory', '0', 'maxmemory-policy', 'noeviction'],
    ]);
    const evicted = async (c: RawClient) => (await info(c, 'stats')).find((l) => l.startsWith('evicted_keys:'));
    expect(await evicted(s.ours)).toBe(await evicted(s.redis));
  });

  test('eviction covers every database: keys of other databases go too, and evicted_keys sums them', async () => {
    await s.same([
      ['SELECT', '3'],
      ['SET', 'a', '1'],
      ['SET', 'b', '2'],
      ['SELECT', '7'],
      ['SET', 't', '1', 'EX', '1000'],
      ['SET', 'p', '1'],
      ['SELECT', '0'],
      ['SET', 'z', '1'],
      // volatile-ttl: only the key with a TTL (in database 7) can go; then nothing more can.
      ['CONFIG', 'SET', 'maxmemory-policy', 'volatile-ttl'],
      ['CONFIG', 'SET', 'maxmemory', '1'],
      ['SET', 'c', '3'],
      ['SELECT', '7'],
      ['EXISTS', 't', 'p'],
      // allkeys-random: every key of every database.
      ['CONFIG', 'SET', 'maxmemory-policy', 'allkeys-random'],
      ['SET', 'c', '3'],
      ['DBSIZE'],
      ['SELECT', '3'],
      ['DBSIZE'],
      ['SELECT', '0'],
      ['DBSIZE'],
      ['CONFIG', 'SET', 'maxmemory', '0', 'maxmemory-policy', 'noeviction'],
    ]);
    const evicted = async (c: RawClient) => (await info(c, 'stats')).find((l) => l.startsWith('evicted_keys:'));
    expect(await evicted(s.ours)).toBe(await evicted(s.redis));
  });

  test('MEMORY STATS and INFO keyspace: one db.N entry per non-empty database', async () => {
    await s.same([['SELECT', '2'], ['SET', 'k', 'v'], ['SELECT', '5'], ['SET', 'k', 'v'], ['EXPIRE', 'k', '100'], ['SELECT', '0']]);
    const names = async (c: RawClient) => {
      const r = parseReply(await c.call(['MEMORY', 'STATS']));
      if (r === null || (r.reply.type !== 'array' && r.reply.type !== 'map') || r.reply.items === null) throw new Error('MEMORY STATS');
      const out: string[] = [];
      for (let i = 0; i < r.reply.items.length; i += 2) out.push(String((r.reply.items[i] as { value?: unknown }).value));
      return out.filter((n) => n.startsWith('db.'));
    };
    expect(await names(s.ours)).toEqual(['db.2', 'db.5']);
    expect(await names(s.ours)).toEqual(await names(s.redis));
    await s.same([['FLUSHALL']]);
  });

  test('errorstats count OOM as Redis', async () => {
    await s.same([['CONFIG', 'RESETSTAT'], ['CONFIG', 'SET', 'maxmemory', '1'], ['SET', 'x', 'y'], ['SET', 'x', 'y'], ['CONFIG', 'SET', 'maxmemory', '0']]);
    const stat = async (c: RawClient) => (await info(c, 'errorstats')).filter((l) => l.includes('OOM'));
    expect(await stat(s.ours)).toEqual(await stat(s.redis));
  });
});
