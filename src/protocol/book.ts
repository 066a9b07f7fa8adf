// The book's binary protocol. All integers little-endian.
//   message:  [u32 len][payload], len ≤ K_MAX_MSG
//   request:  [u32 nstr] then nstr × ([u32 len][bytes]), nstr ≤ K_MAX_ARGS
//   response: one tagged value: nil | err(code, msg) | str | int(i64) | dbl(f64) | arr(n, values…)
// Decoding is incremental: "incomplete" is an ordinary result (0), not an
// error; nothing is allocated by a client-declared count before its bytes arrive.

import type { ByteBuffer } from '../loop/buffer.js';
import { ErrCode, toInt64, type ReplyWriter } from './reply.js';
import { binaryString } from './resp.js';

export const K_MAX_MSG = 32 << 20;
export const K_MAX_ARGS = 200_000;

export const TAG_NIL = 0;
export const TAG_ERR = 1;
export const TAG_STR = 2;
export const TAG_INT = 3;
export const TAG_DBL = 4;
export const TAG_ARR = 5;

/** decodeRequest results below zero: the connection must be closed. */
export const ERR_TOO_LONG = -1;
export const ERR_TOO_MANY_ARGS = -2;
export const ERR_MALFORMED = -3;

export function decodeErrorMessage(code: number): string {
  switch (code) {
    case ERR_TOO_LONG: return `message longer than ${K_MAX_MSG} bytes`;
    case ERR_TOO_MANY_ARGS: return `more than ${K_MAX_ARGS} strings in a request`;
    default: return 'malformed request (a string runs past the payload, or bytes are left over)';
  }
}

/** A little-endian u32 at b[p] (the caller checked the 4 bytes are there). */
function u32(b: Buffer, p: number): number {
  return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16)) + b[p + 3] * 0x1000000;
}

/** A frame found broken after some strings were decoded leaves no half-filled args behind. */
function malformed(args: string[]): number {
  args.length = 0;
  return ERR_MALFORMED;
}

/**
 * Decodes one request from buf[start, end). On success fills `args` (binary
 * strings) and returns the bytes consumed (> 0). Returns 0 when the message is
 * not complete yet, or a negative ERR_* when the connection must be closed.
 */
export function decodeRequest(buf: Buffer, start: number, end: number, args: string[]): number {
  if (end - start < 4) return 0;
  const len = u32(buf, start);
  if (len > K_MAX_MSG) return ERR_TOO_LONG;
  if (end - start < 4 + len) return 0;
  const stop = start + 4 + len;
  let p = start + 4;
  if (len < 4) return ERR_MALFORMED;
  const nstr = u32(buf, p);
  p += 4;
  if (nstr > K_MAX_ARGS) return ERR_TOO_MANY_ARGS;
  // Each string needs at least its 4-byte length: reject impossible counts
  // before building anything.
  if (nstr > (stop - p) / 4) return ERR_MALFORMED;
  for (let i = 0; i < nstr; i++) {
    if (stop - p < 4) return malformed(args);
    const sl = u32(buf, p);
    p += 4;
    if (sl > stop - p) return malformed(args);
    // binaryString builds short strings in JavaScript: cheaper than a call
    // into Buffer's native latin1Slice for command names and most keys.
    args[i] = binaryString(buf, p, sl);
    p += sl;
  }
  if (p !== stop) return malformed(args);
  // Set by index and trimmed once: the array is reused for every request.
  if (args.length !== nstr) args.length = nstr;
  return 4 + len;
}

/** Encodes a request (client side and tests). */
export function encodeRequest(args: readonly (string | Uint8Array)[]): Buffer {
  const parts = args.map((a) => (typeof a === 'string' ? Buffer.from(a, 'utf8') : Buffer.from(a)));
  let len = 4;
  for (const p of parts) len += 4 + p.length;
  const out = Buffer.allocUnsafe(4 + len);
  out.writeUInt32LE(len, 0);
  out.writeUInt32LE(parts.length, 4);
  let off = 8;
  for (const p of parts) {
    out.writeUInt32LE(p.length, off);
    off += 4;
    p.copy(out, off);
    off += p.length;
  }
  return out;
}

const TWO32 = 2 ** 32;

/** Strings up to this length are copied into the output in JavaScript. */
const SHORT_STRING = 32;

