// The RESP port end to end: the real server (dist/cli/server.js) driven by
// ioredis (single commands, pipelines, errors) and node-redis, plus raw
// sockets for exact bytes. Redis-exact behaviour is covered command by command
// in the differential suite (test/compat, npm run test:compat).
import { connect } from 'node:net';
import Redis from 'ioredis';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startServer, type TestServer } from './helpers/server.js';

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

/**
 * Sends raw bytes on a fresh connection and collects what comes back until
 * `done(text, closed)` holds (or the server closes; rejects after timeoutMs).
 */
function raw(
  payload: string | Buffer,
  done: (text: string, closed: boolean) => boolean,
  timeoutMs = 5000,
): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const sock = connect({ port: server.respPort, host: '127.0.0.1' });
    const chunks: Buffer[] = [];
    let closed = false;
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`timed out; got ${JSON.stringify(Buffer.concat(chunks).toString('latin1'))}`));
    }, timeoutMs);
    const check = () => {
      const text = Buffer.concat(chunks).toString('latin1');
      if (done(text, closed) || closed) {
        clearTimeout(timer);
        sock.destroy();
        resolve({ text, closed });
      }
    };
    sock.on('data', (d) => {
      chunks.push(d);
      check();
    });
    sock.on('close', () => {
      closed = true;
      check();
    });
    sock.on('error', reject);
    sock.on('connect', () => sock.write(payload));
  });
}


describe('ioredis', () => {
  test('strings, counters, TTLs', async () => {
    expect(await redis.set('greeting', 'hello')).toBe('OK');
    expect(await redis.get('greeting')).toBe('hello');
    expect(await redis.get('missing')).toBeNull();
    expect(await redis.set('greeting', 'x', 'NX')).toBeNull();
    expect(await redis.incr('n')).toBe(1);
    expect(await redis.incrby('n', 41)).toBe(42);
    expect(await redis.incrbyfloat('f', '0.1')).toBe('0.1');
    expect(await redis.set('t', 'v', 'EX', 100)).toBe('OK');
    expect(await redis.ttl('t')).toBe(100);
    expect(await redis.mget('greeting', 'missing', 'n')).toEqual(['hello', null, '42']);
    expect(await redis.getBuffer('greeting')).toEqual(Buffer.from('hello'));
  });

  test('binary values round-trip', async () => {
    const value = Buffer.from([0, 1, 2, 13, 10, 128, 255]);
    await redis.set(Buffer.from([255, 0]), value);
    expect(await redis.getBuffer(Buffer.from([255, 0]))).toEqual(value);
  });

  test('sets, sorted sets, hashes, lists', async () => {
    expect(await redis.sadd('s', 'a', 'b', 'c')).toBe(3);
    expect((await redis.smembers('s')).sort()).toEqual(['a', 'b', 'c']);
    expect(await redis.zadd('z', 1, 'one', 2, 'two', 3, 'three')).toBe(3);
    expect(await redis.zrange('z', 0, -1, 'WITHSCORES')).toEqual(['one', '1', 'two', '2', 'three', '3']);
    expect(await redis.zrangebyscore('z', '(1', '+inf')).toEqual(['two', 'three']);
    expect(await redis.zscore('z', 'two')).toBe('2');
    expect(await redis.hset('h', 'f', 'v')).toBe(1);
    expect(await redis.hgetall('h')).toEqual({ f: 'v' });
    expect(await redis.rpush('l', 'a', 'b')).toBe(2);
    expect(await redis.lrange('l', 0, -1)).toEqual(['a', 'b']);
  });

  test('errors become rejections with Redis text', async () => {
    await redis.set('str', 'v');
    await expect(redis.lpush('str', 'x')).rejects.toThrow('WRONGTYPE Operation against a key holding the wrong kind of value');
    await expect(redis.incr('str')).rejects.toThrow('ERR value is not an integer or out of range');
    await expect(redis.call('nosuch', 'a')).rejects.toThrow("ERR unknown command 'nosuch', with args beginning with: 'a' ");
    await expect(redis.call('get')).rejects.toThrow("ERR wrong number of arguments for 'get' command");
  });

  test('pipelines keep order and carry errors per command', async () => {
    const p = redis.pipeline();
    for (let i = 0; i < 500; i++) p.set(`p${i}`, String(i));
    p.get('p499');
    p.incr('str');
    p.dbsize();
    const results = await p.exec();
    expect(results!.length).toBe(503);
    expect(results![0]).toEqual([null, 'OK']);
    expect(results![500]).toEqual([null, '499']);
    expect(String(results![501][0])).toContain('ERR value is not an integer');
    expect(typeof results![502][1]).toBe('number');
  });

  test('INFO, CLIENT, CONFIG, COMMAND, TIME', async () => {
    const info = await redis.info();
    expect(info).toContain('redis_version:7.0.0');
    expect(info).toMatch(/connected_clients:\d+/);
    expect(await redis.client('SETNAME', 'tester')).toBe('OK');
    expect(await redis.client('GETNAME')).toBe('tester');
    expect(await redis.config('GET', 'save')).toEqual(['save', '']);
    expect(await redis.call('COMMAND', 'COUNT')).toBeGreaterThan(100);
    const [secs] = (await redis.time()) as [string, string];
    expect(Math.abs(Number(secs) - Date.now() / 1000)).toBeLessThan(5);
  });
});

