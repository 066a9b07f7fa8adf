// A string value held as mutable bytes, for the bit commands (SETBIT, BITFIELD).
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
// Nobody else sees it: Keyspace.get() hands every other command the string
// (toString(), cached until the next change), so GET, APPEND, TYPE, RENAME...
// work unchanged. Switching families costs O(n) once: the first GET after a
// run of SETBITs converts the bytes to a string (GET is O(n) anyway), and the
// first SETBIT on a key holding a JS string copies it into a Bytes. A SET,
// APPEND or SETRANGE stores a plain string again.

import { constants as bufferConstants } from 'node:buffer';

/** The longest JS string: a Bytes never grows past it, so toString() always succeeds. */
export const MAX_BYTES_LENGTH = bufferConstants.MAX_STRING_LENGTH;

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
    return new Bytes(buf, s.length, s);
  }

  /** The bytes as a binary string; O(n) the first time after a change, then cached. */
  toString(): string {
    if (this.text === null) {
      this.text = Buffer.from(this.buf.buffer, this.buf.byteOffset, this.length).toString('latin1');
    }
    return this.text;
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
