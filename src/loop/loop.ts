// The event loop, in the order the notes teach it. Each iteration:
//   1. work out poll's timeout from the nearest timer (idle connection or key TTL);
//   2. wait: the backend builds its pollfd array from every connection's want
//      flags and calls poll() — the only call that blocks;
//   3. accept new connections on a ready listening socket (handleAccept);
//   4. run each ready connection's callbacks (handleRead, handleWrite), which
//      parse every complete request (tryOneRequest) and write replies at once;
//   5. destroy connections that want to close; then run the timers.
// The loop knows sockets, buffers and timers. It never sees a command: a
// Session (above it) turns incoming bytes into outgoing bytes.

import { performance } from 'node:perf_hooks';
import * as sys from '../sys/index.js';
import { C } from '../sys/index.js';
import { ERROR, HANGUP, READABLE, WRITABLE, type Backend, type LoopView } from './backend.js';
import { Conn, type Session } from './conn.js';
import { sysResult, type Tracer } from './trace.js';

/** A listening socket and how its connections are served. */
export interface Listener {
  readonly fd: number;
  /** Creates the session for a newly accepted connection. */
  newSession(conn: Conn): Session;
  /** Bytes sent to a connection refused by maxclients before closing it (may be empty). */
  readonly refusal: Uint8Array;
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
  /** Connections beyond this are refused. */
  maxClients?: number;
  /** Stop handling a connection's requests after this many per event. */
  maxRequestsPerEvent?: number;
  /** Accept at most this many connections per listener readiness. */
  maxAcceptsPerEvent?: number;
  /** Disconnect a client whose pending output exceeds this (bytes); 0 = no limit. */
  outputLimit?: number;
  /** Disconnect a client whose unparsed input exceeds this (bytes); 0 = no limit. */
  queryLimit?: number;
  /** Bytes asked of each read(). */
  readSize?: number;
  tracer?: Tracer | null;
  /** Logs one line (connection errors, refused clients). */
  log?: (line: string) => void;
}

type WatchCallback = () => void;

export class EventLoop implements LoopView {
  /** The notes' fd2conn: a dense array indexed by fd. */
  readonly fd2conn: (Conn | null)[] = [];
  readonly listenFds: number[] = [];
  readonly watchFds: number[] = [];
  private readonly listeners = new Map<number, { index: number; listener: Listener }>();
  private readonly listenerList: Listener[] = [];
  private readonly watches = new Map<number, WatchCallback>();
  /** Idle list: oldest activity at the head, newest at the tail. */
  private idleHead: Conn | null = null;
  private idleTail: Conn | null = null;
  /** Connections with requests left over by the per-event cap (a Set: each once). */
  private pendingConns = new Set<Conn>();
  private running = false;
  /** How many times stop() was called: the first ends run(), the second the flush. */
  private stops = 0;
  private reserveFd = -1;
  private loggedEmfile = false;
  private iteration = 0;
  connCount = 0;
  timers: ExternalTimers | null = null;
  /**
   * Called at the start of each iteration, before the timeout is computed and
   * poll is built (step mode waits here for Enter). Returning false skips the
   * iteration (the loop was stopped meanwhile).
   */
  beforePoll: (() => boolean) | null = null;

  private readonly idleTimeoutMs: number;
  private readonly maxClients: number;
  private readonly maxRequestsPerEvent: number;
  private readonly maxAcceptsPerEvent: number;
  private readonly outputLimit: number;
  private readonly queryLimit: number;
  private readonly readSize: number;
  private readonly tracer: Tracer | null;
  private readonly log: (line: string) => void;

  constructor(
    private readonly backend: Backend,
    opts: LoopOptions = {},
  ) {
    this.idleTimeoutMs = opts.idleTimeoutMs ?? 0;
    this.maxClients = opts.maxClients ?? 10000;
    this.maxRequestsPerEvent = opts.maxRequestsPerEvent ?? 1000;
    this.maxAcceptsPerEvent = opts.maxAcceptsPerEvent ?? 100;
    this.outputLimit = opts.outputLimit ?? 0;
    this.queryLimit = opts.queryLimit ?? 0;
    this.readSize = opts.readSize ?? 64 * 1024;
    this.tracer = opts.tracer ?? null;
    this.log = opts.log ?? (() => {});
    // A spare fd, given up to accept-and-close one client when we run out (EMFILE).
    this.reserveFd = takeReserveFd();
  }

  /** Monotonic milliseconds. */
  now(): number {
    return performance.now();
  }

