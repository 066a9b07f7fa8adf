#!/usr/bin/env node
// redloop fuzz: starts a server and, for a bounded time, has many connections
// send random and mutated frames to both ports — valid requests, valid ones
// with flipped bytes, truncated ones, huge declared lengths, random bytes,
// all split at random points — and hang up in different ways (close, half-
// close, reset). A control client writes keys first, checks the server keeps
// answering during the run, and at the end verifies every key is intact on the
// book port and over RESP. Exits 1 on any failure (the seed replays the run).
//
//   npm run fuzz -- --seconds 60 [--seed N] [--conns 16] [--loop poll|epoll]

import { parseArgs } from 'node:util';
import { connect, type Socket } from 'node:net';
import { encodeRequest, K_MAX_MSG, type BookValue } from '../protocol/book.js';
import { ControlClient, cpuSeconds, fdCount, rssBytes, spawnServer, type LiveServer } from './live_server.js';
import { prng } from '../util/prng.js';

type Rng = () => number;

interface Stats {
  connections: number;
  frames: number;
  bytesSent: number;
  bytesReceived: number;
  closedByServer: number;
  resetsSent: number;
  clientErrors: Map<string, number>;
  healthChecks: number;
  maxHealthMs: number;
}

const int = (rng: Rng, n: number) => Math.floor(rng() * n);
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[int(rng, xs.length)];

function randomBytes(rng: Rng, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = int(rng, 256);
  return b;
}

/** An argument: usually short and printable, sometimes binary, numeric, odd or long. */
function randomArg(rng: Rng): string {
  const r = rng();
  if (r < 0.4) return `fz:${int(rng, 64)}`;
  if (r < 0.6) return pick(rng, ['0', '1', '-1', '3.5', 'nan', 'inf', '-inf', '1e400', '9223372036854775808', '-9223372036854775809', '', ' ', '0x10']);
  if (r < 0.97) return randomBytes(rng, int(rng, 40)).toString('latin1');
  return randomBytes(rng, int(rng, 4096)).toString('latin1');
}

// Commands the fuzzer may send in valid frames. Nothing that flushes, renames,
// reconfigures or shuts down: the control keys (ctl:*) must survive by design,
// and the fuzzer's own keys are fz:*. No APPEND either: it grows values without
// bound, and a burst of GETs of them turns the run into a bandwidth test.
const BOOK_COMMANDS: [string, number][] = [
  // (del is listed thrice so that the fuzzer's lists and sets stay small.)
  ['get', 1], ['set', 2], ['del', 1], ['del', 1], ['del', 1], ['keys', 0], ['pexpire', 2], ['pttl', 1],
  ['zadd', 3], ['zrem', 2], ['zscore', 2], ['zquery', 5],
  ['hset', 3], ['hget', 2], ['hdel', 2], ['hgetall', 1], ['hlen', 1],
  ['lpush', 2], ['rpush', 2], ['lpop', 1], ['rpop', 1], ['lrange', 3], ['llen', 1],
  ['auth', 1], ['nosuch', 2],
];
const RESP_COMMANDS: [string, number][] = [
  ['PING', 0], ['ECHO', 1], ['GET', 1], ['SET', 2], ['DEL', 1], ['DEL', 1], ['DEL', 1], ['EXISTS', 1], ['INCR', 1],
  ['STRLEN', 1], ['MGET', 2], ['EXPIRE', 2], ['PEXPIRE', 2], ['TTL', 1], ['TYPE', 1], ['DBSIZE', 0],
  ['HSET', 3], ['HGET', 2], ['HGETALL', 1], ['LPUSH', 2], ['RPUSH', 2], ['LRANGE', 3], ['LPOP', 1],
  ['ZADD', 3], ['ZRANGE', 3], ['ZSCORE', 2], ['ZRANK', 2], ['SADD', 2], ['SMEMBERS', 1],
  ['INFO', 0], ['COMMAND', 1], ['HELLO', 1], ['AUTH', 1], ['NOSUCH', 1],
];

function randomRequest(rng: Rng, table: [string, number][]): string[] {
  const [name, n] = pick(rng, table);
  // Mostly the right number of arguments, sometimes not.
  const count = rng() < 0.85 ? n : int(rng, 7);
  const args = [rng() < 0.1 ? name.toUpperCase() === name ? name.toLowerCase() : name.toUpperCase() : name];
  // The key (first argument) is always one of fz:0..63, so that the
  // keyspace stays small (random key names would pile up and make KEYS huge).
  for (let i = 0; i < count; i++) args.push(i === 0 ? `fz:${int(rng, 64)}` : randomArg(rng));
  return args;
}

