// Traffic that is not one reply per request: the suite's pub/sub and blocking
// scenarios (RESP only).
//
//   runFanout     S subscribers SUBSCRIBEd to one channel, K publishers sending
//                 pipelined PUBLISH; every subscriber must receive every message.
//   runPingPong   pairs of clients passing an element through two lists with
//                 BLPOP/LPUSH: a round trip is two blocked waits served by the
//                 other client's push.
//   BlockedPool   connections each parked in `BLPOP <own key> <timeout>` while
//                 another load runs (the idle-connection scenario's twin).
//
// runFanout and runPingPong drive their connections like the raw engine
// (src/bench/rawdrive.ts): one epoll set through redloop's addon, one read(2)
// per readiness, replies counted by skipping lengths, never decoded. Each run
// has a measured phase bounded in time and in count; when it ends the clients
// stop sending and wait until every message sent has been delivered (or every
// round trip completed), and the window closes there. So the window's counts
// are exact, the server CPU in it is the CPU those messages cost, and a
// shortfall is a verified error, not a smaller number.

import type net from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import * as sys from '../sys/index.js';
import { C } from '../sys/index.js';
import { connect, encodeCommand, raiseFdLimit, roundTrip } from './loadgen.js';
import { Window } from './measure.js';
import { RespReplyCounter } from './replies.js';

/** The server answered `-ERR unknown command`: it does not have the scenario's commands (yet). */
export class UnsupportedError extends Error {
  constructor(reply: string) {
    super(`unsupported: ${reply.split('\r\n')[0].slice(0, 120)}`);
    this.name = 'UnsupportedError';
  }
}

const UNKNOWN = /-ERR unknown command/i;

/** Throws UnsupportedError if `text` (the start of a reply stream) is an unknown-command error. */
function rejectUnknown(text: string): void {
  const m = UNKNOWN.exec(text);
  if (m) throw new UnsupportedError(text.slice(m.index));
}

/**
 * Whether the server at host:port runs `cmds` (sent in order on one
 * connection, one reply each): null if it does, else the reason. An error
 * other than "unknown command" is thrown, not reported as unsupported.
 */
export async function unsupported(host: string, port: number, cmds: string[][]): Promise<string | null> {
  const s = await connect(host, port);
  try {
    for (const cmd of cmds) {
      try {
        await roundTrip(s, 'resp', encodeCommand('resp', cmd), 1);
      } catch (err) {
        const msg = (err as Error).message;
        const m = UNKNOWN.exec(msg);
        if (m) return msg.slice(m.index + 1).split(/\\r|\r/)[0].trim();
        throw err;
      }
    }
    return null;
  } finally {
    s.destroy();
  }
}

/** What each scenario needs of a server. */
export const PUBSUB_PROBE = [['PUBLISH', 'redloop-bench:probe', 'x'], ['SUBSCRIBE', 'redloop-bench:probe']];
export const BLOCKING_PROBE = [['LPUSH', 'redloop-bench:probe', 'x'], ['BLPOP', 'redloop-bench:probe', '0']];

// ---- raw connections -------------------------------------------------------------

const STRIDE = C.SIZEOF_EPOLL_EVENT / 4;
const DATA = C.OFFSETOF_EPOLL_EVENT_DATA / 4;
const READ_SIZE = 256 * 1024;

/**
 * n non-blocking client sockets in one epoll set. send() writes at once and
 * keeps what the socket did not take for EPOLLOUT; wait() is one epoll_wait
 * and one read per readable socket, handed to onData as buf[0, len).
 */
class RawConns {
  readonly buf = Buffer.allocUnsafeSlow(READ_SIZE);
  readonly closed: Uint8Array;
  /** Connections the server closed or reset. */
  disconnects = 0;
  private readonly epfd: number;
  private readonly fds: Int32Array;
  private readonly index: number[] = [];
  private readonly pending: (Buffer | null)[];
  private readonly events: Uint8Array;
  private readonly ev: Int32Array;

