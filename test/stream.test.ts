// The stream value type (src/store/stream.ts): order, tombstones, trimming, and
// the shape of the work — XADD and XRANGE of a small range compare O(log n)
// IDs (Stream.visits counts them), checked on 1M entries, not timed.
import { describe, expect, test } from 'vitest';
import { Crc64 } from '../src/persist/crc64.js';
import { dumpPayload, loadRdb, restorePayload, writeRdb } from '../src/persist/rdb.js';
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

  test('DUMP and SAVE write a stream that reads back the same: nodes, tombstones, counters, groups, PELs, consumers', () => {
    const s = filled(250);
    s.delete(id(7));
    s.delete(id(150));
    s.maxDeletedId = id(150);
    s.trim('maxlen', 200, ZERO_ID, false, 0);
    const t = filled(250);
    t.delete(id(3));
    t.maxDeletedId = id(3);
    const alice = { name: 'alice', seenTime: 1_700_000_000_123, pel: new IdMap<Nack>() };
    const g = { name: 'g', lastId: id(5), entriesRead: -1, pel: new IdMap<Nack>(), consumers: new Map([['alice', alice]]) };
    for (const i of [1, 2, 4]) {
      const n: Nack = { consumer: alice, deliveryTime: 1_700_000_000_000 + i, deliveryCount: i };
      g.pel.set(id(i), n);
      alice.pel.set(id(i), n);
    }
    t.groups.set('g', g);
    const back = restorePayload(dumpPayload(t, opts)) as Stream;
    expect([...back.range(ZERO_ID, MAX_ID)]).toEqual([...t.range(ZERO_ID, MAX_ID)]);
    expect([...back.nodes()]).toEqual([...t.nodes()]); // tombstones included, as Redis's listpacks keep them
    expect([back.length, back.lastId, back.firstId, back.maxDeletedId, back.entriesAdded]).toEqual([t.length, t.lastId, t.firstId, t.maxDeletedId, t.entriesAdded]);
    const bg = back.groups.get('g')!;
    expect([bg.lastId, bg.entriesRead]).toEqual([id(5), -1]);
    expect([...bg.pel.range(ZERO_ID)].map(([i, n]) => [idText(i), n.consumer.name, n.deliveryTime, n.deliveryCount])).toEqual([
      [idText(id(1)), 'alice', 1_700_000_000_001, 1],
      [idText(id(2)), 'alice', 1_700_000_000_002, 2],
      [idText(id(4)), 'alice', 1_700_000_000_004, 4],
    ]);
    const ba = bg.consumers.get('alice')!;
    expect(ba.seenTime).toBe(1_700_000_000_123);
    expect(ba.pel.get(id(2))).toBe(bg.pel.get(id(2))); // one record shared by the group and its consumer
    const ks = new Keyspace();
    ks.put('a', 'plain');
    ks.put('s', s);
    ks.put('t', t);
    const chunks: Uint8Array[] = [];
    expect(writeRdb(ks, opts, (c) => chunks.push(c.slice()))).toBe(3);
    const loaded = new Keyspace();
    loadRdb(Buffer.concat(chunks), loaded, { checksum: true, unixNowMs: 0, unixOffsetMs: 0 });
    expect([...(loaded.get('s') as Stream).range(ZERO_ID, MAX_ID)]).toEqual([...s.range(ZERO_ID, MAX_ID)]);
    expect((loaded.get('s') as Stream).length).toBe(200);
    expect(typeOf(loaded.get('t')!)).toBe('stream');
  });

  test('a stream payload whose length disagrees with its entries is refused, not loaded', () => {
    const t = filled(3);
    const good = dumpPayload(t, { ...opts, compression: false });
    expect(() => restorePayload(good)).not.toThrow();
    // After the node: length 3, then the IDs. Claim 4 entries and re-sign the payload.
    const body = Buffer.from(good.subarray(0, good.length - 10));
    const nodeEnd = body.length - 1 - 6 - 1 - 1; // length, last ID (2), first ID (2), max deleted (2), entries added, groups
    const at = body.lastIndexOf(3, nodeEnd);
    expect(at).toBeGreaterThan(0);
    body[at] = 4;
    const footer = Buffer.from(good.subarray(good.length - 10, good.length - 8));
    const crc = new Crc64();
    crc.update(body, 0, body.length);
    crc.update(footer, 0, 2);
    const sum = Buffer.alloc(8);
    crc.writeLE(sum, 0);
    expect(() => restorePayload(Buffer.concat([body, footer, sum]))).toThrow(/Bad data format/);
  });
});
