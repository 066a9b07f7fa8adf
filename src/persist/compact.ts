// The compact encodings Redis keeps small values in, and writes into RDB
// files as one string blob each: listpack (Redis 7: hashes, sorted sets, list
// nodes), ziplist (older files), intset (sets of integers). Encoders build the
// bytes redis-server 7.0 builds for the same elements; decoders validate every
// length and bound (a blob comes from a file or a client) and throw
// CompactError with the offset inside the blob.

/** A malformed blob; `at` is the byte offset within it. */
export class CompactError extends Error {
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(message);
  }
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * s as an int64 if it is one in canonical form (Redis's string2ll and
 * lpStringToInt64: optional '-', no leading zeros, no '+', not "-0", at most
 * 20 characters); null otherwise. Beyond ±2^53 the value is a bigint.
 */
export function canonicalInt(s: string): number | bigint | null {
  const n = s.length;
  if (n === 0 || n > 20) return null;
  let i = 0;
  if (s.charCodeAt(0) === 45) {
    if (n === 1) return null;
    i = 1;
  }
  const first = s.charCodeAt(i);
  if (first === 48) return n === 1 ? 0 : null; // "0" only: no leading zeros, no "-0"
  if (first < 49 || first > 57) return null;
  for (let k = i + 1; k < n; k++) {
    const c = s.charCodeAt(k);
    if (c < 48 || c > 57) return null;
  }
  if (n < 16) return Number(s);
  const b = BigInt(s);
  if (b < INT64_MIN || b > INT64_MAX) return null;
  return Number.isSafeInteger(Number(b)) ? Number(b) : b;
}

const latin1 = (b: Uint8Array, start: number, end: number): string =>
  Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('latin1');

// ---------------------------------------------------------------- listpack

/** Listpack entry encodings (the first byte). */
const LP_7BIT_UINT = 0x00;
const LP_6BIT_STR = 0x80;
const LP_13BIT_INT = 0xc0;
const LP_12BIT_STR = 0xe0;
const LP_32BIT_STR = 0xf0;
const LP_16BIT_INT = 0xf1;
const LP_24BIT_INT = 0xf2;
const LP_32BIT_INT = 0xf3;
const LP_64BIT_INT = 0xf4;
const LP_EOF = 0xff;
const LP_HDR_SIZE = 6;
/** The element count in the header when there are this many or more (then it must be counted). */
const LP_NUMELE_UNKNOWN = 0xffff;

/** Bytes of a listpack entry's encoding + data for s (without the back-length). */
function lpEntrySize(s: string, v: number | bigint | null): number {
  if (v !== null) {
    if (typeof v === 'bigint') return 9;
    if (v >= 0 && v <= 127) return 1;
    if (v >= -4096 && v <= 4095) return 2;
    if (v >= -32768 && v <= 32767) return 3;
    if (v >= -8388608 && v <= 8388607) return 4;
    if (v >= -2147483648 && v <= 2147483647) return 5;
    return 9;
  }
  const n = s.length;
  return n < 64 ? 1 + n : n < 4096 ? 2 + n : 5 + n;
}

/** Bytes lpEncodeBacklen takes for an entry of l bytes. */
function backlenSize(l: number): number {
  return l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;
}

/** Builds a listpack of elements (strings; canonical integers are stored as integers, as lpAppend does). */
export class ListpackBuilder {
  private parts: { s: string; v: number | bigint | null; size: number }[] = [];
  /** Total bytes so far, header and end byte included (lpBytes). */
  bytes = LP_HDR_SIZE + 1;

  get count(): number {
    return this.parts.length;
  }

  add(s: string): void {
    const v = canonicalInt(s);
    const size = lpEntrySize(s, v);
    this.parts.push({ s, v, size });
    this.bytes += size + backlenSize(size);
  }

