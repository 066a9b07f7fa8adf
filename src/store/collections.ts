// Sets and hashes as the keyspace holds them: a JS Set / Map that also knows
// (1) whether Redis 7.0 would have left its compact encoding (intset, listpack)
// for a hash table — sticky, as Redis never converts back — and (2) how to pick
// a member uniformly at random in O(1) (an array of members with each one's
// index beside the Set/Map, swap-remove on delete, built on the first pick so
// that a set nobody samples pays nothing for it).

/** Redis 7.0's encoding thresholds (CONFIG SET changes them: src/servers/config.ts). */
export const encodingLimits = {
  hashMaxListpackEntries: 512,
  hashMaxListpackValue: 64,
  setMaxIntsetEntries: 512,
  zsetMaxListpackEntries: 128,
  zsetMaxListpackValue: 64,
};

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** string2ll's grammar and range: what Redis stores as an integer (intset member, int-encoded string). A loop, not a regex: SADD runs it per member. */
export function isIntText(s: string): boolean {
  const n = s.length;
  if (n === 0 || n > 20) return false;
  let i = 0;
  if (s.charCodeAt(0) === 45) {
    if (n === 1) return false;
    i = 1;
  }
  const first = s.charCodeAt(i);
  if (first === 48) return n === 1; // "0"; no leading zeros, no "-0"
  if (first < 49 || first > 57) return false;
  for (let j = i + 1; j < n; j++) {
    const c = s.charCodeAt(j);
    if (c < 48 || c > 57) return false;
  }
  if (n - i < 19) return true;
  const v = BigInt(s);
  return v >= INT64_MIN && v <= INT64_MAX;
}

/** What a Picker keeps each member's index in (a Map, or the keyspace's sharded map). */
export interface IndexMap {
  get(k: string): number | undefined;
  has(k: string): boolean;
  set(k: string, i: number): void;
  delete(k: string): boolean;
}

/** Members in an array with each one's index: uniform picks in O(1), add and delete in O(1). */
export class Picker {
  private readonly items: string[] = [];

  constructor(members: Iterable<string>, private readonly at: IndexMap = new Map<string, number>()) {
    for (const m of members) this.add(m);
  }

  add(m: string): void {
    if (this.at.has(m)) return;
    this.at.set(m, this.items.length);
    this.items.push(m);
  }

  delete(m: string): void {
    const i = this.at.get(m);
    if (i === undefined) return;
    const last = this.items.pop()!;
    if (last !== m) {
      this.items[i] = last;
      this.at.set(last, i);
    }
    this.at.delete(m);
  }

  /** A member chosen uniformly with rand() ∈ [0, 1), or undefined when empty. */
  pick(rand: () => number): string | undefined {
    const n = this.items.length;
    return n === 0 ? undefined : this.items[Math.floor(rand() * n)];
  }
}

/** A set of strings. */
export class RSet extends Set<string> {
  /** Redis would hold it as a hashtable (it held a non-integer or outgrew set-max-intset-entries once). */
  wide = false;
  private picker: Picker | null = null;

  // Set's own constructor would call add() before these fields exist: members are added here.
  constructor(members?: Iterable<string>) {
    super();
    if (members !== undefined) for (const m of members) this.add(m);
  }

  override add(m: string): this {
    super.add(m);
    if (!this.wide && (this.size > encodingLimits.setMaxIntsetEntries || !isIntText(m))) this.wide = true;
    if (this.picker !== null) this.picker.add(m);
    return this;
  }

  override delete(m: string): boolean {
    if (!super.delete(m)) return false;
    if (this.picker !== null) this.picker.delete(m);
    return true;
  }

  override clear(): void {
    super.clear();
    this.picker = null;
  }

  /** A member chosen uniformly (O(1) expected; the first call indexes the set, O(n)). */
  random(rand: () => number = Math.random): string | undefined {
    if (this.size === 0) return undefined;
    if (this.picker === null) this.picker = new Picker(this);
    return this.picker.pick(rand);
  }

  /** An independent copy with the same encoding (COPY). */
  copy(): RSet {
    const out = new RSet(this);
    out.wide ||= this.wide;
    return out;
  }
}

/** A hash: field → value. */
export class Hash extends Map<string, string> {
  /** Redis would hold it as a hashtable (a field or value over hash-max-listpack-value, or more than hash-max-listpack-entries fields, once). */
  wide = false;
  private picker: Picker | null = null;

  constructor(entries?: Iterable<readonly [string, string]>) {
    super();
    if (entries !== undefined) for (const [f, v] of entries) this.set(f, v);
  }

  override set(f: string, v: string): this {
    super.set(f, v);
    if (!this.wide) {
      const max = encodingLimits.hashMaxListpackValue;
      if (f.length > max || v.length > max || this.size > encodingLimits.hashMaxListpackEntries) this.wide = true;
    }
    if (this.picker !== null) this.picker.add(f);
    return this;
  }

  override delete(f: string): boolean {
    if (!super.delete(f)) return false;
    if (this.picker !== null) this.picker.delete(f);
    return true;
  }

  override clear(): void {
    super.clear();
    this.picker = null;
  }

  /** A field chosen uniformly (O(1) expected; the first call indexes the hash, O(n)). */
  random(rand: () => number = Math.random): string | undefined {
    if (this.size === 0) return undefined;
    if (this.picker === null) this.picker = new Picker(this.keys());
    return this.picker.pick(rand);
  }

  /** An independent copy with the same encoding (COPY). */
  copy(): Hash {
    const out = new Hash(this);
    out.wide ||= this.wide;
    return out;
  }
}