/**
 * Writes book-protocol responses into a ByteBuffer. begin() reserves the
 * 4-byte length prefix, end() patches it in; a response over K_MAX_MSG is
 * replaced by err 2 (too big), as the book does.
 */
export class BookWriter implements ReplyWriter {
  private out!: ByteBuffer;
  /** Offset of the length prefix, relative to out.start (moves survive compaction). */
  private hdr = 0;

  begin(out: ByteBuffer): void {
    this.out = out;
    out.reserve(4);
    this.hdr = out.end - out.start;
    out.end += 4;
  }

  end(): void {
    const out = this.out;
    const at = out.start + this.hdr;
    let len = out.end - at - 4;
    if (len > K_MAX_MSG) {
      out.end = at + 4;
      this.err(ErrCode.TooBig, 'response is too big');
      len = out.end - at - 4;
    }
    out.buf.writeUInt32LE(len, out.start + this.hdr);
  }

  nil(): void {
    const out = this.out;
    out.reserve(1);
    out.buf[out.end++] = TAG_NIL;
  }

  errorSink: ((msg: string) => void) | null = null;

  err(code: ErrCode, msg: string): void {
    if (this.errorSink !== null) this.errorSink(msg);
    const out = this.out;
    out.reserve(9 + msg.length);
    const b = out.buf;
    b[out.end] = TAG_ERR;
    b.writeUInt32LE(code, out.end + 1);
    b.writeUInt32LE(msg.length, out.end + 5);
    b.latin1Write(msg, out.end + 9, msg.length);
    out.end += 9 + msg.length;
  }

  str(s: string): void {
    const out = this.out;
    const n = s.length;
    out.reserve(5 + n);
    const b = out.buf;
    const p = out.end;
    b[p] = TAG_STR;
    b.writeUInt32LE(n, p + 1);
    // Short values byte by byte: a native latin1Write call costs more than the copy.
    if (n <= SHORT_STRING) for (let i = 0; i < n; i++) b[p + 5 + i] = s.charCodeAt(i);
    else b.latin1Write(s, p + 5, n);
    out.end = p + 5 + n;
  }

  bytes(src: Uint8Array, n: number): void {
    const out = this.out;
    out.reserve(5 + n);
    const b = out.buf;
    const p = out.end;
    b[p] = TAG_STR;
    b.writeUInt32LE(n, p + 1);
    b.set(n === src.length ? src : src.subarray(0, n), p + 5);
    out.end = p + 5 + n;
  }

  status(s: string): void {
    this.str(s);
  }

  int(n: number | bigint): void {
    const out = this.out;
    out.reserve(9);
    const b = out.buf;
    b[out.end] = TAG_INT;
    if (typeof n === 'bigint' || !Number.isSafeInteger(n)) {
      b.writeBigInt64LE(toInt64(n), out.end + 1);
    } else {
      const hi = Math.floor(n / TWO32);
      b.writeUInt32LE(n - hi * TWO32, out.end + 1);
      b.writeInt32LE(hi, out.end + 5);
    }
    out.end += 9;
  }

  dbl(d: number): void {
    const out = this.out;
    out.reserve(9);
    out.buf[out.end] = TAG_DBL;
    out.buf.writeDoubleLE(d, out.end + 1);
    out.end += 9;
  }

  dblText(d: number, _text: string): void {
    this.dbl(d);
  }

  arr(n: number): void {
    const out = this.out;
    out.reserve(5);
    out.buf[out.end] = TAG_ARR;
    out.buf.writeUInt32LE(n, out.end + 1);
    out.end += 5;
  }

  nilArr(): void {
    this.nil();
  }

  // The RESP3 shapes on the book's six tags, as RESP2 flattens them.

  map(n: number): void {
    this.arr(2 * n);
  }

  set(n: number): void {
    this.arr(n);
  }

  bool(b: boolean): void {
    this.int(b ? 1 : 0);
  }

  verbatim(_format: string, text: string): void {
    this.str(text);
  }

  bigNumber(digits: string): void {
    this.str(digits);
  }

  push(n: number): void {
    this.arr(n);
  }

  pairs(n: number): void {
    this.arr(2 * n);
  }

  pair(): void {}
}

/** A decoded response value (client side and tests). */
export type BookValue =
  | { type: 'nil' }
  | { type: 'err'; code: number; msg: string }
  | { type: 'str'; value: Buffer }
  | { type: 'int'; value: bigint }
  | { type: 'dbl'; value: number }
  | { type: 'arr'; items: BookValue[] };

