// The connection pipeline and the event loop in-process, without sockets:
// the pipeline driven by hand through a fake host, then the whole EventLoop
// over a fake backend and fake syscalls (in-memory sockets), so that the
// request loop, the per-turn cap, half-close, limits, refusal, waiting
// clients and deliveries are checked exactly, step by step.

import { describe, expect, test } from 'vitest';
import { Conn, type ConnHost } from '../src/loop/conn.js';
import { EventLoop } from '../src/loop/loop.js';
import type { LoopOs } from '../src/loop/os.js';
import { READABLE, WRITABLE, type Backend, type LoopView } from '../src/loop/backend.js';
import { C } from '../src/sys/index.js';
import { createRespCodec } from '../src/protocol/resp.js';
import { respTable } from '../src/commands/resp/index.js';
import { commandMap } from '../src/commands/dispatch.js';
import type { CommandTable } from '../src/commands/types.js';
import { Pipeline, type Endpoint } from '../src/servers/pipeline.js';
import { ProtocolSession } from '../src/servers/session.js';
import { DEFAULT_SETTINGS, ServerState, type Client, type ServerSettings } from '../src/servers/state.js';

const PING = '*1\r\n$4\r\nPING\r\n';
const PONG = '+PONG\r\n';

/** A pipeline over a fake host that records what it was asked to schedule. */
function rig(opts: Partial<ServerSettings> = {}, cap = 3, table: CommandTable = respTable) {
  const logs: string[] = [];
  const state = new ServerState({ ...DEFAULT_SETTINGS, ...opts }, (l) => logs.push(l));
  const scheduled: Conn[] = [];
  const host: ConnHost = {
    schedule(c) {
      if (c.scheduled) return;
      c.scheduled = true;
      scheduled.push(c);
    },
    now: () => 0,
  };
  const pipeline = new Pipeline(state, host, { maxRequestsPerEvent: cap });
  const codec = createRespCodec(state.settings);
  const ep: Endpoint = {
    protocol: 'resp',
    port: 6379,
    refusal: Buffer.from('-ERR max number of clients reached\r\n'),
    session: (conn, client) => new ProtocolSession(codec, table, state, client, conn, pipeline),
  };
  const open = (): Conn => {
    const conn = new Conn(10 + state.clients.size);
    pipeline.opened(conn, ep, () => ({ address: '127.0.0.1', port: 5000 }), null);
    return conn;
  };
  /** Runs what was scheduled, as a backend would. */
  const runScheduled = (): void => {
    for (const c of scheduled.splice(0)) {
      c.scheduled = false;
      pipeline.resume(c);
    }
  };
  const out = (conn: Conn): string => {
    const s = conn.outgoing.toBuffer().toString('latin1');
    conn.outgoing.clear();
    return s;
  };
  return { state, pipeline, open, scheduled, runScheduled, out, logs };
}

