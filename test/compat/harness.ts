// The differential harness: one real redis-server and one redloop, the same
// command sequences sent to both over raw RESP, replies compared byte for byte.
//
//   const servers = useServers();            // in a describe(): starts both, stops both
//   await servers.same([['SET', 'k', 'v'], ['GET', 'k']]);   // throws on the first difference
//
// A step is an argument list, or { cmd, match } where match relaxes the
// comparison for replies whose order or value Redis leaves open:
//   'unordered'  the same multiset of array elements (KEYS, SMEMBERS, ...);
//   'shape'      the same reply type and array length (random picks);
//   'approx'     integers within 100 (PTTL and TTL, read a few ms apart);
//   'hello'      HELLO's reply with its server version and client id masked.
// { sleepMs } waits (to let short TTLs pass).
//
// RESP3: `useServers(args, { resp: 3 })` (or COMPAT_RESP=3 for a whole run)
// sends HELLO 3 on every connection it opens, to both servers, before any
// step; every reply is then compared in RESP3's bytes.
//
// Several clients at once (blocked clients, WATCH, pub/sub): `clients(n)` opens
// n connections to each server, and `script(n, steps)` runs an interleaved
// script over them, comparing every reply byte for byte:
//
//   await servers.script(2, [
//     { send: 0, cmd: ['BLPOP', 'q', '0'] },   // sent; its reply is read later
//     { quiet: 0 },                             // no reply yet (see Clients.quiet)
//     [1, ['LPUSH', 'q', 'x']],                 // connection 1: send, read, compare
//     { reply: 0 },                             // now connection 0's reply: [q, x]
//   ]);

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, connect, type Socket } from 'node:net';
import { afterAll, beforeAll, expect } from 'vitest';
import { encodeCommand, formatReply, parseReply, type RespReply } from '../../src/protocol/resp.js';
import { startServer, type TestServer } from '../helpers/server.js';

export type Match = 'exact' | 'unordered' | 'shape' | 'approx' | 'monitor' | 'hello';
export type Cmd = (string | Buffer)[];
export type Step = Cmd | { cmd: Cmd; match: Match } | { sleepMs: number };

/**
 * One step of a multi-client script. `c` is a connection index, 0..n-1; step
 * and index mean the same on both servers.
 * - [c, cmd] / [c, cmd, match]: send cmd on connection c, read its reply, compare;
 * - { send: c, cmd } / { send: c, raw }: send a command (or raw bytes, e.g. half
 *   a request) without reading anything;
 * - { reply: c, match? }: read the next reply on connection c (waiting for it:
 *   a blocked client's, a pushed message) and compare;
 * - { quiet: c | [c, ...] }: connection c has no reply, not even part of one, on
 *   either server (see Clients.quiet for why that is known and not guessed).
 */
export type ClientStep =
  | [c: number, cmd: Cmd]
  | [c: number, cmd: Cmd, match: Match]
  | { send: number; cmd: Cmd }
  | { send: number; raw: string | Buffer }
  | { reply: number; match?: Match }
  | { quiet: number | number[] }
  | { sleepMs: number };

