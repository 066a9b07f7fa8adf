// The event loop, in the order the notes teach it. Each iteration:
//   1. work out poll's timeout from the nearest timer;
//   2. wait: the backend builds its pollfd array from every connection's want
//      flags and calls poll() — the only call that blocks;
//   3. accept new connections on a ready listening socket (handleAccept);
//   4. read from or write to each ready connection (handleRead, handleWrite);
//   5. close what wants closing (settle); then run the timers.
// The loop knows sockets, buffers and timers. What the bytes mean, and what
// happens to a connection between its read and its write (requests, limits,
// half-close, refusal), is decided by a ConnHandler — the server's pipeline —
// which every backend drives the same way. Syscalls go through `os`, which
// prints them when tracing; no branch below decides whether to trace.

import { performance } from 'node:perf_hooks';
import * as sys from '../sys/index.js';
import { C } from '../sys/index.js';
import { ERROR, HANGUP, READABLE, WRITABLE, type Backend, type LoopView } from './backend.js';
import { Conn, type ConnHandler, type ConnHost } from './conn.js';
import { plainOs, type LoopOs } from './os.js';
import { AcceptReserve } from './reserve.js';
import { TimerHeap } from './timers.js';

/** The longest wait poll(2) and epoll_wait(2) can be asked for (their timeout is a C int). */
const MAX_WAIT_MS = 2 ** 31 - 1;
import type { Tracer } from './trace.js';
import type { ConnState } from './trace_json.js';

/** A listening socket and what to do with the connections it accepts. */
export interface Listener {
  readonly fd: number;
  /**
   * Gives a newly accepted connection its session, or refuses it: then it
   * sets conn.wantClose (after putting any farewell in conn.outgoing).
   * `overflow` says why it must be refused whatever it is (out of fds).
   */
  open(conn: Conn, overflow: string | null): void;
}

/** Timers the loop does not own (key TTLs): it asks when, and runs them. */
export interface ExternalTimers {
  /** Monotonic ms of the nearest deadline, or null. */
  nextDeadline(): number | null;
  /** Runs what is due (bounded work per call). */
  run(now: number): void;
}

export interface LoopOptions {
  /** Close connections idle this long (ms); 0 = never. */
  idleTimeoutMs?: number;
  /** Accept at most this many connections per listener readiness. */
  maxAcceptsPerEvent?: number;
  /** Bytes asked of each read() (at least). */
  readSize?: number;
  /** TCP keepalive idle seconds for connection sockets; 0 = off. */
  keepAliveSeconds?: number;
  /** The syscalls (tracedOs(tracer) to trace them). */
  os?: LoopOs;
  /** Where the loop's own trace lines go (iteration headers, timeouts). */
  tracer?: Tracer | null;
}

type WatchCallback = () => void;

export class EventLoop implements LoopView, ConnHost {
  /** The notes' fd2conn: a dense array indexed by fd. */
  readonly fd2conn: (Conn | null)[] = [];
  readonly listenFds: number[] = [];
  readonly watchFds: number[] = [];
  /** Timers with callbacks (blocked clients' timeouts, CLIENT PAUSE): the nearest sets poll's timeout. */
  readonly timers = new TimerHeap();
  /** Key TTLs: the keyspace keeps its own heap. */
  keyTimers: ExternalTimers | null = null;
  /** What happens between read and write. Set before run(). */
  handler!: ConnHandler;
  /**
   * Called at the start of each iteration, before the timeout is computed and
   * poll is built (step mode waits here for Enter). Returning false skips the
   * iteration (the loop was stopped meanwhile).
   */
  beforePoll: (() => boolean) | null = null;
  /**
   * Called once per iteration, after every ready fd, scheduled connection
   * and timer was handled and before any reply is written (Redis's
   * beforeSleep). While it is set, replies produced during an iteration wait
   * in `held` until it returned: a server that must make its work durable
   * before acknowledging it (an append-only log) does that work here, once
   * for every request of the iteration.
   */
  beforeReplies: (() => void) | null = null;
  /** Connections with replies waiting for beforeReplies. */
  private readonly held = new Set<Conn>();
  connCount = 0;