function bookFrame(args: string[]): Buffer {
  return encodeRequest(args.map((a) => Buffer.from(a, 'latin1')));
}

function respFrame(args: string[]): Buffer {
  const parts = [`*${args.length}\r\n`];
  for (const a of args) parts.push(`$${a.length}\r\n`, a, '\r\n');
  return Buffer.from(parts.join(''), 'latin1');
}

function respInline(rng: Rng, args: string[]): Buffer {
  const words = args.map((a) => {
    if (rng() < 0.1) return `"${a.replace(/[^\x20-\x7e]/g, '')}`; // unbalanced quote
    return /^[\x21-\x7e]+$/.test(a) && !/["'\\]/.test(a) ? a : `"${Buffer.from(a, 'latin1').toString('hex').replace(/(..)/g, '\\x$1')}"`;
  });
  return Buffer.from(`${words.join(' ')}${rng() < 0.8 ? '\r\n' : '\n'}`, 'latin1');
}

function flip(rng: Rng, b: Buffer): Buffer {
  const out = Buffer.from(b);
  const n = 1 + int(rng, 4);
  for (let i = 0; i < n && out.length; i++) out[int(rng, out.length)] = int(rng, 256);
  return out;
}

/** A frame with a declared length or count far beyond what follows. */
function hugeFrame(rng: Rng, resp: boolean): Buffer {
  if (!resp) {
    const b = Buffer.alloc(12 + int(rng, 32));
    b.writeUInt32LE(pick(rng, [K_MAX_MSG, K_MAX_MSG + 1, 0xffffffff, int(rng, 2 ** 32)]), 0);
    b.writeUInt32LE(pick(rng, [0xffffffff, 200_001, 200_000, int(rng, 2 ** 32)]), 4);
    b.writeUInt32LE(pick(rng, [0xffffffff, K_MAX_MSG, int(rng, 2 ** 32)]), 8);
    return b;
  }
  return Buffer.from(
    pick(rng, [
      `*${pick(rng, ['2147483648', '1048577', '99999999999999999999', '-5', '1048576'])}\r\n`,
      `*1\r\n$${pick(rng, ['536870912', '536870913', '2147483647', '-2', '9223372036854775808'])}\r\nabc`,
      `*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${pick(rng, ['536870911', '100000000'])}\r\nxyz`,
      'x'.repeat(70 * 1024), // an inline request over 64 KiB with no newline
      `*2\r\n${'$'.repeat(1 + int(rng, 3))}\r\n`,
    ]),
    'latin1',
  );
}

/** One frame of a random kind; `last` is true when nothing sensible can follow it. */
function randomFrame(rng: Rng, resp: boolean): { bytes: Buffer; last: boolean } {
  const valid = () => (resp ? (rng() < 0.8 ? respFrame : (a: string[]) => respInline(rng, a)) : bookFrame)(randomRequest(rng, resp ? RESP_COMMANDS : BOOK_COMMANDS));
  const r = rng();
  if (r < 0.35) return { bytes: valid(), last: false };
  if (r < 0.45) return { bytes: Buffer.concat(Array.from({ length: 10 + int(rng, 200) }, valid)), last: false };
  if (r < 0.7) return { bytes: flip(rng, valid()), last: false };
  if (r < 0.8) {
    const v = valid();
    return { bytes: v.subarray(0, int(rng, v.length)), last: true };
  }
  if (r < 0.9) return { bytes: hugeFrame(rng, resp), last: true };
  return { bytes: randomBytes(rng, 1 + int(rng, 512)), last: rng() < 0.5 };
}

function count(stats: Stats, key: string): void {
  stats.clientErrors.set(key, (stats.clientErrors.get(key) ?? 0) + 1);
}

/** One fuzzing connection: connect, send frames in random pieces, hang up in a random way. */
async function fuzzConnection(rng: Rng, port: number, resp: boolean, stats: Stats): Promise<void> {
  const sock: Socket = connect({ host: '127.0.0.1', port });
  let closed = false;
  let fatal: string | null = null;
  const closedP = new Promise<void>((resolve) =>
    sock.on('close', () => {
      closed = true;
      resolve();
    }),
  );
  sock.on('data', (d) => {
    stats.bytesReceived += d.length;
  });
  sock.on('error', (e: NodeJS.ErrnoException) => {
    const code = e.code ?? 'error';
    if (code === 'ECONNREFUSED') fatal = code;
    count(stats, code);
  });
  await new Promise<void>((resolve) => {
    sock.once('connect', () => resolve());
    sock.once('close', () => resolve());
  });
  if (fatal !== null) throw new Error(`cannot connect to port ${port}: ${fatal} (did the server die?)`);
  stats.connections++;
  const frames = 1 + int(rng, 30);
  for (let i = 0; i < frames && !closed; i++) {
    const { bytes, last } = randomFrame(rng, resp);
    stats.frames++;
    // Split at random points; give the loop a chance to read each piece apart.
    let off = 0;
    while (off < bytes.length && !closed) {
      const n = rng() < 0.5 ? bytes.length - off : 1 + int(rng, bytes.length - off);
      sock.write(bytes.subarray(off, off + n));
      stats.bytesSent += n;
      off += n;
      if (rng() < 0.3) await new Promise((r) => setTimeout(r, int(rng, 3)));
    }
    if (last) break;
  }
  if (closed) {
    stats.closedByServer++;
    return;
  }
  const how = rng();
  if (how < 0.2) {
    stats.resetsSent++;
    sock.resetAndDestroy();
  } else if (how < 0.4) {
    sock.destroy();
  } else {
    // Half-close and read until the server closes (bounded).
    sock.end();
    const timer = setTimeout(() => sock.destroy(), 3000);
    await closedP;
    clearTimeout(timer);
  }
}

/** Minimal RESP check: PING answers +PONG, GET answers the exact bulk string. */
function respCall(port: number, request: Buffer, expected: Buffer, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    let got = Buffer.alloc(0);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.on('connect', () => sock.write(request));
    sock.on('data', (d) => {
      got = Buffer.concat([got, d]);
      if (got.length >= expected.length) done(got.subarray(0, expected.length).equals(expected) && got.length === expected.length);
    });
    sock.on('error', () => done(false));
    sock.on('close', () => done(false));
  });
}

