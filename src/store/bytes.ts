// A string value held as mutable bytes: the one byte form of a string value
// (commands accept `typeof v === 'string' || v instanceof Bytes`), for the bit
// commands (SETBIT, BITFIELD), APPEND and SETRANGE, and large values (below).
//
// Why it exists: string values are JS binary strings (one char per byte), and
// a JS string is immutable, so setting one bit means building a new string of
// the same length: O(n) per SETBIT, where Redis is O(1). Measured on this
// project's 2-vCPU VM (slice + concat, then the flatten the next read forces): 0.8 ms per
// SETBIT on a 1 MB string, 71 ms on 64 MB, so a 512 MB bitmap would stall the
// loop for about half a second per bit. So a key that a bit command writes is stored as a
// Bytes instead: a Uint8Array with spare capacity (grown like Redis's sds:
// doubled up to 1 MB, then by 1 MB), changed in place, O(1) per SETBIT and
// O(bits) per BITFIELD op, amortised.
//
// Commands that do not look for it get the string: Keyspace.get() converts
// (toString(), cached until the next change for a small value), so TYPE, LCS,
// COPY... work unchanged; GET and its kin reply from the bytes (readStringRaw,
// ReplyWriter.bytes). The first SETBIT, APPEND or SETRANGE on a key holding a
// JS string copies it into a Bytes (Redis's APPEND and SETRANGE leave a `raw`
// string too: OBJECT ENCODING reports every Bytes as raw), and later ones
// change it in place. A SET stores a plain string again (below BIG_VALUE).
//
// Large values are held as Bytes too, whatever wrote them: the keyspace turns
// every string of BIG_VALUE bytes or more into a Bytes when it is stored
// (Keyspace.store). Their bytes live outside V8's heap (a Buffer's backing
// store: one malloc, never scanned or moved by the GC), where a JS string of
// 64 KiB is copied by the scavenger when it survives and again when it is
// promoted, and its death costs an old-space collection. GET writes such a
// value from its bytes into the reply (ReplyWriter.bytes), with no string in
// between; STRLEN, GETRANGE, APPEND and SETRANGE work on the bytes. A Bytes of
// BIG_VALUE bytes or more never caches its string (that would hold the value
// twice, the copy uncounted): the rare command that needs it as a string
// (LCS, INCR on a non-number...) pays one O(n) conversion per call.

import { constants as bufferConstants } from 'node:buffer';

/** The longest JS string: a Bytes never grows past it, so toString() always succeeds. */
export const MAX_BYTES_LENGTH = bufferConstants.MAX_STRING_LENGTH;

/**
 * Strings at least this long are stored as Bytes (see above). Measured
 * (bench/results/bigval.md, server CPU per SET/GET): at 4, 16 and 32 KiB a
 * JS string costs less than the extra copy and the Buffer's allocation; at
 * 48 KiB they cost the same and at 64 KiB the Buffer costs 15–25% less. At
 * equal cost the bytes are better off V8's heap (no GC scanning or moving).
 */
export const BIG_VALUE = 48 * 1024;

/** Growth beyond this is linear (Redis's SDS_MAX_PREALLOC). */
const MAX_PREALLOC = 1024 * 1024;

export class Bytes {
  /** The bytes; capacity ≥ length, and bytes past length are zero. */
  buf: Uint8Array;
  /** The string's length in bytes. */
  length: number;
  /** The same bytes as a binary string, until the next change. */
  private text: string | null;

  private constructor(buf: Uint8Array, length: number, text: string | null) {
    this.buf = buf;
    this.length = length;
    this.text = text;
  }

  /** Zero bytes of the given length. */
  static zeros(length: number): Bytes {
    return new Bytes(new Uint8Array(length), length, null);
  }

  /** Takes over buf (its whole length) as the string's bytes. */
  static wrap(buf: Uint8Array): Bytes {
    return new Bytes(buf, buf.length, null);
  }

