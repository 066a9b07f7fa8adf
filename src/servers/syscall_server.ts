// The syscall server: our event loop (poll or epoll backend) + both wire
// codecs + the command tables + one keyspace. Listening sockets for the book
// protocol and for RESP sit in the same poll set; each connection speaks the
// protocol of the listener that accepted it.

import * as sys from '../sys/index.js';
import { C } from '../sys/index.js';
import { EventLoop } from '../loop/loop.js';
import { plainOs, tracedOs } from '../loop/os.js';
import type { Timer } from '../loop/timers.js';
import { PollBackend } from '../loop/poll.js';
import { EpollBackend } from '../loop/epoll.js';
import { sysResult } from '../loop/trace.js';
import { performance } from 'node:perf_hooks';
import { createTracer, labelClient, tracePipeline } from './tracing.js';
import { Stepper } from '../loop/step.js';
import { Inspector } from '../inspect/inspector.js';
import type { Backend } from '../loop/backend.js';
import { bookCodec } from '../protocol/book.js';
import { createRespCodec } from '../protocol/resp.js';
import { bookTable } from '../commands/book/index.js';
import { respTable } from '../commands/resp/index.js';
import type { Codec } from '../protocol/codec.js';
import type { CommandTable } from '../commands/types.js';
import { Pipeline, type Endpoint } from './pipeline.js';
import { ProtocolSession } from './session.js';
import { ServerState, type ServerSettings } from './state.js';
import { listenTcp } from './listen.js';
import { loadDataAtStartup } from './aof_load.js';
import { createBackgroundFsync } from './aof_fsync.js';

/** fds kept free for the server itself (listeners, signal pipe, reserve fd, Node's own), as Redis's 32. */
export const RESERVED_FDS = 32;

/**
 * maxclients needs one fd per client: raise RLIMIT_NOFILE's soft limit toward
 * the hard limit, then clamp maxclients to what the limit allows (logged).
 */
export function clampMaxClients(maxClients: number, log: (line: string) => void): number {
  const want = maxClients + RESERVED_FDS;
  let { soft, hard } = sys.getNofileLimit();
  if (soft < want) {
    try {
      sys.setNofileLimit(Math.min(want, hard), hard);
      soft = sys.getNofileLimit().soft;
    } catch {
      // Keep the current soft limit.
    }
  }
  if (soft >= want) return maxClients;
  const clamped = Math.max(1, soft - RESERVED_FDS);
  log(
    `maxclients ${maxClients} needs ${want} file descriptors but the limit is ${soft} (hard ${hard}); ` +
      `maxclients reduced to ${clamped}. Raise 'ulimit -n' for more.`,
  );
  return clamped;
}

export interface RunningServer {
  loop: EventLoop;
  state: ServerState;
  /** Runs until SIGINT/SIGTERM (or loop.stop()). */
  run(): void;
}

