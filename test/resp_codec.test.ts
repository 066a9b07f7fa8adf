// The RESP2 codec on its own: the decoder (every split point, inline quoting,
// each protocol error, resumable partial requests), the writer's exact bytes,
// %.17g doubles, and the client-side encoder/parser.
import { describe, expect, test } from 'vitest';
import { ByteBuffer } from '../src/loop/buffer.js';
import { ErrCode } from '../src/protocol/reply.js';
import {
  ERR_INVALID_BULK,
  ERR_INVALID_MULTIBULK,
  ERR_TOO_BIG_BULK_COUNT,
  ERR_TOO_BIG_INLINE,
  ERR_TOO_BIG_MBULK_COUNT,
  ERR_UNBALANCED,
  RespWriter,
  decodeResp,
  encodeCommand,
  formatDouble17g,
  parseReply,
  respCodec,
  createRespCodec,
  respProtocolError,
} from '../src/protocol/resp.js';
import { formatLongDoubleHuman, incrByFloatText, parseLongDouble } from '../src/commands/longdouble.js';

/** Feeds chunks through a ByteBuffer as the loop does; returns the requests decoded (or the error code). */
function feed(chunks: Buffer[], maxBulkLen?: number): { requests: string[][]; error: number; left: number } {
  const inc = new ByteBuffer(16);
  const args: string[] = [];
  const requests: string[][] = [];
  for (const c of chunks) {
    inc.append(c);
    for (;;) {
      const rv = decodeResp(inc.buf, inc.start, inc.end, args, maxBulkLen);
      if (rv < 0) return { requests, error: rv, left: inc.length };
      if (rv === 0) break;
      inc.consume(rv);
      if (args.length > 0) requests.push([...args]);
    }
  }
  return { requests, error: 0, left: inc.length };
}

const bin = Buffer.from([0, 13, 10, 255, 36, 42]);
const stream = Buffer.concat([
  encodeCommand(['SET', 'key', 'value']),
  Buffer.from('PING\r\n'),
  Buffer.from('*0\r\n'),
  encodeCommand(['ECHO', bin]),
  Buffer.from('\r\n'),
  Buffer.from('set "a b" \'c\\\'d\' \\x41\n'),
  encodeCommand(['MSET', ...Array.from({ length: 40 }, (_, i) => `k${i}`)]),
  encodeCommand(['GET', '']),
]);
const expected = [
  ['SET', 'key', 'value'],
  ['PING'],
  ['ECHO', bin.toString('latin1')],
  ['set', 'a b', "c'd", '\\x41'],
  ['MSET', ...Array.from({ length: 40 }, (_, i) => `k${i}`)],
  ['GET', ''],
];

