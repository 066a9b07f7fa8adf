// Small helpers the command modules of both protocols share: typed key
// lookups, key positions for COMMAND, Redis's error wordings that several
// families use, option matching, and the conversion between Redis's unix-time
// deadlines and the keyspace's monotonic ones.

import { constants as bufferConstants } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import { ErrCode, type ReplyWriter } from '../protocol/reply.js';
import { Bytes } from '../store/bytes.js';
import { monotonicNow, type Keyspace, type Value } from '../store/keyspace.js';
import { NOT_INTEGER, parseInt64, wrongType } from './args.js';
import type { CommandContext } from './types.js';
import { growthAdmitted } from '../servers/heap.js';
import { OOM_ERROR } from '../servers/memory.js';

/** The longest JS string (V8's limit): no value can be longer. */
const MAX_STRING_LENGTH = bufferConstants.MAX_STRING_LENGTH;

/** Key positions for COMMAND: the one key at args[1]. */
export const KEY1 = { firstKey: 1, lastKey: 1, keyStep: 1 } as const;
/** Key positions for COMMAND: every argument from args[1] on is a key. */
export const ALL_KEYS = { firstKey: 1, lastKey: -1, keyStep: 1 } as const;
/** Key positions for COMMAND: no keys. */
export const NO_KEYS = { firstKey: 0, lastKey: 0, keyStep: 0 } as const;

/** Commands Redis flags may-replicate (CMD_MAY_REPLICATE, not shown by COMMAND): CLIENT PAUSE WRITE holds them, a MONITOR client may not send them. */
export const MAY_REPLICATE: ReadonlySet<string> = new Set(['publish', 'spublish', 'pfcount', 'eval', 'evalsha', 'fcall', 'wait']);

/**
 * Largest |count| SRANDMEMBER, ZRANDMEMBER and HRANDFIELD take with a negative
 * count (a redloop limit; see README): Redis has no bound, but a reply of
 * billions of picks would exhaust our heap before the output-buffer limit acts.
 */
export const MAX_REPEATED_PICKS = 1 << 24;

/** `count` distinct entries chosen uniformly at random: a partial Fisher–Yates over a copy, O(size) once. */
export function randomDistinctOf<T>(items: Iterable<T>, count: number): T[] {
  const all = [...items];
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(Math.random() * (all.length - i));
    const t = all[i];
    all[i] = all[j];
    all[j] = t;
  }
  all.length = Math.min(count, all.length);
  return all;
}

/**
 * `count` distinct members of a collection of `size` (count < size), uniformly,
 * as Redis's SRANDMEMBER chooses its strategy: when count is small against the
 * size, repeated O(1) picks until count distinct ones (O(count) expected);
 * otherwise a partial shuffle of a copy (O(size), and count is then ≥ size/3).
 */
export function distinctPicks(size: number, count: number, pick: () => string, all: () => Iterable<string>): string[] {
  if (count * 3 > size) return randomDistinctOf(all(), count);
  const got = new Set<string>();
  while (got.size < count) got.add(pick());
  return [...got];
}

/** Redis's shared.syntaxerr and friends, for errors several families write. */
export function err(w: ReplyWriter, msg: string): void {
  w.err(ErrCode.BadArg, msg);
}

/** addReplyErrorArity: for commands that count their arguments themselves (MSET's pairs, PING's one message). */
export function arityError(w: ReplyWriter, name: string): void {
  w.err(ErrCode.Unknown, `ERR wrong number of arguments for '${name}' command`);
}

