// RESP HyperLogLog commands with Redis 7.0's semantics: PFADD, PFCOUNT,
// PFMERGE, PFDEBUG, PFSELFTEST. The value is a string in Redis's own layout
// (src/store/hll.ts), so GET shows the bytes Redis would show. Commands that
// change it hold it as Bytes and change it in place; a string written by SET
// (or anything else) is copied into Bytes only when it is about to change.

import { ErrCode, type ReplyWriter } from '../../protocol/reply.js';
import { Bytes } from '../../store/bytes.js';
import {
  HLL_DENSE,
  HLL_REGISTERS,
  HLL_SPARSE,
  HLL_SPARSE_MAX_BYTES,
  cachedCard,
  cardAsReply,
  decodeSparse,
  denseGet,
  denseSetRaw,
  hllAdd,
  hllCount,
  hllMergeInto,
  hllSet,
  invalidateCache,
  isHll,
  newHllBytes,
  rawCount,
  sparseToDense,
  writeCard,
} from '../../store/hll.js';
import type { Keyspace } from '../../store/keyspace.js';
import { wrongType } from '../args.js';
import { ALL_KEYS, KEY1, WRONG, err, isOpt } from '../common.js';
import type { CommandContext, CommandSpec } from '../types.js';
import { notify, NOTIFY_STRING } from '../notify.js';

const NOT_HLL = 'WRONGTYPE Key is not a valid HyperLogLog string value.';
const INVALID = 'INVALIDOBJ Corrupted HLL object detected';

type Held = string | Bytes;

/** The bytes of a string value (a copy for a JS string) and its length. */
function view(v: Held): [Uint8Array, number] {
  if (typeof v === 'string') return [Buffer.from(v, 'latin1'), v.length];
  return [v.buf, v.length];
}

/**
 * Redis's lookup + isHLLObjectOrReply: undefined for a missing key, the value
 * if it is a string holding a valid HLL header; otherwise WRONG after writing
 * the standard WRONGTYPE (not a string) or the HLL one (a string, not an HLL).
 */
function readHll(store: Keyspace, key: string, w: ReplyWriter): Held | undefined | typeof WRONG {
  const v = store.getRaw(key);
  if (v === undefined) return undefined;
  if (typeof v !== 'string' && !(v instanceof Bytes)) {
    wrongType(w);
    return WRONG;
  }
  const ok = typeof v === 'string' ? isHllString(v) : isHll(v.buf, v.length);
  if (ok) return v;
  w.err(ErrCode.BadType, NOT_HLL);
  return WRONG;
}

/** isHll on a JS string without copying it. */
function isHllString(s: string): boolean {
  if (s.length < 16 || !s.startsWith('HYLL')) return false;
  const enc = s.charCodeAt(4);
  return enc === HLL_SPARSE || (enc === HLL_DENSE && s.length === 12304);
}

/** The value as Bytes that may be changed in place (a copy of a JS string; the caller stores it). */
const writable = (v: Held): Bytes => (typeof v === 'string' ? Bytes.fromString(v) : v);

function invalid(w: ReplyWriter): void {
  w.err(ErrCode.BadArg, INVALID);
}

/** Redis compares subcommand names with strcasecmp and prints them with %s: both stop at a NUL. */
function cstr(s: string): string {
  const nul = s.indexOf('\0');
  return nul < 0 ? s : s.slice(0, nul);
}

function pfadd(args: string[], w: ReplyWriter, ctx: CommandContext): void {
  const { store } = ctx;
  const key = args[1];
  const v = readHll(store, key, w);
  if (v === WRONG) return;
  let updated = 0;
  let b: Bytes;
  if (v === undefined) {
    b = Bytes.wrap(newHllBytes());
    updated++;
  } else b = writable(v);
  for (let j = 2; j < args.length; j++) {
    const r = hllAdd(b, args[j], HLL_SPARSE_MAX_BYTES);
    if (r === 1) updated++;
    else if (r === -1) {
      // Registers already raised by this command stay raised, as in Redis.
      if (updated > 0) store.put(key, b);
      return invalid(w);
    }
  }
  if (updated > 0) {
    invalidateCache(b.buf);
    b.changed();
    store.put(key, b); // keeps the TTL; tells WATCH the key changed
    notify(ctx, NOTIFY_STRING, 'pfadd', key);
  }
  w.int(updated > 0 ? 1 : 0);
}

