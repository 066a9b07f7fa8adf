// DEBUG, as far as tools need it: SLEEP, OBJECT, SET-ACTIVE-EXPIRE, HELP.
// Refused as Redis 7.0 refuses it unless enable-debug-command allows it ("yes",
// or "local" for loopback clients). Other subcommands (RELOAD belongs to
// persistence) answer Redis's unknown-subcommand error.

import type { ReplyWriter } from '../../protocol/reply.js';
import type { CommandContext, CommandSpec } from '../types.js';
import { NO_KEYS, err } from '../common.js';
import { Bytes, List, Stream, type Stored } from '../../store/keyspace.js';
import { T, dumpPayload, quicklistNodes, rdbTypeOf, RdbUnsupportedError } from '../../persist/rdb.js';

const DEBUG_HELP = [
  'DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'OBJECT <key>',
  '    Show low level info about `key` and associated value.',
  'SET-ACTIVE-EXPIRE <0|1>',
  '    Setting it to 0 disables expiring keys in background when they are not',
  '    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the',
  '    default.',
  'SLEEP <seconds>',
  '    Stop the server for <seconds>. Decimals allowed.',
  'HELP',
  '    Prints this help.',
];

const NOT_ALLOWED =
  'ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.';

/** Redis's islocalClient: a loopback peer. */
function isLocal(peer: string): boolean {
  const ip = peer.slice(0, peer.lastIndexOf(':'));
  return ip === '127.0.0.1' || ip === '::1' || ip === '[::1]' || ip === '::ffff:127.0.0.1';
}

/** C's atoi: leading spaces, a sign, digits; anything else ends it. */
function atoi(s: string): number {
  const m = /^\s*([+-]?\d+)/.exec(s);
  return m === null ? 0 : Number(m[1]);
}

/** C's strtod prefix: the longest leading number, else 0. */
function strtod(s: string): number {
  const m = /^\s*[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?)/.exec(s);
  return m === null ? 0 : Number(m[0]);
}

/** Blocks the whole process (the loop included), as Redis's DEBUG SLEEP blocks its thread. */
function sleepMs(ms: number): void {
  if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Redis's string encoding for a value it would hold as a string object. */
function stringEncoding(s: string): string {
  if (s.length <= 20 && /^(0|-?[1-9][0-9]*)$/.test(s)) {
    const n = BigInt(s);
    if (n >= -(2n ** 63n) && n < 2n ** 63n) return 'int';
  }
  return s.length <= 44 ? 'embstr' : 'raw';
}

/** OBJECT ENCODING's answer for a value: Redis 7.0's encoding, decided as the RDB writer decides the type. */
export function encodingOf(v: Stored): string {
  if (typeof v === 'string') return stringEncoding(v);
  if (v instanceof Bytes) return 'raw'; // a string written by SETRANGE/SETBIT/APPEND grows in place: raw, as Redis's
  if (v instanceof Stream) return 'stream';
  if (v instanceof List) return 'quicklist';
  switch (rdbTypeOf(v)) {
    case T.SET_INTSET:
      return 'intset';
    case T.HASH_LISTPACK:
    case T.ZSET_LISTPACK:
      return 'listpack';
    case T.ZSET_2:
      return 'skiplist';
    default:
      return 'hashtable';
  }
}

/** Identity numbers standing in for the addresses Redis prints (Value at:0x…): stable per value object. */
const addresses = new WeakMap<object, number>();
let nextAddress = 0x10000;
function addressOf(v: Stored): string {
  if (typeof v === 'string') return `0x${(0x7f0000000000 + v.length).toString(16)}`;
  let a = addresses.get(v);
  if (a === undefined) addresses.set(v, (a = (nextAddress += 0x40)));
  return `0x${(0x7f0000000000 + a).toString(16)}`;
}

/** DEBUG OBJECT's line (see README for the fields redloop cannot know). */
function debugObject(key: string, v: Stored, ctx: CommandContext): string {
  const enc = encodingOf(v);
  // Integers 0..9999 are Redis's shared objects (OBJ_SHARED_REFCOUNT).
  const refcount = enc === 'int' && /^\d{1,4}$/.test(v as string) ? 2147483647 : 1;
  let serialized: number | string;
  try {
    // rdbSavedObjectLen: the value's RDB bytes, without DUMP's type byte, version and checksum.
    serialized = dumpPayload(v, { compression: ctx.persistence.rdbCompression }).length - 11;
  } catch (e) {
    if (!(e instanceof RdbUnsupportedError)) throw e;
    serialized = 'unknown'; // streams: redloop has no RDB encoding for them
  }
  // The key's 24-bit access field as Redis's robj.lru (the LRU clock of its last access, or LFU
  // time and counter under an LFU policy), and the idle time estimated from it.
  const lru = ctx.store.metaOf(key) ?? 0;
  const idle = Math.floor(ctx.store.idleMs(lru) / 1000);
  let extra = '';
  if (v instanceof List) {
    const nodes = quicklistNodes(v);
    const size = nodes.reduce((a, n) => a + n.length, 0);
    const fill = ctx.server.config.get('list-max-listpack-size') ?? '-2';
    const compress = (ctx.server.config.get('list-compress-depth') ?? '0') !== '0' ? 1 : 0;
    extra = ` ql_nodes:${nodes.length} ql_avg_node:${(nodes.length === 0 ? 0 : v.length / nodes.length).toFixed(2)} ql_listpack_max:${fill} ql_compressed:${compress} ql_uncompressed_size:${size}`;
  }
  return `Value at:${addressOf(v)} refcount:${refcount} encoding:${enc} serializedlength:${serialized} lru:${lru} lru_seconds_idle:${idle}${extra}`;
}

function syntaxError(w: ReplyWriter, sub: string): void {
  err(w, `ERR unknown subcommand or wrong number of arguments for '${sub.slice(0, 128)}'. Try DEBUG HELP.`);
}

export const debugCommand: CommandSpec = {
  name: 'debug',
  arity: -2,
  ...NO_KEYS,
  skipMonitor: true,
  // Where Redis refuses protected commands: after arity, before AUTH (counted as rejected).
  subcommand(_args, w, ctx) {
    const mode = ctx.server.config.get('enable-debug-command') ?? 'no';
    if (mode === 'yes' || (mode === 'local' && isLocal(ctx.client.peer))) return true;
    err(w, NOT_ALLOWED);
    return false;
  },
  run(args, w, ctx) {
    const sub = args[1].toLowerCase();
    const n = args.length;
    if (sub === 'help' && n === 2) {
      w.arr(DEBUG_HELP.length);
      for (const l of DEBUG_HELP) w.status(l);
    } else if (sub === 'sleep' && n === 3) {
      sleepMs(strtod(args[2]) * 1000);
      w.status('OK');
    } else if (sub === 'set-active-expire' && n === 3) {
      ctx.server.activeExpire = atoi(args[2]) !== 0;
      w.status('OK');
    } else if (sub === 'object' && n === 3) {
      // Not an access (Redis reads the dict directly): the idle time it reports stays as it was.
      const v = ctx.store.peekLive(args[2]);
      if (v === undefined) return err(w, 'ERR no such key');
      w.status(debugObject(args[2], v, ctx));
    } else syntaxError(w, args[1]);
  },
};
