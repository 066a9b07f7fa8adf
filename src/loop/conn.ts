// Per-connection state, with the notes' names: the fd, what the connection
// wants from the next poll (wantRead / wantWrite / wantClose), and its two
// buffers (incoming: bytes read but not yet parsed; outgoing: replies not yet
// written). What happens to the bytes between read and write is decided by a
// ConnHandler (the server's connection pipeline), never by the loop.

import { ByteBuffer } from './buffer.js';

/**
 * What sits above the pipeline: it turns the bytes at the front of
 * conn.incoming into requests and appends their replies to conn.outgoing.
 */
export interface Session {
  /**
   * Handles one complete request at the front of conn.incoming, consuming
   * exactly its bytes and appending the reply (if it has one now) to
   * conn.outgoing. Returns false, consuming nothing, when the buffer holds no
   * complete request. On a protocol error it sets conn.wantClose (after
   * appending any error reply) and returns false.
   */
  tryOneRequest(conn: Conn): boolean;
  /**
   * True while the client waits for a reply that comes later (a blocked
   * command, CLIENT PAUSE): its further requests stay unparsed in incoming.
   */
  readonly waiting: boolean;
  /** Not closed by the idle timeout (blocked and subscribed clients, as Redis). */
  readonly idleExempt: boolean;
  /** The name of the request handled last (for the trace only). */
  lastRequestName(): string;
  /** Called once when the connection is destroyed. */
  closed(conn: Conn): void;
}

/**
 * The events a backend reports about a connection; the server's pipeline
 * (src/servers/pipeline.ts) implements it. After each call the backend reads
 * the want flags and acts on them: write outgoing, read, or close.
 */
export interface ConnHandler {
  /** Bytes were appended to conn.incoming. */
  received(conn: Conn): void;
  /** The peer shut down its sending side (read returned 0). */
  eof(conn: Conn): void;
  /** conn.outgoing has been written out completely. */
  drained(conn: Conn): void;
  /** The turn asked for with ConnHost.schedule: leftover requests, or output written by another client. */
  resume(conn: Conn): void;
  /** The connection is gone (closed by either side). */
  closed(conn: Conn): void;
}

/** What a backend offers the pipeline. */
export interface ConnHost {
  /** Calls handler.resume(conn) soon: after the connections ready now, before waiting again. */
  schedule(conn: Conn): void;
  /** Monotonic milliseconds. */
  now(): number;
}

export class Conn {
  /** Whether the next poll should ask for readability. */
  wantRead = true;
  /** Whether the next poll should ask for writability (outgoing has bytes). */
  wantWrite = false;
  /** Set by a handler; the loop destroys the connection once outgoing is written. */
  wantClose = false;
  /** Closing without flushing (a failed socket, a broken limit): outgoing was dropped. */
  aborted = false;
  /** Bytes read from the socket, not yet consumed by a request. */
  readonly incoming = new ByteBuffer();
  /** Reply bytes not yet written to the socket. */
  readonly outgoing = new ByteBuffer();
  /** The peer has shut down its sending side; close once replies are out. */
  peerClosed = false;
  /** Why the connection was closed (for the trace and logs). */
  closeReason = '';
  /** incoming may hold requests not yet tried (a per-event cap, or the client was waiting). */
  pending = false;
  /** A resume is already scheduled. */
  scheduled = false;
  /** The protocol session; null for a connection refused at accept. */
  session: Session | null = null;
  /** Monotonic ms of the last read or write event (idle timeout, CLIENT LIST's idle). */
  lastActiveMs = 0;
  /** Neighbours in the loop's idle list, ordered by lastActiveMs. */
  idlePrev: Conn | null = null;
  idleNext: Conn | null = null;
  /** The interest last given to the backend (epoll changes it only on change). */
  interest = 0;

  constructor(
    /** The connection socket's file descriptor (-1 on the libuv twin, which has none to show). */
    readonly fd: number,
  ) {}
}
