// RESP2, the wire protocol of Redis: the request decoder (multibulk arrays of
// bulk strings, and inline commands as redis-cli/telnet send them), the reply
// writer that encodes straight into a connection's outgoing buffer, and a
// client-side encoder and reply parser for tests and tools.
//
// The decoder follows Redis 7's networking.c (processMultibulkBuffer,
// processInlineBuffer, sdssplitargs) step for step, with its limits and its
// exact error strings. "Incomplete" is an ordinary result (0), never an error.

import { constants as bufferConstants } from 'node:buffer';
import type { ByteBuffer } from '../loop/buffer.js';
import type { RespVersion, WireWriter } from './codec.js';
import { formatDouble17g, toInt64, type ErrCode } from './reply.js';

export { formatDouble17g };

/** Largest inline request, and largest `*<n>` / `$<n>` line, without a newline (Redis's PROTO_INLINE_MAX_SIZE). */
export const MAX_INLINE = 64 * 1024;
/**
 * Largest multibulk count accepted: INT_MAX, as Redis 7.0. Safe because the
 * argument array grows only as bulk strings actually arrive (and the client
 * query buffer limit bounds what one request may hold).
 */
export const MAX_MULTIBULK = 2 ** 31 - 1;
/** Default proto-max-bulk-len (512 MiB, as Redis). */
export const DEFAULT_MAX_BULK_LEN = 512 * 1024 * 1024;
/**
 * The longest string V8 can make (2^29 − 24 on 64-bit), 24 bytes short of
 * 512 MiB: a longer bulk string cannot become an argument. It is accepted
 * while it arrives (as Redis would), then refused as an invalid bulk length.
 */
export const MAX_STRING_LENGTH = bufferConstants.MAX_STRING_LENGTH;

// Negative decode results. "expected '$', got 'x'" carries the byte: -(EXPECTED_DOLLAR + byte).
export const ERR_INVALID_MULTIBULK = -1;
export const ERR_INVALID_BULK = -2;
export const ERR_TOO_BIG_INLINE = -3;
export const ERR_UNBALANCED = -4;
export const ERR_TOO_BIG_MBULK_COUNT = -5;
export const ERR_TOO_BIG_BULK_COUNT = -6;
export const ERR_UNAUTH_MULTIBULK = -7;
export const ERR_UNAUTH_BULK = -8;
export const ERR_EXPECTED_DOLLAR = 1000;
/** Before AUTH (with requirepass), Redis takes at most 10 arguments of 16 KiB each: a stranger cannot make it buffer more. */
export const UNAUTH_MAX_MULTIBULK = 10;
export const UNAUTH_MAX_BULK = 16384;

const CR = 13;
const LF = 10;
const STAR = 42;
const DOLLAR = 36;
const MINUS = 45;

/** Redis's wording for a negative decode result (the reply line, without the leading '-'). */
export function respProtocolError(code: number): { reply: string; message: string } {
  let what: string;
  switch (code) {
    case ERR_INVALID_MULTIBULK: what = 'invalid multibulk length'; break;
    case ERR_INVALID_BULK: what = 'invalid bulk length'; break;
    case ERR_TOO_BIG_INLINE: what = 'too big inline request'; break;
    case ERR_UNBALANCED: what = 'unbalanced quotes in request'; break;
    case ERR_TOO_BIG_MBULK_COUNT: what = 'too big mbulk count string'; break;
    case ERR_TOO_BIG_BULK_COUNT: what = 'too big bulk count string'; break;
    case ERR_UNAUTH_MULTIBULK: what = 'unauthenticated multibulk length'; break;
    case ERR_UNAUTH_BULK: what = 'unauthenticated bulk length'; break;
    default:
      what = code <= -ERR_EXPECTED_DOLLAR ? `expected '$', got '${String.fromCharCode(-code - ERR_EXPECTED_DOLLAR)}'` : 'unknown error';
  }
  return { reply: `ERR Protocol error: ${what}`, message: what };
}

// ---- decoding ------------------------------------------------------------------