/** A free TCP port (redis-server cannot take --port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Starts redis-server on a free port, without persistence; resolves once it answers. */
export async function startRedis(extra: string[] = []): Promise<{ port: number; proc: ChildProcess; stop(): Promise<void> }> {
  const port = await freePort();
  // Its own directory: a SAVE sent to it (the arity sweep sends every command) must not write into the work tree.
  const dir = mkdtempSync(join(tmpdir(), 'redloop-compat-redis-'));
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  proc.stdout!.on('data', (d) => (log += d));
  const exited = new Promise<void>((r) =>
    proc.once('exit', () => {
      rmSync(dir, { recursive: true, force: true });
      r();
    }),
  );
  for (let i = 0; i < 100; i++) {
    try {
      const c = await RawClient.connect(port);
      // It accepts connections while it loads its files (-LOADING): ready once PING answers otherwise.
      try {
        while ((await c.call(['PING'])).toString('latin1').startsWith('-LOADING')) await new Promise((r) => setTimeout(r, 10));
      } finally {
        c.close();
      }
      return { port, proc, stop: async () => (proc.kill('SIGTERM'), await exited) };
    } catch {
      if (proc.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  proc.kill('SIGKILL');
  throw new Error(`redis-server did not start on ${port}: ${log}`);
}

/** A raw RESP connection: send bytes, receive each reply as its exact bytes. */
export class RawClient {
  private buf = Buffer.alloc(0);
  private replies: Buffer[] = [];
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(readonly sock: Socket) {
    sock.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      for (;;) {
        const r = parseReply(this.buf);
        if (r === null) break;
        this.replies.push(Buffer.from(this.buf.subarray(0, r.size)));
        this.buf = this.buf.subarray(r.size);
      }
      this.wake();
    });
    sock.on('close', () => {
      this.closed = true;
      this.wake();
    });
    sock.on('error', () => {});
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const sock = connect({ port, host: '127.0.0.1' });
      sock.once('connect', () => resolve(new RawClient(sock)));
      sock.once('error', reject);
    });
  }

  write(bytes: Buffer | string): void {
    this.sock.write(bytes);
  }

  /** The next n replies' bytes (rejects on timeout, or if the connection closes first). */
  async next(n = 1, timeoutMs = 10_000): Promise<Buffer[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.replies.length < n) {
      if (this.closed) throw new Error(`connection closed with ${this.replies.length} of ${n} replies`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out with ${this.replies.length} of ${n} replies`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => (clearTimeout(t), r()));
      });
    }
    return this.replies.splice(0, n);
  }

  async call(args: (string | Buffer)[]): Promise<Buffer> {
    this.write(encodeCommand(args));
    return (await this.next(1))[0];
  }

  /** Resolves once the server has closed the connection (rejects after timeoutMs). */
  async waitClosed(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('connection still open');
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        this.waiters.push(() => (clearTimeout(t), r()));
      });
    }
  }

  /** Bytes received that do not (yet) form a whole reply. */
  rest(): Buffer {
    return this.buf;
  }

  /** The whole replies received and not read yet (by next/call), oldest first; they stay unread. */
  unread(): Buffer[] {
    return this.replies.slice();
  }

  close(): void {
    this.sock.destroy();
  }
}

function parsed(b: Buffer): RespReply {
  return parseReply(b)!.reply;
}

/** A canonical text for a reply in which every array's, set's and map's elements are sorted (recursively; a map by entry). */
function canonical(r: RespReply): string {
  switch (r.type) {
    case 'array':
      return r.items === null ? '*null' : `[${r.items.map(canonical).sort().join(',')}]`;
    case 'set':
    case 'push':
      return `${r.type}[${r.items.map(canonical).sort().join(',')}]`;
    case 'map': {
      const entries: string[] = [];
      for (let i = 0; i < r.items.length; i += 2) entries.push(`${canonical(r.items[i])}=>${canonical(r.items[i + 1])}`);
      return `map{${entries.sort().join(',')}}`;
    }
    case 'bulk':
      return r.value === null ? '$null' : `$${JSON.stringify(r.value.toString('latin1'))}`;
    case 'verbatim':
      return `=${r.format}:${JSON.stringify(r.value.toString('latin1'))}`;
    case 'null':
      return '_';
    default:
      return `${r.type}:${String(r.value)}`;
  }
}

/** A reply's text: a bulk string, verbatim string (its text), double or simple string; null otherwise. */
export function textOf(r: RespReply): string | null {
  if (r.type === 'bulk') return r.value === null ? null : r.value.toString('latin1');
  if (r.type === 'verbatim') return r.value.toString('latin1');
  if (r.type === 'double' || r.type === 'status') return r.value;
  return null;
}

/**
 * The elements of a reply of pairs (ZRANGE … WITHSCORES, HRANDFIELD …
 * WITHVALUES) as one flat list of texts, checking its shape for the version:
 * RESP2 a flat array, RESP3 an array of 2-element arrays.
 */
export function flatPairs(r: RespReply, resp: 2 | 3): string[] {
  if (r.type !== 'array' || r.items === null) throw new Error(`not an array: ${r.type}`);
  const items = resp === 2 ? r.items : r.items.flatMap((p) => {
    if (p.type !== 'array' || p.items?.length !== 2) throw new Error(`a RESP3 pair must be an array of 2, not ${p.type}`);
    return p.items;
  });
  return items.map((x) => textOf(x) ?? '?');
}

/** HELLO's reply (RESP2 array or RESP3 map; several inside an EXEC) with the version strings and client ids masked. */
export function maskHello(b: Buffer): string {
  return b
    .toString('latin1')
    .replace(/\$7\r\nversion\r\n\$\d+\r\n[^\r]*\r\n/g, '$7\r\nversion\r\nV\r\n')
    .replace(/\$2\r\nid\r\n:\d+\r\n/g, '$2\r\nid\r\nN\r\n');
}

/** Compares one reply pair under a match mode; returns a description of the difference, or null. */
export function compareReplies(redis: Buffer, ours: Buffer, match: Match): string | null {
  if (match === 'monitor') {
    // A MONITOR line: `+<unix time> [<db> <client address>] "cmd" ...` — the time and address differ.
    const strip = (b: Buffer) => b.toString('latin1').replace(/^\+\d+\.\d{6} \[(\d+) [^\]]*\]/, '+T [$1 ADDR]');
    return strip(redis) === strip(ours) && /^\+\d+\.\d{6} \[/.test(ours.toString('latin1')) ? null : 'monitor lines differ';
  }
  if (match === 'hello') return maskHello(redis) === maskHello(ours) && /^[*%]/.test(maskHello(ours)) ? null : 'HELLO replies differ';
  if (match === 'exact' || redis.equals(ours)) return redis.equals(ours) ? null : 'bytes differ';
  const a = parsed(redis);
  const b = parsed(ours);
  if (a.type !== b.type) return 'reply types differ';
  if (match === 'unordered') {
    return canonical(a) === canonical(b) ? null : 'elements differ';
  }
  if (match === 'shape') {
    if (a.type === 'array' && b.type === 'array') return (a.items?.length ?? -1) === (b.items?.length ?? -1) ? null : 'lengths differ';
    if ((a.type === 'map' || a.type === 'set') && a.type === b.type) return a.items.length === b.items.length ? null : 'lengths differ';
    if (a.type === 'verbatim' && b.type === 'verbatim') return a.format === b.format ? null : 'formats differ';
    if (a.type === 'error' || a.type === 'status') return a.value === (b as typeof a).value ? null : 'messages differ';
    if (a.type === 'bulk' && b.type === 'bulk') return (a.value === null) === (b.value === null) ? null : 'nil vs value';
    return null;
  }
  // approx
  if (a.type === 'int' && b.type === 'int') {
    const d = a.value - b.value;
    return d >= -100n && d <= 100n ? null : 'integers differ by more than 100';
  }
  return 'bytes differ';
}

const show = (b: Buffer) => JSON.stringify(b.toString('latin1')).slice(0, 400);
const showCmd = (c: (string | Buffer)[]) => c.map((a) => (typeof a === 'string' ? a : `<${a.length} bytes>`)).join(' ').slice(0, 200);

/** n connections to each server, paired by index: connection i is redis[i] and ours[i]. */
export interface Clients {
  readonly redis: RawClient[];
  readonly ours: RawClient[];
  /** Runs the steps in order; fails the test at the first difference (a step after it would be out of step). */
  run(steps: ClientStep[]): Promise<void>;
  /**
   * Fails unless connections cs (default: all) have nothing received and
   * unread on either server. To know that a reply is not merely still on its
   * way, it first makes three PING round trips on another connection to the
   * same server (Servers.redis / Servers.ours), then lets Node deliver what its
   * sockets hold; no sleeping. Why that suffices:
   * 1. Everything sent on cs was written before the first PING. On loopback
   *    TCP, Linux queues a write()'s bytes at the receiving socket before the
   *    call returns (the loopback device delivers them in the sender's own
   *    softirq; this is the one assumption here), so the server found those requests readable no later than
   *    that PING, and an event loop (redis-server's, redloop's) runs every
   *    readable connection of an iteration: it ran them in the first PING's
   *    iteration at the latest. (redloop leaves a connection's requests past
   *    the 1000th of an iteration for the next one: scripts send fewer.)
   * 2. The second PING leaves only after the first PONG arrived, so the server
   *    reads it in a later iteration. Both servers write the replies an
   *    iteration produced before the next iteration reads anything
   *    (redis-server in beforeSleep, redloop on every backend at once after
   *    each connection's requests), so any reply to cs was written before the second PONG was,
   *    and (loopback again) was in cs's socket before that PONG was in ours.
   * 3. Node reads every socket one epoll_wait reported before it runs
   *    setImmediate callbacks. After the second PONG and one setImmediate,
   *    whatever the server wrote to cs has reached RawClient's buffer.
   * (One round trip would not do: within one iteration redis-server may write
   * the PONG before another connection's reply.) A reply that a later event
   * causes (LPUSH waking a BLPOP) is read with { reply: c }, which waits for it.
   */
  quiet(cs?: number[]): Promise<void>;
  close(): void;
}

export interface Servers {
  /** The RESP version every connection of this suite speaks (HELLO 3 sent on opening for 3). */
  readonly resp: 2 | 3;
  redis: RawClient;
  ours: RawClient;
  redisPort: number;
  oursPort: number;
  ourServer: TestServer;
  /** FLUSHALL on both, then every step on both; expects the same replies. */
  same(steps: Step[]): Promise<void>;
  /** Opens n connections to each server (the caller closes them). */
  clients(n: number): Promise<Clients>;
  /**
   * FLUSHALL on both, n fresh connections to each, the steps, then a check that
   * no connection holds a reply the script did not read; closes the connections.
   */
  script(n: number, steps: ClientStep[]): Promise<void>;
}

/** REDLOOP_LOOP=epoll|libuv runs the suite against another backend (default: poll). */
const LOOP = process.env.REDLOOP_LOOP ? ['--loop', process.env.REDLOOP_LOOP] : [];

/** COMPAT_RESP=3 runs every suite's connections in RESP3 (default: RESP2, no HELLO sent). */
const DEFAULT_RESP: 2 | 3 = process.env.COMPAT_RESP === '3' ? 3 : 2;

/**
 * Connects to port and, for RESP3, sends HELLO 3 first and checks its reply
 * is a RESP3 map saying proto 3 (on both servers, so that a failure to switch
 * is found here rather than as a confusing difference later).
 */
export async function connectResp(port: number, resp: 2 | 3): Promise<RawClient> {
  const c = await RawClient.connect(port);
  if (resp === 3) {
    const hello = await c.call(['HELLO', '3']);
    if (!/^%7\r\n[\s\S]*\$5\r\nproto\r\n:3\r\n/.test(hello.toString('latin1'))) {
      c.close();
      throw new Error(`HELLO 3 on port ${port} answered ${JSON.stringify(hello.toString('latin1'))}`);
    }
  }
  return c;
}

/** Starts redis-server and redloop for the enclosing describe() and stops them after it. */
export function useServers(redloopArgs: string[] = [], opts: { resp?: 2 | 3; redisArgs?: string[] } = {}): Servers {
  const resp = opts.resp ?? DEFAULT_RESP;
  const servers = { resp } as Servers;
  let redis: Awaited<ReturnType<typeof startRedis>>;
  beforeAll(async () => {
    [redis, servers.ourServer] = await Promise.all([startRedis(opts.redisArgs), startServer(['--quiet', ...LOOP, ...redloopArgs])]);
    servers.redisPort = redis.port;
    servers.oursPort = servers.ourServer.respPort;
    servers.redis = await connectResp(redis.port, resp);
    servers.ours = await connectResp(servers.oursPort, resp);
  });
  afterAll(async () => {
    servers.redis?.close();
    servers.ours?.close();
    await Promise.all([redis?.stop(), servers.ourServer?.stop()]);
  });
  servers.same = async (steps: Step[]) => {
    await servers.redis.call(['FLUSHALL']);
    await servers.ours.call(['FLUSHALL']);
    const problems: string[] = [];
    for (const step of steps) {
      if ('sleepMs' in step) {
        await new Promise((r) => setTimeout(r, step.sleepMs));
        continue;
      }
      const { cmd, match } = Array.isArray(step) ? { cmd: step, match: 'exact' as Match } : step;
      const [a, b] = await Promise.all([servers.redis.call(cmd), servers.ours.call(cmd)]);
      const diff = compareReplies(a, b, match);
      if (diff !== null) problems.push(`${showCmd(cmd)}: ${diff}\n  redis:   ${show(a)}\n  redloop: ${show(b)}`);
    }
    expect(problems.join('\n')).toBe('');
  };
  servers.clients = (n: number) => openClients(servers, n);
  servers.script = async (n: number, steps: ClientStep[]) => {
    await servers.redis.call(['FLUSHALL']);
    await servers.ours.call(['FLUSHALL']);
    const clients = await servers.clients(n);
    try {
      await clients.run(steps);
      await clients.quiet();
    } finally {
      clients.close();
    }
  };
  return servers;
}

/** Lets Node run the I/O callbacks of the sockets its last poll found ready (see Clients.quiet, point 3). */
const afterPendingIo = () => new Promise<void>((r) => setImmediate(r));

async function openClients(servers: Servers, n: number): Promise<Clients> {
  const redis: RawClient[] = [];
  const ours: RawClient[] = [];
  try {
    for (let i = 0; i < n; i++) {
      redis.push(await connectResp(servers.redisPort, servers.resp));
      ours.push(await connectResp(servers.oursPort, servers.resp));
    }
  } catch (e) {
    for (const c of [...redis, ...ours]) c.close();
    throw e;
  }
  const fail = (problem: string): never => {
    throw new Error(problem);
  };
  const check = (c: number) => {
    if (!Number.isInteger(c) || c < 0 || c >= n) throw new Error(`no connection ${c} (there are ${n})`);
  };
  /** Reads the next reply of connection c on both servers and compares them. */
  const compareNext = async (c: number, match: Match, what: string) => {
    const [a, b] = await Promise.allSettled([redis[c].next(1), ours[c].next(1)]);
    if (a.status === 'rejected' || b.status === 'rejected') {
      const say = (r: PromiseSettledResult<Buffer[]>) => (r.status === 'fulfilled' ? show(r.value[0]) : `no reply (${String(r.reason)})`);
      fail(`${what}: the servers differ\n  redis:   ${say(a)}\n  redloop: ${say(b)}`);
      return;
    }
    const diff = compareReplies(a.value[0], b.value[0], match);
    if (diff !== null) fail(`${what}: ${diff}\n  redis:   ${show(a.value[0])}\n  redloop: ${show(b.value[0])}`);
  };
  const clients: Clients = {
    redis,
    ours,
    async quiet(cs = Array.from({ length: n }, (_, i) => i)) {
      cs.forEach(check);
      // Three rounds, not two: a connection opened just before may be accepted in the
      // iteration that serves the first PING and read only in the next, where its reply
      // can be written after the second PONG; the third PONG comes after it for sure.
      for (let round = 0; round < 3; round++) {
        const [a, b] = await Promise.all([servers.redis.call(['PING']), servers.ours.call(['PING'])]);
        if (a.toString() !== '+PONG\r\n' || b.toString() !== '+PONG\r\n') fail(`PING on the witness connection: ${show(a)} / ${show(b)}`);
      }
      await afterPendingIo();
      const problems: string[] = [];
      for (const c of cs) {
        for (const [name, conn] of [['redis', redis[c]], ['redloop', ours[c]]] as const) {
          const got = [...conn.unread(), ...(conn.rest().length > 0 ? [conn.rest()] : [])];
          if (got.length > 0) problems.push(`connection ${c}: ${name} has a reply nobody read: ${got.map(show).join(' ')}`);
        }
      }
      if (problems.length > 0) fail(problems.join('\n'));
    },
    async run(steps: ClientStep[]) {
      for (const [i, step] of steps.entries()) {
        if ('sleepMs' in step) {
          // Only to let a TTL pass (never to wait for a reply: replies are read).
          await new Promise((r) => setTimeout(r, step.sleepMs));
        } else if (Array.isArray(step)) {
          const [c, cmd, match = 'exact'] = step;
          check(c);
          const bytes = encodeCommand(cmd);
          redis[c].write(bytes);
          ours[c].write(bytes);
          await compareNext(c, match, `step ${i}, connection ${c}: ${showCmd(cmd)}`);
        } else if ('send' in step) {
          check(step.send);
          const bytes = 'cmd' in step ? encodeCommand(step.cmd) : step.raw;
          redis[step.send].write(bytes);
          ours[step.send].write(bytes);
        } else if ('reply' in step) {
          check(step.reply);
          await compareNext(step.reply, step.match ?? 'exact', `step ${i}, connection ${step.reply}: the awaited reply`);
        } else {
          await clients.quiet(typeof step.quiet === 'number' ? [step.quiet] : step.quiet);
        }
      }
    },
    close() {
      for (const c of [...redis, ...ours]) c.close();
    },
  };
  return clients;
}

export { formatReply };
