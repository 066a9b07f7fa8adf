// The load generator behind redloop-bench and the suite. Closed loop: each of
// C connections sends a batch of P pre-encoded requests with one write, waits
// until all P replies are back, records their latency, sends the next batch.
// It is built not to be the bottleneck it measures: requests are slices of one
// pre-encoded pool (no per-request encoding or allocation), replies are
// counted by skipping lengths (src/bench/replies.ts), not decoded. It measures
// throughput, latency percentiles (HdrHistogram), the server's CPU time from
// /proc/<pid>/stat and its own CPU, over the same window.

import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { encodeRequest } from '../protocol/book.js';
import * as sys from '../sys/index.js';
import { Window } from './measure.js';
import { driveRaw } from './rawdrive.js';
import { BookReplyCounter, RespReplyCounter, type ReplyCounter } from './replies.js';

export type Protocol = 'book' | 'resp';
export type BenchCommand = 'get' | 'set';

export interface MixEntry {
  command: BenchCommand;
  weight: number;
}

export interface LoadOptions {
  host: string;
  port: number;
  protocol: Protocol;
  /** Active connections (C). */
  connections: number;
  /** Requests per batch per connection (P); 1 = no pipelining. */
  pipeline: number;
  /** Stop after this many requests (-n)... */
  requests?: number;
  /** ...or after this many seconds (-d). */
  durationSec?: number;
  /** Load without measuring first, so the server's JIT and caches settle. */
  warmupSec?: number;
  /** Keys are key:000000000000 .. key:(keyspace-1). */
  keyspace: number;
  valueSize: number;
  mix: MixEntry[];
  /** Extra connections opened before the run that send one request and then nothing. */
  idle?: number;
  /** Use (and grow) this pool for the idle connections instead of a private one. */
  idlePool?: IdlePool;
  /** SET every key of the keyspace once before the run (so GETs find values). */
  prefill?: boolean;
  /** The server's pid, for its CPU time; null = not measured. */
  serverPid?: number | null;
  /** PRNG seed for the request pool. */
  seed?: number;
  /**
   * How the active connections are driven: 'raw' (default for a numeric IPv4
   * host) makes the syscalls itself through redloop's addon — epoll_wait, read,
   * write — at a fraction of the CPU node:net spends per request; 'net' uses
   * node:net sockets on Node's libuv loop.
   */
  engine?: 'raw' | 'net';
  /**
   * Builds the request for a key instead of the mix (GET or SET), e.g. an
   * EVALSHA on that key; `label` then names it in the result's `mix`.
   */
  request?: { label: string; build: (key: string) => string[] };
}

export interface LoadResult {
  protocol: Protocol;
  engine: 'raw' | 'net';
  connections: number;
  pipeline: number;
  idle: number;
  valueSize: number;
  keyspace: number;
  mix: string;
  /** Replies received inside the measured window. */
  requests: number;
  /** Error replies inside the window. */
  errors: number;
  /** Connections the server closed or reset during the run. */
  disconnects: number;
  elapsedSec: number;
  /** Requests per second. */
  throughput: number;
  /** Per-request latency (batch written → its reply read), microseconds. */
  latencyUs: { p50: number; p99: number; p999: number; max: number; mean: number };
  /** Server user+sys CPU time in the window (µs), or null if no pid was given. */
  serverCpuUs: number | null;
  serverCpuUsPerRequest: number | null;
  /** Server CPU as a share of one core over the window (%). */
  serverCpuPercent: number | null;
  clientCpuUs: number;
  clientCpuUsPerRequest: number;
  clientCpuPercent: number;
}

/** "get:50,set:50" → entries; a bare "get" means 100% get. */
export function parseMix(spec: string): MixEntry[] {
  const out: MixEntry[] = [];
  for (const part of spec.split(',')) {
    const [name, w] = part.trim().split(':');
    const command = name.toLowerCase();
    if (command !== 'get' && command !== 'set') throw new Error(`--mix: unknown command '${name}' (get, set)`);
    const weight = w === undefined ? 1 : Number(w);
    if (!(weight > 0)) throw new Error(`--mix: bad weight '${w}' for ${name}`);
    out.push({ command, weight });
  }
  if (out.length === 0) throw new Error('--mix is empty');
  return out;
}

