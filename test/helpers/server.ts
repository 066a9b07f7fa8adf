// Test helper: spawns the built server (dist/cli/server.js) on free ports and
// reads its ready line. Tests talk to it over real sockets.
//
//   const srv = await startServer(['--loop', 'epoll']);
//   ... srv.bookPort, srv.respPort, srv.pid, srv.stderr() ...
//   await srv.stop();

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connect, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeResponse, encodeRequest, type BookValue } from '../../src/protocol/book.js';

const SERVER = fileURLToPath(new URL('../../dist/cli/server.js', import.meta.url));

export interface TestServer {
  bookPort: number;
  /** 0 when started with --no-resp. */
  respPort: number;
  pid: number;
  proc: ChildProcess;
  /** Everything the server wrote to stderr so far. */
  stderr(): string;
  /** Resolves once stderr contains `text` (rejects after timeoutMs). */
  waitForStderr(text: string | RegExp, timeoutMs?: number): Promise<void>;
  /** SIGTERM, then wait for exit; returns the exit code. */
  stop(): Promise<number | null>;
  /** Waits for the process to exit on its own (e.g. after a signal the test sent); returns the exit code. */
  exited(): Promise<number | null>;
}

/**
 * Starts the server with --port 0 --resp-port 0 plus `args` (later flags win).
 * Without a --dir in args it gets a fresh empty directory of its own (removed
 * when it exits), so no test reads or writes a dump.rdb in the working directory.
 * Without --save in args (or a config file) it runs with `--save ""`.
 */
export function startServer(args: string[] = [], opts: { prefix?: string[]; configFile?: string; nodeArgs?: string[]; env?: Record<string, string> } = {}): Promise<TestServer> {
  const cmd = opts.prefix ?? [];
  const ownDir = args.includes('--dir') || opts.configFile !== undefined ? null : mkdtempSync(join(tmpdir(), 'redloop-test-'));
  const dirArgs = ownDir === null ? [] : ['--dir', ownDir];
  // No save rules unless a test asks (--save, or a config file): a server
  // stopped with SIGTERM would otherwise save first (Redis's default rules),
  // and one holding a stream (which redloop cannot save) would refuse to stop.
  if (!args.includes('--save') && opts.configFile === undefined) dirArgs.push('--save', '');
  const file = opts.configFile === undefined ? [] : [opts.configFile]; // a config file comes first, as for redis-server
  const full = [...cmd, process.execPath, ...(opts.nodeArgs ?? []), SERVER, ...file, '--port', '0', '--resp-port', '0', ...dirArgs, ...args];
  const proc = spawn(full[0], full.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env === undefined ? process.env : { ...process.env, ...opts.env } });
  let out = '';
  let err = '';
  const waiters: (() => void)[] = [];
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err += d;
    for (const w of waiters.splice(0)) w();
  });
  const exited = new Promise<number | null>((resolve) =>
    proc.on('exit', (code) => {
      if (ownDir !== null) rmSync(ownDir, { recursive: true, force: true });
      resolve(code);
    }),
  );
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`server exited (${code}) before ready: ${err}`));
    proc.once('exit', onExit);
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /redloop ready: book=\S+:(\d+) resp=(?:\S+:(\d+)|off) loop=\S+ pid=(\d+)/.exec(out);
      if (!m) return;
      proc.off('exit', onExit);
      resolve({
        bookPort: Number(m[1]),
        respPort: m[2] ? Number(m[2]) : 0,
        pid: Number(m[3]),
        proc,
        stderr: () => err,
        waitForStderr(text, timeoutMs = 5000) {
          const has = () => (typeof text === 'string' ? err.includes(text) : text.test(err));
          return new Promise<void>((res, rej) => {
            if (has()) return res();
            const timer = setTimeout(() => rej(new Error(`stderr never showed ${text}; got:\n${err}`)), timeoutMs);
            const check = () => {
              if (has()) {
                clearTimeout(timer);
                res();
              } else waiters.push(check);
            };
            waiters.push(check);
          });
        },
        exited() {
          return exited;
        },
        async stop() {
          if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
          return exited;
        },
      });
    });
  });
}

/** A book-protocol client over a raw socket that collects decoded replies in order. */
export class BookClient {
  readonly sock: Socket;
  readonly replies: BookValue[] = [];
  private waiters: (() => void)[] = [];
  closed = false;
  private closedPromise: Promise<void>;

  private constructor(sock: Socket) {
    this.sock = sock;
    // Chunks are joined only once a whole message is there: a 10 MiB reply
    // arriving in 64 KiB pieces costs O(n), not O(n²).
    let chunks: Buffer[] = [];
    let total = 0;
    sock.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      total += chunk.length;
      for (;;) {
        if (total < 4) break;
        if (chunks[0].length < 4) chunks = [Buffer.concat(chunks)];
        const need = 4 + chunks[0].readUInt32LE(0);
        if (total < need) break;
        const all = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
        const r = decodeResponse(all, 0, need)!;
        this.replies.push(r.value);
        const rest = all.subarray(need);
        chunks = rest.length ? [rest] : [];
        total = rest.length;
      }
      for (const w of this.waiters.splice(0)) w();
    });
    this.closedPromise = new Promise((resolve) =>
      sock.on('close', () => {
        this.closed = true;
        for (const w of this.waiters.splice(0)) w();
        resolve();
      }),
    );
    sock.on('error', () => {});
  }

  static connect(port: number): Promise<BookClient> {
    return new Promise((resolve, reject) => {
      const sock = connect({ host: '127.0.0.1', port });
      sock.once('connect', () => resolve(new BookClient(sock)));
      sock.once('error', reject);
    });
  }

  send(...requests: string[][]): void {
    this.sock.write(Buffer.concat(requests.map((r) => encodeRequest(r))));
  }

  /** Resolves when at least n replies have arrived (rejects if the socket closes first). */
  waitReplies(n: number, timeoutMs = 5000): Promise<BookValue[]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${n} replies (have ${this.replies.length})`)), timeoutMs);
      const check = () => {
        if (this.replies.length >= n) {
          clearTimeout(timer);
          resolve(this.replies.slice(0, n));
        } else if (this.closed) {
          clearTimeout(timer);
          reject(new Error(`connection closed after ${this.replies.length} of ${n} replies`));
        } else this.waiters.push(check);
      };
      check();
    });
  }

  /** Sends one request and resolves with its reply. */
  async call(...args: string[]): Promise<BookValue> {
    const n = this.replies.length + 1;
    this.send(args);
    return (await this.waitReplies(n))[n - 1];
  }

  /** Resolves when the server closes the connection. */
  waitClosed(): Promise<void> {
    return this.closedPromise;
  }

  close(): void {
    this.sock.destroy();
  }
}
