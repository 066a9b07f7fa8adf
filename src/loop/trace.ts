// The loop's trace sink (--trace, --step). One block per loop iteration:
//
//   #3 timeout -1 (no timers)
//     poll([20:IN 21:IN 23:IN|ERR], 3, -1) = 1 [23:IN]
//     read(23, 65536) = 50
//       fd 23: 2 requests (set, get)
//       fd 23: want read → write
//     write(23, 15) = 15
//       fd 23: want write → read
//
// Two-space lines are syscalls, exactly one per syscall the loop made, written
// like strace writes them (`name(args) = result`, failures as `-1 EAGAIN`), so
// the trace can be held against `strace -e trace=poll,accept,read,write,close,
// fcntl,setsockopt` line for line. Four-space lines say what a handler made of
// it. The loop and backends call the tracer only behind `if (tracer !== null)`,
// so with tracing off no string is built and no closure allocated. Lines are
// collected per iteration and written to stderr with one synchronous write
// before the loop blocks in poll (and before any log line, to keep order).
//
// fd labels: the loop knows fds, not what they are; the wiring tells the
// tracer (`label(19, 'book-listener')`, `label(23, 'client 127.0.0.1:50312
// (resp)')`). The first time a labelled fd appears in an iteration, a note
// under the syscall line names it (`fd 19 book-listener, fd 23 client …`),
// and a note mentioning it first says `fd 23 client …:`. The syscall lines
// themselves stay exactly strace's. A successful close forgets the label.

import { writeSync } from 'node:fs';
import { errnoName } from '../sys/index.js';
import type { JsonTrace } from './trace_json.js';

export class Tracer {
  private lines: string[] = [];
  /** Index in `lines` of the current iteration's header, or -1. */
  private header = -1;
  /** The iteration being traced (0 before the first). */
  current = 0;

  /** What each fd is, as the wiring named it. */
  private readonly labels = new Map<number, string>();
  /** A client's address and protocol, for the structured trace. */
  private readonly peers = new Map<number, { peer: string; protocol: string }>();
  /** --trace-json: the structured twin (null without it). */
  json: JsonTrace | null = null;
  /** --trace-bytes: notes show bytes read and written and where requests end. */
  showBytes = false;
  /** Labelled fds already named in the current iteration. */
  private named = new Set<number>();

  /** `fd` receives the text trace; -1: none (--trace-json alone). */
  constructor(private readonly fd = 2) {}

  /** Names an fd (a listener, the signal pipe, a client); named at once if an iteration is running. */
  label(fd: number, text: string, client?: { peer: string; protocol: string }): void {
    this.labels.set(fd, text);
    if (client !== undefined) this.peers.set(fd, client);
    else this.peers.delete(fd);
    this.named.delete(fd);
    if (this.current > 0) this.name([fd]);
  }

  /** The label of an fd, or undefined. */
  labelOf(fd: number): string | undefined {
    return this.labels.get(fd);
  }

  /** What the structured trace says an fd is. */
  /** Forgets an fd closed without the traced close (the inspector's own). */
  unlabel(fd: number): void {
    this.labels.delete(fd);
    this.peers.delete(fd);
    this.named.delete(fd);
  }

  describe(fd: number): { label: string | null; peer: string | null; protocol: string | null } {
    const p = this.peers.get(fd);
    return { label: this.labels.get(fd) ?? null, peer: p?.peer ?? null, protocol: p?.protocol ?? null };
  }

  /** A note naming the labelled fds among `fds` not yet named in this iteration. */
  private name(fds: readonly number[]): void {
    let text = '';
    for (const fd of fds) {
      const label = this.labels.get(fd);
      if (label === undefined || this.named.has(fd)) continue;
      this.named.add(fd);
      text += `${text === '' ? '' : ', '}fd ${fd} ${label}`;
    }
    if (text !== '') this.lines.push(`    ${text}`);
  }

  /** Starts iteration n: `#n`. */
  iteration(n: number): void {
    if (this.json !== null) this.json.begin(n);
    this.named = new Set();
    this.current = n;
    this.header = this.lines.length;
    this.lines.push(`#${n}`);
  }

  /** Poll's timeout and what set it, appended to the iteration's header line. */
  timeout(ms: number, why: string): void {
    if (this.json !== null) this.json.timeout(ms, why);
    const text = `timeout ${ms} (${why})`;
    if (this.header >= 0) this.lines[this.header] += ` ${text}`;
    else this.note(text);
  }

