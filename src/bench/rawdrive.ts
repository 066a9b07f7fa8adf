// The raw client engine: the active connections driven by redloop's own
// syscall addon — blocking connect, then non-blocking sockets in one epoll
// set, one read(2) per readiness into a reused buffer, one write(2) per batch
// straight from the pre-encoded pool. No streams, no per-chunk Buffer, no
// event emitter: on a 2-core machine where client and server share CPUs, the
// less the client burns per request, the more the figures describe the server.
// It blocks Node's event loop for the duration of the run (timers don't fire;
// time is checked once per epoll_wait).

import { performance } from 'node:perf_hooks';
import * as sys from '../sys/index.js';
import { C } from '../sys/index.js';
import { newCounter, rng, type LoadOptions, type LoadResult, type RequestPool } from './loadgen.js';
import { Window } from './measure.js';
import type { ReplyCounter } from './replies.js';

const STRIDE = C.SIZEOF_EPOLL_EVENT / 4;
const DATA = C.OFFSETOF_EPOLL_EVENT_DATA / 4;
const READ_SIZE = 256 * 1024;
const DRAIN_MS = 5000;

const WARMUP = 0;
const MEASURE = 1;
const DRAIN = 2;

export function driveRaw(o: LoadOptions, pool: RequestPool, idle: number): LoadResult {
  const conns = o.connections;
  const P = o.pipeline;
  const win = new Window(o.serverPid ?? null);
  const rand = rng((o.seed ?? 1) + 7);

  const epfd = sys.epollCreate1(C.EPOLL_CLOEXEC);
  const fds = new Int32Array(conns).fill(-1);
  const fdIndex: number[] = [];
  const counters: ReplyCounter[] = [];
  const inFlight = new Int32Array(conns);
  const sentAt = new Float64Array(conns);
  const cursor = new Int32Array(conns);
  const closed = new Uint8Array(conns);
  /** A batch the socket did not take whole: bytes pool[wFrom, wTo) still to write. */
  const wFrom = new Float64Array(conns);
  const wTo = new Float64Array(conns);
  const waitingOut = new Uint8Array(conns);
  const events = new Uint8Array((conns + 1) * C.SIZEOF_EPOLL_EVENT);
  const ev = new Int32Array(events.buffer);
  const readBuf = Buffer.allocUnsafeSlow(READ_SIZE);
  let disconnects = 0;
  let budget = Infinity;

  const drop = (i: number) => {
    if (closed[i]) return;
    closed[i] = 1;
    disconnects++;
    sys.epollCtl(epfd, C.EPOLL_CTL_DEL, fds[i], 0);
    sys.close(fds[i]);
  };

  const errors = () => {
    let e = 0;
    for (const c of counters) e += c.errors;
    return e;
  };

  /** Writes what is left of connection i's batch; asks for EPOLLOUT while the socket is full. */
  const flush = (i: number): void => {
    const len = wTo[i] - wFrom[i];
    const rv = sys.write(fds[i], pool.bytes, wFrom[i], len);
    if (rv === len) {
      wFrom[i] = wTo[i] = 0;
      if (waitingOut[i]) {
        waitingOut[i] = 0;
        sys.epollCtl(epfd, C.EPOLL_CTL_MOD, fds[i], C.EPOLLIN);
      }
      return;
    }
    if (rv < 0 && rv !== -C.EAGAIN && rv !== -C.EINTR) return drop(i);
    wFrom[i] += Math.max(0, rv);
    if (!waitingOut[i]) {
      waitingOut[i] = 1;
      sys.epollCtl(epfd, C.EPOLL_CTL_MOD, fds[i], C.EPOLLIN | C.EPOLLOUT);
    }
  };

  const send = (i: number, now: number, phase: number): void => {
    if (closed[i] || phase === DRAIN) return;
    let k = P;
    if (phase === MEASURE && budget !== Infinity) {
      k = Math.min(P, budget);
      if (k <= 0) return;
      budget -= k;
    }
    const c = cursor[i];
    wFrom[i] = pool.offsets[c];
    wTo[i] = pool.offsets[c + k];
    cursor[i] = c + k >= pool.size ? c + k - pool.size : c + k;
    inFlight[i] = k;
    sentAt[i] = now;
    flush(i);
  };

  try {
    for (let i = 0; i < conns; i++) {
      const fd = sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
      fds[i] = fd;
      sys.setsockopt(fd, C.IPPROTO_TCP, C.TCP_NODELAY, 1);
      const rv = sys.connect(fd, o.host, o.port); // blocking: on loopback the handshake is immediate
      if (rv < 0) throw new sys.SysError('connect', rv, `${o.host}:${o.port}`);
      sys.setNonBlocking(fd);
      if (sys.epollCtl(epfd, C.EPOLL_CTL_ADD, fd, C.EPOLLIN) < 0) throw new Error('epoll_ctl ADD failed');
      fdIndex[fd] = i;
      counters.push(newCounter(o.protocol));
      cursor[i] = Math.floor(rand() * pool.size);
    }

    let now = performance.now();
    let phase = WARMUP;
    const warmupEnd = now + (o.warmupSec ?? 0) * 1000;
    let measureEnd = Infinity;
    let drainEnd = Infinity;
    const startMeasuring = () => {
      phase = MEASURE;
      if (o.requests !== undefined) budget = o.requests;
      win.start(errors());
      if (o.durationSec !== undefined) measureEnd = performance.now() + o.durationSec * 1000;
    };
    const stopMeasuring = () => {
      win.stop(errors());
      phase = DRAIN;
      drainEnd = performance.now() + DRAIN_MS;
    };
    if (warmupEnd <= now) startMeasuring();
    for (let i = 0; i < conns; i++) send(i, now, phase);

    for (;;) {
      if (phase === WARMUP && now >= warmupEnd) {
        startMeasuring();
        // Connections idle because a -n budget ran out during warm-up don't exist; nothing to restart.
      }
      if (phase === MEASURE && now >= measureEnd) stopMeasuring();
      if (phase === DRAIN) {
        let busy = false;
        for (let i = 0; i < conns && !busy; i++) if (!closed[i] && inFlight[i] > 0) busy = true;
        if (!busy || now >= drainEnd) break;
      }
      let live = false;
      for (let i = 0; i < conns && !live; i++) if (!closed[i]) live = true;
      if (!live) {
        if (phase === MEASURE) stopMeasuring();
        break;
      }
      const until = phase === WARMUP ? warmupEnd : phase === MEASURE ? measureEnd : drainEnd;
      const timeout = until === Infinity ? 1000 : Math.max(0, Math.min(1000, Math.ceil(until - now)));

      const n = sys.epollWait(epfd, events, conns + 1, timeout);
      now = performance.now();
      if (n < 0) {
        if (n === -C.EINTR) continue;
        throw new sys.SysError('epoll_wait', n);
      }
      for (let e = 0; e < n; e++) {
        const bits = ev[e * STRIDE];
        const i = fdIndex[ev[e * STRIDE + DATA]];
        if (closed[i]) continue;
        if (bits & C.EPOLLOUT && waitingOut[i]) flush(i);
        if (closed[i] || (bits & (C.EPOLLIN | C.EPOLLERR | C.EPOLLHUP)) === 0) continue;
        const rv = sys.read(fds[i], readBuf, 0, READ_SIZE);
        if (rv <= 0) {
          if (rv === -C.EAGAIN || rv === -C.EINTR) continue;
          drop(i); // EOF or a reset: the server closed us
          continue;
        }
        const k = counters[i].feed(readBuf, 0, rv);
        if (k === 0) continue;
        inFlight[i] -= k;
        if (phase === MEASURE) {
          win.record(k, sentAt[i], now);
          if (o.requests !== undefined && win.received >= o.requests) stopMeasuring();
        }
        if (inFlight[i] <= 0) {
          inFlight[i] = 0;
          send(i, now, phase);
        }
      }
    }
    if (win.measuring) stopMeasuring();
    return win.result(o, idle, disconnects);
  } finally {
    for (let i = 0; i < conns; i++) if (fds[i] >= 0 && !closed[i]) sys.close(fds[i]);
    sys.close(epfd);
  }
}
