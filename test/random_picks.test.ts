// Uniform random picks: RSet.random (SPOP/SRANDMEMBER), Hash.random (HRANDFIELD) and
// Keyspace.randomKey (RANDOMKEY), with a seeded PRNG, checked by a chi-square test over
// collections that have been changed (adds, deletes, swap-removes) since the first pick.
import { describe, expect, test } from 'vitest';
import { distinctPicks } from '../src/commands/common.js';
import { Hash, RSet } from '../src/store/collections.js';
import { Keyspace } from '../src/store/keyspace.js';
import { prng } from '../src/util/prng.js';

/** Pearson's chi-square statistic of observed counts against a uniform expectation. */
function chiSquare(counts: Map<string, number>, members: string[], draws: number): number {
  const expected = draws / members.length;
  let x2 = 0;
  for (const m of members) {
    const o = counts.get(m) ?? 0;
    x2 += ((o - expected) * (o - expected)) / expected;
  }
  return x2;
}

/**
 * A generous bound for k−1 degrees of freedom: mean k−1, sd √(2(k−1)); eight sd above. A
 * pick that favours the first 128 members of 300 (the old behaviour) scores in the tens of thousands.
 */
const bound = (k: number): number => k - 1 + 8 * Math.sqrt(2 * (k - 1));

function draw(pick: () => string | undefined, draws: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < draws; i++) {
    const m = pick()!;
    counts.set(m, (counts.get(m) ?? 0) + 1);
  }
  return counts;
}

describe('uniform random picks', () => {
  test('RSet.random over 300 members, after deletes and adds since the first pick', () => {
    const rand = prng(1);
    const s = new RSet();
    for (let i = 0; i < 400; i++) s.add(`m${i}`);
    s.random(rand); // builds the index
    for (let i = 0; i < 400; i += 3) s.delete(`m${i}`); // swap-removes from the index
    for (let i = 0; i < 33; i++) s.add(`new${i}`);
    const members = [...s];
    const counts = draw(() => s.random(rand), 300_000);
    expect(new Set(counts.keys())).toEqual(new Set(members)); // nothing deleted is ever picked
    expect(chiSquare(counts, members, 300_000)).toBeLessThan(bound(members.length));
  });

  test('Hash.random over 300 fields', () => {
    const rand = prng(2);
    const h = new Hash();
    for (let i = 0; i < 350; i++) h.set(`f${i}`, 'v');
    h.random(rand);
    for (let i = 0; i < 50; i++) h.delete(`f${i * 7}`);
    const fields = [...h.keys()];
    const counts = draw(() => h.random(rand), 300_000);
    expect(new Set(counts.keys())).toEqual(new Set(fields));
    expect(chiSquare(counts, fields, 300_000)).toBeLessThan(bound(fields.length));
  });

  test('Keyspace.randomKey: uniform over live keys; an expired key drawn is deleted, never returned', () => {
    const rand = prng(3);
    let now = 0;
    const store = new Keyspace(() => now);
    for (let i = 0; i < 500; i++) store.put(`k${i}`, 'v');
    store.randomKey(rand);
    for (let i = 0; i < 100; i++) store.delete(`k${i}`);
    for (let i = 100; i < 200; i++) store.setDeadline(`k${i}`, 10);
    for (let i = 0; i < 50; i++) store.put(`n${i}`, 'v');
    now = 20; // k100..k199 have expired (not yet removed)
    const live = [...store.keys()];
    expect(live.length).toBe(350);
    const counts = draw(() => store.randomKey(rand), 350_000);
    expect(new Set(counts.keys())).toEqual(new Set(live));
    expect(chiSquare(counts, live, 350_000)).toBeLessThan(bound(live.length));
    expect(store.size).toBe(350); // every expired key was drawn at some point and deleted
    store.flush();
    expect(store.randomKey(rand)).toBeUndefined();
  });

  test('distinctPicks: distinct, and each member equally likely to be among them', () => {
    const rand = prng(4);
    const s = new RSet();
    for (let i = 0; i < 200; i++) s.add(String(i * 1000)); // an intset's members
    const members = [...s];
    const counts = new Map<string, number>();
    for (let r = 0; r < 20_000; r++) {
      const got = distinctPicks(s.size, 10, () => s.random(rand)!, () => s);
      expect(new Set(got).size).toBe(10);
      for (const m of got) counts.set(m, (counts.get(m) ?? 0) + 1);
    }
    expect(chiSquare(counts, members, 200_000)).toBeLessThan(bound(members.length));
  });
});
