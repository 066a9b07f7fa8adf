// Keyspace notifications (Redis's notify.c): with notify-keyspace-events on,
// a write publishes `<event>` on `__keyspace@<db>__:<key>` (class K) and
// `<key>` on `__keyevent@<db>__:<event>` (class E), through pub/sub's PUBLISH
// path, to plain and pattern subscribers alike.
//
// Who emits what:
// - each command states its own events, calling notify(ctx, CLASS, event, key)
//   at the point Redis 7.0's command calls notifyKeyspaceEvent (the order
//   relative to its reply matters to a RESP3 client subscribed on the same
//   connection: the push lands in the output where it was published);
// - the keyspace reports what no command decides (through its onChange
//   listener, see keyListener): `new` (class n, a key created: Redis's dbAdd),
//   `expired` (lazy and active expiry), `evicted` (maxmemory eviction).
//
// Off (the default) it costs a command one load and one branch per notify()
// call: the class bits live in ServerSettings.notifyKeyspaceEvents, read
// through ctx.counters.settings, and the keyspace listener is installed only
// while a class it serves is on.

import type { KeyChange, Keyspace } from '../store/keyspace.js';
import type { CommandContext, CommandSpec, KeyListener, ServerContext } from './types.js';

/**
 * PUBLISH's delivery (src/commands/resp/pubsub.ts registers it when it loads).
 * Not imported: pub/sub's module reaches most command modules through its
 * imports, and they import this one (an import cycle would leave some of them
 * half-initialised).
 */
let publish: (server: ServerContext, channel: string, message: string) => number = () => 0;
/** Whether any client holds a channel or pattern subscription (else no channel name is even built). */
let listening: (server: ServerContext) => boolean = () => true;

/** Called once by the pub/sub module with its PUBLISH delivery (and, optionally, its "anyone subscribed?" test). */
export function setPublisher(fn: typeof publish, anyone: typeof listening = () => true): void {
  publish = fn;
  listening = anyone;
}

// The classes, with Redis's bits (server.h) and letters.
export const NOTIFY_KEYSPACE = 1 << 0; // K
export const NOTIFY_KEYEVENT = 1 << 1; // E
export const NOTIFY_GENERIC = 1 << 2; // g
export const NOTIFY_STRING = 1 << 3; // $
export const NOTIFY_LIST = 1 << 4; // l
export const NOTIFY_SET = 1 << 5; // s
export const NOTIFY_HASH = 1 << 6; // h
export const NOTIFY_ZSET = 1 << 7; // z
export const NOTIFY_EXPIRED = 1 << 8; // x
export const NOTIFY_EVICTED = 1 << 9; // e
export const NOTIFY_STREAM = 1 << 10; // t
export const NOTIFY_KEY_MISS = 1 << 11; // m (not part of A)
export const NOTIFY_MODULE = 1 << 13; // d (no modules here: accepted, never emitted)
export const NOTIFY_NEW = 1 << 14; // n (not part of A)
export const NOTIFY_ALL =
  NOTIFY_GENERIC | NOTIFY_STRING | NOTIFY_LIST | NOTIFY_SET | NOTIFY_HASH | NOTIFY_ZSET | NOTIFY_EXPIRED | NOTIFY_EVICTED | NOTIFY_STREAM | NOTIFY_MODULE;

const LETTERS: readonly (readonly [string, number])[] = [
  ['g', NOTIFY_GENERIC],
  ['$', NOTIFY_STRING],
  ['l', NOTIFY_LIST],
  ['s', NOTIFY_SET],
  ['h', NOTIFY_HASH],
  ['z', NOTIFY_ZSET],
  ['x', NOTIFY_EXPIRED],
  ['e', NOTIFY_EVICTED],
  ['t', NOTIFY_STREAM],
  ['d', NOTIFY_MODULE],
  ['n', NOTIFY_NEW],
];

