// Per-connection state, with the notes' names: the fd, what the connection
// wants from the next poll (wantRead / wantWrite / wantClose), and its two
// buffers (incoming: bytes read but not yet parsed; outgoing: replies not yet
// written). The loop keeps no other state about a connection.

import { ByteBuffer } from './buffer.js';

/**
 * What sits above the loop: it turns the bytes at the front of conn.incoming
 * into requests and appends their replies to conn.outgoing. The loop never
 * sees a command; it only asks "is there a complete request? handle it".
 */
export interface Session {
  /**
   * Handles one complete request at the front of conn.incoming, consuming
   * exactly its bytes and appending the reply to conn.outgoing. Returns false,
   * consuming nothing, when the buffer holds no complete request. On a protocol
   * error it sets conn.wantClose (after appending any error reply) and returns false.
   */
  tryOneRequest(conn: Conn): boolean;
  /** The name of the request handled last (for the trace only). */
  lastRequestName(): string;
  /** Called once when the connection is destroyed. */
  closed(conn: Conn): void;
}

export class Conn {
  /** Whether the next poll should ask for readability. */
  wantRead = true;
  /** Whether the next poll should ask for writability (outgoing has bytes). */
  wantWrite = false;
  /** Set by a handler; the loop destroys the connection after the handlers. */
  wantClose = false;
  /** Bytes read from the socket, not yet consumed by a request. */
  readonly incoming = new ByteBuffer();
  /** Reply bytes not yet written to the socket. */
  readonly outgoing = new ByteBuffer();
  /** The peer has shut down its sending side; close once replies are out. */
  peerClosed = false;
  /** Why the connection was closed (for the trace and logs). */
  closeReason = '';
  /** Requests remain in `incoming` because a per-event cap stopped processing. */
  pending = false;
  /** The protocol session; set right after accept. */
  session!: Session;
  /** Monotonic ms of the last read or write event (idle timeout). */
  lastActiveMs = 0;
  /** Neighbours in the loop's idle list, ordered by lastActiveMs. */
  idlePrev: Conn | null = null;
  idleNext: Conn | null = null;
  /** The interest last given to the backend (epoll changes it only on change). */
  interest = 0;

  constructor(
    /** The connection socket's file descriptor. */
    readonly fd: number,
    /** Index of the listener that accepted it (which protocol it speaks). */
    readonly listener: number,
  ) {}
}