/**
 * Where a multibulk request that arrived in part stopped: the offset (from the
 * request's first byte) of the next `$` line and how many bulk strings are
 * still to come. The strings parsed so far stay in args[0, count). Resuming from here
 * keeps a request's total parse cost O(request) however it is split — without
 * it a 1M-argument MSET arriving in 64 KiB reads would be re-parsed from the
 * start on every read.
 */
interface PartialRequest {
  off: number;
  left: number;
  /** Strings already in args[0, count). */
  count: number;
  /** Bytes looked at: off, or past the `$<len>` line of a bulk whose data is still arriving (CLIENT LIST's qbuf counts from there, as Redis). */
  seen: number;
}

/** The args array is per connection, so a partial request's state rides on it. */
const PARTIAL = Symbol('resp.partial');
type Args = string[] & { [PARTIAL]?: PartialRequest };

/** Set by readLineInt: index of the line's '\r', or -1 when the line is not complete. */
let lineCr = -1;

/**
 * Reads the integer of a `*<n>\r\n` / `$<n>\r\n` line whose digits start at p,
 * like Redis: the line runs to the first '\r', which must be followed by one
 * more byte; the number must satisfy string2ll (no '+', no leading zeros, no
 * "-0", int64 range). Returns the value (NaN if invalid) and sets lineCr;
 * lineCr = -1 means incomplete (the value is then meaningless).
 */
function readLineInt(buf: Buffer, p: number, end: number): number {
  let i = p;
  let neg = false;
  if (i < end && buf[i] === MINUS) {
    neg = true;
    i++;
  }
  const d0 = i;
  let v = 0;
  while (i < end) {
    const c = buf[i];
    if (c < 48 || c > 57) break;
    v = v * 10 + (c - 48);
    i++;
  }
  if (i < end && buf[i] !== CR) {
    // Not a digit: the number is invalid, but Redis says so only once the line is whole.
    const cr = buf.indexOf(CR, i);
    lineCr = cr >= 0 && cr + 2 <= end ? cr : -1;
    return NaN;
  }
  if (i + 2 > end) {
    lineCr = -1;
    return NaN;
  }
  lineCr = i;
  const digits = i - d0;
  if (digits === 0 || (buf[d0] === 48 && (digits > 1 || neg))) return NaN;
  if (digits >= 19) {
    // Near or past the int64 range: decide exactly (rare; every limit is far below).
    const big = BigInt(buf.latin1Slice(p, i));
    if (big > 9223372036854775807n || big < -9223372036854775808n) return NaN;
  }
  return neg ? -v : v;
}

/**
 * Bytes b[p, p+n) as a binary string. Short strings — command names, most
 * keys, small values — are built in JavaScript: String.fromCharCode with the
 * bytes as arguments costs ~15–40 ns, while a call into Buffer's native
 * latin1Slice costs ~100 ns, and a pipelined GET decodes two or three strings.
 */
export function binaryString(b: Buffer, p: number, n: number): string {
  switch (n) {
    case 0: return '';
    case 1: return String.fromCharCode(b[p]);
    case 2: return String.fromCharCode(b[p], b[p + 1]);
    case 3: return String.fromCharCode(b[p], b[p + 1], b[p + 2]);
    case 4: return String.fromCharCode(b[p], b[p + 1], b[p + 2], b[p + 3]);
    case 5: return String.fromCharCode(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4]);
    case 6: return String.fromCharCode(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5]);
    case 7: return String.fromCharCode(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6]);
    case 8: return String.fromCharCode(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7]);
    case 9: return String.fromCharCode(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8]);
    case 10: return String.fromCharCode(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8], b[p + 9]);
    case 11: return String.fromCharCode(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8], b[p + 9], b[p + 10]);
    case 12: return String.fromCharCode(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8], b[p + 9], b[p + 10], b[p + 11]);
    case 13: return String.fromCharCode(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8], b[p + 9], b[p + 10], b[p + 11], b[p + 12]);
    case 14: return String.fromCharCode(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8], b[p + 9], b[p + 10], b[p + 11], b[p + 12], b[p + 13]);
    case 15: return String.fromCharCode(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8], b[p + 9], b[p + 10], b[p + 11], b[p + 12], b[p + 13], b[p + 14]);
    case 16: return String.fromCharCode(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8], b[p + 9], b[p + 10], b[p + 11], b[p + 12], b[p + 13], b[p + 14], b[p + 15]);
    default: return b.latin1Slice(p, p + n);
  }
}