describe('decoder', () => {
  test('the whole stream at once', () => {
    expect(feed([stream])).toEqual({ requests: expected, error: 0, left: 0 });
  });

  test('every split point decodes the same', () => {
    for (let cut = 1; cut < stream.length; cut++) {
      expect(feed([stream.subarray(0, cut), stream.subarray(cut)])).toEqual({ requests: expected, error: 0, left: 0 });
    }
  });

  test('byte by byte', () => {
    const chunks = Array.from({ length: stream.length }, (_, i) => stream.subarray(i, i + 1));
    expect(feed(chunks)).toEqual({ requests: expected, error: 0, left: 0 });
  });

  test('a many-argument request in pieces resumes where it stopped', () => {
    const many = Array.from({ length: 5000 }, (_, i) => `member-${i}`);
    const req = encodeCommand(['SADD', 's', ...many]);
    const chunks: Buffer[] = [];
    for (let i = 0; i < req.length; i += 997) chunks.push(req.subarray(i, i + 997));
    expect(feed(chunks).requests).toEqual([['SADD', 's', ...many]]);
  });

  test('incomplete is 0 and consumes nothing', () => {
    const args: string[] = [];
    for (const partial of ['*', '*2', '*2\r', '*2\r\n$3\r\nGET\r\n$1', '*1\r\n$4\r\nPING\r', 'PING']) {
      const b = Buffer.from(partial);
      expect(decodeResp(b, 0, b.length, [...args])).toBe(0);
    }
  });

  test('inline quoting like sdssplitargs', () => {
    const one = (line: string) => feed([Buffer.from(line + '\r\n', 'latin1')]);
    expect(one('a  b\tc').requests).toEqual([['a', 'b', 'c']]);
    expect(one('"\\n\\r\\t\\b\\a\\"\\\\\\z"').requests).toEqual([['\n\r\t\b\x07"\\z']]);
    expect(one('"\\x4a\\x4B\\xZZ"').requests).toEqual([['JKxZZ']]); // a bad \x escape keeps just the x
    expect(one("'a\\nb'").requests).toEqual([['a\\nb']]);
    expect(one('a"b c" e').requests).toEqual([['ab c', 'e']]);
    expect(one('""').requests).toEqual([['']]);
    expect(one('a\0b c').requests).toEqual([['a']]);
    for (const bad of ['"abc', "'abc", '"a"b', "'a'b", '"a\\"', 'a"b c"d']) expect(one(bad).error).toBe(ERR_UNBALANCED);
  });

  test('protocol errors and their exact replies', () => {
    const cases: [string, number | null, string][] = [
      ['*abc\r\n', ERR_INVALID_MULTIBULK, 'ERR Protocol error: invalid multibulk length'],
      ['*2147483648\r\n', ERR_INVALID_MULTIBULK, 'ERR Protocol error: invalid multibulk length'],
      ['*01\r\n', ERR_INVALID_MULTIBULK, 'ERR Protocol error: invalid multibulk length'],
      ['*-0\r\n', ERR_INVALID_MULTIBULK, 'ERR Protocol error: invalid multibulk length'],
      ['*1\r\n$-1\r\n', ERR_INVALID_BULK, 'ERR Protocol error: invalid bulk length'],
      ['*1\r\n$x\r\n', ERR_INVALID_BULK, 'ERR Protocol error: invalid bulk length'],
      ['*1\r\n$99999999999999999999\r\n', ERR_INVALID_BULK, 'ERR Protocol error: invalid bulk length'],
      ['*1\r\nx\r\n', null, "ERR Protocol error: expected '$', got 'x'"],
      ['x'.repeat(65 * 1024), ERR_TOO_BIG_INLINE, 'ERR Protocol error: too big inline request'],
      ['*' + '1'.repeat(65 * 1024), ERR_TOO_BIG_MBULK_COUNT, 'ERR Protocol error: too big mbulk count string'],
      ['*1\r\n$' + '1'.repeat(65 * 1024), ERR_TOO_BIG_BULK_COUNT, 'ERR Protocol error: too big bulk count string'],
      ['"abc\r\n', ERR_UNBALANCED, 'ERR Protocol error: unbalanced quotes in request'],
    ];
    for (const [input, code, reply] of cases) {
      const r = feed([Buffer.from(input)]);
      if (code !== null) expect(r.error).toBe(code);
      expect(r.error).toBeLessThan(0);
      expect(respProtocolError(r.error).reply).toBe(reply);
    }
  });

  test('proto-max-bulk-len bounds $<n> before any byte of the string arrives', () => {
    expect(feed([Buffer.from('*1\r\n$11\r\n')], 10).error).toBe(ERR_INVALID_BULK);
    expect(feed([Buffer.from('*1\r\n$10\r\n0123456789\r\n')], 10).requests).toEqual([['0123456789']]);
    // A server's codec reads its limit live (CONFIG SET changes it for that server only).
    const limits = { protoMaxBulkLen: 3 };
    const codec = createRespCodec(limits);
    const b = Buffer.from('*1\r\n$4\r\n');
    expect(codec.decode(b, 0, b.length, [])).toBe(ERR_INVALID_BULK);
    limits.protoMaxBulkLen = 4;
    expect(codec.decode(b, 0, b.length, [])).toBe(0);
    expect(respCodec.decode(b, 0, b.length, [])).toBe(0);
  });

  test('a huge declared count allocates nothing before its strings arrive', () => {
    const args: string[] = [];
    const b = Buffer.from('*2147483647\r\n$1\r\na\r\n');
    expect(decodeResp(b, 0, b.length, args)).toBe(0);
    expect(args.length).toBe(1);
  });
});

describe('writer', () => {
  function encode(fn: (w: RespWriter) => void): string {
    const out = new ByteBuffer(8);
    const w = new RespWriter();
    w.begin(out);
    fn(w);
    w.end();
    return out.toBuffer().toString('latin1');
  }

  test('each reply type', () => {
    expect(encode((w) => w.nil())).toBe('$-1\r\n');
    expect(encode((w) => w.nilArr())).toBe('*-1\r\n');
    expect(encode((w) => w.status('OK'))).toBe('+OK\r\n');
    expect(encode((w) => w.err(ErrCode.BadArg, 'ERR x\r\ny'))).toBe('-ERR x  y\r\n');
    expect(encode((w) => w.str(''))).toBe('$0\r\n\r\n');
    expect(encode((w) => w.str('\0\xff\r\n'))).toBe('$4\r\n\0\xff\r\n\r\n');
    const long = 'x'.repeat(100_000);
    expect(encode((w) => w.str(long))).toBe(`$100000\r\n${long}\r\n`);
    expect(encode((w) => w.int(0))).toBe(':0\r\n');
    expect(encode((w) => w.int(-1234567890123))).toBe(':-1234567890123\r\n');
    expect(encode((w) => w.int(-(2n ** 63n)))).toBe(':-9223372036854775808\r\n');
    expect(encode((w) => w.int(2n ** 63n - 1n))).toBe(':9223372036854775807\r\n');
    expect(encode((w) => w.arr(3))).toBe('*3\r\n');
    expect(encode((w) => w.dbl(1.5))).toBe('$3\r\n1.5\r\n');
  });

  test('doubles as Redis 7.0 prints them (%.17g)', () => {
    const cases: [number, string][] = [
      [0, '0'], [-0, '-0'], [1, '1'], [-2.5, '-2.5'], [1.1, '1.1000000000000001'], [0.1, '0.10000000000000001'],
      [1e20, '1e+20'], [1e17, '1e+17'], [3e17, '3e+17'], [0.3, '0.29999999999999999'], [1e16, '10000000000000000'],
      [1e-7, '9.9999999999999995e-08'], [0.0001, '0.0001'], [0.00012, '0.00012000000000000000'.replace(/0+$/, '')],
      [123456789.123, '123456789.123'], [Infinity, 'inf'], [-Infinity, '-inf'], [5e-324, '4.9406564584124654e-324'],
      [1.7976931348623157e308, '1.7976931348623157e+308'],
    ];
    for (const [d, s] of cases) expect(formatDouble17g(d)).toBe(s);
  });
});

