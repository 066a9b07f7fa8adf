// The book codec and the byte buffer, without sockets: incremental decoding
// at every split point, limits, reply encoding, and the client's formatting.

import { describe, expect, test } from 'vitest';
import { ByteBuffer } from '../src/loop/buffer.js';
import {
  BookWriter, decodeRequest, decodeResponse, encodeRequest, ERR_MALFORMED, ERR_TOO_LONG,
  ERR_TOO_MANY_ARGS, formatG, formatValue, K_MAX_MSG,
} from '../src/protocol/book.js';
import { ErrCode } from '../src/protocol/reply.js';

function decodeAll(buf: ByteBuffer): string[][] {
  const out: string[][] = [];
  const args: string[] = [];
  for (;;) {
    const n = decodeRequest(buf.buf, buf.start, buf.end, args);
    if (n <= 0) {
      expect(n).toBe(0);
      return out;
    }
    out.push([...args]);
    buf.consume(n);
  }
}

describe('decodeRequest', () => {
  const requests = [['set', 'k', 'v'], ['get', 'k'], [], ['zadd', 'z', '1.5', '\u00ff\u0000bin']];
  const stream = Buffer.concat(requests.map((r) => encodeRequest(r.map((s) => Buffer.from(s, 'latin1')))));

  test('every split point of a pipelined stream decodes to the same requests', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const buf = new ByteBuffer(16);
      buf.append(stream, 0, cut);
      const got = decodeAll(buf);
      buf.append(stream, cut);
      got.push(...decodeAll(buf));
      expect(got).toEqual(requests);
      expect(buf.length).toBe(0);
    }
  });

  test('limits and malformed frames are errors, not exceptions', () => {
    const args: string[] = [];
    const tooLong = Buffer.alloc(4);
    tooLong.writeUInt32LE(K_MAX_MSG + 1);
    expect(decodeRequest(tooLong, 0, 4, args)).toBe(ERR_TOO_LONG);
    const many = Buffer.alloc(8);
    many.writeUInt32LE(4, 0);
    many.writeUInt32LE(200_001, 4);
    expect(decodeRequest(many, 0, 8, args)).toBe(ERR_TOO_MANY_ARGS);
    const past = Buffer.alloc(12);
    past.writeUInt32LE(8, 0);
    past.writeUInt32LE(1, 4);
    past.writeUInt32LE(5, 8);
    expect(decodeRequest(past, 0, 12, args)).toBe(ERR_MALFORMED);
    // A count that cannot fit the payload is rejected before anything is built.
    const huge = Buffer.alloc(8);
    huge.writeUInt32LE(4, 0);
    huge.writeUInt32LE(100_000, 4);
    expect(decodeRequest(huge, 0, 8, args)).toBe(ERR_MALFORMED);
    // A frame of exactly K_MAX_MSG is merely incomplete until it arrives.
    const max = Buffer.alloc(4);
    max.writeUInt32LE(K_MAX_MSG);
    expect(decodeRequest(max, 0, 4, args)).toBe(0);
  });
});

describe('BookWriter', () => {
  test('encodes every tag and patches the length prefix', () => {
    const out = new ByteBuffer(8);
    const w = new BookWriter();
    w.begin(out);
    w.arr(6);
    w.nil();
    w.err(ErrCode.BadType, 'bad');
    w.str('h\u00e9');
    w.int(-5);
    w.int(2n ** 62n);
    w.dbl(0.25);
    w.end();
    const r = decodeResponse(out.toBuffer());
    expect(r!.size).toBe(out.length);
    expect(formatValue(r!.value)).toEqual([
      '(arr) len=6', '(nil)', '(err) 3 bad', `(str) ${Buffer.from('h\u00e9', 'latin1').toString('utf8')}`,
      '(int) -5', `(int) ${2n ** 62n}`, '(dbl) 0.25', '(arr) end',
    ]);
  });

  test('the RESP3 shapes land on the book tags as RESP2 flattens them (whatever version is passed)', () => {
    const out = new ByteBuffer(8);
    const w = new BookWriter();
    w.begin(out, { resp: 3 });
    w.arr(8);
    w.map(1), w.str('k'), w.int(1);
    w.set(1), w.str('m');
    w.bool(true);
    w.bool(false);
    w.verbatim('txt', 'text');
    w.bigNumber('123456789012345678901234567890');
    w.push(1), w.str('p');
    w.pairs(1), w.pair(), w.str('a'), w.dbl(1.5);
    w.end();
    expect(formatValue(decodeResponse(out.toBuffer())!.value)).toEqual([
      '(arr) len=8',
      '(arr) len=2', '(str) k', '(int) 1', '(arr) end',
      '(arr) len=1', '(str) m', '(arr) end',
      '(int) 1', '(int) 0', '(str) text', '(str) 123456789012345678901234567890',
      '(arr) len=1', '(str) p', '(arr) end',
      '(arr) len=2', '(str) a', '(dbl) 1.5', '(arr) end',
      '(arr) end',
    ]);
  });

  test('integers beyond 2^53 are written as int64 (saturating), never thrown on', () => {
    const out = new ByteBuffer();
    const w = new BookWriter();
    w.begin(out);
    w.arr(3);
    w.int(2 ** 60);
    w.int(1e300);
    w.int(-(2n ** 63n));
    w.end();
    expect(decodeResponse(out.toBuffer())!.value).toEqual({
      type: 'arr',
      items: [
        { type: 'int', value: 2n ** 60n },
        { type: 'int', value: 2n ** 63n - 1n },
        { type: 'int', value: -(2n ** 63n) },
      ],
    });
  });

  test('a response over k_max_msg becomes err 2', () => {
    const out = new ByteBuffer();
    const w = new BookWriter();
    w.begin(out);
    w.str('x'.repeat(K_MAX_MSG));
    w.end();
    expect(decodeResponse(out.toBuffer())!.value).toEqual({ type: 'err', code: 2, msg: 'response is too big' });
  });
});

describe('ByteBuffer', () => {
  test('consuming from the front is O(1) and compaction keeps the bytes', () => {
    const b = new ByteBuffer(8);
    b.append(Buffer.from('abcdef'));
    b.consume(4);
    expect(b.start).toBe(4);
    b.append(Buffer.from('ghijklmnop'));
    expect(b.toBuffer().toString()).toBe('efghijklmnop');
    b.consume(b.length);
    expect(b.length).toBe(0);
  });
});

test('formatG prints like printf %g', () => {
  expect(formatG(1.5)).toBe('1.5');
  expect(formatG(100)).toBe('100');
  expect(formatG(1e20)).toBe('1e+20');
  expect(formatG(0.0001)).toBe('0.0001');
  expect(formatG(0.00001)).toBe('1e-05');
  expect(formatG(123456789)).toBe('1.23457e+08');
  expect(formatG(-Infinity)).toBe('-inf');
});