  /** A copy of a binary string's bytes (O(n), native latin1 encoding). */
  static fromString(s: string): Bytes {
    const buf = new Uint8Array(s.length);
    Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).write(s, 0, 'latin1');
    return new Bytes(buf, s.length, s.length < BIG_VALUE ? s : null);
  }

  /**
   * A large string value's bytes (Keyspace.store): one copy into a Buffer of
   * exactly its length, off V8's heap (allocUnsafeSlow: not pooled, not
   * zeroed, since every byte is written), the string not kept.
   */
  static ofValue(s: string): Bytes {
    const buf = takeBuffer(s.length);
    buf.latin1Write(s, 0, s.length);
    return new Bytes(buf, s.length, null);
  }

  /**
   * Called by the keyspace when this value has just been overwritten by
   * another: its buffer may serve the next large value of the same length.
   * Only a buffer ofValue made (exactly the value's length, its own
   * ArrayBuffer) is taken, so a reused buffer has no bytes past its length.
   * Safe because a stored Bytes belongs to its key alone, and nothing keeps a
   * reference past the command that read it (replies copy the bytes at once;
   * the same rule that lets APPEND and SETRANGE change a value in place).
   */
  retire(): void {
    const b = this.buf;
    if (b.byteLength === this.length && b.buffer.byteLength === this.length && b instanceof Buffer) giveBuffer(b);
  }

  /** The bytes as a binary string; O(n), cached until the next change below BIG_VALUE bytes. */
  toString(): string {
    if (this.text !== null) return this.text;
    const s = this.slice(0, this.length);
    if (this.length < BIG_VALUE) this.text = s;
    return s;
  }

  /** Bytes [start, end) as a binary string (0 ≤ start ≤ end ≤ length); O(end − start). */
  slice(start: number, end: number): string {
    if (this.text !== null) return this.text.slice(start, end);
    const b = this.buf;
    return Buffer.from(b.buffer, b.byteOffset, this.length).latin1Slice(start, end);
  }

  /**
   * Writes a binary string's bytes at offset, growing (zero-padded) as needed:
   * APPEND and SETRANGE on a large value, in place, amortised O(s.length).
   * The caller has checked the length against proto-max-bulk-len.
   */
  write(offset: number, s: string): void {
    this.growTo(offset + s.length);
    const b = this.buf;
    Buffer.from(b.buffer, b.byteOffset, b.byteLength).latin1Write(s, offset, s.length);
    this.text = null;
  }

  /** The byte at i, 0 past the end (the zero padding every bit command assumes). */
  at(i: number): number {
    return i < this.length ? this.buf[i] : 0;
  }

  /**
   * Makes the string at least `length` bytes long, zero-padded (sdsgrowzero).
   * The caller has checked length against MAX_BYTES_LENGTH and proto-max-bulk-len.
   */
  growTo(length: number): void {
    if (length <= this.length) return;
    if (length > this.buf.length) {
      let cap = length < MAX_PREALLOC ? length * 2 : length + MAX_PREALLOC;
      if (cap > MAX_BYTES_LENGTH) cap = MAX_BYTES_LENGTH;
      const next = new Uint8Array(cap);
      next.set(this.buf.subarray(0, this.length));
      this.buf = next;
    }
    this.length = length;
    this.text = null;
  }

  /** Makes the string `length` bytes long (≤ its length): the bytes past it are zeroed. */
  truncate(length: number): void {
    if (length >= this.length) return;
    this.buf.fill(0, length, this.length);
    this.length = length;
    this.text = null;
  }

  /** Replaces the whole content with buf's first `length` bytes (buf is taken over; bytes past length must be zero). */
  assign(buf: Uint8Array, length: number): void {
    this.buf = buf;
    this.length = length;
    this.text = null;
  }

  /** Call after writing into buf: drops the cached string. */
  changed(): void {
    this.text = null;
  }
}

// ---- reuse of large values' buffers -------------------------------------------
//
// Measured (bench/results/bigval.md): with a new Buffer per SET of 64 KiB, V8
// counts each as external memory and starts a major GC every ~50 MB of them
// (the replaced ones stay allocated until their owners are collected); those
// GCs cost more than the copies. An overwritten value's buffer is kept here
// instead, by exact length, and the next value of that length is copied into
// it: a steady overwrite load allocates nothing. Bounded: at most POOL_MAX
// bytes are held (not counted in used_memory); when retired buffers would
// pass it, the pool is emptied first, so lengths nobody asks for any more do
// not keep it full.

const POOL_MAX = 8 * 1024 * 1024;
const pool = new Map<number, Buffer[]>();
let pooledBytes = 0;

/** A buffer of exactly n bytes, uninitialised: a retired one of that length, or a new one. */
function takeBuffer(n: number): Buffer {
  const list = pool.get(n);
  if (list !== undefined) {
    const b = list.pop()!;
    if (list.length === 0) pool.delete(n);
    pooledBytes -= n;
    return b;
  }
  return Buffer.allocUnsafeSlow(n);
}

function giveBuffer(b: Buffer): void {
  if (b.length > POOL_MAX) return;
  if (pooledBytes + b.length > POOL_MAX) {
    // Full, of lengths no value has taken lately (the workload moved on): start afresh.
    pool.clear();
    pooledBytes = 0;
  }
  const list = pool.get(b.length);
  if (list === undefined) pool.set(b.length, [b]);
  else list.push(b);
  pooledBytes += b.length;
}

/** Bytes held for reuse (tests; MEMORY STATS could report it). */
export function retiredBytes(): number {
  return pooledBytes;
}
