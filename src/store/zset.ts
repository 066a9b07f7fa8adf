// The sorted set value: an AVL tree whose nodes carry their subtree size (an
// order-statistic tree, as the book builds it) plus a Map name → node.
// Order: by score, then by name bytewise (a prefix sorts first). Every
// operation is O(log n), including rank lookups and moves by offset.

import { encodingLimits } from './collections.js';

export interface ZEntry {
  readonly name: string;
  readonly score: number;
}

/**
 * A tree node. It is handed out as a ZEntry: its name and score never change
 * once it is in the tree (a score update replaces the node), so an entry a
 * caller holds stays a faithful snapshot.
 */
class ZNode implements ZEntry {
  left: ZNode | null = null;
  right: ZNode | null = null;
  parent: ZNode | null = null;
  /** Height of the subtree rooted here (a leaf is 1). */
  height = 1;
  /** Number of nodes in the subtree rooted here: what makes rank and at() O(log n). */
  count = 1;
  constructor(
    readonly name: string,
    readonly score: number,
  ) {}
}

const heightOf = (n: ZNode | null): number => (n === null ? 0 : n.height);
const countOf = (n: ZNode | null): number => (n === null ? 0 : n.count);

/** True if (score, name) of a sorts strictly before (score, name). JS `<` on latin1 strings is bytewise. */
function lessThan(a: ZNode, score: number, name: string): boolean {
  return a.score < score || (a.score === score && a.name < name);
}

function refresh(n: ZNode): void {
  const hl = heightOf(n.left);
  const hr = heightOf(n.right);
  n.height = 1 + (hl > hr ? hl : hr);
  n.count = 1 + countOf(n.left) + countOf(n.right);
}

/** Rotates left; returns the new subtree root (its parent pointer is set, the parent's child pointer is not). */
function rotateLeft(node: ZNode): ZNode {
  const parent = node.parent;
  const top = node.right!;
  const inner = top.left;
  node.right = inner;
  if (inner !== null) inner.parent = node;
  top.parent = parent;
  top.left = node;
  node.parent = top;
  refresh(node);
  refresh(top);
  return top;
}

function rotateRight(node: ZNode): ZNode {
  const parent = node.parent;
  const top = node.left!;
  const inner = top.right;
  node.left = inner;
  if (inner !== null) inner.parent = node;
  top.parent = parent;
  top.right = node;
  node.parent = top;
  refresh(node);
  refresh(top);
  return top;
}

/** The left subtree is 2 taller: a right rotation, after a left one on the child if it leans right. */
function fixLeftHeavy(node: ZNode): ZNode {
  if (heightOf(node.left!.left) < heightOf(node.left!.right)) node.left = rotateLeft(node.left!);
  return rotateRight(node);
}

function fixRightHeavy(node: ZNode): ZNode {
  if (heightOf(node.right!.right) < heightOf(node.right!.left)) node.right = rotateRight(node.right!);
  return rotateLeft(node);
}

/**
 * Walks from node up to the root, refreshing heights and counts and
 * rebalancing where needed; returns the (possibly new) root. Counts change all
 * the way up after an insert or delete, so the walk always reaches the root:
 * O(log n).
 */
function fixUp(node: ZNode): ZNode {
  for (;;) {
    const parent = node.parent;
    refresh(node);
    const hl = heightOf(node.left);
    const hr = heightOf(node.right);
    let sub = node;
    if (hl === hr + 2) sub = fixLeftHeavy(node);
    else if (hl + 2 === hr) sub = fixRightHeavy(node);
    if (parent === null) return sub;
    if (parent.left === node) parent.left = sub;
    else parent.right = sub;
    node = parent;
  }
}

/** Unlinks a node with at most one child; returns the new root (null if the tree is now empty). */
function detachSimple(node: ZNode): ZNode | null {
  const child = node.left !== null ? node.left : node.right;
  const parent = node.parent;
  if (child !== null) child.parent = parent;
  if (parent === null) return child;
  if (parent.left === node) parent.left = child;
  else parent.right = child;
  return fixUp(parent);
}

/** Unlinks any node from the tree; returns the new root. */
function detach(node: ZNode): ZNode | null {
  if (node.left === null || node.right === null) return detachSimple(node);
  // Two children: unlink the in-order successor (it has no left child), then
  // put it where node stands. Rebalancing may have moved node, so node's
  // links are read only after the unlink.
  let victim = node.right;
  while (victim.left !== null) victim = victim.left;
  let root = detachSimple(victim);
  victim.left = node.left;
  victim.right = node.right;
  victim.parent = node.parent;
  victim.height = node.height;
  victim.count = node.count;
  if (victim.left !== null) victim.left.parent = victim;
  if (victim.right !== null) victim.right.parent = victim;
  const parent = node.parent;
  if (parent === null) root = victim;
  else if (parent.left === node) parent.left = victim;
  else parent.right = victim;
  return root;
}

