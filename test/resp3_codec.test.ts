// The RESP3 writer against a RESP3 parser written here from the spec
// (github.com/redis/redis-specifications, protocol/RESP3.md), independent of
// src/: random reply trees encode and decode back to themselves, every prefix
// of an encoding is incomplete (so framing survives any split, 1-byte splits
// included), and the same trees in RESP2 are exactly the flattening Redis does
// for a RESP2 client.

import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ByteBuffer } from '../src/loop/buffer.js';
import { ErrCode, type ReplyWriter } from '../src/protocol/reply.js';
import { parseReply, RespWriter } from '../src/protocol/resp.js';

// ---- reply trees: what a command can write ----

type Tree =
  | { k: 'nil' }
  | { k: 'nilArr' }
  | { k: 'str'; s: string }
  | { k: 'status'; s: string }
  | { k: 'err'; s: string }
  | { k: 'int'; n: bigint }
  | { k: 'dbl'; d: number }
  | { k: 'bool'; b: boolean }
  | { k: 'verbatim'; format: string; s: string }
  | { k: 'big'; digits: string }
  | { k: 'arr' | 'set' | 'push'; items: Tree[] }
  | { k: 'map'; entries: [Tree, Tree][] }
  | { k: 'pairs'; entries: [Tree, Tree][] };

/** Writes a tree through the writer's methods, as a command would. */
function write(w: ReplyWriter, t: Tree): void {
  switch (t.k) {
    case 'nil': return w.nil();
    case 'nilArr': return w.nilArr();
    case 'str': return w.str(t.s);
    case 'status': return w.status(t.s);
    case 'err': return w.err(ErrCode.Unknown, t.s);
    case 'int': return w.int(t.n);
    case 'dbl': return w.dbl(t.d);
    case 'bool': return w.bool(t.b);
    case 'verbatim': return w.verbatim(t.format, t.s);
    case 'big': return w.bigNumber(t.digits);
    case 'arr': w.arr(t.items.length); break;
    case 'set': w.set(t.items.length); break;
    case 'push': w.push(t.items.length); break;
    case 'map':
      w.map(t.entries.length);
      for (const [a, b] of t.entries) write(w, a), write(w, b);
      return;
    case 'pairs':
      w.pairs(t.entries.length);
      for (const [a, b] of t.entries) w.pair(), write(w, a), write(w, b);
      return;
  }
  for (const x of t.items) write(w, x);
}

function encode(trees: Tree[], resp: 2 | 3): Buffer {
  const out = new ByteBuffer(16);
  const w = new RespWriter();
  for (const t of trees) {
    w.begin(out, { resp });
    write(w, t);
    w.end();
  }
  return out.toBuffer();
}

/** Binary strings: any byte, CR and LF included. */
const bytes = fc.uint8Array({ maxLength: 40 }).map((a) => String.fromCharCode(...a));
/** A line's text: no CR or LF (the writer turns them into spaces in errors; statuses never hold them). */
const lineText = fc.string({ maxLength: 30 }).map((s) => s.replace(/[^\x20-\x7e]/g, 'x'));
const leaf: fc.Arbitrary<Tree> = fc.oneof(
  fc.constant<Tree>({ k: 'nil' }),
  fc.constant<Tree>({ k: 'nilArr' }),
  bytes.map<Tree>((s) => ({ k: 'str', s })),
  lineText.map<Tree>((s) => ({ k: 'status', s })),
  lineText.map<Tree>((s) => ({ k: 'err', s: `ERR ${s}` })),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map<Tree>((n) => ({ k: 'int', n })),
  fc.oneof(fc.double(), fc.constantFrom(Infinity, -Infinity, NaN, -0, 0, 1.1, 1e20)).map<Tree>((d) => ({ k: 'dbl', d })),
  fc.boolean().map<Tree>((b) => ({ k: 'bool', b })),
  fc.tuple(fc.constantFrom('txt', 'mkd'), bytes).map<Tree>(([format, s]) => ({ k: 'verbatim', format, s })),
  fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }).map<Tree>((n) => ({ k: 'big', digits: String(n) })),
);
const { tree } = fc.letrec<{ tree: Tree }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.tuple(fc.constantFrom('arr', 'set', 'push') as fc.Arbitrary<'arr' | 'set' | 'push'>, fc.array(tie('tree'), { maxLength: 4 })).map<Tree>(([k, items]) => ({ k, items })),
    fc.tuple(fc.constantFrom('map', 'pairs') as fc.Arbitrary<'map' | 'pairs'>, fc.array(fc.tuple(tie('tree'), tie('tree')), { maxLength: 3 })).map<Tree>(([k, entries]) => ({ k, entries })),
  ),
}));