function pfcount(args: string[], w: ReplyWriter, store: Keyspace): void {
  if (args.length > 2) {
    // The cardinality of the union: register-wise maximum, one byte per register.
    const max = new Uint8Array(HLL_REGISTERS);
    for (let j = 1; j < args.length; j++) {
      const v = readHll(store, args[j], w);
      if (v === WRONG) return;
      if (v === undefined) continue;
      const [buf, len] = view(v);
      if (!hllMergeInto(max, buf, len)) return invalid(w);
    }
    w.int(cardAsReply(rawCount(max)));
    return;
  }
  const key = args[1];
  const v = readHll(store, key, w);
  if (v === WRONG) return;
  if (v === undefined) return w.int(0);
  const [buf, len] = view(v);
  let card = cachedCard(buf);
  if (card === null) {
    card = hllCount(buf, len);
    if (card === null) return invalid(w);
    // The cache lives in the value: PFCOUNT rewrites the header, as Redis does (and signals the change).
    const b = writable(v);
    writeCard(b.buf, card);
    b.changed();
    store.put(key, b);
  }
  w.int(cardAsReply(card));
}

function pfmerge(args: string[], w: ReplyWriter, ctx: CommandContext): void {
  const { store } = ctx;
  const max = new Uint8Array(HLL_REGISTERS);
  let useDense = false;
  for (let j = 1; j < args.length; j++) {
    const v = readHll(store, args[j], w);
    if (v === WRONG) return;
    if (v === undefined) continue;
    const [buf, len] = view(v);
    if (buf[4] === HLL_DENSE) useDense = true;
    if (!hllMergeInto(max, buf, len)) return invalid(w);
  }
  const key = args[1];
  const dv = store.getRaw(key) as Held | undefined; // checked above as a source
  const b = dv === undefined ? Bytes.wrap(newHllBytes()) : writable(dv);
  if (useDense && !sparseToDense(b)) return invalid(w);
  for (let j = 0; j < HLL_REGISTERS; j++) if (max[j] !== 0) hllSet(b, j, max[j], HLL_SPARSE_MAX_BYTES);
  invalidateCache(b.buf);
  b.changed();
  store.put(key, b);
  // Redis publishes pfadd for a merge too (a mass add).
  notify(ctx, NOTIFY_STRING, 'pfadd', key);
  w.status('OK');
}

function pfdebug(args: string[], w: ReplyWriter, store: Keyspace): void {
  const sub = cstr(args[1]);
  const key = args[2];
  const v = readHll(store, key, w);
  if (v === WRONG) return;
  if (v === undefined) return err(w, 'ERR The specified key does not exist');
  const [buf, len] = view(v);
  if (isOpt(sub, 'getreg')) {
    let regs = buf;
    if (buf[4] === HLL_SPARSE) {
      // GETREG turns a sparse HLL dense, as in Redis.
      const b = writable(v);
      if (!sparseToDense(b)) return invalid(w);
      if (b !== v) store.put(key, b);
      regs = b.buf;
    }
    w.arr(HLL_REGISTERS);
    for (let j = 0; j < HLL_REGISTERS; j++) w.int(denseGet(regs, j));
  } else if (isOpt(sub, 'decode')) {
    if (buf[4] !== HLL_SPARSE) return err(w, 'ERR HLL encoding is not sparse');
    w.str(decodeSparse(buf, len));
  } else if (isOpt(sub, 'encoding')) {
    w.status(buf[4] === HLL_DENSE ? 'dense' : 'sparse');
  } else if (isOpt(sub, 'todense')) {
    if (buf[4] !== HLL_SPARSE) return w.int(0);
    const b = writable(v);
    if (!sparseToDense(b)) return invalid(w);
    if (b !== v) store.put(key, b);
    w.int(1);
  } else err(w, `ERR Unknown PFDEBUG subcommand '${sub}'`);
}