  constructor(host: string, port: number, n: number) {
    raiseFdLimit(n + 1024);
    this.fds = new Int32Array(n).fill(-1);
    this.closed = new Uint8Array(n);
    this.pending = new Array<Buffer | null>(n).fill(null);
    this.events = new Uint8Array((n + 1) * C.SIZEOF_EPOLL_EVENT);
    this.ev = new Int32Array(this.events.buffer);
    this.epfd = sys.epollCreate1(C.EPOLL_CLOEXEC);
    try {
      for (let i = 0; i < n; i++) {
        const fd = sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
        this.fds[i] = fd;
        sys.setsockopt(fd, C.IPPROTO_TCP, C.TCP_NODELAY, 1);
        const rv = sys.connect(fd, host, port); // blocking: on loopback the handshake is immediate
        if (rv < 0) throw new sys.SysError('connect', rv, `${host}:${port}`);
        sys.setNonBlocking(fd);
        if (sys.epollCtl(this.epfd, C.EPOLL_CTL_ADD, fd, C.EPOLLIN) < 0) throw new Error('epoll_ctl ADD failed');
        this.index[fd] = i;
      }
    } catch (err) {
      this.close();
      throw err;
    }
  }

  get size(): number {
    return this.fds.length;
  }

  live(): boolean {
    return this.closed.some((c) => c === 0);
  }

  send(i: number, bytes: Uint8Array): void {
    if (this.closed[i]) return;
    const queued = this.pending[i];
    if (queued !== null) {
      this.pending[i] = Buffer.concat([queued, bytes]);
      return;
    }
    const rv = sys.write(this.fds[i], bytes, 0, bytes.length);
    if (rv === bytes.length) return;
    if (rv < 0 && rv !== -C.EAGAIN && rv !== -C.EINTR) return this.drop(i);
    this.pending[i] = Buffer.from(bytes.subarray(Math.max(0, rv)));
    sys.epollCtl(this.epfd, C.EPOLL_CTL_MOD, this.fds[i], C.EPOLLIN | C.EPOLLOUT);
  }

  private flush(i: number): void {
    const bytes = this.pending[i]!;
    const rv = sys.write(this.fds[i], bytes, 0, bytes.length);
    if (rv === bytes.length) {
      this.pending[i] = null;
      sys.epollCtl(this.epfd, C.EPOLL_CTL_MOD, this.fds[i], C.EPOLLIN);
    } else if (rv < 0 && rv !== -C.EAGAIN && rv !== -C.EINTR) this.drop(i);
    else if (rv > 0) this.pending[i] = bytes.subarray(rv);
  }

  drop(i: number): void {
    if (this.closed[i]) return;
    this.closed[i] = 1;
    this.disconnects++;
    sys.epollCtl(this.epfd, C.EPOLL_CTL_DEL, this.fds[i], 0);
    sys.close(this.fds[i]);
  }

  /** One epoll_wait of at most timeoutMs; onData(i, len) for every read of buf[0, len). */
  wait(timeoutMs: number, onData: (i: number, len: number) => void): void {
    const n = sys.epollWait(this.epfd, this.events, this.fds.length + 1, timeoutMs);
    if (n < 0) {
      if (n === -C.EINTR) return;
      throw new sys.SysError('epoll_wait', n);
    }
    const ev = this.ev;
    for (let e = 0; e < n; e++) {
      const bits = ev[e * STRIDE];
      const i = this.index[ev[e * STRIDE + DATA]];
      if (this.closed[i]) continue;
      if (bits & C.EPOLLOUT && this.pending[i] !== null) this.flush(i);
      if (this.closed[i] || (bits & (C.EPOLLIN | C.EPOLLERR | C.EPOLLHUP)) === 0) continue;
      const rv = sys.read(this.fds[i], this.buf, 0, READ_SIZE);
      if (rv <= 0) {
        if (rv !== -C.EAGAIN && rv !== -C.EINTR) this.drop(i); // EOF or a reset
        continue;
      }
      onData(i, rv);
    }
  }

