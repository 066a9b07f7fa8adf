// Shared by the fuzz and soak tools: spawn the built server on free ports and
// read its ready line; a minimal book-protocol control client; /proc readings.
// (The seeded PRNG they share is src/util/prng.ts.)

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { decodeResponse, encodeRequest, type BookValue } from '../protocol/book.js';

export interface LiveServer {
  proc: ChildProcess;
  pid: number;
  bookPort: number;
  respPort: number;
  /** The last few KiB of the server's stderr (for a failure report). */
  stderrTail(): string;
  /** Whether the process has exited (crashed, if we did not stop it). */
  exited(): boolean;
  /** SIGTERM and wait: the exit code (null if killed by a signal). */
  stop(timeoutMs?: number): Promise<number | null>;
}

/** Starts dist/cli/server.js with --port 0 --resp-port 0 plus `args`. */
export function spawnServer(args: string[], prefix: string[] = []): Promise<LiveServer> {
  const script = fileURLToPath(new URL('./server.js', import.meta.url));
  // Its own directory: the save rules (on by default) write dump.rdb there, not into the current
  // directory, where the next run would load it.
  const dir = mkdtempSync(join(tmpdir(), 'redloop-live-'));
  const cmd = [...prefix, process.execPath, script, '--port', '0', '--resp-port', '0', '--dir', dir, ...args];
  const proc = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err = (err + d).slice(-8192);
  });
  let code: number | null | undefined;
  const exit = new Promise<number | null>((resolve) =>
    proc.on('exit', (c) => {
      code = c;
      resolve(c);
    }),
  );
  return new Promise((resolve, reject) => {
    let out = '';
    proc.once('exit', (c) => reject(new Error(`server exited (${c}) before it was ready: ${err}`)));
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /redloop ready: book=\S+:(\d+) resp=(?:\S+:(\d+)|off) loop=\S+ pid=(\d+)/.exec(out);
      if (!m) return;
      resolve({
        proc,
        pid: Number(m[3]),
        bookPort: Number(m[1]),
        respPort: m[2] ? Number(m[2]) : 0,
        stderrTail: () => err,
        exited: () => code !== undefined,
        async stop(timeoutMs = 10_000) {
          if (code !== undefined) return code;
          proc.kill('SIGTERM');
          const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
          const c = await exit;
          clearTimeout(timer);
          return c;
        },
      });
    });
  });
}

/** Resident set size of a process in bytes (/proc/<pid>/status VmRSS). */
export function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** Open fds of a process (/proc/<pid>/fd). */
export function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** user+sys CPU seconds of a process (/proc/<pid>/stat, 100 ticks a second). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** A book-protocol client for control checks: one request at a time, with a timeout. */
export class ControlClient {
  private buf = Buffer.alloc(0);
  private waiting: ((v: BookValue | Error) => void) | null = null;
  private constructor(private readonly sock: Socket) {
    sock.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      const r = decodeResponse(this.buf);
      if (r === null) return;
      this.buf = this.buf.subarray(r.size);
      const w = this.waiting;
      this.waiting = null;
      w?.(r.value);
    });
    const fail = (e: Error) => {
      const w = this.waiting;
      this.waiting = null;
      w?.(e);
    };
    sock.on('error', fail);
    sock.on('close', () => fail(new Error('control connection closed by the server')));
  }

  static connect(port: number, timeoutMs = 5000): Promise<ControlClient> {
    return new Promise((resolve, reject) => {
      const sock = connect({ host: '127.0.0.1', port });
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error('control client: connect timed out'));
      }, timeoutMs);
      sock.once('connect', () => {
        clearTimeout(timer);
        resolve(new ControlClient(sock));
      });
      sock.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  }

  call(args: string[], timeoutMs = 10_000): Promise<BookValue> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`control client: no reply to ${args[0]} within ${timeoutMs} ms`)), timeoutMs);
      this.waiting = (v) => {
        clearTimeout(timer);
        if (v instanceof Error) reject(v);
        else resolve(v);
      };
      this.sock.write(encodeRequest(args.map((a) => Buffer.from(a, 'latin1'))));
    });
  }

  close(): void {
    this.sock.destroy();
  }
}