describe('pipeline', () => {
  test('pipelined requests: at most the cap per turn, the rest after a scheduled turn, reading paused meanwhile', () => {
    const { pipeline, open, scheduled, runScheduled, out } = rig();
    const conn = open();
    conn.incoming.append(Buffer.from(PING.repeat(5)));
    pipeline.received(conn);
    expect(out(conn)).toBe(PONG.repeat(3));
    expect(conn.pending).toBe(true);
    expect([conn.wantRead, conn.wantWrite]).toEqual([false, true]);
    expect(scheduled).toEqual([]); // replies first: the next turn is asked for once they are out
    pipeline.drained(conn);
    expect(scheduled).toEqual([conn]);
    expect([conn.wantRead, conn.wantWrite]).toEqual([false, false]);
    runScheduled();
    expect(out(conn)).toBe(PONG.repeat(2));
    expect(conn.pending).toBe(false);
    pipeline.drained(conn);
    expect([conn.wantRead, conn.wantWrite]).toEqual([true, false]);
  });

  test('half-close: every request sent before EOF is answered, then the connection closes', () => {
    const { pipeline, open, runScheduled, out } = rig();
    const conn = open();
    conn.incoming.append(Buffer.from(PING.repeat(4)));
    pipeline.eof(conn);
    expect(out(conn)).toBe(PONG.repeat(3));
    pipeline.drained(conn);
    expect(conn.wantClose).toBe(false);
    runScheduled();
    expect(out(conn)).toBe(PONG);
    pipeline.drained(conn);
    expect(conn.wantClose).toBe(true);
    expect(conn.closeReason).toBe('EOF');
  });

  test('maxclients: the next client gets the refusal and is closed; stats count it', () => {
    const { state, open, out } = rig({ maxClients: 2 });
    open();
    open();
    const third = open();
    expect(third.session).toBeNull();
    expect(third.wantClose).toBe(true);
    expect(out(third)).toBe('-ERR max number of clients reached\r\n');
    expect(state.context.stats.rejectedConnections).toBe(1);
  });

  test('query buffer limit: an unfinished request past it closes the connection without a reply', () => {
    const { pipeline, open, logs } = rig({ queryLimit: 100 });
    const conn = open();
    conn.incoming.append(Buffer.from('*1\r\n$1000\r\n' + 'x'.repeat(200)));
    pipeline.received(conn);
    expect(conn.wantClose && conn.aborted).toBe(true);
    expect(conn.outgoing.length).toBe(0);
    expect(logs.some((l) => l.includes('query buffer over the limit'))).toBe(true);
  });

  test('output limit: a reply past it closes the connection', () => {
    const { pipeline, open } = rig({ outputLimit: 10 });
    const conn = open();
    conn.incoming.append(Buffer.from('*2\r\n$4\r\nECHO\r\n$20\r\n' + 'y'.repeat(20) + '\r\n'));
    pipeline.received(conn);
    expect(conn.aborted).toBe(true);
  });

  test('a waiting client: later requests stay unparsed until it is woken; EOF while waiting closes it', () => {
    let waiter: Client | null = null;
    const table: CommandTable = {
      ...respTable,
      commands: commandMap([
        ...respTable.commands.values(),
        {
          name: 'wait',
          arity: 1,
          run(_a, _w, ctx) {
            // Block: no reply now (the reply comes through deliver()).
            ctx.client.waiting = true;
            waiter = ctx.client as Client;
          },
        },
      ]),
    };
    const { pipeline, open, scheduled, runScheduled, out } = rig({}, 1000, table);
    const conn = open();
    conn.incoming.append(Buffer.from('*1\r\n$4\r\nWAIT\r\n' + PING + PING));
    pipeline.received(conn);
    expect(out(conn)).toBe('');
    expect(conn.pending).toBe(true);
    expect(conn.incoming.length).toBe(2 * PING.length);
    expect([conn.wantRead, conn.wantWrite]).toEqual([true, false]); // still reading, to notice a disconnect

    // Served from elsewhere: the late reply, then the queued requests.
    waiter!.waiting = false;
    waiter!.deliver((w) => w.str('late'));
    expect(scheduled).toEqual([conn]);
    runScheduled();
    expect([conn.wantRead, conn.wantWrite]).toEqual([false, true]);
    expect(out(conn)).toBe('$4\r\nlate\r\n');
    pipeline.drained(conn);
    runScheduled();
    expect(out(conn)).toBe(PONG + PONG);

    const other = open();
    other.incoming.append(Buffer.from('*1\r\n$4\r\nWAIT\r\n'));
    pipeline.received(other);
    pipeline.eof(other);
    expect(other.wantClose && other.aborted).toBe(true);
    expect(other.closeReason).toBe('EOF while waiting');
  });

  test('CLIENT KILL of another client closes it at its next turn; the killer gets its reply', () => {
    const { state, pipeline, open, runScheduled, out } = rig();
    const a = open();
    const b = open();
    const bId = [...state.clients.values()][1].id;
    a.incoming.append(Buffer.from(`*4\r\n$6\r\nCLIENT\r\n$4\r\nKILL\r\n$2\r\nID\r\n$${String(bId).length}\r\n${bId}\r\n`));
    pipeline.received(a);
    expect(out(a)).toBe(':1\r\n');
    runScheduled();
    expect(b.wantClose && b.aborted).toBe(true);
  });
});

/** In-memory sockets behind the LoopOs interface, and a backend that reports their readiness. */
class FakeNet implements Backend {
  readonly name = 'fake';
  readyFds = new Int32Array(64);
  readyMasks = new Int32Array(64);
  readonly backlog: number[] = [];
  readonly input = new Map<number, Buffer>();
  readonly output = new Map<number, string>();
  readonly eof = new Set<number>();
  readonly closed = new Set<number>();
  /** Every write, in order: [fd, bytes]. */
  readonly writes: [number, number][] = [];
  private nextFd = 20;
  constructor(readonly listenFd: number) {}