  close(): void {
    for (let i = 0; i < this.fds.length; i++) {
      if (this.fds[i] >= 0 && !this.closed[i]) sys.close(this.fds[i]);
      this.closed[i] = 1;
    }
    sys.close(this.epfd);
  }
}

/** Integer replies (`:N`) summed, errors counted: the publishers' replies. */
export class IntReplySum {
  replies = 0;
  errors = 0;
  /** Sum of the integers: for PUBLISH, the receivers the server reports. */
  sum = 0;
  /** The first error reply's text. */
  firstError = '';
  private line = '';

  feed(b: Uint8Array, start: number, end: number): number {
    let done = 0;
    let p = start;
    while (p < end) {
      const nl = b.indexOf(10, p);
      const stop = nl < 0 || nl >= end ? end : nl;
      this.line += Buffer.from(b.buffer, b.byteOffset + p, stop - p).toString('latin1');
      if (stop === end) break;
      p = nl + 1;
      const line = this.line;
      this.line = '';
      done++;
      this.replies++;
      if (line.charCodeAt(0) === 58 /* : */) this.sum += Number(line.slice(1, -1));
      else {
        this.errors++;
        if (this.firstError === '') this.firstError = line.slice(0, -1);
      }
    }
    return done;
  }
}

let runSeq = 0;
/** Keys and channels unique to this run, so a leftover from an earlier run cannot be counted. */
const runTag = () => `${process.pid}.${++runSeq}`;

const DRAIN_MS = 10_000;
const SETUP_MS = 15_000;

/** The window's figures shared by both scenarios' results. */
export interface MessageFigures {
  /** Units (delivered messages, round trips) completed inside the measured window. */
  units: number;
  elapsedSec: number;
  /** Units per second. */
  rate: number;
  serverCpuUs: number | null;
  /** Server user+sys CPU per unit (µs), from /proc/PID/stat over the window. */
  serverCpuUsPerUnit: number | null;
  serverCpuPercent: number | null;
  clientCpuUs: number;
  clientCpuPercent: number;
  /** Publish latency (batch written → each reply read) or round-trip latency, µs. */
  latencyUs: { p50: number; p99: number; p999: number; max: number; mean: number };
  /** Verification failures over the whole run (warm-up included); empty = every count matched. */
  problems: string[];
}

function figures(win: Window, units: number, problems: string[]): MessageFigures {
  const f = win.figures();
  return {
    units,
    elapsedSec: f.elapsedSec,
    rate: f.elapsedSec > 0 ? units / f.elapsedSec : 0,
    serverCpuUs: f.serverCpuUs,
    serverCpuUsPerUnit: f.serverCpuUs !== null && units > 0 ? f.serverCpuUs / units : null,
    serverCpuPercent: f.serverCpuUs !== null && f.elapsedSec > 0 ? (f.serverCpuUs / (f.elapsedSec * 1e6)) * 100 : null,
    clientCpuUs: f.clientCpuUs,
    clientCpuPercent: f.elapsedSec > 0 ? (f.clientCpuUs / (f.elapsedSec * 1e6)) * 100 : 0,
    latencyUs: f.latencyUs,
    problems,
  };
}

// ---- PUBLISH fan-out --------------------------------------------------------------

export interface FanoutOptions {
  host: string;
  port: number;
  serverPid?: number | null;
  subscribers: number;
  /** Publisher connections (default 2). */
  publishers?: number;
  /** PUBLISH commands per batch per publisher (default 8). */
  pipeline?: number;
  /** Message payload bytes (default 16). */
  payloadSize?: number;
  /** The measured phase ends after this many seconds... */
  durationSec: number;
  /** ...or this many PUBLISH commands, whichever comes first. */
  maxPublishes?: number;
  /** Publishing (then delivering everything) before the measured phase. */
  warmupSec?: number;
  /**
   * How many messages the slowest subscriber may be behind the publishers
   * (default 512). Publishers wait beyond it: the run measures delivery, not
   * how far a server lets output buffers grow (Redis cuts a pub/sub client off
   * at 32 MB).
   */
  maxLag?: number;
}

