// CRC-64 as Redis computes it (src/crc64.c): the Jones polynomial
// 0xad93d23594c935a9, bits reflected in and out, initial value 0, no final
// xor. CRC64 of "123456789" is 0xe9c6d914c4b8d9ca. It guards RDB files (the
// 8-byte trailer) and DUMP payloads.
//
// Table-driven, one byte per step. A 64-bit value is held as two 32-bit halves
// (lo, hi) so the inner loop stays in small-integer arithmetic: no BigInt per byte.

/** The polynomial, bit-reversed (the reflected algorithm shifts right). */
const POLY_REFLECTED = (() => {
  const p = 0xad93d23594c935a9n;
  let r = 0n;
  for (let i = 0n; i < 64n; i++) if ((p >> i) & 1n) r |= 1n << (63n - i);
  return r;
})();

const TABLE_LO = new Uint32Array(256);
const TABLE_HI = new Uint32Array(256);
{
  const polyLo = Number(POLY_REFLECTED & 0xffffffffn);
  const polyHi = Number(POLY_REFLECTED >> 32n);
  for (let i = 0; i < 256; i++) {
    let lo = i;
    let hi = 0;
    for (let k = 0; k < 8; k++) {
      const carry = lo & 1;
      lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
      hi = hi >>> 1;
      if (carry) {
        lo = (lo ^ polyLo) >>> 0;
        hi = (hi ^ polyHi) >>> 0;
      }
    }
    TABLE_LO[i] = lo;
    TABLE_HI[i] = hi;
  }
}

/** A running CRC-64: feed it bytes with update(), read it with value() or writeLE(). */
export class Crc64 {
  private lo = 0;
  private hi = 0;

  update(data: Uint8Array, start = 0, end = data.length): this {
    let lo = this.lo;
    let hi = this.hi;
    for (let i = start; i < end; i++) {
      const idx = (lo ^ data[i]) & 0xff;
      lo = ((lo >>> 8) | (hi << 24)) ^ TABLE_LO[idx];
      hi = (hi >>> 8) ^ TABLE_HI[idx];
    }
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
    return this;
  }

  /** The CRC as an unsigned 64-bit bigint. */
  value(): bigint {
    return (BigInt(this.hi) << 32n) | BigInt(this.lo);
  }

  /** Writes the CRC as 8 little-endian bytes (the order Redis stores it in) at out[at..at+8). */
  writeLE(out: Uint8Array, at: number): void {
    let lo = this.lo;
    let hi = this.hi;
    for (let i = 0; i < 4; i++, lo >>>= 8) out[at + i] = lo & 0xff;
    for (let i = 4; i < 8; i++, hi >>>= 8) out[at + i] = hi & 0xff;
  }

  /** True if out[at..at+8) holds this CRC little-endian. */
  equalsLE(data: Uint8Array, at: number): boolean {
    const lo = (data[at] | (data[at + 1] << 8) | (data[at + 2] << 16) | (data[at + 3] << 24)) >>> 0;
    const hi = (data[at + 4] | (data[at + 5] << 8) | (data[at + 6] << 16) | (data[at + 7] << 24)) >>> 0;
    return lo === this.lo && hi === this.hi;
  }
}

/** CRC-64 (Redis's) of data[start..end). */
export function crc64(data: Uint8Array, start = 0, end = data.length): bigint {
  return new Crc64().update(data, start, end).value();
}
