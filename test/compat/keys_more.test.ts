// Differential: TOUCH, EXPIRETIME, PEXPIRETIME, COPY, HSCAN, SSCAN and ZSCAN
// against a real redis-server.
import { describe, expect, test } from 'vitest';
import { parseReply, type RespReply } from '../../src/protocol/resp.js';
import { useServers, type RawClient } from './harness.js';

const FAR = '33177117420'; // year 3021, in seconds
const binary = Buffer.from([0, 255, 13, 10, 1]);

describe('keys: TOUCH EXPIRETIME PEXPIRETIME', () => {
  const s = useServers();

  test('TOUCH', () =>
    s.same([
      ['SET', 'a', '1'],
      ['RPUSH', 'b', 'x'],
      ['TOUCH', 'a'],
      ['TOUCH', 'a', 'b', 'nokey', 'a'],
      ['TOUCH', 'nokey'],
      ['PEXPIRE', 'a', '1'],
      { sleepMs: 5 },
      ['TOUCH', 'a', 'b'],
      ['TOUCH'],
    ]));

  test('EXPIRETIME PEXPIRETIME', () =>
    s.same([
      ['SET', 'k', 'v'],
      ['EXPIRETIME', 'k'],
      ['PEXPIRETIME', 'k'],
      ['EXPIRETIME', 'nokey'],
      ['PEXPIRETIME', 'nokey'],
      ['EXPIREAT', 'k', FAR],
      ['EXPIRETIME', 'k'],
      ['PEXPIRETIME', 'k'],
      ['PEXPIREAT', 'k', `${FAR}499`],
      ['EXPIRETIME', 'k'],
      ['PEXPIRETIME', 'k'],
      ['PEXPIREAT', 'k', `${FAR}500`],
      ['EXPIRETIME', 'k'],
      ['PEXPIRETIME', 'k'],
      ['PEXPIREAT', 'k', `${FAR}001`],
      ['PEXPIRETIME', 'k'],
      ['SET', 'k', 'v', 'EXAT', FAR],
      ['EXPIRETIME', 'k'],
      ['SET', 'k', 'v', 'PXAT', `${FAR}123`],
      ['PEXPIRETIME', 'k'],
      ['GETEX', 'k', 'PXAT', `${FAR}777`],
      ['PEXPIRETIME', 'k'],
      ['RENAME', 'k', 'k2'],
      ['PEXPIRETIME', 'k2'],
      ['EXPIRE', 'k2', '1000'],
      { cmd: ['EXPIRETIME', 'k2'], match: 'approx' },
      ['PERSIST', 'k2'],
      ['EXPIRETIME', 'k2'],
      ['ZADD', 'z', '1', 'a'],
      ['PEXPIREAT', 'z', `${FAR}250`],
      ['PEXPIRETIME', 'z'],
      ['PEXPIRE', 'z', '1'],
      { sleepMs: 5 },
      ['EXPIRETIME', 'z'],
      ['EXPIRETIME'],
      ['EXPIRETIME', 'a', 'b'],
      ['PEXPIRETIME', 'a', 'b'],
    ]));
});

