// Streams (RESP only), with Redis 7.0's arguments, replies and error texts
// (t_stream.c): XADD XLEN XRANGE XREVRANGE XDEL XTRIM XSETID XREAD (BLOCK),
// XGROUP, XREADGROUP (BLOCK, NOACK), XACK, XPENDING, XCLAIM, XAUTOCLAIM, XINFO.
// The value type is src/store/stream.ts. Blocking reads are waiters of
// src/commands/resp/blocking.ts of the kind 'stream': every XADD signals its
// key as ready (Redis's signalKeyAsReady), and a waiter is served when the
// stream's last ID passes the ID it waits after.

import type { ReplyWriter } from '../../protocol/reply.js';
import {
  INVALID_ENTRIES_READ,
  IdMap,
  MAX_ID,
  Stream,
  U64_MAX,
  ZERO_ID,
  cmpId,
  decrId,
  idText,
  incrId,
  isZeroId,
  type Consumer,
  type ConsumerGroup,
  type Nack,
  type StreamEntry,
  type StreamID,
} from '../../store/stream.js';
import type { Keyspace } from '../../store/keyspace.js';
import { NOT_INTEGER, SYNTAX, parseInt64, wrongType } from '../args.js';
import { KEY1, arityError, err, isOpt } from '../common.js';
import type { ClientState, CommandContext, CommandSpec } from '../types.js';
import { notify, NOTIFY_STREAM } from '../notify.js';
import { blockOnStreams, signalKeyAsReady } from './blocking.js';

const INVALID_ID = 'ERR Invalid stream ID specified as stream command argument';

// ---------------------------------------------------------------- parsing

const INT64_MAX = (1n << 63n) - 1n;

/** getLongLongFromObject: a strict int64, as a bigint; null if invalid. */
function readLL(s: string): bigint | null {
  const v = parseInt64(s);
  return v === null ? null : BigInt(v);
}

/** string2ull: a strict int64 that is not negative, else strtoull's laxer reading (blanks, sign, leading zeros) up to 2^64-1. */
function string2ull(s: string): bigint | null {
  const ll = parseInt64(s);
  if (ll !== null) return BigInt(ll) < 0n ? null : BigInt(ll);
  const m = /^[ \t\n\v\f\r]*([+-]?)([0-9]+)$/.exec(s);
  if (m === null) return null;
  const v = BigInt(m[2]);
  if (v > U64_MAX) return null;
  return m[1] === '-' ? (U64_MAX + 1n - v) & U64_MAX : v;
}

interface ParsedId {
  id: StreamID;
  /** False for `ms-*` (XADD: the sequence is to be generated). */
  seqGiven: boolean;
}

/** streamGenericParseIDOrReply. `allowSeqStar`: XADD's `ms-*`. Null after writing the error. */
function parseId(s: string, missingSeq: bigint, strict: boolean, allowSeqStar: boolean, w: ReplyWriter): ParsedId | null {
  const bad = (): null => {
    err(w, INVALID_ID);
    return null;
  };
  if (s.length > 127) return bad();
  const nul = s.indexOf('\0');
  const buf = nul >= 0 ? s.slice(0, nul) : s;
  if (strict && (buf === '-' || buf === '+')) return bad();
  if (buf === '-') return { id: ZERO_ID, seqGiven: true };
  if (buf === '+') return { id: MAX_ID, seqGiven: true };
  const dash = buf.indexOf('-');
  const ms = string2ull(dash >= 0 ? buf.slice(0, dash) : buf);
  if (ms === null) return bad();
  if (dash < 0) return { id: { ms, seq: missingSeq }, seqGiven: true };
  const rest = buf.slice(dash + 1);
  if (allowSeqStar && rest === '*') return { id: { ms, seq: 0n }, seqGiven: false };
  const seq = string2ull(rest);
  if (seq === null) return bad();
  return { id: { ms, seq }, seqGiven: true };
}

function parseStrictId(s: string, w: ReplyWriter, missingSeq = 0n): StreamID | null {
  return parseId(s, missingSeq, true, false, w)?.id ?? null;
}

/** streamParseIntervalIDOrReply with the exclusive `(` form and its increment/decrement. */
function parseIntervalStart(s: string, w: ReplyWriter): StreamID | null {
  if (s.length > 1 && s[0] === '(') {
    const id = parseStrictId(s.slice(1), w, 0n);
    if (id === null) return null;
    const next = incrId(id);
    if (next === null) err(w, 'ERR invalid start ID for the interval');
    return next;
  }
  return parseId(s, 0n, false, false, w)?.id ?? null;
}

function parseIntervalEnd(s: string, w: ReplyWriter): StreamID | null {
  if (s.length > 1 && s[0] === '(') {
    const id = parseStrictId(s.slice(1), w, U64_MAX);
    if (id === null) return null;
    const prev = decrId(id);
    if (prev === null) err(w, 'ERR invalid end ID for the interval');
    return prev;
  }
  return parseId(s, U64_MAX, false, false, w)?.id ?? null;
}

// ---------------------------------------------------------------- lookups

const WRONG = Symbol('wrong');

/** The stream under key, undefined when missing, WRONG after WRONGTYPE. */
function readStream(store: Keyspace, key: string, w: ReplyWriter): Stream | undefined | typeof WRONG {
  const v = store.get(key);
  if (v === undefined) return undefined;
  if (v instanceof Stream) return v;
  wrongType(w);
  return WRONG;
}

// ---------------------------------------------------------------- replies

function writeEntry(w: ReplyWriter, e: StreamEntry): void {
  w.arr(2);
  w.str(idText(e.id));
  w.arr(e.fields.length);
  for (const f of e.fields) w.str(f);
}

function writeEntries(w: ReplyWriter, entries: StreamEntry[]): void {
  w.arr(entries.length);
  for (const e of entries) writeEntry(w, e);
}

// ---------------------------------------------------------------- XADD / XTRIM

interface TrimArgs {
  strategy: 'none' | 'maxlen' | 'minid';
  approx: boolean;
  maxLen: number;
  minId: StreamID;
  limit: number;
  /** XADD: the ID given, or null for `*`. */
  id: ParsedId | null;
  noMkStream: boolean;
  /** Index of the ID argument (XADD), or where parsing stopped. */
  idPos: number;
}

