// Counting replies in a response stream without decoding them: the load
// generator only needs "how many replies ended in this chunk" (and how many
// were errors), so it skips value bodies by length instead of parsing them.
// Both counters are incremental: a reply may be split across chunks anywhere.

import { TAG_ERR } from '../protocol/book.js';

export interface ReplyCounter {
  /** Feeds the next chunk, buf[start, end); returns the number of top-level replies it completed. */
  feed(buf: Uint8Array, start: number, end: number): number;
  /** Error replies seen so far (book tag 1, RESP `-`). */
  errors: number;
}

/** Book protocol: `[u32 len][payload]` frames; the payload's first byte is the tag. */
export class BookReplyCounter implements ReplyCounter {
  errors = 0;
  /** Payload bytes still to skip in the current frame. */
  private need = 0;
  /** The next payload byte is the frame's tag. */
  private atTag = false;
  /** A length prefix split across chunks: its bytes so far. */
  private hdr = 0;
  private hdrLen = 0;

  feed(b: Uint8Array, start: number, end: number): number {
    const len = end;
    let p = start;
    let done = 0;
    while (p < len) {
      if (this.need > 0) {
        if (this.atTag) {
          if (b[p] === TAG_ERR) this.errors++;
          this.atTag = false;
        }
        const take = Math.min(this.need, len - p);
        p += take;
        this.need -= take;
        if (this.need === 0) done++;
        continue;
      }
      let frame: number;
      if (this.hdrLen === 0 && len - p >= 4) {
        frame = b[p] + b[p + 1] * 0x100 + b[p + 2] * 0x10000 + b[p + 3] * 0x1000000;
        p += 4;
      } else {
        this.hdr += b[p++] * 2 ** (8 * this.hdrLen);
        if (++this.hdrLen < 4) continue;
        frame = this.hdr;
        this.hdr = this.hdrLen = 0;
      }
      if (frame === 0) done++; // not something the server sends, but a complete frame
      else {
        this.need = frame;
        this.atTag = true;
      }
    }
    return done;
  }
}

const START = 0; // at the type byte of a value
const LINE = 1; // inside a type line, before its \n
const BULK = 2; // inside a bulk string's body (+ its \r\n)

const CR = 13;
const LF = 10;
const DOLLAR = 36;
const STAR = 42;
const MINUS = 45;

/** RESP2: counts top-level replies (simple strings, errors, integers, bulks, nested arrays). */
export class RespReplyCounter implements ReplyCounter {
  errors = 0;
  /** Top-level nil replies ($-1, *-1): a blocking pop that timed out, a GET of a missing key. */
  nils = 0;
  private mode = START;
  private type = 0;
  private num = 0;
  private neg = false;
  private bulkLeft = 0;
  /** Elements still missing in each open array, innermost last. */
  private readonly open: number[] = [];

  feed(b: Uint8Array, start: number, end: number): number {
    const len = end;
    let p = start;
    let done = 0;
    while (p < len) {
      if (this.mode === BULK) {
        const take = Math.min(this.bulkLeft, len - p);
        p += take;
        this.bulkLeft -= take;
        if (this.bulkLeft === 0) {
          this.mode = START;
          done += this.valueDone();
        }
        continue;
      }
      if (this.mode === START) {
        this.type = b[p++];
        this.num = 0;
        this.neg = false;
        this.mode = LINE;
        continue;
      }
      if (this.type !== DOLLAR && this.type !== STAR) {
        // A simple line (+OK, -ERR ..., :42): jump to its end.
        const nl = b.indexOf(LF, p);
        if (nl < 0 || nl >= len) return done;
        p = nl + 1;
        this.mode = START;
        if (this.type === MINUS && this.open.length === 0) this.errors++;
        done += this.valueDone();
        continue;
      }
      const c = b[p++];
      if (c === LF) {
        this.mode = START;
        if (this.type === DOLLAR) {
          if (this.neg) {
            if (this.open.length === 0) this.nils++;
            done += this.valueDone(); // $-1: nil
          } else {
            this.bulkLeft = this.num + 2;
            this.mode = BULK;
          }
        } else if (this.neg || this.num === 0) {
          if (this.neg && this.open.length === 0) this.nils++;
          done += this.valueDone(); // *-1 or *0
        } else {
          this.open.push(this.num);
        }
      } else if (c === MINUS) this.neg = true;
      else if (c !== CR) this.num = this.num * 10 + (c - 48);
    }
    return done;
  }

  /** A value ended: close the arrays it completes; 1 if it was a top-level reply. */
  private valueDone(): number {
    const open = this.open;
    while (open.length !== 0) {
      if (--open[open.length - 1] > 0) return 0;
      open.pop();
    }
    return 1;
  }
}
