// Unit tests of the hash and list commands (src/commands/hash.ts, list.ts)
// through a fake reply writer, checking Redis 7's replies and error strings.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashCommands } from '../src/commands/hash.js';
import { WRONG } from '../src/commands/common.js';
import { listCommands, lmoveApply, lmpopApply } from '../src/commands/list.js';
import type { CommandContext } from '../src/commands/types.js';
import { Keyspace, List } from '../src/store/keyspace.js';
import { Recorder, type Reply } from './helpers/recorder.js';

/** A command context with only what the pops' cores read: the keyspace, notifications off. */
const cx = (store: Keyspace) => ({ store, counters: { settings: { notifyKeyspaceEvents: 0 } } }) as unknown as CommandContext;

const specs = new Map([...hashCommands, ...listCommands].map((c) => [c.name, c]));
const ARITY = 'ARITY';

/** Runs a command as the dispatcher would (arity first); ARITY if the dispatcher would refuse it. */
function run(store: Keyspace, ...args: string[]): Reply {
  const spec = specs.get(args[0].toLowerCase());
  if (spec === undefined) throw new Error(`no command ${args[0]}`);
  if (spec.arity > 0 ? args.length !== spec.arity : args.length < -spec.arity) return ARITY;
  const w = new Recorder();
  spec.run(args, w, { store, counters: { settings: { notifyKeyspaceEvents: 0 } } } as unknown as CommandContext);
  return w.reply();
}

const OK = { status: 'OK' };
const WRONGTYPE = { err: 3, msg: 'WRONGTYPE Operation against a key holding the wrong kind of value' };
const NOT_INTEGER = { err: 4, msg: 'ERR value is not an integer or out of range' };
const SYNTAX = { err: 4, msg: 'ERR syntax error' };

describe('command table metadata', () => {
  it('has every command with Redis 7 arity and key positions', () => {
    const arities: Record<string, number> = {
      hset: -4, hsetnx: 4, hget: 3, hmget: -3, hmset: -4, hdel: -3, hlen: 2, hexists: 3, hgetall: 2, hkeys: 2,
      hvals: 2, hincrby: 4, hincrbyfloat: 4, hstrlen: 3, hrandfield: -2, lpush: -3, rpush: -3, lpushx: -3, rpushx: -3, lpop: -2,
      rpop: -2, llen: 2, lrange: 4, lindex: 3, lset: 4, ltrim: 4, lrem: 4, linsert: 5, lpos: -3,
      lmove: 5, rpoplpush: 3, lmpop: -4,
    };
    // Key positions as COMMAND reports them: source and destination, or (numkeys) none and movablekeys.
    const keys: Record<string, [number, number, number]> = { lmove: [1, 2, 1], rpoplpush: [1, 2, 1], lmpop: [0, 0, 0] };
    expect(new Set(specs.keys())).toEqual(new Set(Object.keys(arities)));
    for (const [name, arity] of Object.entries(arities)) {
      const s = specs.get(name)!;
      expect([name, s.arity, s.firstKey, s.lastKey, s.keyStep]).toEqual([name, arity, ...(keys[name] ?? [1, 1, 1])]);
      expect(s.flags?.includes('write') !== s.flags?.includes('readonly')).toBe(true);
    }
    expect(specs.get('hgetall')!.flags).toEqual(['readonly']);
    expect(specs.get('lpush')!.flags).toEqual(['write', 'denyoom', 'fast']);
    expect(specs.get('lmove')!.flags).toEqual(['write', 'denyoom']);
    expect(specs.get('lmpop')!.flags).toEqual(['write', 'movablekeys']);
  });
});

