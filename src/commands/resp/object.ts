// OBJECT ENCODING/REFCOUNT/IDLETIME/FREQ/HELP: what Redis 7.0 would report for
// the same value. The store keeps plain JS structures; the encoding Redis would
// have chosen is derived from the value and, where Redis's choice depends on
// history (it never converts a hash, set or sorted set back to its compact
// encoding), from a sticky `wide` flag the value sets when it first outgrows the
// CONFIG thresholds (src/store/collections.ts, src/store/zset.ts).

import type { ReplyWriter } from '../../protocol/reply.js';
import { isIntText } from '../../store/collections.js';
import { Bytes, Hash, List, RSet, Stream, ZSet, type Stored } from '../../store/keyspace.js';
import type { CommandContext, CommandSpec } from '../types.js';
import { err } from '../common.js';
import { subcommandCheck } from './stream.js';
import { objectFreq, objectFreqError, objectIdleTime, objectIdleTimeError } from './memory.js';

/** OBJ_ENCODING_EMBSTR_SIZE_LIMIT: strings up to this long are embstr. */
const EMBSTR_SIZE_LIMIT = 44;
/** OBJ_SHARED_INTEGERS: 0 … 9999 are shared objects (REFCOUNT answers INT_MAX for them). */
const SHARED_INTEGERS = 10000n;
const OBJ_SHARED_REFCOUNT = 2147483647;

/**
 * The encoding Redis 7.0 reports for this value: strings int/embstr/raw (a
 * string changed in place — APPEND to an existing key, SETRANGE, the bit
 * commands, HyperLogLog — is held as Bytes and is raw, as Redis's is), lists
 * quicklist (7.0 has no listpack lists), sets intset/hashtable, hashes
 * listpack/hashtable, sorted sets listpack/skiplist, streams stream.
 */
export function encodingOf(v: Stored): string {
  if (typeof v === 'string') {
    if (v.length <= 20 && isIntText(v)) return 'int';
    return v.length <= EMBSTR_SIZE_LIMIT ? 'embstr' : 'raw';
  }
  if (v instanceof Bytes) return 'raw';
  if (v instanceof List) return 'quicklist';
  if (v instanceof RSet) return v.wide ? 'hashtable' : 'intset';
  if (v instanceof Hash) return v.wide ? 'hashtable' : 'listpack';
  if (v instanceof ZSet) return v.wide ? 'skiplist' : 'listpack';
  if (v instanceof Stream) return 'stream';
  // A plain Set/Map (a value built outside the commands): judged as a hash table.
  return 'hashtable';
}

/**
 * OBJECT IDLETIME / FREQ of a live key, from the key's access metadata
 * (src/commands/resp/memory.ts: seconds since its last lookup by the shared
 * LRU clock, or its LFU counter after decay). As Redis, an LFU
 * maxmemory-policy refuses IDLETIME and any other policy refuses FREQ.
 */
export function objectAccess(sub: 'idletime' | 'freq', key: string, ctx: CommandContext, w: ReplyWriter): void {
  const { store } = ctx;
  const refusal = sub === 'idletime' ? objectIdleTimeError(store) : objectFreqError(store);
  if (refusal !== null) return err(w, refusal);
  const n = sub === 'idletime' ? objectIdleTime(store, key) : objectFreq(store, key);
  if (n === undefined) return w.nil();
  w.int(n);
}

const OBJECT_HELP = [
  'OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'ENCODING <key>',
  '    Return the kind of internal representation used in order to store the value',
  '    associated with a <key>.',
  'FREQ <key>',
  '    Return the access frequency index of the <key>. The returned integer is',
  '    proportional to the logarithm of the recent access frequency of the key.',
  'IDLETIME <key>',
  '    Return the idle time of the <key>, that is the approximated number of',
  '    seconds elapsed since the last access to the key.',
  'REFCOUNT <key>',
  '    Return the number of references of the value associated with the specified',
  '    <key>.',
  'HELP',
  '    Prints this help.',
];

const OBJECT_SUBCOMMANDS = new Map<string, number>([
  ['encoding', 3],
  ['freq', 3],
  ['idletime', 3],
  ['refcount', 3],
  ['help', 2],
]);

/** REFCOUNT: shared integers answer INT_MAX unless an LRU/LFU maxmemory policy turns sharing off. */
function refcount(v: Stored, ctx: CommandContext): number {
  if (typeof v !== 'string' || v.length > 20 || !isIntText(v)) return 1;
  const n = BigInt(v);
  if (n < 0n || n >= SHARED_INTEGERS) return 1;
  const maxmemory = ctx.server.config.get('maxmemory') ?? '0';
  const policy = ctx.server.config.get('maxmemory-policy') ?? 'noeviction';
  if (maxmemory !== '0' && /-(lru|lfu)$/.test(policy)) return 1;
  return OBJ_SHARED_REFCOUNT;
}

export const respObjectCommands: CommandSpec[] = [
  {
    name: 'object',
    arity: -2,
    flags: [],
    subcommand: subcommandCheck(OBJECT_SUBCOMMANDS, 'object'),
    run(args, w, ctx) {
      const sub = args[1].toLowerCase();
      if (sub === 'help') {
        w.arr(OBJECT_HELP.length);
        for (const l of OBJECT_HELP) w.status(l);
        return;
      }
      // Redis looks the key up first: a missing key is a null reply whatever the subcommand.
      // Not an access (Redis's LOOKUP_NOTOUCH): asking a key's idle time leaves it as it was.
      const v = ctx.store.lookupNoTouch(args[2]);
      if (v === undefined) return w.nil();
      if (sub === 'encoding') return w.str(encodingOf(v));
      if (sub === 'refcount') return w.int(refcount(v, ctx));
      objectAccess(sub as 'idletime' | 'freq', args[2], ctx, w);
    },
  },
];