  private readonly listeners = new Map<number, Listener>();
  private readonly watches = new Map<number, WatchCallback>();
  /** Idle list: oldest activity at the head, newest at the tail. */
  private idleHead: Conn | null = null;
  private idleTail: Conn | null = null;
  /** Connections the pipeline asked to run again before the next wait. */
  private scheduled: Conn[] = [];
  private running = false;
  /** How many times stop() was called: the first ends run(), the second the flush. */
  private stops = 0;
  private iteration = 0;
  private readonly reserve: AcceptReserve;
  /** Bytes read from and written to connections (INFO's total_net_input_bytes / total_net_output_bytes). */
  bytesIn = 0;
  bytesOut = 0;
  /** CONFIG SET timeout changes it while running. */
  idleTimeoutMs: number;
  private readonly maxAcceptsPerEvent: number;
  private readonly readSize: number;
  /** CONFIG SET tcp-keepalive changes it (for new connections). */
  keepAliveSeconds: number;
  /** The syscalls (traced when tracing): the wiring reads its watched fds through them too. */
  readonly os: LoopOs;
  private readonly tracer: Tracer | null;

  constructor(
    private readonly backend: Backend,
    opts: LoopOptions = {},
  ) {
    this.idleTimeoutMs = opts.idleTimeoutMs ?? 0;
    this.maxAcceptsPerEvent = opts.maxAcceptsPerEvent ?? 100;
    this.readSize = opts.readSize ?? 64 * 1024;
    this.keepAliveSeconds = opts.keepAliveSeconds ?? 0;
    this.os = opts.os ?? plainOs;
    this.tracer = opts.tracer ?? null;
    this.reserve = new AcceptReserve(this.os);
    if (this.tracer !== null && this.tracer.json !== null) this.tracer.json.connState = (fd) => this.connState(fd);
  }

  /** A connection's state, for the structured trace (--trace-json); null if fd is no connection. */
  connState(fd: number): ConnState | null {
    const conn = fd < this.fd2conn.length ? this.fd2conn[fd] : null;
    if (conn === null) return null;
    return {
      wantRead: conn.wantRead,
      wantWrite: conn.wantWrite,
      wantClose: conn.wantClose,
      incoming: conn.incoming.length,
      outgoing: conn.outgoing.length,
      idleDeadline: this.idleTimeoutMs > 0 ? conn.lastActiveMs + this.idleTimeoutMs : null,
    };
  }

  /** Monotonic milliseconds. */
  now(): number {
    return performance.now();
  }

  addListener(listener: Listener): void {
    this.listeners.set(listener.fd, listener);
    this.listenFds.push(listener.fd);
    this.backend.setInterest(listener.fd, READABLE, 0);
  }

  /** Watches a non-socket fd (signal pipe, stdin) for readability. */
  addWatch(fd: number, callback: WatchCallback): void {
    this.watches.set(fd, callback);
    this.watchFds.push(fd);
    this.backend.setInterest(fd, READABLE, 0);
  }

  removeWatch(fd: number): void {
    if (!this.watches.delete(fd)) return;
    this.watchFds.splice(this.watchFds.indexOf(fd), 1);
    this.backend.setInterest(fd, 0, READABLE);
  }

  /** Runs the callback of a watched fd; false if the fd is not watched. */
  runWatch(fd: number): boolean {
    const watch = this.watches.get(fd);
    if (watch === undefined) return false;
    watch();
    return true;
  }

  /** ConnHost: run handler.resume(conn) before the next wait. */
  schedule(conn: Conn): void {
    if (conn.scheduled) return;
    conn.scheduled = true;
    this.scheduled.push(conn);
  }

  /**
   * Ends run() after the current iteration. Called again while run() is
   * flushing replies on the way out, it gives up on the flush.
   */
  stop(): void {
    this.running = false;
    this.stops++;
  }

