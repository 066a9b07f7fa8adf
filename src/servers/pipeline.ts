// The connection pipeline: everything that happens to a connection between
// the backend's read and its write, in one place that every backend drives —
// poll, epoll and the libuv twin alike, so that a benchmark between them
// compares only the loop. (Redis splits the same work between ae.c, which only
// reports readiness, and networking.c, which decides.)
//
//   opened    maxclients, out of fds and protected mode refuse here;
//   received  the request loop: every complete request, at most
//             maxRequestsPerEvent per turn (the rest wait for a later turn,
//             after the other connections), the output and query limits;
//   eof       half-close: what was sent before is still answered, then close
//             (a client waiting on a blocking command is closed at once);
//   drained   the book's state change back from writing to reading;
//   resume    a later turn: requests left by the cap, a waiting client that was
//             served, output another client's command wrote (pub/sub).
//
// The pipeline decides the want flags; the backend acts on them.

import type { Conn, ConnHandler, ConnHost, Session } from '../loop/conn.js';
import type { Client, ServerState } from './state.js';
import { isLoopback, PROTECTED_MODE_REPLY, protectedModeActive } from './protected.js';

/** Unparsed input past this (one large request arriving) has the clients' total checked on each read. */
const LARGE_INPUT = 1024 * 1024;

/** A listening endpoint: the protocol its connections speak. */
export interface Endpoint {
  readonly protocol: 'book' | 'resp';
  /** The bound port (CLIENT LIST's laddr). */
  readonly port: number;
  /** Sent to a client refused by maxclients before closing (may be empty). */
  readonly refusal: Uint8Array;
  /** The session that serves an admitted connection. */
  session(conn: Conn, client: Client): Session;
}

export interface PipelineOptions {
  /** Stop handling a connection's requests after this many per turn. */
  maxRequestsPerEvent?: number;
}

export class Pipeline implements ConnHandler {
  private readonly maxRequestsPerEvent: number;
  private loggedOverflow = false;
  /**
   * The connection whose request is being handled now (null between
   * requests): a command that runs loop iterations from inside itself (a busy
   * script) freezes it, since its request is only half done.
   */
  current: Conn | null = null;
  /** Trace notes (null when not tracing). */
  note: ((text: string) => void) | null = null;
  /** Tracing: told where each request ended in incoming and what is left unparsed (--trace-bytes, --trace-json). */
  frames: ((fd: number, before: number, ends: readonly number[], unparsed: number) => void) | null = null;

  constructor(
    private readonly state: ServerState,
    readonly host: ConnHost,
    opts: PipelineOptions = {},
  ) {
    this.maxRequestsPerEvent = opts.maxRequestsPerEvent ?? 1000;
  }

  /**
   * A new connection: give it a session, or refuse it (wantClose, with any
   * farewell in outgoing). `peer` looks the client's address up (lazily).
   */
  opened(conn: Conn, ep: Endpoint, peer: () => { address: string; port: number } | null, overflow: string | null): void {
    const { state } = this;
    const settings = state.settings;
    let why = overflow;
    if (why === null && state.clients.size >= settings.maxClients) why = 'max number of clients reached';
    if (why !== null) {
      if (overflow !== null && !this.loggedOverflow) {
        state.log('accept: out of file descriptors (EMFILE); refusing new clients until some close');
        this.loggedOverflow = true;
      }
      if (ep.refusal.length) conn.outgoing.append(ep.refusal);
      this.refuse(conn, why);
      return;
    }
    const lookup = (): string => {
      const p = peer();
      return p ? `${p.address.includes(':') ? `[${p.address}]` : p.address}:${p.port}` : '?:0';
    };
    if (protectedModeActive(settings) && !isLoopback(peer()?.address ?? '')) {
      // Protected mode: tell a RESP client why and how to fix it, then close.
      if (ep.protocol === 'resp') conn.outgoing.append(PROTECTED_MODE_REPLY);
      state.log(`refused ${lookup()}: protected mode (bound to ${settings.host} with no --requirepass)`);
      this.refuse(conn, 'protected mode');
      return;
    }
    conn.session = ep.session(conn, state.newClient(ep.port, lookup, ep.protocol));
  }

  private refuse(conn: Conn, why: string): void {
    this.state.context.stats.rejectedConnections++;
    conn.wantRead = false;
    conn.wantClose = true;
    conn.closeReason = `refused: ${why}`;
  }

  received(conn: Conn): void {
    this.processRequests(conn);
    // What is left is one request still arriving (or requests a waiting client
    // sent ahead): a client may not make the server hold more than this.
    const limit = this.state.settings.queryLimit;
    // A large request arriving: all clients' buffers together are checked now, not at the next command.
    if (conn.incoming.length > LARGE_INPUT && !conn.wantClose) this.state.memory.checkClientsOnRead(conn.incoming.length);
    if (limit !== 0 && conn.incoming.length > limit && !conn.wantClose) {
      this.state.log(`closing fd ${conn.fd}: query buffer over the limit (${conn.incoming.length} > ${limit} bytes)`);
      this.abort(conn, 'query buffer limit');
    }
  }

  eof(conn: Conn): void {
    conn.peerClosed = true;
    const session = conn.session;
    if (session !== null && session.waiting) {
      // Gone while waiting for a reply: nothing will read it (Redis frees the client too).
      this.abort(conn, 'EOF while waiting');
      return;
    }
    // The peer may have only half-closed: whatever it sent before is still
    // answered, then the connection closes.
    if (conn.outgoing.length === 0 && conn.incoming.length !== 0) this.processRequests(conn);
    else this.decide(conn);
  }