describe('keys: COPY', () => {
  const s = useServers();

  test('every type, TTL kept, REPLACE, DB 0, errors', () =>
    s.same([
      ['SET', 'str', 'hello'],
      ['RPUSH', 'list', 'a', 'b', 'c'],
      ['HSET', 'hash', 'f1', 'v1', 'f2', 'v2'],
      ['SADD', 'set', '1', '2', 'x'],
      ['ZADD', 'zset', '1', 'a', '2', 'b', '2.5', binary],
      ['COPY', 'str', 'str2'],
      ['GET', 'str2'],
      ['COPY', 'list', 'list2'],
      ['RPUSH', 'list2', 'd'],
      ['LRANGE', 'list', '0', '-1'],
      ['LRANGE', 'list2', '0', '-1'],
      ['COPY', 'hash', 'hash2'],
      ['HSET', 'hash2', 'f3', 'v3'],
      ['HGETALL', 'hash'],
      ['HGETALL', 'hash2'],
      ['COPY', 'set', 'set2'],
      ['SREM', 'set2', '1'],
      { cmd: ['SMEMBERS', 'set'], match: 'unordered' },
      { cmd: ['SMEMBERS', 'set2'], match: 'unordered' },
      ['COPY', 'zset', 'zset2'],
      ['ZINCRBY', 'zset2', '10', 'a'],
      ['ZRANGE', 'zset', '0', '-1', 'WITHSCORES'],
      ['ZRANGE', 'zset2', '0', '-1', 'WITHSCORES'],
      ['ZRANK', 'zset2', 'b'],
      ['COPY', 'str', 'list'],
      ['TYPE', 'list'],
      ['COPY', 'str', 'list', 'REPLACE'],
      ['TYPE', 'list'],
      ['GET', 'list'],
      ['COPY', 'nokey', 'x'],
      ['COPY', 'nokey', 'str', 'REPLACE'],
      ['GET', 'str'],
      ['COPY', 'str', 'str'],
      ['COPY', 'nokey', 'nokey'],
      ['COPY', 'str', 'str', 'REPLACE'],
      ['PEXPIREAT', 'str', `${FAR}123`],
      ['COPY', 'str', 'withttl'],
      ['PEXPIRETIME', 'withttl'],
      ['SET', 'target', 'old', 'EX', '500'],
      ['COPY', 'hash', 'target', 'replace'],
      ['TTL', 'target'],
      ['TYPE', 'target'],
      ['COPY', 'str', 'db0', 'DB', '0'],
      ['COPY', 'str', 'db0', 'db', '0', 'REPLACE'],
      ['COPY', 'str', 'str', 'DB', '0'],
      ['COPY', 'str', 'x', 'DB', '16'],
      ['COPY', 'str', 'x', 'DB', '-1'],
      ['COPY', 'str', 'x', 'DB', 'x'],
      ['COPY', 'str', 'x', 'DB', '2147483648'],
      ['COPY', 'str', 'x', 'DB', '99999999999999999999'],
      ['COPY', 'str', 'x', 'DB'],
      ['COPY', 'str', 'x', 'BOGUS'],
      ['COPY', 'str', 'x', 'REPLACE', 'REPLACE'],
      ['COPY', 'nokey', 'x', 'DB', '16'],
      ['EXISTS', 'x'],
      ['COPY', 'str'],
    ]));
});

/** Every element a full HSCAN/SSCAN/ZSCAN iteration returns, and the number of calls it took. */
async function scanAll(c: RawClient, cmd: string, key: string, extra: string[] = []): Promise<{ items: string[]; calls: number; perCall: number[] }> {
  let cursor = '0';
  const items: string[] = [];
  const perCall: number[] = [];
  let calls = 0;
  do {
    const r = parseReply(await c.call([cmd, key, cursor, ...extra]))!.reply;
    if (r.type !== 'array' || r.items === null || r.items.length !== 2) throw new Error(`bad scan reply ${JSON.stringify(r)}`);
    const [cur, list] = r.items as [RespReply, RespReply];
    if (cur.type !== 'bulk' || list.type !== 'array' || list.items === null) throw new Error('bad scan reply');
    cursor = cur.value!.toString();
    const strs = list.items.map((x) => (x.type === 'bulk' ? x.value!.toString('latin1') : '?'));
    perCall.push(strs.length);
    items.push(...strs);
    calls++;
    if (calls > 100_000) throw new Error('scan does not end');
  } while (cursor !== '0');
  return { items, calls, perCall };
}

/** Pairs (field, value) of a flat array, as sorted "field=value" strings; set members sorted. */
function canon(items: string[], pairs: boolean): string[] {
  if (!pairs) return [...items].sort();
  const out: string[] = [];
  for (let i = 0; i < items.length; i += 2) out.push(`${items[i]}=${items[i + 1]}`);
  return out.sort();
}

