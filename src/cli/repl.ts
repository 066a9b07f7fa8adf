// redloop-cli's REPL: the book's client side on our own syscalls, blocking, as
// the notes' client is written: socket() and connect(), then for each batch of
// requests one write_all of every frame and read_full until every reply is in.
//
//   redloop-cli                   type commands; each reply prints as it comes
//   redloop-cli --pipeline 3      every 3 lines go out in one write(); the 3
//                                 replies come back in order (often in one read)
//   redloop-cli --pipeline 3 incr c   the command 3 times in one write
//
// After each batch a line says how many write() and read() calls it took, so
// pipelining is visible: N requests, one write, and usually one read.

import { createInterface } from 'node:readline';
import * as sys from '../sys/index.js';
import { C } from '../sys/index.js';
import { decodeResponse, encodeRequest, formatValue } from '../protocol/book.js';

/** Splits a typed line into arguments: spaces separate, "double" or 'single' quotes group, \\ escapes in double quotes. */
export function splitArgs(line: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && /\s/.test(line[i])) i++;
    if (i >= line.length) break;
    let arg = '';
    while (i < line.length && !/\s/.test(line[i])) {
      const q = line[i];
      if (q === '"' || q === "'") {
        i++;
        while (i < line.length && line[i] !== q) {
          if (q === '"' && line[i] === '\\' && i + 1 < line.length) {
            const e = line[++i];
            arg += e === 'n' ? '\n' : e === 'r' ? '\r' : e === 't' ? '\t' : e;
          } else arg += line[i];
          i++;
        }
        if (i >= line.length) return null; // unbalanced quotes
        i++;
      } else arg += line[i++];
    }
    out.push(arg);
  }
  return out;
}

class Conn {
  private buf = Buffer.alloc(64 * 1024);
  private have = 0;
  constructor(private readonly fd: number) {}

  static open(host: string, port: number): Conn {
    const address = host === 'localhost' ? '127.0.0.1' : host;
    const fd = sys.socket(address.includes(':') ? C.AF_INET6 : C.AF_INET, C.SOCK_STREAM, 0);
    const rv = sys.connect(fd, address, port);
    if (rv < 0) {
      sys.close(fd);
      throw new Error(`connect to ${host}:${port}: ${sys.errnoName(rv)}`);
    }
    return new Conn(fd);
  }

  /** write_all: returns the number of write() calls it took. */
  writeAll(data: Buffer): number {
    let off = 0;
    let calls = 0;
    while (off < data.length) {
      const n = sys.write(this.fd, data, off, data.length - off);
      calls++;
      if (n === -C.EINTR) continue;
      if (n < 0) throw new Error(`write: ${sys.errnoName(n)}`);
      off += n;
    }
    return calls;
  }

  /** read_full until `count` replies are decoded; returns them and the read() calls made. */
  readReplies(count: number): { replies: string[][]; reads: number; bytes: number } {
    const replies: string[][] = [];
    let reads = 0;
    let bytes = 0;
    for (;;) {
      // Decode what is complete at the front of the buffer.
      let start = 0;
      while (replies.length < count) {
        const r = decodeResponse(this.buf, start, this.have);
        if (r === null) break;
        replies.push(formatValue(r.value));
        start += r.size;
      }
      if (start > 0) {
        this.buf.copy(this.buf, 0, start, this.have);
        this.have -= start;
      }
      if (replies.length === count) return { replies, reads, bytes };
      if (this.have === this.buf.length) {
        const bigger = Buffer.alloc(this.buf.length * 2);
        this.buf.copy(bigger, 0, 0, this.have);
        this.buf = bigger;
      }
      const n = sys.read(this.fd, this.buf, this.have, this.buf.length - this.have);
      reads++;
      if (n === -C.EINTR) continue;
      if (n < 0) throw new Error(`read: ${sys.errnoName(n)}`);
      if (n === 0) throw new Error(`the server closed the connection (${replies.length} of ${count} replies received)`);
      this.have += n;
      bytes += n;
    }
  }

  close(): void {
    sys.close(this.fd);
  }
}

/** An argument as it could be typed again: quoted when empty or holding spaces, quotes or controls. */
function shown(arg: string): string {
  return arg === '' || /[\s"'\\\x00-\x1f]/.test(arg) ? JSON.stringify(arg) : arg;
}

/** Sends the batch in one write and prints the replies in order. */
function runBatch(conn: Conn, batch: string[][], out: (s: string) => void): void {
  const frames = Buffer.concat(batch.map((args) => encodeRequest(args)));
  const writes = conn.writeAll(frames);
  const { replies, reads, bytes } = conn.readReplies(batch.length);
  replies.forEach((lines, i) => {
    if (batch.length > 1) out(`${i + 1}) ${batch[i].map(shown).join(' ')}`);
    for (const l of lines) out(batch.length > 1 ? `   ${l}` : l);
  });
  if (batch.length > 1) {
    const w = writes === 1 ? '1 write()' : `${writes} write() calls`;
    const r = reads === 1 ? '1 read()' : `${reads} read() calls`;
    out(`-- ${batch.length} requests, ${frames.length} bytes in ${w}; ${batch.length} replies, ${bytes} bytes in ${r}`);
  }
}

/** `--pipeline N cmd args`: the command N times in one write. */
export function pipelineOnce(host: string, port: number, n: number, args: string[]): void {
  const conn = Conn.open(host, port);
  try {
    runBatch(conn, Array.from({ length: n }, () => args), (s) => process.stdout.write(s + '\n'));
  } finally {
    conn.close();
  }
}

/** The interactive loop: lines from stdin, batches of `pipeline` requests. */
export function repl(host: string, port: number, pipeline: number): void {
  let conn: Conn;
  try {
    conn = Conn.open(host, port);
  } catch (err) {
    process.stderr.write(`redloop-cli: ${(err as Error).message}\n`);
    process.exitCode = 1;
    return;
  }
  const tty = process.stdin.isTTY === true;
  const prompt = () => (pending.length === 0 ? `${host}:${port}> ` : `${host}:${port} (${pending.length}/${pipeline})> `);
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: tty });
  const out = (s: string) => process.stdout.write(s + '\n');
  const pending: string[][] = [];
  if (tty) out(`connected to ${host}:${port} (book protocol). ${pipeline > 1 ? `Every ${pipeline} lines go out in one write. ` : ''}quit to leave.`);
  const flush = (): boolean => {
    if (pending.length === 0) return true;
    try {
      runBatch(conn, pending.splice(0), out);
      return true;
    } catch (err) {
      process.stderr.write(`redloop-cli: ${(err as Error).message}\n`);
      process.exitCode = 1;
      rl.close();
      return false;
    }
  };
  rl.setPrompt(prompt());
  if (tty) rl.prompt();
  let done = false;
  rl.on('line', (line) => {
    if (done) return; // lines already buffered after quit
    const args = splitArgs(line);
    if (args === null) out('(error) unbalanced quotes');
    else if (args.length === 1 && /^(quit|exit)$/i.test(args[0])) {
      flush();
      done = true;
      rl.close();
      return;
    } else if (args.length > 0) {
      pending.push(args);
      if (pending.length >= pipeline && !flush()) {
        done = true;
        return;
      }
    }
    rl.setPrompt(prompt());
    if (tty) rl.prompt();
  });
  rl.on('close', () => {
    if (!done) flush();
    done = true;
    conn.close();
  });
}