  connect(): number {
    const fd = this.nextFd++;
    this.backlog.push(fd);
    this.input.set(fd, Buffer.alloc(0));
    this.output.set(fd, '');
    return fd;
  }
  send(fd: number, s: string): void {
    this.input.set(fd, Buffer.concat([this.input.get(fd)!, Buffer.from(s, 'latin1')]));
  }
  take(fd: number): string {
    const s = this.output.get(fd)!;
    this.output.set(fd, '');
    return s;
  }

  readonly os: LoopOs = {
    accept: (fd) => (fd === this.listenFd && this.backlog.length ? this.backlog.shift()! : -C.EAGAIN),
    read: (fd, buf, offset, length) => {
      const data = this.input.get(fd)!;
      if (data.length === 0) return this.eof.has(fd) ? 0 : -C.EAGAIN;
      const n = Math.min(length, data.length);
      data.copy(buf as Buffer, offset, 0, n);
      this.input.set(fd, data.subarray(n));
      return n;
    },
    write: (fd, buf, offset, length) => {
      this.writes.push([fd, length]);
      this.output.set(fd, this.output.get(fd)! + Buffer.from(buf.subarray(offset, offset + length)).toString('latin1'));
      return length;
    },
    close: (fd) => (this.closed.add(fd), 0),
    setNonBlocking() {},
    setNoDelay() {},
    spareSocket: () => -1,
    note: null,
  };

  setInterest(): void {}
  wait(loop: LoopView): number {
    let n = 0;
    if (this.backlog.length) (this.readyFds[n] = this.listenFd), (this.readyMasks[n++] = READABLE);
    for (const conn of loop.fd2conn) {
      if (conn === null) continue;
      const readable = this.input.get(conn.fd)!.length > 0 || this.eof.has(conn.fd);
      const mask = (conn.wantRead && readable ? READABLE : 0) | (conn.wantWrite ? WRITABLE : 0);
      if (mask) (this.readyFds[n] = conn.fd), (this.readyMasks[n++] = mask);
    }
    return n;
  }
  close(): void {}
}

function loopRig() {
  const state = new ServerState({ ...DEFAULT_SETTINGS }, () => {});
  const net = new FakeNet(3);
  const loop = new EventLoop(net, { os: net.os });
  const pipeline = new Pipeline(state, loop);
  loop.handler = pipeline;
  const codec = createRespCodec(state.settings);
  const ep: Endpoint = {
    protocol: 'resp',
    port: 6379,
    refusal: new Uint8Array(0),
    session: (conn, client) => new ProtocolSession(codec, respTable, state, client, conn, pipeline),
  };
  loop.addListener({ fd: 3, open: (conn, overflow) => pipeline.opened(conn, ep, () => ({ address: '127.0.0.1', port: 1 }), overflow) });
  return { state, net, loop };
}

describe('EventLoop over a fake backend', () => {
  test('accept, read, serve a pipeline, write, half-close and close — one iteration at a time', () => {
    const { net, loop } = loopRig();
    const fd = net.connect();
    loop.runOnce(); // accept
    expect(loop.fd2conn[fd]).not.toBeNull();
    net.send(fd, '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n');
    loop.runOnce(); // read both, reply to both with one write
    expect(net.take(fd)).toBe('+OK\r\n$1\r\nv\r\n');
    net.eof.add(fd);
    loop.runOnce();
    expect(net.closed.has(fd)).toBe(true);
    expect(loop.fd2conn[fd]).toBeNull();
    expect(loop.connCount).toBe(0);
  });

  test('fairness: a client with 1500 pipelined requests gets 1000, then the other ready client its turn, then the rest', () => {
    const { net, loop } = loopRig();
    const a = net.connect();
    const b = net.connect();
    loop.runOnce();
    net.send(a, PING.repeat(1500));
    net.send(b, PING);
    loop.runOnce();
    expect(net.writes).toEqual([
      [a, 1000 * PONG.length],
      [b, PONG.length],
      [a, 500 * PONG.length],
    ]);
  });

  test('a timer in the loop heap fires after its deadline and can reply to a waiting client', () => {
    const { net, loop, state } = loopRig();
    const fd = net.connect();
    loop.runOnce();
    const client = [...state.clients.values()][0];
    client.waiting = true;
    state.timers = { now: () => loop.now(), add: (d, f, what) => loop.timers.add(d, f, what), cancel: () => {} };
    state.timers.add(loop.now() - 1, () => {
      client.waiting = false;
      client.deliver((w) => w.nilArr());
    }, 'test timeout');
    expect(loop.timers.size).toBe(1);
    loop.runOnce();
    expect(loop.timers.size).toBe(0);
    expect(net.take(fd)).toBe('*-1\r\n');
  });
});
