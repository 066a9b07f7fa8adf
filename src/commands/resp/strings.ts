// RESP string commands with Redis 7's semantics: GET/SET and their variants,
// MGET/MSET, APPEND, STRLEN, GETRANGE/SUBSTR/SETRANGE, LCS, INCR/DECR (64-bit, with
// overflow errors) and INCRBYFLOAT. Strings are binary JS strings (one char per byte).

import type { ReplyWriter } from '../../protocol/reply.js';
import { Bytes } from '../../store/bytes.js';
import type { Keyspace } from '../../store/keyspace.js';
import { NOT_FLOAT, NOT_INTEGER, SYNTAX, parseInt64 } from '../args.js';
import { bookStringCommands } from '../book/strings.js';
import type { CommandContext, CommandSpec } from '../types.js';
import {
  KEY1,
  WRONG,
  arityError,
  checkStringLength,
  deadlineFromUnixMs,
  err,
  isOpt,
  maxBulkLen,
  readString,
  readStringRaw,
  replyString,
  unixNowMs,
} from '../common.js';
import { incrByFloatText } from '../longdouble.js';
import { notify, NOTIFY_GENERIC, NOTIFY_STRING } from '../notify.js';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** GET has the same semantics on both protocols: the book's implementation serves RESP too. */
const bookGet = bookStringCommands.find((c) => c.name === 'get')!.run;

// ---- SET's and GETEX's options (Redis's parseExtendedStringArgumentsOrReply) ----

const NX = 1;
const XX = 2;
const GET = 4;
const KEEPTTL = 8;
const PERSIST = 16;
const EX = 32;
const PX = 64;
const EXAT = 128;
const PXAT = 256;
const ANY_EXPIRE = EX | PX | EXAT | PXAT;

interface StringOptions {
  flags: number;
  /** The argument of EX/PX/EXAT/PXAT, if given. */
  expire: string | null;
}

/**
 * Parses SET's (forSet) or GETEX's options from args[from]. Writes a syntax
 * error and returns null on a bad or conflicting option, as Redis does.
 */
function parseStringOptions(args: string[], from: number, forSet: boolean, w: ReplyWriter): StringOptions | null {
  let flags = 0;
  let expire: string | null = null;
  for (let j = from; j < args.length; j++) {
    const opt = args[j];
    const hasNext = j + 1 < args.length;
    if (forSet && isOpt(opt, 'nx') && !(flags & XX)) flags |= NX;
    else if (forSet && isOpt(opt, 'xx') && !(flags & NX)) flags |= XX;
    else if (forSet && isOpt(opt, 'get')) flags |= GET;
    else if (forSet && isOpt(opt, 'keepttl') && !(flags & (PERSIST | ANY_EXPIRE))) flags |= KEEPTTL;
    else if (!forSet && isOpt(opt, 'persist') && !(flags & (ANY_EXPIRE | KEEPTTL))) flags |= PERSIST;
    else if (isOpt(opt, 'ex') && !(flags & (KEEPTTL | PERSIST | EXAT | PX | PXAT)) && hasNext) (flags |= EX), (expire = args[++j]);
    else if (isOpt(opt, 'px') && !(flags & (KEEPTTL | PERSIST | EX | EXAT | PXAT)) && hasNext) (flags |= PX), (expire = args[++j]);
    else if (isOpt(opt, 'exat') && !(flags & (KEEPTTL | PERSIST | EX | PX | PXAT)) && hasNext) (flags |= EXAT), (expire = args[++j]);
    else if (isOpt(opt, 'pxat') && !(flags & (KEEPTTL | PERSIST | EX | EXAT | PX)) && hasNext) (flags |= PXAT), (expire = args[++j]);
    else {
      err(w, SYNTAX);
      return null;
    }
  }
  return { flags, expire };
}

/**
 * Redis's getExpireMillisecondsOrReply: the absolute unix-time deadline in ms
 * for EX/PX (relative) or EXAT/PXAT (absolute), or null after writing the
 * error (not an integer; ≤ 0 or overflowing: "invalid expire time in '<cmd>' command").
 */
