// Differential: Lua scripting (EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, SCRIPT)
// against a real redis-server, byte for byte: the conversions between Lua
// values and replies in both directions, errors and their prefixes, KEYS and
// ARGV, redis.call/pcall, the redis library, cjson, the sandbox, shebang flags.
import { describe, test } from 'vitest';
import { useServers } from './harness.js';

const ev = (script: string, ...rest: string[]) => ['EVAL', script, ...(rest.length === 0 ? ['0'] : rest)];

describe('scripting', () => {
  const s = useServers();

  test('Lua values to replies: numbers truncated, strings, booleans, tables, ok/err, nesting, the first nil', () =>
    s.same([
      ev('return 1'),
      ev('return -3.7'),
      ev('return 3.99'),
      ev('return 0'),
      ev('return 2^53'),
      ev('return 1e20'),
      ev('return -1e20'),
      ev('return 0/0'),
      ev('return math.huge'),
      ev("return 'hello'"),
      ev("return ''"),
      ev('return true'),
      ev('return false'),
      ev('return nil'),
      ev('return'),
      ev('return {}'),
      ev("return {1, 'two', 3.5, true, false, {4, {5}}}"),
      ev('return {1, 2, nil, 4}'),
      ev("return {ok='fine'}"),
      ev("return {err='MYERR custom'}"),
      ev("return {err='no code'}"),
      ev("return redis.status_reply('PONGISH')"),
      ev("return redis.error_reply('ERR made up')"),
      ev("return redis.error_reply('X')"),
      ev("return {a=1, b=2}"),
      ev("return {1, 2, a=3}"),
      ev("return function() end"),
      ev("return {ok='x', err='y'}"),
      ev("return tostring(10/2)"),
      ev('return tostring(3/2)'),
      ev('return tostring(1e20)'),
      ev("return tostring(0.1)"),
      ev("return 'a' .. 10/2"),
      ev("return string.format('%d %s %.2f', 3, 'x', 1.5)"),
      ev('return #KEYS + #ARGV'),
      ev("return 'bin\\0ary\\255'"),
    ]));

  test('replies to Lua values: integer, bulk, nil, status, error, arrays', () =>
    s.same([
      ['DEL', 'k', 'l', 'h', 's'],
      ev("redis.call('set', KEYS[1], ARGV[1]) return redis.call('get', KEYS[1])", '1', 'k', 'v1'),
      ev("return type(redis.call('get', 'k'))"),
      ev("return type(redis.call('get', 'missing'))"),
      ev("return redis.call('get', 'missing') == false"),
      ev("return type(redis.call('incr', 'n1'))"),
      ev("return redis.call('incr', 'n1') + 0.5"),
      ev("local r = redis.call('set', 'k', 'v') return type(r) .. ':' .. r.ok"),
      ev("return redis.call('set', 'k', 'v')"),
      ev("return redis.call('ping')"),
      ev("redis.call('rpush', 'l', 'a', 'b', 'c') return redis.call('lrange', 'l', 0, -1)"),
      ev("return #redis.call('lrange', 'l', 0, -1)"),
      ev("return redis.call('lrange', 'nolist', 0, -1)"),
      ev("redis.call('hset', 'h', 'f', 'v') return redis.call('hgetall', 'h')"),
      ev("return redis.call('zadd', 'z', 1.5, 'm')"),
      ev("return redis.call('zscore', 'z', 'm')"),
      ev("return redis.call('zrange', 'z', 0, -1, 'withscores')"),
      ev("local r = redis.pcall('incr', 'k') return type(r) .. ':' .. r.err"),
      ev("return redis.pcall('incr', 'k')"),
      ev("return redis.call('get', 1.5)"),
      ev("return redis.call('set', 'num', 42) and redis.call('get', 'num')"),
      ev("return redis.call('set', 'num', 3.25) and redis.call('get', 'num')"),
      ev("return redis.call('mget', 'k', 'missing', 'num')"),
      ['GET', 'k'],
      ['LRANGE', 'l', '0', '-1'],
    ]));

  test('KEYS and ARGV, numkeys errors, binary arguments', () =>
    s.same([
      ev('return {KEYS[1], KEYS[2], ARGV[1], ARGV[2]}', '2', 'k1', 'k2', 'a1', 'a2'),
      ev('return {#KEYS, #ARGV}', '0', 'a', 'b', 'c'),
      ev('return ARGV[1]', '0', 'x\x00y\xff'),
      ev('return {KEYS[1]}', '1'),
      ev('return 1', '-1'),
      ev('return 1', 'x'),
      ev('return 1', '2', 'a'),
      ev('return 1', '99999999999999999999'),
      ['EVAL', 'return 1'],
      ['EVAL'],
      ev('return #ARGV', '0', ...Array.from({ length: 1000 }, (_, i) => `a${i}`)),
      ev('return string.len(ARGV[1])', '0', 'x'.repeat(1 << 20)),
    ]));

  test('errors and their prefixes: compile, runtime, redis.call, pcall', () =>
    s.same([
      ['SET', 'str', 'x'],
      ev('return 1 +'),
      ev("return 'unfinished"),
      ev("error('boom')"),
      ev("error('boom', 0)"),
      ev("error({err='X bad'})"),
      ev('error()'),
      ev('local t = nil; return t.x'),
      ev("return 1 + {}"),
      ev("\n\nerror('line three')"),
      ev("return redis.call('nosuch')"),
      ev("return redis.pcall('nosuch')"),
      ev("return redis.call('incr', 'str')"),
      ev("return redis.call('get')"),
      ev("return redis.pcall('get')"),
      ev('return redis.call()'),
      ev('return redis.call({})'),
      ev("return redis.call('get', {})"),
      ev("return redis.call('lpush', 'str', 'x')"),
      ev("return redis.pcall('lpush', 'str', 'x')"),
      ev("local ok, e = pcall(function() redis.call('incr', 'str') end) return {tostring(ok), e.err}"),
      ev("local ok, e = pcall(error, 'plain') return {tostring(ok), e}"),
      ev("return redis.call('blpop', 'nokey', 0)"),
      ev("return redis.call('eval', 'return 1', 0)"),
      ev("return redis.call('multi')"),
      ['GET', 'str'],
    ]));

  test('the redis library: sha1hex, log, setresp, set_repl, replicate_commands, versions', () =>
    s.same([
      ev("return redis.sha1hex('')"),
      ev("return redis.sha1hex('abc')"),
      ev('return redis.sha1hex(12)'),
      ev("redis.log(redis.LOG_WARNING, 'from a script') return 1"),
      ev("redis.log(redis.LOG_DEBUG, 'a', 'b') return 2"),
      ev("redis.log(99, 'hi')"),
      ev('redis.log()'),
      ev('return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}'),
      ev('return {redis.REPL_NONE, redis.REPL_AOF, redis.REPL_REPLICA, redis.REPL_SLAVE, redis.REPL_ALL}'),
      ev('return redis.set_repl(redis.REPL_ALL)'),
      ev('return redis.replicate_commands()'),
      ev('return redis.setresp(4)'),
      ev('return redis.REDIS_VERSION'),
      ev('return redis.REDIS_VERSION_NUM'),
      ev('return redis.error_reply()'),
      ev('return redis.status_reply(1, 2)'),
      ev("redis.setresp(3) return redis.call('get', 'missing') == nil"),
      ev("redis.setresp(3) local r = redis.call('hgetall', 'h3') return type(r.map)"),
      ev("redis.call('hset', 'h3', 'f', 'v') redis.setresp(3) return redis.call('hgetall', 'h3').map.f"),
      ev("redis.call('zadd', 'z3', 2.5, 'm') redis.setresp(3) return redis.call('zscore', 'z3', 'm').double * 2"),
      ev("redis.setresp(3) return {double=3.5}"),
      ev("redis.setresp(2) return redis.call('zscore', 'z3', 'm')"),
    ]));

  test('cjson: encode and decode round trips, errors', () =>
    s.same([
      ev("return cjson.encode({1, 2, {a=1}})"),
      ev("return cjson.encode('a\"b/c\\n')"),
      ev('return cjson.encode(3.5)'),
      ev('return cjson.encode(1/3)'),
      ev('return cjson.encode(true)'),
      ev('return cjson.encode({})'),
      ev('return cjson.encode(cjson.null)'),
      ev("return cjson.encode({name='x'})"),
      ev("return cjson.decode('[1,2,3.5]')"),
      ev("return cjson.decode('{\"a\":[1,{\"b\":\"c\"}]}').a[2].b"),
      ev("return cjson.decode('\"\\\\u00e9\"')"),
      ev("return cjson.decode('null') == cjson.null"),
      ev("return cjson.decode('{bad')"),
      ev("return cjson.decode('[1,]')"),
      ev("return cjson.encode(cjson.decode(ARGV[1]))", '0', '[1,"two",true,false,null,[]]'),
    ]));

  test('the sandbox: no new globals, no os/io/require/loadfile/dofile/print/debug', () =>
    s.same([
      ev('x = 1'),
      ev('return os'),
      ev('return os.time()'),
      ev('return io'),
      ev("return require('os')"),
      ev("return loadfile('/etc/passwd')"),
      ev("return dofile('/etc/passwd')"),
      ev('return print'),
      ev('return debug'),
      ev('return getfenv'),
      ev('return undefined_name'),
      ev('return type(loadstring)'),
      ev('return type(unpack)'),
      ev('return type(table.unpack)'),
      ev('return type(_G)'),
      ev('return _VERSION'),
      ev('return {unpack({1, 2, 3})}'),
      ev('local x = 5 return x'),
      ev('local function f(a) return a * 2 end return f(21)'),
      ev('return type(cjson) .. type(redis) .. type(string) .. type(math) .. type(table)'),
      ev("return setmetatable({}, {__index = function() return 7 end}).anything"),
      ev("redis.call('set', 'after', '1') return x"),
      ['GET', 'after'],
    ]));

  test('SCRIPT LOAD, EXISTS, FLUSH, KILL, NOSCRIPT and EVALSHA', () =>
    s.same([
      ['SCRIPT', 'FLUSH'],
      ['SCRIPT', 'LOAD', "return 'loaded'"],
      ['SCRIPT', 'EXISTS', 'a0b6dba1d3b7d0a3a9fc4e1a4f2a45e9a0cd7ce4', '0000000000000000000000000000000000000000'],
      ['EVALSHA', 'a0b6dba1d3b7d0a3a9fc4e1a4f2a45e9a0cd7ce4', '0'],
      ['EVALSHA', 'A0B6DBA1D3B7D0A3A9FC4E1A4F2A45E9A0CD7CE4', '0'],
      ['EVALSHA_RO', 'a0b6dba1d3b7d0a3a9fc4e1a4f2a45e9a0cd7ce4', '0'],
      ['EVALSHA', 'ffffffffffffffffffffffffffffffffffffffff', '0'],
      ['EVALSHA', 'short', '0'],
      ev("return 'cached by eval'"),
      ['SCRIPT', 'EXISTS', '1b3c0cc7ba5e4ed8e2b1ad2a1e8d7bb4a8d1f4a9'],
      ['EVALSHA', '1b3c0cc7ba5e4ed8e2b1ad2a1e8d7bb4a8d1f4a9', '0'],
      ['SCRIPT', 'LOAD', 'return +'],
      ['SCRIPT', 'LOAD', "return {KEYS[1], ARGV[1]}"],
      ['SCRIPT', 'FLUSH', 'ASYNC'],
      ['SCRIPT', 'EXISTS', 'a0b6dba1d3b7d0a3a9fc4e1a4f2a45e9a0cd7ce4'],
      ['EVALSHA', 'a0b6dba1d3b7d0a3a9fc4e1a4f2a45e9a0cd7ce4', '0'],
      ['SCRIPT', 'FLUSH', 'SYNC'],
      ['SCRIPT', 'FLUSH', 'bogus'],
      ['SCRIPT', 'FLUSH', 'sync', 'extra'],
      ['SCRIPT', 'KILL'],
      ['SCRIPT', 'bogus'],
      ['SCRIPT', 'LOAD'],
      ['SCRIPT', 'EXISTS'],
      ['SCRIPT'],
      ['SCRIPT', 'HELP'],
    ]));

  test('EVAL_RO and shebang flags', () =>
    s.same([
      ['EVAL_RO', "return redis.call('set', 'ro', '1')", '0'],
      ['EVAL_RO', "return redis.call('get', 'ro')", '0'],
      ['EVAL_RO', "return redis.pcall('set', 'ro', '1')", '0'],
      ['EVAL_RO', '#!lua\nreturn 1', '0'],
      ['EVAL_RO', '#!lua flags=no-writes\nreturn 1', '0'],
      ev('#!lua flags=no-writes\nreturn redis.call("set", "a", "b")'),
      ev('#!lua flags=no-writes,allow-oom\nreturn redis.call("get", "a")'),
      ev('#!lua\nreturn x'),
      ev('#!lua\nreturn redis.call("set", "sb", "1")'),
      ev('#!lua flags=bogus\nreturn 1'),
      ev('#!python\nreturn 1'),
      ev('#!lua name=x\nreturn 1'),
      ev('#!lua flags=\nreturn 2'),
      ['GET', 'sb'],
      ['GET', 'ro'],
    ]));

  test('scripts inside MULTI and their atomic writes', () =>
    s.same([
      ['DEL', 'm1'],
      ['MULTI'],
      ev("return redis.call('incr', 'm1')"),
      ev("return redis.call('incrby', 'm1', 10)"),
      ['EXEC'],
      ev("redis.call('set', 'm2', 'a') redis.call('append', 'm2', 'b') error('after writes')"),
      ['GET', 'm2'],
    ]));
});