/**
 * PFSELFTEST: Redis's two self-checks, shortened so as not to stall the loop
 * for seconds (see README): every register of a dense HLL set and read back
 * (100 rounds of random values, Redis does 1000), then up to 10^6 elements
 * (Redis: 10^7) added to a dense and a sparse HLL, checking at each power of
 * ten that both agree, that the sparse one stayed sparse while small, and
 * that the error is within 6 standard errors.
 */
function pfselftest(w: ReplyWriter): void {
  const dense = new Uint8Array(16 + 12288 + 1);
  dense.set([72, 89, 76, 76, HLL_DENSE]);
  const expect = new Uint8Array(HLL_REGISTERS);
  for (let round = 0; round < 100; round++) {
    for (let i = 0; i < HLL_REGISTERS; i++) {
      const r = Math.floor(Math.random() * 64);
      expect[i] = r;
      denseSetRaw(dense, i, r);
    }
    for (let i = 0; i < HLL_REGISTERS; i++) {
      const got = denseGet(dense, i);
      if (got !== expect[i]) return err(w, `TESTFAILED Register ${i} should be ${expect[i]} but is ${got}`);
    }
  }
  dense.fill(0, 16);
  const denseB = Bytes.wrap(dense);
  denseB.truncate(16 + 12288);
  const sparseB = Bytes.wrap(newHllBytes());
  const relerr = 1.04 / Math.sqrt(HLL_REGISTERS);
  const seedHi = Math.floor(Math.random() * 2 ** 32);
  const seedLo = Math.floor(Math.random() * 2 ** 32);
  const ele = Buffer.alloc(8);
  let checkpoint = 1;
  for (let j = 1; j <= 1_000_000; j++) {
    ele.writeUInt32LE((j ^ seedLo) >>> 0, 0);
    ele.writeUInt32LE(seedHi, 4);
    const s = ele.toString('latin1');
    hllAdd(denseB, s);
    hllAdd(sparseB, s);
    if (j !== checkpoint) continue;
    if (j < HLL_SPARSE_MAX_BYTES / 2 && sparseB.buf[4] !== HLL_SPARSE) return err(w, 'TESTFAILED sparse encoding not used');
    const a = hllCount(denseB.buf, denseB.length);
    if (a !== hllCount(sparseB.buf, sparseB.length)) return err(w, 'TESTFAILED dense/sparse disagree');
    const abserr = Math.abs(checkpoint - Number(a));
    const maxerr = j === 10 ? 1 : Math.ceil(relerr * 6 * checkpoint);
    if (abserr > maxerr) return err(w, `TESTFAILED Too big error. card:${checkpoint} abserr:${abserr}`);
    checkpoint *= 10;
  }
  w.status('OK');
}

export const respHllCommands: CommandSpec[] = [
  {
    name: 'pfadd',
    arity: -2,
    flags: ['write', 'denyoom', 'fast'],
    ...KEY1,
    run: (args, w, ctx) => pfadd(args, w, ctx),
  },
  {
    name: 'pfcount',
    arity: -2,
    flags: ['readonly'],
    ...ALL_KEYS,
    run: (args, w, { store }) => pfcount(args, w, store),
  },
  {
    name: 'pfmerge',
    arity: -2,
    flags: ['write', 'denyoom'],
    ...ALL_KEYS,
    run: (args, w, ctx) => pfmerge(args, w, ctx),
  },
  {
    name: 'pfdebug',
    arity: 3,
    flags: ['write', 'denyoom', 'admin'],
    firstKey: 2,
    lastKey: 2,
    keyStep: 1,
    run: (args, w, { store }) => pfdebug(args, w, store),
  },
  {
    name: 'pfselftest',
    arity: 1,
    flags: ['admin'],
    firstKey: 0,
    lastKey: 0,
    keyStep: 0,
    run: (_args, w) => pfselftest(w),
  },
];
