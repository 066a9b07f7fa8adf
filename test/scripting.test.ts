// Lua scripting through the Node client people use (ioredis defineCommand:
// EVALSHA first, EVAL on NOSCRIPT), scripts as rate limiters and locks use
// them, and bad input: each a clear error, and the server keeps serving.
import Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startServer, type TestServer } from './helpers/server.js';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    takeToken(key: string, capacity: number, refillPerSec: number, nowMs: number): Result<[number, number], Context>;
    lock(key: string, token: string, ttlMs: number): Result<number, Context>;
    unlock(key: string, token: string): Result<number, Context>;
    echoAll(...args: string[]): Result<string[], Context>;
  }
}

// A token bucket as rate limiters write it: state in a hash, time passed in ARGV.
const TOKEN_BUCKET = `
local key = KEYS[1]
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', key, 'tokens', 'ts')
local tokens = tonumber(state[1]) or capacity
local ts = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + (now - ts) / 1000 * rate)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', key, 'tokens', tokens, 'ts', now)
redis.call('PEXPIRE', key, math.ceil(capacity / rate * 1000))
return {allowed, math.floor(tokens)}
`;

// Redlock's lock and unlock scripts.
const LOCK = `
if redis.call('exists', KEYS[1]) == 0 then
  return redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2]) and 1
end
return 0`;
const UNLOCK = `
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
else
  return 0
end`;

