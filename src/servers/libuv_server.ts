// The libuv twin: the same connection pipeline, codecs, command tables,
// keyspace and sessions as the syscall server, served by Node's `net` module
// the way a good Node developer would write it — noDelay, the replies of a
// turn sent with one socket.write, backpressure through write()'s return
// value and pause()/'drain'. The pipeline (src/servers/pipeline.ts) decides
// everything else exactly as on poll and epoll (caps, limits, half-close,
// refusal), so comparing this with --loop poll|epoll measures only the loop.

import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { Conn, type ConnHost } from '../loop/conn.js';
import { bookCodec } from '../protocol/book.js';
import { createRespCodec } from '../protocol/resp.js';
import { bookTable } from '../commands/book/index.js';
import { respTable } from '../commands/resp/index.js';
import type { Codec } from '../protocol/codec.js';
import type { CommandTable } from '../commands/types.js';
import { ProtocolSession } from './session.js';
import { ServerState, type ServerSettings } from './state.js';
import { Pipeline, type Endpoint } from './pipeline.js';
import { clampMaxClients } from './syscall_server.js';
import { loadDataAtStartup } from './aof_load.js';
import * as sys from '../sys/index.js';

/** How often keys with a TTL are expired actively (Redis's default hz is 10). */
const ACTIVE_EXPIRE_INTERVAL_MS = 100;

export interface LibuvServer {
  state: ServerState;
  /** Bound ports (after listen()). */
  readonly ports: { book: number; resp: number };
  /** Binds the listeners; resolves once both accept connections. */
  listen(): Promise<void>;
  /**
   * Stops accepting and reading; replies already produced are flushed for at
   * most graceMs, then every connection is closed. Resolves when all are gone.
   */
  close(graceMs?: number): Promise<void>;
  /** Closes every connection at once, without flushing. */
  abort(): void;
  /** Called when SHUTDOWN or a signal has decided the server stops (runLibuvServer sets it). */
  onStop: () => void;
}

/** A connection on a net.Socket: the pipeline's Conn plus what libuv needs. */
class SocketConn extends Conn {
  /** socket.write() returned false: the next drained() waits for 'drain'. */
  awaitingDrain = false;
  /** end() was called: the socket is destroyed once the last bytes are written. */
  ending = false;
  constructor(readonly socket: net.Socket) {
    // libuv's fd, for CLIENT LIST (the handle exposes it on Unix).
    super((socket as unknown as { _handle?: { fd?: number } })._handle?.fd ?? -1);
  }
}

