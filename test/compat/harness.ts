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
//   'approx'     integers within 100 (PTTL and TTL, read a few ms apart).
// { sleepMs } waits (to let short TTLs pass).

import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect, type Socket } from 'node:net';
import { afterAll, beforeAll, expect } from 'vitest';
import { encodeCommand, formatReply, parseReply, type RespReply } from '../../src/protocol/resp.js';
import { startServer, type TestServer } from '../helpers/server.js';

export type Match = 'exact' | 'unordered' | 'shape' | 'approx';
export type Step = (string | Buffer)[] | { cmd: (string | Buffer)[]; match: Match } | { sleepMs: number };

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
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  proc.stdout!.on('data', (d) => (log += d));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  for (let i = 0; i < 100; i++) {
    try {
      const c = await RawClient.connect(port);
      c.close();
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

  close(): void {
    this.sock.destroy();
  }
}

function parsed(b: Buffer): RespReply {
  return parseReply(b)!.reply;
}

/** A canonical text for a reply in which every array's elements are sorted (recursively). */
function canonical(r: RespReply): string {
  switch (r.type) {
    case 'array':
      return r.items === null ? '*null' : `[${r.items.map(canonical).sort().join(',')}]`;
    case 'bulk':
      return r.value === null ? '$null' : `$${JSON.stringify(r.value.toString('latin1'))}`;
    default:
      return `${r.type}:${String(r.value)}`;
  }
}

/** Compares one reply pair under a match mode; returns a description of the difference, or null. */
export function compareReplies(redis: Buffer, ours: Buffer, match: Match): string | null {
  if (match === 'exact' || redis.equals(ours)) return redis.equals(ours) ? null : 'bytes differ';
  const a = parsed(redis);
  const b = parsed(ours);
  if (a.type !== b.type) return 'reply types differ';
  if (match === 'unordered') {
    return canonical(a) === canonical(b) ? null : 'elements differ';
  }
  if (match === 'shape') {
    if (a.type === 'array' && b.type === 'array') return (a.items?.length ?? -1) === (b.items?.length ?? -1) ? null : 'lengths differ';
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

export interface Servers {
  redis: RawClient;
  ours: RawClient;
  redisPort: number;
  oursPort: number;
  ourServer: TestServer;
  /** FLUSHALL on both, then every step on both; expects the same replies. */
  same(steps: Step[]): Promise<void>;
}

/** Starts redis-server and redloop for the enclosing describe() and stops them after it. */
/** REDLOOP_LOOP=epoll|libuv runs the suite against another backend (default: poll). */
const LOOP = process.env.REDLOOP_LOOP ? ['--loop', process.env.REDLOOP_LOOP] : [];

export function useServers(redloopArgs: string[] = []): Servers {
  const servers = {} as Servers;
  let redis: Awaited<ReturnType<typeof startRedis>>;
  beforeAll(async () => {
    [redis, servers.ourServer] = await Promise.all([startRedis(), startServer(['--quiet', ...LOOP, ...redloopArgs])]);
    servers.redisPort = redis.port;
    servers.oursPort = servers.ourServer.respPort;
    servers.redis = await RawClient.connect(redis.port);
    servers.ours = await RawClient.connect(servers.oursPort);
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
  return servers;
}

export { formatReply };