  build(): Uint8Array {
    const out = new Uint8Array(this.bytes);
    const buf = Buffer.from(out.buffer, out.byteOffset, out.byteLength);
    buf.writeUInt32LE(this.bytes, 0);
    buf.writeUInt16LE(Math.min(this.parts.length, LP_NUMELE_UNKNOWN), 4);
    let p = LP_HDR_SIZE;
    for (const { s, v, size } of this.parts) {
      const start = p;
      if (v !== null) {
        if (size === 1) out[p++] = v as number;
        else if (size === 2) {
          const u = (v as number) < 0 ? (1 << 13) + (v as number) : (v as number);
          out[p++] = (u >> 8) | LP_13BIT_INT;
          out[p++] = u & 0xff;
        } else if (size === 3) {
          out[p++] = LP_16BIT_INT;
          buf.writeInt16LE(v as number, p);
          p += 2;
        } else if (size === 4) {
          out[p++] = LP_24BIT_INT;
          buf.writeIntLE(v as number, p, 3);
          p += 3;
        } else if (size === 5) {
          out[p++] = LP_32BIT_INT;
          buf.writeInt32LE(v as number, p);
          p += 4;
        } else {
          out[p++] = LP_64BIT_INT;
          buf.writeBigInt64LE(BigInt(v), p);
          p += 8;
        }
      } else {
        const n = s.length;
        if (n < 64) out[p++] = LP_6BIT_STR | n;
        else if (n < 4096) {
          out[p++] = LP_12BIT_STR | (n >> 8);
          out[p++] = n & 0xff;
        } else {
          out[p++] = LP_32BIT_STR;
          buf.writeUInt32LE(n, p);
          p += 4;
        }
        buf.write(s, p, 'latin1');
        p += n;
      }
      p = writeBacklen(out, p, p - start);
    }
    out[p] = LP_EOF;
    return out;
  }
}

function writeBacklen(out: Uint8Array, p: number, l: number): number {
  if (l <= 127) {
    out[p++] = l;
  } else if (l < 16383) {
    out[p++] = l >>> 7;
    out[p++] = (l & 127) | 128;
  } else if (l < 2097151) {
    out[p++] = l >>> 14;
    out[p++] = ((l >>> 7) & 127) | 128;
    out[p++] = (l & 127) | 128;
  } else if (l < 268435455) {
    out[p++] = l >>> 21;
    out[p++] = ((l >>> 14) & 127) | 128;
    out[p++] = ((l >>> 7) & 127) | 128;
    out[p++] = (l & 127) | 128;
  } else {
    out[p++] = Math.floor(l / 2 ** 28);
    out[p++] = ((l >>> 21) & 127) | 128;
    out[p++] = ((l >>> 14) & 127) | 128;
    out[p++] = ((l >>> 7) & 127) | 128;
    out[p++] = (l & 127) | 128;
  }
  return p;
}