function expireUnixMs(arg: string, flags: number, cmd: string, w: ReplyWriter): number | null {
  const v = parseInt64(arg);
  if (v === null) {
    err(w, NOT_INTEGER);
    return null;
  }
  let ms = BigInt(v);
  const seconds = (flags & (EX | EXAT)) !== 0;
  if (ms <= 0n || (seconds && ms > INT64_MAX / 1000n)) {
    err(w, `ERR invalid expire time in '${cmd}' command`);
    return null;
  }
  if (seconds) ms *= 1000n;
  if (flags & (EX | PX)) ms += BigInt(unixNowMs());
  if (ms > INT64_MAX) {
    err(w, `ERR invalid expire time in '${cmd}' command`);
    return null;
  }
  return Number(ms);
}

/** Stores a string as SET does: the TTL goes unless keepTtl; a deadline (unix ms) is set if given. */
function setString(store: Keyspace, key: string, value: string, keepTtl: boolean, unixDeadline: number | null): void {
  if (keepTtl || unixDeadline !== null) store.put(key, value);
  else store.replace(key, value);
  if (unixDeadline !== null) store.setDeadline(key, deadlineFromUnixMs(store, unixDeadline));
}

/** SET key value [NX|XX] [GET] [EX s|PX ms|EXAT t|PXAT t|KEEPTTL]; SETEX/PSETEX use the same body. */
function setGeneric(
  ctx: CommandContext,
  w: ReplyWriter,
  cmd: string,
  key: string,
  value: string,
  opts: StringOptions,
): void {
  const { store } = ctx;
  let deadline: number | null = null;
  if (opts.expire !== null) {
    deadline = expireUnixMs(opts.expire, opts.flags, cmd, w);
    if (deadline === null) return;
  }
  const withGet = (opts.flags & GET) !== 0;
  let found: boolean;
  if (withGet) {
    const old = readStringRaw(store, key, w);
    if (old === WRONG) return;
    if (old === undefined) w.nil();
    else replyString(w, old);
    found = old !== undefined;
  } else {
    found = store.has(key);
  }
  if ((opts.flags & NX && found) || (opts.flags & XX && !found)) {
    if (!withGet) w.nil();
    return;
  }
  setString(store, key, value, (opts.flags & KEEPTTL) !== 0, deadline);
  notify(ctx, NOTIFY_STRING, 'set', key);
  if (deadline !== null) notify(ctx, NOTIFY_GENERIC, 'expire', key);
  if (!withGet) w.status('OK');
}

/**
 * The value under key as text for INCR and friends: a string held as bytes is
 * converted only when it could be a number (a large value never is), so INCR
 * on a 100 MB value fails at once instead of copying it into a string.
 */
function readNumeric(store: Keyspace, key: string, w: ReplyWriter): string | undefined | typeof WRONG {
  const v = readStringRaw(store, key, w);
  if (!(v instanceof Bytes)) return v;
  return v.length <= NUMERIC_MAX ? v.toString() : NOT_NUMERIC;
}
/** Longer than any integer or float INCR* accepts (Redis's MAX_LONG_DOUBLE_CHARS is 5k). */
const NUMERIC_MAX = 5 * 1024;
/** Stands for a value too long to be a number: every parser rejects it. */
const NOT_NUMERIC = 'x';

/** A 64-bit integer reply: a number when exact, else the bigint. */
function int64(v: bigint): number | bigint {
  return v >= -(2n ** 53n) && v <= 2n ** 53n ? Number(v) : v;
}

/** INCR/DECR/INCRBY/DECRBY: the stored value must be an int64; the TTL stays. */
function incrBy(ctx: CommandContext, key: string, by: bigint, w: ReplyWriter): void {
  const { store } = ctx;
  const old = readNumeric(store, key, w);
  if (old === WRONG) return;
  let cur: bigint;
  if (old === undefined) cur = 0n;
  else {
    const v = parseInt64(old);
    if (v === null) return err(w, NOT_INTEGER);
    cur = BigInt(v);
  }
  const next = cur + by;
  if (next < INT64_MIN || next > INT64_MAX) return err(w, 'ERR increment or decrement would overflow');
  const text = next.toString();
  store.put(key, text);
  notify(ctx, NOTIFY_STRING, 'incrby', key);
  w.int(int64(next));
}

/**
 * A decimal of at most 15 characters as string2ll reads it, without a regex
 * (INCR's hot path); null if it is not one — parseInt64 then decides, so the
 * rules stay in one place for everything but the common case.
 */