/** streamParseAddOrTrimArgsOrReply. */
function parseAddOrTrim(args: string[], xadd: boolean, w: ReplyWriter): TrimArgs | null {
  const a: TrimArgs = { strategy: 'none', approx: false, maxLen: 0, minId: ZERO_ID, limit: 0, id: null, noMkStream: false, idPos: 0 };
  let limitGiven = false;
  let i = 2;
  for (; i < args.length; i++) {
    const moreargs = args.length - 1 - i;
    const opt = args[i];
    if (xadd && opt === '*') break;
    if (isOpt(opt, 'maxlen') && moreargs > 0) {
      if (a.strategy !== 'none') {
        err(w, 'ERR syntax error, MAXLEN and MINID options at the same time are not compatible');
        return null;
      }
      a.approx = false;
      const next = args[i + 1];
      if (moreargs >= 2 && next === '~') {
        a.approx = true;
        i++;
      } else if (moreargs >= 2 && next === '=') i++;
      const v = readLL(args[i + 1]);
      if (v === null) {
        err(w, NOT_INTEGER);
        return null;
      }
      if (v < 0n) {
        err(w, 'ERR The MAXLEN argument must be >= 0.');
        return null;
      }
      a.maxLen = Number(v);
      i++;
      a.strategy = 'maxlen';
    } else if (isOpt(opt, 'minid') && moreargs > 0) {
      if (a.strategy !== 'none') {
        err(w, 'ERR syntax error, MAXLEN and MINID options at the same time are not compatible');
        return null;
      }
      a.approx = false;
      const next = args[i + 1];
      if (moreargs >= 2 && next === '~') {
        a.approx = true;
        i++;
      } else if (moreargs >= 2 && next === '=') i++;
      const id = parseStrictId(args[i + 1], w);
      if (id === null) return null;
      a.minId = id;
      i++;
      a.strategy = 'minid';
    } else if (isOpt(opt, 'limit') && moreargs > 0) {
      const v = readLL(args[i + 1]);
      if (v === null) {
        err(w, NOT_INTEGER);
        return null;
      }
      if (v < 0n) {
        err(w, 'ERR The LIMIT argument must be >= 0.');
        return null;
      }
      a.limit = v > INT64_MAX ? Number.MAX_SAFE_INTEGER : Number(v);
      limitGiven = true;
      i++;
    } else if (xadd && isOpt(opt, 'nomkstream')) {
      a.noMkStream = true;
    } else if (xadd) {
      const id = parseId(opt, 0n, true, true, w);
      if (id === null) return null;
      a.id = id;
      break;
    } else {
      err(w, SYNTAX);
      return null;
    }
  }
  if (a.limit !== 0 && a.strategy === 'none') {
    err(w, 'ERR syntax error, LIMIT cannot be used without specifying a trimming strategy');
    return null;
  }
  if (!xadd && a.strategy === 'none') {
    err(w, 'ERR syntax error, XTRIM must be called with a trimming strategy');
    return null;
  }
  if (!limitGiven) a.limit = a.approx ? 100 * 100 : 0;
  else if (!a.approx) {
    err(w, 'ERR syntax error, LIMIT cannot be used without the special ~ option');
    return null;
  }
  a.idPos = i;
  return a;
}

function trimStream(s: Stream, a: TrimArgs): number {
  if (a.strategy === 'none') return 0;
  return s.trim(a.strategy, a.maxLen, a.minId, a.approx, a.limit);
}

function xadd(args: string[], w: ReplyWriter, ctx: CommandContext): void {
  const a = parseAddOrTrim(args, true, w);
  if (a === null) return;
  const fieldPos = a.idPos + 1;
  const nf = args.length - fieldPos;
  if (nf < 2 || nf % 2 === 1) return arityError(w, 'xadd');
  if (a.id !== null && a.id.seqGiven && isZeroId(a.id.id)) return err(w, 'ERR The ID specified in XADD must be greater than 0-0');
  const { store } = ctx;
  const key = args[1];
  let s = readStream(store, key, w);
  if (s === WRONG) return;
  let created = false;
  if (s === undefined) {
    if (a.noMkStream) return w.nil();
    s = new Stream();
    created = true;
  }
  if (s.lastId.ms === U64_MAX && s.lastId.seq === U64_MAX) {
    if (created) return err(w, 'ERR The stream has exhausted the last possible ID, unable to add more items');
    return err(w, 'ERR The stream has exhausted the last possible ID, unable to add more items');
  }
  let id: StreamID;
  const last = s.lastId;
  if (a.id !== null) {
    if (a.id.seqGiven) id = a.id.id;
    else if (a.id.id.ms === last.ms) {
      if (last.seq === U64_MAX) {
        if (created) store.put(key, s);
        return err(w, 'ERR The ID specified in XADD is equal or smaller than the target stream top item');
      }
      id = { ms: last.ms, seq: last.seq + 1n };
    } else id = a.id.id;
  } else {
    const now = BigInt(Date.now());
    id = now > last.ms ? { ms: now, seq: 0n } : incrId(last)!;
  }
  if (cmpId(id, last) <= 0) {
    // Redis creates the key before it fails (streamTypeLookupWriteOrCreate), leaving an empty stream.
    if (created) store.put(key, s);
    return err(w, 'ERR The ID specified in XADD is equal or smaller than the target stream top item');
  }
  s.append(id, args.slice(fieldPos));
  if (created) store.put(key, s);
  w.str(idText(id));
  notify(ctx, NOTIFY_STREAM, 'xadd', key);
  if (trimStream(s, a) > 0) notify(ctx, NOTIFY_STREAM, 'xtrim', key);
  signalKeyAsReady(ctx.server, ctx.store, key);
}

// ---------------------------------------------------------------- XRANGE / XREVRANGE

function xrange(args: string[], w: ReplyWriter, ctx: CommandContext, rev: boolean): void {
  const start = parseIntervalStart(rev ? args[3] : args[2], w);
  if (start === null) return;
  const end = parseIntervalEnd(rev ? args[2] : args[3], w);
  if (end === null) return;
  let count = -1n;
  for (let j = 4; j < args.length; j++) {
    if (isOpt(args[j], 'count') && j + 1 < args.length) {
      const v = readLL(args[j + 1]);
      if (v === null) return err(w, NOT_INTEGER);
      count = v < 0n ? 0n : v;
      j++;
    } else return err(w, SYNTAX);
  }
  const s = readStream(ctx.store, args[1], w);
  if (s === WRONG) return;
  if (s === undefined) return w.arr(0);
  if (count === 0n) return w.nilArr();
  const n = count === -1n ? 0 : count > BigInt(Number.MAX_SAFE_INTEGER) ? 0 : Number(count);
  writeEntries(w, [...(rev ? s.revRange(start, end, n) : s.range(start, end, n))]);
}