  addListener(listener: Listener): void {
    const index = this.listenerList.length;
    this.listenerList.push(listener);
    this.listeners.set(listener.fd, { index, listener });
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

  /**
   * Ends run() after the current iteration. Called again while run() is
   * flushing replies on the way out, it gives up on the flush.
   */
  stop(): void {
    this.running = false;
    this.stops++;
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
    if (this.tracer !== null) this.tracer.flush();
  }

  /** Runs the callback of a watched fd; false if the fd is not watched. */
  runWatch(fd: number): boolean {
    const watch = this.watches.get(fd);
    if (watch === undefined) return false;
    watch();
    return true;
  }

  /** Whether run() is looping (false once stop() was called). */
  get isRunning(): boolean {
    return this.running;
  }

  /** Whether stop() has been called (the loop is shutting down). */
  get isStopping(): boolean {
    return this.stops > 0;
  }

  /** One iteration of the loop. */
  runOnce(): void {
    const tr = this.tracer;
    if (tr !== null) tr.iteration(++this.iteration);
    if (this.beforePoll !== null && !this.beforePoll()) return;

    // 1. The timeout: time to the nearest timer, 0 if one is due, -1 if none.
    const timeoutMs = this.computeTimeout();

    // 2. Wait for readiness (the backend builds the pollfd array and polls).
    const n = this.backend.wait(this, timeoutMs);
    if (n < 0 && n !== -C.EINTR) throw new sys.SysError(this.backend.name, n);
    // EINTR: a signal arrived; its byte is in the signal pipe for the next poll.

    // 3 and 4. Listening sockets first, then each ready connection.
    const { readyFds, readyMasks } = this.backend;
    // One clock read per iteration, as Redis caches its time per event loop
    // cycle: performance.now() costs ~0.3 µs on a VM, once per ready fd added up.
    // Without an idle timeout nothing reads the idle list: skip it altogether.
    const idleTimers = this.idleTimeoutMs > 0;
    const now = n > 0 && idleTimers ? this.now() : 0;
    for (let i = 0; i < n; i++) {
      const fd = readyFds[i];
      const mask = readyMasks[i];
      const l = this.listeners.get(fd);
      if (l !== undefined) {
        this.handleAccept(l.listener, l.index);
        continue;
      }
      const conn = fd < this.fd2conn.length ? this.fd2conn[fd] : null;
      if (conn === null) {
        const watch = this.watches.get(fd);
        if (watch !== undefined) watch();
        // Otherwise the connection was closed earlier in this iteration.
        continue;
      }
      if (idleTimers) this.touch(conn, now);
      // Hang-up or error with data still unread: read it first (EOF or the
      // error code then closes the connection in the read path).
      if (conn.wantRead && mask & (READABLE | HANGUP | ERROR)) this.handleRead(conn);
      else if (conn.wantWrite && mask & (WRITABLE | HANGUP | ERROR)) this.handleWrite(conn);
      else if (mask & ERROR) this.abort(conn, 'POLLERR');
      // 5. Close what wants closing; otherwise tell the backend what it wants next.
      this.settle(conn);
    }

    // Requests left over by the per-event cap get their turn now.
    if (this.pendingConns.size !== 0) this.runPending();

    // 5. Timers: close idle connections, expire keys.
    this.runTimers();
  }

  // ---- accept ------------------------------------------------------------------

  /** The listening socket is readable: accept connections (bounded per event). */
  private handleAccept(listener: Listener, index: number): void {
    const tr = this.tracer;
    for (let i = 0; i < this.maxAcceptsPerEvent; i++) {
      const fd = sys.accept(listener.fd);
      if (tr !== null) tr.syscall('accept', `${listener.fd}`, sysResult(fd));
      if (fd < 0) {
        if (fd === -C.EMFILE || fd === -C.ENFILE) this.acceptOverflow(listener);
        // EAGAIN: nothing more pending. ECONNABORTED etc.: the peer is gone.
        return;
      }
      if (this.connCount >= this.maxClients) {
        this.refuse(fd, listener, 'max number of clients reached');
        continue;
      }
      this.setupConn(fd, listener, index);
    }
  }

  /** A new connection: make it non-blocking, enter it in fd2conn, give it a session. */
  private setupConn(fd: number, listener: Listener, index: number): void {
    const tr = this.tracer;
    // The notes: every connection socket must be non-blocking.
    const flags = sys.fcntl(fd, C.F_GETFL, 0);
    if (tr !== null) tr.syscall('fcntl', `${fd}, F_GETFL`, `0x${flags.toString(16)}`);
    sys.fcntl(fd, C.F_SETFL, flags | C.O_NONBLOCK);
    if (tr !== null) tr.syscall('fcntl', `${fd}, F_SETFL, 0x${(flags | C.O_NONBLOCK).toString(16)} (+O_NONBLOCK)`, '0');
    // Replies go out as soon as they are written; don't let Nagle hold them.
    sys.setsockopt(fd, C.IPPROTO_TCP, C.TCP_NODELAY, 1);
    if (tr !== null) tr.syscall('setsockopt', `${fd}, IPPROTO_TCP, TCP_NODELAY, 1`, '0');
    const conn = new Conn(fd, index);
    while (this.fd2conn.length <= fd) this.fd2conn.push(null);
    this.fd2conn[fd] = conn;
    this.connCount++;
    conn.lastActiveMs = this.now();
    this.idleAppend(conn);
    conn.session = listener.newSession(conn);
    conn.interest = READABLE;
    this.backend.setInterest(fd, READABLE, 0);
    // A session may refuse at once (protected mode): flush its reply, then close.
    if (conn.wantClose) this.settle(conn);
  }

  /** Out of fds: free the reserve fd, accept and close one client, take the reserve back. */
  private acceptOverflow(listener: Listener): void {
    if (!this.loggedEmfile) {
      this.log('accept: out of file descriptors (EMFILE); refusing new clients until some close');
      this.loggedEmfile = true;
    }
    if (this.reserveFd >= 0) {
      const rv = sys.close(this.reserveFd);
      if (this.tracer !== null) this.tracer.syscall('close', `${this.reserveFd}`, sysResult(rv));
      this.reserveFd = -1;
      const fd = sys.accept(listener.fd);
      if (this.tracer !== null) this.tracer.syscall('accept', `${listener.fd}`, sysResult(fd));
      if (fd >= 0) this.refuse(fd, listener, 'out of file descriptors');
    }
    // One fd: the one just closed is free again (a pipe would need two, fail
    // with EMFILE, and leave no reserve: the listener would then stay readable
    // and poll would spin).
    this.reserveFd = takeReserveFd();
    if (this.tracer !== null) this.tracer.syscall('socket', 'AF_INET, SOCK_STREAM, 0', this.reserveFd < 0 ? '-1 (no fd free)' : `${this.reserveFd}`);
  }

  private refuse(fd: number, listener: Listener, why: string): void {
    const tr = this.tracer;
    if (listener.refusal.length) {
      const rv = sys.write(fd, listener.refusal, 0, listener.refusal.length);
      if (tr !== null) tr.syscall('write', `${fd}, ${listener.refusal.length}`, sysResult(rv));
    }
    const rv = sys.close(fd);
    if (tr !== null) tr.syscall('close', `${fd}`, sysResult(rv));
    if (tr !== null) tr.note(`fd ${fd}: refused (${why})`);
    this.onRefused?.(why);
  }

  /** Called when a client is refused (stats). */
  onRefused: ((why: string) => void) | null = null;

  // ---- read, parse, write -------------------------------------------------------

  /** The socket is readable: read once, handle every complete request, reply. */
  private handleRead(conn: Conn): void {
    const tr = this.tracer;
    const inc = conn.incoming;
    inc.reserve(this.readSize);
    const want = inc.space;
    const rv = sys.read(conn.fd, inc.buf, inc.end, want);
    if (tr !== null) tr.syscall('read', `${conn.fd}, ${want}`, rv === 0 ? '0 (EOF)' : sysResult(rv));
    if (rv < 0) {
      if (rv === -C.EAGAIN || rv === -C.EINTR) return; // not actually ready
      this.abort(conn, `read ${sys.errnoName(rv)}`); // ECONNRESET and friends
      return;
    }
    if (rv === 0) {
      // EOF. The peer may have only half-closed: whatever it sent before is
      // still answered, then the connection closes.
      conn.peerClosed = true;
      conn.wantRead = false;
      if (conn.outgoing.length === 0 && !this.hasMoreToDo(conn)) {
        conn.wantClose = true;
        conn.closeReason = inc.length ? 'EOF with an incomplete request' : 'EOF';
      }
      return;
    }
    inc.end += rv;
    this.processRequests(conn);
    // What is left is one request still arriving: a client may not make it
    // (RESP allows 1M arguments of up to proto-max-bulk-len each) hold more than this.
    if (this.queryLimit !== 0 && inc.length > this.queryLimit && !conn.wantClose) {
      this.log(`closing fd ${conn.fd}: query buffer over the limit (${inc.length} > ${this.queryLimit} bytes)`);
      this.abort(conn, 'query buffer limit');
    }
  }

  /** Whether a half-closed connection still has buffered requests to serve. */
  private hasMoreToDo(conn: Conn): boolean {
    if (conn.incoming.length === 0) return false;
    this.processRequests(conn);
    return conn.outgoing.length !== 0 || conn.pending;
  }

  /**
   * The pipelining fix: handle every complete request in the buffer (not just
   * one per read), consuming only each request's bytes, then write the replies
   * at once (optimistically) — the socket is most likely writable.
   */
  private processRequests(conn: Conn): void {
    const tr = this.tracer;
    const names: string[] | null = tr !== null ? [] : null;
    const session = conn.session;
    let handled = 0;
    conn.pending = false;
    while (!conn.wantClose && session.tryOneRequest(conn)) {
      handled++;
      if (names !== null && names.length < 4) names.push(session.lastRequestName());
      if (this.outputLimit !== 0 && conn.outgoing.length > this.outputLimit) {
        this.log(`closing fd ${conn.fd}: output buffer over the limit (${conn.outgoing.length} > ${this.outputLimit} bytes)`);
        this.abort(conn, 'output buffer limit');
        return;
      }
      if (handled >= this.maxRequestsPerEvent) {
        // Fairness: leave the rest for after the other connections have run.
        conn.pending = true;
        this.pendingConns.add(conn);
        break;
      }
    }
    if (names !== null && handled === 0 && !conn.wantClose) {
      tr!.note(`fd ${conn.fd}: no complete request yet (${conn.incoming.length} bytes buffered)`);
    }
    if (names !== null && handled > 0) {
      tr!.note(`fd ${conn.fd}: ${handled} request${handled > 1 ? 's' : ''} (${names.join(', ')}${handled > names.length ? ', …' : ''})${conn.pending ? ', more pending' : ''}`);
    }
    if (conn.wantClose && conn.outgoing.length === 0) return;
    if (conn.outgoing.length > 0) {
      // The book's state change: stop reading until the replies are out.
      this.setWant(conn, false, true);
      this.handleWrite(conn);
    } else if (conn.peerClosed && !conn.pending) {
      conn.wantClose = true;
      conn.closeReason ||= 'EOF';
    } else if (!conn.peerClosed) {
      // No replies (RESP's empty requests): read again only once nothing is pending.
      this.setWant(conn, !conn.pending, false);
    }
  }

  /** The socket is writable: write what is pending. */
  private handleWrite(conn: Conn): void {
    const tr = this.tracer;
    const out = conn.outgoing;
    const want = out.length;
    const rv = sys.write(conn.fd, out.buf, out.start, want);
    if (tr !== null) {
      tr.syscall('write', `${conn.fd}, ${want}`, sysResult(rv));
      if (rv >= 0 && rv < want) tr.note(`fd ${conn.fd}: wrote ${rv} of ${want} bytes, ${want - rv} left for when it is writable`);
    }
    if (rv < 0) {
      if (rv === -C.EAGAIN || rv === -C.EINTR) return; // not actually ready
      this.abort(conn, `write ${sys.errnoName(rv)}`); // EPIPE, ECONNRESET: the peer is gone
      return;
    }
    out.consume(rv);
    if (out.length !== 0) return; // partial write: keep wanting to write
    if (conn.wantClose) return; // a final reply (protocol error, QUIT) is out
    // All written. Requests a cap left waiting are served by runPending, after
    // the other connections (serving them here would recurse through
    // processRequests → handleWrite and defeat the cap).
    // Until they are, read no more: incoming would otherwise grow by a read
    // (64 KiB) per iteration while only a cap's worth of requests leaves it.
    if (conn.pending) {
      this.pendingConns.add(conn);
      this.setWant(conn, false, false);
      return;
    }
    if (conn.peerClosed) {
      conn.wantClose = true;
      conn.closeReason ||= conn.incoming.length ? 'EOF with an incomplete request' : 'EOF';
      return;
    }
    this.setWant(conn, true, false);
  }

  private setWant(conn: Conn, read: boolean, write: boolean): void {
    if (this.tracer !== null && (conn.wantRead !== read || conn.wantWrite !== write)) {
      this.tracer.note(`fd ${conn.fd}: want ${wantName(conn.wantRead, conn.wantWrite)} → ${wantName(read, write)}`);
    }
    conn.wantRead = read;
    conn.wantWrite = write;
  }

  /** Close without flushing: the socket failed, or the client broke a limit. */
  private abort(conn: Conn, reason: string): void {
    conn.outgoing.clear();
    conn.incoming.clear();
    conn.wantClose = true;
    conn.closeReason = reason;
  }

  /** After a connection's callbacks: close it, or update its backend interest. */
  private settle(conn: Conn): void {
    if (conn.wantClose && conn.outgoing.length === 0) {
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

  private runPending(): void {
    const list = this.pendingConns;
    this.pendingConns = new Set();
    for (const conn of list) {
      if (this.fd2conn[conn.fd] !== conn || !conn.pending) continue;
      this.touch(conn, this.now()); // busy, not idle: its replies may all go out without a poll event
      // Replies still going out: handleWrite queues it again once they are.
      // (A half-closed peer has wantRead false but is still served.)
      if (conn.outgoing.length === 0 && !conn.wantClose) this.processRequests(conn);
      this.settle(conn);
    }
  }

  /** Closes the socket and forgets the connection. */
  destroy(conn: Conn, reason: string): void {
    if (this.fd2conn[conn.fd] !== conn) return;
    const tr = this.tracer;
    this.backend.setInterest(conn.fd, 0, conn.interest);
    const rv = sys.close(conn.fd);
    if (tr !== null) {
      tr.syscall('close', `${conn.fd}`, sysResult(rv));
      tr.note(`fd ${conn.fd}: closed (${reason})`);
    }
    this.fd2conn[conn.fd] = null;
    this.connCount--;
    this.idleRemove(conn);
    conn.session.closed(conn);
  }

  // ---- shutdown -------------------------------------------------------------------

  /** Shutdown: stop accepting and reading; flush what is owed for at most graceMs. */
  private drain(graceMs: number): void {
    for (const fd of this.listenFds) {
      this.backend.setInterest(fd, 0, READABLE);
      const rv = sys.close(fd);
      if (this.tracer !== null) {
        this.tracer.syscall('close', `${fd}`, sysResult(rv));
        this.tracer.note(`fd ${fd}: listening socket closed (shutting down)`);
      }
    }
    this.listenFds.length = 0;
    this.listeners.clear();
    for (const conn of this.fd2conn) {
      if (conn === null) continue;
      if (conn.outgoing.length === 0) {
        this.destroy(conn, 'server shutdown');
      } else {
        conn.wantClose = true;
        conn.closeReason = 'server shutdown';
        conn.pending = false;
        this.settle(conn); // write only, close once written
      }
    }
    this.drainDeadline = this.now() + graceMs;
    this.running = this.stops < 2; // a second stop() (signal) abandons the flush
    while (this.running && this.connCount > 0 && this.now() < this.drainDeadline) this.runOnce();
  }

  /** While shutting down: the time by which pending replies must be out. */
  private drainDeadline = Infinity;

  // ---- timers ---------------------------------------------------------------------

  private computeTimeout(): number {
    if (this.pendingConns.size !== 0) return this.traceTimeout(0, 'pending requests');
    // `why` names the nearest timer for the trace; the idle one is only
    // spelled out (with its fd) when tracing, so no string is built per iteration.
    let next = Infinity;
    let why: string | Conn = 'no timers';
    if (this.idleTimeoutMs > 0 && this.idleHead !== null) {
      next = this.idleHead.lastActiveMs + this.idleTimeoutMs;
      why = this.idleHead;
    }
    const ext = this.timers?.nextDeadline() ?? null;
    if (ext !== null && ext < next) {
      next = ext;
      why = 'key TTL';
    }
    if (this.drainDeadline < next) {
      next = this.drainDeadline;
      why = 'shutdown grace period';
    }
    if (next === Infinity) return this.traceTimeout(-1, why);
    const ms = Math.max(0, Math.ceil(next - this.now()));
    return this.traceTimeout(ms, why);
  }

  private traceTimeout(ms: number, why: string | Conn): number {
    if (this.tracer !== null) this.tracer.timeout(ms, typeof why === 'string' ? why : `idle timer of fd ${why.fd}`);
    return ms;
  }

  private runTimers(): void {
    // Nothing scheduled: don't even read the clock.
    if (this.idleTimeoutMs === 0 && (this.timers === null || this.timers.nextDeadline() === null)) return;
    const now = this.now();
    if (this.idleTimeoutMs > 0) {
      while (this.idleHead !== null && this.idleHead.lastActiveMs + this.idleTimeoutMs <= now) {
        this.destroy(this.idleHead, `idle for ${this.idleTimeoutMs} ms`);
      }
    }
    if (this.timers !== null) this.timers.run(now);
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

  /** Every live connection (for CLIENT LIST and INFO). */
  *connections(): IterableIterator<Conn> {
    for (const c of this.fd2conn) if (c !== null) yield c;
  }
}

/** One spare fd (a socket), or -1 if none can be had right now. */
function takeReserveFd(): number {
  try {
    return sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
  } catch {
    return -1;
  }
}

function wantName(read: boolean, write: boolean): string {
  return read && write ? 'read+write' : read ? 'read' : write ? 'write' : 'nothing';
}
