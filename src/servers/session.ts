// The Session the pipeline drives: decode one request with the connection's
// codec, dispatch it to that protocol's command table, encode the reply into
// the connection's outgoing buffer. This is where bytes meet commands — the
// loop below sees only bytes, the commands above see only arguments and a
// writer. A session is also its client's link to the connection: output that
// another client's command writes into it (deliver), CLIENT KILL, and the
// wake-up of a client that waited.

import { performance } from 'node:perf_hooks';
import type { Conn, Session } from '../loop/conn.js';
import { ByteBuffer } from '../loop/buffer.js';
import type { Codec, WireWriter } from '../protocol/codec.js';
import { ErrCode, type ReplyWriter } from '../protocol/reply.js';
import { dispatch } from '../commands/dispatch.js';
import type { CommandContext, CommandTable, ConnInfo } from '../commands/types.js';
import type { Client, ClientLink, ServerState } from './state.js';

/** What a session needs of the pipeline that drives it. */
export interface SessionHost {
  /** Output was written into conn from elsewhere: check its limit and have it written. */
  delivered(conn: Conn, outputLimit: number): void;
  /** Close conn without flushing. */
  abort(conn: Conn, reason: string): void;
  readonly host: { schedule(conn: Conn): void; now(): number };
}

/** A SessionHost for a session driven by hand (tests, the blocking lesson, microbenchmarks): deliveries stay in outgoing. */
export const detachedHost: SessionHost = {
  delivered() {},
  abort(conn, reason) {
    conn.outgoing.clear();
    conn.wantClose = true;
    conn.aborted = true;
    conn.closeReason = reason;
  },
  host: { schedule() {}, now: () => performance.now() },
};

export class ProtocolSession implements Session, ClientLink {
  private readonly args: string[] = [];
  /** Bytes of the last request taken off the input (the one running, while a command runs). */
  private requestBytes = 0;
  private readonly ctx: CommandContext;
  /** The server's counters, held directly: the context object's shape (it has getters) makes every load through it a generic IC call. */
  private readonly stats: CommandContext['server']['stats'];
  private lastName = '';
  /** A writer for requests handled while another request is running (nested loop iterations of a busy script). */
  private nestedWriter: WireWriter | null = null;
  /** A writer for deliveries (the codec's shared one may be mid-reply when another client's command delivers). */
  private deliveryWriter: WireWriter | null = null;

  constructor(
    private readonly codec: Codec,
    private readonly table: CommandTable,
    private readonly server: ServerState,
    readonly client: Client,
    private readonly conn: Conn,
    private readonly pipeline: SessionHost,
  ) {
    this.ctx = { store: server.store, client, server: server.context, hooks: server.context.hooks, persistence: server.context.persistence, counters: server.context.counters };
    this.stats = server.context.stats;
    client.link = this;
  }

  get waiting(): boolean {
    return this.client.waiting;
  }

  get idleExempt(): boolean {
    return this.client.idleExempt;
  }

  tryOneRequest(conn: Conn): boolean {
    const inc = conn.incoming;
    const args = this.args;
    const rv = this.codec.decode(inc.buf, inc.start, inc.end, args, !this.client.authenticated);
    if (rv === 0) return false; // incomplete: wait for more bytes
    // The codec's shared writer, unless a request is already being handled further up the stack (a busy
    // script serving this client from inside itself): that one is mid-reply with it.
    const w = handling === 0 ? this.codec.writer : (this.nestedWriter ??= this.codec.createWriter());
    if (rv < 0) {
      const { reply, message } = this.codec.protocolError(rv);
      if (reply !== null) {
        w.begin(conn.outgoing, this.client);
        w.err(ErrCode.BadArg, reply);
        w.end();
      }
      conn.wantClose = true;
      conn.closeReason = `protocol error: ${message}`;
      this.server.logClientError(`${this.codec.name} client ${this.client.peer} (fd ${conn.fd}): protocol error: ${printable(message)}; closing`);
      return false;
    }
    inc.consume(rv);
    this.requestBytes = rv;
    if (args.length === 0) {
      // An empty request: the book answers "unknown command"; RESP ignores it.
      if (this.codec.name === 'book') {
        w.begin(conn.outgoing, this.client);
        w.err(ErrCode.Unknown, 'unknown command');
        w.end();
      }
      this.lastName = '(empty)';
      return true;
    }
    this.lastName = args[0];
    this.stats.totalCommands++;
    const out = conn.outgoing;
    // Where this reply starts, relative to `start` (which a compaction may move).
    const mark = out.end - out.start;
    w.begin(out, this.client);
    const empty = out.end - out.start; // nothing written: the command blocked (its reply comes later)
    w.errorSink = this.ctx.counters.errorSink;
    handling++;
    try {
      dispatch(this.table, args, w, this.ctx);
    } catch (err) {
      // A bug in a command must cost one error reply, not the server: drop
      // the half-written reply and say what happened.
      out.end = out.start + mark;
      w.begin(out, this.client);
      w.err(ErrCode.Unknown, `ERR internal error running '${args[0].slice(0, 64)}'`);
      this.server.log(`internal error in '${args[0].slice(0, 64)}': ${(err as Error)?.stack ?? err}`);
    }
    handling--;
    if (out.end - out.start === empty) out.end = out.start + mark; // no reply now: no frame either
    else w.end();
    const { afterReply } = this.ctx.hooks;
    if (afterReply !== null && this.ctx.hooks.busy === null) afterReply(this.client);
    if (this.client.closeAfterReply) (conn.wantClose = true), (conn.closeReason = 'QUIT');
    return true;
  }