describe('scripting', () => {
  let server: TestServer;
  let r: Redis;
  beforeAll(async () => {
    server = await startServer();
    r = new Redis({ port: server.respPort, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => {});
    r.defineCommand('takeToken', { numberOfKeys: 1, lua: TOKEN_BUCKET });
    r.defineCommand('lock', { numberOfKeys: 1, lua: LOCK });
    r.defineCommand('unlock', { numberOfKeys: 1, lua: UNLOCK });
    r.defineCommand('echoAll', { numberOfKeys: 0, lua: 'return ARGV' });
  });
  afterAll(async () => {
    r.disconnect();
    await server.stop();
  });

  test('ioredis defineCommand: a token bucket allows its capacity, then refuses until time refills it', async () => {
    await r.script('FLUSH');
    const t0 = 1_700_000_000_000;
    const results: number[] = [];
    for (let i = 0; i < 4; i++) results.push((await r.takeToken('bucket', 3, 1, t0))[0]);
    expect(results).toEqual([1, 1, 1, 0]);
    expect(await r.takeToken('bucket', 3, 1, t0 + 2000)).toEqual([1, 1]);
    expect(Number(await r.hget('bucket', 'ts'))).toBe(t0 + 2000);
    expect(await r.pttl('bucket')).toBeGreaterThan(0);
    // ioredis sent EVALSHA, got NOSCRIPT after the flush, then EVAL: the script is cached now.
    const sha = (r as unknown as { scriptsSet: Record<string, { sha: string }> }).scriptsSet.takeToken.sha;
    expect(await r.script('EXISTS', sha)).toEqual([1]);
  });

  test("ioredis defineCommand: Redlock's lock and unlock", async () => {
    expect(await r.lock('res', 'me', 10_000)).toBe(1);
    expect(await r.lock('res', 'other', 10_000)).toBe(0);
    expect(await r.unlock('res', 'other')).toBe(0);
    expect(await r.get('res')).toBe('me');
    expect(await r.unlock('res', 'me')).toBe(1);
    expect(await r.exists('res')).toBe(0);
  });

  test('huge ARGV and binary arguments arrive whole', async () => {
    const args = Array.from({ length: 100_000 }, (_, i) => `v${i}`);
    const back = await r.echoAll(...args);
    expect(back.length).toBe(100_000);
    expect(back[99_999]).toBe('v99999');
    const bin = Buffer.from([0, 1, 255, 13, 10, 128]);
    expect(await r.evalBuffer('return ARGV[1]', 0, bin)).toEqual(bin);
  });

  test('an endless script goes busy past busy-reply-threshold: others get BUSY, SCRIPT KILL stops it even through pcall; the server keeps serving', async () => {
    await r.config('SET', 'busy-reply-threshold', '50');
    const r2 = new Redis({ port: server.respPort, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null });
    r2.on('error', () => {});
    expect(await r2.ping()).toBe('PONG'); // connected (ioredis's ready check runs INFO, which a busy server refuses)
    try {
      for (const body of ['while true do end', 'while true do pcall(function() while true do end end) end', 'local function f() return f() end return f()']) {
        const running = r.eval(body, 0);
        running.catch(() => {});
        // Until the script is past the threshold the server answers nobody; then BUSY.
        for (;;) {
          const reply = await r2.ping().catch((e: Error) => e.message);
          if (reply === 'PONG') continue;
          expect(reply).toBe('BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.');
          break;
        }
        await expect(r2.get('x')).rejects.toThrow(/^BUSY /);
        expect(await r2.script('KILL')).toBe('OK');
        await expect(running).rejects.toThrow(/^ERR Script killed by user with SCRIPT KILL\.\.\. script: [0-9a-f]{40}, on @user_script:1\./);
      }
      expect(await r.ping()).toBe('PONG');
      await expect(r2.script('KILL')).rejects.toThrow('NOTBUSY No scripts in execution right now.');
      await server.waitForStderr('Slow script detected');
    } finally {
      r2.disconnect();
      await r.config('SET', 'busy-reply-threshold', '5000');
    }
  });

  test('bad input: syntax and runtime errors, stack overflow, self-referencing tables; the server keeps serving', async () => {
    await expect(r.eval('return (', 0)).rejects.toThrow(/^ERR Error compiling script \(new function\): user_script:1: unexpected symbol near '<eof>'/);
    await expect(r.eval('return nil .. 1', 0)).rejects.toThrow(/^ERR user_script:1: attempt to concatenate a nil value script: [0-9a-f]{40}, on @user_script:1\./);
    await expect(r.eval('local function f() return 1 + f() end return f()', 0)).rejects.toThrow(/stack overflow/);
    await expect(r.eval('local t = {} t[1] = t return t', 0)).resolves.toBeDefined();
    await expect(r.eval("return cjson.encode(setmetatable({}, {__index = function(t, k) return t end}))", 0)).resolves.toBe('{}');
    await expect(r.eval("local t = {} t[1] = t return cjson.encode(t)", 0)).rejects.toThrow(/excessive nesting/);
    await expect(r.eval("return string.rep('x', 100, ',')", 0)).resolves.toHaveLength(100 + 99);
    expect(await r.ping()).toBe('PONG');
  });

  test('a script allocating without bound hits the memory cap with a clear error; the server keeps serving', async () => {
    await expect(r.eval("local c = string.rep('x', 1000) local t = {} while true do t[#t + 1] = string.rep(c, 1000) end", 0)).rejects.toThrow(
      /^ERR not enough memory: the script grew the heap by more than the Lua memory cap \(512 MB\) script: [0-9a-f]{40}, on @user_script:1\./,
    );
    await expect(r.eval("local s = 'x' while true do s = s .. s end", 0)).rejects.toThrow(/not enough memory: the script grew the heap by more than the Lua memory cap/);
    await expect(r.eval("return string.rep('x', 1e9)", 0)).rejects.toThrow(/^ERR user_script:1: resulting string too large script: /);
    expect(await r.eval("return #string.rep('ab', 3, ',')", 0)).toBe(8);
    expect(await r.ping()).toBe('PONG');
  }, 180_000); // (hundreds of MB built byte by byte in a JS VM, on a shared machine)

  test('INFO memory counts the script cache', async () => {
    await r.script('FLUSH');
    await r.script('LOAD', 'return 1');
    await r.script('LOAD', 'return 22');
    const info = await r.info('memory');
    expect(info).toMatch(/\r\nnumber_of_cached_scripts:2\r\n/);
    expect(info).toMatch(/\r\nused_memory_scripts_eval:17\r\n/);
  });

  test('redis.log writes to the server log', async () => {
    await r.eval("redis.log(redis.LOG_WARNING, 'hello from lua', 42)", 0);
    await server.waitForStderr('<script warning> hello from lua 42');
  });

  test('SCRIPT KILL with nothing running answers NOTBUSY; scripts see a consistent, atomic keyspace', async () => {
    await expect(r.script('KILL')).rejects.toThrow('NOTBUSY No scripts in execution right now.');
    await r.del('cnt');
    const n = await Promise.all(Array.from({ length: 20 }, () => r.eval("local v = redis.call('incr', KEYS[1]) redis.call('incr', KEYS[1]) return v", 1, 'cnt')));
    // Each script's two increments are adjacent: every script saw an even count before it.
    expect((n as number[]).every((v) => v % 2 === 1)).toBe(true);
    expect(await r.get('cnt')).toBe('40');
  });

  test('BLPOP inside a script is refused, not blocking; a waiter is served after the script that pushed', async () => {
    await expect(r.eval("return redis.call('blpop', 'nothing', 0)", 0)).rejects.toThrow(/This Redis command is not allowed from script/);
    const waiter = new Redis({ port: server.respPort, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null });
    try {
      const popped = waiter.blpop('q1', 0);
      await new Promise<void>((resolve) => {
        const check = async () => ((await r.client('LIST')) as string).includes('cmd=blpop') ? resolve() : setImmediate(check);
        void check();
      });
      await r.eval("redis.call('rpush', 'q1', 'a', 'b') return redis.call('llen', 'q1')", 0);
      expect(await popped).toEqual(['q1', 'a']);
      expect(await r.lrange('q1', 0, -1)).toEqual(['b']);
    } finally {
      waiter.disconnect();
    }
  });
});

describe('busy scripts on the libuv twin and under --trace', () => {
  test('libuv cannot run its loop from inside a script: one past the threshold is stopped with an error', async () => {
    const server = await startServer(['--loop', 'libuv', '--busy-reply-threshold', '50']);
    const r = new Redis({ port: server.respPort, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => {});
    try {
      await expect(r.eval('while true do end', 0)).rejects.toThrow(/^ERR Script killed: it ran past the script time limit \(busy-reply-threshold, 50 ms\)/);
      await expect(r.eval('while true do pcall(function() while true do end end) end', 0)).rejects.toThrow(/Script killed/);
      expect(await r.ping()).toBe('PONG');
    } finally {
      r.disconnect();
      await server.stop();
    }
  });

  test('--trace shows the nested iterations a busy script runs', async () => {
    const server = await startServer(['--trace', '--busy-reply-threshold', '50']);
    const r = new Redis({ port: server.respPort, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null });
    const r2 = new Redis({ port: server.respPort, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => {});
    r2.on('error', () => {});
    expect(await r2.ping()).toBe('PONG');
    try {
      const running = r.eval('while true do end', 0);
      running.catch(() => {});
      while ((await r2.ping().catch((e: Error) => e.message)) === 'PONG');
      expect(await r2.script('KILL')).toBe('OK');
      await expect(running).rejects.toThrow(/Script killed by user/);
      await server.waitForStderr(/nested iteration inside a running command \(fd \d+[^\n]* frozen\): file events only, no timers/);
    } finally {
      r.disconnect();
      r2.disconnect();
      await server.stop();
    }
  });
});