describe('hash commands', () => {
  it('hset/hget/hmget/hlen/hexists/hstrlen/hgetall/hkeys/hvals', () => {
    const s = new Keyspace(() => 0);
    expect(run(s, 'hset', 'h', 'f1', 'v1', 'f2', 'v2')).toBe(2);
    expect(run(s, 'hset', 'h', 'f1', 'new', 'f3', 'v3')).toBe(1); // one field added, one updated
    expect(run(s, 'hset', 'h', 'f1', 'v1', 'f2')).toEqual({ err: 1, msg: "ERR wrong number of arguments for 'hset' command" });
    expect(run(s, 'hset', 'h', 'f1')).toBe(ARITY);
    expect(run(s, 'hget', 'h', 'f1')).toBe('new');
    expect(run(s, 'hget', 'h', 'nope')).toBeNull();
    expect(run(s, 'hget', 'nokey', 'f1')).toBeNull();
    expect(run(s, 'hmget', 'h', 'f1', 'nope', 'f3')).toEqual(['new', null, 'v3']);
    expect(run(s, 'hmget', 'nokey', 'a', 'b')).toEqual([null, null]);
    expect(run(s, 'hlen', 'h')).toBe(3);
    expect(run(s, 'hlen', 'nokey')).toBe(0);
    expect(run(s, 'hexists', 'h', 'f2')).toBe(1);
    expect(run(s, 'hexists', 'h', 'zz')).toBe(0);
    expect(run(s, 'hstrlen', 'h', 'f3')).toBe(2);
    expect(run(s, 'hstrlen', 'h', 'zz')).toBe(0);
    expect(run(s, 'hgetall', 'h')).toEqual({ map: ['f1', 'new', 'f2', 'v2', 'f3', 'v3'] });
    expect(run(s, 'hkeys', 'h')).toEqual(['f1', 'f2', 'f3']);
    expect(run(s, 'hvals', 'h')).toEqual(['new', 'v2', 'v3']);
    expect(run(s, 'hgetall', 'nokey')).toEqual({ map: [] });
    expect(run(s, 'hkeys', 'nokey')).toEqual([]);
    expect(run(s, 'hvals', 'nokey')).toEqual([]);
  });

  it('binary fields and values round-trip; hstrlen counts bytes', () => {
    const s = new Keyspace(() => 0);
    const bin = '\x00\xff\xc3\xa9';
    expect(run(s, 'hset', 'h', bin, bin + bin)).toBe(1);
    expect(run(s, 'hget', 'h', bin)).toBe(bin + bin);
    expect(run(s, 'hstrlen', 'h', bin)).toBe(8);
  });

  it('hmset replies OK, hsetnx sets only new fields', () => {
    const s = new Keyspace(() => 0);
    expect(run(s, 'hmset', 'h', 'a', '1', 'b', '2')).toEqual(OK);
    expect(run(s, 'hmset', 'h', 'a', '1', 'b')).toEqual({ err: 1, msg: "ERR wrong number of arguments for 'hmset' command" });
    expect(run(s, 'hsetnx', 'h', 'a', 'x')).toBe(0);
    expect(run(s, 'hget', 'h', 'a')).toBe('1');
    expect(run(s, 'hsetnx', 'h', 'c', '3')).toBe(1);
    expect(run(s, 'hsetnx', 'new', 'c', '3')).toBe(1);
    expect(run(s, 'hgetall', 'new')).toEqual({ map: ['c', '3'] });
  });

  it('hdel counts removed fields and deletes an emptied hash', () => {
    const s = new Keyspace(() => 0);
    run(s, 'hset', 'h', 'a', '1', 'b', '2');
    expect(run(s, 'hdel', 'h', 'a', 'a', 'zz')).toBe(1);
    expect(run(s, 'hdel', 'nokey', 'a')).toBe(0);
    expect(s.has('h')).toBe(true);
    expect(run(s, 'hdel', 'h', 'b')).toBe(1);
    expect(s.has('h')).toBe(false);
    expect([...s.keys()]).toEqual([]);
  });

  it('hincrby: int64 arithmetic, Redis errors, no key created on error', () => {
    const s = new Keyspace(() => 0);
    expect(run(s, 'hincrby', 'h', 'n', '5')).toBe(5);
    expect(run(s, 'hincrby', 'h', 'n', '-7')).toBe(-2);
    expect(run(s, 'hget', 'h', 'n')).toBe('-2');
    expect(run(s, 'hincrby', 'h', 'n', '1.5')).toEqual(NOT_INTEGER);
    expect(run(s, 'hincrby', 'h', 'n', '01')).toEqual(NOT_INTEGER);
    run(s, 'hset', 'h', 'txt', 'abc', 'big', '9223372036854775800');
    expect(run(s, 'hincrby', 'h', 'txt', '1')).toEqual({ err: 4, msg: 'ERR hash value is not an integer' });
    expect(run(s, 'hincrby', 'h', 'big', '7')).toBe(9223372036854775807n);
    expect(run(s, 'hincrby', 'h', 'big', '1')).toEqual({ err: 4, msg: 'ERR increment or decrement would overflow' });
    expect(run(s, 'hget', 'h', 'big')).toBe('9223372036854775807');
    expect(run(s, 'hincrby', 'h', 'n', '-9223372036854775808')).toEqual({ err: 4, msg: 'ERR increment or decrement would overflow' });
    expect(run(s, 'hincrby', 'h2', 'n', 'x')).toEqual(NOT_INTEGER);
    expect(s.has('h2')).toBe(false);
  });

  it('hincrbyfloat: Redis long double arithmetic and formatting, and its errors', () => {
    const s = new Keyspace(() => 0);
    run(s, 'hset', 'h', 'f', '10.50');
    expect(run(s, 'hincrbyfloat', 'h', 'f', '0.1')).toBe('10.6');
    expect(run(s, 'hincrbyfloat', 'h', 'f', '-5')).toBe('5.6');
    run(s, 'hset', 'h', 'f', '5.0e3');
    expect(run(s, 'hincrbyfloat', 'h', 'f', '2.0e2')).toBe('5200');
    expect(run(s, 'hget', 'h', 'f')).toBe('5200');
    expect(run(s, 'hincrbyfloat', 'h', 'g', '0.1')).toBe('0.1');
    expect(run(s, 'hincrbyfloat', 'h', 'g', '0.2')).toBe('0.3');
    expect(run(s, 'hincrbyfloat', 'h', 'g', '-0.3')).toBe('0');
    expect(run(s, 'hincrbyfloat', 'h', 'g', '1e-20')).toBe('0');
    expect(run(s, 'hincrbyfloat', 'h', 'g', '-3.5e1')).toBe('-35');
    expect(run(s, 'hincrbyfloat', 'h', 'f', 'abc')).toEqual({ err: 4, msg: 'ERR value is not a valid float' });
    expect(run(s, 'hincrbyfloat', 'h', 'f', 'inf')).toEqual({ err: 4, msg: 'ERR value is NaN or Infinity' });
    run(s, 'hset', 'h', 'ld', '0.3');
    expect(run(s, 'hincrbyfloat', 'h', 'ld', '5000')).toBe('5000.29999999999999982'); // long double, not double
    run(s, 'hset', 'h', 'txt', 'abc', 'big', '1.7e308', 'huge', '1.1e4932', 'inf', 'inf');
    expect(run(s, 'hincrbyfloat', 'h', 'txt', '1')).toEqual({ err: 4, msg: 'ERR hash value is not a float' });
    // Beyond double, within long double; the text is what redis-server 7.0.15 replied.
    expect(run(s, 'hincrbyfloat', 'h', 'big', '1.7e308')).toBe(
      '3400000000000000000062735560503951935905404277793882674660871715264049121024116419881237391778006006' +
        '7395704768377126342532280699783600158696145727482003339309490131720001362480261087251524581412476054' +
        '2925564488876540887382670905522638137419003805178364056052028734561012664811529831035124023358619554802565120',
    );
    expect(run(s, 'hincrbyfloat', 'h', 'huge', '1.1e4932')).toEqual({ err: 4, msg: 'ERR increment would produce NaN or Infinity' });
    expect(run(s, 'hincrbyfloat', 'h', 'inf', '1')).toEqual({ err: 4, msg: 'ERR increment would produce NaN or Infinity' });
    expect(run(s, 'hget', 'h', 'huge')).toBe('1.1e4932'); // unchanged after an error
  });

  it('every hash command refuses another type with WRONGTYPE and leaves it alone', () => {
    const s = new Keyspace(() => 0);
    s.put('str', 'x');
    const calls: string[][] = [
      ['hset', 'str', 'a', 'b'], ['hsetnx', 'str', 'a', 'b'], ['hget', 'str', 'a'], ['hmget', 'str', 'a'],
      ['hmset', 'str', 'a', 'b'], ['hdel', 'str', 'a'], ['hlen', 'str'], ['hexists', 'str', 'a'], ['hgetall', 'str'],
      ['hkeys', 'str'], ['hvals', 'str'], ['hincrby', 'str', 'a', '1'], ['hincrbyfloat', 'str', 'a', '1'],
      ['hstrlen', 'str', 'a'],
    ];
    for (const c of calls) expect([c[0], run(s, ...c)]).toEqual([c[0], WRONGTYPE]);
    expect(s.get('str')).toBe('x');
  });
});

