// Property tests (fast-check) for both request decoders: any chunking of a
// valid byte stream decodes to the same requests; arbitrary or mutated bytes
// give a request, "incomplete" or a protocol error, never an exception; a
// huge declared length never makes the decoder allocate by it.

import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { ByteBuffer } from '../src/loop/buffer.js';
import { decodeRequest, encodeRequest, K_MAX_ARGS, K_MAX_MSG } from '../src/protocol/book.js';
import * as resp from '../src/protocol/resp.js';

type Decode = (buf: Buffer, start: number, end: number, args: string[]) => number;

/** A binary string (one char per byte), as the decoders produce. */
const binStr = (maxLength: number) => fc.uint8Array({ maxLength }).map((u) => Buffer.from(u).toString('latin1'));
const request = fc.array(binStr(40), { minLength: 1, maxLength: 8 });
const requests = fc.array(request, { minLength: 1, maxLength: 20 });

/** Cuts bytes at the given points (any order, duplicates allowed). */
function chunk(bytes: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of at) {
    out.push(bytes.subarray(prev, c));
    prev = c;
  }
  out.push(bytes.subarray(prev));
  return out;
}

/**
 * Feeds chunks through a ByteBuffer the way the loop does (append what read()
 * returned, decode every complete request, consume each one's bytes) with one
 * args array per connection, as a session keeps it. Returns the requests, or
 * the first negative result.
 */
function feed(decode: Decode, chunks: Buffer[]): { reqs: string[][]; error: number; left: number } {
  const inc = new ByteBuffer(16);
  const args: string[] = [];
  const reqs: string[][] = [];
  for (const c of chunks) {
    inc.append(c);
    for (;;) {
      const rv = decode(inc.buf, inc.start, inc.end, args);
      if (rv < 0) return { reqs, error: rv, left: inc.length };
      if (rv === 0) break;
      expect(rv).toBeLessThanOrEqual(inc.length);
      inc.consume(rv);
      if (args.length > 0) reqs.push([...args]);
    }
  }
  return { reqs, error: 0, left: inc.length };
}

/** Every outcome a decoder may give on any bytes: consumed (within bounds), 0, or negative. Never a throw. */
function checkAnyBytes(decode: Decode, bytes: Buffer, start: number): void {
  const args: string[] = [];
  const s = Math.min(start, bytes.length);
  const rv = decode(bytes, s, bytes.length, args);
  expect(Number.isInteger(rv)).toBe(true);
  if (rv > 0) {
    expect(rv).toBeLessThanOrEqual(bytes.length - s);
    for (const a of args) expect(typeof a).toBe('string');
  }
}

/** Valid frames with some bytes overwritten, some dropped, and cut short. */
function mutated(encode: (r: string[]) => Buffer) {
  return fc
    .tuple(requests, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.nat())
    .map(([reqs, flips, cut]) => {
      const b = Buffer.concat(reqs.map(encode));
      for (const [at, v] of flips) b[at % b.length] = v;
      return b.subarray(0, b.length - (cut % Math.max(1, b.length >> 2)));
    });
}

const bookEncode = (r: string[]) => encodeRequest(r.map((a) => Buffer.from(a, 'latin1')));

describe('book decoder', () => {
  test('any chunking of a valid stream decodes to the same requests', () => {
    fc.assert(
      fc.property(requests, fc.array(fc.nat(), { maxLength: 30 }), (reqs, cuts) => {
        const bytes = Buffer.concat(reqs.map(bookEncode));
        const got = feed(decodeRequest, chunk(bytes, cuts));
        expect(got.error).toBe(0);
        expect(got.left).toBe(0);
        expect(got.reqs).toEqual(reqs);
      }),
      { numRuns: 300 },
    );
  });

  test('arbitrary bytes give a request, incomplete or an error — never an exception', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(8), (u, start) => checkAnyBytes(decodeRequest, Buffer.from(u), start)),
      { numRuns: 2000 },
    );
  });

  test('mutated and truncated valid frames never throw, fed whole or in chunks', () => {
    fc.assert(
      fc.property(mutated(bookEncode), fc.array(fc.nat(), { maxLength: 10 }), (bytes, cuts) => {
        checkAnyBytes(decodeRequest, bytes, 0);
        feed(decodeRequest, chunk(bytes, cuts));
      }),
      { numRuns: 1000 },
    );
  });

  test('huge declared lengths and counts: incomplete or an error at once, nothing allocated by them', () => {
    const before = process.memoryUsage();
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.uint8Array({ maxLength: 32 }),
        (len, nstr, slen, tail) => {
          const head = Buffer.alloc(12);
          head.writeUInt32LE(len, 0);
          head.writeUInt32LE(nstr, 4);
          head.writeUInt32LE(slen, 8);
          const bytes = Buffer.concat([head, tail]);
          const args: string[] = [];
          const rv = decodeRequest(bytes, 0, bytes.length, args);
          if (len > K_MAX_MSG) expect(rv).toBeLessThan(0);
          else if (len + 4 > bytes.length) expect(rv).toBe(0);
          if (nstr > K_MAX_ARGS && len + 4 <= bytes.length) expect(rv).toBeLessThan(0);
          if (rv <= 0) expect(args.length).toBe(0);
        },
      ),
      { numRuns: 3000 },
    );
    const after = process.memoryUsage();
    // 3000 runs each allocating by a declared length would be gigabytes.
    expect(after.arrayBuffers + after.heapUsed - before.arrayBuffers - before.heapUsed).toBeLessThan(64 << 20);
  });
});