describe('node-redis', () => {
  test('connects, runs commands and a multi-command pipeline', async () => {
    // node-redis 6 speaks RESP3 by default (HELLO 3), which redloop does not offer yet: RESP2 is asked for.
    const client = createClient({ socket: { port: server.respPort, host: '127.0.0.1' }, RESP: 2 });
    client.on('error', () => {});
    await client.connect();
    try {
      expect(await client.set('nr', 'v')).toBe('OK');
      expect(await client.get('nr')).toBe('v');
      const [a, b] = await Promise.all([client.incr('nr-n'), client.incr('nr-n')]);
      expect([a, b]).toEqual([1, 2]);
      expect(await client.zAdd('nrz', [{ score: 1.5, value: 'x' }])).toBe(1);
      expect(await client.zScore('nrz', 'x')).toBe(1.5);
    } finally {
      await client.quit();
    }
  });
});

describe('raw bytes', () => {
  test('replies are exactly Redis framing', async () => {
    const expected = '+OK\r\n$3\r\na\0b\r\n+PONG\r\n-ERR value is not an integer or out of range\r\n$3\r\nx y\r\n';
    const r = await raw(
      '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\na\0b\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\nINCR k\r\nECHO "x y"\r\n',
      (text) => text.length >= expected.length,
    );
    expect(r.text).toBe(expected);
  });

  test('a protocol error is answered, then the connection is closed', async () => {
    const r = await raw('PING\r\n*1\r\n$x\r\n', (_text, closed) => closed);
    expect(r).toEqual({ text: '+PONG\r\n-ERR Protocol error: invalid bulk length\r\n', closed: true });
  });

  test('QUIT answers +OK and closes', async () => {
    expect(await raw('QUIT\r\nPING\r\n', (_text, closed) => closed)).toEqual({ text: '+OK\r\n', closed: true });
  });
});

describe('requirepass', () => {
  test('NOAUTH until AUTH; ioredis authenticates with the password option', async () => {
    const locked = await startServer(['--quiet', '--requirepass', 's3cret']);
    try {
      const r = await new Promise<string>((resolve) => {
        const sock = connect({ port: locked.respPort, host: '127.0.0.1' });
        let text = '';
        sock.on('data', (d) => {
          text += d.toString('latin1');
          // Four replies: wait for the last one's line.
          if (text.split('\r\n').length > 4) (sock.destroy(), resolve(text));
        });
        sock.on('connect', () => sock.write('GET k\r\nAUTH wrong\r\nAUTH s3cret\r\nGET k\r\n'));
      });
      expect(r).toBe('-NOAUTH Authentication required.\r\n-WRONGPASS invalid username-password pair or user is disabled.\r\n+OK\r\n$-1\r\n');
      const client = new Redis({ port: locked.respPort, host: '127.0.0.1', password: 's3cret', lazyConnect: true });
      await client.connect();
      expect(await client.ping()).toBe('PONG');
      client.disconnect();
    } finally {
      await locked.stop();
    }
  });
});

describe('SCAN', () => {
  test('a cursor walk with a small COUNT returns every key present throughout, once', async () => {
    const keep: string[] = [];
    const pipe = redis.pipeline();
    for (let i = 0; i < 600; i++) {
      keep.push(`scan:keep:${i}`);
      pipe.set(`scan:keep:${i}`, 'v');
      pipe.set(`scan:gone:${i}`, 'v');
    }
    await pipe.exec();
    const seen = new Map<string, number>();
    let cursor = '0';
    let calls = 0;
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', 'scan:*', 'COUNT', 20);
      for (const k of keys) seen.set(k, (seen.get(k) ?? 0) + 1);
      // The keyspace changes under the walk: keys come and go.
      if (calls === 3) for (let i = 0; i < 600; i++) await redis.del(`scan:gone:${i}`);
      if (calls === 5) await redis.set('scan:new', 'v');
      cursor = next;
      calls++;
    } while (cursor !== '0');
    expect(calls).toBeGreaterThan(5);
    for (const k of keep) expect(seen.get(k)).toBe(1);
    await redis.del(...keep, 'scan:new');
  });
});