// ---- a RESP3 parser from the spec ----

/** What a RESP3 client sees. */
type Wire =
  | { t: 'null' }
  | { t: 'blob'; s: string }
  | { t: 'simple'; s: string }
  | { t: 'error'; s: string }
  | { t: 'int'; n: bigint }
  | { t: 'double'; d: number }
  | { t: 'bool'; b: boolean }
  | { t: 'verbatim'; format: string; s: string }
  | { t: 'big'; digits: string }
  | { t: 'array' | 'set' | 'push'; items: Wire[] }
  | { t: 'map'; entries: [Wire, Wire][] };

const INCOMPLETE = null;

/** Parses one RESP3 value at b[p]: [value, next offset], or null when the bytes end first. Throws on anything the spec does not allow. */
function parse3(b: Buffer, p: number): [Wire, number] | null {
  if (p >= b.length) return INCOMPLETE;
  let eol = -1;
  for (let i = p + 1; i + 1 < b.length; i++) {
    if (b[i] === 13) {
      if (b[i + 1] !== 10) throw new Error(`CR without LF at ${i}`);
      eol = i;
      break;
    }
  }
  if (eol < 0) return INCOMPLETE;
  const line = b.toString('latin1', p + 1, eol);
  const next = eol + 2;
  const count = (): number => {
    if (!/^(0|[1-9][0-9]*)$/.test(line)) throw new Error(`bad length ${JSON.stringify(line)}`);
    return Number(line);
  };
  const blob = (): [string, number] | null => {
    const n = count();
    if (b.length < next + n + 2) return INCOMPLETE;
    if (b[next + n] !== 13 || b[next + n + 1] !== 10) throw new Error('blob not followed by CRLF');
    return [b.toString('latin1', next, next + n), next + n + 2];
  };
  const many = (n: number, q: number): [Wire[], number] | null => {
    const items: Wire[] = [];
    for (let i = 0; i < n; i++) {
      const r = parse3(b, q);
      if (r === INCOMPLETE) return INCOMPLETE;
      items.push(r[0]);
      q = r[1];
    }
    return [items, q];
  };
  switch (String.fromCharCode(b[p])) {
    case '_':
      if (line !== '') throw new Error('null with a body');
      return [{ t: 'null' }, next];
    case '+': return [{ t: 'simple', s: line }, next];
    case '-': return [{ t: 'error', s: line }, next];
    case ':':
      if (!/^-?(0|[1-9][0-9]*)$/.test(line)) throw new Error(`bad integer ${line}`);
      return [{ t: 'int', n: BigInt(line) }, next];
    case ',': {
      // The spec: inf, -inf, nan, or a decimal with an optional exponent.
      if (!/^(inf|-inf|nan|-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?)$/.test(line)) throw new Error(`bad double ${line}`);
      const d = line === 'inf' ? Infinity : line === '-inf' ? -Infinity : line === 'nan' ? NaN : Number(line);
      return [{ t: 'double', d }, next];
    }
    case '#':
      if (line !== 't' && line !== 'f') throw new Error(`bad boolean ${line}`);
      return [{ t: 'bool', b: line === 't' }, next];
    case '(':
      if (!/^-?[0-9]+$/.test(line)) throw new Error(`bad big number ${line}`);
      return [{ t: 'big', digits: line }, next];
    case '$': {
      const r = blob();
      return r === INCOMPLETE ? INCOMPLETE : [{ t: 'blob', s: r[0] }, r[1]];
    }
    case '=': {
      const r = blob();
      if (r === INCOMPLETE) return INCOMPLETE;
      if (r[0].length < 4 || r[0][3] !== ':') throw new Error('verbatim string without its format');
      return [{ t: 'verbatim', format: r[0].slice(0, 3), s: r[0].slice(4) }, r[1]];
    }
    case '*':
    case '~':
    case '>': {
      const r = many(count(), next);
      const t = b[p] === 42 ? 'array' : b[p] === 126 ? 'set' : 'push';
      return r === INCOMPLETE ? INCOMPLETE : [{ t, items: r[0] }, r[1]];
    }
    case '%': {
      const r = many(2 * count(), next);
      if (r === INCOMPLETE) return INCOMPLETE;
      const entries: [Wire, Wire][] = [];
      for (let i = 0; i < r[0].length; i += 2) entries.push([r[0][i], r[0][i + 1]]);
      return [{ t: 'map', entries }, r[1]];
    }
    default:
      throw new Error(`unknown type byte ${b[p]} at ${p}`);
  }
}

