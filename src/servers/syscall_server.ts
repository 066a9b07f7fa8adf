// The syscall server: our event loop (poll or epoll backend) + both wire
// codecs + the command tables + one keyspace. Listening sockets for the book
// protocol and for RESP sit in the same poll set; each connection speaks the
// protocol of the listener that accepted it.

import * as sys from '../sys/index.js';
import { C } from '../sys/index.js';
import { EventLoop, type Listener } from '../loop/loop.js';
import { PollBackend } from '../loop/poll.js';
import { EpollBackend } from '../loop/epoll.js';
import { Tracer } from '../loop/trace.js';
import type { Backend } from '../loop/backend.js';
import type { Conn } from '../loop/conn.js';
import { bookCodec } from '../protocol/book.js';
import { respCodec } from '../protocol/resp.js';
import { bookTable } from '../commands/book/index.js';
import { respTable } from '../commands/resp/index.js';
import type { Codec } from '../protocol/codec.js';
import type { CommandTable } from '../commands/types.js';
import { ProtocolSession } from './session.js';
import { ServerState, type ServerSettings } from './state.js';
import { listenTcp } from './listen.js';

export interface RunningServer {
  loop: EventLoop;
  state: ServerState;
  /** Runs until SIGINT/SIGTERM (or loop.stop()). */
  run(): void;
}

/** Binds the listeners and builds the loop; run() blocks in it. */
export function createSyscallServer(settings: ServerSettings, log: (line: string) => void): RunningServer {
  const state = new ServerState(settings, log);
  const tracer = settings.trace || settings.step ? new Tracer() : null;
  const backend: Backend = settings.loop === 'epoll' ? new EpollBackend(tracer) : new PollBackend(tracer);
  const loop = new EventLoop(backend, {
    idleTimeoutMs: settings.idleTimeoutMs,
    maxClients: settings.maxClients,
    outputLimit: settings.outputLimit,
    tracer,
    log,
  });
  loop.onRefused = () => {
    state.context.stats.rejectedConnections++;
  };

  const listener = (fd: number, port: number, codec: Codec, table: CommandTable, refusal: string): Listener => ({
    fd,
    refusal: Buffer.from(refusal, 'latin1'),
    newSession(conn: Conn) {
      const client = state.newClient(port, () => {
        const peer = sys.getpeername(conn.fd);
        return peer ? `${peer.address}:${peer.port}` : '?:0';
      });
      return new ProtocolSession(codec, table, state, client);
    },
  });

  const book = listenTcp(settings.host, settings.port);
  state.ports.book = book.port;
  loop.addListener(listener(book.fd, book.port, bookCodec, bookTable, ''));
  if (settings.respPort !== null) {
    const resp = listenTcp(settings.host, settings.respPort);
    state.ports.resp = resp.port;
    loop.addListener(listener(resp.fd, resp.port, respCodec, respTable, '-ERR max number of clients reached\r\n'));
  }

  // Keys with a TTL expire actively too, at most activeExpireLimit per iteration
  // so that a mass expiry cannot stall the loop.
  loop.timers = {
    nextDeadline: () => state.store.nextDeadline(),
    run: () => {
      state.store.expireSome(settings.activeExpireLimit);
    },
  };

  // Signals reach the loop as bytes in a pipe that sits in the poll set.
  const sigFd = sys.signalPipe([C.SIGINT, C.SIGTERM]);
  const sigBuf = Buffer.alloc(16);
  loop.addWatch(sigFd, () => {
    const n = sys.read(sigFd, sigBuf, 0, sigBuf.length);
    if (n > 0) {
      const sig = sigBuf[0] === C.SIGINT ? 'SIGINT' : sigBuf[0] === C.SIGTERM ? 'SIGTERM' : `signal ${sigBuf[0]}`;
      log(`received ${sig}, shutting down`);
      loop.stop();
    }
  });

  return {
    loop,
    state,
    run() {
      loop.run();
      sys.close(book.fd);
      backend.close();
    },
  };
}