export interface FanoutResult extends MessageFigures {
  subscribers: number;
  publishers: number;
  pipeline: number;
  payloadSize: number;
  /** PUBLISH commands answered inside the window; units = published × subscribers when verified. */
  published: number;
  publishesPerSec: number;
  /** The whole run: PUBLISH commands sent, the fewest and most messages a subscriber got, the receivers PUBLISH replied. */
  check: { published: number; minReceived: number; maxReceived: number; receiversReported: number };
}

/**
 * One fan-out run. Units are delivered messages: each PUBLISH answered in the
 * window counts once per subscriber, and the run verifies that each subscriber
 * received exactly that many `message` pushes of the expected size. Throws
 * UnsupportedError when the server does not know SUBSCRIBE or PUBLISH.
 */
export function runFanout(o: FanoutOptions): FanoutResult {
  const S = o.subscribers;
  const K = o.publishers ?? 2;
  const P = o.pipeline ?? 8;
  const payloadSize = o.payloadSize ?? 16;
  const maxLag = Math.max(o.maxLag ?? 512, K * P);
  const maxPublishes = o.maxPublishes ?? Infinity;
  const channel = `redloop-bench:fanout:${runTag()}`;
  const payload = 'x'.repeat(payloadSize);
  const publish = encodeCommand('resp', ['PUBLISH', channel, payload]);
  const batch = Buffer.concat(Array.from({ length: P }, () => publish));
  /** One `message` push, RESP2: *3 $7 message $<channel> $<payload>. */
  const pushBytes = encodeCommand('resp', ['message', channel, payload]).length;

  const conns = new RawConns(o.host, o.port, S + K);
  const subReplies = Array.from({ length: S }, () => new RespReplyCounter());
  /** Messages each subscriber received (replies after its SUBSCRIBE confirmation). */
  const got = new Float64Array(S);
  const bytes = new Float64Array(S);
  const pubReplies = Array.from({ length: K }, () => new IntReplySum());
  const inFlight = new Int32Array(K);
  const sentAt = new Float64Array(K);
  const win = new Window(o.serverPid ?? null);
  const problems: string[] = [];
  let setupText = '';

  let subscribed = 0;
  let setup = true;
  let published = 0; // PUBLISH sent, whole run
  let publishing = false;
  let phaseSent = 0;
  let phaseBudget = Infinity;
  let measuring = false;
  let minGot = 0;
  let starved = false; // a publisher is waiting for the slowest subscriber

  const minReceived = () => {
    let m = Infinity;
    for (let i = 0; i < S; i++) if (!conns.closed[i] && got[i] < m) m = got[i];
    return m === Infinity ? 0 : m;
  };

  const trySend = (k: number, now: number) => {
    if (!publishing || inFlight[k] > 0 || conns.closed[S + k]) return;
    const n = Math.min(P, phaseBudget - phaseSent);
    if (n <= 0) return;
    if (published + n - minGot > maxLag) {
      minGot = minReceived();
      if (published + n - minGot > maxLag) {
        starved = true;
        return;
      }
    }
    inFlight[k] = n;
    sentAt[k] = now;
    published += n;
    phaseSent += n;
    conns.send(S + k, n === P ? batch : batch.subarray(0, publish.length * n));
  };

  const onData = (i: number, len: number) => {
    const now = performance.now();
    const buf = conns.buf;
    if (i < S) {
      const c = subReplies[i];
      const errors = c.errors;
      let n = c.feed(buf, 0, len);
      if (setup) {
        if (c.errors > errors || setupText === '') setupText = buf.toString('latin1', 0, Math.min(len, 200));
        if (n > 0) {
          subscribed++;
          n--; // the SUBSCRIBE confirmation
        }
      }
      got[i] += n;
      bytes[i] += len;
      if (starved && n > 0) {
        minGot = minReceived();
        starved = false;
        for (let k = 0; k < K; k++) trySend(k, now);
      }
      return;
    }
    const k = i - S;
    const n = pubReplies[k].feed(buf, 0, len);
    if (n === 0) return;
    inFlight[k] -= n;
    if (measuring) win.record(n, sentAt[k], now);
    if (inFlight[k] <= 0) {
      inFlight[k] = 0;
      trySend(k, now);
    }
  };

  const quiet = () => {
    for (let k = 0; k < K; k++) if (inFlight[k] > 0 && !conns.closed[S + k]) return false;
    for (let i = 0; i < S; i++) if (got[i] < published && !conns.closed[i]) return false;
    return true;
  };

  /** Publishes for durationMs (or `budget` PUBLISH), then waits until everything sent is delivered. */
  const phase = (durationMs: number, budget: number): void => {
    let now = performance.now();
    const end = now + durationMs;
    let drainEnd = Infinity;
    publishing = true;
    phaseSent = 0;
    phaseBudget = budget;
    for (let k = 0; k < K; k++) trySend(k, now);
    for (;;) {
      if (publishing && (now >= end || phaseSent >= phaseBudget)) {
        publishing = false;
        drainEnd = now + DRAIN_MS;
      }
      if (!publishing && quiet()) break;
      if (now >= drainEnd) {
        problems.push(`not every message was delivered within ${DRAIN_MS / 1000} s of the last PUBLISH`);
        break;
      }
      if (!conns.live()) break;
      const until = publishing ? end : drainEnd;
      conns.wait(Math.max(0, Math.min(1000, Math.ceil(until - now))), onData);
      now = performance.now();
    }
  };

  try {
    // Subscribe every subscriber and wait for every confirmation.
    const subscribe = encodeCommand('resp', ['SUBSCRIBE', channel]);
    for (let i = 0; i < S; i++) conns.send(i, subscribe);
    const deadline = performance.now() + SETUP_MS;
    for (;;) {
      rejectUnknown(setupText);
      if (subReplies.some((c) => c.errors > 0)) throw new Error(`SUBSCRIBE failed: ${JSON.stringify(setupText.slice(0, 120))}`);
      if (conns.disconnects > 0) throw new Error(`SUBSCRIBE: ${conns.disconnects} connections closed by the server`);
      if (subscribed === S) break;
      if (performance.now() > deadline) throw new Error(`SUBSCRIBE: ${subscribed} of ${S} confirmations within ${SETUP_MS / 1000} s`);
      conns.wait(100, onData);
    }
    setup = false;
    bytes.fill(0); // count message bytes only (no message can arrive before the first PUBLISH)

    if ((o.warmupSec ?? 0) > 0) phase((o.warmupSec ?? 0) * 1000, Infinity);
    for (const c of pubReplies) {
      if (c.errors > 0) {
        rejectUnknown(c.firstError);
        throw new Error(`PUBLISH failed: ${c.firstError}`);
      }
    }

    // The measured phase: the window opens with everything sent so far delivered.
    const published0 = published;
    const got0 = Float64Array.from(got);
    win.start(0);
    measuring = true;
    phase(o.durationSec * 1000, maxPublishes);
    measuring = false;
    win.stop(0);
    let delivered = 0;
    for (let i = 0; i < S; i++) delivered += got[i] - got0[i];
    const windowPublished = published - published0;

    // Verification over the whole run.
    const pubErrors = pubReplies.reduce((a, c) => a + c.errors, 0);
    if (pubErrors > 0) {
      rejectUnknown(pubReplies.find((c) => c.errors > 0)!.firstError);
      problems.push(`${pubErrors} PUBLISH error replies (first: ${pubReplies.find((c) => c.errors > 0)!.firstError})`);
    }
    const answered = pubReplies.reduce((a, c) => a + c.replies, 0);
    if (answered !== published) problems.push(`${published} PUBLISH sent, ${answered} answered`);
    const reported = pubReplies.reduce((a, c) => a + c.sum, 0);
    if (reported !== published * S) problems.push(`PUBLISH replies report ${reported} receivers, expected ${published} × ${S} subscribers`);
    let short = 0;
    for (let i = 0; i < S; i++) {
      if (got[i] !== published || bytes[i] !== got[i] * pushBytes || subReplies[i].errors > 0) short++;
    }
    if (short > 0) {
      const i = Array.from(got).findIndex((g, j) => g !== published || bytes[j] !== g * pushBytes || subReplies[j].errors > 0);
      problems.push(
        `${short} of ${S} subscribers did not receive exactly ${published} messages (e.g. subscriber ${i}: ${got[i]} messages, ${bytes[i]} bytes for ${got[i] * pushBytes} expected, ${subReplies[i].errors} errors)`,
      );
    }
    if (conns.disconnects > 0) problems.push(`${conns.disconnects} connections closed by the server`);
    const f = figures(win, delivered, problems);
    return {
      ...f,
      subscribers: S,
      publishers: K,
      pipeline: P,
      payloadSize,
      published: windowPublished,
      publishesPerSec: f.elapsedSec > 0 ? windowPublished / f.elapsedSec : 0,
      check: { published, minReceived: Math.min(...got), maxReceived: Math.max(...got), receiversReported: reported },
    };
  } finally {
    conns.close(); // the server drops the subscriptions with the connections
  }
}