export function mixName(mix: MixEntry[]): string {
  return mix.map((m) => `${m.command}:${m.weight}`).join(',');
}

export function keyName(i: number): string {
  return `key:${String(i).padStart(12, '0')}`;
}

/** One request's bytes in either protocol. */
export function encodeCommand(protocol: Protocol, args: string[]): Buffer {
  if (protocol === 'book') return encodeRequest(args);
  let s = `*${args.length}\r\n`;
  for (const a of args) s += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
  return Buffer.from(s, 'latin1');
}

export function newCounter(protocol: Protocol): ReplyCounter {
  return protocol === 'book' ? new BookReplyCounter() : new RespReplyCounter();
}

/** xorshift32: a deterministic pool, so runs are comparable. */
export function rng(seed: number): () => number {
  let x = seed | 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

/** Requests are slices of this pool: entry i is bytes[offsets[i], offsets[i+1]). */
export interface RequestPool {
  bytes: Buffer;
  offsets: Float64Array;
  /** Distinct entries; the `pipeline` entries after them repeat the first ones, so a batch never wraps. */
  size: number;
}

const POOL_BYTES = 16 << 20;

function buildPool(o: LoadOptions): RequestPool {
  const value = 'x'.repeat(o.valueSize);
  const approx = o.valueSize + 64;
  const size = Math.max(o.pipeline * 4, 64, Math.min(8192, Math.floor(POOL_BYTES / approx)));
  const rand = rng(o.seed ?? 1);
  const total = o.mix.reduce((a, m) => a + m.weight, 0);
  const parts: Buffer[] = [];
  for (let i = 0; i < size; i++) {
    let r = rand() * total;
    let cmd = o.mix[o.mix.length - 1].command;
    for (const m of o.mix) {
      if (r < m.weight) {
        cmd = m.command;
        break;
      }
      r -= m.weight;
    }
    const key = keyName(Math.floor(rand() * o.keyspace));
    const args = o.request !== undefined ? o.request.build(key) : cmd === 'get' ? ['GET', key] : ['SET', key, value];
    parts.push(encodeCommand(o.protocol, args));
  }
  for (let i = 0; i < o.pipeline; i++) parts.push(parts[i]);
  const offsets = new Float64Array(parts.length + 1);
  for (let i = 0; i < parts.length; i++) offsets[i + 1] = offsets[i] + parts[i].length;
  return { bytes: Buffer.concat(parts), offsets, size };
}

const CONNECT_TIMEOUT_MS = 15_000;

/** Connects, with a clear error instead of a hang. */
export function connect(host: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port, noDelay: true });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`connect ${host}:${port}: timed out`));
    }, CONNECT_TIMEOUT_MS);
    s.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    s.once('connect', () => {
      clearTimeout(timer);
      s.removeAllListeners('error');
      resolve(s);
    });
  });
}

