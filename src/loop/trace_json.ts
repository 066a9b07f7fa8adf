// --trace-json FILE: the structured twin of the text trace, one JSON object
// per loop iteration (JSON lines; the schema is docs/trace-json.md). The
// Tracer feeds it the same calls it prints — every syscall with its arguments
// and result, the timeout and what set it, the notes — plus what the text
// leaves implicit: the interest set (poll's pollfd array with events and
// revents; epoll's ready list and epoll_ctl changes), the frames a read
// completed, timers fired, keys expired, and, for every fd the iteration
// touched, the connection's state once the iteration is over.
//
// An iteration's object is written when the next one starts (its connections'
// state is then "after the step"), and the last one at exit. Nothing here runs
// unless --trace-json was given: the loop only reaches it through a Tracer.

/** One entry of an interest set or ready list. */
export interface FdEvents {
  fd: number;
  /** What the fd is (book-listener, signal-pipe, client …), or null. */
  label?: string | null;
  events: string[];
  revents?: string[];
}

/** One epoll_ctl change. */
export interface CtlChange {
  op: 'ADD' | 'MOD' | 'DEL';
  fd: number;
  events: string[];
  ret: number;
}

/** A connection's state as the loop holds it (EventLoop.connState). */
export interface ConnState {
  wantRead: boolean;
  wantWrite: boolean;
  wantClose: boolean;
  /** Bytes in incoming: read, not yet parsed into a request. */
  incoming: number;
  /** Bytes in outgoing: replies not yet written. */
  outgoing: number;
  /** Monotonic ms when the idle timeout closes it, or null (no idle timeout). */
  idleDeadline: number | null;
}

export interface SyscallRecord {
  name: string;
  /** The arguments as the text trace (and strace) write them. */
  args: string;
  /** The result as the text trace writes it ("45", "0 (EOF)", "-1 EAGAIN", "1 [23:IN]"). */
  result: string;
  /** The return value (-1 on failure, as strace shows it). */
  ret: number;
  /** The errno name on failure. */
  errno?: string;
}

export interface ConnRecord {
  fd: number;
  label: string | null;
  peer: string | null;
  protocol: string | null;
  /** The socket was closed during the iteration (no state after it). */
  closed: boolean;
  wantRead?: boolean;
  wantWrite?: boolean;
  wantClose?: boolean;
  incoming?: { read: number; parsed: number; unparsed: number; frames: number[] };
  outgoing?: { written: number; pending: number };
  /** With bytes kept (the live inspector): the first bytes this iteration read and wrote, latin1. */
  readBytes?: string;
  wroteBytes?: string;
  idleDeadline?: number | null;
}

export interface IterationRecord {
  iteration: number;
  backend: string;
  /** Monotonic ms when the iteration started. */
  t: number;
  timeout: { ms: number; why: string } | null;
  /** poll: the pollfd array; epoll: the ready list and the changes made during the iteration. */
  interest: { poll: FdEvents[] } | { ready: FdEvents[]; changes: CtlChange[] } | null;
  syscalls: SyscallRecord[];
  notes: string[];
  connections: ConnRecord[];
  timers: string[];
  keysExpired: number;
}

interface Touch {
  read: number;
  written: number;
  parsed: number;
  frames: number[];
  closed: boolean;
  readBytes: string;
  wroteBytes: string;
  /** Its label, kept at close (the tracer forgets it then). */
  desc: { label: string | null; peer: string | null; protocol: string | null } | null;
}

/** Bytes of each read and write kept in a record when keepBytes is on. */
export const BYTES_KEPT = 256;

export class JsonTrace {
  private rec: IterationRecord;
  private touched = new Map<number, Touch>();
  /** The loop's view of a connection fd (null: not a connection). Set by the loop. */
  connState: ((fd: number) => ConnState | null) | null = null;
  /** Keep the first bytes of each read and write in the record (the live inspector shows them). */
  keepBytes = false;

  constructor(
    /** Where each finished iteration goes, as one JSON line (a file, the live inspector). */
    private readonly sinks: ((line: string) => void)[],
    private readonly backend: string,
    private readonly now: () => number,
    /** fd → label, peer, protocol (the Tracer's labels). */
    private readonly describe: (fd: number) => { label: string | null; peer: string | null; protocol: string | null },
  ) {
    this.rec = this.fresh(0);
  }

  private fresh(n: number): IterationRecord {
    const interest = this.backend === 'epoll' ? { ready: [], changes: [] } : null;
    return { iteration: n, backend: this.backend, t: this.now(), timeout: null, interest, syscalls: [], notes: [], connections: [], timers: [], keysExpired: 0 };
  }