  /** One syscall: `name(args) = result`. */
  syscall(name: string, args: string, result: string): void {
    this.lines.push(`  ${name}(${args}) = ${result}`);
    if (this.labels.size === 0 && this.json === null) return;
    const fds = syscallFds(name, args, result);
    if (this.json !== null) this.json.syscall(name, args, result, fds);
    this.name(fds);
    if (name === 'close' && result === '0') this.labels.delete(fds[0]);
  }

  /** What a handler made of it (parsed requests, want flags, why a close). */
  note(text: string): void {
    if (this.labels.size !== 0) {
      // `fd 23: …` → `fd 23 client 127.0.0.1:50312 (resp): …` the first time fd 23 shows up.
      text = text.replace(/\bfd (\d+)\b/g, (whole, n: string) => {
        const fd = Number(n);
        const label = this.labels.get(fd);
        if (label === undefined || this.named.has(fd)) return whole;
        this.named.add(fd);
        return `fd ${fd} ${label}`;
      });
    }
    this.lines.push(`    ${text}`);
    if (this.json !== null) this.json.note(text);
  }

  /** A timer fired (a blocked client's timeout, CLIENT PAUSE's end). */
  timer(what: string): void {
    if (this.json !== null) this.json.timer(what);
    this.note(`timers: ${what}`);
  }

  /** Active expiry removed n keys. */
  keysExpired(n: number): void {
    if (this.json !== null) this.json.keysExpired(n);
    this.note(`timers: ${n} key${n > 1 ? 's' : ''} expired`);
  }

  /**
   * The pipeline handled requests on fd: `ends` are where each ended in
   * incoming as it stood (`before` bytes), `unparsed` what is left.
   */
  frames(fd: number, before: number, ends: readonly number[], unparsed: number): void {
    if (ends.length === 0) return;
    if (this.json !== null) this.json.frames(fd, ends);
    if (this.showBytes) {
      const at = `request${ends.length > 1 ? 's end at bytes' : ' ends at byte'} ${ends.join(', ')}`;
      this.note(`fd ${fd}: incoming ${before} bytes: ${at}; ${unparsed} unparsed`);
    }
  }

  /** The end of tracing: writes what is left (text and structured). */
  end(): void {
    this.flush();
    if (this.json !== null) this.json.finish();
  }

  /** Writes what was collected; called before blocking, before a log line, and at exit. */
  flush(): void {
    this.header = -1;
    if (this.lines.length === 0) return;
    if (this.fd < 0) {
      this.lines = [];
      return;
    }
    const text = this.lines.join('\n') + '\n';
    this.lines = [];
    try {
      writeSync(this.fd, text);
    } catch {
      // stderr closed: tracing must never take the server down.
    }
  }
}

/** The fds a syscall line mentions: poll's array, epoll_wait's ready list, epoll_ctl's fd, else the first argument (and accept's result). */
export function syscallFds(name: string, args: string, result: string): number[] {
  if (name === 'poll') return [...args.matchAll(/(\d+):/g)].map((m) => Number(m[1]));
  if (name === 'epoll_wait') return [...result.matchAll(/(\d+):/g)].map((m) => Number(m[1]));
  if (name === 'epoll_ctl') return [Number(args.split(', ')[2])];
  if (name === 'socket' || name === 'epoll_create1') return /^\d+$/.test(result) ? [Number(result)] : [];
  const first = Number(args.split(',')[0]);
  if (name === 'accept' && /^\d+$/.test(result)) return [first, Number(result)];
  return Number.isInteger(first) ? [first] : [];
}

/** Bytes shown per read or write with --trace-bytes; the rest is counted. */
export const BYTES_SHOWN = 64;

/**
 * `hexdump -C`'s shape, for --trace-bytes: rows of 16 bytes, hex and
 * printable, at most BYTES_SHOWN bytes, then `… (N more)`.
 */
export function hexRows(buf: Uint8Array, offset: number, length: number, max = BYTES_SHOWN): string[] {
  const rows: string[] = [];
  const shown = Math.min(length, max);
  for (let row = 0; row < shown; row += 16) {
    let hex = '';
    let text = '';
    for (let i = 0; i < 16; i++) {
      if (i === 8) hex += ' ';
      if (row + i < shown) {
        const b = buf[offset + row + i];
        hex += `${b.toString(16).padStart(2, '0')} `;
        text += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
      } else hex += '   ';
    }
    rows.push(`${row.toString(16).padStart(4, '0')}  ${hex} |${text}|`);
  }
  if (length > shown) rows.push(`… (${length - shown} more)`);
  return rows;
}

/** A syscall's return value as strace shows it: `25`, or `-1 EAGAIN` for -errno. */
export function sysResult(rv: number): string {
  return rv < 0 ? `-1 ${errnoName(rv)}` : `${rv}`;
}