// ---------------------------------------------------------------- XREAD / XREADGROUP

/** XREAD without COUNT that blocks is served at most this many entries (XREAD_BLOCKED_DEFAULT_COUNT). */
const BLOCKED_DEFAULT_COUNT = 1000;

function group(s: Stream | undefined, name: string): ConsumerGroup | undefined {
  return s?.groups.get(name);
}

function lookupConsumer(g: ConsumerGroup, name: string, refresh: boolean): Consumer | undefined {
  const c = g.consumers.get(name);
  if (c !== undefined && refresh) c.seenTime = Date.now();
  return c;
}

/** Creates a consumer (null if it exists), publishing xgroup-createconsumer on key (Redis's streamCreateConsumer). */
function createConsumer(g: ConsumerGroup, name: string, ctx: CommandContext, key: string): Consumer | null {
  if (g.consumers.has(name)) return null;
  const c: Consumer = { name, seenTime: Date.now(), pel: new IdMap<Nack>() };
  g.consumers.set(name, c);
  notify(ctx, NOTIFY_STREAM, 'xgroup-createconsumer', key);
  return c;
}

function consumerOf(g: ConsumerGroup, name: string, ctx: CommandContext, key: string): Consumer {
  return lookupConsumer(g, name, true) ?? createConsumer(g, name, ctx, key)!;
}

/**
 * streamReplyWithRange for XREAD and XREADGROUP `>`: entries after `after`,
 * at most count (0: all); with a group, advances its last ID and entries-read
 * and (unless noack) adds each entry to the PELs.
 */
function replyNew(w: ReplyWriter, s: Stream, after: StreamID, count: number, g: ConsumerGroup | null, consumer: Consumer | null, noack: boolean): void {
  const start = incrId(after);
  const entries = start === null ? [] : [...s.range(start, MAX_ID, count)];
  w.arr(entries.length);
  for (const e of entries) {
    if (g !== null) {
      if (cmpId(e.id, g.lastId) > 0) {
        if (g.entriesRead !== INVALID_ENTRIES_READ && !s.rangeHasTombstones(e.id, null)) g.entriesRead++;
        else if (s.entriesAdded !== 0) g.entriesRead = s.estimateDistance(e.id);
        g.lastId = e.id;
      }
    }
    writeEntry(w, e);
    if (g !== null && !noack && consumer !== null) {
      const existing = g.pel.get(e.id);
      if (existing === undefined) {
        const nack: Nack = { consumer, deliveryTime: Date.now(), deliveryCount: 1 };
        g.pel.set(e.id, nack);
        consumer.pel.set(e.id, nack);
      } else {
        existing.consumer.pel.delete(e.id);
        existing.consumer = consumer;
        existing.deliveryTime = Date.now();
        existing.deliveryCount = 1;
        consumer.pel.set(e.id, existing);
      }
    }
  }
}

/** streamReplyWithRangeFromConsumerPEL: the consumer's pending entries after `after`. */
function replyHistory(w: ReplyWriter, s: Stream, after: StreamID, count: number, consumer: Consumer): void {
  const start = incrId(after);
  const items: [StreamID, Nack][] = [];
  if (start !== null) {
    for (const item of consumer.pel.range(start)) {
      if (count !== 0 && items.length >= count) break;
      items.push(item);
    }
  }
  w.arr(items.length);
  for (const [id, nack] of items) {
    const e = s.get(id);
    if (e === undefined) {
      w.arr(2);
      w.str(idText(id));
      w.nilArr();
    } else {
      writeEntry(w, e);
      nack.deliveryTime = Date.now();
      nack.deliveryCount++;
    }
  }
}

/** One stream's part of an XREAD reply: RESP2 a [key, entries] array, RESP3 a map entry. */
function streamHeader(w: ReplyWriter, resp: 2 | 3, key: string): void {
  if (resp === 2) w.arr(2);
  w.str(key);
}

