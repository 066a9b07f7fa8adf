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

import { writeSync } from 'node:fs';
import { errnoName } from '../sys/index.js';

export class Tracer {
  private lines: string[] = [];
  /** Index in `lines` of the current iteration's header, or -1. */
  private header = -1;
  /** The iteration being traced (0 before the first). */
  current = 0;

  constructor(private readonly fd = 2) {}

  /** Starts iteration n: `#n`. */
  iteration(n: number): void {
    this.current = n;
    this.header = this.lines.length;
    this.lines.push(`#${n}`);
  }

  /** Poll's timeout and what set it, appended to the iteration's header line. */
  timeout(ms: number, why: string): void {
    const text = `timeout ${ms} (${why})`;
    if (this.header >= 0) this.lines[this.header] += ` ${text}`;
    else this.note(text);
  }

  /** One syscall: `name(args) = result`. */
  syscall(name: string, args: string, result: string): void {
    this.lines.push(`  ${name}(${args}) = ${result}`);
  }

  /** What a handler made of it (parsed requests, want flags, why a close). */
  note(text: string): void {
    this.lines.push(`    ${text}`);
  }

  /** Writes what was collected; called before blocking, before a log line, and at exit. */
  flush(): void {
    this.header = -1;
    if (this.lines.length === 0) return;
    const text = this.lines.join('\n') + '\n';
    this.lines = [];
    try {
      writeSync(this.fd, text);
    } catch {
      // stderr closed: tracing must never take the server down.
    }
  }
}

/** A syscall's return value as strace shows it: `25`, or `-1 EAGAIN` for -errno. */
export function sysResult(rv: number): string {
  return rv < 0 ? `-1 ${errnoName(rv)}` : `${rv}`;
}