export function createLibuvServer(settings: ServerSettings, log: (line: string) => void): LibuvServer {
  settings = { ...settings, maxClients: clampMaxClients(settings.maxClients, log) };
  const state = new ServerState(settings, log);
  log(state.memory.describeLimits());
  // INFO's total_net_input_bytes / total_net_output_bytes: bytes received, and handed to libuv to send.
  let bytesIn = 0;
  let bytesOut = 0;
  state.context.stats.netInput = () => bytesIn;
  state.context.stats.netOutput = () => bytesOut;
  // The AOF or the RDB file, before any client can connect; a bad file stops the start.
  loadDataAtStartup(state);
  const sockets = new Set<SocketConn>();
  const servers: net.Server[] = [];
  let expireTimer: NodeJS.Timeout | null = null;

  // The pipeline's later turns (leftover requests, deliveries from other
  // clients) run in one setImmediate batch: after the I/O callbacks of this
  // libuv iteration, before it polls again — where the syscall loop runs them.
  let scheduled: SocketConn[] = [];
  let immediate: NodeJS.Immediate | null = null;
  const runScheduled = (): void => {
    immediate = null;
    const list = scheduled;
    scheduled = [];
    for (const conn of list) {
      conn.scheduled = false;
      if (!sockets.has(conn)) continue;
      pipeline.resume(conn);
      apply(conn);
    }
  };
  const host: ConnHost = {
    schedule(conn) {
      if (conn.scheduled) return;
      conn.scheduled = true;
      scheduled.push(conn as SocketConn);
      immediate ??= setImmediate(runScheduled);
    },
    now: () => performance.now(),
  };
  const pipeline = new Pipeline(state, host);

  /** After each pipeline call, do what the want flags say: write, pause or resume reading, close. */
  const apply = (conn: SocketConn): void => {
    const { socket } = conn;
    if (conn.aborted) {
      socket.destroy();
      return;
    }
    // Node still holds the last batch: what comes meanwhile (other clients'
    // deliveries) waits in `outgoing`, where the pipeline's output limit sees
    // it, as unsent bytes do on the syscall loop — not in Node's queue, unbounded.
    if (conn.awaitingDrain) return;
    const out = conn.outgoing;
    if (out.length !== 0) {
      // The AOF is written (under appendfsync always: fsynced) before a reply acknowledges it.
      state.aof.flush();
      // One write per turn. The bytes are copied out because `out` is reused
      // for the next batch while libuv may still be sending this one.
      const reply = Buffer.allocUnsafe(out.length);
      out.buf.copy(reply, 0, out.start, out.end);
      out.clear();
      bytesOut += reply.length;
      if (!socket.write(reply)) {
        // The kernel's send buffer and Node's queue are full: this is a
        // partial write; the pipeline hears "drained" when they empty.
        conn.awaitingDrain = true;
        socket.pause();
        socket.once('drain', () => {
          conn.awaitingDrain = false;
          if (!conn.wantClose) pipeline.drained(conn);
          apply(conn);
        });
        return;
      }
      if (!conn.wantClose) pipeline.drained(conn);
      if (conn.outgoing.length !== 0 || conn.aborted) return apply(conn);
    }
    if (conn.wantClose) {
      // What was written goes first; then the socket closes altogether, as
      // the syscall loop's close() does (not just our half: a peer that never
      // closes its side must not hold the connection open).
      socket.pause();
      if (!conn.ending) {
        conn.ending = true;
        socket.end(() => socket.destroy());
      }
      return;
    }
    if (conn.wantRead) socket.resume();
    else socket.pause();
  };

  /** One accepted socket: the same Conn, pipeline and sessions the syscall loop uses. */
  const serve = (socket: net.Socket, ep: Endpoint): void => {
    socket.setNoDelay(true);
    if (settings.tcpKeepAlive > 0) socket.setKeepAlive(true, settings.tcpKeepAlive * 1000);
    const conn = new SocketConn(socket);
    conn.lastActiveMs = host.now();
    sockets.add(conn);
    // ECONNRESET and friends: 'close' follows and does the bookkeeping.
    socket.on('error', () => {});
    socket.on('close', () => {
      sockets.delete(conn);
      pipeline.closed(conn);
    });
    pipeline.opened(conn, ep, () => ({ address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 }), null);
    if (conn.wantClose) return apply(conn);
    if (settings.idleTimeoutMs > 0) {
      socket.setTimeout(settings.idleTimeoutMs, () => {
        // Blocked, subscribed and MONITOR clients are exempt, as on the syscall loop.
        if (conn.session?.idleExempt) socket.setTimeout(settings.idleTimeoutMs);
        else socket.destroy();
      });
    }
    socket.on('data', (chunk: Buffer) => {
      conn.lastActiveMs = host.now();
      conn.incoming.append(chunk);
      bytesIn += chunk.length;
      pipeline.received(conn);
      apply(conn);
    });
    socket.on('end', () => {
      pipeline.eof(conn);
      apply(conn);
    });
  };

  const listenOn = (port: number, protocol: 'book' | 'resp', codec: Codec, table: CommandTable, refusal: string): Promise<number> =>
    new Promise((resolve, reject) => {
      let ep: Endpoint | null = null;
      // allowHalfOpen: a client that shuts down its side still gets every reply (as on the syscall loop).
      const server = net.createServer({ noDelay: true, allowHalfOpen: true }, (socket) => serve(socket, ep!));
      servers.push(server);
      server.once('error', reject);
      server.listen({ host: settings.host, port, backlog: 511 }, () => {
        server.off('error', reject);
        server.on('error', (err) => log(`accept: ${err.message}`));
        const bound = (server.address() as net.AddressInfo).port;
        ep = {
          protocol,
          port: bound,
          refusal: Buffer.from(refusal, 'latin1'),
          session: (conn, client) => new ProtocolSession(codec, table, state, client, conn, pipeline),
        };
        resolve(bound);
      });
    });

  const ports = state.ports;
  // Persistence's background work: slices on Node's timers; the writer
  // thread's pipe is read on a short interval while a job runs (libuv's own
  // loop polls its fds in C, out of our reach: a simple equivalent).
  let watchTimer: NodeJS.Timeout | null = null;
  const server: LibuvServer = {
    state,
    ports,
    onStop: () => {},
    async listen() {
      ports.book = await listenOn(settings.port, 'book', bookCodec, bookTable, '');
      if (settings.respPort !== null) {
        ports.resp = await listenOn(settings.respPort, 'resp', createRespCodec(settings), respTable, '-ERR max number of clients reached\r\n');
      }
      expireTimer = setInterval(() => {
        state.expireCycle();
        state.context.stats.instant.maybeSample(performance.now());
        state.aof.flush(); // the expired keys' DELs
      }, ACTIVE_EXPIRE_INTERVAL_MS);
    },
    close(graceMs = 5000) {
      if (expireTimer !== null) clearInterval(expireTimer);
      state.aof.stop(); // what was logged is written and fsynced before exit
      const closed = servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
      for (const { socket } of sockets) {
        socket.pause(); // no more requests
        if (socket.writableLength === 0) socket.destroy();
        else socket.end(); // the pending replies go out first, then FIN
      }
      const grace = setTimeout(() => {
        for (const { socket } of sockets) socket.destroy();
      }, graceMs);
      return Promise.all(closed).then(() => clearTimeout(grace));
    },
    abort() {
      for (const { socket } of sockets) socket.destroy();
    },
  };
  state.configStore.onApplied = () => state.persistence.configChanged();
  state.persistence.attach({
    timers: state.timers,
    stop: () => server.onStop(),
    watcher: {
      watch(_fd, _label, onReadable) {
        watchTimer = setInterval(onReadable, 10);
        watchTimer.unref();
      },
      unwatch() {
        if (watchTimer !== null) clearInterval(watchTimer);
        watchTimer = null;
      },
      read: (fd, buf, off, len) => sys.read(fd, buf, off, len),
    },
  });
  return server;
}

