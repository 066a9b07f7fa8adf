// The loop's trace sink. The loop and backends call it only behind an
// `if (tracer !== null)` check, so with tracing off no string is built and no
// closure allocated. Lines are collected per iteration and written to stderr
// with one synchronous write before the loop blocks in poll.

import { writeSync } from 'node:fs';

export class Tracer {
  private lines: string[] = [];

  constructor(private readonly fd = 2) {}

  /** Starts iteration n. */
  iteration(n: number): void {
    this.lines.push(`#${n}`);
  }

  /** One syscall the loop made: `name(args) = result`. */
  syscall(name: string, args: string, result: string): void {
    this.lines.push(`  ${name}(${args}) = ${result}`);
  }

  /** What a handler did that is not a syscall (parsed requests, want flags). */
  note(text: string): void {
    this.lines.push(`    ${text}`);
  }

  /** Writes what was collected; called before blocking and at exit. */
  flush(): void {
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