function xread(args: string[], w: ReplyWriter, ctx: CommandContext, xreadgroup: boolean): void {
  let timeout = -1;
  let count = 0;
  let streamsArg = 0;
  let streamsCount = 0;
  let noack = false;
  let groupName: string | null = null;
  let consumerName = '';
  const cmdName = xreadgroup ? 'xreadgroup' : 'xread';
  for (let i = 1; i < args.length; i++) {
    const moreargs = args.length - i - 1;
    const o = args[i];
    if (isOpt(o, 'block') && moreargs > 0) {
      i++;
      const v = readLL(args[i]);
      if (v === null) return err(w, 'ERR timeout is not an integer or out of range');
      if (v < 0n) return err(w, 'ERR timeout is negative');
      timeout = v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
    } else if (isOpt(o, 'count') && moreargs > 0) {
      i++;
      const v = readLL(args[i]);
      if (v === null) return err(w, NOT_INTEGER);
      count = v < 0n ? 0 : v > BigInt(Number.MAX_SAFE_INTEGER) ? 0 : Number(v);
    } else if (isOpt(o, 'streams') && moreargs > 0) {
      streamsArg = i + 1;
      streamsCount = args.length - streamsArg;
      if (streamsCount % 2 !== 0) {
        const symbol = xreadgroup ? '>' : '$';
        return err(w, `ERR Unbalanced ${cmdName.toUpperCase()} list of streams: for each stream key an ID or '${symbol}' must be specified.`);
      }
      streamsCount /= 2;
      break;
    } else if (isOpt(o, 'group') && moreargs >= 2) {
      if (!xreadgroup) return err(w, 'ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.');
      groupName = args[i + 1];
      consumerName = args[i + 2];
      i += 2;
    } else if (isOpt(o, 'noack')) {
      if (!xreadgroup) return err(w, 'ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.');
      noack = true;
    } else return err(w, SYNTAX);
  }
  if (streamsArg === 0) return err(w, SYNTAX);
  if (xreadgroup && groupName === null) return err(w, 'ERR Missing GROUP option for XREADGROUP');

  const { store, client } = ctx;
  const keys = args.slice(streamsArg, streamsArg + streamsCount);
  const ids: (StreamID | '>')[] = [];
  const groups: (ConsumerGroup | null)[] = [];
  for (let j = 0; j < streamsCount; j++) {
    const key = keys[j];
    const s = readStream(store, key, w);
    if (s === WRONG) return;
    let g: ConsumerGroup | null = null;
    if (groupName !== null) {
      g = group(s, groupName) ?? null;
      if (g === null) return err(w, `NOGROUP No such key '${key}' or consumer group '${groupName}' in XREADGROUP with GROUP option`);
    }
    groups.push(g);
    const arg = args[streamsArg + streamsCount + j];
    if (arg === '$') {
      if (xreadgroup)
        return err(
          w,
          'ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.',
        );
      ids.push(s !== undefined ? s.lastId : ZERO_ID);
      continue;
    }
    if (arg === '>') {
      if (!xreadgroup) return err(w, 'ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.');
      ids.push('>');
      continue;
    }
    const id = parseStrictId(arg, w);
    if (id === null) return;
    ids.push(id);
  }

  // Serve synchronously what can be served.
  const parts: ((out: ReplyWriter) => void)[] = [];
  for (let j = 0; j < streamsCount; j++) {
    const key = keys[j];
    const s = store.get(key) as Stream | undefined;
    if (s === undefined) continue;
    const g = groups[j];
    const idj = ids[j];
    if (g !== null) {
      let serve = false;
      let history = false;
      let gt: StreamID = ZERO_ID;
      if (idj !== '>') {
        serve = true;
        history = true;
        gt = idj;
      } else if (s.length > 0) {
        const maxid = s.lastEntry()!.id;
        if (cmpId(maxid, g.lastId) > 0) {
          serve = true;
          gt = g.lastId;
        }
      }
      const consumer = consumerOf(g, consumerName, ctx, key);
      if (serve) {
        const after = gt;
        parts.push((out) => {
          streamHeader(out, client.resp, key);
          if (history) replyHistory(out, s, after, count, consumer);
          else replyNew(out, s, after, count, g, consumer, noack);
        });
      }
    } else if (s.length > 0) {
      const gt = idj as StreamID;
      const maxid = s.lastEntry()!.id;
      if (cmpId(maxid, gt) > 0) {
        parts.push((out) => {
          streamHeader(out, client.resp, key);
          replyNew(out, s, gt, count, null, null, false);
        });
      }
    }
  }
  if (parts.length > 0) {
    if (client.resp === 2) w.arr(parts.length);
    else w.map(parts.length);
    for (const p of parts) p(w);
    return;
  }
  if (timeout === -1 || client.inExec) return w.nilArr();

  // Block: per key the ID to read after (a group's is re-read when served).
  const after = new Map<string, StreamID>();
  for (let j = 0; j < streamsCount; j++) if (!after.has(keys[j])) after.set(keys[j], ids[j] === '>' ? MAX_ID : (ids[j] as StreamID));
  const blockCount = count !== 0 ? count : BLOCKED_DEFAULT_COUNT;
  blockOnStreams(ctx, xreadgroup ? 'XREADGROUP' : 'XREAD', keys, timeout, {
    group: groupName,
    // Redis's serveClientsBlockedOnStreamKey.
    serve(store2, key, receiver: ClientState): ((out: ReplyWriter) => void) | null {
      const s = store2.get(key);
      if (!(s instanceof Stream)) return null;
      let gt = after.get(key)!;
      let g: ConsumerGroup | null = null;
      if (groupName !== null) {
        g = s.groups.get(groupName) ?? null;
        if (g === null) return (out) => err(out, 'NOGROUP the consumer group this client was blocked on no longer exists');
        gt = g.lastId;
      }
      if (cmpId(s.lastId, gt) <= 0) return null;
      const consumer = g !== null ? consumerOf(g, consumerName, ctx, key) : null;
      const from = gt;
      return (out) => {
        if (receiver.resp === 2) {
          out.arr(1);
          out.arr(2);
        } else out.map(1);
        out.str(key);
        replyNew(out, s, from, blockCount, g, consumer, noack);
      };
    },
  });
}

// ---------------------------------------------------------------- XGROUP

const NO_KEY_FOR_XGROUP =
  'ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.';

const XGROUP_SUBCOMMANDS = new Map<string, number>([
  ['create', -5],
  ['setid', -5],
  ['destroy', 4],
  ['createconsumer', 5],
  ['delconsumer', 5],
  ['help', 2],
]);

const XINFO_SUBCOMMANDS = new Map<string, number>([
  ['stream', -3],
  ['groups', 3],
  ['consumers', 4],
  ['help', 2],
]);

export function subcommandCheck(table: Map<string, number>, container: string) {
  return (args: string[], w: ReplyWriter): boolean => {
    const arity = table.get(args[1].toLowerCase());
    if (arity === undefined) {
      err(w, `ERR unknown subcommand '${args[1].slice(0, 128)}'. Try ${args[0].toUpperCase()} HELP.`);
      return false;
    }
    if (arity > 0 ? args.length !== arity : args.length < -arity) {
      arityError(w, `${container}|${args[1].toLowerCase()}`);
      return false;
    }
    return true;
  };
}

function subcommandSyntax(args: string[], w: ReplyWriter): void {
  err(w, `ERR unknown subcommand or wrong number of arguments for '${args[1].slice(0, 128)}'. Try ${args[0].toUpperCase()} HELP.`);
}

const XGROUP_HELP = [
  'XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'CREATE <key> <groupname> <id|$> [option]',
  '    Create a new consumer group. Options are:',
  '    * MKSTREAM',
  '      Create the empty stream if it does not exist.',
  '    * ENTRIESREAD entries_read',
  '      Set the group\'s entries_read counter (internal use).',
  'CREATECONSUMER <key> <groupname> <consumer>',
  '    Create a new consumer in the specified group.',
  'DELCONSUMER <key> <groupname> <consumer>',
  '    Remove the specified consumer.',
  'DESTROY <key> <groupname>',
  '    Remove the specified group.',
  'SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]',
  '    Set the current group ID and entries_read counter.',
  'HELP',
  '    Prints this help.',
];