// ---- BLPOP/LPUSH ping-pong ------------------------------------------------------------

export interface PingPongOptions {
  host: string;
  port: number;
  serverPid?: number | null;
  /** Client pairs, each with its own two lists. */
  pairs: number;
  /** The measured phase ends after this many seconds... */
  durationSec: number;
  /** ...or this many round trips, whichever comes first. */
  maxRoundTrips?: number;
  warmupSec?: number;
}

export interface PingPongResult extends MessageFigures {
  pairs: number;
  /** The whole run: round trips completed, BLPOPs served on each side, LPUSHes answered. */
  check: { roundTrips: number; popsA: number; popsB: number; pushes: number };
}

/**
 * Pairs of clients: A loops `BLPOP q1 0`, `LPUSH q2 x`; B loops `LPUSH q1 x`,
 * `BLPOP q2 0`. Each command is sent when the previous reply arrived, as a
 * job-queue worker does. A round trip (B's LPUSH sent → B's BLPOP answered) is
 * two blocked waits, each served by the other client's push; units are round
 * trips. At the end A is blocked in BLPOP q1 again and is disconnected there,
 * so the server frees a waiter per pair. Throws UnsupportedError when the
 * server does not know BLPOP.
 */
export function runPingPong(o: PingPongOptions): PingPongResult {
  const N = o.pairs;
  const tag = runTag();
  const q = (i: number, n: 1 | 2) => `redloop-bench:pp:${tag}:${i}:q${n}`;
  const aPop = Array.from({ length: N }, (_, i) => encodeCommand('resp', ['BLPOP', q(i, 1), '0']));
  const aPush = Array.from({ length: N }, (_, i) => encodeCommand('resp', ['LPUSH', q(i, 2), 'x']));
  const bPush = Array.from({ length: N }, (_, i) => encodeCommand('resp', ['LPUSH', q(i, 1), 'x']));
  const bPop = Array.from({ length: N }, (_, i) => encodeCommand('resp', ['BLPOP', q(i, 2), '0']));

  // Connection i is A of pair i, N + i is B of pair i.
  const conns = new RawConns(o.host, o.port, 2 * N);
  const replies = Array.from({ length: 2 * N }, () => new RespReplyCounter());
  const aWaitsPop = new Uint8Array(N).fill(1); // A: 1 = in BLPOP q1, 0 = in LPUSH q2
  const bState = new Uint8Array(N); // B: 0 = in LPUSH q1, 1 = in BLPOP q2, 2 = stopped
  const bStart = new Float64Array(N);
  const rounds = new Float64Array(N);
  const popsA = new Float64Array(N);
  let pushes = 0;
  let total = 0;
  let running = false;
  let measuring = false;
  let phaseRounds = 0;
  let phaseBudget = Infinity;
  let badText = '';
  const win = new Window(o.serverPid ?? null);
  const problems: string[] = [];

  const bNext = (i: number, now: number) => {
    if (!running || phaseRounds >= phaseBudget) {
      bState[i] = 2;
      return;
    }
    phaseRounds++;
    bState[i] = 0;
    bStart[i] = now;
    conns.send(N + i, bPush[i]);
  };

  const onData = (c: number, len: number) => {
    const r = replies[c];
    const errors = r.errors;
    const nils = r.nils;
    if (r.feed(conns.buf, 0, len) === 0) return; // one command in flight: at most one reply per read
    if (r.errors > errors || r.nils > nils) {
      // An error (or a nil from BLPOP ... 0, which must not time out): this pair stops.
      if (badText === '') badText = conns.buf.toString('latin1', 0, Math.min(len, 200));
      return;
    }
    const now = performance.now();
    if (c < N) {
      if (aWaitsPop[c]) {
        popsA[c]++;
        aWaitsPop[c] = 0;
        conns.send(c, aPush[c]);
      } else {
        pushes++;
        aWaitsPop[c] = 1;
        conns.send(c, aPop[c]);
      }
      return;
    }
    const i = c - N;
    if (bState[i] === 0) {
      pushes++;
      bState[i] = 1;
      conns.send(c, bPop[i]);
    } else if (bState[i] === 1) {
      rounds[i]++;
      total++;
      if (measuring) win.record(1, bStart[i], now);
      bNext(i, now);
    }
  };

  /** Every B stopped after a whole round trip and every A is back in BLPOP q1. */
  const quiet = () => {
    for (let i = 0; i < N; i++) if (bState[i] !== 2 || !aWaitsPop[i]) return false;
    return true;
  };

  const phase = (durationMs: number, budget: number): void => {
    let now = performance.now();
    const end = now + durationMs;
    let drainEnd = Infinity;
    running = true;
    phaseRounds = 0;
    phaseBudget = budget;
    for (let i = 0; i < N; i++) bNext(i, now);
    for (;;) {
      if (badText !== '') break;
      if (running && now >= end) {
        running = false;
        drainEnd = now + DRAIN_MS;
      }
      if (running && phaseRounds >= phaseBudget && drainEnd === Infinity) drainEnd = now + DRAIN_MS;
      if (quiet()) break;
      if (now >= drainEnd) {
        problems.push(`not every round trip completed within ${DRAIN_MS / 1000} s of the end`);
        break;
      }
      if (!conns.live() || conns.disconnects > 0) break;
      const until = running && drainEnd === Infinity ? end : drainEnd;
      conns.wait(Math.max(0, Math.min(1000, Math.ceil(until - now))), onData);
      now = performance.now();
    }
    running = false;
  };

  try {
    for (let i = 0; i < N; i++) conns.send(i, aPop[i]);
    if ((o.warmupSec ?? 0) > 0) phase((o.warmupSec ?? 0) * 1000, Infinity);
    const total0 = total;
    if (badText === '') {
      win.start(0);
      measuring = true;
      phase(o.durationSec * 1000, o.maxRoundTrips ?? Infinity);
      measuring = false;
      win.stop(0);
    }
    if (badText !== '') {
      rejectUnknown(badText);
      problems.push(`unexpected reply: ${JSON.stringify(badText.slice(0, 120))}`);
    }
    let sumA = 0;
    for (let i = 0; i < N; i++) {
      sumA += popsA[i];
      if (popsA[i] !== rounds[i]) problems.push(`pair ${i}: A's BLPOP served ${popsA[i]} times, B's ${rounds[i]} times`);
    }
    if (pushes !== 2 * total) problems.push(`${pushes} LPUSH answered for ${total} round trips (2 each)`);
    if (conns.disconnects > 0) problems.push(`${conns.disconnects} connections closed by the server`);
    const f = figures(win, total - total0, problems);
    return { ...f, pairs: N, check: { roundTrips: total, popsA: sumA, popsB: total, pushes } };
  } finally {
    conns.close(); // every A is blocked in BLPOP q1: the server frees the waiters
  }
}