/** Names up to this long go through the name cache. */
const NAME_CACHE_MAX = 16;
/** Slot (length, first byte & 31) → the last name of that shape decoded (or ''). */
const NAME_CACHE: string[] = new Array<string>((NAME_CACHE_MAX + 1) * 32).fill('');

/**
 * A request's first argument (the command name) as a string: a pipelined
 * client sends the same few names over and over, so the last name of each
 * shape is kept and handed out again when the bytes match. That saves the
 * string's allocation, and its hash — computed once, on the first command
 * table lookup — stays with it, so each later lookup skips hashing it again.
 */
export function nameString(b: Buffer, p: number, n: number): string {
  if (n > NAME_CACHE_MAX || n === 0) return binaryString(b, p, n);
  const slot = n * 32 + (b[p] & 31);
  const s = NAME_CACHE[slot];
  if (s.length === n) {
    let i = 0;
    while (i < n && s.charCodeAt(i) === b[p + i]) i++;
    if (i === n) return s;
  }
  const t = binaryString(b, p, n);
  NAME_CACHE[slot] = t;
  return t;
}

/** Whether the bytes from p to end are more than a header line may be without its '\r'. */
function tooLongForALine(p: number, end: number): boolean {
  return end - p > MAX_INLINE;
}

/**
 * Decodes one request from buf[start, end) into args (binary strings).
 * Returns bytes consumed (> 0), 0 when incomplete, or a negative ERR_* code.
 * `*0`, `*-1` and empty inline lines consume bytes and leave args empty.
 */
export function decodeResp(buf: Buffer, start: number, end: number, args: string[], maxBulkLen = DEFAULT_MAX_BULK_LEN, unauthenticated = false): number {
  if (start >= end) return 0;
  // An unauthenticated client (requirepass set) gets Redis's small limits, with their own error.
  let overLimit = ERR_INVALID_BULK;
  if (unauthenticated && maxBulkLen > UNAUTH_MAX_BULK) {
    maxBulkLen = UNAUTH_MAX_BULK;
    overLimit = ERR_UNAUTH_BULK;
  }
  const partial = (args as Args)[PARTIAL];
  if (partial !== undefined && partial.left > 0) {
    return decodeBulks(buf, start, start + partial.off, end, partial.left, partial.count, args as Args, maxBulkLen, overLimit);
  }
  if (buf[start] !== STAR) return decodeInline(buf, start, end, args);
  const n = readLineInt(buf, start + 1, end);
  if (lineCr < 0) return tooLongForALine(start, end) ? ERR_TOO_BIG_MBULK_COUNT : 0;
  if (!(n <= MAX_MULTIBULK)) return ERR_INVALID_MULTIBULK; // also NaN
  if (unauthenticated && n > UNAUTH_MAX_MULTIBULK) return ERR_UNAUTH_MULTIBULK;
  const p = lineCr + 2;
  if (n <= 0) {
    args.length = 0;
    return p - start; // an empty request: nothing to run
  }
  return decodeBulks(buf, start, p, end, n, 0, args as Args, maxBulkLen, overLimit);
}