function xgroup(args: string[], w: ReplyWriter, ctx: CommandContext): void {
  const opt = args[1];
  const { store } = ctx;
  let s: Stream | undefined;
  let g: ConsumerGroup | undefined;
  let mkstream = false;
  let entriesRead = INVALID_ENTRIES_READ;
  if (args.length >= 4) {
    if (isOpt(opt, 'create') || isOpt(opt, 'setid')) {
      const create = isOpt(opt, 'create');
      let i = 5;
      while (i < args.length) {
        if (create && isOpt(args[i], 'mkstream')) {
          mkstream = true;
          i++;
        } else if (isOpt(args[i], 'entriesread') && i + 1 < args.length) {
          const v = readLL(args[i + 1]);
          if (v === null) return err(w, NOT_INTEGER);
          if (v < 0n && v !== -1n) return err(w, 'ERR value for ENTRIESREAD must be positive or -1');
          entriesRead = Number(v);
          i += 2;
        } else return subcommandSyntax(args, w);
      }
    }
    const v = readStream(store, args[2], w);
    if (v === WRONG) return;
    s = v;
    const grpname = args[3];
    if (!mkstream) {
      if (s === undefined) return err(w, NO_KEY_FOR_XGROUP);
      g = s.groups.get(grpname);
      if (g === undefined && (isOpt(opt, 'setid') || isOpt(opt, 'createconsumer') || isOpt(opt, 'delconsumer')))
        return err(w, `NOGROUP No such consumer group '${grpname}' for key name '${args[2]}'`);
    } else g = s?.groups.get(grpname);
  }
  if (args.length === 2 && isOpt(opt, 'help')) {
    w.arr(XGROUP_HELP.length);
    for (const l of XGROUP_HELP) w.status(l);
    return;
  }
  if (isOpt(opt, 'create') && args.length >= 5 && args.length <= 8) {
    let id: StreamID;
    if (args[4] === '$') id = s !== undefined ? s.lastId : ZERO_ID;
    else {
      const p = parseStrictId(args[4], w);
      if (p === null) return;
      id = p;
    }
    if (s === undefined) {
      s = new Stream();
      store.put(args[2], s);
    }
    if (s.groups.has(args[3])) return err(w, 'BUSYGROUP Consumer Group name already exists');
    s.groups.set(args[3], { name: args[3], lastId: id, entriesRead, pel: new IdMap<Nack>(), consumers: new Map() });
    w.status('OK');
    notify(ctx, NOTIFY_STREAM, 'xgroup-create', args[2]);
    return;
  }
  if (isOpt(opt, 'setid') && (args.length === 5 || args.length === 7)) {
    let id: StreamID;
    if (args[4] === '$') id = s!.lastId;
    else {
      const p = parseId(args[4], 0n, false, false, w);
      if (p === null) return;
      id = p.id;
    }
    g!.lastId = id;
    g!.entriesRead = entriesRead;
    w.status('OK');
    notify(ctx, NOTIFY_STREAM, 'xgroup-setid', args[2]);
    return;
  }
  if (isOpt(opt, 'destroy') && args.length === 4) {
    if (g === undefined) return w.int(0);
    s!.groups.delete(args[3]);
    w.int(1);
    notify(ctx, NOTIFY_STREAM, 'xgroup-destroy', args[2]);
    signalKeyAsReady(ctx.server, ctx.store, args[2]);
    return;
  }
  if (isOpt(opt, 'createconsumer') && args.length === 5) return w.int(createConsumer(g!, args[4], ctx, args[2]) !== null ? 1 : 0);
  if (isOpt(opt, 'delconsumer') && args.length === 5) {
    const c = lookupConsumer(g!, args[4], false);
    let pending = 0;
    if (c !== undefined) {
      pending = c.pel.size;
      for (const [id] of [...c.pel.range(ZERO_ID)]) g!.pel.delete(id);
      g!.consumers.delete(c.name);
      notify(ctx, NOTIFY_STREAM, 'xgroup-delconsumer', args[2]);
    }
    return w.int(pending);
  }
  subcommandSyntax(args, w);
}

// ---------------------------------------------------------------- XACK / XPENDING

function xack(args: string[], w: ReplyWriter, ctx: CommandContext): void {
  const s = readStream(ctx.store, args[1], w);
  if (s === WRONG) return;
  const g = s?.groups.get(args[2]);
  if (g === undefined) return w.int(0);
  const ids: StreamID[] = [];
  for (let j = 3; j < args.length; j++) {
    const id = parseStrictId(args[j], w);
    if (id === null) return;
    ids.push(id);
  }
  let acked = 0;
  for (const id of ids) {
    const nack = g.pel.get(id);
    if (nack === undefined) continue;
    g.pel.delete(id);
    nack.consumer.pel.delete(id);
    acked++;
  }
  w.int(acked);
}