function shortDecimal(s: string): number | null {
  const n = s.length;
  if (n === 0 || n > 15) return null;
  let i = s.charCodeAt(0) === 45 ? 1 : 0; // '-'
  if (i === n) return null;
  const first = s.charCodeAt(i);
  if (first === 48) return n === 1 ? 0 : null; // "0" only: no leading zeros, no "-0"
  let v = 0;
  for (; i < n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return null;
    v = v * 10 + c;
  }
  return s.charCodeAt(0) === 45 ? -v : v;
}

/** The fast path of INCR/DECR: small values stay JS numbers (no bigint per request). */
function incrSmall(ctx: CommandContext, key: string, by: 1 | -1, w: ReplyWriter): void {
  const { store } = ctx;
  const old = readNumeric(store, key, w);
  if (old === WRONG) return;
  const cur = old === undefined ? 0 : (shortDecimal(old) ?? parseInt64(old));
  if (typeof cur !== 'number' || !Number.isSafeInteger(cur + by)) return incrBy(ctx, key, BigInt(by), w);
  const next = cur + by;
  store.put(key, String(next));
  notify(ctx, NOTIFY_STRING, 'incrby', key);
  w.int(next);
}

// ---- the commands ----

/** GETRANGE/SUBSTR key start end: Redis's clamping of negative and out-of-range ends. */
function getrange(args: string[], w: ReplyWriter, { store }: CommandContext): void {
  const s0 = parseInt64(args[2]);
  const e0 = parseInt64(args[3]);
  if (s0 === null || e0 === null) return err(w, NOT_INTEGER);
  const v = readStringRaw(store, args[1], w);
  if (v === WRONG) return;
  if (v === undefined) return w.str('');
  let start = Number(s0);
  let end = Number(e0);
  const len = v.length;
  if (start < 0 && end < 0 && start > end) return w.str('');
  if (start < 0) start += len;
  if (end < 0) end += len;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= len) end = len - 1;
  if (start > end || len === 0) return w.str('');
  if (typeof v === 'string') return w.str(v.slice(start, end + 1));
  w.bytes(v.buf.subarray(start, end + 1), end + 1 - start);
}

/**
 * LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN] (Redis's
 * lcsCommand): the classic dynamic-programming table, O(N·M) time and
 * 4·(N+1)·(M+1) bytes, refused past proto-max-bulk-len as Redis does. The walk
 * back from the table's corner yields the LCS and, for IDX, the matching
 * ranges from the last to the first.
 */