/** Reads `left` more bulk strings starting at p; the request began at start. */
function decodeBulks(buf: Buffer, start: number, p: number, end: number, left: number, count: number, args: Args, maxBulkLen: number, overLimit: number): number {
  while (left > 0) {
    if (p >= end) return incomplete(start, p, left, count, args);
    if (buf[p] !== DOLLAR) {
      // Redis looks for the line's '\r' before it checks the '$'.
      const cr = buf.indexOf(CR, p);
      if (cr < 0 || cr + 2 > end) return tooLongForALine(p, end) ? ERR_TOO_BIG_BULK_COUNT : incomplete(start, p, left, count, args);
      return -(ERR_EXPECTED_DOLLAR + buf[p]);
    }
    const len = readLineInt(buf, p + 1, end);
    if (lineCr < 0) return tooLongForALine(p, end) ? ERR_TOO_BIG_BULK_COUNT : incomplete(start, p, left, count, args);
    if (!(len >= 0 && len <= maxBulkLen)) return len > maxBulkLen ? overLimit : ERR_INVALID_BULK; // also NaN
    const data = lineCr + 2;
    // The string and its trailing CRLF must all be here (Redis skips the CRLF unchecked).
    if (end - data < len + 2) return incomplete(start, p, left, count, args, data);
    if (len > MAX_STRING_LENGTH) return ERR_INVALID_BULK; // arrived, but no JS string can hold it
    args[count] = count === 0 ? nameString(buf, data, len) : binaryString(buf, data, len);
    count++;
    p = data + len + 2;
    left--;
  }
  // Filled by index, then cut to size: no args.length = 0 per request, which
  // would drop the array's backing store and make every request reallocate it.
  if (args.length !== count) args.length = count;
  const partial = args[PARTIAL];
  if (partial !== undefined) partial.left = 0;
  return p - start;
}

/** Where a partly received multibulk request stands: bytes parsed, and the bytes of its parsed arguments. */
export function partialRequest(args: string[]): { parsed: number; argvBytes: number } | null {
  const partial = (args as Args)[PARTIAL];
  if (partial === undefined || partial.left === 0) return null;
  let argvBytes = 0;
  for (let i = 0; i < partial.count; i++) argvBytes += args[i].length;
  return { parsed: partial.seen, argvBytes };
}

/** Remembers where a multibulk request stopped, so that the next call resumes there. */
function incomplete(start: number, p: number, left: number, count: number, args: Args, data = p): number {
  let partial = args[PARTIAL];
  if (partial === undefined) partial = args[PARTIAL] = { off: 0, left: 0, count: 0, seen: 0 };
  partial.off = p - start;
  partial.seen = data - start;
  partial.left = left;
  partial.count = count;
  return 0;
}

/** Redis's isspace(): space, \t, \n, \v, \f, \r. */
function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/** An inline request: one line split into arguments like sdssplitargs. */
function decodeInline(buf: Buffer, start: number, end: number, args: string[]): number {
  const nl = buf.indexOf(LF, start);
  if (nl < 0 || nl >= end) return end - start > MAX_INLINE ? ERR_TOO_BIG_INLINE : 0;
  const lineEnd = nl > start && buf[nl - 1] === CR ? nl - 1 : nl;
  args.length = 0;
  if (!splitArgs(buf, start, lineEnd, args)) return ERR_UNBALANCED;
  return nl + 1 - start;
}

/**
 * sdssplitargs over buf[p, end): blanks separate arguments; "double quotes"
 * take \n \r \t \b \a \xHH and \<c> escapes; 'single quotes' take \'; a
 * closing quote must be followed by a blank or the end. A NUL byte ends the
 * line, as it ends the C string Redis splits. Returns false on unbalanced quotes.
 */