/** What a tree must look like to a RESP3 client (Redis 7.0's encoding of each shape). */
function expected3(t: Tree): Wire {
  switch (t.k) {
    case 'nil':
    case 'nilArr': return { t: 'null' };
    case 'str': return { t: 'blob', s: t.s };
    case 'status': return { t: 'simple', s: t.s };
    case 'err': return { t: 'error', s: t.s };
    case 'int': return { t: 'int', n: t.n };
    case 'dbl': return { t: 'double', d: t.d };
    case 'bool': return { t: 'bool', b: t.b };
    case 'verbatim': return { t: 'verbatim', format: t.format, s: t.s };
    case 'big': return { t: 'big', digits: t.digits };
    case 'arr': return { t: 'array', items: t.items.map(expected3) };
    case 'set':
    case 'push': return { t: t.k, items: t.items.map(expected3) };
    case 'map': return { t: 'map', entries: t.entries.map(([a, b]) => [expected3(a), expected3(b)]) };
    case 'pairs': return { t: 'array', items: t.entries.map(([a, b]) => ({ t: 'array', items: [expected3(a), expected3(b)] })) };
  }
}

/** The same tree as a RESP2 client gets it, written with the RESP2-era methods only (arr, str, int, nil, nilArr). */
function flatten2(t: Tree): Tree {
  switch (t.k) {
    case 'bool': return { k: 'int', n: t.b ? 1n : 0n };
    case 'verbatim': return { k: 'str', s: t.s };
    case 'big': return { k: 'str', s: t.digits };
    case 'arr':
    case 'set':
    case 'push': return { k: 'arr', items: t.items.map(flatten2) };
    case 'map':
    case 'pairs': return { k: 'arr', items: t.entries.flatMap(([a, b]) => [flatten2(a), flatten2(b)]) };
    default: return t;
  }
}

/** Doubles compared as values (NaN equals NaN, -0 is not 0), everything else structurally. */
function same(a: Wire, b: Wire): boolean {
  if (a.t === 'double' && b.t === 'double') return Object.is(a.d, b.d);
  if (a.t !== b.t) return false;
  if ('items' in a && 'items' in b) return a.items.length === b.items.length && a.items.every((x, i) => same(x, b.items[i]));
  if (a.t === 'map' && b.t === 'map') return a.entries.length === b.entries.length && a.entries.every(([k, v], i) => same(k, b.entries[i][0]) && same(v, b.entries[i][1]));
  return JSON.stringify(a, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)) === JSON.stringify(b, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));
}

