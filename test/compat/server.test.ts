// Differential: connection and server commands, dispatch errors (unknown
// command, wrong arity for every command in the table), AUTH, and COMMAND's
// arity and key positions against a real redis-server.
import { describe, expect, test } from 'vitest';
import { respTable } from '../../src/commands/resp/index.js';
import { parseReply, type RespReply } from '../../src/protocol/resp.js';
import { RawClient, maskHello, startRedis, textOf, useServers } from './harness.js';
import { startServer } from '../helpers/server.js';

const names = [...new Set([...respTable.commands.values()].map((s) => s.name))].sort();

describe('connection and server commands', () => {
  const s = useServers();

  test('PING ECHO SELECT TIME CONFIG CLIENT', () =>
    s.same([
      ['PING'],
      ['PING', 'hello'],
      ['PING', 'a', 'b'],
      ['ping'],
      ['ECHO', 'x'],
      ['ECHO', ''],
      ['ECHO'],
      ['SELECT', '0'],
      ['SELECT', 'x'],
      ['SELECT', 'x'],
      { cmd: ['TIME'], match: 'shape' },
      ['CONFIG', 'GET', 'save'],
      ['CONFIG', 'GET', 'appendonly'],
      ['CONFIG', 'GET', 'nosuchthing'],
      ['CONFIG', 'GET'],
      ['CONFIG', 'SET', 'nosuchthing', '1'],
      ['CONFIG', 'BOGUS'],
      ['CONFIG'],
      ['CLIENT', 'GETNAME'],
      ['CLIENT', 'SETNAME', 'my-name'],
      ['CLIENT', 'GETNAME'],
      ['CLIENT', 'SETNAME', 'bad name'],
      ['CLIENT', 'SETNAME', ''],
      ['CLIENT', 'GETNAME'],
      ['CLIENT', 'SETNAME'],
      ['CLIENT', 'GETNAME', 'x'],
      { cmd: ['CLIENT', 'ID'], match: 'shape' },
      ['CLIENT', 'NOSUCH'],
      ['CLIENT'],
      ['HELLO', '1'],
      ['HELLO', 'x'],
      ['HELLO', '2', 'BOGUS'],
      ['AUTH', 'pw'],
      ['AUTH', 'default', 'pw'],
      ['AUTH', 'someone', 'pw'],
      ['AUTH', 'a', 'b', 'c'],
      ['COMMAND', 'NOSUCH'],
      ['COMMAND', 'INFO', 'nosuchcommand'],
      ['GETRANGE'],
    ]));

  test('unknown commands', () =>
    s.same([
      ['FOO'],
      ['FOO', 'a', 'b'],
      ['foo', 'x'.repeat(200), 'y'],
      ['foo', 'a\r\nb', 'c'],
      ['x'.repeat(300)],
      ['foo', ...Array.from({ length: 40 }, (_, i) => `arg${i}`)],
      [''],
    ]));

  test('wrong arity for every command in the table', async () => {
    const problems: string[] = [];
    // QUIT would end the connection (SHUTDOWN the server), and these change the connection's mode (a
    // transaction, monitor, subscriptions, a pause, a block), and the unsubscribes answer once per
    // argument: each is tested in its own file. SHUTDOWN would stop both servers (test/compat/persist.test.ts).
    const modal = new Set(['quit', 'shutdown', 'multi', 'monitor', 'reset', 'subscribe', 'psubscribe', 'ssubscribe', 'unsubscribe', 'punsubscribe', 'sunsubscribe', 'blpop', 'brpop', 'brpoplpush', 'blmove', 'blmpop', 'bzpopmin', 'bzpopmax', 'bzmpop']);
    for (const name of names.filter((n) => !modal.has(n))) {
      for (const argv of [[name], [name, ...Array.from({ length: 9 }, () => 'x')]]) {
        const [a, b] = await Promise.all([s.redis.call(argv), s.ours.call(argv)]);
        const ra = a.toString('latin1');
        const rb = b.toString('latin1');
        // Only dispatch's own errors are compared: with 10 arguments a variadic command runs.
        if (ra.startsWith('-ERR wrong number') || rb.startsWith('-ERR wrong number') || ra.startsWith('-ERR unknown command')) {
          if (ra !== rb) problems.push(`${argv.slice(0, 2).join(' ')}…: redis ${JSON.stringify(ra)} redloop ${JSON.stringify(rb)}`);
        }
      }
      await s.redis.call(['FLUSHALL']);
      await s.ours.call(['FLUSHALL']);
    }
    expect(problems).toEqual([]);
  });

  test('COMMAND INFO: arity and key positions equal Redis 7 for every command', async () => {
    const pick = (r: RespReply): unknown[] => {
      if (r.type !== 'array' || r.items === null) return [];
      return r.items.map((it) => {
        if (it.type !== 'array' || it.items === null) return null;
        const [name, arity, , first, last, step] = it.items;
        return [name.type === 'bulk' ? name.value?.toString() : null, ...[arity, first, last, step].map((x) => (x.type === 'int' ? Number(x.value) : null))];
      });
    };
    const [a, b] = await Promise.all([s.redis.call(['COMMAND', 'INFO', ...names]), s.ours.call(['COMMAND', 'INFO', ...names])]);
    expect(pick(parseReply(b)!.reply)).toEqual(pick(parseReply(a)!.reply));
  });

  test('COMMAND COUNT and COMMAND DOCS are well formed', async () => {
    const count = parseReply(await s.ours.call(['COMMAND', 'COUNT']))!.reply;
    expect(count).toEqual({ type: 'int', value: BigInt(names.length) });
    const docs = parseReply(await s.ours.call(['COMMAND', 'DOCS', 'get', 'set']))!.reply;
    expect(docs.type).toBe(s.resp === 3 ? 'map' : 'array'); // a map of two entries, flat in RESP2
    expect((docs.type === 'array' || docs.type === 'map') && docs.items?.length).toBe(4);
    const all = parseReply(await s.ours.call(['COMMAND']))!.reply;
    expect(all.type === 'array' && all.items?.length).toBe(names.length);
  });

  test('INFO has the fields clients read', async () => {
    await Promise.all([s.ours.call(['FLUSHALL']), s.redis.call(['FLUSHALL'])]);
    await Promise.all([s.ours.call(['SET', 'k', 'v']), s.redis.call(['SET', 'k', 'v'])]);
    const info = parseReply(await s.ours.call(['INFO']))!.reply;
    expect(info.type).toBe(s.resp === 3 ? 'verbatim' : 'bulk');
    const text = textOf(info) ?? '';
    for (const field of ['redis_version:7.0.0', 'redis_mode:standalone', 'arch_bits:64', 'process_id:', 'tcp_port:', 'uptime_in_seconds:', 'connected_clients:', 'used_memory:', 'total_connections_received:', 'total_commands_processed:', 'expired_keys:', 'loading:0', 'db0:keys=1,expires=0,avg_ttl=0', `multiplexing_api:${process.env.REDLOOP_LOOP ?? 'poll'}`, '# Keyspace']) {
      expect(text).toContain(field);
    }
    const only = await s.ours.call(['INFO', 'keyspace']);
    expect(textOf(parseReply(only)!.reply)).toBe('# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n');
    expect(only.toString('latin1')).toBe((await s.redis.call(['INFO', 'keyspace'])).toString('latin1'));
  });

  test('HELLO 3 switches the connection to RESP3 and HELLO 2 back, as Redis (version and id masked)', async () => {
    const steps = [['HELLO', '3'], ['GET', 'nokey'], ['HELLO'], ['HELLO', '2'], ['GET', 'nokey'], ['HELLO']];
    const replies: string[][] = [];
    for (const port of [s.redisPort, s.oursPort]) {
      const c = await RawClient.connect(port);
      const got: string[] = [];
      for (const st of steps) got.push(maskHello(await c.call(st)));
      c.close();
      replies.push(got);
    }
    expect(replies[1]).toEqual(replies[0]);
    expect(replies[1][1]).toBe('_\r\n');
    expect(replies[1][4]).toBe('$-1\r\n');
  });

  test('QUIT replies +OK and closes', async () => {
    for (const port of [s.redisPort, s.oursPort]) {
      const c = await RawClient.connect(port);
      expect((await c.call(['QUIT'])).toString()).toBe('+OK\r\n');
      await c.waitClosed();
    }
  });
});