  drained(conn: Conn): void {
    if (conn.pending && conn.session !== null && !conn.session.waiting) {
      // Requests left by the cap are served in a later turn, after the other
      // connections (serving them here would defeat the cap).
      this.host.schedule(conn);
    }
    this.decide(conn);
  }

  resume(conn: Conn): void {
    const session = conn.session;
    if (session === null || conn.wantClose) return;
    if (conn.pending && !session.waiting && conn.outgoing.length === 0) this.processRequests(conn);
    else this.decide(conn);
  }

  closed(conn: Conn): void {
    conn.session?.closed(conn);
  }

  /**
   * Another client's command wrote into conn.outgoing (a pub/sub message, the
   * reply of a blocked command it served): check the limit, have it written.
   */
  delivered(conn: Conn, outputLimit: number): void {
    if (conn.wantClose) return;
    if (this.note !== null) this.note(`fd ${conn.fd}: output written from elsewhere (${conn.outgoing.length} bytes pending)`);
    if (outputLimit !== 0 && conn.outgoing.length > outputLimit) {
      this.state.log(`closing fd ${conn.fd}: output buffer over the limit (${conn.outgoing.length} > ${outputLimit} bytes)`);
      this.abort(conn, 'output buffer limit');
    }
    this.host.schedule(conn);
  }

  /** Close without flushing: the client broke a limit, or was killed. */
  abort(conn: Conn, reason: string): void {
    conn.outgoing.clear();
    conn.incoming.clear();
    conn.wantClose = true;
    conn.aborted = true;
    conn.closeReason = reason;
  }

  /**
   * The pipelining fix: handle every complete request in the buffer (not just
   * one per read), consuming only each request's bytes; the backend then
   * writes the replies at once.
   */
  private processRequests(conn: Conn): void {
    const session = conn.session!;
    const note = this.note;
    const names: string[] | null = note !== null ? [] : null;
    const outputLimit = this.state.settings.outputLimit;
    let handled = 0;
    // --trace-bytes: where each request ends, as offsets into incoming as it stood.
    const start = conn.incoming.length;
    const ends: number[] | null = this.frames !== null ? [] : null;
    conn.pending = false;
    while (!conn.wantClose) {
      if (session.waiting) {
        // Blocked: what it sent meanwhile waits in incoming until it is served.
        if (conn.incoming.length !== 0) conn.pending = true;
        break;
      }
      const outer = this.current;
      this.current = conn;
      let more: boolean;
      try {
        more = session.tryOneRequest(conn);
      } finally {
        this.current = outer;
      }
      if (!more) break;
      handled++;
      if (ends !== null) ends.push(start - conn.incoming.length);
      if (names !== null && names.length < 4) names.push(session.lastRequestName());
      if (outputLimit !== 0 && conn.outgoing.length > outputLimit) {
        this.state.log(`closing fd ${conn.fd}: output buffer over the limit (${conn.outgoing.length} > ${outputLimit} bytes)`);
        this.abort(conn, 'output buffer limit');
        return;
      }
      if (handled >= this.maxRequestsPerEvent) {
        // Fairness: leave the rest for after the other connections have run.
        conn.pending = true;
        if (conn.outgoing.length === 0) this.host.schedule(conn);
        break;
      }
    }
    if (note !== null) {
      if (handled === 0 && !conn.wantClose && !session.waiting) {
        note(`fd ${conn.fd}: no complete request yet (${conn.incoming.length} bytes buffered)`);
      } else if (handled > 0) {
        note(`fd ${conn.fd}: ${handled} request${handled > 1 ? 's' : ''} (${names!.join(', ')}${handled > names!.length ? ', …' : ''})${conn.pending && !session.waiting ? ', more pending' : ''}`);
      }
      if (ends !== null && !conn.aborted) this.frames!(conn.fd, start, ends, conn.incoming.length);
      if (session.waiting && handled > 0) note(`fd ${conn.fd}: blocked (${session.lastRequestName()}): waiting for a reply from elsewhere`);
    }
    this.decide(conn);
  }

  /** What the connection wants next, from its state. */
  private decide(conn: Conn): void {
    if (conn.wantClose) return;
    const session = conn.session!;
    if (conn.outgoing.length !== 0) {
      // The book's state change: stop reading until the replies are out.
      this.setWant(conn, false, true);
    } else if (session.waiting) {
      // Keep reading while blocked, to notice the client going away (bounded by the query limit).
      this.setWant(conn, !conn.peerClosed, false);
    } else if (conn.pending) {
      // Until the leftover requests are served, read no more: incoming would
      // otherwise grow by a read per turn while only a cap's worth leaves it.
      this.setWant(conn, false, false);
    } else if (conn.peerClosed) {
      conn.wantClose = true;
      conn.closeReason ||= conn.incoming.length ? 'EOF with an incomplete request' : 'EOF';
    } else {
      this.setWant(conn, true, false);
    }
  }

  private setWant(conn: Conn, read: boolean, write: boolean): void {
    if (this.note !== null && (conn.wantRead !== read || conn.wantWrite !== write)) {
      this.note(`fd ${conn.fd}: want ${wantName(conn.wantRead, conn.wantWrite)} → ${wantName(read, write)}`);
    }
    conn.wantRead = read;
    conn.wantWrite = write;
  }
}

function wantName(read: boolean, write: boolean): string {
  return read && write ? 'read+write' : read ? 'read' : write ? 'write' : 'nothing';
}