/** In-order successor, O(1) amortised over a walk, O(log n) worst case. */
function successor(n: ZNode): ZNode | null {
  if (n.right !== null) {
    n = n.right;
    while (n.left !== null) n = n.left;
    return n;
  }
  while (n.parent !== null && n.parent.right === n) n = n.parent;
  return n.parent;
}

function predecessor(n: ZNode): ZNode | null {
  if (n.left !== null) {
    n = n.left;
    while (n.right !== null) n = n.right;
    return n;
  }
  while (n.parent !== null && n.parent.left === n) n = n.parent;
  return n.parent;
}

export class ZSet {
  private root: ZNode | null = null;
  private readonly byName = new Map<string, ZNode>();
  /** Redis would hold it as a skiplist (it had more than zset-max-listpack-entries members, or a longer member than zset-max-listpack-value, once). */
  wide = false;

  /** Number of members. */
  get size(): number {
    return this.byName.size;
  }

  /**
   * Inserts or updates. Returns true if name was added, false if it existed
   * (score updated, or unchanged if equal). Throws RangeError on NaN: NaN has
   * no place in the order; commands must reject it first.
   */
  add(name: string, score: number): boolean {
    if (Number.isNaN(score)) throw new RangeError('ZSet score is NaN');
    if (score === 0) score = 0; // -0 is stored as 0: Redis replies "0" for a score of -0
    const old = this.byName.get(name);
    const node = new ZNode(name, score);
    if (old !== undefined) {
      if (old.score === score) return false;
      // As Redis's zslUpdateScore: if the new score keeps the member between its neighbours (a small
      // ZINCRBY, say), the new node takes the old one's place with no rebalancing.
      const prev = predecessor(old);
      const next = successor(old);
      if ((prev === null || lessThan(prev, score, name)) && (next === null || !lessThan(next, score, name))) {
        this.replaceInPlace(old, node);
        this.byName.set(name, node);
        return false;
      }
      this.root = detach(old);
    }
    this.insert(node);
    this.byName.set(name, node);
    if (!this.wide && (this.byName.size > encodingLimits.zsetMaxListpackEntries || name.length > encodingLimits.zsetMaxListpackValue)) this.wide = true;
    return old === undefined;
  }

  /** An independent copy (COPY): the tree's shape copied node by node, O(n), no rebalancing. */
  clone(): ZSet {
    const out = new ZSet();
    const copy = (n: ZNode | null, parent: ZNode | null): ZNode | null => {
      if (n === null) return null;
      const c = new ZNode(n.name, n.score);
      c.parent = parent;
      c.height = n.height;
      c.count = n.count;
      c.left = copy(n.left, c);
      c.right = copy(n.right, c);
      out.byName.set(c.name, c);
      return c;
    };
    out.root = copy(this.root, null);
    out.wide = this.wide;
    return out;
  }

  /** The member's score, or undefined. */
  score(name: string): number | undefined {
    return this.byName.get(name)?.score;
  }

  /** Removes a member; true if it was there. */
  remove(name: string): boolean {
    const node = this.byName.get(name);
    if (node === undefined) return false;
    this.root = detach(node);
    this.byName.delete(name);
    return true;
  }

  /**
   * Height of the AVL tree, ≤ 1.44·log2(n + 2): the most nodes a seek, rank or
   * at() visits. For diagnostics and benchmarks.
   */
  get height(): number {
    return heightOf(this.root);
  }

  /** 0-based rank of name in ascending order, or undefined. O(log n) via parent links. */
  rank(name: string): number | undefined {
    let n = this.byName.get(name);
    if (n === undefined) return undefined;
    let r = countOf(n.left);
    while (n.parent !== null) {
      if (n.parent.right === n) r += countOf(n.parent.left) + 1;
      n = n.parent;
    }
    return r;
  }

  /** The entry at 0-based rank r (0 ≤ r < size), or undefined. */
  at(r: number): ZEntry | undefined {
    return this.nodeAt(r) ?? undefined;
  }

