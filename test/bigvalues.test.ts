// Unit tests of how large string values are held (src/store/bytes.ts,
// Keyspace.store): as Bytes off V8's heap from BIG_VALUE bytes on, counted by
// their capacity, written into replies from their bytes, changed in place by
// APPEND and SETRANGE. Redis-exact replies: test/compat/bigvalues.test.ts.

import { describe, expect, it } from 'vitest';
import { bookStringCommands } from '../src/commands/book/strings.js';
import { respStringCommands } from '../src/commands/resp/strings.js';
import type { CommandContext } from '../src/commands/types.js';
import { ByteBuffer } from '../src/loop/buffer.js';
import { RespWriter } from '../src/protocol/resp.js';
import { BookWriter } from '../src/protocol/book.js';
import { BIG_VALUE, Bytes, retiredBytes } from '../src/store/bytes.js';
import { Keyspace } from '../src/store/keyspace.js';
import { valueBytes } from '../src/store/memsize.js';
import { Recorder, type Reply } from './helpers/recorder.js';

const specs = new Map(respStringCommands.map((c) => [c.name, c]));

function fresh(): { store: Keyspace; cmd: (...args: string[]) => Reply } {
  const store = new Keyspace();
  const config = new Map<string, string>();
  return {
    store,
    cmd: (...args) => {
      const w = new Recorder();
      specs.get(args[0].toLowerCase())!.run(args, w, { store, server: { config }, counters: { settings: { notifyKeyspaceEvents: 0 } } } as unknown as CommandContext);
      return w.reply();
    },
  };
}

const big = 'a\r\n\0\xff'.repeat(Math.ceil(BIG_VALUE / 5)).slice(0, BIG_VALUE + 10);

describe('large string values', () => {
  it('are stored as Bytes from BIG_VALUE bytes on, as strings below', () => {
    const { store, cmd } = fresh();
    cmd('SET', 'small', big.slice(0, BIG_VALUE - 1));
    cmd('SET', 'at', big.slice(0, BIG_VALUE));
    cmd('SET', 'big', big);
    expect(typeof store.getRaw('small')).toBe('string');
    expect(store.getRaw('at')).toBeInstanceOf(Bytes);
    const b = store.getRaw('big') as Bytes;
    expect(b).toBeInstanceOf(Bytes);
    expect(b.toString()).toBe(big);
    expect(store.get('big')).toBe(big);
    expect(cmd('GET', 'big')).toBe(big);
  });

  it('never cache their string (the value would be held twice, uncounted)', () => {
    const { store } = fresh();
    store.put('k', big);
    const b = store.getRaw('k') as Bytes;
    b.toString();
    expect((b as unknown as { text: string | null }).text).toBeNull();
  });

  it('are counted in used memory by their capacity, and the count leaves with them', () => {
    const { store, cmd } = fresh();
    const before = store.datasetBytes();
    cmd('SET', 'k', big);
    const b = store.getRaw('k') as Bytes;
    expect(valueBytes(b)).toBeGreaterThanOrEqual(big.length);
    const afterSet = store.datasetBytes();
    expect(afterSet - before).toBeGreaterThanOrEqual(big.length);
    cmd('APPEND', 'k', 'x'.repeat(100_000));
    store.settle();
    expect(store.datasetBytes() - before).toBeGreaterThanOrEqual(big.length + 100_000);
    store.delete('k');
    store.settle();
    expect(store.datasetBytes()).toBe(before);
  });

  it('APPEND and SETRANGE change the Bytes in place; SET replaces it', () => {
    const { store, cmd } = fresh();
    cmd('SET', 'k', big);
    const b = store.getRaw('k');
    expect(cmd('APPEND', 'k', 'xyz')).toBe(big.length + 3);
    expect(store.getRaw('k')).toBe(b);
    expect(cmd('SETRANGE', 'k', '1', 'QQ')).toBe(big.length + 3);
    expect(store.getRaw('k')).toBe(b);
    expect(cmd('GET', 'k')).toBe(big[0] + 'QQ' + big.slice(3) + 'xyz');
    expect(cmd('SETRANGE', 'k', String(big.length + 10), 'end')).toBe(big.length + 13);
    expect(cmd('GETRANGE', 'k', String(big.length), '-1')).toBe('xyz' + '\0'.repeat(7) + 'end');
    cmd('SET', 'k', 'small');
    expect(store.getRaw('k')).toBe('small');
  });

  it("an overwritten value's buffer serves the next value of its length; others are not taken", () => {
    const { store, cmd } = fresh();
    const other = big.replace(/a/g, 'b');
    cmd('SET', 'k', big);
    const first = (store.getRaw('k') as Bytes).buf;
    const held = retiredBytes();
    cmd('SET', 'k', other);
    expect(retiredBytes()).toBe(held + big.length);
    expect(cmd('GET', 'k')).toBe(other);
    cmd('SET', 'j', big);
    expect(retiredBytes()).toBe(held);
    expect((store.getRaw('j') as Bytes).buf).toBe(first);
    expect(cmd('GET', 'j')).toBe(big);
    expect(cmd('GET', 'k')).toBe(other);
    // The same value stored again is not retired; a grown (appended) value's buffer is not taken.
    const b = store.getRaw('j');
    store.put('j', b!);
    expect(retiredBytes()).toBe(held);
    cmd('APPEND', 'j', 'x');
    cmd('SET', 'j', 'small');
    expect(retiredBytes()).toBe(held);
  });

  it('INCR on a large value fails without converting it', () => {
    const { cmd } = fresh();
    cmd('SET', 'k', big);
    expect(cmd('INCR', 'k')).toEqual({ err: 4, msg: 'ERR value is not an integer or out of range' });
  });
});

describe('ReplyWriter.bytes', () => {
  const value = Buffer.from('x\r\n\0\xffy', 'latin1');
  it('RESP2 and RESP3 write the same bulk string as str()', () => {
    for (const resp of [2, 3] as const) {
      const a = new ByteBuffer();
      const b = new ByteBuffer();
      const w = new RespWriter();
      w.begin(a, { resp });
      w.str(value.toString('latin1'));
      w.begin(b, { resp });
      w.bytes(value, value.length);
      expect(b.toBuffer()).toEqual(a.toBuffer());
      // Only the first n bytes of a larger buffer.
      const c = new ByteBuffer();
      w.begin(c, { resp });
      w.bytes(Buffer.concat([value, Buffer.from('junk')]), value.length);
      expect(c.toBuffer()).toEqual(a.toBuffer());
    }
  });

  it('the book protocol writes the same str as str()', () => {
    const a = new ByteBuffer();
    const b = new ByteBuffer();
    const w = new BookWriter();
    w.begin(a);
    w.str(value.toString('latin1'));
    w.end();
    w.begin(b);
    w.bytes(value, value.length);
    w.end();
    expect(b.toBuffer()).toEqual(a.toBuffer());
  });

  it("the book's GET replies with a large value's bytes", () => {
    const store = new Keyspace();
    store.put('k', big);
    const w = new Recorder();
    bookStringCommands.find((c) => c.name === 'get')!.run(['get', 'k'], w, { store } as unknown as CommandContext);
    expect(w.reply()).toBe(big);
  });
});