  /** Whether run() is looping (false once stop() was called). */
  get isRunning(): boolean {
    return this.running;
  }

  /** Whether stop() has been called (the loop is shutting down). */
  get isStopping(): boolean {
    return this.stops > 0;
  }

  /**
   * Runs iterations until stop(). Then shuts down: the listening sockets are
   * closed (no new connections), no more requests are read, replies already
   * produced are flushed for at most graceMs, and every socket is closed.
   */
  run(graceMs = 5000): void {
    this.running = true;
    while (this.running) this.runOnce();
    this.drain(graceMs);
    for (const conn of this.fd2conn) if (conn !== null) this.destroy(conn, 'server shutdown');
    if (this.tracer !== null) this.tracer.end();
  }

  /** One iteration of the loop. */
  runOnce(): void {
    if (this.tracer !== null) this.tracer.iteration(++this.iteration);
    if (this.beforePoll !== null && !this.beforePoll()) return;

    // 1. The timeout: time to the nearest timer, 0 if one is due, -1 if none.
    const timeoutMs = this.computeTimeout();

    // 2. Wait for readiness (the backend builds the pollfd array and polls).
    const n = this.backend.wait(this, timeoutMs);
    if (n < 0 && n !== -C.EINTR) throw new sys.SysError(this.backend.name, n);
    // EINTR: a signal arrived; its byte is in the signal pipe for the next poll.

    // 3 and 4. Listening sockets first, then each ready connection.
    this.serveReady(n, null);

    // What the pipeline asked to run again: requests a cap left over, clients
    // served or written to by another client's command.
    if (this.scheduled.length !== 0) this.runScheduled();

    // 5. Timers: close idle connections, wake blocked clients, expire keys.
    this.runTimers();

    // 6. Before sleeping: the hook, then the replies that waited for it.
    if (this.beforeReplies !== null) {
      this.beforeReplies();
      this.writeHeld();
    } else if (this.held.size !== 0) this.writeHeld(); // the hook was removed meanwhile
  }

  /**
   * Steps 3 and 4 for the backend's n ready entries: accept on listening
   * sockets, call watched fds back, read or write each ready connection, then
   * settle it (step 5: close it, or tell the backend what it wants next). In a
   * nested iteration `frozen` is left alone and replies are written at once
   * (no beforeReplies hook runs there to release held ones).
   */
  private serveReady(n: number, frozen: Conn | null, nested = false): void {
    const { readyFds, readyMasks } = this.backend;
    // One clock read per iteration, as Redis caches its time per event loop cycle.
    const now = n > 0 ? this.now() : 0;
    for (let i = 0; i < n; i++) {
      const fd = readyFds[i];
      const mask = readyMasks[i];
      const listener = this.listeners.get(fd);
      if (listener !== undefined) {
        this.handleAccept(listener);
        continue;
      }
      const conn = fd < this.fd2conn.length ? this.fd2conn[fd] : null;
      if (conn === null) {
        // A watched fd, or a connection closed earlier in this iteration.
        this.watches.get(fd)?.();
        continue;
      }
      if (conn === frozen) continue;
      this.touch(conn, now);
      // Hang-up or error with data still unread: read it first (EOF or the
      // error code then closes the connection in the read path).
      if (conn.wantRead && mask & (READABLE | HANGUP | ERROR)) this.handleRead(conn);
      else if (conn.wantWrite && mask & (WRITABLE | HANGUP | ERROR)) {
        if (nested) this.handleWrite(conn);
        else this.writeOrHold(conn);
      } else if (mask & ERROR) this.fail(conn, 'POLLERR');
      this.settle(conn);
    }
  }

