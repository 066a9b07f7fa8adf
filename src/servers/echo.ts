// --mode echo: the notes' event-loop echo server. It is the full server's
// EventLoop unchanged (pollfd array, accept, non-blocking reads and writes,
// pipelining, --trace, --step); only the Session differs: instead of decoding
// a command it sends each length-prefixed message back with the same framing.
// No codec, no commands, no keyspace: just the loop.

import * as sys from '../sys/index.js';
import { C } from '../sys/index.js';
import { EventLoop } from '../loop/loop.js';
import { PollBackend } from '../loop/poll.js';
import { EpollBackend } from '../loop/epoll.js';
import { Stepper } from '../loop/step.js';
import { sysResult } from '../loop/trace.js';
import type { Conn, Session } from '../loop/conn.js';
import { K_MAX_MSG } from '../protocol/book.js';
import { ServerState, type ServerSettings } from './state.js';
import { Pipeline, type Endpoint } from './pipeline.js';
import { plainOs, tracedOs } from '../loop/os.js';
import { listenTcp } from './listen.js';
import { createTracer, labelClient, tracePipeline } from './tracing.js';
import { performance } from 'node:perf_hooks';
import type { LessonServer } from './blocking.js';

/** Echoes `[u32 len][len bytes]` messages: the notes' tryOneRequest without a command. */
class EchoSession implements Session {
  tryOneRequest(conn: Conn): boolean {
    const inc = conn.incoming;
    if (inc.length < 4) return false; // incomplete: wait for more bytes
    const len = inc.buf.readUInt32LE(inc.start);
    if (len > K_MAX_MSG) {
      conn.wantClose = true;
      conn.closeReason = `message of ${len} bytes is too long`;
      return false;
    }
    if (inc.length < 4 + len) return false;
    conn.outgoing.append(inc.buf, inc.start, inc.start + 4 + len);
    inc.consume(4 + len);
    return true;
  }

  readonly waiting = false;
  readonly idleExempt = false;

  lastRequestName(): string {
    return 'echo';
  }

  closed(): void {}
}

/** Binds the book port and builds the loop with echo sessions; run() blocks in it. */
export function createEchoServer(settings: ServerSettings, log: (line: string) => void): LessonServer {
  const tracer = createTracer(settings, () => performance.now());
  const backend = settings.loop === 'epoll' ? new EpollBackend(tracer) : new PollBackend(tracer);
  const loop = new EventLoop(backend, { idleTimeoutMs: settings.idleTimeoutMs, os: tracer !== null ? tracedOs(tracer, settings.traceBytes) : plainOs, tracer });
  // The same pipeline as the full server (caps, limits, half-close), with echo sessions.
  const pipeline = new Pipeline(new ServerState(settings, log), loop);
  if (tracer !== null) {
    tracePipeline(tracer, pipeline);
  }
  loop.handler = pipeline;
  const listen = listenTcp(settings.host, settings.port);
  const session = new EchoSession(); // stateless: one serves every connection
  const ep: Endpoint = { protocol: 'book', port: listen.port, refusal: new Uint8Array(0), session: () => session };
  loop.addListener({
    fd: listen.fd,
    open: (conn, overflow) => {
      if (tracer !== null) labelClient(tracer, conn.fd, 'echo');
      pipeline.opened(conn, ep, () => sys.getpeername(conn.fd), overflow);
    },
  });
  if (tracer !== null) tracer.label(listen.fd, 'echo-listener');

  // Ctrl-C reaches the loop through the signal pipe, as in the full server.
  const sigFd = sys.signalPipe([C.SIGINT, C.SIGTERM]);
  const sigBuf = Buffer.alloc(16);
  if (tracer !== null) tracer.label(sigFd, 'signal-pipe');
  loop.addWatch(sigFd, () => {
    const n = sys.read(sigFd, sigBuf, 0, sigBuf.length);
    if (tracer !== null) tracer.syscall('read', `${sigFd}, ${sigBuf.length}`, sysResult(n));
    if (n > 0) loop.stop();
  });
  if (settings.step && tracer !== null) {
    tracer.label(0, 'stdin');
    new Stepper(loop, tracer).attach();
  }

  return {
    ports: { book: listen.port, resp: 0 },
    run() {
      loop.run();
      backend.close();
    },
  };
}