/** Runs the libuv twin until SIGINT/SIGTERM; `onReady` gets the bound ports. */
export async function runLibuvServer(
  settings: ServerSettings,
  log: (line: string) => void,
  onReady: (ports: { book: number; resp: number }) => void,
): Promise<void> {
  const server = createLibuvServer(settings, log);
  await server.listen();
  onReady(server.ports);
  await new Promise<void>((resolve) => {
    let stopping = false;
    server.onStop = () => {
      stopping = true;
      server.close().then(() => {
        server.state.persistence.close();
        resolve();
      });
    };
    const stop = (sig: NodeJS.Signals) => {
      if (stopping) {
        // A second signal: give up on flushing.
        log(`received ${sig} again, closing without flushing`);
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        server.abort();
        return;
      }
      log(`received ${sig}, shutting down`);
      // Saves first when save rules are set (shutdown-on-sig*); a failed save keeps the server up.
      server.state.persistence.shutdownOnSignal(sig === 'SIGINT' ? 'SIGINT' : 'SIGTERM');
    };
    // SHUTDOWN. (No processEventsWhileBusy here: libuv cannot run its loop from inside a callback, so a
    // script past busy-reply-threshold is stopped instead of answering other clients -BUSY; README.)
    server.state.shutdown = () => {
      if (stopping) return;
      stopping = true;
      server.close().then(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