  /**
   * One iteration run from inside a command that is still running (a script
   * past busy-reply-threshold), as Redis's processEventsWhileBlocked: poll
   * without waiting, accept, read and write — file events only. No timers run
   * (no key expires, no blocked client times out, no idle client is closed)
   * and `frozen` (the connection whose command is running) is neither read,
   * written nor closed: its request is only half done. The outer iteration's
   * readiness list is kept. Re-entrant: a command run here may call it again.
   */
  runNested(frozen: Conn | null): void {
    const tr = this.tracer;
    if (tr !== null) {
      tr.iteration(++this.iteration);
      tr.note(`nested iteration inside a running command${frozen !== null ? ` (fd ${frozen.fd} frozen)` : ''}: file events only, no timers`);
    }
    const fds = this.backend.readyFds;
    const masks = this.backend.readyMasks;
    const savedFds = fds.slice();
    const savedMasks = masks.slice();
    try {
      if (tr !== null) tr.timeout(0, 'nested iteration: poll without waiting');
      const n = this.backend.wait(this, 0);
      if (n < 0 && n !== -C.EINTR) throw new sys.SysError(this.backend.name, n);
      this.serveReady(n, frozen, true);
      if (this.scheduled.length !== 0) this.runScheduled(frozen);
    } finally {
      fds.set(savedFds);
      masks.set(savedMasks);
    }
  }

  // ---- accept ------------------------------------------------------------------

  /** The listening socket is readable: accept connections (bounded per event). */
  private handleAccept(listener: Listener): void {
    for (let i = 0; i < this.maxAcceptsPerEvent; i++) {
      const fd = this.os.accept(listener.fd);
      if (fd >= 0) {
        this.setupConn(fd, listener, null);
        continue;
      }
      // Out of fds: the reserve lets one waiting client in to be told and closed.
      if (fd === -C.EMFILE || fd === -C.ENFILE) {
        const refused = this.reserve.acceptOne(listener.fd);
        if (refused >= 0) this.setupConn(refused, listener, 'out of file descriptors');
        this.reserve.retake();
      }
      // EAGAIN: nothing more pending. ECONNABORTED etc.: the peer is gone.
      return;
    }
  }

  /** A new connection: make it non-blocking, enter it in fd2conn, let the listener open it. */
  private setupConn(fd: number, listener: Listener, overflow: string | null): void {
    // The notes: every connection socket must be non-blocking.
    this.os.setNonBlocking(fd);
    this.os.setNoDelay(fd);
    if (this.keepAliveSeconds > 0) this.os.setKeepAlive(fd, this.keepAliveSeconds);
    const conn = new Conn(fd);
    while (this.fd2conn.length <= fd) this.fd2conn.push(null);
    this.fd2conn[fd] = conn;
    this.connCount++;
    conn.lastActiveMs = this.now();
    this.idleAppend(conn);
    this.backend.setInterest(fd, READABLE, 0);
    conn.interest = READABLE;
    listener.open(conn, overflow);
    // A refusal: its farewell goes out at once, then the socket closes.
    if (conn.wantClose && conn.outgoing.length !== 0) this.handleWrite(conn);
    this.settle(conn);
  }

  // ---- read, write ---------------------------------------------------------------

  /** The socket is readable: read once into incoming; the pipeline handles what came. */
  private handleRead(conn: Conn): void {
    const inc = conn.incoming;
    inc.reserve(this.readSize);
    const rv = this.os.read(conn.fd, inc.buf, inc.end, inc.space);
    if (rv < 0) {
      if (rv === -C.EAGAIN || rv === -C.EINTR) return; // not actually ready
      this.fail(conn, `read ${sys.errnoName(rv)}`); // ECONNRESET and friends
      return;
    }
    if (rv === 0) this.handler.eof(conn);
    else {
      inc.end += rv;
      this.bytesIn += rv;
      this.handler.received(conn);
    }
    // Replies are written at once (optimistically): the socket is most likely writable.
    if (conn.wantWrite && conn.outgoing.length !== 0) this.writeOrHold(conn);
  }

  /** Writes now, or (while beforeReplies is set) once it has run at the end of the iteration. */
  private writeOrHold(conn: Conn): void {
    if (this.beforeReplies === null) this.handleWrite(conn);
    else this.held.add(conn);
  }

