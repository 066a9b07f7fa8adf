// The loop's timers: a binary min-heap of deadlines (monotonic ms) with
// callbacks. Blocked clients' timeouts and CLIENT PAUSE's end live here; the
// nearest deadline sets poll's timeout, so 10 000 waiting clients cost nothing
// per iteration (only the heap's top is looked at). A timer knows its heap
// index, so cancelling one (a waiter served before its timeout) is O(log n).

export class Timer {
  /** Position in the heap; -1 once fired or cancelled. */
  index = -1;
  constructor(
    public deadline: number,
    readonly fire: () => void,
    /** What it is, for the trace ("BLPOP timeout of client 7"). */
    readonly what: string,
  ) {}
}

export class TimerHeap {
  private readonly heap: Timer[] = [];

  get size(): number {
    return this.heap.length;
  }

  /** The nearest timer, or null. */
  peek(): Timer | null {
    return this.heap.length ? this.heap[0] : null;
  }

  add(deadline: number, fire: () => void, what = 'timer'): Timer {
    const t = new Timer(deadline, fire, what);
    t.index = this.heap.length;
    this.heap.push(t);
    this.up(t.index);
    return t;
  }

  cancel(t: Timer): void {
    const i = t.index;
    if (i < 0) return;
    const last = this.heap.pop()!;
    t.index = -1;
    if (last === t) return;
    this.heap[i] = last;
    last.index = i;
    this.down(i);
    this.up(last.index);
  }

  /** Fires the timers due at `now` (each once, nearest first); returns how many fired. */
  runDue(now: number, onFire?: (t: Timer) => void): number {
    let n = 0;
    while (this.heap.length && this.heap[0].deadline <= now) {
      const t = this.heap[0];
      this.cancel(t);
      if (onFire) onFire(t);
      t.fire();
      n++;
    }
    return n;
  }

  private up(i: number): void {
    const h = this.heap;
    const t = h[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p].deadline <= t.deadline) break;
      h[i] = h[p];
      h[i].index = i;
      i = p;
    }
    h[i] = t;
    t.index = i;
  }

  private down(i: number): void {
    const h = this.heap;
    const n = h.length;
    const t = h[i];
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && h[c + 1].deadline < h[c].deadline) c++;
      if (h[c].deadline >= t.deadline) break;
      h[i] = h[c];
      h[i].index = i;
      i = c;
    }
    h[i] = t;
    t.index = i;
  }
}