/** Binds the listeners and builds the loop; run() blocks in it. */
export function createSyscallServer(settings: ServerSettings, log: (line: string) => void): RunningServer {
  settings = { ...settings, maxClients: clampMaxClients(settings.maxClients, log) };
  const tracer = createTracer(settings, () => performance.now());
  if (tracer !== null) {
    // Trace lines are buffered per iteration: flush them before a log line so the two stay in order.
    const untraced = log;
    log = (line) => {
      tracer.flush();
      untraced(line);
    };
  }
  const state = new ServerState(settings, log);
  log(state.memory.describeLimits());
  const backend: Backend = settings.loop === 'epoll' ? new EpollBackend(tracer) : new PollBackend(tracer);
  const loop = new EventLoop(backend, {
    idleTimeoutMs: settings.idleTimeoutMs,
    keepAliveSeconds: settings.tcpKeepAlive,
    os: tracer !== null ? tracedOs(tracer, settings.traceBytes) : plainOs,
    tracer,
  });
  // CONFIG SET timeout / tcp-keepalive: the loop keeps its own copies.
  state.configStore.onApplied = () => {
    state.persistence.configChanged(); // save rules, stop-writes-on-bgsave-error
    loop.idleTimeoutMs = settings.idleTimeoutMs;
    loop.keepAliveSeconds = settings.tcpKeepAlive;
  };
  // The AOF is written (and, under appendfsync always, fsynced) once per
  // iteration before the iteration's replies go out: the loop's beforeReplies.
  const flushAof = (): void => state.aof.flush();
  state.onAofToggled = (on) => {
    loop.beforeReplies = on ? flushAof : null;
  };
  // appendfsync everysec fsyncs on a worker thread; it says it is done through a pipe in the poll set.
  state.aof.useBackgroundFsync(() => {
    const bg = createBackgroundFsync();
    if (tracer !== null) tracer.label(bg.fd, 'aof-fsync-pipe');
    loop.addWatch(bg.fd, () => {
      const n = bg.readable();
      if (tracer !== null) {
        tracer.syscall('read', `${bg.fd}, 64`, sysResult(n));
        if (n > 0) tracer.note('aof-fsync-pipe: the worker finished an fdatasync of the AOF');
      }
    });
    return bg;
  });
  // The AOF or the RDB file, before any client can connect; a bad file stops the start.
  loadDataAtStartup(state);
  state.context.stats.netInput = () => loop.bytesIn;
  state.context.stats.netOutput = () => loop.bytesOut;
  const pipeline = new Pipeline(state, loop);
  loop.handler = pipeline;
  // A script past busy-reply-threshold runs loop iterations from inside itself (its connection frozen).
  state.processEventsWhileBusy = () => loop.runNested(pipeline.current);
  state.shutdown = () => loop.stop();
  state.timers = {
    now: () => loop.now(),
    add: (deadline, fire, what) => loop.timers.add(deadline, fire, what),
    cancel: (t) => loop.timers.cancel(t as Timer),
  };
  if (tracer !== null) {
    tracePipeline(tracer, pipeline);
    state.note = (text) => tracer.note(text);
  }

  const listen = (port: number | null, codec: Codec, table: CommandTable, refusal: string): number => {
    const { fd, port: bound } = listenTcp(settings.host, port ?? 0);
    const ep: Endpoint = {
      protocol: codec.name,
      port: bound,
      refusal: Buffer.from(refusal, 'latin1'),
      session: (conn, client) => new ProtocolSession(codec, table, state, client, conn, pipeline),
    };
    loop.addListener({
      fd,
      open: (conn, overflow) => {
        if (tracer !== null) labelClient(tracer, conn.fd, codec.name);
        pipeline.opened(conn, ep, () => sys.getpeername(conn.fd), overflow);
      },
    });
    if (tracer !== null) tracer.label(fd, `${codec.name}-listener`);
    return bound;
  };
  state.ports.book = listen(settings.port, bookCodec, bookTable, '');
  if (settings.respPort !== null) {
    state.ports.resp = listen(settings.respPort, createRespCodec(settings), respTable, '-ERR max number of clients reached\r\n');
  }

  // Keys with a TTL expire actively too, at most activeExpireLimit per iteration
  // so that a mass expiry cannot stall the loop.
  loop.keyTimers = {
    nextDeadline: () => (state.activeExpire ? state.nextDeadline() : null),
    run: () => {
      const n = state.expireCycle();
      if (tracer !== null && n > 0) tracer.keysExpired(n);
    },
  };

  // INFO's instantaneous metrics: a sample at the start of an iteration, at most every 100 ms (see metrics.ts).
  loop.beforePoll = () => {
    state.context.stats.instant.maybeSample(performance.now());
    return true;
  };

  // Signals reach the loop as bytes in a pipe that sits in the poll set.
  const sigFd = sys.signalPipe([C.SIGINT, C.SIGTERM]);
  const sigBuf = Buffer.alloc(16);
  if (tracer !== null) tracer.label(sigFd, 'signal-pipe');
  loop.addWatch(sigFd, () => {
    const n = sys.read(sigFd, sigBuf, 0, sigBuf.length);
    if (tracer !== null) {
      tracer.syscall('read', `${sigFd}, ${sigBuf.length}`, sysResult(n));
      // That byte was written by the addon's signal handler (strace shows its write; we cannot trace it).
      if (n > 0) tracer.note(`signal pipe: signal ${sigBuf[0]} (its handler wrote the byte)`);
    }
    // One byte per signal: two signals that arrived together are two stops
    // (the second one gives up on flushing replies).
    for (let i = 0; i < n; i++) {
      const sig = sigBuf[i] === C.SIGINT ? 'SIGINT' : 'SIGTERM';
      if (loop.isStopping) {
        log(`received ${sig} again, closing without flushing`);
        loop.stop();
      } else {
        log(`received ${sig}, shutting down`);
        // Saves first when save rules are set (shutdown-on-sig*), as Redis; a failed save keeps the server up.
        state.persistence.shutdownOnSignal(sig);
      }
    }
  });

  // Persistence's background work: BGSAVE slices run as loop timers, and the
  // writer thread's completions arrive through a pipe watched like the signal pipe.
  state.persistence.attach({
    timers: state.timers,
    stop: () => loop.stop(),
    watcher: {
      watch(fd, label, onReadable) {
        if (tracer !== null) tracer.label(fd, label);
        loop.addWatch(fd, onReadable);
      },
      unwatch: (fd) => loop.removeWatch(fd),
      read: (fd, buf, off, len) => loop.os.read(fd, buf, off, len),
      note: tracer === null ? null : (text) => tracer.note(text),
    },
  });
  // --step: stdin joins the poll set, and each iteration waits for Enter.
  // --inspect-port: the live view's listener joins it, and its page steps the same gate.
  let inspector: Inspector | null = null;
  if ((settings.step || settings.inspectPort !== null) && tracer !== null) {
    if (settings.step) tracer.label(0, 'stdin');
    const stepper = new Stepper(loop, tracer, settings.step ? 0 : -1);
    stepper.attach();
    if (settings.inspectPort !== null) {
      inspector = new Inspector(loop, tracer, stepper, settings.inspectPort, backend.name, log);
      const ins = inspector;
      tracer.json!.addSink((line) => ins.record(line));
      log(`inspector: http://127.0.0.1:${inspector.port}/ (the live view of this loop; loopback only)`);
    }
  }

  return {
    loop,
    state,
    run() {
      loop.run(); // closes the listeners and every connection on the way out
      state.aof.stop(); // what was logged is written and fsynced before exit
      state.aof.closeBackground();
      if (inspector !== null) inspector.closeAll();
      state.persistence.close();
      backend.close();
    },
  };
}