describe('list commands', () => {
  it('lpush/rpush return the new length; lrange handles negative and out-of-range indexes', () => {
    const s = new Keyspace(() => 0);
    expect(run(s, 'rpush', 'l', 'a', 'b')).toBe(2);
    expect(run(s, 'lpush', 'l', 'x', 'y')).toBe(4); // y x a b
    expect(run(s, 'lrange', 'l', '0', '-1')).toEqual(['y', 'x', 'a', 'b']);
    expect(run(s, 'lrange', 'l', '-2', '-1')).toEqual(['a', 'b']);
    expect(run(s, 'lrange', 'l', '-100', '1')).toEqual(['y', 'x']);
    expect(run(s, 'lrange', 'l', '2', '100')).toEqual(['a', 'b']);
    expect(run(s, 'lrange', 'l', '3', '2')).toEqual([]);
    expect(run(s, 'lrange', 'l', '4', '10')).toEqual([]);
    expect(run(s, 'lrange', 'l', '0', '-5')).toEqual([]);
    expect(run(s, 'lrange', 'l', '0', '9223372036854775807')).toEqual(['y', 'x', 'a', 'b']);
    expect(run(s, 'lrange', 'l', 'a', '1')).toEqual(NOT_INTEGER);
    expect(run(s, 'lrange', 'nokey', '0', '-1')).toEqual([]);
    expect(run(s, 'llen', 'l')).toBe(4);
    expect(run(s, 'llen', 'nokey')).toBe(0);
  });

  it('lpushx/rpushx push only onto an existing list', () => {
    const s = new Keyspace(() => 0);
    expect(run(s, 'lpushx', 'l', 'a')).toBe(0);
    expect(run(s, 'rpushx', 'l', 'a')).toBe(0);
    expect(s.has('l')).toBe(false);
    run(s, 'rpush', 'l', 'm');
    expect(run(s, 'lpushx', 'l', 'a', 'b')).toBe(3);
    expect(run(s, 'rpushx', 'l', 'z')).toBe(4);
    expect(run(s, 'lrange', 'l', '0', '-1')).toEqual(['b', 'a', 'm', 'z']);
  });

  it('lpop/rpop without and with count, as Redis 7', () => {
    const s = new Keyspace(() => 0);
    run(s, 'rpush', 'l', 'a', 'b', 'c', 'd', 'e');
    expect(run(s, 'lpop', 'l')).toBe('a');
    expect(run(s, 'rpop', 'l')).toBe('e');
    expect(run(s, 'lpop', 'l', '2')).toEqual(['b', 'c']);
    expect(run(s, 'rpop', 'l', '0')).toEqual([]);
    expect(run(s, 'rpop', 'l', '-1')).toEqual({ err: 4, msg: 'ERR value is out of range, must be positive' });
    expect(run(s, 'rpop', 'l', 'x')).toEqual({ err: 4, msg: 'ERR value is out of range, must be positive' });
    expect(run(s, 'rpop', 'l', '1', '2')).toEqual({ err: 1, msg: "ERR wrong number of arguments for 'rpop' command" });
    expect(run(s, 'rpop', 'l', '10')).toEqual(['d']);
    expect(s.has('l')).toBe(false); // emptied list deleted
    expect(run(s, 'lpop', 'l')).toBeNull();
    expect(run(s, 'lpop', 'l', '3')).toEqual({ nilArr: true });
    expect(run(s, 'rpop', 'l', '0')).toEqual({ nilArr: true }); // a missing key wins over count 0
    run(s, 'rpush', 'r', '1', '2', '3');
    expect(run(s, 'rpop', 'r', '2')).toEqual(['3', '2']); // popped order: from the tail
  });

  it('lindex and lset with negative indexes and Redis errors', () => {
    const s = new Keyspace(() => 0);
    run(s, 'rpush', 'l', 'a', 'b', 'c');
    expect(run(s, 'lindex', 'l', '0')).toBe('a');
    expect(run(s, 'lindex', 'l', '-1')).toBe('c');
    expect(run(s, 'lindex', 'l', '3')).toBeNull();
    expect(run(s, 'lindex', 'l', '-4')).toBeNull();
    expect(run(s, 'lindex', 'l', 'x')).toEqual(NOT_INTEGER);
    expect(run(s, 'lindex', 'nokey', 'x')).toBeNull(); // Redis looks the key up first
    expect(run(s, 'lset', 'l', '-1', 'C')).toEqual(OK);
    expect(run(s, 'lset', 'l', '1', 'B')).toEqual(OK);
    expect(run(s, 'lrange', 'l', '0', '-1')).toEqual(['a', 'B', 'C']);
    expect(run(s, 'lset', 'l', '3', 'x')).toEqual({ err: 4, msg: 'ERR index out of range' });
    expect(run(s, 'lset', 'nokey', '0', 'x')).toEqual({ err: 4, msg: 'ERR no such key' });
    expect(run(s, 'lset', 'l', 'x', 'x')).toEqual(NOT_INTEGER);
  });

  it('ltrim keeps a Redis-style range and deletes an emptied list', () => {
    const s = new Keyspace(() => 0);
    run(s, 'rpush', 'l', '0', '1', '2', '3', '4', '5');
    expect(run(s, 'ltrim', 'l', '1', '-2')).toEqual(OK);
    expect(run(s, 'lrange', 'l', '0', '-1')).toEqual(['1', '2', '3', '4']);
    expect(run(s, 'ltrim', 'l', '-100', '100')).toEqual(OK);
    expect(run(s, 'llen', 'l')).toBe(4);
    expect(run(s, 'ltrim', 'l', '1', '1')).toEqual(OK);
    expect(run(s, 'lrange', 'l', '0', '-1')).toEqual(['2']);
    expect(run(s, 'ltrim', 'l', '5', '10')).toEqual(OK);
    expect(s.has('l')).toBe(false);
    expect(run(s, 'ltrim', 'nokey', '0', '1')).toEqual(OK);
    expect(run(s, 'ltrim', 'nokey', 'a', '1')).toEqual(NOT_INTEGER);
  });

  it('lrem from the head, from the tail, and all', () => {
    const s = new Keyspace(() => 0);
    const fill = () => {
      s.delete('l');
      run(s, 'rpush', 'l', 'x', 'a', 'x', 'b', 'x', 'c');
    };
    fill();
    expect(run(s, 'lrem', 'l', '2', 'x')).toBe(2);
    expect(run(s, 'lrange', 'l', '0', '-1')).toEqual(['a', 'b', 'x', 'c']);
    fill();
    expect(run(s, 'lrem', 'l', '-2', 'x')).toBe(2);
    expect(run(s, 'lrange', 'l', '0', '-1')).toEqual(['x', 'a', 'b', 'c']);
    fill();
    expect(run(s, 'lrem', 'l', '0', 'x')).toBe(3);
    expect(run(s, 'lrange', 'l', '0', '-1')).toEqual(['a', 'b', 'c']);
    expect(run(s, 'lrem', 'l', '0', 'zz')).toBe(0);
    expect(run(s, 'lrem', 'nokey', '0', 'x')).toBe(0);
    expect(run(s, 'lrem', 'l', 'one', 'x')).toEqual(NOT_INTEGER);
    s.delete('l');
    run(s, 'rpush', 'l', 'x', 'x');
    expect(run(s, 'lrem', 'l', '0', 'x')).toBe(2);
    expect(s.has('l')).toBe(false);
  });

  it('linsert before/after the first pivot', () => {
    const s = new Keyspace(() => 0);
    run(s, 'rpush', 'l', 'a', 'p', 'b', 'p');
    expect(run(s, 'linsert', 'l', 'BEFORE', 'p', 'x')).toBe(5);
    expect(run(s, 'linsert', 'l', 'after', 'p', 'y')).toBe(6);
    expect(run(s, 'lrange', 'l', '0', '-1')).toEqual(['a', 'x', 'p', 'y', 'b', 'p']);
    expect(run(s, 'linsert', 'l', 'after', 'zz', 'y')).toBe(-1);
    expect(run(s, 'linsert', 'l', 'middle', 'p', 'y')).toEqual(SYNTAX);
    expect(run(s, 'linsert', 'nokey', 'after', 'p', 'y')).toBe(0);
    expect(s.has('nokey')).toBe(false);
  });

  it('lpos with RANK, COUNT and MAXLEN (the Redis documentation examples)', () => {
    const s = new Keyspace(() => 0);
    run(s, 'rpush', 'l', 'a', 'b', 'c', '1', '2', '3', 'c', 'c');
    expect(run(s, 'lpos', 'l', 'c')).toBe(2);
    expect(run(s, 'lpos', 'l', 'c', 'RANK', '2')).toBe(6);
    expect(run(s, 'lpos', 'l', 'c', 'RANK', '-1')).toBe(7);
    expect(run(s, 'lpos', 'l', 'c', 'COUNT', '2')).toEqual([2, 6]);
    expect(run(s, 'lpos', 'l', 'c', 'RANK', '-1', 'COUNT', '2')).toEqual([7, 6]);
    expect(run(s, 'lpos', 'l', 'c', 'COUNT', '0')).toEqual([2, 6, 7]);
    expect(run(s, 'lpos', 'l', 'c', 'COUNT', '0', 'MAXLEN', '7')).toEqual([2, 6]);
    expect(run(s, 'lpos', 'l', 'c', 'MAXLEN', '2')).toBeNull();
    expect(run(s, 'lpos', 'l', 'zz')).toBeNull();
    expect(run(s, 'lpos', 'l', 'zz', 'COUNT', '1')).toEqual([]);
    expect(run(s, 'lpos', 'nokey', 'a')).toBeNull();
    expect(run(s, 'lpos', 'nokey', 'a', 'COUNT', '1')).toEqual([]);
    expect(run(s, 'lpos', 'l', 'c', 'RANK', '0')).toEqual({
      err: 4,
      msg: "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
    });
    expect(run(s, 'lpos', 'l', 'c', 'COUNT', '-1')).toEqual({ err: 4, msg: "ERR COUNT can't be negative" });
    expect(run(s, 'lpos', 'l', 'c', 'MAXLEN', 'x')).toEqual({ err: 4, msg: "ERR MAXLEN can't be negative" });
    expect(run(s, 'lpos', 'l', 'c', 'RANK', 'x')).toEqual(NOT_INTEGER);
    expect(run(s, 'lpos', 'l', 'c', 'RANK')).toEqual(SYNTAX);
    expect(run(s, 'lpos', 'l', 'c', 'FOO', '1')).toEqual(SYNTAX);
  });

  it('every list command refuses another type with WRONGTYPE', () => {
    const s = new Keyspace(() => 0);
    s.put('str', 'x');
    const calls: string[][] = [
      ['lpush', 'str', 'a'], ['rpush', 'str', 'a'], ['lpushx', 'str', 'a'], ['rpushx', 'str', 'a'], ['lpop', 'str'],
      ['rpop', 'str', '2'], ['llen', 'str'], ['lrange', 'str', '0', '1'], ['lindex', 'str', '0'],
      ['lset', 'str', '0', 'a'], ['ltrim', 'str', '0', '1'], ['lrem', 'str', '0', 'a'],
      ['linsert', 'str', 'before', 'a', 'b'], ['lpos', 'str', 'a'], ['lmove', 'str', 'd', 'left', 'left'],
      ['rpoplpush', 'str', 'd'], ['lmpop', '1', 'str', 'left'],
    ];
    for (const c of calls) expect([c[0], run(s, ...c)]).toEqual([c[0], WRONGTYPE]);
    expect(s.get('str')).toBe('x');
    expect(s.has('d')).toBe(false);
  });

  it('lmove/rpoplpush in every direction, onto the same key, and their errors', () => {
    const s = new Keyspace(() => 0);
    run(s, 'rpush', 'src', 'a', 'b', 'c', 'd');
    expect(run(s, 'lmove', 'src', 'dst', 'LEFT', 'LEFT')).toBe('a');
    expect(run(s, 'lmove', 'src', 'dst', 'left', 'right')).toBe('b');
    expect(run(s, 'lmove', 'src', 'dst', 'RIGHT', 'LEFT')).toBe('d');
    expect(run(s, 'rpoplpush', 'src', 'dst')).toBe('c');
    expect(s.has('src')).toBe(false);
    expect(run(s, 'lrange', 'dst', '0', '-1')).toEqual(['c', 'd', 'a', 'b']);
    expect(run(s, 'lmove', 'dst', 'dst', 'LEFT', 'RIGHT')).toBe('c');
    expect(run(s, 'lrange', 'dst', '0', '-1')).toEqual(['d', 'a', 'b', 'c']);
    run(s, 'rpush', 'one', 'x');
    expect(run(s, 'rpoplpush', 'one', 'one')).toBe('x');
    expect(run(s, 'lrange', 'one', '0', '-1')).toEqual(['x']);
    expect(run(s, 'lmove', 'nokey', 'dst', 'LEFT', 'LEFT')).toBeNull();
    s.put('str', 'v');
    expect(run(s, 'lmove', 'nokey', 'str', 'LEFT', 'LEFT')).toBeNull(); // the source is looked at first
    expect(run(s, 'lmove', 'dst', 'str', 'LEFT', 'LEFT')).toEqual(WRONGTYPE);
    expect(run(s, 'lrange', 'dst', '0', '-1')).toEqual(['d', 'a', 'b', 'c']); // nothing moved
    expect(run(s, 'lmove', 'dst', 'x', 'UP', 'LEFT')).toEqual(SYNTAX);
    expect(run(s, 'lmove', 'str', 'x', 'LEFT', 'DOWN')).toEqual(SYNTAX);
    expect(run(s, 'lmove', 'dst', 'x', 'LEFT')).toBe(ARITY);
    expect(run(s, 'rpoplpush', 'dst')).toBe(ARITY);
  });

  it('lmpop: the first list among the keys, nested reply, Redis errors', () => {
    const s = new Keyspace(() => 0);
    run(s, 'rpush', 'b', '1', '2', '3');
    expect(run(s, 'lmpop', '2', 'nokey', 'b', 'LEFT')).toEqual(['b', ['1']]);
    expect(run(s, 'lmpop', '2', 'nokey', 'b', 'RIGHT', 'COUNT', '5')).toEqual(['b', ['3', '2']]);
    expect(s.has('b')).toBe(false);
    expect(run(s, 'lmpop', '1', 'b', 'LEFT')).toEqual({ nilArr: true });
    s.put('str', 'v');
    run(s, 'rpush', 'l', 'a');
    expect(run(s, 'lmpop', '2', 'l', 'str', 'LEFT')).toEqual(['l', ['a']]);
    expect(run(s, 'lmpop', '0', 'l', 'LEFT')).toEqual({ err: 4, msg: 'ERR numkeys should be greater than 0' });
    expect(run(s, 'lmpop', '2', 'l', 'LEFT')).toEqual(SYNTAX);
    expect(run(s, 'lmpop', '1', 'l', 'LEFT', 'COUNT', '0')).toEqual({ err: 4, msg: 'ERR count should be greater than 0' });
    expect(run(s, 'lmpop', '1', 'l')).toBe(ARITY);
  });

  it('lmoveApply and lmpopApply tell a blocking caller what happened', () => {
    const s = new Keyspace(() => 0);
    const w = new Recorder();
    expect(lmoveApply(cx(s), 'q', 'd', 'left', 'right', w)).toBe('none');
    expect(lmpopApply(cx(s), ['q', 'r'], 'left', -1, w)).toBeNull();
    expect(w.calls).toEqual([]); // nothing written: the caller waits (or replies nil)
    run(s, 'rpush', 'r', 'x', 'y');
    const w2 = new Recorder();
    expect(lmpopApply(cx(s), ['q', 'r'], 'right', -1, w2)).toBe('r'); // BRPOP's flat [key, element]
    expect(w2.reply()).toEqual(['r', 'y']);
    s.put('str', 'v');
    const w3 = new Recorder();
    expect(lmoveApply(cx(s), 'r', 'str', 'left', 'left', w3)).toBe('wrongtype');
    expect(w3.reply()).toEqual(WRONGTYPE);
    const w4 = new Recorder();
    expect(lmpopApply(cx(s), ['str', 'r'], 'left', 1, w4)).toBe(WRONG);
    expect(w4.reply()).toEqual(WRONGTYPE);
    const w5 = new Recorder();
    expect(lmoveApply(cx(s), 'r', 'd', 'left', 'left', w5)).toBe('moved');
    expect(w5.reply()).toBe('x');
    expect([s.has('r'), run(s, 'lrange', 'd', '0', '-1')]).toEqual([false, ['x']]);
  });
});