/** The elements of a listpack, integers as their decimal strings. Validates the whole blob. */
export function decodeListpack(b: Uint8Array): string[] {
  const n = b.length;
  if (n < LP_HDR_SIZE + 1) throw new CompactError(`listpack of ${n} bytes is shorter than its header`, 0);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const total = dv.getUint32(0, true);
  if (total !== n) throw new CompactError(`listpack header says ${total} bytes, the string holds ${n}`, 0);
  const declared = dv.getUint16(4, true);
  const out: string[] = [];
  let p = LP_HDR_SIZE;
  for (;;) {
    if (p >= n) throw new CompactError('listpack has no end marker', p);
    const start = p;
    const e = b[p];
    if (e === LP_EOF) break;
    let dataStart: number;
    let dataLen = -1; // string length, or -1 for an integer
    let value = '';
    const need = (k: number): void => {
      if (p + k > n - 1) throw new CompactError('listpack entry runs past the end', start);
    };
    if ((e & 0x80) === LP_7BIT_UINT) {
      value = String(e & 0x7f);
      p += 1;
    } else if ((e & 0xc0) === LP_6BIT_STR) {
      dataLen = e & 0x3f;
      dataStart = p + 1;
      need(1 + dataLen);
      value = latin1(b, dataStart, dataStart + dataLen);
      p += 1 + dataLen;
    } else if ((e & 0xe0) === LP_13BIT_INT) {
      need(2);
      let v = ((e & 0x1f) << 8) | b[p + 1];
      if (v >= 1 << 12) v -= 1 << 13;
      value = String(v);
      p += 2;
    } else if ((e & 0xf0) === LP_12BIT_STR) {
      need(2);
      dataLen = ((e & 0x0f) << 8) | b[p + 1];
      dataStart = p + 2;
      need(2 + dataLen);
      value = latin1(b, dataStart, dataStart + dataLen);
      p += 2 + dataLen;
    } else if (e === LP_32BIT_STR) {
      need(5);
      dataLen = dv.getUint32(p + 1, true);
      dataStart = p + 5;
      need(5 + dataLen);
      value = latin1(b, dataStart, dataStart + dataLen);
      p += 5 + dataLen;
    } else if (e === LP_16BIT_INT) {
      need(3);
      value = String(dv.getInt16(p + 1, true));
      p += 3;
    } else if (e === LP_24BIT_INT) {
      need(4);
      value = String((dv.getUint16(p + 1, true) | (b[p + 3] << 16)) << 8 >> 8);
      p += 4;
    } else if (e === LP_32BIT_INT) {
      need(5);
      value = String(dv.getInt32(p + 1, true));
      p += 5;
    } else if (e === LP_64BIT_INT) {
      need(9);
      value = String(dv.getBigInt64(p + 1, true));
      p += 9;
    } else {
      throw new CompactError(`listpack entry has an unknown encoding byte 0x${e.toString(16)}`, start);
    }
    // The back-length: the entry's size, read right to left, 7 bits per byte.
    const l = p - start;
    const bl = backlenSize(l);
    if (p + bl > n - 1) throw new CompactError('listpack entry back-length runs past the end', start);
    let got = 0;
    for (let k = 0, shift = 1; k < bl; k++, shift *= 128) {
      const byte = b[p + bl - 1 - k];
      const more = (byte & 128) !== 0;
      got += (byte & 127) * shift;
      if (more !== (k < bl - 1)) throw new CompactError('listpack entry back-length is malformed', p);
    }
    if (got !== l) throw new CompactError(`listpack entry back-length says ${got}, the entry has ${l} bytes`, p);
    p += bl;
    out.push(value);
  }
  if (p !== n - 1) throw new CompactError('listpack end marker before the end of the string', p);
  if (declared !== LP_NUMELE_UNKNOWN && declared !== out.length) {
    throw new CompactError(`listpack header says ${declared} elements, it holds ${out.length}`, 4);
  }
  return out;
}

// ---------------------------------------------------------------- ziplist (read only: Redis 7 no longer writes it)