  /**
   * The rank `offset` places from rank r (negative moves towards lower
   * scores), or -1 if that falls outside 0..size-1. The book's znode_offset:
   * with ranks it is arithmetic, and the entry is then one at() away, O(log n).
   */
  offset(r: number, offset: number): number {
    const t = r + offset;
    return Number.isInteger(t) && t >= 0 && t < this.byName.size ? t : -1;
  }

  /** Rank of the first entry ≥ (score, name); size if there is none. */
  seek(score: number, name: string): number {
    let n = this.root;
    let base = 0; // entries known to sort before n's subtree
    let found = this.byName.size;
    while (n !== null) {
      if (lessThan(n, score, name)) {
        base += countOf(n.left) + 1;
        n = n.right;
      } else {
        found = base + countOf(n.left);
        n = n.left;
      }
    }
    return found;
  }

  /** Rank of the first entry whose score is > min (exclusive) or ≥ min; size if none. */
  firstRankByScore(min: number, exclusive: boolean): number {
    let n = this.root;
    let base = 0;
    let found = this.byName.size;
    while (n !== null) {
      const before = exclusive ? n.score <= min : n.score < min;
      if (before) {
        base += countOf(n.left) + 1;
        n = n.right;
      } else {
        found = base + countOf(n.left);
        n = n.left;
      }
    }
    return found;
  }

  /** Rank of the first entry whose name is > name (exclusive) or ≥ name, for sets with equal scores; size if none. */
  firstRankByLex(name: string, exclusive: boolean): number {
    let n = this.root;
    let base = 0;
    let found = this.byName.size;
    while (n !== null) {
      const before = exclusive ? n.name <= name : n.name < name;
      if (before) {
        base += countOf(n.left) + 1;
        n = n.right;
      } else {
        found = base + countOf(n.left);
        n = n.left;
      }
    }
    return found;
  }

  /** Entries with ranks start..stop inclusive (already clamped), ascending, in O(log n + k). */
  range(start: number, stop: number): ZEntry[] {
    const out: ZEntry[] = [];
    let n = start <= stop ? this.nodeAt(start) : null;
    for (let k = stop - start + 1; n !== null && k > 0; k--) {
      out.push(n);
      n = successor(n);
    }
    return out;
  }

  /** Ascending entries from rank `from` (default 0) to the end; O(log n) to start, O(1) amortised per step. */
  *iterate(from = 0): IterableIterator<ZEntry> {
    for (let n = this.nodeAt(from); n !== null; n = successor(n)) yield n;
  }

  /** Descending entries from rank `from` (default size-1) down to rank 0; same costs as iterate(). */
  *iterateReverse(from = this.byName.size - 1): IterableIterator<ZEntry> {
    for (let n = this.nodeAt(from); n !== null; n = predecessor(n)) yield n;
  }

  /**
   * Entries in the order members were first added (not by score), through a
   * live Map iterator: it survives changes to the set between steps — a member
   * removed before it is reached is skipped, one added later is reached, a
   * score update keeps the member's place. What a resumable cursor (ZSCAN) needs.
   */
  *byInsertion(): IterableIterator<ZEntry> {
    yield* this.byName.values();
  }

  [Symbol.iterator](): IterableIterator<ZEntry> {
    return this.iterate(0);
  }

  private nodeAt(r: number): ZNode | null {
    if (!(r >= 0 && r < this.byName.size)) return null;
    let n = this.root;
    while (n !== null) {
      const lc = countOf(n.left);
      if (r < lc) n = n.left;
      else if (r === lc) return n;
      else {
        r -= lc + 1;
        n = n.right;
      }
    }
    return null;
  }

  /** Puts node exactly where old stands (same links, height and count); old leaves the tree. */
  private replaceInPlace(old: ZNode, node: ZNode): void {
    node.left = old.left;
    node.right = old.right;
    node.parent = old.parent;
    node.height = old.height;
    node.count = old.count;
    if (node.left !== null) node.left.parent = node;
    if (node.right !== null) node.right.parent = node;
    const parent = old.parent;
    if (parent === null) this.root = node;
    else if (parent.left === old) parent.left = node;
    else parent.right = node;
  }

  private insert(node: ZNode): void {
    if (this.root === null) {
      this.root = node;
      return;
    }
    let parent: ZNode = this.root;
    for (;;) {
      const goLeft = !lessThan(parent, node.score, node.name);
      const next: ZNode | null = goLeft ? parent.left : parent.right;
      if (next === null) {
        if (goLeft) parent.left = node;
        else parent.right = node;
        node.parent = parent;
        break;
      }
      parent = next;
    }
    this.root = fixUp(parent);
  }
}
