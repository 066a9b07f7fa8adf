// Every command of the RESP table has a complete Redis 7.0 description
// (src/commands/meta.ts): a command added without one, or whose spec says
// another arity, flags or key positions than Redis, is listed here by name so
// that it can be fixed (regenerate with scripts/gen-command-meta.mjs, or
// correct the spec). And every subcommand COMMAND shows is really served.
import Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { respTable } from '../src/commands/resp/index.js';
import { metaDisagreements, missingMeta, redisMeta, keysBySpecs } from '../src/commands/meta.js';
import { keysOf } from '../src/commands/resp/command.js';
import { startServer, type TestServer } from './helpers/server.js';

const specs = [...new Set(respTable.commands.values())];

describe('command descriptions', () => {
  test('every command in the table has a description: arity, flags, key positions, ACL categories, docs', () => {
    const incomplete = specs
      .filter((s) => {
        const m = redisMeta(s.name);
        return m === undefined || m.acl.length === 0 || m.docs.length === 0 || !Array.isArray(m.flags) || typeof m.arity !== 'number';
      })
      .map((s) => s.name);
    expect(missingMeta).toEqual([]);
    expect(incomplete).toEqual([]);
  });

  test("no spec states an arity, flags or key positions other than its description's", () => {
    expect(metaDisagreements).toEqual([]);
  });

  test('the table uses the description: dispatch arity and flags come from it', () => {
    const get = respTable.commands.get('get')!;
    expect(get.arity).toBe(2);
    expect(get.flags).toEqual(['readonly', 'fast']);
    expect(respTable.commands.get('zunionstore')!.flags).toContain('movablekeys');
    expect(respTable.commands.get('client')!.subcommandNames?.has('list')).toBe(true);
    expect(respTable.commands.get('client')!.subcommandNames?.has('reply')).toBe(false);
  });

  test('key specs: index/range, keynum, keyword', () => {
    const keys = (name: string, args: string[]) => keysBySpecs(redisMeta(name)!, args)?.map((k) => args[k.pos]) ?? null;
    expect(keys('mset', ['mset', 'a', '1', 'b', '2'])).toEqual(['a', 'b']);
    expect(keys('zunionstore', ['zunionstore', 'd', '2', 'a', 'b', 'WEIGHTS', '1', '2'])).toEqual(['d', 'a', 'b']);
    expect(keys('zunionstore', ['zunionstore', 'd', '9', 'a'])).toBeNull();
    expect(keys('xread', ['xread', 'COUNT', '1', 'STREAMS', 'a', 'b', '0', '0'])).toEqual(['a', 'b']);
    expect(keys('blpop', ['blpop', 'a', 'b', '0'])).toEqual(['a', 'b']);
  });
});

describe('key finders for commands the key specs cannot describe (answers taken from redis-server 7.0)', () => {
  const keys = (name: string, args: string[]) => keysOf(name, redisMeta(name)!, args).map((k) => [args[k.pos], ...k.flags]);
  test('SORT and SORT_RO (not in the table yet: ready for when they are)', () => {
    expect(keys('sort', ['sort', 'a', 'alpha', 'store', 'b'])).toEqual([['a', 'RO', 'access'], ['b', 'OW', 'update']]);
    expect(keys('sort', ['sort', 'a', 'limit', '0', '1', 'by', 'store', 'get', 'x', 'store', 'c'])).toEqual([['a', 'RO', 'access'], ['c', 'OW', 'update']]);
    expect(keys('sort', ['sort', 'a', 'store'])).toEqual([['a', 'RO', 'access']]);
    expect(keys('sort_ro', ['sort_ro', 'a', 'by', 'x'])).toEqual([['a', 'RO', 'access']]);
  });
  test('GEORADIUS: STORE and STOREDIST by their key specs, a STORE without its key by the finder', () => {
    expect(keys('georadius', ['georadius', 'a', '0', '0', '1', 'km', 'store', 'b', 'storedist', 'c']).map((k) => k[0])).toEqual(['a', 'b', 'c']);
    expect(keys('georadius', ['georadius', 'a', '0', '0', '1', 'km', 'store']).map((k) => k[0])).toEqual(['a']);
  });
});

describe('subcommands COMMAND shows are served', () => {
  let server: TestServer;
  let redis: Redis;
  beforeAll(async () => {
    server = await startServer(['--quiet']);
    redis = new Redis({ port: server.respPort, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
    await redis.connect();
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  test('none answers "unknown subcommand"', async () => {
    const listed = (await redis.call('COMMAND', 'LIST')) as string[];
    const unknown: string[] = [];
    for (const full of listed.filter((n) => n.includes('|'))) {
      const [cmd, sub] = full.split('|');
      // Pause-like subcommands are sent with arguments that end at once; the reply may be an error, just not an unknown-subcommand one.
      const extra = sub === 'pause' ? ['0'] : sub === 'kill' ? ['ID', '999999'] : sub === 'unblock' ? ['999999'] : [];
      const reply = await redis.call(cmd, sub, ...extra).catch((e: Error) => e.message);
      if (typeof reply === 'string' && /unknown subcommand '/.test(reply)) unknown.push(full);
    }
    expect(unknown).toEqual([]);
  });
});