  /** The replies that waited for beforeReplies. */
  private writeHeld(): void {
    for (const conn of this.held) {
      if (this.fd2conn[conn.fd] !== conn) continue; // closed meanwhile
      if (conn.wantWrite && conn.outgoing.length !== 0) this.handleWrite(conn);
      this.settle(conn);
    }
    this.held.clear();
  }

  /** The socket is writable: write what is pending. */
  private handleWrite(conn: Conn): void {
    const out = conn.outgoing;
    const rv = this.os.write(conn.fd, out.buf, out.start, out.length);
    if (rv < 0) {
      if (rv === -C.EAGAIN || rv === -C.EINTR) return; // not actually ready
      this.fail(conn, `write ${sys.errnoName(rv)}`); // EPIPE, ECONNRESET: the peer is gone
      return;
    }
    out.consume(rv);
    this.bytesOut += rv;
    if (out.length === 0 && !conn.wantClose) this.handler.drained(conn);
    // Partial write: keep wanting to write.
  }

  /** The socket failed: close without flushing. */
  private fail(conn: Conn, reason: string): void {
    conn.outgoing.clear();
    conn.wantClose = true;
    conn.aborted = true;
    conn.closeReason = reason;
  }

  /** After a connection's callbacks: close it, or update its backend interest. */
  private settle(conn: Conn): void {
    if (conn.wantClose && (conn.outgoing.length === 0 || conn.aborted)) {
      this.destroy(conn, conn.closeReason || 'wantClose');
      return;
    }
    if (conn.wantClose) {
      // A last reply is still going out: write only, then close.
      conn.wantRead = false;
      conn.wantWrite = true;
    }
    const mask = (conn.wantRead ? READABLE : 0) | (conn.wantWrite ? WRITABLE : 0);
    if (mask !== conn.interest) {
      this.backend.setInterest(conn.fd, mask, conn.interest);
      conn.interest = mask;
    }
  }

  private runScheduled(frozen: Conn | null = null): void {
    const list = this.scheduled;
    this.scheduled = [];
    const now = this.now();
    for (const conn of list) {
      if (conn === frozen) {
        this.scheduled.push(conn); // its turn comes once its command is done
        continue;
      }
      conn.scheduled = false;
      if (this.fd2conn[conn.fd] !== conn) continue; // closed meanwhile
      this.touch(conn, now); // busy, not idle: it may be served without a poll event
      this.handler.resume(conn);
      if (conn.wantWrite && conn.outgoing.length !== 0) this.writeOrHold(conn);
      this.settle(conn);
    }
  }

  /** Closes the socket and forgets the connection. */
  destroy(conn: Conn, reason: string): void {
    if (this.fd2conn[conn.fd] !== conn) return;
    this.backend.setInterest(conn.fd, 0, conn.interest);
    this.os.close(conn.fd);
    this.os.note?.(`fd ${conn.fd}: closed (${reason})`);
    this.fd2conn[conn.fd] = null;
    this.connCount--;
    this.idleRemove(conn);
    this.handler.closed(conn);
  }

  // ---- shutdown -------------------------------------------------------------------

  /** Shutdown: stop accepting and reading; flush what is owed for at most graceMs. */
  private drain(graceMs: number): void {
    for (const fd of this.listenFds) {
      this.backend.setInterest(fd, 0, READABLE);
      this.os.close(fd);
      this.os.note?.(`fd ${fd}: listening socket closed (shutting down)`);
    }
    this.listenFds.length = 0;
    this.listeners.clear();
    this.scheduled = [];
    for (const conn of this.fd2conn) {
      if (conn === null) continue;
      conn.wantClose = true;
      conn.closeReason = 'server shutdown';
      this.settle(conn); // closed now, or write only and close once written
    }
    this.drainDeadline = this.now() + graceMs;
    this.running = this.stops < 2; // a second stop() (signal) abandons the flush
    while (this.running && this.connCount > 0 && this.now() < this.drainDeadline) this.runOnce();
  }

  /** While shutting down: the time by which pending replies must be out. */
  private drainDeadline = Infinity;