/** Sends `req` on `s` and resolves once `count` replies have come back; an error reply rejects. */
export function roundTrip(s: net.Socket, protocol: Protocol, req: Uint8Array, count: number, timeoutMs = CONNECT_TIMEOUT_MS): Promise<void> {
  return new Promise((resolve, reject) => {
    const counter = newCounter(protocol);
    let got = 0;
    let head = ''; // the start of the response, for error messages
    const timer = setTimeout(() => finish(new Error(`no reply from ${s.remoteAddress}:${s.remotePort} within ${timeoutMs} ms`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      if (head.length < 200) head += chunk.toString('latin1', 0, Math.min(chunk.length, 200));
      got += counter.feed(chunk, 0, chunk.length);
      if (got >= count) finish(null);
    };
    const onEnd = () => finish(new Error('connection closed by the server'));
    const finish = (err: Error | null) => {
      clearTimeout(timer);
      s.off('data', onData);
      s.off('close', onEnd);
      s.off('error', onEnd);
      if (err) reject(err);
      else if (counter.errors > 0) reject(new Error(`error reply: ${JSON.stringify(head.slice(0, 200))}`));
      else resolve();
    };
    s.on('data', onData);
    s.on('close', onEnd);
    s.on('error', onEnd);
    s.write(req);
  });
}

/** Whether the server at host:port answers a GET in `protocol` within timeoutMs. */
export async function probe(host: string, port: number, protocol: Protocol, timeoutMs = 3000): Promise<boolean> {
  let s: net.Socket | null = null;
  try {
    s = await connect(host, port);
    await roundTrip(s, protocol, encodeCommand(protocol, ['GET', keyName(0)]), 1, timeoutMs);
    return true;
  } catch {
    return false;
  } finally {
    s?.destroy();
  }
}

/**
 * Connections that each send one request (so the server has surely accepted
 * them) and then stay silent. Grows in place, so a suite can step through
 * 1 000, 5 000, 10 000 idle connections without reconnecting.
 */
export class IdlePool {
  readonly sockets: net.Socket[] = [];
  /** Idle connections the server closed. */
  lost = 0;
  private readonly probe: Buffer;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly protocol: Protocol,
  ) {
    this.probe = encodeCommand(protocol, ['GET', keyName(0)]);
  }

  get size(): number {
    return this.sockets.length;
  }

  async growTo(n: number, onProgress?: (open: number) => void): Promise<void> {
    if (n > this.sockets.length) raiseFdLimit(n + 1024);
    // In waves, so the server's accept queue (and the SYN backlog) never overflows.
    const WAVE = 250;
    while (this.sockets.length < n) {
      const k = Math.min(WAVE, n - this.sockets.length);
      const opened = await Promise.all(
        Array.from({ length: k }, async () => {
          const s = await connect(this.host, this.port);
          await roundTrip(s, this.protocol, this.probe, 1);
          s.on('error', () => {});
          s.on('close', () => this.lost++);
          return s;
        }),
      );
      this.sockets.push(...opened);
      onProgress?.(this.sockets.length);
    }
  }

  close(): void {
    for (const s of this.sockets) {
      s.removeAllListeners('close');
      s.destroy();
    }
    this.sockets.length = 0;
  }
}

/** Lets this process hold `need` fds (RLIMIT_NOFILE soft limit, up to the hard limit). */
export function raiseFdLimit(need: number): void {
  const { soft, hard } = sys.getNofileLimit();
  if (soft >= need) return;
  const target = Math.min(hard, need);
  sys.setNofileLimit(target, hard);
  if (target < need) throw new Error(`need ${need} file descriptors but RLIMIT_NOFILE's hard limit is ${hard}`);
}

/** Sends SET for every key of the keyspace over one connection, 128 at a time. */
async function prefill(s: net.Socket, o: LoadOptions): Promise<void> {
  const value = 'x'.repeat(o.valueSize);
  const BATCH = o.valueSize > 8192 ? 16 : 128;
  for (let i = 0; i < o.keyspace; i += BATCH) {
    const parts: Buffer[] = [];
    for (let j = i; j < Math.min(o.keyspace, i + BATCH); j++) parts.push(encodeCommand(o.protocol, ['SET', keyName(j), value]));
    try {
      await roundTrip(s, o.protocol, Buffer.concat(parts), parts.length);
    } catch (err) {
      throw new Error(`prefill: ${(err as Error).message}`);
    }
  }
}

/** One closed-loop run. Resolves with the figures of the measured window. */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  if (o.requests === undefined && o.durationSec === undefined) throw new Error('give requests (-n) or a duration (-d)');
  raiseFdLimit(o.connections + (o.idle ?? 0) + 1024);
  const engine = o.engine ?? (net.isIPv4(o.host) ? 'raw' : 'net');
  if (engine === 'raw' && !net.isIPv4(o.host)) throw new Error(`--engine raw needs a numeric IPv4 address, not '${o.host}'`);
  o = { ...o, engine };
  const pool = buildPool(o);

  const ownIdle = o.idlePool === undefined && (o.idle ?? 0) > 0 ? new IdlePool(o.host, o.port, o.protocol) : null;
  const idlePool = o.idlePool ?? ownIdle;
  try {
    if (idlePool !== null && (o.idle ?? 0) > idlePool.size) await idlePool.growTo(o.idle ?? 0);
    if (o.prefill) {
      const s = await connect(o.host, o.port);
      try {
        await prefill(s, o);
      } finally {
        s.destroy();
      }
    }
    const idle = idlePool?.size ?? 0;
    if (engine === 'raw') return driveRaw(o, pool, idle);
    const sockets = await Promise.all(Array.from({ length: o.connections }, () => connect(o.host, o.port)));
    try {
      return await drive(o, sockets, pool, idle);
    } finally {
      for (const s of sockets) s.destroy();
    }
  } finally {
    ownIdle?.close();
  }
}

