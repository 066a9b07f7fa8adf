// The stream value type (src/store/stream.ts): order, tombstones, trimming, and
// the shape of the work — XADD and XRANGE of a small range compare O(log n)
// IDs (Stream.visits counts them), checked on 1M entries, not timed.
import { describe, expect, test } from 'vitest';
import { RdbUnsupportedError, dumpPayload, writeRdb } from '../src/persist/rdb.js';
import { Keyspace, typeOf } from '../src/store/keyspace.js';
import { IdMap, MAX_ID, NODE_MAX_ENTRIES, Stream, ZERO_ID, idText, type Nack, type StreamID } from '../src/store/stream.js';

const id = (ms: number, seq = 0): StreamID => ({ ms: BigInt(ms), seq: BigInt(seq) });
const FIELDS = ['f', 'v'];

function filled(n: number): Stream {
  const s = new Stream();
  for (let i = 1; i <= n; i++) s.append(id(i), FIELDS);
  return s;
}

describe('Stream', () => {
  test('XADD and XRANGE of a small range compare O(log n) IDs on 1M entries', () => {
    const n = 1_000_000;
    const s = filled(n);
    expect(s.length).toBe(n);
    expect(s.chunkCount).toBe(n / NODE_MAX_ENTRIES);
    // Appending searches nothing.
    const before = s.visits;
    s.append(id(n + 1), FIELDS);
    expect(s.visits - before).toBe(0);
    const log2n = Math.ceil(Math.log2(n + 1));
    for (const start of [1, 2, 499_999, 777_777, n - 3]) {
      const v0 = s.visits;
      const got = [...s.range(id(start), id(start + 4))].map((e) => idText(e.id));
      expect(got).toEqual([0, 1, 2, 3, 4].map((k) => `${start + k}-0`));
      expect(s.visits - v0).toBeLessThanOrEqual(log2n + 2);
      const v1 = s.visits;
      const rev = [...s.revRange(id(start), id(start + 4), 2)].map((e) => idText(e.id));
      expect(rev).toEqual([`${start + 4}-0`, `${start + 3}-0`]);
      expect(s.visits - v1).toBeLessThanOrEqual(log2n + 2);
    }
    // The same search on 1K entries costs only ~log2(1000) fewer comparisons: the growth is logarithmic.
    const small = filled(1000);
    const v = small.visits;
    [...small.range(id(500), id(504))];
    expect(small.visits - v).toBeGreaterThan(0);
    expect(small.visits - v).toBeLessThanOrEqual(Math.ceil(Math.log2(1001)) + 2);
  });

  test('XDEL leaves tombstones that searches step over; an emptied chunk goes', () => {
    const s = filled(250);
    expect(s.delete(id(1))).toBe(true);
    expect(s.delete(id(1))).toBe(false);
    s.refreshFirst();
    expect(idText(s.firstId)).toBe('2-0');
    for (let i = 2; i <= 100; i++) s.delete(id(i));
    expect(s.chunkCount).toBe(2);
    s.delete(id(150));
    expect([...s.range(id(149), id(151))].map((e) => idText(e.id))).toEqual(['149-0', '151-0']);
    expect([...s.revRange(id(149), id(151))].map((e) => idText(e.id))).toEqual(['151-0', '149-0']);
    expect(s.get(id(150))).toBeUndefined();
    expect(s.length).toBe(149);
    expect(s.lastEntry()!.id).toEqual(id(250));
  });

  test('trimming: ~ removes whole chunks only, = also inside the first; LIMIT caps whole-chunk removal', () => {
    const s = filled(350);
    expect(s.trim('maxlen', 300, ZERO_ID, true, 0)).toBe(0);
    expect(s.trim('maxlen', 160, ZERO_ID, true, 0)).toBe(100);
    expect(s.trim('maxlen', 120, ZERO_ID, false, 0)).toBe(130);
    expect(idText(s.firstId)).toBe('231-0');
    expect(s.trim('minid', 0, id(300), true, 0)).toBe(0); // the chunk's last ID is not below 300-0
    expect(s.trim('minid', 0, id(301), true, 0)).toBe(70);
    expect(s.trim('maxlen', 0, ZERO_ID, true, 10)).toBe(0);
    expect(s.trim('minid', 0, MAX_ID, false, 0)).toBe(50);
    expect(s.length).toBe(0);
    expect(s.firstId).toEqual(ZERO_ID);
  });

  test('clone is deep: groups and PELs included', () => {
    const s = filled(3);
    const consumer = { name: 'c', seenTime: 0, pel: new IdMap<Nack>() };
    const nack: Nack = { consumer, deliveryTime: 5, deliveryCount: 1 };
    consumer.pel.set(id(1), nack);
    const pel = new IdMap<Nack>();
    pel.set(id(1), nack);
    s.groups.set('g', { name: 'g', lastId: id(2), entriesRead: 2, pel, consumers: new Map([['c', consumer]]) });
    const t = s.clone();
    const tg = t.groups.get('g')!;
    expect(tg.pel.get(id(1))!.consumer).toBe(tg.consumers.get('c'));
    tg.pel.get(id(1))!.deliveryCount = 7;
    expect(nack.deliveryCount).toBe(1);
    t.append(id(9), FIELDS);
    expect(s.length).toBe(3);
    expect(t.length).toBe(4);
    expect(t.groups.get('g')!.lastId).toEqual(id(2));
  });
});

describe('streams and RDB', () => {
  const opts = { compression: true, checksum: true, redisVersion: '7.0.15', unixNowMs: 0, unixOffsetMs: 0, usedMem: 0 };

  test('the writer refuses a stream clearly: DUMP and SAVE throw RdbUnsupportedError, nothing half-written', () => {
    const s = filled(3);
    expect(() => dumpPayload(s, opts)).toThrow(RdbUnsupportedError);
    expect(() => dumpPayload(s, opts)).toThrow(/no RDB encoding for streams/);
    const ks = new Keyspace();
    ks.put('a', 'plain');
    ks.put('s', s);
    const chunks: Uint8Array[] = [];
    expect(() => writeRdb(ks, opts, (c) => chunks.push(c.slice()))).toThrow(RdbUnsupportedError);
    expect(typeOf(s)).toBe('stream');
  });
});