// The RESP decoder is tested once src/protocol/resp.ts provides it (it began as a stub).
const respDecode = (resp as Record<string, unknown>).decodeResp as ((buf: Buffer, s: number, e: number, a: string[], max?: number) => number) | undefined;
const respEncode = (resp as Record<string, unknown>).encodeCommand as ((args: readonly (string | Uint8Array)[]) => Buffer) | undefined;

describe.skipIf(respDecode === undefined || respEncode === undefined)('RESP decoder', () => {
  const decode: Decode = (buf, s, e, a) => respDecode!(buf, s, e, a);
  const encode = (r: string[]) => respEncode!(r.map((a) => Buffer.from(a, 'latin1')));
  /** Inline commands: words of printable non-space characters without quotes or backslashes. */
  const word = fc.stringMatching(/^[A-Za-z0-9_:.{}-]{1,12}$/);
  const inline = fc.array(word, { minLength: 1, maxLength: 6 });

  test('any chunking of a valid multibulk stream decodes to the same requests', () => {
    fc.assert(
      fc.property(requests, fc.array(fc.nat(), { maxLength: 30 }), (reqs, cuts) => {
        const bytes = Buffer.concat(reqs.map(encode));
        const got = feed(decode, chunk(bytes, cuts));
        expect(got.error).toBe(0);
        expect(got.left).toBe(0);
        expect(got.reqs).toEqual(reqs);
      }),
      { numRuns: 300 },
    );
  });

  test('any chunking of mixed inline and multibulk requests decodes to the same requests', () => {
    const either = fc.oneof(
      request.map((r) => ({ r, bytes: encode(r) })),
      inline.map((r) => ({ r, bytes: Buffer.from(`${r.join(' ')}\r\n`, 'latin1') })),
    );
    fc.assert(
      fc.property(fc.array(either, { minLength: 1, maxLength: 15 }), fc.array(fc.nat(), { maxLength: 30 }), (items, cuts) => {
        const bytes = Buffer.concat(items.map((i) => i.bytes));
        const got = feed(decode, chunk(bytes, cuts));
        expect(got.error).toBe(0);
        expect(got.left).toBe(0);
        expect(got.reqs).toEqual(items.map((i) => i.r));
      }),
      { numRuns: 300 },
    );
  });

  test('arbitrary bytes give a request, incomplete or an error — never an exception', () => {
    const respish = fc.array(
      fc.oneof(
        fc.constantFrom('*', '$', '\r\n', '\r', '\n', '-1', '0', '3', '"', "'", '\\x4', ' ', '99999999999999999999'),
        binStr(6),
      ),
      { maxLength: 40 },
    ).map((parts) => Buffer.from(parts.join(''), 'latin1'));
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }).map((u) => Buffer.from(u)), respish), fc.nat(8), (bytes, start) =>
        checkAnyBytes(decode, bytes, start),
      ),
      { numRuns: 3000 },
    );
  });

  test('mutated and truncated valid requests never throw, fed whole or in chunks', () => {
    fc.assert(
      fc.property(mutated(encode), fc.array(fc.nat(), { maxLength: 10 }), (bytes, cuts) => {
        checkAnyBytes(decode, bytes, 0);
        feed(decode, chunk(bytes, cuts));
      }),
      { numRuns: 1000 },
    );
  });

  test('huge declared counts and bulk lengths: incomplete or an error, nothing allocated by them', () => {
    const before = process.memoryUsage();
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }), fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }), binStr(16), (n, len, tail) => {
        const bytes = Buffer.from(`*${n}\r\n$${len}\r\n${tail}`, 'latin1');
        const args: string[] = [];
        const rv = decode(bytes, 0, bytes.length, args);
        expect(Number.isInteger(rv)).toBe(true);
        if (n > 1024n * 1024n) expect(rv).toBeLessThan(0);
        if (n >= 1n && n <= 1024n * 1024n && (len < 0n || len > 512n * 1024n * 1024n)) expect(rv).toBeLessThan(0);
      }),
      { numRuns: 3000 },
    );
    const after = process.memoryUsage();
    expect(after.arrayBuffers + after.heapUsed - before.arrayBuffers - before.heapUsed).toBeLessThan(64 << 20);
  });
});