interface Client {
  socket: net.Socket;
  counter: ReplyCounter;
  inFlight: number;
  sentAt: number;
  cursor: number;
  closed: boolean;
}

/** The node:net engine: many sockets on Node's own loop (libuv). */
function drive(o: LoadOptions, sockets: net.Socket[], pool: RequestPool, idle: number): Promise<LoadResult> {
  return new Promise((resolve) => {
    const P = o.pipeline;
    const win = new Window(o.serverPid ?? null);
    const rand = rng((o.seed ?? 1) + 7);
    let stopping = false;
    let budget = Infinity; // requests still to send in -n mode
    let disconnects = 0;
    let endTimer: NodeJS.Timeout | null = null;
    let drainTimer: NodeJS.Timeout | null = null;
    let finished = false;

    const clients: Client[] = sockets.map((socket) => ({
      socket,
      counter: newCounter(o.protocol),
      inFlight: 0,
      sentAt: 0,
      cursor: Math.floor(rand() * pool.size),
      closed: false,
    }));

    const totalErrors = () => clients.reduce((a, c) => a + c.counter.errors, 0);

    const send = (c: Client) => {
      if (stopping || c.closed) return;
      let k = P;
      if (win.measuring && budget !== Infinity) {
        k = Math.min(P, budget);
        if (k <= 0) return;
        budget -= k;
      }
      const from = pool.offsets[c.cursor];
      const to = pool.offsets[c.cursor + k];
      c.cursor += k;
      if (c.cursor >= pool.size) c.cursor -= pool.size;
      c.inFlight = k;
      c.sentAt = performance.now();
      c.socket.write(pool.bytes.subarray(from, to));
    };

    const startMeasuring = () => {
      if (o.requests !== undefined) budget = o.requests;
      win.start(totalErrors());
      if (o.durationSec !== undefined) endTimer = setTimeout(stopMeasuring, o.durationSec * 1000);
    };

    const stopMeasuring = () => {
      if (!win.measuring) return;
      win.stop(totalErrors());
      stopping = true;
      if (endTimer !== null) clearTimeout(endTimer);
      // Let the batches in flight come back, so the next run starts clean.
      drainTimer = setTimeout(finish, 5000);
      maybeDrained();
    };

    const maybeDrained = () => {
      if (!stopping) return;
      for (const c of clients) if (!c.closed && c.inFlight > 0) return;
      finish();
    };

    const finish = () => {
      if (finished) return;
      finished = true;
      if (drainTimer !== null) clearTimeout(drainTimer);
      for (const c of clients) {
        c.socket.removeAllListeners('data');
        c.socket.removeAllListeners('close');
      }
      resolve(win.result(o, idle, disconnects));
    };

    for (const c of clients) {
      c.socket.on('data', (chunk: Buffer) => {
        const n = c.counter.feed(chunk, 0, chunk.length);
        if (n === 0) return;
        c.inFlight -= n;
        if (win.measuring) {
          win.record(n, c.sentAt, performance.now());
          if (o.requests !== undefined && win.received >= o.requests) stopMeasuring();
        }
        if (c.inFlight <= 0) {
          c.inFlight = 0;
          if (stopping) maybeDrained();
          else send(c);
        }
      });
      c.socket.on('error', () => {});
      c.socket.on('close', () => {
        c.closed = true;
        disconnects++;
        if (clients.every((x) => x.closed)) stopMeasuring();
        maybeDrained();
      });
    }

    if ((o.warmupSec ?? 0) > 0) setTimeout(startMeasuring, (o.warmupSec ?? 0) * 1000);
    else startMeasuring();
    for (const c of clients) send(c);
  });
}