/**
 * Decodes one response message from buf[start, end): the value and the bytes
 * consumed, or null when incomplete. Throws on a malformed response.
 */
export function decodeResponse(buf: Buffer, start = 0, end = buf.length): { value: BookValue; size: number } | null {
  if (end - start < 4) return null;
  const len = buf.readUInt32LE(start);
  if (end - start < 4 + len) return null;
  const stop = start + 4 + len;
  const [value, p] = decodeValue(buf, start + 4, stop);
  if (p !== stop) throw new Error('malformed response: trailing bytes');
  return { value, size: 4 + len };
}

function need(p: number, n: number, stop: number): void {
  if (stop - p < n) throw new Error('malformed response: value runs past the message');
}

function decodeValue(buf: Buffer, p: number, stop: number): [BookValue, number] {
  need(p, 1, stop);
  const tag = buf[p++];
  switch (tag) {
    case TAG_NIL:
      return [{ type: 'nil' }, p];
    case TAG_ERR: {
      need(p, 8, stop);
      const code = buf.readUInt32LE(p);
      const n = buf.readUInt32LE(p + 4);
      need(p + 8, n, stop);
      return [{ type: 'err', code, msg: buf.toString('utf8', p + 8, p + 8 + n) }, p + 8 + n];
    }
    case TAG_STR: {
      need(p, 4, stop);
      const n = buf.readUInt32LE(p);
      need(p + 4, n, stop);
      return [{ type: 'str', value: Buffer.from(buf.subarray(p + 4, p + 4 + n)) }, p + 4 + n];
    }
    case TAG_INT:
      need(p, 8, stop);
      return [{ type: 'int', value: buf.readBigInt64LE(p) }, p + 8];
    case TAG_DBL:
      need(p, 8, stop);
      return [{ type: 'dbl', value: buf.readDoubleLE(p) }, p + 8];
    case TAG_ARR: {
      need(p, 4, stop);
      const n = buf.readUInt32LE(p);
      p += 4;
      const items: BookValue[] = [];
      for (let i = 0; i < n; i++) {
        const [v, q] = decodeValue(buf, p, stop);
        items.push(v);
        p = q;
      }
      return [{ type: 'arr', items }, p];
    }
    default:
      throw new Error(`malformed response: unknown tag ${tag}`);
  }
}

/** printf("%g")-style formatting of a double, as the book's client prints it. */
export function formatG(d: number): string {
  if (Number.isNaN(d)) return 'nan';
  if (!Number.isFinite(d)) return d > 0 ? 'inf' : '-inf';
  if (d === 0) return Object.is(d, -0) ? '-0' : '0';
  const exp = Math.floor(Math.log10(Math.abs(d)));
  if (exp < -4 || exp >= 6) {
    let [m, e] = d.toExponential(5).split('e');
    if (m.includes('.')) m = m.replace(/0+$/, '').replace(/\.$/, '');
    const en = Number(e);
    return `${m}e${en < 0 ? '-' : '+'}${String(Math.abs(en)).padStart(2, '0')}`;
  }
  let s = d.toFixed(Math.max(0, 5 - exp));
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
  return s;
}

/** The book client's output format: one line per value, arrays bracketed. */
export function formatValue(v: BookValue, lines: string[] = []): string[] {
  switch (v.type) {
    case 'nil': lines.push('(nil)'); break;
    case 'err': lines.push(`(err) ${v.code} ${v.msg}`); break;
    case 'str': lines.push(`(str) ${v.value.toString('utf8')}`); break;
    case 'int': lines.push(`(int) ${v.value}`); break;
    case 'dbl': lines.push(`(dbl) ${formatG(v.value)}`); break;
    case 'arr':
      lines.push(`(arr) len=${v.items.length}`);
      for (const item of v.items) formatValue(item, lines);
      lines.push('(arr) end');
      break;
  }
  return lines;
}

/** The book protocol as a Codec for the server's sessions. */
export const bookCodec = {
  name: 'book' as const,
  decode: decodeRequest,
  protocolError(code: number): { reply: string | null; message: string } {
    // The book's answer to a broken frame is to close the connection, silently.
    return { reply: null, message: decodeErrorMessage(code) };
  },
  writer: new BookWriter(),
  createWriter: () => new BookWriter(),
};