  private touch(fd: number): Touch {
    let t = this.touched.get(fd);
    if (t === undefined) {
      t = { read: 0, written: 0, parsed: 0, frames: [], readBytes: '', wroteBytes: '', closed: false, desc: null };
      this.touched.set(fd, t);
    }
    return t;
  }

  addSink(sink: (line: string) => void): void {
    this.sinks.push(sink);
  }

  /** Iteration n starts: the previous one is written out. */
  begin(n: number): void {
    this.finish();
    this.rec = this.fresh(n);
  }

  timeout(ms: number, why: string): void {
    this.rec.timeout = { ms, why };
  }

  syscall(name: string, args: string, result: string, fds: readonly number[]): void {
    const m = /^(0x[0-9a-f]+|-?\d+)(?: (\w+))?/.exec(result);
    const ret = m === null ? NaN : Number(m[1]);
    const rec: SyscallRecord = { name, args, result, ret };
    if (ret === -1 && m !== null && m[2] !== undefined) rec.errno = m[2];
    this.rec.syscalls.push(rec);
    if (name === 'poll' || name === 'epoll_wait' || name === 'epoll_ctl' || name === 'epoll_create1' || name === 'socket') return;
    const fd = fds[0];
    if (fd === undefined) return;
    const t = this.touch(fd);
    if (name === 'read' && ret > 0) t.read += ret;
    if (name === 'write' && ret > 0) t.written += ret;
    if (name === 'close' && ret === 0) {
      t.closed = true;
      t.desc = this.describe(fd);
    }
    if (name === 'accept' && ret >= 0) this.touch(ret).closed = false;
  }

  /** A read's or write's bytes (only while keepBytes): the first BYTES_KEPT of the iteration's per fd. */
  data(fd: number, dir: 'read' | 'wrote', buf: Uint8Array, offset: number, n: number): void {
    const t = this.touch(fd);
    const have = dir === 'read' ? t.readBytes : t.wroteBytes;
    const room = BYTES_KEPT - have.length;
    if (room <= 0) return;
    const s = have + Buffer.from(buf.buffer, buf.byteOffset + offset, Math.min(n, room)).toString('latin1');
    if (dir === 'read') t.readBytes = s;
    else t.wroteBytes = s;
  }

  /** The pollfd array of the iteration's poll (the paused polls of --step are only syscalls). */
  pollSet(entries: FdEvents[]): void {
    for (const e of entries) e.label = this.describe(e.fd).label;
    this.rec.interest = { poll: entries };
  }

  ready(entries: FdEvents[]): void {
    const i = this.rec.interest;
    for (const e of entries) e.label = this.describe(e.fd).label;
    if (i !== null && 'ready' in i) i.ready = entries;
  }

  ctl(change: CtlChange): void {
    const i = this.rec.interest;
    if (i !== null && 'changes' in i) i.changes.push(change);
  }

  note(text: string): void {
    this.rec.notes.push(text);
  }

  frames(fd: number, ends: readonly number[]): void {
    const t = this.touch(fd);
    const base = t.parsed;
    for (const e of ends) t.frames.push(base + e);
    if (ends.length) t.parsed += ends[ends.length - 1];
  }

  timer(what: string): void {
    this.rec.timers.push(what);
  }

  keysExpired(n: number): void {
    this.rec.keysExpired += n;
  }

  /** Writes the current iteration (with its connections' state now) and forgets it. */
  finish(): void {
    const rec = this.rec;
    if (rec.iteration === 0 && rec.syscalls.length === 0) return;
    for (const [fd, t] of this.touched) {
      const state = t.closed || this.connState === null ? null : this.connState(fd);
      const d = t.desc ?? this.describe(fd);
      // Not a connection: a listener, the signal pipe, stdin (closed ones too, at shutdown).
      if (state === null && (!t.closed || d.peer === null)) continue;
      const c: ConnRecord = { fd, label: d.label, peer: d.peer, protocol: d.protocol, closed: state === null };
      if (state !== null) {
        c.wantRead = state.wantRead;
        c.wantWrite = state.wantWrite;
        c.wantClose = state.wantClose;
        c.incoming = { read: t.read, parsed: t.parsed, unparsed: state.incoming, frames: t.frames };
        c.outgoing = { written: t.written, pending: state.outgoing };
        c.idleDeadline = state.idleDeadline;
        if (this.keepBytes) {
          c.readBytes = t.readBytes;
          c.wroteBytes = t.wroteBytes;
        }
      }
      rec.connections.push(c);
    }
    this.touched = new Map();
    this.rec = this.fresh(rec.iteration);
    const line = JSON.stringify(rec);
    for (const sink of this.sinks) sink(line);
  }
}