function lcs(args: string[], w: ReplyWriter, store: Keyspace, config: Map<string, string>): void {
  const va = store.get(args[1]);
  const vb = store.get(args[2]);
  if ((va !== undefined && typeof va !== 'string') || (vb !== undefined && typeof vb !== 'string')) {
    return err(w, 'ERR The specified keys must contain string values');
  }
  const a = va ?? '';
  const b = vb ?? '';
  let getLen = false;
  let getIdx = false;
  let withMatchLen = false;
  let minMatchLen = 0;
  for (let j = 3; j < args.length; j++) {
    const opt = args[j];
    if (isOpt(opt, 'idx')) getIdx = true;
    else if (isOpt(opt, 'len')) getLen = true;
    else if (isOpt(opt, 'withmatchlen')) withMatchLen = true;
    else if (isOpt(opt, 'minmatchlen') && j + 1 < args.length) {
      const n = parseInt64(args[++j]);
      if (n === null) return err(w, NOT_INTEGER);
      minMatchLen = n < 0 ? 0 : Number(n);
    } else return err(w, SYNTAX);
  }
  if (getLen && getIdx) return err(w, 'ERR If you want both the length and indexes, please just use IDX.');
  const alen = a.length;
  const blen = b.length;
  const cells = (alen + 1) * (blen + 1);
  if (cells * 4 > maxBulkLen(config)) return err(w, 'ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len');
  // table[j + (blen + 1) * i] = length of the LCS of a[0..i) and b[0..j).
  const row = blen + 1;
  const table = new Uint32Array(cells);
  for (let i = 1; i <= alen; i++) {
    const ai = a.charCodeAt(i - 1);
    for (let j = 1; j <= blen; j++) {
      const at = j + row * i;
      if (ai === b.charCodeAt(j - 1)) table[at] = table[at - row - 1] + 1;
      else {
        const up = table[at - row];
        const left = table[at - 1];
        table[at] = up > left ? up : left;
      }
    }
  }
  const total = table[blen + row * alen];
  if (getLen) return w.int(total);
  // Walk back from the corner, collecting the LCS (backwards) and the ranges.
  const chars: number[] = new Array(total);
  let idx = total;
  const ranges: [number, number, number, number, number][] = [];
  let aStart = alen; // alen: no range open
  let aEnd = 0;
  let bStart = 0;
  let bEnd = 0;
  let i = alen;
  let j = blen;
  while (i > 0 && j > 0) {
    let emit = false;
    if (a.charCodeAt(i - 1) === b.charCodeAt(j - 1)) {
      chars[idx - 1] = a.charCodeAt(i - 1);
      if (aStart === alen) {
        aStart = aEnd = i - 1;
        bStart = bEnd = j - 1;
      } else if (aStart === i && bStart === j) {
        aStart--;
        bStart--;
      } else emit = true;
      if (aStart === 0 || bStart === 0) emit = true;
      idx--;
      i--;
      j--;
    } else {
      if (table[j + row * (i - 1)] > table[j - 1 + row * i]) i--;
      else j--;
      if (aStart !== alen) emit = true;
    }
    if (emit) {
      const matchLen = aEnd - aStart + 1;
      if (minMatchLen === 0 || matchLen >= minMatchLen) ranges.push([aStart, aEnd, bStart, bEnd, matchLen]);
      aStart = alen;
    }
  }
  if (!getIdx) {
    // In slices: spreading a long array into one call would overflow the stack.
    let text = '';
    for (let k = 0; k < chars.length; k += 8192) text += String.fromCharCode(...chars.slice(k, k + 8192));
    return w.str(text);
  }
  w.map(2);
  w.str('matches');
  w.arr(ranges.length);
  for (const [as, ae, bs, be, len] of ranges) {
    w.arr(withMatchLen ? 3 : 2);
    w.arr(2);
    w.int(as);
    w.int(ae);
    w.arr(2);
    w.int(bs);
    w.int(be);
    if (withMatchLen) w.int(len);
  }
  w.str('len');
  w.int(total);
}