describe('requirepass', () => {
  test('NOAUTH, AUTH, HELLO AUTH, WRONGPASS match Redis', async () => {
    const [redis, ours] = await Promise.all([startRedis(['--requirepass', 'secret']), startServer(['--quiet', '--requirepass', 'secret'])]);
    try {
      const steps: string[][] = [
        ['GET', 'k'],
        ['PING'],
        ['HELLO', '2'],
        ['AUTH', 'wrong'],
        ['AUTH', 'default', 'wrong'],
        ['HELLO', '2', 'AUTH', 'default', 'wrong'],
        ['HELLO', '2', 'AUTH', 'default', 'secret', 'SETNAME', 'n'],
        ['CLIENT', 'GETNAME'],
        ['GET', 'k'],
        ['AUTH', 'secret'],
        ['AUTH', 'default', 'secret'],
        ['QUIT'],
      ];
      const a = await RawClient.connect(redis.port);
      const b = await RawClient.connect(ours.respPort);
      const out: [string, string, string][] = [];
      for (const st of steps) {
        const [x, y] = await Promise.all([a.call(st), b.call(st)]);
        // HELLO's reply carries the server version and client id: compare its shape only.
        const norm = (r: Buffer) => (st[0] === 'HELLO' && r[0] === 42 ? 'hello-map' : r.toString('latin1'));
        out.push([st.join(' '), norm(x), norm(y)]);
      }
      expect(out.filter(([, x, y]) => x !== y)).toEqual([]);
      a.close();
      b.close();
    } finally {
      await Promise.all([redis.stop(), ours.stop()]);
    }
  });
});