/** Case-insensitive match of an option against its lower-case name, without allocating. */
export function isOpt(arg: string, lower: string): boolean {
  if (arg.length !== lower.length) return false;
  for (let i = 0; i < arg.length; i++) {
    const c = arg.charCodeAt(i);
    if ((c >= 65 && c <= 90 ? c + 32 : c) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** Marks "the key holds another type" in lookups (WRONGTYPE has been written). */
export const WRONG = Symbol('wrongtype');

/** The string under key, undefined if missing; writes WRONGTYPE and returns WRONG for another type. */
export function readString(store: Keyspace, key: string, w: ReplyWriter): string | undefined | typeof WRONG {
  const v = store.get(key);
  if (v === undefined || typeof v === 'string') return v;
  wrongType(w);
  return WRONG;
}

/**
 * As readString, but a string held as bytes (a large value, a bitmap) comes as
 * its Bytes, not converted: for the commands that reply with the value or a
 * part of it, or change it in place (GET, GETRANGE, STRLEN, APPEND, SETRANGE...).
 */
export function readStringRaw(store: Keyspace, key: string, w: ReplyWriter): string | Bytes | undefined | typeof WRONG {
  const v = store.getRaw(key);
  if (v === undefined || typeof v === 'string' || v instanceof Bytes) return v;
  wrongType(w);
  return WRONG;
}

/** Replies with a string value in either form: a Bytes from its bytes, never made a string. */
export function replyString(w: ReplyWriter, v: string | Bytes): void {
  if (typeof v === 'string') w.str(v);
  else w.bytes(v.buf, v.length);
}

/** The value under key if it is of the class wanted; undefined if missing; WRONG (after WRONGTYPE) otherwise. */
export function readTyped<T extends Value>(
  store: Keyspace,
  key: string,
  is: (v: Value) => v is T,
  w: ReplyWriter,
): T | undefined | typeof WRONG {
  const v = store.get(key);
  if (v === undefined) return undefined;
  if (is(v)) return v;
  wrongType(w);
  return WRONG;
}

/** Unix-time milliseconds now (Redis's mstime()). */
export const unixNowMs = (): number => Date.now();

/**
 * Unix time in fractional ms, read off the monotonic clock (performance.timeOrigin
 * + performance.now()) for the conversions below: Date.now() is truncated to the
 * ms while the keyspace's clock is not, and mixing the two made a deadline set
 * with PEXPIREAT t read back from PEXPIRETIME as t ± 1 now and then.
 */
const unixNowFine = (): number => performance.timeOrigin + performance.now();

/** A unix-time deadline (ms) as the keyspace's monotonic deadline. */
export function deadlineFromUnixMs(store: Keyspace, unixMs: number): number {
  // The server's keyspaces run on performance.now(): one fixed offset, no second clock read
  // (two reads apart by a pause on a loaded machine would shift the deadline by that pause).
  if (store.now === monotonicNow) return unixMs - performance.timeOrigin;
  return store.now() + (unixMs - unixNowFine());
}

/** The key's deadline as unix-time ms, or -1 without a TTL (Redis's getExpire). */
export function unixExpireOf(store: Keyspace, key: string): number {
  const d = store.deadline(key);
  if (d === undefined) return -1;
  if (store.now === monotonicNow) return Math.round(performance.timeOrigin + d);
  return Math.round(unixNowFine() + (d - store.now()));
}

/** proto-max-bulk-len as configured now (CONFIG SET may change it). */
export function maxBulkLen(config: Map<string, string>): number {
  return Number(config.get('proto-max-bulk-len') ?? 512 * 1024 * 1024);
}

/** Redis's checkStringLength: writes the error and returns false when size + append is too long. */
export function checkStringLength(config: Map<string, string>, size: number, append: number, w: ReplyWriter): boolean {
  // V8 strings end 24 bytes short of 512 MiB: past that a value cannot exist at all.
  if (size + append > maxBulkLen(config) || size + append > MAX_STRING_LENGTH) {
    err(w, 'ERR string exceeds maximum allowed size (proto-max-bulk-len)');
    return false;
  }
  // The new string is built whole: it must fit below V8's heap limit (src/servers/heap.ts).
  if (append > 0 && !growthAdmitted(size + append)) {
    err(w, OOM_ERROR);
    return false;
  }
  return true;
}

/**
 * A database index argument, as Redis's getIntFromObjectOrReply reads it: an
 * integer that fits a C int (else `msg`, or Redis's own wording), then within
 * [0, databases) (else "ERR DB index is out of range"). Writes the error and
 * returns null when it is not usable.
 */
export function parseDbIndex(arg: string, databases: number, w: ReplyWriter, msg?: string): number | null {
  const n = parseInt64(arg);
  if (n === null) {
    err(w, msg ?? NOT_INTEGER);
    return null;
  }
  if (n < -2147483648 || n > 2147483647) {
    err(w, msg ?? 'ERR value is out of range, value must between -2147483648 and 2147483647');
    return null;
  }
  const id = Number(n);
  if (id < 0 || id >= databases) {
    err(w, 'ERR DB index is out of range');
    return null;
  }
  return id;
}

/** Points the context at database id (a valid index) and records it on the client (SELECT, RESET, scripts). */
export function selectDb(ctx: CommandContext, id: number): void {
  ctx.store = ctx.server.databases[id];
  ctx.client.db = id;
}
