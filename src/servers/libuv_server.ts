// The libuv twin: the same codecs, command tables, keyspace and Session as the
// syscall server, served by Node's `net` module the way a good Node developer
// would write it — noDelay, every complete request in a 'data' chunk handled,
// their replies sent with one socket.write, backpressure through write()'s
// return value and pause()/'drain'. Only the backend differs, so comparing
// this with --loop poll|epoll measures our loop against libuv's.

import net from 'node:net';
import { Conn } from '../loop/conn.js';
import { bookCodec } from '../protocol/book.js';
import { respCodec } from '../protocol/resp.js';
import { bookTable } from '../commands/book/index.js';
import { respTable } from '../commands/resp/index.js';
import type { Codec } from '../protocol/codec.js';
import type { CommandTable } from '../commands/types.js';
import { ProtocolSession } from './session.js';
import { ServerState, type ServerSettings } from './state.js';
import { isLoopback, PROTECTED_MODE_REPLY, protectedModeActive } from './protected.js';
import { clampMaxClients } from './syscall_server.js';

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
}

export function createLibuvServer(settings: ServerSettings, log: (line: string) => void): LibuvServer {
  settings = { ...settings, maxClients: clampMaxClients(settings.maxClients, log) };
  const state = new ServerState(settings, log);
  respCodec.maxBulkLen = settings.protoMaxBulkLen; // as the syscall server: the RESP decoder's limit on $<n>
  const sockets = new Set<net.Socket>();
  const guarded = protectedModeActive(settings);
  const servers: net.Server[] = [];
  let expireTimer: NodeJS.Timeout | null = null;

  /** One accepted socket: the same Conn and ProtocolSession the syscall loop uses. */
  const serve = (socket: net.Socket, index: number, port: number, codec: Codec, table: CommandTable, refusal: string): void => {
    if (sockets.size >= settings.maxClients) {
      state.context.stats.rejectedConnections++;
      if (refusal) socket.end(refusal, 'latin1');
      else socket.destroy();
      return;
    }
    if (guarded && !isLoopback(socket.remoteAddress ?? '')) {
      state.context.stats.rejectedConnections++;
      log(`refused ${socket.remoteAddress}: protected mode (bound to ${settings.host} with no --requirepass)`);
      if (codec.name === 'resp') socket.end(PROTECTED_MODE_REPLY);
      else socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.setNoDelay(true);
    // There is no fd to speak of above libuv; the session only uses it in log lines.
    const conn = new Conn(-1, index);
    const client = state.newClient(port, () => `${socket.remoteAddress}:${socket.remotePort}`);
    const session = new ProtocolSession(codec, table, state, client);
    conn.session = session;
    if (settings.idleTimeoutMs > 0) {
      socket.setTimeout(settings.idleTimeoutMs, () => socket.destroy());
    }

    socket.on('data', (chunk: Buffer) => {
      const inc = conn.incoming;
      const out = conn.outgoing;
      inc.append(chunk);
      // Every complete request in what has arrived, as the syscall loop does.
      while (!conn.wantClose && session.tryOneRequest(conn)) {
        if (settings.outputLimit !== 0 && out.length > settings.outputLimit) {
          log(`closing client ${client.peer}: output buffer over the limit (${out.length} > ${settings.outputLimit} bytes)`);
          socket.destroy();
          return;
        }
      }
      if (settings.queryLimit !== 0 && inc.length > settings.queryLimit && !conn.wantClose) {
        log(`closing client ${client.peer}: query buffer over the limit (${inc.length} > ${settings.queryLimit} bytes)`);
        socket.destroy();
        return;
      }
      if (out.length !== 0) {
        // One write per data event. The bytes are copied out because `out` is
        // reused for the next batch while libuv may still be sending this one.
        const reply = Buffer.allocUnsafe(out.length);
        out.buf.copy(reply, 0, out.start, out.end);
        out.clear();
        if (!socket.write(reply) && !socket.isPaused()) {
          // The kernel's send buffer and Node's queue are full: stop reading
          // (so this client stops producing replies) until they drain.
          socket.pause();
          socket.once('drain', () => socket.resume());
        }
      }
      if (conn.wantClose) socket.end(); // protocol error or QUIT: the last reply goes first
    });
    // ECONNRESET and friends: 'close' follows and does the bookkeeping.
    socket.on('error', () => {});
    socket.on('close', () => {
      sockets.delete(socket);
      conn.session.closed(conn);
    });
  };

  const listenOn = (port: number, index: number, codec: Codec, table: CommandTable, refusal: string): Promise<number> =>
    new Promise((resolve, reject) => {
      let bound = 0;
      const server = net.createServer({ noDelay: true }, (socket) => serve(socket, index, bound, codec, table, refusal));
      servers.push(server);
      server.once('error', reject);
      server.listen({ host: settings.host, port, backlog: 511 }, () => {
        server.off('error', reject);
        server.on('error', (err) => log(`accept: ${err.message}`));
        bound = (server.address() as net.AddressInfo).port;
        resolve(bound);
      });
    });

  const ports = state.ports;
  return {
    state,
    ports,
    async listen() {
      ports.book = await listenOn(settings.port, 0, bookCodec, bookTable, '');
      if (settings.respPort !== null) {
        ports.resp = await listenOn(settings.respPort, 1, respCodec, respTable, '-ERR max number of clients reached\r\n');
      }
      expireTimer = setInterval(() => state.store.expireSome(settings.activeExpireLimit), ACTIVE_EXPIRE_INTERVAL_MS);
    },
    close(graceMs = 5000) {
      if (expireTimer !== null) clearInterval(expireTimer);
      const closed = servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
      for (const s of sockets) {
        s.pause(); // no more requests
        if (s.writableLength === 0) s.destroy();
        else s.end(); // the pending replies go out first, then FIN
      }
      const grace = setTimeout(() => {
        for (const s of sockets) s.destroy();
      }, graceMs);
      return Promise.all(closed).then(() => clearTimeout(grace));
    },
    abort() {
      for (const s of sockets) s.destroy();
    },
  };
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
    const stop = (sig: NodeJS.Signals) => {
      if (stopping) {
        // A second signal: give up on flushing.
        log(`received ${sig} again, closing without flushing`);
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        server.abort();
        return;
      }
      stopping = true;
      log(`received ${sig}, shutting down`);
      server.close().then(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
