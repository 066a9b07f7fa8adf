// The sorted set value. (STUB — the order-statistic structure is being written;
// the API below is the contract the commands use.)
// Order: by score, then by name bytewise (a prefix sorts first). Every
// operation is O(log n), including rank lookups and moves by offset.

export interface ZEntry {
  readonly name: string;
  readonly score: number;
}

export class ZSet {
  /** Number of members. */
  get size(): number {
    throw new Error('not implemented');
  }
  /** Inserts or updates. Returns true if name was added, false if it existed (score updated). */
  add(name: string, score: number): boolean {
    throw new Error('not implemented');
  }
  /** The member's score, or undefined. */
  score(name: string): number | undefined {
    throw new Error('not implemented');
  }
  /** Removes a member; true if it was there. */
  remove(name: string): boolean {
    throw new Error('not implemented');
  }
  /** 0-based rank of name in ascending order, or undefined. */
  rank(name: string): number | undefined {
    throw new Error('not implemented');
  }
  /** The entry at 0-based rank r (0 ≤ r < size), or undefined. */
  at(r: number): ZEntry | undefined {
    throw new Error('not implemented');
  }
  /** Rank of the first entry ≥ (score, name); size if there is none. */
  seek(score: number, name: string): number {
    throw new Error('not implemented');
  }
  /** Rank of the first entry whose score is > min (exclusive) or ≥ min; size if none. */
  firstRankByScore(min: number, exclusive: boolean): number {
    throw new Error('not implemented');
  }
  /** Rank of the first entry whose name is > name (exclusive) or ≥ name, for sets with equal scores; size if none. */
  firstRankByLex(name: string, exclusive: boolean): number {
    throw new Error('not implemented');
  }
  /** Entries with ranks start..stop inclusive (already clamped), ascending, in O(log n + k). */
  range(start: number, stop: number): ZEntry[] {
    throw new Error('not implemented');
  }
}