describe('keys: HSCAN SSCAN ZSCAN', () => {
  const s = useServers();

  test('small values: the whole value at once, cursor 0, in Redis order; options and errors', () =>
    s.same([
      ['HSET', 'h', 'f1', 'v1', 'f2', 'v2', 'other', 'v3', binary, 'bin'],
      ['HDEL', 'h', 'f1'],
      ['HSET', 'h', 'f1', 'again'],
      ['HSCAN', 'h', '0'],
      ['HSCAN', 'h', '0', 'COUNT', '1'],
      ['HSCAN', 'h', '12345', 'COUNT', '2'],
      ['HSCAN', 'h', '0', 'MATCH', 'f*'],
      ['HSCAN', 'h', '0', 'match', '*', 'count', '100'],
      ['HSCAN', 'h', '0', 'MATCH', 'v*'],
      ['HSCAN', 'h', '0', 'MATCH', 'f[12]', 'MATCH', '*2'],
      ['SADD', 'ints', '30', '-5', '7', '0', '1000000000000', '-9223372036854775808'],
      ['SSCAN', 'ints', '0'],
      ['SSCAN', 'ints', '0', 'MATCH', '*0*'],
      ['SSCAN', 'ints', '0', 'COUNT', '1'],
      ['SADD', 'strs', 'a', 'b', 'c'],
      { cmd: ['SSCAN', 'strs', '0'], match: 'unordered' },
      { cmd: ['SSCAN', 'strs', '0', 'MATCH', '[ab]'], match: 'unordered' },
      ['ZADD', 'z', '3', 'c', '1', 'a', '2', 'b', '1.5', 'x', 'inf', 'top', '-0.25', 'neg'],
      ['ZSCAN', 'z', '0'],
      ['ZSCAN', 'z', '0', 'COUNT', '1', 'MATCH', '[a-c]'],
      ['ZSCAN', 'z', '0', 'MATCH', '1*'],
      ['HSET', 'long', 'f', 'x'.repeat(65)],
      { cmd: ['HSCAN', 'long', '0'], match: 'unordered' },
      ['HSCAN', 'nokey', '0'],
      ['SSCAN', 'nokey', '0', 'COUNT', '0'],
      ['ZSCAN', 'nokey', 'x'],
      ['HSCAN', 'h', 'x'],
      ['HSCAN', 'h', ' 1'],
      ['HSCAN', 'h', '-1'],
      ['HSCAN', 'h', '+1'],
      ['HSCAN', 'h', ''],
      ['HSCAN', 'h', '18446744073709551615'],
      ['HSCAN', 'h', '18446744073709551616'],
      ['HSCAN', 'h', '0', 'COUNT', '0'],
      ['HSCAN', 'h', '0', 'COUNT', '-1'],
      ['HSCAN', 'h', '0', 'COUNT', 'x'],
      ['HSCAN', 'h', '0', 'COUNT'],
      ['HSCAN', 'h', '0', 'MATCH'],
      ['HSCAN', 'h', '0', 'TYPE', 'string'],
      ['HSCAN', 'h', '0', 'NOVALUES'],
      ['HSCAN', 'h', '0', 'BOGUS', 'x'],
      ['SET', 'str', 'v'],
      ['HSCAN', 'str', '0'],
      ['SSCAN', 'str', '0', 'BOGUS'],
      ['ZSCAN', 'str', 'x'],
      ['SSCAN', 'h', '0'],
      ['ZSCAN', 'ints', '0'],
      ['HSCAN', 'z', '0'],
      ['HSCAN', 'h'],
      ['SSCAN'],
    ]));

  test('big values: a full iteration returns every element once, about COUNT per call', async () => {
    const fields = Array.from({ length: 1000 }, (_, i) => [`field:${i}`, `value:${i}`]).flat();
    const members = Array.from({ length: 1000 }, (_, i) => `member:${i}`);
    const ints = Array.from({ length: 600 }, (_, i) => String(i * 7 - 2000));
    const zargs = Array.from({ length: 1000 }, (_, i) => [String(i % 37) + '.5', `m${i}`]).flat();
    await s.same([['HSET', 'h', ...fields], ['SADD', 's', ...members], ['SADD', 'ints', ...ints], ['ZADD', 'z', ...zargs]]);
    for (const [cmd, key, pairs] of [
      ['HSCAN', 'h', true],
      ['SSCAN', 's', false],
      ['SSCAN', 'ints', false],
      ['ZSCAN', 'z', true],
    ] as const) {
      for (const extra of [[], ['COUNT', '50'], ['COUNT', '7', 'MATCH', '*1*']]) {
        const [a, b] = await Promise.all([scanAll(s.redis, cmd, key, extra), scanAll(s.ours, cmd, key, extra)]);
        const ours = canon(b.items, pairs);
        expect(ours, `${cmd} ${key} ${extra.join(' ')}`).toEqual(canon(a.items, pairs));
        expect(new Set(ours).size).toBe(ours.length); // no duplicates
        const count = extra[0] === 'COUNT' ? Number(extra[1]) : 10;
        for (const n of b.perCall) expect(n).toBeLessThanOrEqual(pairs ? 2 * count : count);
        if (extra.length === 0) expect(b.calls).toBeGreaterThanOrEqual(Math.floor(ours.length / (pairs ? 2 : 1) / count));
      }
    }
  });

  test('a cursor survives changes between calls: elements present throughout come exactly once', async () => {
    const members = Array.from({ length: 500 }, (_, i) => `keep:${i}`);
    const zargs = Array.from({ length: 400 }, (_, i) => [String(i), `keep:${i}`]).flat();
    await s.same([
      ['SADD', 's', ...members, ...Array.from({ length: 200 }, (_, i) => `gone:${i}`)],
      ['ZADD', 'z', ...zargs, ...Array.from({ length: 100 }, (_, i) => [String(-i), `gone:${i}`]).flat()],
    ]);
    for (const [cmd, key, pairs] of [
      ['SSCAN', 's', false],
      ['ZSCAN', 'z', true],
    ] as const) {
      const seen: string[] = [];
      let cursor = '0';
      let step = 0;
      do {
        const r = parseReply(await s.ours.call([cmd, key, cursor, 'COUNT', '25']))!.reply as { items: RespReply[] };
        cursor = (r.items[0] as { value: Buffer }).value.toString();
        const list = (r.items[1] as { items: { value: Buffer }[] }).items.map((x) => x.value.toString());
        for (let i = 0; i < list.length; i += pairs ? 2 : 1) seen.push(list[i]);
        // Between calls: remove some doomed members, add new ones, move scores of kept ones.
        step++;
        if (cmd === 'SSCAN') {
          await s.ours.call(['SREM', key, `gone:${step}`, `gone:${199 - step}`]);
          await s.ours.call(['SADD', key, `new:${step}`]);
        } else {
          await s.ours.call(['ZREM', key, `gone:${step}`]);
          await s.ours.call(['ZADD', key, String(1000 + step), `keep:${step * 3}`, '5', `new:${step}`]);
        }
      } while (cursor !== '0');
      const kept = seen.filter((m) => m.startsWith('keep:'));
      expect(kept.length, cmd).toBe(new Set(kept).size);
      expect(new Set(kept).size, cmd).toBe(cmd === 'SSCAN' ? 500 : 400);
    }
  });

  test('a cursor the server no longer knows restarts the iteration (duplicates allowed, nothing lost)', async () => {
    const members = Array.from({ length: 100 }, (_, i) => `m${i}`);
    await s.same([['SADD', 's', ...members]]);
    const first = parseReply(await s.ours.call(['SSCAN', 's', '0', 'COUNT', '10']))!.reply as { items: RespReply[] };
    expect((first.items[1] as { items: unknown[] }).items.length).toBe(10);
    const rest = await scanAll(s.ours, 'SSCAN', 's', ['COUNT', '10']);
    expect(new Set(rest.items).size).toBe(100);
    // A made-up cursor walks the whole set too.
    let cursor = '987654321';
    const seen = new Set<string>();
    do {
      const r = parseReply(await s.ours.call(['SSCAN', 's', cursor, 'COUNT', '30']))!.reply as { items: RespReply[] };
      cursor = (r.items[0] as { value: Buffer }).value.toString();
      for (const x of (r.items[1] as { items: { value: Buffer }[] }).items) seen.add(x.value.toString());
    } while (cursor !== '0');
    expect(seen.size).toBe(100);
  });

  test("a cursor used on another key leaves the first key's walk intact", async () => {
    await s.same([
      ['SADD', 's1', ...Array.from({ length: 60 }, (_, i) => `a${i}`)],
      ['SADD', 's2', ...Array.from({ length: 60 }, (_, i) => `b${i}`)],
    ]);
    const call = async (key: string, cursor: string) => {
      const r = parseReply(await s.ours.call(['SSCAN', key, cursor, 'COUNT', '20']))!.reply as { items: RespReply[] };
      return {
        cursor: (r.items[0] as { value: Buffer }).value.toString(),
        members: (r.items[1] as { items: { value: Buffer }[] }).items.map((x) => x.value.toString()),
      };
    };
    let step = await call('s1', '0');
    const seen = [...step.members];
    // The same number on s2 starts a walk of s2 (from its beginning).
    const other = await call('s2', step.cursor);
    expect(other.members.every((m) => m.startsWith('b'))).toBe(true);
    while (step.cursor !== '0') {
      step = await call('s1', step.cursor);
      seen.push(...step.members);
    }
    expect(seen.length).toBe(60);
    expect(new Set(seen).size).toBe(60);
  });
});
