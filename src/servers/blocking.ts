// --mode blocking: the notes' first server, before the event loop. Blocking
// sockets (no fcntl), one client at a time: accept() waits for a client, then
// its requests are served one by one (read_full the 4-byte length, read_full
// the body, handle it, write_all the reply) until it leaves; only then is the
// next client accepted. A second client can connect meanwhile (the kernel
// completes the handshake and queues it in the listen backlog), but nothing
// reads its request: it stalls until the first one disconnects. That stall is
// the lesson that motivates non-blocking IO and the event loop.
//
// Requests are the real ones (same codec, commands and keyspace as the full
// server), so `redloop-cli` works against it.

import * as sys from '../sys/index.js';
import { C } from '../sys/index.js';
import { Conn } from '../loop/conn.js';
import { sysResult, Tracer } from '../loop/trace.js';
import { K_MAX_MSG, bookCodec } from '../protocol/book.js';
import { bookTable } from '../commands/book/index.js';
import { ProtocolSession, detachedHost } from './session.js';
import { ServerState, type ServerSettings } from './state.js';

export interface LessonServer {
  readonly ports: { book: number; resp: number };
  /** Serves until the process is killed (blocking) or signalled (event loop). */
  run(): void;
}

/** Binds a blocking listening socket; run() serves clients one after another. */
export function createBlockingServer(settings: ServerSettings, log: (line: string) => void): LessonServer {
  const tr = settings.trace ? new Tracer() : null;
  const state = new ServerState(settings, log);
  // socket → setsockopt(SO_REUSEADDR) → bind → listen. No O_NONBLOCK anywhere:
  // accept() and read() wait until there is something to return.
  const listenFd = sys.socket(settings.host.includes(':') ? C.AF_INET6 : C.AF_INET, C.SOCK_STREAM, 0);
  sys.setsockopt(listenFd, C.SOL_SOCKET, C.SO_REUSEADDR, 1);
  sys.bind(listenFd, settings.host, settings.port);
  sys.listen(listenFd, C.SOMAXCONN);
  const port = sys.getsockname(listenFd).port;

  /** Reads exactly n bytes into buf[at, at + n): false on EOF or error (the client is gone). */
  function readFull(fd: number, buf: Buffer, at: number, n: number): boolean {
    let got = 0;
    while (got < n) {
      tr?.flush(); // read() blocks: show the trace so far first
      const rv = sys.read(fd, buf, at + got, n - got);
      if (tr !== null) tr.syscall('read', `${fd}, ${n - got}`, rv === 0 ? '0 (EOF)' : sysResult(rv));
      if (rv === -C.EINTR) continue;
      if (rv <= 0) return false;
      got += rv;
    }
    return true;
  }

  /** Writes all n bytes of buf[start, start + n): false on error. */
  function writeAll(fd: number, buf: Buffer, start: number, n: number): boolean {
    while (n > 0) {
      const rv = sys.write(fd, buf, start, n);
      if (tr !== null) tr.syscall('write', `${fd}, ${n}`, sysResult(rv));
      if (rv === -C.EINTR) continue;
      if (rv <= 0) return false;
      start += rv;
      n -= rv;
    }
    return true;
  }

  /** One request, the notes' one_request(): false when the connection must end. */
  function oneRequest(conn: Conn, session: ProtocolSession): boolean {
    const inc = conn.incoming;
    inc.clear();
    inc.reserve(4);
    if (!readFull(conn.fd, inc.buf, 0, 4)) return false;
    inc.end = 4;
    const len = inc.buf.readUInt32LE(0);
    if (len > K_MAX_MSG) {
      tr?.note(`fd ${conn.fd}: message of ${len} bytes is too long`);
      return false;
    }
    inc.reserve(len);
    if (!readFull(conn.fd, inc.buf, 4, len)) return false;
    inc.end = 4 + len;
    // The whole frame is here: decode, run the command, encode the reply.
    if (!session.tryOneRequest(conn)) return false; // malformed: close
    tr?.note(`fd ${conn.fd}: 1 request (${session.lastRequestName()})`);
    const out = conn.outgoing;
    const ok = writeAll(conn.fd, out.buf, out.start, out.length);
    out.clear();
    return ok && !conn.wantClose;
  }

  return {
    ports: { book: port, resp: 0 },
    run() {
      let clients = 0;
      for (;;) {
        tr?.flush(); // accept() blocks
        const fd = sys.accept(listenFd);
        if (tr !== null) tr.syscall('accept', `${listenFd}`, sysResult(fd));
        if (fd < 0) continue; // EINTR, ECONNABORTED: try again
        const n = ++clients;
        tr?.note(`client ${n} on fd ${fd}; any other client waits in the listen backlog`);
        const conn = new Conn(fd);
        const client = state.newClient(port, () => {
          const peer = sys.getpeername(fd);
          return peer ? `${peer.address}:${peer.port}` : '?:0';
        }, 'book');
        const session = new ProtocolSession(bookCodec, bookTable, state, client, conn, detachedHost);
        while (oneRequest(conn, session));
        const rv = sys.close(fd);
        if (tr !== null) {
          tr.syscall('close', `${fd}`, sysResult(rv));
          tr.note(`fd ${fd}: client ${n} gone; back to accept()`);
        }
        session.closed();
      }
    },
  };
}
