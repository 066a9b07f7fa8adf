// The list value: a growable ring buffer (deque). Push and pop at both ends are
// O(1) amortised; index access is O(1). No Array.shift/unshift, which are O(n).

export class List {
  private buf: (string | undefined)[];
  private head = 0; // index of the first element
  private len = 0;

  constructor(capacity = 8) {
    this.buf = new Array(capacity);
  }

  get length(): number {
    return this.len;
  }

  /** An independent copy (COPY): the same elements in a buffer of the same capacity, O(n). */
  clone(): List {
    const out = new List(this.buf.length);
    for (let i = 0; i < this.len; i++) out.buf[i] = this.buf[(this.head + i) % this.buf.length];
    out.len = this.len;
    return out;
  }

  private grow(): void {
    const old = this.buf;
    const cap = old.length;
    const next: (string | undefined)[] = new Array(cap * 2);
    for (let i = 0; i < this.len; i++) next[i] = old[(this.head + i) % cap];
    this.buf = next;
    this.head = 0;
  }

  pushBack(v: string): void {
    if (this.len === this.buf.length) this.grow();
    this.buf[(this.head + this.len) % this.buf.length] = v;
    this.len++;
  }

  pushFront(v: string): void {
    if (this.len === this.buf.length) this.grow();
    this.head = (this.head - 1 + this.buf.length) % this.buf.length;
    this.buf[this.head] = v;
    this.len++;
  }

  popFront(): string | undefined {
    if (this.len === 0) return undefined;
    const v = this.buf[this.head];
    this.buf[this.head] = undefined;
    this.head = (this.head + 1) % this.buf.length;
    this.len--;
    return v;
  }

  popBack(): string | undefined {
    if (this.len === 0) return undefined;
    const i = (this.head + this.len - 1) % this.buf.length;
    const v = this.buf[i];
    this.buf[i] = undefined;
    this.len--;
    return v;
  }

  /** Element at 0-based index i (0 ≤ i < length). */
  at(i: number): string {
    return this.buf[(this.head + i) % this.buf.length]!;
  }

  set(i: number, v: string): void {
    this.buf[(this.head + i) % this.buf.length] = v;
  }

  /** Elements [start, stop] inclusive, already clamped by the caller. */
  slice(start: number, stop: number): string[] {
    const out: string[] = [];
    for (let i = start; i <= stop; i++) out.push(this.at(i));
    return out;
  }

  toArray(): string[] {
    return this.len === 0 ? [] : this.slice(0, this.len - 1);
  }

  /**
   * Inserts v so that it lands at index i (0 ≤ i ≤ length), shifting whichever
   * side is shorter: O(min(i, length - i)), so inserting near either end is cheap.
   */
  insert(i: number, v: string): void {
    if (this.len === this.buf.length) this.grow();
    const cap = this.buf.length;
    if (i < this.len - i) {
      this.head = (this.head - 1 + cap) % cap;
      this.len++;
      for (let k = 0; k < i; k++) this.buf[(this.head + k) % cap] = this.buf[(this.head + k + 1) % cap];
    } else {
      this.len++;
      for (let k = this.len - 1; k > i; k--) this.buf[(this.head + k) % cap] = this.buf[(this.head + k - 1) % cap];
    }
    this.buf[(this.head + i) % cap] = v;
  }

  /**
   * Keeps only indexes start..stop inclusive (already clamped by the caller;
   * start > stop empties the list). O(elements removed): both ends are popped.
   */
  trim(start: number, stop: number): void {
    if (start > stop || start >= this.len) {
      this.clear();
      return;
    }
    for (let n = this.len - 1 - stop; n > 0; n--) this.popBack();
    for (let n = start; n > 0; n--) this.popFront();
  }

  /** Removes every element and returns to the initial capacity. */
  clear(): void {
    this.buf = new Array(8);
    this.head = 0;
    this.len = 0;
  }

  /** Replaces the whole content (used by LTRIM, LREM, LINSERT: O(n) by nature). */
  replace(items: string[]): void {
    let cap = 8;
    while (cap < items.length) cap *= 2;
    this.buf = new Array(cap);
    for (let i = 0; i < items.length; i++) this.buf[i] = items[i];
    this.head = 0;
    this.len = items.length;
  }
}