describe('List (the ring-buffer deque)', () => {
  it('agrees with an array under random pushes, pops, inserts, sets and trims at both ends', () => {
    type Op = [number, number, string];
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 6 }), fc.nat(40), fc.string({ maxLength: 2 })), { maxLength: 200 }), (ops: Op[]) => {
        const l = new List(2);
        const m: string[] = [];
        for (const [kind, n, v] of ops) {
          switch (kind) {
            case 0: l.pushBack(v); m.push(v); break;
            case 1: l.pushFront(v); m.unshift(v); break;
            case 2: expect(l.popFront()).toBe(m.shift()); break;
            case 3: expect(l.popBack()).toBe(m.pop()); break;
            case 4: { const i = n % (m.length + 1); l.insert(i, v); m.splice(i, 0, v); break; }
            case 5: if (m.length > 0) { const i = n % m.length; l.set(i, v); m[i] = v; } break;
            case 6: if (n % 8 === 0 && m.length > 0) {
              const a = n % m.length;
              const b = Math.min(m.length - 1, a + (n % 3));
              l.trim(a, b);
              m.splice(0, m.length, ...m.slice(a, b + 1));
            } break;
          }
          expect(l.length).toBe(m.length);
        }
        expect(l.toArray()).toEqual(m);
      }),
      { numRuns: 300 },
    );
  });

  it('clone() copies a wrapped-around buffer; the copy and the original change independently', () => {
    const l = new List(4);
    for (const v of ['a', 'b', 'c']) l.pushBack(v);
    l.popFront();
    l.pushBack('d');
    l.pushBack('e'); // head is now past the start of the buffer: the contents wrap around
    const c = l.clone();
    expect(c.toArray()).toEqual(['b', 'c', 'd', 'e']);
    c.pushFront('x');
    c.set(1, 'B');
    l.popBack();
    expect(c.toArray()).toEqual(['x', 'B', 'c', 'd', 'e']);
    expect(l.toArray()).toEqual(['b', 'c', 'd']);
  });

  it('200 000 front pushes then back pops come out in order (growth and wrap-around)', () => {
    const l = new List();
    for (let i = 0; i < 200_000; i++) l.pushFront(String(i));
    expect(l.at(0)).toBe('199999');
    let outOfOrder = 0;
    for (let i = 0; i < 200_000; i++) if (l.popBack() !== String(i)) outOfOrder++;
    expect(outOfOrder).toBe(0);
    expect(l.length).toBe(0);
    expect(l.popFront()).toBeUndefined();
  });
});
