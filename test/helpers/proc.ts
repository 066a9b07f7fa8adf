// Test helper for the limits and faults suites: what /proc says about a
// process (RSS, peak RSS, CPU ticks, open fds), raw sockets that record every
// byte and the close, and waiting for a condition with a timeout.

import { readFileSync, readdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';

/** A field of /proc/<pid>/status in bytes (VmRSS, VmHWM: the peak RSS). */
export function procStatusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

/** utime + stime of a process, in clock ticks (/proc/<pid>/stat fields 14 and 15). */
export function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces; the fields after its ')' are fixed.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(rest[11]) + Number(rest[12]);
}

/** Clock ticks per second (sysconf(_SC_CLK_TCK)); 100 on every Linux we target. */
export const CLK_TCK = 100;

/** Number of open file descriptors of a process. */
export function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Resolves once cond() is true, checking every `everyMs`; rejects after timeoutMs. */
export async function waitUntil(cond: () => boolean, what: string, timeoutMs = 10_000, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A socket that records everything received and how it ended. */
export class RawClient {
  received = Buffer.alloc(0);
  closed = false;
  error: string | null = null;
  private waiters: (() => void)[] = [];
  private constructor(readonly sock: Socket) {
    sock.on('data', (d) => {
      this.received = Buffer.concat([this.received, d]);
      this.wake();
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      this.error = e.code ?? e.message;
    });
    sock.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const sock = connect({ host, port });
      sock.once('connect', () => resolve(new RawClient(sock)));
      sock.once('error', reject);
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves when cond() holds after some event (data or close); rejects after timeoutMs. */
  waitFor(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; got ${this.received.length} bytes, closed=${this.closed}`)), timeoutMs);
      const check = () => {
        if (cond()) {
          clearTimeout(timer);
          resolve();
        } else this.waiters.push(check);
      };
      check();
    });
  }

  waitClosed(timeoutMs = 10_000): Promise<void> {
    return this.waitFor(() => this.closed, 'close', timeoutMs);
  }

  waitBytes(n: number, timeoutMs = 10_000): Promise<void> {
    return this.waitFor(() => this.received.length >= n || this.closed, `${n} bytes`, timeoutMs);
  }
}