export function splitArgs(buf: Buffer, p: number, end: number, args: string[]): boolean {
  for (;;) {
    while (p < end && buf[p] !== 0 && isSpace(buf[p])) p++;
    if (p >= end || buf[p] === 0) return true;
    // The common case: a token without quotes is one slice of the buffer.
    const t0 = p;
    while (p < end) {
      const c = buf[p];
      if (c === 32 || c === 10 || c === 13 || c === 9 || c === 0 || c === 34 || c === 39) break;
      p++;
    }
    if (p >= end || (buf[p] !== 34 && buf[p] !== 39)) {
      args.push(buf.latin1Slice(t0, p));
      continue;
    }
    // Quotes inside this token: build it byte by byte, as sdssplitargs does.
    let cur = buf.latin1Slice(t0, p);
    let inq = false;
    let insq = false;
    let done = false;
    while (!done) {
      const c = p < end ? buf[p] : 0;
      const next = p + 1 < end ? buf[p + 1] : 0;
      if (inq) {
        if (c === 92 && next === 120 && p + 3 < end && isHex(buf[p + 2]) && isHex(buf[p + 3])) {
          cur += String.fromCharCode(hexVal(buf[p + 2]) * 16 + hexVal(buf[p + 3]));
          p += 3;
        } else if (c === 92 && next !== 0) {
          p++;
          cur += String.fromCharCode(unescape(next));
        } else if (c === 34) {
          if (next !== 0 && !isSpace(next)) return false;
          done = true;
        } else if (c === 0) {
          return false;
        } else {
          cur += String.fromCharCode(c);
        }
      } else if (insq) {
        if (c === 92 && next === 39) {
          p++;
          cur += "'";
        } else if (c === 39) {
          if (next !== 0 && !isSpace(next)) return false;
          done = true;
        } else if (c === 0) {
          return false;
        } else {
          cur += String.fromCharCode(c);
        }
      } else if (c === 32 || c === 10 || c === 13 || c === 9 || c === 0) {
        done = true;
      } else if (c === 34) {
        inq = true;
      } else if (c === 39) {
        insq = true;
      } else {
        cur += String.fromCharCode(c);
      }
      if (c !== 0) p++;
    }
    args.push(cur);
  }
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

function hexVal(c: number): number {
  return c <= 57 ? c - 48 : (c | 32) - 87;
}

function unescape(c: number): number {
  switch (c) {
    case 110: return 10; // \n
    case 114: return 13; // \r
    case 116: return 9; // \t
    case 98: return 8; // \b
    case 97: return 7; // \a
    default: return c;
  }
}

// ---- encoding replies -----------------------------------------------------------

/** Below this length a JS byte loop beats the call into Buffer's native latin1 writer. */
const SHORT_STRING = 24;

/** Writes s (one char per byte) at b[p]; returns the end offset. */
function putString(b: Buffer, p: number, s: string): number {
  const n = s.length;
  if (n < SHORT_STRING) {
    for (let i = 0; i < n; i++) b[p + i] = s.charCodeAt(i);
    return p + n;
  }
  return p + b.latin1Write(s, p, n);
}

/** Writes a non-negative safe integer in decimal at b[p]; returns the end offset. */
function putUint(b: Buffer, p: number, v: number): number {
  if (v < 10) {
    b[p] = 48 + v;
    return p + 1;
  }
  let digits = 1;
  for (let t = v; t >= 10; t = Math.floor(t / 10)) digits++;
  let q = p + digits;
  for (let t = v; q > p; t = Math.floor(t / 10)) b[--q] = 48 + (t % 10);
  return p + digits;
}

/** `<type byte><integer>\r\n` at the end of out (the caller has reserved 24 bytes). */
function putHeader(out: ByteBuffer, type: number, n: number): void {
  const b = out.buf;
  let p = out.end;
  b[p++] = type;
  if (n < 0) {
    b[p++] = MINUS;
    n = -n;
  }
  p = putUint(b, p, n);
  b[p] = CR;
  b[p + 1] = LF;
  out.end = p + 2;
}

/** The version of a client that never sent HELLO 3. */
const RESP2: RespVersion = { resp: 2 };

const PERCENT = 37; // '%' map
const TILDE = 126; // '~' set
const GT = 62; // '>' push
const COMMA = 44; // ',' double
const UNDERSCORE = 95; // '_' null
const HASH = 35; // '#' boolean
const EQUALS = 61; // '=' verbatim string
const LPAREN = 40; // '(' big number

/**
 * Encodes replies as RESP2 or RESP3 straight into the connection's outgoing
 * buffer: no Buffer per reply, headers written as bytes. Error lines get
 * Redis's treatment: a CR or LF inside becomes a space, so a reply stays one
 * line.
 *
 * The version is the client's (begin's second argument), read again by each
 * method whose encoding differs — nil, nilArr, dbl and the RESP3 shapes — so
 * that HELLO's reply, and the replies after a HELLO inside EXEC, follow the
 * switch as Redis's do. str, int, status, arr and err are the same bytes in
 * both versions and never look: RESP2's hot path (GET, SET) is unchanged.
 */
export class RespWriter implements WireWriter {
  private out!: ByteBuffer;
  private version: RespVersion = RESP2;

  begin(out: ByteBuffer, version: RespVersion = RESP2): void {
    this.out = out;
    this.version = version;
  }

  end(): void {}

  nil(): void {
    const out = this.out;
    out.reserve(5);
    const b = out.buf;
    const p = out.end;
    if (this.version.resp === 3) {
      b[p] = UNDERSCORE;
      b[p + 1] = CR;
      b[p + 2] = LF;
      out.end = p + 3;
      return;
    }
    b[p] = DOLLAR;
    b[p + 1] = MINUS;
    b[p + 2] = 49;
    b[p + 3] = CR;
    b[p + 4] = LF;
    out.end = p + 5;
  }

  errorSink: ((msg: string) => void) | null = null;

  err(_code: ErrCode, msg: string): void {
    if (this.errorSink !== null) this.errorSink(msg);
    if (msg.indexOf('\r') >= 0 || msg.indexOf('\n') >= 0) msg = msg.replace(/[\r\n]/g, ' ');
    this.line(MINUS, msg);
  }

  str(s: string): void {
    const out = this.out;
    const n = s.length;
    out.reserve(n + 24);
    const b = out.buf;
    let p = out.end;
    if (n < 100) {
      // The usual bulk header, `$<1 or 2 digits>\r\n`, written directly.
      b[p] = DOLLAR;
      if (n < 10) {
        b[p + 1] = 48 + n;
        p += 2;
      } else {
        const tens = (n / 10) | 0;
        b[p + 1] = 48 + tens;
        b[p + 2] = 48 + (n - tens * 10);
        p += 3;
      }
      b[p] = CR;
      b[p + 1] = LF;
      p += 2;
    } else {
      putHeader(out, DOLLAR, n);
      p = out.end;
    }
    p = putString(b, p, s);
    b[p] = CR;
    b[p + 1] = LF;
    out.end = p + 2;
  }

  bytes(src: Uint8Array, n: number): void {
    const out = this.out;
    out.reserve(n + 24);
    putHeader(out, DOLLAR, n);
    const b = out.buf;
    const p = out.end;
    b.set(n === src.length ? src : src.subarray(0, n), p);
    b[p + n] = CR;
    b[p + n + 1] = LF;
    out.end = p + n + 2;
  }

  status(s: string): void {
    this.line(43, s); // '+'
  }

  int(n: number | bigint): void {
    if (typeof n === 'number' && Number.isSafeInteger(n)) {
      this.out.reserve(24);
      putHeader(this.out, 58, n); // ':'
    } else {
      this.line(58, String(toInt64(n)));
    }
  }

  /** RESP2: a bulk string; RESP3: `,` — both Redis 7.0's `%.17g`, and inf/-inf/nan. */
  dbl(d: number): void {
    if (this.version.resp === 3) this.line(COMMA, formatDouble17g(d));
    else this.str(formatDouble17g(d));
  }

  dblText(_d: number, text: string): void {
    if (this.version.resp === 3) this.line(COMMA, text);
    else this.str(text);
  }

  arr(n: number): void {
    this.out.reserve(24);
    putHeader(this.out, STAR, n);
  }

  nilArr(): void {
    if (this.version.resp === 3) return this.nil();
    this.out.reserve(5);
    putHeader(this.out, STAR, -1);
  }

  map(n: number): void {
    this.out.reserve(24);
    if (this.version.resp === 3) putHeader(this.out, PERCENT, n);
    else putHeader(this.out, STAR, 2 * n);
  }

  set(n: number): void {
    this.out.reserve(24);
    putHeader(this.out, this.version.resp === 3 ? TILDE : STAR, n);
  }

  bool(v: boolean): void {
    if (this.version.resp === 3) this.line(HASH, v ? 't' : 'f');
    else this.int(v ? 1 : 0);
  }

  verbatim(format: string, text: string): void {
    if (this.version.resp !== 3) return this.str(text);
    const out = this.out;
    const n = format.length + 1 + text.length; // "txt:" and the text
    out.reserve(n + 24);
    putHeader(out, EQUALS, n);
    const b = out.buf;
    let p = putString(b, out.end, format);
    b[p++] = 58; // ':'
    p = putString(b, p, text);
    b[p] = CR;
    b[p + 1] = LF;
    out.end = p + 2;
  }

  bigNumber(digits: string): void {
    if (this.version.resp === 3) this.line(LPAREN, digits);
    else this.str(digits);
  }

  push(n: number): void {
    this.out.reserve(24);
    putHeader(this.out, this.version.resp === 3 ? GT : STAR, n);
  }

  pairs(n: number): void {
    this.out.reserve(24);
    putHeader(this.out, STAR, this.version.resp === 3 ? n : 2 * n);
  }

  pair(): void {
    if (this.version.resp !== 3) return;
    this.out.reserve(4);
    putHeader(this.out, STAR, 2);
  }

  private line(type: number, s: string): void {
    const out = this.out;
    out.reserve(s.length + 3);
    const b = out.buf;
    b[out.end] = type;
    const p = putString(b, out.end + 1, s);
    b[p] = CR;
    b[p + 1] = LF;
    out.end = p + 2;
  }
}

/**
 * A RESP codec for one server: its decoder enforces `limits.protoMaxBulkLen`
 * (read on every request, so CONFIG SET takes effect at once), and it makes
 * writers for replies (one shared) and for output written into a client from
 * elsewhere (createWriter: pub/sub messages, a blocked client's late reply).
 */
export function createRespCodec(limits: { readonly protoMaxBulkLen: number }) {
  return {
    name: 'resp' as const,
    decode(buf: Buffer, start: number, end: number, args: string[], unauthenticated = false): number {
      return decodeResp(buf, start, end, args, limits.protoMaxBulkLen, unauthenticated);
    },
    protocolError: respProtocolError,
    partial: partialRequest,
    writer: new RespWriter(),
    createWriter: () => new RespWriter(),
  };
}

/** A RESP codec with the default limits (tools and tests). */
export const respCodec = createRespCodec({ protoMaxBulkLen: DEFAULT_MAX_BULK_LEN });

// ---- client side: requests out, replies in (tests and tools) -------------------

/** Encodes a command as a RESP multibulk array. Strings are sent as UTF-8. */
export function encodeCommand(args: readonly (string | Uint8Array)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`, 'latin1')];
  for (const a of args) {
    const bytes = typeof a === 'string' ? Buffer.from(a, 'utf8') : Buffer.from(a);
    parts.push(Buffer.from(`$${bytes.length}\r\n`, 'latin1'), bytes, Buffer.from('\r\n', 'latin1'));
  }
  return Buffer.concat(parts);
}

/**
 * A parsed RESP2 or RESP3 reply. Bulk strings stay bytes; RESP2's null bulk is
 * `value: null` and its null array `items: null`; RESP3's null is its own type.
 * A map's items are flat: key, value, key, value, …
 */
export type RespReply =
  | { type: 'status'; value: string }
  | { type: 'error'; value: string }
  | { type: 'int'; value: bigint }
  | { type: 'bulk'; value: Buffer | null }
  | { type: 'array'; items: RespReply[] | null }
  | { type: 'null' }
  | { type: 'bool'; value: boolean }
  | { type: 'double'; value: string }
  | { type: 'bignum'; value: string }
  | { type: 'verbatim'; format: string; value: Buffer }
  | { type: 'map' | 'set' | 'push'; items: RespReply[] };

/**
 * Parses one reply from buf[start, end): the reply and its size in bytes, or
 * null when incomplete. Throws on bytes that are neither RESP2 nor RESP3 (an
 * attribute `|` included: Redis 7.0 sends none).
 */
export function parseReply(buf: Buffer, start = 0, end = buf.length): { reply: RespReply; size: number } | null {
  const r = parseAt(buf, start, end);
  return r === null ? null : { reply: r[0], size: r[1] - start };
}

/** n values from p on, or null when incomplete. */
function parseItems(buf: Buffer, p: number, end: number, n: number): [RespReply[], number] | null {
  const items: RespReply[] = [];
  for (let i = 0; i < n; i++) {
    const r = parseAt(buf, p, end);
    if (r === null) return null;
    items.push(r[0]);
    p = r[1];
  }
  return [items, p];
}

function parseAt(buf: Buffer, p: number, end: number): [RespReply, number] | null {
  const cr = buf.indexOf('\r\n', p, 'latin1');
  if (cr < 0 || cr + 2 > end) return null;
  const type = buf[p];
  const line = buf.latin1Slice(p + 1, cr);
  const next = cr + 2;
  switch (type) {
    case 43: return [{ type: 'status', value: line }, next];
    case MINUS: return [{ type: 'error', value: line }, next];
    case 58: return [{ type: 'int', value: BigInt(line) }, next];
    case UNDERSCORE: return [{ type: 'null' }, next];
    case HASH: return [{ type: 'bool', value: line === 't' }, next];
    case COMMA: return [{ type: 'double', value: line }, next];
    case LPAREN: return [{ type: 'bignum', value: line }, next];
    case DOLLAR:
    case EQUALS:
    case 33: { // '!' blob error
      const n = Number(line);
      if (n < 0) return [{ type: 'bulk', value: null }, next];
      if (end - next < n + 2) return null;
      const bytes = Buffer.from(buf.subarray(next, next + n));
      if (type === DOLLAR) return [{ type: 'bulk', value: bytes }, next + n + 2];
      if (type === EQUALS) return [{ type: 'verbatim', format: bytes.latin1Slice(0, 3), value: bytes.subarray(4) }, next + n + 2];
      return [{ type: 'error', value: bytes.toString('latin1') }, next + n + 2];
    }
    case STAR: {
      const n = Number(line);
      if (n < 0) return [{ type: 'array', items: null }, next];
      const r = parseItems(buf, next, end, n);
      return r === null ? null : [{ type: 'array', items: r[0] }, r[1]];
    }
    case PERCENT:
    case TILDE:
    case GT: {
      const n = Number(line);
      const r = parseItems(buf, next, end, type === PERCENT ? 2 * n : n);
      return r === null ? null : [{ type: type === PERCENT ? 'map' : type === TILDE ? 'set' : 'push', items: r[0] }, r[1]];
    }
    default:
      throw new Error(`not a RESP reply: type byte ${type}`);
  }
}

/** Formats a reply the way redis-cli prints it (tests and tools). */
export function formatReply(r: RespReply, indent = ''): string {
  const list = (items: RespReply[], mark: string) =>
    items.length === 0 ? '(empty array)' : items.map((it, i) => `${indent}${i + 1}${mark} ${formatReply(it, indent + '   ')}`).join('\n');
  switch (r.type) {
    case 'status': return r.value;
    case 'error': return `(error) ${r.value}`;
    case 'int': return `(integer) ${r.value}`;
    case 'bulk': return r.value === null ? '(nil)' : JSON.stringify(r.value.toString('latin1'));
    case 'null': return '(nil)';
    case 'bool': return r.value ? '(true)' : '(false)';
    case 'double': return `(double) ${r.value}`;
    case 'bignum': return `(big number) ${r.value}`;
    case 'verbatim': return JSON.stringify(r.value.toString('latin1'));
    case 'array': return r.items === null ? '(nil)' : list(r.items, ')');
    case 'set': return list(r.items, '~');
    case 'push': return list(r.items, '>');
    case 'map': {
      if (r.items.length === 0) return '(empty hash)';
      const lines: string[] = [];
      for (let i = 0; i < r.items.length; i += 2) {
        lines.push(`${indent}${i / 2 + 1}# ${formatReply(r.items[i], indent + '   ')} => ${formatReply(r.items[i + 1], indent + '   ')}`);
      }
      return lines.join('\n');
    }
  }
}