describe('RESP3 writer', () => {
  test('decode(encode3(tree)) is the tree, for random trees', () => {
    fc.assert(
      fc.property(tree, (t) => {
        const b = encode([t], 3);
        const r = parse3(b, 0);
        expect(r).not.toBeNull();
        expect(r![1]).toBe(b.length);
        expect(same(r![0], expected3(t)), JSON.stringify(r![0], (_k, v) => (typeof v === 'bigint' ? `${v}` : v))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  test('framing: every prefix is incomplete, and a stream fed one byte at a time yields the same replies at the same boundaries', () => {
    fc.assert(
      fc.property(fc.array(tree, { minLength: 1, maxLength: 4 }), (trees) => {
        const b = encode(trees, 3);
        const ends: number[] = [];
        let p = 0;
        for (const t of trees) {
          const r = parse3(b, p)!;
          expect(same(r[0], expected3(t))).toBe(true);
          p = r[1];
          ends.push(p);
        }
        expect(p).toBe(b.length);
        // One byte at a time: a reply is complete exactly when its last byte has arrived.
        let start = 0;
        const seen: number[] = [];
        for (let n = 1; n <= b.length; n++) {
          const got = parse3(b.subarray(0, n), start);
          if (got !== INCOMPLETE) {
            seen.push(n);
            start = got[1];
          }
          // The client-side parser the harness uses frames the same way.
          const theirs = parseReply(b, ends[seen.length - 1] ?? 0, n);
          if (seen.length < trees.length && n < ends[seen.length]) expect(theirs).toBeNull();
        }
        expect(seen).toEqual(ends);
      }),
      { numRuns: 200 },
    );
  });

  test('RESP2: each shape is the flat RESP2 reply Redis sends a RESP2 client, byte for byte', () => {
    fc.assert(
      fc.property(tree, (t) => {
        expect(encode([t], 2).toString('latin1')).toBe(encode([flatten2(t)], 2).toString('latin1'));
      }),
      { numRuns: 500 },
    );
  });

  test('each shape, both versions, exact bytes', () => {
    const one = (resp: 2 | 3, f: (w: ReplyWriter) => void) => {
      const out = new ByteBuffer(8);
      const w = new RespWriter();
      w.begin(out, { resp });
      f(w);
      w.end();
      return out.toBuffer().toString('latin1');
    };
    const cases: [string, (w: ReplyWriter) => void, string, string][] = [
      ['nil', (w) => w.nil(), '$-1\r\n', '_\r\n'],
      ['nilArr', (w) => w.nilArr(), '*-1\r\n', '_\r\n'],
      ['dbl', (w) => w.dbl(1.5), '$3\r\n1.5\r\n', ',1.5\r\n'],
      ['dbl 1.1', (w) => w.dbl(1.1), '$18\r\n1.1000000000000001\r\n', ',1.1000000000000001\r\n'],
      ['dbl inf', (w) => w.dbl(Infinity), '$3\r\ninf\r\n', ',inf\r\n'],
      ['dbl -inf', (w) => w.dbl(-Infinity), '$4\r\n-inf\r\n', ',-inf\r\n'],
      ['dbl nan', (w) => w.dbl(NaN), '$3\r\nnan\r\n', ',nan\r\n'],
      ['dbl 1e20', (w) => w.dbl(1e20), '$5\r\n1e+20\r\n', ',1e+20\r\n'],
      ['map', (w) => (w.map(1), w.str('a'), w.int(1)), '*2\r\n$1\r\na\r\n:1\r\n', '%1\r\n$1\r\na\r\n:1\r\n'],
      ['set', (w) => (w.set(1), w.str('a')), '*1\r\n$1\r\na\r\n', '~1\r\n$1\r\na\r\n'],
      ['bool', (w) => (w.bool(true), w.bool(false)), ':1\r\n:0\r\n', '#t\r\n#f\r\n'],
      ['verbatim', (w) => w.verbatim('txt', 'a\r\nb'), '$4\r\na\r\nb\r\n', '=8\r\ntxt:a\r\nb\r\n'],
      ['bigNumber', (w) => w.bigNumber('-123456789012345678901234567890'), '$31\r\n-123456789012345678901234567890\r\n', '(-123456789012345678901234567890\r\n'],
      ['push', (w) => (w.push(1), w.str('m')), '*1\r\n$1\r\nm\r\n', '>1\r\n$1\r\nm\r\n'],
      ['pairs', (w) => (w.pairs(1), w.pair(), w.str('m'), w.dbl(2)), '*2\r\n$1\r\nm\r\n$1\r\n2\r\n', '*1\r\n*2\r\n$1\r\nm\r\n,2\r\n'],
      ['the same in both', (w) => (w.arr(1), w.str('x'), w.int(-3), w.status('OK'), w.err(ErrCode.Unknown, 'ERR e')), '*1\r\n$1\r\nx\r\n:-3\r\n+OK\r\n-ERR e\r\n', '*1\r\n$1\r\nx\r\n:-3\r\n+OK\r\n-ERR e\r\n'],
    ];
    for (const [name, f, two, three] of cases) {
      expect(one(2, f), name).toBe(two);
      expect(one(3, f), name).toBe(three);
    }
  });

  test('the version is read at each call: a switch mid-reply (HELLO inside EXEC) changes what follows', () => {
    const out = new ByteBuffer(8);
    const w = new RespWriter();
    const client = { resp: 2 as 2 | 3 };
    w.begin(out, client);
    w.arr(3);
    w.nil();
    client.resp = 3;
    w.nil();
    client.resp = 2;
    w.nilArr();
    w.end();
    expect(out.toBuffer().toString('latin1')).toBe('*3\r\n$-1\r\n_\r\n*-1\r\n');
  });
});