/** The elements of a ziplist (RDB types of Redis ≤ 6.2), integers as decimal strings. Validates the blob. */
export function decodeZiplist(b: Uint8Array): string[] {
  const n = b.length;
  if (n < 11) throw new CompactError(`ziplist of ${n} bytes is shorter than its header`, 0);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const total = dv.getUint32(0, true);
  if (total !== n) throw new CompactError(`ziplist header says ${total} bytes, the string holds ${n}`, 0);
  const tail = dv.getUint32(4, true);
  const declared = dv.getUint16(8, true);
  const out: string[] = [];
  let p = 10;
  let prevLen = 0;
  let lastStart = 10;
  for (;;) {
    if (p >= n) throw new CompactError('ziplist has no end marker', p);
    if (b[p] === 0xff) break;
    const start = p;
    const need = (k: number): void => {
      if (p + k > n - 1) throw new CompactError('ziplist entry runs past the end', start);
    };
    // prevlen: 1 byte, or 0xfe and 4 bytes
    need(1);
    let pl: number;
    if (b[p] < 254) {
      pl = b[p];
      p += 1;
    } else if (b[p] === 254) {
      need(5);
      pl = dv.getUint32(p + 1, true);
      p += 5;
    } else throw new CompactError('ziplist entry has an invalid prevlen', start);
    if (pl !== prevLen) throw new CompactError(`ziplist entry prevlen says ${pl}, the previous entry has ${prevLen} bytes`, start);
    need(1);
    const e = b[p];
    let value: string;
    const enc = e >> 6;
    if (enc === 0) {
      const len = e & 0x3f;
      need(1 + len);
      value = latin1(b, p + 1, p + 1 + len);
      p += 1 + len;
    } else if (enc === 1) {
      need(2);
      const len = ((e & 0x3f) << 8) | b[p + 1];
      need(2 + len);
      value = latin1(b, p + 2, p + 2 + len);
      p += 2 + len;
    } else if (enc === 2) {
      if (e !== 0x80) throw new CompactError('ziplist entry has an invalid string encoding', p);
      need(5);
      const len = dv.getUint32(p + 1, false);
      need(5 + len);
      value = latin1(b, p + 5, p + 5 + len);
      p += 5 + len;
    } else if (e === 0xc0) {
      need(3);
      value = String(dv.getInt16(p + 1, true));
      p += 3;
    } else if (e === 0xd0) {
      need(5);
      value = String(dv.getInt32(p + 1, true));
      p += 5;
    } else if (e === 0xe0) {
      need(9);
      value = String(dv.getBigInt64(p + 1, true));
      p += 9;
    } else if (e === 0xf0) {
      need(4);
      value = String((dv.getUint16(p + 1, true) | (b[p + 3] << 16)) << 8 >> 8);
      p += 4;
    } else if (e === 0xfe) {
      need(2);
      value = String(dv.getInt8(p + 1));
      p += 2;
    } else if (e >= 0xf1 && e <= 0xfd) {
      value = String((e & 0x0f) - 1);
      p += 1;
    } else throw new CompactError(`ziplist entry has an unknown encoding byte 0x${e.toString(16)}`, p);
    prevLen = p - start;
    lastStart = start;
    out.push(value);
  }
  if (p !== n - 1) throw new CompactError('ziplist end marker before the end of the string', p);
  if (out.length > 0 && tail !== lastStart) throw new CompactError(`ziplist tail offset ${tail} is not the last entry (${lastStart})`, 4);
  if (declared !== 0xffff && declared !== out.length) {
    throw new CompactError(`ziplist header says ${declared} elements, it holds ${out.length}`, 8);
  }
  return out;
}

// ---------------------------------------------------------------- intset

/** The intset of canonical integer strings (the caller has checked each is one), sorted, in the narrowest width. */
export function encodeIntset(members: Iterable<string>): Uint8Array {
  const values: bigint[] = [];
  let width = 2;
  for (const m of members) {
    const v = BigInt(m);
    values.push(v);
    if (v < -2147483648n || v > 2147483647n) width = 8;
    else if ((v < -32768n || v > 32767n) && width < 4) width = 4;
  }
  values.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const out = new Uint8Array(8 + values.length * width);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, width, true);
  dv.setUint32(4, values.length, true);
  let p = 8;
  for (const v of values) {
    if (width === 2) dv.setInt16(p, Number(v), true);
    else if (width === 4) dv.setInt32(p, Number(v), true);
    else dv.setBigInt64(p, v, true);
    p += width;
  }
  return out;
}

/** The members of an intset as decimal strings; validates sizes and strict ascending order. */
export function decodeIntset(b: Uint8Array): string[] {
  if (b.length < 8) throw new CompactError(`intset of ${b.length} bytes is shorter than its header`, 0);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const width = dv.getUint32(0, true);
  if (width !== 2 && width !== 4 && width !== 8) throw new CompactError(`intset has an invalid width ${width}`, 0);
  const count = dv.getUint32(4, true);
  if (8 + count * width !== b.length) {
    throw new CompactError(`intset header says ${count} members of ${width} bytes, the string holds ${b.length - 8} bytes`, 4);
  }
  const out: string[] = [];
  let prev: bigint | null = null;
  for (let i = 0, p = 8; i < count; i++, p += width) {
    const v = width === 2 ? BigInt(dv.getInt16(p, true)) : width === 4 ? BigInt(dv.getInt32(p, true)) : dv.getBigInt64(p, true);
    if (prev !== null && v <= prev) throw new CompactError('intset members are not in ascending order', p);
    prev = v;
    out.push(String(v));
  }
  return out;
}