/** The class bits of a notify-keyspace-events value, or -1 if it has a character that is no class (keyspaceEventsStringToFlags). */
export function notifyFlagsOf(classes: string): number {
  let flags = 0;
  for (const c of classes) {
    if (c === 'A') flags |= NOTIFY_ALL;
    else if (c === 'K') flags |= NOTIFY_KEYSPACE;
    else if (c === 'E') flags |= NOTIFY_KEYEVENT;
    else if (c === 'm') flags |= NOTIFY_KEY_MISS;
    else {
      const l = LETTERS.find(([letter]) => letter === c);
      if (l === undefined) return -1;
      flags |= l[1];
    }
  }
  return flags;
}

/** The canonical spelling CONFIG GET shows (keyspaceEventsFlagsToString): A or the letters in Redis's order, then K, E, m. */
export function notifyFlagsToString(flags: number): string {
  let out = '';
  if ((flags & NOTIFY_ALL) === NOTIFY_ALL) out += 'A';
  else for (const [letter, bit] of LETTERS) if (flags & bit) out += letter;
  if (flags & NOTIFY_KEYSPACE) out += 'K';
  if (flags & NOTIFY_KEYEVENT) out += 'E';
  if (flags & NOTIFY_KEY_MISS) out += 'm';
  return out;
}

/**
 * A command's event on a key of its database: published if its class is on
 * (and K or E is). The one check notifications cost while off.
 */
export function notify(ctx: CommandContext, type: number, event: string, key: string): void {
  notifyIn(ctx, ctx.store, type, event, key);
}

/** notify() for an event in another database than the client's (COPY … DB n). */
export function notifyIn(ctx: CommandContext, db: Keyspace, type: number, event: string, key: string): void {
  const flags = ctx.counters.settings.notifyKeyspaceEvents;
  if ((flags & type) === 0) return;
  emit(ctx.server, flags, event, key, db.id);
}

/** Publishes one event on the keyspace and/or keyevent channel (notifyKeyspaceEvent). */
export function emit(server: ServerContext, flags: number, event: string, key: string, db: number): void {
  if (!listening(server)) return;
  if (flags & NOTIFY_KEYSPACE) publish(server, `__keyspace@${db}__:${key}`, event);
  if (flags & NOTIFY_KEYEVENT) publish(server, `__keyevent@${db}__:${event}`, key);
}

/** The classes the keyspace listener serves: while none is on (with K or E), it is not installed. */
export const KEYSPACE_REPORTED = NOTIFY_NEW | NOTIFY_EXPIRED | NOTIFY_EVICTED;

/** The event and class of a keyspace change that notifies by itself, or null. */
function eventOf(why: KeyChange): readonly [string, number] | null {
  switch (why) {
    case 'new':
      return NEW;
    case 'expire':
      return EXPIRED;
    case 'evict':
      return EVICTED;
    default:
      return null;
  }
}
const NEW = ['new', NOTIFY_NEW] as const;
const EXPIRED = ['expired', NOTIFY_EXPIRED] as const;
const EVICTED = ['evicted', NOTIFY_EVICTED] as const;

/**
 * The keyspace listener: `new`, `expired` and `evicted`, published on the
 * database of the keyspace that reports them. `flags` reads the classes now.
 */
export function keyListener(server: ServerContext, flags: () => number): KeyListener {
  return (key: string | null, why: KeyChange, store?: Keyspace) => {
    if (key === null) return;
    const ev = eventOf(why);
    if (ev === null) return;
    const f = flags();
    if ((f & ev[1]) !== 0) emit(server, f, ev[0], key, store?.id ?? 0);
  };
}

/**
 * keymiss (class m): after a read-only command with fixed key positions that
 * answered without an error, each of its keys that does not exist (Redis
 * publishes it from the read lookup that misses). Called by execute() only
 * while m is on.
 */
export function notifyMisses(ctx: CommandContext, spec: CommandSpec, args: string[]): void {
  const first = spec.firstKey ?? 0;
  if (first <= 0 || first >= args.length) return;
  const lastKey = spec.lastKey ?? first;
  const last = lastKey < 0 ? args.length + lastKey : Math.min(lastKey, args.length - 1);
  const step = spec.keyStep ?? 1;
  for (let i = first; i <= last; i += step) if (!ctx.store.has(args[i])) notify(ctx, NOTIFY_KEY_MISS, 'keymiss', args[i]);
}