/** Consumers in name order (Redis keeps them in a radix tree). */
function sortedConsumers(g: ConsumerGroup): Consumer[] {
  return [...g.consumers.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function xpending(args: string[], w: ReplyWriter, ctx: CommandContext): void {
  const justinfo = args.length === 3;
  if (args.length !== 3 && (args.length < 6 || args.length > 9)) return err(w, SYNTAX);
  let start = ZERO_ID;
  let end = MAX_ID;
  let count = 0n;
  let minidle = 0n;
  let consumerName: string | null = null;
  if (args.length >= 6) {
    let startidx = 3;
    if (isOpt(args[3], 'idle')) {
      const v = readLL(args[4]);
      if (v === null) return err(w, NOT_INTEGER);
      minidle = v;
      if (args.length < 8) return err(w, SYNTAX);
      startidx += 2;
    }
    const c = readLL(args[startidx + 2]);
    if (c === null) return err(w, NOT_INTEGER);
    count = c < 0n ? 0n : c;
    const st = parseIntervalStart(args[startidx], w);
    if (st === null) return;
    const en = parseIntervalEnd(args[startidx + 1], w);
    if (en === null) return;
    start = st;
    end = en;
    if (startidx + 3 < args.length) consumerName = args[startidx + 3];
  }
  const s = readStream(ctx.store, args[1], w);
  if (s === WRONG) return;
  const g = s?.groups.get(args[2]);
  if (g === undefined) return err(w, `NOGROUP No such key '${args[1]}' or consumer group '${args[2]}'`);
  if (justinfo) {
    w.arr(4);
    w.int(g.pel.size);
    if (g.pel.size === 0) {
      w.nil();
      w.nil();
      w.nilArr();
      return;
    }
    w.str(idText(g.pel.first()!));
    w.str(idText(g.pel.last()!));
    const withPending = sortedConsumers(g).filter((c) => c.pel.size > 0);
    w.arr(withPending.length);
    for (const c of withPending) {
      w.arr(2);
      w.str(c.name);
      w.str(String(c.pel.size));
    }
    return;
  }
  let pel = g.pel;
  if (consumerName !== null) {
    const c = lookupConsumer(g, consumerName, false);
    if (c === undefined) return w.arr(0);
    pel = c.pel;
  }
  const now = Date.now();
  const rows: [StreamID, Nack][] = [];
  if (count > 0n) {
    for (const [id, nack] of pel.range(start, end)) {
      if (minidle !== 0n && BigInt(now - nack.deliveryTime) < minidle) continue;
      rows.push([id, nack]);
      if (BigInt(rows.length) >= count) break;
    }
  }
  w.arr(rows.length);
  for (const [id, nack] of rows) {
    w.arr(4);
    w.str(idText(id));
    w.str(nack.consumer.name);
    w.int(Math.max(0, now - nack.deliveryTime));
    w.int(nack.deliveryCount);
  }
}

// ---------------------------------------------------------------- XCLAIM / XAUTOCLAIM

/** One claimed entry of XCLAIM/XAUTOCLAIM's reply: its ID (JUSTID) or the entry. */
function writeClaimed(w: ReplyWriter, s: Stream, id: StreamID, justid: boolean): void {
  if (justid) return w.str(idText(id));
  const e = s.get(id);
  if (e === undefined) w.nil();
  else writeEntry(w, e);
}

/** Moves a pending entry to `consumer` (removing it from its previous owner's PEL). */
function transferNack(id: StreamID, nack: Nack, consumer: Consumer): void {
  if (nack.consumer !== consumer) {
    nack.consumer.pel.delete(id);
    consumer.pel.set(id, nack);
    nack.consumer = consumer;
  }
}

function dropNack(g: ConsumerGroup, id: StreamID, nack: Nack): void {
  g.pel.delete(id);
  nack.consumer.pel.delete(id);
}

function xclaim(args: string[], w: ReplyWriter, ctx: CommandContext): void {
  const s = readStream(ctx.store, args[1], w);
  if (s === WRONG) return;
  const g = s?.groups.get(args[2]);
  if (s === undefined || g === undefined) return err(w, `NOGROUP No such key '${args[1]}' or consumer group '${args[2]}'`);
  const mi = readLL(args[4]);
  if (mi === null) return err(w, 'ERR Invalid min-idle-time argument for XCLAIM');
  const minidle = mi < 0n ? 0 : Number(mi);
  const ids: StreamID[] = [];
  let j = 5;
  for (; j < args.length; j++) {
    const p = parseId(args[j], 0n, true, false, SILENT);
    if (p === null) break;
    ids.push(p.id);
  }
  const now = Date.now();
  let force = false;
  let justid = false;
  let deliveryTime = -1;
  let retryCount = -1;
  for (; j < args.length; j++) {
    const moreargs = args.length - 1 - j;
    const opt = args[j];
    if (isOpt(opt, 'force')) force = true;
    else if (isOpt(opt, 'justid')) justid = true;
    else if (isOpt(opt, 'idle') && moreargs > 0) {
      const v = readLL(args[++j]);
      if (v === null) return err(w, 'ERR Invalid IDLE option argument for XCLAIM');
      deliveryTime = now - Number(v);
    } else if (isOpt(opt, 'time') && moreargs > 0) {
      const v = readLL(args[++j]);
      if (v === null) return err(w, 'ERR Invalid TIME option argument for XCLAIM');
      deliveryTime = Number(v);
    } else if (isOpt(opt, 'retrycount') && moreargs > 0) {
      const v = readLL(args[++j]);
      if (v === null) return err(w, 'ERR Invalid RETRYCOUNT option argument for XCLAIM');
      retryCount = Number(v);
    } else if (isOpt(opt, 'lastid') && moreargs > 0) {
      const id = parseStrictId(args[++j], w);
      if (id === null) return;
      if (cmpId(id, g.lastId) > 0) g.lastId = id;
    } else return err(w, `ERR Unrecognized XCLAIM option '${opt}'`);
  }
  if (deliveryTime !== -1) {
    if (deliveryTime < 0 || deliveryTime > now) deliveryTime = now;
  } else deliveryTime = now;
  let consumer: Consumer | null = null;
  const claimed: StreamID[] = [];
  for (const id of ids) {
    let nack = g.pel.get(id);
    if (s.get(id) === undefined) {
      // The entry is gone: its pending record goes too.
      if (nack !== undefined) dropNack(g, id, nack);
      continue;
    }
    let fresh = false;
    if (force && nack === undefined) {
      fresh = true;
      nack = { consumer: null as unknown as Consumer, deliveryTime: now, deliveryCount: 1 };
      g.pel.set(id, nack);
    }
    if (nack === undefined) continue;
    if (!fresh && minidle !== 0 && now - nack.deliveryTime < minidle) continue;
    if (consumer === null) consumer = consumerOf(g, args[3], ctx, args[1]);
    nack.deliveryTime = deliveryTime;
    if (retryCount >= 0) nack.deliveryCount = retryCount;
    else if (!justid) nack.deliveryCount++;
    if (fresh) {
      nack.consumer = consumer;
      consumer.pel.set(id, nack);
    } else transferNack(id, nack, consumer);
    claimed.push(id);
  }
  w.arr(claimed.length);
  for (const id of claimed) writeClaimed(w, s, id, justid);
}

const COUNT_MAX = Math.floor(Number.MAX_SAFE_INTEGER / 16);

function xautoclaim(args: string[], w: ReplyWriter, ctx: CommandContext): void {
  const mi = readLL(args[4]);
  if (mi === null) return err(w, 'ERR Invalid min-idle-time argument for XAUTOCLAIM');
  const minidle = mi < 0n ? 0 : Number(mi);
  const start = parseIntervalStart(args[5], w);
  if (start === null) return;
  let count = 100;
  let justid = false;
  for (let j = 6; j < args.length; j++) {
    const moreargs = args.length - 1 - j;
    if (isOpt(args[j], 'count') && moreargs > 0) {
      const v = readLL(args[j + 1]);
      // getRangeLongFromObjectOrReply: LONG_MAX / 16 at most (16 = sizeof(streamID)).
      if (v === null || v < 1n || v > 576460752303423487n) return err(w, 'ERR COUNT must be > 0');
      count = v > BigInt(COUNT_MAX) ? COUNT_MAX : Number(v);
      j++;
    } else if (isOpt(args[j], 'justid')) justid = true;
    else return err(w, SYNTAX);
  }
  const s = readStream(ctx.store, args[1], w);
  if (s === WRONG) return;
  const g = s?.groups.get(args[2]);
  if (s === undefined || g === undefined) return err(w, `NOGROUP No such key '${args[1]}' or consumer group '${args[2]}'`);
  let attempts = count * 10;
  // The PEL entries this call may look at, and the one after them (the cursor).
  const window: [StreamID, Nack][] = [];
  for (const item of g.pel.range(start)) {
    window.push(item);
    if (window.length > attempts) break;
  }
  const now = Date.now();
  let consumer: Consumer | null = null;
  const claimed: StreamID[] = [];
  const deleted: StreamID[] = [];
  let i = 0;
  while (attempts-- > 0 && count > 0 && i < window.length) {
    const [id, nack] = window[i++];
    if (s.get(id) === undefined) {
      dropNack(g, id, nack);
      deleted.push(id);
      count--;
      continue;
    }
    if (minidle !== 0 && now - nack.deliveryTime < minidle) continue;
    if (consumer === null) consumer = consumerOf(g, args[3], ctx, args[1]);
    nack.deliveryTime = now;
    if (!justid) nack.deliveryCount++;
    transferNack(id, nack, consumer);
    claimed.push(id);
    count--;
  }
  const next = i < window.length ? window[i][0] : ZERO_ID;
  w.arr(3);
  w.str(idText(next));
  w.arr(claimed.length);
  for (const id of claimed) writeClaimed(w, s, id, justid);
  w.arr(deleted.length);
  for (const id of deleted) w.str(idText(id));
}

// ---------------------------------------------------------------- XINFO

/** streamReplyWithCGLag. */
function writeLag(w: ReplyWriter, s: Stream, g: ConsumerGroup): void {
  if (s.entriesAdded === 0) return w.int(0);
  if (g.entriesRead !== INVALID_ENTRIES_READ && !s.rangeHasTombstones(g.lastId, null)) return w.int(s.entriesAdded - g.entriesRead);
  const read = s.estimateDistance(g.lastId);
  if (read !== INVALID_ENTRIES_READ) return w.int(s.entriesAdded - read);
  w.nil();
}

function writeEntriesRead(w: ReplyWriter, g: ConsumerGroup): void {
  if (g.entriesRead !== INVALID_ENTRIES_READ) w.int(g.entriesRead);
  else w.nil();
}

/** Groups in name order (Redis keeps them in a radix tree). */
function sortedGroups(s: Stream): ConsumerGroup[] {
  return [...s.groups.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function writeStreamHead(w: ReplyWriter, s: Stream): void {
  w.str('length');
  w.int(s.length);
  w.str('radix-tree-keys');
  w.int(s.chunkCount);
  w.str('radix-tree-nodes');
  w.int(s.radixNodes());
  w.str('last-generated-id');
  w.str(idText(s.lastId));
  w.str('max-deleted-entry-id');
  w.str(idText(s.maxDeletedId));
  w.str('entries-added');
  w.int(s.entriesAdded);
  w.str('recorded-first-entry-id');
  w.str(idText(s.firstId));
}

const XINFO_HELP = [
  'XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'CONSUMERS <key> <groupname>',
  '    Show consumers of <groupname>.',
  'GROUPS <key>',
  '    Show the stream consumer groups.',
  'STREAM <key> [FULL [COUNT <count>]',
  '    Show information about the stream.',
  'HELP',
  '    Prints this help.',
];

function xinfo(args: string[], w: ReplyWriter, ctx: CommandContext): void {
  if (isOpt(args[1], 'help')) {
    w.arr(XINFO_HELP.length);
    for (const l of XINFO_HELP) w.status(l);
    return;
  }
  const key = args[2];
  const v = ctx.store.get(key);
  if (v === undefined) return err(w, 'ERR no such key');
  if (!(v instanceof Stream)) return wrongType(w);
  const s = v;
  if (isOpt(args[1], 'consumers') && args.length === 4) {
    const g = s.groups.get(args[3]);
    if (g === undefined) return err(w, `NOGROUP No such consumer group '${args[3]}' for key name '${key}'`);
    const now = Date.now();
    const cs = sortedConsumers(g);
    w.arr(cs.length);
    for (const c of cs) {
      w.map(3);
      w.str('name');
      w.str(c.name);
      w.str('pending');
      w.int(c.pel.size);
      w.str('idle');
      w.int(Math.max(0, now - c.seenTime));
    }
    return;
  }
  if (isOpt(args[1], 'groups') && args.length === 3) {
    const gs = sortedGroups(s);
    w.arr(gs.length);
    for (const g of gs) {
      w.map(6);
      w.str('name');
      w.str(g.name);
      w.str('consumers');
      w.int(g.consumers.size);
      w.str('pending');
      w.int(g.pel.size);
      w.str('last-delivered-id');
      w.str(idText(g.lastId));
      w.str('entries-read');
      writeEntriesRead(w, g);
      w.str('lag');
      writeLag(w, s, g);
    }
    return;
  }
  if (isOpt(args[1], 'stream')) {
    const optc = args.length - 3;
    let count = 10;
    if (optc === 0) {
      w.map(10);
      writeStreamHead(w, s);
      w.str('groups');
      w.int(s.groups.size);
      w.str('first-entry');
      const first = s.firstEntry();
      if (first === undefined) w.nil();
      else writeEntry(w, first);
      w.str('last-entry');
      const last = s.lastEntry();
      if (last === undefined) w.nil();
      else writeEntry(w, last);
      return;
    }
    if ((optc !== 1 && optc !== 3) || !isOpt(args[3], 'full') || (optc === 3 && !isOpt(args[4], 'count'))) return subcommandSyntax(args, w);
    if (optc === 3) {
      const c = readLL(args[5]);
      if (c === null) return err(w, NOT_INTEGER);
      count = c < 0n ? 10 : c > BigInt(Number.MAX_SAFE_INTEGER) ? 0 : Number(c);
    }
    w.map(9);
    writeStreamHead(w, s);
    w.str('entries');
    writeEntries(w, [...s.range(ZERO_ID, MAX_ID, count)]);
    w.str('groups');
    const gs = sortedGroups(s);
    w.arr(gs.length);
    for (const g of gs) {
      w.map(7);
      w.str('name');
      w.str(g.name);
      w.str('last-delivered-id');
      w.str(idText(g.lastId));
      w.str('entries-read');
      writeEntriesRead(w, g);
      w.str('lag');
      writeLag(w, s, g);
      w.str('pel-count');
      w.int(g.pel.size);
      w.str('pending');
      const pel = limited(g.pel.range(ZERO_ID), count);
      w.arr(pel.length);
      for (const [id, nack] of pel) {
        w.arr(4);
        w.str(idText(id));
        w.str(nack.consumer.name);
        w.int(nack.deliveryTime);
        w.int(nack.deliveryCount);
      }
      w.str('consumers');
      const cs = sortedConsumers(g);
      w.arr(cs.length);
      for (const c of cs) {
        w.map(4);
        w.str('name');
        w.str(c.name);
        w.str('seen-time');
        w.int(c.seenTime);
        w.str('pel-count');
        w.int(c.pel.size);
        w.str('pending');
        const cp = limited(c.pel.range(ZERO_ID), count);
        w.arr(cp.length);
        for (const [id, nack] of cp) {
          w.arr(3);
          w.str(idText(id));
          w.int(nack.deliveryTime);
          w.int(nack.deliveryCount);
        }
      }
    }
    return;
  }
  subcommandSyntax(args, w);
}

function limited<T>(it: Iterable<T>, count: number): T[] {
  const out: T[] = [];
  for (const x of it) {
    if (count !== 0 && out.length >= count) break;
    out.push(x);
  }
  return out;
}

/** A writer that swallows everything: parsing an ID without replying (XCLAIM's first pass). */
const SILENT: ReplyWriter = new Proxy({} as ReplyWriter, { get: () => () => {} });

// ---------------------------------------------------------------- the table

const STREAMS_KEYS = { firstKey: 0, lastKey: 0, keyStep: 0 } as const;

export const respStreamCommands: CommandSpec[] = [
  { name: 'xadd', arity: -5, flags: ['write', 'denyoom', 'fast'], ...KEY1, run: xadd },
  {
    name: 'xlen',
    arity: 2,
    flags: ['readonly', 'fast'],
    ...KEY1,
    run(args, w, ctx) {
      const s = readStream(ctx.store, args[1], w);
      if (s === WRONG) return;
      w.int(s === undefined ? 0 : s.length);
    },
  },
  { name: 'xrange', arity: -4, flags: ['readonly'], ...KEY1, run: (args, w, ctx) => xrange(args, w, ctx, false) },
  { name: 'xrevrange', arity: -4, flags: ['readonly'], ...KEY1, run: (args, w, ctx) => xrange(args, w, ctx, true) },
  {
    name: 'xdel',
    arity: -3,
    flags: ['write', 'fast'],
    ...KEY1,
    run(args, w, ctx) {
      const s = readStream(ctx.store, args[1], w);
      if (s === WRONG) return;
      if (s === undefined) return w.int(0);
      const ids: StreamID[] = [];
      for (let j = 2; j < args.length; j++) {
        const id = parseStrictId(args[j], w);
        if (id === null) return;
        ids.push(id);
      }
      let deleted = 0;
      let firstEntry = false;
      for (const id of ids) {
        if (!s.delete(id)) continue;
        if (cmpId(id, s.firstId) === 0) firstEntry = true;
        if (cmpId(id, s.maxDeletedId) > 0) s.maxDeletedId = id;
        deleted++;
      }
      if (deleted > 0) {
        if (s.length === 0) s.firstId = ZERO_ID;
        else if (firstEntry) s.refreshFirst();
        notify(ctx, NOTIFY_STREAM, 'xdel', args[1]);
      }
      w.int(deleted);
    },
  },
  {
    name: 'xtrim',
    arity: -4,
    flags: ['write'],
    ...KEY1,
    run(args, w, ctx) {
      const a = parseAddOrTrim(args, false, w);
      if (a === null) return;
      const s = readStream(ctx.store, args[1], w);
      if (s === WRONG) return;
      if (s === undefined) return w.int(0);
      const deleted = trimStream(s, a);
      if (deleted > 0) notify(ctx, NOTIFY_STREAM, 'xtrim', args[1]);
      w.int(deleted);
    },
  },
  {
    name: 'xsetid',
    arity: -3,
    flags: ['write', 'denyoom', 'fast'],
    ...KEY1,
    run(args, w, ctx) {
      const id = parseStrictId(args[2], w);
      if (id === null) return;
      let entriesAdded = -1n;
      let maxXdel = ZERO_ID;
      let i = 3;
      while (i < args.length) {
        const moreargs = args.length - 1 - i;
        if (isOpt(args[i], 'entriesadded') && moreargs > 0) {
          const v = readLL(args[i + 1]);
          if (v === null) return err(w, NOT_INTEGER);
          if (v < 0n) return err(w, 'ERR entries_added must be positive');
          entriesAdded = v;
          i += 2;
        } else if (isOpt(args[i], 'maxdeletedid') && moreargs > 0) {
          const m = parseStrictId(args[i + 1], w);
          if (m === null) return;
          if (cmpId(id, m) < 0) return err(w, 'ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id');
          maxXdel = m;
          i += 2;
        } else return err(w, SYNTAX);
      }
      const s = readStream(ctx.store, args[1], w);
      if (s === WRONG) return;
      if (s === undefined) return err(w, 'ERR no such key');
      if (s.length > 0) {
        const maxid = s.lastEntry()!.id;
        if (cmpId(id, maxid) < 0) return err(w, 'ERR The ID specified in XSETID is smaller than the target stream top item');
        if (entriesAdded !== -1n && BigInt(s.length) > entriesAdded)
          return err(w, 'ERR The entries_added specified in XSETID is smaller than the target stream length');
      }
      s.lastId = id;
      if (entriesAdded !== -1n) s.entriesAdded = Number(entriesAdded);
      if (!isZeroId(maxXdel)) s.maxDeletedId = maxXdel;
      w.status('OK');
      notify(ctx, NOTIFY_STREAM, 'xsetid', args[1]);
    },
  },
  { name: 'xread', arity: -4, flags: ['readonly', 'blocking', 'movablekeys'], ...STREAMS_KEYS, run: (args, w, ctx) => xread(args, w, ctx, false) },
  {
    name: 'xreadgroup',
    arity: -7,
    flags: ['write', 'blocking', 'movablekeys'],
    ...STREAMS_KEYS,
    run: (args, w, ctx) => xread(args, w, ctx, true),
  },
  {
    name: 'xgroup',
    arity: -2,
    flags: [],
    ...STREAMS_KEYS,
    subcommand: subcommandCheck(XGROUP_SUBCOMMANDS, 'xgroup'),
    run: xgroup,
  },
  { name: 'xack', arity: -4, flags: ['write', 'fast'], ...KEY1, run: xack },
  { name: 'xpending', arity: -3, flags: ['readonly'], ...KEY1, run: xpending },
  { name: 'xclaim', arity: -6, flags: ['write', 'fast'], ...KEY1, run: xclaim },
  { name: 'xautoclaim', arity: -6, flags: ['write', 'fast'], ...KEY1, run: xautoclaim },
  {
    name: 'xinfo',
    arity: -2,
    flags: [],
    ...STREAMS_KEYS,
    subcommand: subcommandCheck(XINFO_SUBCOMMANDS, 'xinfo'),
    run: xinfo,
  },
];