  // ---- timers ---------------------------------------------------------------------

  private computeTimeout(): number {
    if (this.scheduled.length !== 0) return this.traceTimeout(0, 'pending requests');
    // `why` names the nearest timer for the trace; it is only spelled out
    // when tracing, so no string is built per iteration.
    let next = Infinity;
    let why: string | Conn | TimerHeap = 'no timers';
    if (this.idleTimeoutMs > 0 && this.idleHead !== null) {
      next = this.idleHead.lastActiveMs + this.idleTimeoutMs;
      why = this.idleHead;
    }
    const top = this.timers.peek();
    if (top !== null && top.deadline < next) {
      next = top.deadline;
      why = this.timers;
    }
    const keys = this.keyTimers?.nextDeadline() ?? null;
    if (keys !== null && keys < next) {
      next = keys;
      why = 'key TTL';
    }
    if (this.drainDeadline < next) {
      next = this.drainDeadline;
      why = 'shutdown grace period';
    }
    if (next === Infinity) return this.traceTimeout(-1, why);
    // poll/epoll_wait take an int: a deadline further than 2^31 - 1 ms away
    // (BLPOP k 1e9) waits that long and looks again.
    const ms = Math.min(MAX_WAIT_MS, Math.max(0, Math.ceil(next - this.now())));
    return this.traceTimeout(ms, why);
  }

  private traceTimeout(ms: number, why: string | Conn | TimerHeap): number {
    if (this.tracer !== null) {
      const text = typeof why === 'string' ? why : why instanceof Conn ? `idle timer of fd ${why.fd}` : this.timers.peek()!.what;
      this.tracer.timeout(ms, text);
    }
    return ms;
  }

  private runTimers(): void {
    const keys = this.keyTimers !== null && this.keyTimers.nextDeadline() !== null;
    // Nothing scheduled: don't even read the clock.
    if (this.idleTimeoutMs === 0 && this.timers.size === 0 && !keys) return;
    const now = this.now();
    if (this.idleTimeoutMs > 0) this.closeIdle(now);
    if (this.timers.size !== 0) {
      const tr = this.tracer;
      this.timers.runDue(now, tr === null ? undefined : (t) => tr.timer(t.what));
      // A fired timer may have served a client (a timeout reply): write it now.
      if (this.scheduled.length !== 0) this.runScheduled();
    }
    if (keys) this.keyTimers!.run(now);
  }

  /** Closes connections idle past the timeout (blocked, subscribed and MONITOR clients are exempt, as in Redis). */
  private closeIdle(now: number): void {
    let exempt = 0;
    while (this.idleHead !== null && this.idleHead.lastActiveMs + this.idleTimeoutMs <= now && exempt < this.connCount) {
      const conn = this.idleHead;
      if (conn.session !== null && conn.session.idleExempt) {
        exempt++;
        this.touch(conn, now);
        continue;
      }
      this.destroy(conn, `idle for ${this.idleTimeoutMs} ms`);
    }
  }

  /** Marks activity: move the connection to the tail of the idle list, O(1). */
  private touch(conn: Conn, now: number): void {
    conn.lastActiveMs = now;
    if (this.idleTail === conn) return;
    this.idleRemove(conn);
    this.idleAppend(conn);
  }

  private idleAppend(conn: Conn): void {
    conn.idlePrev = this.idleTail;
    conn.idleNext = null;
    if (this.idleTail !== null) this.idleTail.idleNext = conn;
    else this.idleHead = conn;
    this.idleTail = conn;
  }

  private idleRemove(conn: Conn): void {
    if (conn.idlePrev !== null) conn.idlePrev.idleNext = conn.idleNext;
    else if (this.idleHead === conn) this.idleHead = conn.idleNext;
    if (conn.idleNext !== null) conn.idleNext.idlePrev = conn.idlePrev;
    else if (this.idleTail === conn) this.idleTail = conn.idlePrev;
    conn.idlePrev = conn.idleNext = null;
  }
}
