// What a wire protocol provides to the server: a request decoder and a reply
// writer. The server's Session (src/servers/session.ts) drives both; the loop
// sees neither.

import type { ByteBuffer } from '../loop/buffer.js';
import type { ReplyWriter } from './reply.js';

/**
 * The protocol version a RESP client chose (HELLO). The writer reads it at each
 * call that differs between versions, not once per reply: HELLO switches its
 * own reply, and inside EXEC every later reply, as Redis does.
 */
export interface RespVersion {
  readonly resp: 2 | 3;
}

/** A ReplyWriter that frames one reply into a connection's outgoing buffer. */
export interface WireWriter extends ReplyWriter {
  /** Starts a reply at the end of `out`, for a client speaking `version` (RESP2 when absent; the book protocol ignores it). */
  begin(out: ByteBuffer, version?: RespVersion): void;
  /** Finishes it (patches lengths, enforces size limits). */
  end(): void;
}

export interface Codec {
  readonly name: 'book' | 'resp';
  /**
   * Decodes one request from buf[start, end) into args (binary strings).
   * Returns the bytes consumed (> 0), 0 when incomplete, or a negative code
   * meaning the connection must be closed after protocolError() is sent.
   * A decoder may also consume bytes without producing a request (an empty
   * inline line): it then returns the bytes consumed and sets args.length = 0.
   */
  decode(buf: Buffer, start: number, end: number, args: string[], unauthenticated?: boolean): number;
  /**
   * For a negative decode result: the error reply to send before closing
   * (RESP: "ERR Protocol error: ..."; the book protocol has none: null) and a
   * one-line description for the log.
   */
  protocolError(code: number): { reply: string | null; message: string };
  /**
   * A partly received request (CLIENT LIST): bytes of it already parsed and the
   * bytes of the arguments parsed out of them; null when none is under way.
   */
  partial?(args: string[]): { parsed: number; argvBytes: number } | null;
  /** The writer replies are encoded with (one per codec; the server is single-threaded). */
  readonly writer: WireWriter;
  /** A writer of its own, for output written into a client from elsewhere while `writer` may be mid-reply. */
  createWriter(): WireWriter;
}
