// The Session the loop drives: decode one request with the connection's codec,
// dispatch it to that protocol's command table, encode the reply into the
// connection's outgoing buffer. This is where bytes meet commands — the loop
// below sees only bytes, the commands above see only arguments and a writer.

import type { Conn, Session } from '../loop/conn.js';
import type { Codec } from '../protocol/codec.js';
import { ErrCode } from '../protocol/reply.js';
import { dispatch } from '../commands/dispatch.js';
import type { ClientState, CommandContext, CommandTable } from '../commands/types.js';
import type { ServerState } from './state.js';

export class ProtocolSession implements Session {
  private readonly args: string[] = [];
  private readonly ctx: CommandContext;
  /** The server's counters, held directly: the context object's shape (it has getters) makes every load through it a generic IC call. */
  private readonly stats: CommandContext['server']['stats'];
  private lastName = '';

  constructor(
    private readonly codec: Codec,
    private readonly table: CommandTable,
    private readonly server: ServerState,
    readonly client: ClientState,
  ) {
    this.ctx = { store: server.store, client, server: server.context };
    this.stats = server.context.stats;
  }

  tryOneRequest(conn: Conn): boolean {
    const inc = conn.incoming;
    const args = this.args;
    const rv = this.codec.decode(inc.buf, inc.start, inc.end, args);
    if (rv === 0) return false; // incomplete: wait for more bytes
    const w = this.codec.writer;
    if (rv < 0) {
      const { reply, message } = this.codec.protocolError(rv);
      if (reply !== null) {
        w.begin(conn.outgoing);
        w.err(ErrCode.BadArg, reply);
        w.end();
      }
      conn.wantClose = true;
      conn.closeReason = `protocol error: ${message}`;
      this.server.logClientError(`${this.codec.name} client ${this.client.peer} (fd ${conn.fd}): protocol error: ${printable(message)}; closing`);
      return false;
    }
    inc.consume(rv);
    if (args.length === 0) {
      // An empty request: the book answers "unknown command"; RESP ignores it.
      if (this.codec.name === 'book') {
        w.begin(conn.outgoing);
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
    w.begin(out);
    try {
      dispatch(this.table, args, w, this.ctx);
    } catch (err) {
      // A bug in a command must cost one error reply, not the server: drop
      // the half-written reply and say what happened.
      out.end = out.start + mark;
      w.begin(out);
      w.err(ErrCode.Unknown, `ERR internal error running '${args[0].slice(0, 64)}'`);
      this.server.log(`internal error in '${args[0].slice(0, 64)}': ${(err as Error)?.stack ?? err}`);
    }
    w.end();
    if (this.client.closeAfterReply) conn.wantClose = true, (conn.closeReason = 'QUIT');
    return true;
  }

  lastRequestName(): string {
    return this.lastName;
  }

  closed(): void {
    this.server.clients.delete(this.client.id);
  }
}

/** Client bytes quoted in a log line: control and non-ASCII bytes as \xNN, so one line stays one line. */
function printable(s: string): string {
  return s.replace(/[\x00-\x1f\x7f-\xff\\]/g, (c) => (c === '\\' ? '\\\\' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}
