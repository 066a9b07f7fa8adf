// Key deadlines in a binary min-heap. Each entry carries its own heap index
// (the back-index), so changing or removing one key's deadline is O(log n):
// no search, just a sift from where it stands.

export interface TtlEntry {
  key: string;
  /** Monotonic milliseconds at which the key expires. */
  deadline: number;
  /** Position in the heap array; maintained by the heap. */
  pos: number;
}

export class TtlHeap {
  private items: TtlEntry[] = [];

  get size(): number {
    return this.items.length;
  }

  /** The entry at position i (0 ≤ i < size), for sampling. */
  at(i: number): TtlEntry {
    return this.items[i];
  }

  /** The entry with the nearest deadline, or undefined. */
  peek(): TtlEntry | undefined {
    return this.items[0];
  }

  push(e: TtlEntry): void {
    e.pos = this.items.length;
    this.items.push(e);
    this.up(e.pos);
  }

  /** Re-establishes order after e.deadline changed. */
  update(e: TtlEntry): void {
    this.up(e.pos);
    this.down(e.pos);
  }

  remove(e: TtlEntry): void {
    const last = this.items.pop()!;
    if (last !== e) {
      this.items[e.pos] = last;
      last.pos = e.pos;
      this.update(last);
    }
    e.pos = -1;
  }

  /** Every entry, in heap order (not sorted). */
  entries(): readonly TtlEntry[] {
    return this.items;
  }

  clear(): void {
    for (const e of this.items) e.pos = -1;
    this.items = [];
  }

  private up(i: number): void {
    const a = this.items;
    const e = a[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p].deadline <= e.deadline) break;
      a[i] = a[p];
      a[i].pos = i;
      i = p;
    }
    a[i] = e;
    e.pos = i;
  }

  private down(i: number): void {
    const a = this.items;
    const n = a.length;
    const e = a[i];
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && a[c + 1].deadline < a[c].deadline) c++;
      if (a[c].deadline >= e.deadline) break;
      a[i] = a[c];
      a[i].pos = i;
      i = c;
    }
    a[i] = e;
    e.pos = i;
  }
}