  lastRequestName(): string {
    return this.lastName;
  }

  closed(): void {
    this.client.link = null;
    this.server.clientClosed(this.client);
  }

  // ---- ClientLink: what commands can do to this client from elsewhere ----

  get fd(): number {
    return this.conn.fd;
  }

  connInfo(): ConnInfo {
    const { conn } = this;
    const events = (conn.wantRead ? 'r' : '') + (conn.wantWrite ? 'w' : '');
    const partial = this.codec.partial?.(this.args) ?? null;
    return {
      qbuf: conn.incoming.length - (partial?.parsed ?? 0),
      argvMem: partial?.argvBytes ?? 0,
      current: this.requestBytes,
      qbufFree: conn.incoming.buf.length - conn.incoming.end,
      pending: conn.outgoing.length,
      obufSize: conn.outgoing.buf.length,
      idleMs: Math.max(0, this.pipeline.host.now() - conn.lastActiveMs),
      events,
    };
  }

  deliver(write: (w: ReplyWriter) => void): void {
    const { conn } = this;
    if (conn.wantClose) return;
    const w = (this.deliveryWriter ??= this.codec.createWriter());
    w.errorSink = this.ctx.counters.errorSink;
    const out = conn.outgoing;
    const mark = out.end - out.start;
    w.begin(out, this.client);
    const empty = out.end - out.start;
    write(w);
    if (out.end - out.start === empty) {
      out.end = out.start + mark; // nothing to deliver (a re-run command that blocked again)
      return;
    }
    w.end();
    this.pipeline.delivered(conn, this.server.outputLimitOf(this.client));
  }

  /** Which encoding this client's deliveries take: clients with the same key get the same bytes. */
  deliveryKey(): string {
    return this.codec.name === 'resp' ? (this.client.resp === 3 ? 'resp3' : 'resp2') : 'book';
  }

  /** Encodes one delivery as this client's connection would, without delivering it (for deliverAll). */
  encodeDelivery(write: (w: ReplyWriter) => void): Buffer {
    const scratch = (encodeScratch ??= new ByteBuffer(256));
    scratch.clear();
    const w = (this.deliveryWriter ??= this.codec.createWriter());
    w.begin(scratch, this.client);
    write(w);
    w.end();
    return scratch.toBuffer();
  }

  /** Appends bytes encoded by encodeDelivery for a client of the same deliveryKey. */
  deliverBytes(bytes: Uint8Array): void {
    const { conn } = this;
    if (conn.wantClose) return;
    conn.outgoing.append(bytes);
    this.pipeline.delivered(conn, this.server.outputLimitOf(this.client));
  }

  kill(reason: string): void {
    this.pipeline.abort(this.conn, reason);
    this.pipeline.host.schedule(this.conn);
  }

  wake(): void {
    this.pipeline.host.schedule(this.conn);
  }
}

/** Requests being handled now, across sessions: more than one only inside a busy script's nested loop iterations. */
let handling = 0;

/** Where deliverAll's one encoding is built (the server is single-threaded). */
let encodeScratch: ByteBuffer | null = null;

/** Client bytes quoted in a log line: control and non-ASCII bytes as \xNN, so one line stays one line. */
function printable(s: string): string {
  return s.replace(/[\x00-\x1f\x7f-\xff\\]/g, (c) => (c === '\\' ? '\\\\' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}