// ---- blocked clients ----------------------------------------------------------------

/**
 * Connections each blocked in `BLPOP <own key> <timeout>`, held while another
 * load runs. Each connection first answers a PING (so the server has surely
 * accepted it) and then sends its BLPOP; growTo resolves once the server's
 * INFO reports every one of them as a blocked client. No reply may arrive on
 * them before close(): one that does (a timeout, an error) is counted in
 * `answered`. Grows in place, like IdlePool.
 */
export class BlockedPool {
  readonly sockets: net.Socket[] = [];
  /** Replies received on blocked connections (none is expected). */
  answered = 0;
  firstAnswer = '';
  /** Blocked connections the server closed. */
  lost = 0;
  private readonly tag = runTag();
  private readonly ping = encodeCommand('resp', ['PING']);

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly timeoutSec = 300,
  ) {}

  get size(): number {
    return this.sockets.length;
  }

  async growTo(n: number, onProgress?: (open: number) => void): Promise<void> {
    if (n > this.sockets.length) raiseFdLimit(n + 1024);
    const WAVE = 250;
    while (this.sockets.length < n) {
      const from = this.sockets.length;
      const k = Math.min(WAVE, n - from);
      const opened = await Promise.all(
        Array.from({ length: k }, async (_, j) => {
          const s = await connect(this.host, this.port);
          await roundTrip(s, 'resp', this.ping, 1);
          s.on('data', (d: Buffer) => {
            this.answered++;
            if (this.firstAnswer === '') this.firstAnswer = d.toString('latin1', 0, Math.min(d.length, 200));
          });
          s.on('error', () => {});
          s.on('close', () => this.lost++);
          s.write(encodeCommand('resp', ['BLPOP', `redloop-bench:blocked:${this.tag}:${from + j}`, String(this.timeoutSec)]));
          return s;
        }),
      );
      this.sockets.push(...opened);
      onProgress?.(this.sockets.length);
    }
    await this.until((blocked) => blocked >= n, `${n} blocked clients`);
  }

  /** The server's INFO blocked_clients. */
  async blockedClients(): Promise<number> {
    const s = await connect(this.host, this.port);
    try {
      const text = await new Promise<string>((resolve, reject) => {
        let buf = '';
        s.on('data', (d: Buffer) => {
          buf += d.toString('latin1');
          const m = /^\$(\d+)\r\n/.exec(buf);
          if (buf.startsWith('-')) reject(new Error(`INFO: ${buf.trim()}`));
          else if (m && buf.length >= m[0].length + Number(m[1])) resolve(buf);
        });
        s.on('error', reject);
        s.write(encodeCommand('resp', ['INFO', 'clients']));
      });
      const m = /^blocked_clients:(\d+)/m.exec(text);
      if (!m) throw new Error('INFO clients has no blocked_clients field');
      return Number(m[1]);
    } finally {
      s.destroy();
    }
  }

  /**
   * Waits until INFO's blocked_clients satisfies `ok`, asking every 20 ms (up
   * to 60 s): the condition is the server's own count, the interval only
   * spares it a busy loop of INFO requests.
   */
  private async until(ok: (blocked: number) => boolean, what: string, growing = true): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (growing && this.answered > 0) {
        rejectUnknown(this.firstAnswer);
        throw new Error(`a blocked BLPOP was answered: ${JSON.stringify(this.firstAnswer.slice(0, 120))}`);
      }
      const blocked = await this.blockedClients();
      if (ok(blocked)) return;
      if (Date.now() > deadline) throw new Error(`waiting for ${what}: INFO reports ${blocked} after 60 s`);
      await delay(20);
    }
  }

  /** Closes every blocked connection and waits until the server has freed their waiters. */
  async close(): Promise<void> {
    const had = this.sockets.length;
    for (const s of this.sockets) {
      s.removeAllListeners('close');
      s.destroy();
    }
    this.sockets.length = 0;
    if (had > 0) await this.until((blocked) => blocked === 0, 'the blocked clients to be freed', false);
  }
}