function sameValue(v: BookValue, expected: string): boolean {
  return v.type === 'str' && v.value.equals(Buffer.from(expected, 'latin1'));
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      seconds: { type: 'string', default: '10' },
      seed: { type: 'string' },
      conns: { type: 'string', default: '16' },
      'max-connections': { type: 'string', default: '1000000' },
      loop: { type: 'string', default: 'poll' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write('Usage: npm run fuzz -- [--seconds N] [--seed N] [--conns N] [--max-connections N] [--loop poll|epoll]\n');
    return 0;
  }
  const seconds = Number(values.seconds);
  const seed = values.seed !== undefined ? Number(values.seed) : Date.now() % 2 ** 31;
  const conns = Number(values.conns);
  const maxConnections = Number(values['max-connections']);
  if (!(seconds > 0) || !Number.isInteger(seed) || !(conns > 0) || !(maxConnections > 0)) {
    process.stderr.write('fuzz: --seconds, --seed, --conns and --max-connections take positive numbers\n');
    return 2;
  }
  process.stdout.write(`fuzz: seed ${seed}, ${seconds} s, ${conns} concurrent connections, loop ${values.loop}\n`);

  const server: LiveServer = await spawnServer(['--quiet', '--loop', values.loop!]);
  const failures: string[] = [];
  const stats: Stats = {
    connections: 0, frames: 0, bytesSent: 0, bytesReceived: 0, closedByServer: 0, resetsSent: 0,
    clientErrors: new Map(), healthChecks: 0, maxHealthMs: 0,
  };
  const rssStart = rssBytes(server.pid);
  try {
    // The control client's keys: binary values, a sorted set, a hash, a list.
    const ctlRng = prng(seed ^ 0x5eed);
    const ctl = await ControlClient.connect(server.bookPort);
    const keys = new Map<string, string>();
    for (let i = 0; i < 200; i++) {
      const v = randomBytes(ctlRng, int(ctlRng, 300)).toString('latin1');
      keys.set(`ctl:${i}`, v);
      const r = await ctl.call(['set', `ctl:${i}`, v]);
      if (r.type !== 'nil') throw new Error(`control set failed: ${JSON.stringify(r)}`);
    }
    await ctl.call(['zadd', 'ctl:z', '1.5', 'one']);
    await ctl.call(['hset', 'ctl:h', 'f', 'v']);
    const ping = Buffer.from('*1\r\n$4\r\nPING\r\n', 'latin1');
    const respOk = await respCall(server.respPort, ping, Buffer.from('+PONG\r\n'), 2000);
    if (!respOk) process.stdout.write('fuzz: RESP does not answer PING yet; its port is fuzzed, its replies not checked\n');

    // Health checks during the run: the control client is served throughout.
    const deadline = Date.now() + seconds * 1000;
    let running = true;
    const health = (async () => {
      const keyList = [...keys.keys()];
      while (running && failures.length === 0) {
        const k = keyList[int(ctlRng, keyList.length)];
        const t0 = Date.now();
        try {
          const v = await ctl.call(['get', k]);
          if (!sameValue(v, keys.get(k)!)) failures.push(`control key ${k} changed during the run: ${JSON.stringify(v)}`);
        } catch (e) {
          failures.push(`control client during the run: ${(e as Error).message}`);
        }
        stats.healthChecks++;
        stats.maxHealthMs = Math.max(stats.maxHealthMs, Date.now() - t0);
        await new Promise((r) => setTimeout(r, 200));
      }
    })();

    const workers = Array.from({ length: conns }, async (_, w) => {
      const rng = prng(seed + w * 7919);
      while (Date.now() < deadline && failures.length === 0 && stats.connections < maxConnections) {
        const resp = rng() < 0.5;
        try {
          await fuzzConnection(rng, resp ? server.respPort : server.bookPort, resp, stats);
        } catch (e) {
          failures.push((e as Error).message);
        }
        if (server.exited() && !failures.includes('the server exited during the run')) failures.push('the server exited during the run');
      }
    });
    await Promise.all(workers);
    running = false;
    await health;

    // The verdict: alive, every control key intact, on both protocols.
    if (server.exited()) failures.push('the server is not running at the end');
    else {
      for (const [k, v] of keys) {
        const got = await ctl.call(['get', k]).catch((e: Error) => e);
        if (got instanceof Error || !sameValue(got, v)) {
          failures.push(`control key ${k}: ${got instanceof Error ? got.message : JSON.stringify(got)}`);
          break;
        }
      }
      const z = await ctl.call(['zscore', 'ctl:z', 'one']).catch((e: Error) => e);
      if (z instanceof Error || z.type !== 'dbl' || z.value !== 1.5) failures.push(`control zset: ${JSON.stringify(z)}`);
      const h = await ctl.call(['hget', 'ctl:h', 'f']).catch((e: Error) => e);
      if (h instanceof Error || !sameValue(h, 'v')) failures.push(`control hash: ${JSON.stringify(h)}`);
      const fresh = await ControlClient.connect(server.bookPort).catch((e: Error) => e);
      if (fresh instanceof Error) failures.push(`a new book connection fails: ${fresh.message}`);
      else {
        const v = await fresh.call(['get', 'ctl:0']).catch((e: Error) => e);
        if (v instanceof Error || !sameValue(v, keys.get('ctl:0')!)) failures.push('a new book connection does not see ctl:0');
        fresh.close();
      }
      if (respOk) {
        const v = keys.get('ctl:1')!;
        const get = Buffer.from(`*2\r\n$3\r\nGET\r\n$5\r\nctl:1\r\n`, 'latin1');
        const want = Buffer.from(`$${v.length}\r\n${v}\r\n`, 'latin1');
        if (!(await respCall(server.respPort, get, want, 5000))) failures.push('RESP GET ctl:1 does not return the control value');
        if (!(await respCall(server.respPort, ping, Buffer.from('+PONG\r\n'), 5000))) failures.push('RESP PING fails at the end');
      }
    }
    ctl.close();
  } catch (e) {
    failures.push((e as Error).message);
  }

  const alive = !server.exited();
  const rssEnd = alive ? rssBytes(server.pid) : 0;
  const fds = alive ? fdCount(server.pid) : 0;
  const cpu = alive ? cpuSeconds(server.pid) : 0;
  const code = await server.stop();
  if (alive && code !== 0) failures.push(`the server exited with ${code} on SIGTERM`);

  const mib = (n: number) => (n / 2 ** 20).toFixed(1);
  const errs = [...stats.clientErrors].map(([k, v]) => `${k}=${v}`).join(' ') || 'none';
  process.stdout.write(
    [
      `fuzz: ${stats.connections} connections, ${stats.frames} frames, ${mib(stats.bytesSent)} MiB sent, ${mib(stats.bytesReceived)} MiB received`,
      `fuzz: ${stats.closedByServer} closed by the server, ${stats.resetsSent} resets sent; client-side socket errors: ${errs}`,
      `fuzz: ${stats.healthChecks} health checks, slowest ${stats.maxHealthMs} ms`,
      `fuzz: server RSS ${mib(rssStart)} → ${mib(rssEnd)} MiB, ${fds} fds open at the end, ${cpu.toFixed(1)} s CPU`,
      '',
    ].join('\n'),
  );
  if (failures.length) {
    process.stdout.write(`fuzz: FAILED (seed ${seed}):\n  ${failures.slice(0, 10).join('\n  ')}\n`);
    process.stdout.write(`fuzz: server stderr (tail):\n${server.stderrTail()}\n`);
    return 1;
  }
  process.stdout.write(`fuzz: OK (seed ${seed})\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(`fuzz: ${e.stack ?? e.message}\n`);
    process.exit(1);
  },
);