export const respStringCommands: CommandSpec[] = [
  { name: 'get', arity: 2, flags: ['readonly', 'fast'], ...KEY1, run: bookGet },
  {
    name: 'set',
    arity: -3,
    flags: ['write', 'denyoom'],
    ...KEY1,
    run(args, w, ctx) {
      if (args.length === 3) {
        // The plain SET: no option parsing.
        ctx.store.replace(args[1], args[2]);
        notify(ctx, NOTIFY_STRING, 'set', args[1]);
        return w.status('OK');
      }
      const opts = parseStringOptions(args, 3, true, w);
      if (opts !== null) setGeneric(ctx, w, 'set', args[1], args[2], opts);
    },
  },
  {
    name: 'setnx',
    arity: 3,
    flags: ['write', 'denyoom', 'fast'],
    ...KEY1,
    run(args, w, ctx) {
      const { store } = ctx;
      if (store.has(args[1])) return w.int(0);
      store.replace(args[1], args[2]);
      notify(ctx, NOTIFY_STRING, 'set', args[1]);
      w.int(1);
    },
  },
  {
    name: 'setex',
    arity: 4,
    flags: ['write', 'denyoom'],
    ...KEY1,
    run(args, w, ctx) {
      setGeneric(ctx, w, 'setex', args[1], args[3], { flags: EX, expire: args[2] });
    },
  },
  {
    name: 'psetex',
    arity: 4,
    flags: ['write', 'denyoom'],
    ...KEY1,
    run(args, w, ctx) {
      setGeneric(ctx, w, 'psetex', args[1], args[3], { flags: PX, expire: args[2] });
    },
  },
  {
    name: 'getset',
    arity: 3,
    flags: ['write', 'denyoom', 'fast'],
    ...KEY1,
    run(args, w, ctx) {
      const { store } = ctx;
      const old = readStringRaw(store, args[1], w);
      if (old === WRONG) return;
      if (old === undefined) w.nil();
      else replyString(w, old);
      store.replace(args[1], args[2]);
      notify(ctx, NOTIFY_STRING, 'set', args[1]);
    },
  },
  {
    name: 'getdel',
    arity: 2,
    flags: ['write', 'fast'],
    ...KEY1,
    run(args, w, ctx) {
      const { store } = ctx;
      const old = readStringRaw(store, args[1], w);
      if (old === WRONG) return;
      if (old === undefined) return w.nil();
      replyString(w, old);
      store.delete(args[1]);
      notify(ctx, NOTIFY_GENERIC, 'del', args[1]);
    },
  },
  {
    name: 'getex',
    arity: -2,
    flags: ['write', 'fast'],
    ...KEY1,
    run(args, w, ctx) {
      const { store } = ctx;
      const opts = parseStringOptions(args, 2, false, w);
      if (opts === null) return;
      const v = readStringRaw(store, args[1], w);
      if (v === WRONG) return;
      if (v === undefined) return w.nil();
      let deadline: number | null = null;
      if (opts.expire !== null) {
        deadline = expireUnixMs(opts.expire, opts.flags, 'getex', w);
        if (deadline === null) return;
      }
      replyString(w, v);
      if (deadline !== null && opts.flags & (EXAT | PXAT) && deadline <= unixNowMs()) {
        store.delete(args[1]);
        notify(ctx, NOTIFY_GENERIC, 'del', args[1]);
      } else if (deadline !== null) {
        store.setDeadline(args[1], deadlineFromUnixMs(store, deadline));
        notify(ctx, NOTIFY_GENERIC, 'expire', args[1]);
      } else if (opts.flags & PERSIST && store.clearDeadline(args[1])) notify(ctx, NOTIFY_GENERIC, 'persist', args[1]);
    },
  },
  {
    name: 'mget',
    arity: -2,
    flags: ['readonly', 'fast'],
    firstKey: 1,
    lastKey: -1,
    keyStep: 1,
    run(args, w, { store }) {
      w.arr(args.length - 1);
      for (let i = 1; i < args.length; i++) {
        const v = store.getRaw(args[i]);
        if (typeof v === 'string') w.str(v);
        else if (v instanceof Bytes) w.bytes(v.buf, v.length);
        else w.nil();
      }
    },
  },
  {
    name: 'mset',
    arity: -3,
    flags: ['write', 'denyoom'],
    firstKey: 1,
    lastKey: -1,
    keyStep: 2,
    run(args, w, ctx) {
      const { store } = ctx;
      if (args.length % 2 === 0) return arityError(w, 'mset');
      for (let i = 1; i < args.length; i += 2) {
        store.replace(args[i], args[i + 1]);
        notify(ctx, NOTIFY_STRING, 'set', args[i]);
      }
      w.status('OK');
    },
  },
  {
    name: 'msetnx',
    arity: -3,
    flags: ['write', 'denyoom'],
    firstKey: 1,
    lastKey: -1,
    keyStep: 2,
    run(args, w, ctx) {
      const { store } = ctx;
      if (args.length % 2 === 0) return arityError(w, 'msetnx');
      for (let i = 1; i < args.length; i += 2) if (store.has(args[i])) return w.int(0);
      for (let i = 1; i < args.length; i += 2) {
        store.replace(args[i], args[i + 1]);
        notify(ctx, NOTIFY_STRING, 'set', args[i]);
      }
      w.int(1);
    },
  },
  {
    name: 'append',
    arity: 3,
    flags: ['write', 'denyoom', 'fast'],
    ...KEY1,
    run(args, w, ctx) {
      const { store, server } = ctx;
      const raw = readStringRaw(store, args[1], w);
      if (raw === WRONG) return;
      if (raw === undefined) {
        store.put(args[1], args[2]);
        notify(ctx, NOTIFY_STRING, 'append', args[1]);
        return w.int(args[2].length);
      }
      if (!checkStringLength(server.config, raw.length, args[2].length, w)) return;
      // As Redis appends in place to a raw string (OBJECT ENCODING then says raw): the value
      // becomes mutable bytes, and further appends cost what they add (amortized, sds-like
      // growth). A value already held as Bytes (a large one, a bitmap, an earlier APPEND or
      // SETRANGE) is changed in place: dispatch's beforeWrite has already let a running
      // snapshot serialize the old bytes (persist/snapshot.ts).
      const b = raw instanceof Bytes ? raw : Bytes.fromString(raw);
      b.write(b.length, args[2]);
      store.put(args[1], b); // re-measured, and the keyspace's listeners told
      notify(ctx, NOTIFY_STRING, 'append', args[1]);
      w.int(b.length);
    },
  },
  {
    name: 'strlen',
    arity: 2,
    flags: ['readonly', 'fast'],
    ...KEY1,
    run(args, w, { store }) {
      const v = readStringRaw(store, args[1], w);
      if (v !== WRONG) w.int(v === undefined ? 0 : v.length);
    },
  },
  { name: 'getrange', arity: 4, flags: ['readonly'], ...KEY1, run: getrange },
  // SUBSTR is GETRANGE's old name (Redis runs the same function).
  { name: 'substr', arity: 4, flags: ['readonly'], ...KEY1, run: getrange },
  {
    name: 'lcs',
    arity: -3,
    flags: ['readonly'],
    firstKey: 1,
    lastKey: 2,
    keyStep: 1,
    run(args, w, { store, server }) {
      lcs(args, w, store, server.config);
    },
  },
  {
    name: 'setrange',
    arity: 4,
    flags: ['write', 'denyoom'],
    ...KEY1,
    run(args, w, ctx) {
      const { store, server } = ctx;
      const off = parseInt64(args[2]);
      if (off === null) return err(w, NOT_INTEGER);
      if (off < 0) return err(w, 'ERR offset is out of range');
      const value = args[3];
      const old = readStringRaw(store, args[1], w);
      if (old === WRONG) return;
      if (value.length === 0) return w.int(old === undefined ? 0 : old.length);
      const offset = Number(off);
      if (!checkStringLength(server.config, offset, value.length, w)) return;
      if (old instanceof Bytes) {
        // Held as bytes (a large value, a bitmap, an earlier APPEND or SETRANGE): changed in
        // place, O(value) as in Redis, after dispatch's beforeWrite let a running snapshot
        // serialize the old bytes.
        old.write(offset, value);
        store.put(args[1], old); // re-measured, and the keyspace's listeners told
        notify(ctx, NOTIFY_STRING, 'setrange', args[1]);
        return w.int(old.length);
      }
      const cur = old ?? '';
      // Bytes between the old end and the offset are zeros, as Redis pads them.
      const head = offset <= cur.length ? cur.slice(0, offset) : cur + '\0'.repeat(offset - cur.length);
      const next = head + value + cur.slice(offset + value.length);
      // Redis's SETRANGE leaves a raw string (OBJECT ENCODING): mutable bytes here too.
      store.put(args[1], Bytes.fromString(next));
      notify(ctx, NOTIFY_STRING, 'setrange', args[1]);
      w.int(next.length);
    },
  },
  {
    name: 'incr',
    arity: 2,
    flags: ['write', 'denyoom', 'fast'],
    ...KEY1,
    run(args, w, ctx) {
      incrSmall(ctx, args[1], 1, w);
    },
  },
  {
    name: 'decr',
    arity: 2,
    flags: ['write', 'denyoom', 'fast'],
    ...KEY1,
    run(args, w, ctx) {
      incrSmall(ctx, args[1], -1, w);
    },
  },
  {
    name: 'incrby',
    arity: 3,
    flags: ['write', 'denyoom', 'fast'],
    ...KEY1,
    run(args, w, ctx) {
      const by = parseInt64(args[2]);
      if (by === null) return err(w, NOT_INTEGER);
      incrBy(ctx, args[1], BigInt(by), w);
    },
  },
  {
    name: 'decrby',
    arity: 3,
    flags: ['write', 'denyoom', 'fast'],
    ...KEY1,
    run(args, w, ctx) {
      const by = parseInt64(args[2]);
      if (by === null) return err(w, NOT_INTEGER);
      if (BigInt(by) === INT64_MIN) return err(w, 'ERR decrement would overflow');
      incrBy(ctx, args[1], -BigInt(by), w);
    },
  },
  {
    name: 'incrbyfloat',
    arity: 3,
    flags: ['write', 'denyoom', 'fast'],
    ...KEY1,
    run(args, w, ctx) {
      const { store } = ctx;
      const old = readNumeric(store, args[1], w);
      if (old === WRONG) return;
      const text = incrByFloatText(old ?? '0', args[2]);
      if (text === 'not-float') return err(w, NOT_FLOAT);
      if (text === 'nan-or-inf') return err(w, 'ERR increment would produce NaN or Infinity');
      store.put(args[1], text);
      notify(ctx, NOTIFY_STRING, 'incrbyfloat', args[1]);
      w.str(text);
    },
  },
];