describe('client side', () => {
  test('encodeCommand and parseReply round-trip', () => {
    expect(encodeCommand(['GET', Buffer.from([0])]).toString('latin1')).toBe('*2\r\n$3\r\nGET\r\n$1\r\n\0\r\n');
    const bytes = Buffer.from('*3\r\n:1\r\n$-1\r\n*2\r\n+OK\r\n-ERR x\r\n');
    expect(parseReply(bytes)).toEqual({
      size: bytes.length,
      reply: {
        type: 'array',
        items: [
          { type: 'int', value: 1n },
          { type: 'bulk', value: null },
          { type: 'array', items: [{ type: 'status', value: 'OK' }, { type: 'error', value: 'ERR x' }] },
        ],
      },
    });
    expect(parseReply(bytes.subarray(0, bytes.length - 1))).toBeNull();
  });
});

describe('long double (INCRBYFLOAT)', () => {
  test('sums as x87 long double, printed %.17Lf', () => {
    expect(incrByFloatText('0.3', '5000')).toBe('5000.29999999999999982');
    expect(incrByFloatText('10.5', '0.1')).toBe('10.6');
    expect(incrByFloatText('0.1', '0.2')).toBe('0.3');
    expect(incrByFloatText('3', '-3')).toBe('0');
    expect(incrByFloatText('1', 'x')).toBe('not-float');
    expect(incrByFloatText('1', 'inf')).toBe('nan-or-inf');
    expect(incrByFloatText('1e4932', '1e4932')).toBe('nan-or-inf');
    expect(parseLongDouble('1e-5000')).toBeNull();
    expect(formatLongDoubleHuman(parseLongDouble('-0.0') as never)).toBe('0');
  });
});

describe('decoder properties (fast-check)', () => {
  test('any requests, cut into any chunks, decode to themselves', async () => {
    const fc = (await import('fast-check')).default;
    const arg = fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a));
    const request = fc.array(arg, { minLength: 1, maxLength: 8 });
    fc.assert(
      fc.property(fc.array(request, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 8 }), (reqs, cutsRaw) => {
        const bytes = Buffer.concat(reqs.map((r) => encodeCommand(r)));
        const cuts = [...new Set(cutsRaw.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const chunks: Buffer[] = [];
        let at = 0;
        for (const c of [...cuts, bytes.length]) {
          chunks.push(bytes.subarray(at, c));
          at = c;
        }
        const got = feed(chunks);
        expect(got.error).toBe(0);
        expect(got.requests).toEqual(reqs.map((r) => r.map((b) => b.toString('latin1'))));
      }),
      { numRuns: 300 },
    );
  });

  test('arbitrary bytes never throw and never consume more than they were given', async () => {
    const fc = (await import('fast-check')).default;
    const known = new Set([-1, -2, -3, -4, -5, -6]);
    const piece = fc.oneof(
      fc.constantFrom('*', '$', '\r\n', '\n', '"', "'", '\\', '*2\r\n', '$3\r\n', '-1', '0', '99', ' ', 'GET', '\0'),
      fc.string({ maxLength: 4 }),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), (parts) => {
        const b = Buffer.from(parts.join(''), 'latin1');
        const args: string[] = [];
        let p = 0;
        for (let guard = 0; guard < 1000 && p < b.length; guard++) {
          const rv = decodeResp(b, p, b.length, args);
          if (rv === 0) break;
          if (rv < 0) {
            expect(known.has(rv) || rv <= -1000).toBe(true);
            break;
          }
          expect(p + rv).toBeLessThanOrEqual(b.length);
          p += rv;
        }
      }),
      { numRuns: 1000 },
    );
  });
});
