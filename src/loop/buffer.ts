// A byte queue with a read offset: bytes are appended at `end` and consumed
// from `start`. Consuming only moves `start`, so taking a request off the front
// is O(1) (the notes' vector erase is O(buffer)); the unread tail is moved to
// the front only when the buffer must make room, which amortises to O(1).

/** Buffers larger than this are given back once they drain. */
const SHRINK_ABOVE = 1 << 20;
const DEFAULT_CAPACITY = 4096;

export class ByteBuffer {
  buf: Buffer;
  /** Offset of the first unconsumed byte. */
  start = 0;
  /** Offset one past the last byte. */
  end = 0;

  constructor(capacity = DEFAULT_CAPACITY) {
    this.buf = Buffer.allocUnsafeSlow(capacity);
  }

  /** Bytes held (end - start). */
  get length(): number {
    return this.end - this.start;
  }

  /** Free bytes after end. */
  get space(): number {
    return this.buf.length - this.end;
  }

  /** Drops n bytes from the front. */
  consume(n: number): void {
    this.start += n;
    if (this.start === this.end) {
      this.start = this.end = 0;
      if (this.buf.length > SHRINK_ABOVE) this.buf = Buffer.allocUnsafeSlow(DEFAULT_CAPACITY);
    }
  }

  /** Drops everything. */
  clear(): void {
    this.start = this.end = 0;
  }

  /** Makes at least n bytes writable after end, compacting or growing. */
  reserve(n: number): void {
    if (this.buf.length - this.end >= n) return;
    const len = this.end - this.start;
    if (len + n <= this.buf.length && this.start >= len) {
      // Enough room once the consumed prefix is reclaimed, and the move is
      // cheap relative to what was consumed: compact in place.
      this.buf.copy(this.buf, 0, this.start, this.end);
    } else {
      let cap = this.buf.length * 2;
      while (cap < len + n) cap *= 2;
      const next = Buffer.allocUnsafeSlow(cap);
      this.buf.copy(next, 0, this.start, this.end);
      this.buf = next;
    }
    this.start = 0;
    this.end = len;
  }

  /** Appends bytes. */
  append(src: Uint8Array, from = 0, to = src.length): void {
    const n = to - from;
    this.reserve(n);
    this.buf.set(src.subarray(from, to), this.end);
    this.end += n;
  }

  /** Copies the held bytes out (tests and tools, not the hot path). */
  toBuffer(): Buffer {
    return Buffer.from(this.buf.subarray(this.start, this.end));
  }
}
