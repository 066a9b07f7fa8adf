// Pub/sub on the RESP port, as Redis 7.0 (standalone) does it: SUBSCRIBE,
// UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH; the shard forms SSUBSCRIBE,
// SUNSUBSCRIBE, SPUBLISH (without a cluster they are a third, separate set of
// channels); PUBSUB CHANNELS/NUMSUB/NUMPAT/SHARDCHANNELS/SHARDNUMSUB/HELP.
//
// A message reaches a subscriber through `client.deliver`: the server encodes
// it into that client's output, checks its (pub/sub class) output limit and
// has the loop write it. Nothing here sees a socket.
//
// Per server (ctx.server.registry 'pubsub'): channel → subscribers and pattern
// → subscribers, so PUBLISH costs O(subscribers of the channel + distinct
// patterns); and per client the names it holds, in subscription order, so a
// disconnect or RESET frees them in O(its subscriptions). client.subscriptions
// is kept equal to its channels + patterns + shard channels: dispatch's
// subscribed-context rule and the output-limit class read it.
//
// The book protocol has no frames for pushed messages: these commands exist on
// the RESP port only.

import { ErrCode, type ReplyWriter } from '../../protocol/reply.js';
import { arityError, err, isOpt, NO_KEYS } from '../common.js';
import type { ClientState, CommandContext, CommandSpec, ServerContext } from '../types.js';
import { clientExtensions } from './client.js';
import { globMatch } from './keys.js';
import { setPublisher } from '../notify.js';

/** The three kinds of subscription: reply names, and the count each kind's replies report. */
interface Kind {
  readonly subscribe: string;
  readonly unsubscribe: string;
  /** Redis's subscriptionCount: channels + patterns for the first two kinds, shard channels alone for the third. */
  count(subs: ClientSubs): number;
  /** This client's names of this kind. */
  mine(subs: ClientSubs): Set<string>;
  /** The server's name → subscribers map of this kind. */
  all(ps: PubSub): Map<string, Set<ClientState>>;
}

/** What one client is subscribed to (Sets keep subscription order). */
interface ClientSubs {
  readonly channels: Set<string>;
  readonly patterns: Set<string>;
  readonly shard: Set<string>;
}

const CHANNEL: Kind = {
  subscribe: 'subscribe',
  unsubscribe: 'unsubscribe',
  count: (s) => s.channels.size + s.patterns.size,
  mine: (s) => s.channels,
  all: (ps) => ps.channels,
};
const PATTERN: Kind = {
  subscribe: 'psubscribe',
  unsubscribe: 'punsubscribe',
  count: (s) => s.channels.size + s.patterns.size,
  mine: (s) => s.patterns,
  all: (ps) => ps.patterns,
};
const SHARD: Kind = {
  subscribe: 'ssubscribe',
  unsubscribe: 'sunsubscribe',
  count: (s) => s.shard.size,
  mine: (s) => s.shard,
  all: (ps) => ps.shard,
};

const NONE: ClientSubs = { channels: new Set(), patterns: new Set(), shard: new Set() };

/** One server's subscriptions. */
class PubSub {
  readonly channels = new Map<string, Set<ClientState>>();
  readonly patterns = new Map<string, Set<ClientState>>();
  readonly shard = new Map<string, Set<ClientState>>();
  /** Only clients holding at least one subscription. */
  readonly clients = new Map<ClientState, ClientSubs>();

  subsOf(c: ClientState): ClientSubs {
    let s = this.clients.get(c);
    if (s === undefined) this.clients.set(c, (s = { channels: new Set(), patterns: new Set(), shard: new Set() }));
    return s;
  }

  /** Adds c to name (of kind); false if it was subscribed already. */
  add(kind: Kind, c: ClientState, subs: ClientSubs, name: string): boolean {
    const mine = kind.mine(subs);
    if (mine.has(name)) return false;
    mine.add(name);
    const all = kind.all(this);
    let set = all.get(name);
    if (set === undefined) all.set(name, (set = new Set()));
    set.add(c);
    c.subscriptions++;
    return true;
  }

  /** Removes c from name (of kind); false if it was not subscribed. */
  remove(kind: Kind, c: ClientState, subs: ClientSubs, name: string): boolean {
    const mine = kind.mine(subs);
    if (!mine.delete(name)) return false;
    const all = kind.all(this);
    const set = all.get(name)!;
    set.delete(c);
    if (set.size === 0) all.delete(name);
    c.subscriptions--;
    return true;
  }

  /** Forgets a client that holds nothing any more. */
  tidy(c: ClientState, subs: ClientSubs): void {
    if (subs.channels.size === 0 && subs.patterns.size === 0 && subs.shard.size === 0) this.clients.delete(c);
  }

  /** Drops every subscription of c without telling it (disconnect, RESET). */
  dropAll(c: ClientState): void {
    const subs = this.clients.get(c);
    if (subs === undefined) return;
    for (const kind of [CHANNEL, PATTERN, SHARD]) for (const name of [...kind.mine(subs)]) this.remove(kind, c, subs, name);
    this.clients.delete(c);
    c.subscriptions = 0;
  }
}

const REGISTRY_KEY = 'pubsub';

/** This server's pub/sub state, created (and its disconnect hook registered) on first use. */
function pubsubOf(server: ServerContext): PubSub {
  let ps = server.registry.get(REGISTRY_KEY) as PubSub | undefined;
  if (ps === undefined) {
    const created = new PubSub();
    server.registry.set(REGISTRY_KEY, created);
    server.onClientClosed((c) => created.dropAll(c));
    ps = created;
  }
  return ps;
}

/** Without creating anything: the state if pub/sub was ever used on this server. */
function existing(server: ServerContext): PubSub | undefined {
  return server.registry.get(REGISTRY_KEY) as PubSub | undefined;
}

/** The client's channel, pattern and shard-channel counts (CLIENT LIST's sub, psub, ssub). */
export function pubsubCounts(server: ServerContext, client: ClientState): { sub: number; psub: number; ssub: number } {
  const subs = existing(server)?.clients.get(client);
  if (subs === undefined) return { sub: 0, psub: 0, ssub: 0 };
  return { sub: subs.channels.size, psub: subs.patterns.size, ssub: subs.shard.size };
}

/** INFO's pubsub_channels, pubsub_patterns, pubsubshard_channels: channels and patterns with a subscriber. */
export function pubsubTotals(server: ServerContext): { channels: number; patterns: number; shardChannels: number } {
  const ps = existing(server);
  return { channels: ps?.channels.size ?? 0, patterns: ps?.patterns.size ?? 0, shardChannels: ps?.shard.size ?? 0 };
}

/** Drops all of the client's subscriptions without replying (RESET). */
export function unsubscribeAll(server: ServerContext, client: ClientState): void {
  existing(server)?.dropAll(client);
  client.subscriptions = 0;
}

// CLIENT LIST and RESET reach this module through the client module's extension points.
clientExtensions.pubsubCounts = pubsubCounts;
clientExtensions.unsubscribeAll = unsubscribeAll;

/** `*3 <kind> <name|nil> <count>` (RESP3: `>3 …`): a (un)subscribe confirmation. */
function confirm(w: ReplyWriter, what: string, name: string | null, count: number): void {
  w.push(3); // RESP3: a push (`>`), as every pub/sub message; RESP2: an array

  w.str(what);
  if (name === null) w.nil();
  else w.str(name);
  w.int(count);
}

/**
 * One confirmation per argument, each with the running count. The reply to
 * the command is all of them back to back: several top-level arrays, as Redis
 * writes them.
 */
function subscribe(kind: Kind, args: string[], w: ReplyWriter, ctx: CommandContext): void {
  const ps = pubsubOf(ctx.server);
  const { client } = ctx;
  const subs = ps.subsOf(client);
  for (let i = 1; i < args.length; i++) {
    ps.add(kind, client, subs, args[i]);
    confirm(w, kind.subscribe, args[i], kind.count(subs));
  }
  ps.tidy(client, subs);
}

/** Named ones (subscribed or not), or with no names all of this kind, oldest first; `nil` and the count when there are none. */
function unsubscribe(kind: Kind, args: string[], w: ReplyWriter, ctx: CommandContext): void {
  const { client } = ctx;
  const ps = existing(ctx.server);
  const subs = ps?.clients.get(client);
  if (ps === undefined || subs === undefined) {
    // Subscribed to nothing at all.
    if (args.length === 1) confirm(w, kind.unsubscribe, null, 0);
    else for (let i = 1; i < args.length; i++) confirm(w, kind.unsubscribe, args[i], 0);
    return;
  }
  if (args.length === 1) {
    const names = [...kind.mine(subs)];
    for (const name of names) {
      ps.remove(kind, client, subs, name);
      confirm(w, kind.unsubscribe, name, kind.count(subs));
    }
    if (names.length === 0) confirm(w, kind.unsubscribe, null, kind.count(subs));
  } else {
    for (let i = 1; i < args.length; i++) {
      ps.remove(kind, client, subs, args[i]);
      confirm(w, kind.unsubscribe, args[i], kind.count(subs));
    }
  }
  ps.tidy(client, subs);
}

/** Redis refuses (S)(P)SUBSCRIBE from a client that expects one reply per command (inside EXEC; SUBSCRIBE and PSUBSCRIBE are let through there for backward compatibility). */
function denyBlocking(name: string, allowInMulti: boolean, w: ReplyWriter, ctx: CommandContext): boolean {
  if (!ctx.client.inExec || allowInMulti) return false;
  err(w, `ERR ${name} isn't allowed for a DENY BLOCKING client`);
  return true;
}

/** PUBLISH: every subscriber of the channel, then every subscriber of each matching pattern; returns the number of deliveries. */
export function publish(server: ServerContext, channel: string, message: string): number {
  const ps = existing(server);
  if (ps === undefined) return 0;
  let receivers = 0;
  const direct = ps.channels.get(channel);
  if (direct !== undefined) {
    const write = (w: ReplyWriter) => {
      w.push(3);
      w.str('message');
      w.str(channel);
      w.str(message);
    };
    server.deliverAll(direct, write);
    receivers += direct.size;
  }
  if (ps.patterns.size !== 0) {
    for (const [pattern, clients] of ps.patterns) {
      if (!globMatch(pattern, channel)) continue;
      const write = (w: ReplyWriter) => {
        w.push(4);
        w.str('pmessage');
        w.str(pattern);
        w.str(channel);
        w.str(message);
      };
      server.deliverAll(clients, write);
      receivers += clients.size;
    }
  }
  return receivers;
}

// Keyspace notifications publish through the same path (src/commands/notify.ts).
export function registerNotifyPublisher(): void {
  setPublisher(publish, (server) => {
    const ps = existing(server);
    return ps !== undefined && (ps.channels.size !== 0 || ps.patterns.size !== 0);
  });
}
registerNotifyPublisher();

function spublish(server: ServerContext, channel: string, message: string): number {
  const clients = existing(server)?.shard.get(channel);
  if (clients === undefined) return 0;
  const write = (w: ReplyWriter) => {
    w.push(3);
    w.str('smessage');
    w.str(channel);
    w.str(message);
  };
  server.deliverAll(clients, write);
  return clients.size;
}

const PUBSUB_HELP = [
  'PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'CHANNELS [<pattern>]',
  "    Return the currently active channels matching a <pattern> (default: '*').",
  'NUMPAT',
  '    Return number of subscriptions to patterns.',
  'NUMSUB [<channel> ...]',
  '    Return the number of subscribers for the specified channels, excluding',
  '    pattern subscriptions(default: no channels).',
  'SHARDCHANNELS [<pattern>]',
  "    Return the currently active shard level channels matching a <pattern> (default: '*').",
  'SHARDNUMSUB [<shardchannel> ...]',
  '    Return the number of subscribers for the specified shard level channel(s)',
  'HELP',
  '    Prints this help.',
];

/** PUBSUB's subcommands and their arities (Redis 7.0's table). */
const PUBSUB_SUBCOMMANDS = new Map<string, number>([
  ['channels', -2],
  ['numpat', 2],
  ['numsub', -2],
  ['shardchannels', -2],
  ['shardnumsub', -2],
  ['help', 2],
]);

/** Names of a map whose keys match the optional pattern. */
function matching(names: Map<string, unknown> | undefined, pattern: string | null, w: ReplyWriter): void {
  const found: string[] = [];
  if (names !== undefined) for (const name of names.keys()) if (pattern === null || globMatch(pattern, name)) found.push(name);
  w.arr(found.length);
  for (const name of found) w.str(name);
}

function counts(names: Map<string, Set<ClientState>> | undefined, args: string[], w: ReplyWriter): void {
  w.arr((args.length - 2) * 2);
  for (let i = 2; i < args.length; i++) {
    w.str(args[i]);
    w.int(names?.get(args[i])?.size ?? 0);
  }
}

/** addReplySubcommandSyntaxError. */
function subcommandSyntax(args: string[], w: ReplyWriter): void {
  err(w, `ERR unknown subcommand or wrong number of arguments for '${args[1].slice(0, 128)}'. Try ${args[0].toUpperCase()} HELP.`);
}

const PUBSUB_FLAGS = ['pubsub', 'noscript', 'loading', 'stale'];

export const respPubsubCommands: CommandSpec[] = [
  {
    name: 'subscribe',
    arity: -2,
    flags: PUBSUB_FLAGS,
    ...NO_KEYS,
    run(args, w, ctx) {
      if (denyBlocking('SUBSCRIBE', true, w, ctx)) return;
      subscribe(CHANNEL, args, w, ctx);
    },
  },
  {
    name: 'psubscribe',
    arity: -2,
    flags: PUBSUB_FLAGS,
    ...NO_KEYS,
    run(args, w, ctx) {
      if (denyBlocking('PSUBSCRIBE', true, w, ctx)) return;
      subscribe(PATTERN, args, w, ctx);
    },
  },
  {
    name: 'ssubscribe',
    arity: -2,
    flags: PUBSUB_FLAGS,
    firstKey: 1,
    lastKey: -1,
    keyStep: 1,
    run(args, w, ctx) {
      if (denyBlocking('SSUBSCRIBE', false, w, ctx)) return;
      subscribe(SHARD, args, w, ctx);
    },
  },
  {
    name: 'unsubscribe',
    arity: -1,
    flags: PUBSUB_FLAGS,
    ...NO_KEYS,
    run(args, w, ctx) {
      unsubscribe(CHANNEL, args, w, ctx);
    },
  },
  {
    name: 'punsubscribe',
    arity: -1,
    flags: PUBSUB_FLAGS,
    ...NO_KEYS,
    run(args, w, ctx) {
      unsubscribe(PATTERN, args, w, ctx);
    },
  },
  {
    name: 'sunsubscribe',
    arity: -1,
    flags: PUBSUB_FLAGS,
    firstKey: 1,
    lastKey: -1,
    keyStep: 1,
    run(args, w, ctx) {
      unsubscribe(SHARD, args, w, ctx);
    },
  },
  {
    name: 'publish',
    arity: 3,
    flags: ['pubsub', 'loading', 'stale', 'fast'],
    ...NO_KEYS,
    run(args, w, ctx) {
      w.int(publish(ctx.server, args[1], args[2]));
    },
  },
  {
    name: 'spublish',
    arity: 3,
    flags: ['pubsub', 'loading', 'stale', 'fast'],
    firstKey: 1,
    lastKey: 1,
    keyStep: 1,
    run(args, w, ctx) {
      w.int(spublish(ctx.server, args[1], args[2]));
    },
  },
  {
    name: 'pubsub',
    arity: -2,
    flags: [],
    ...NO_KEYS,
    subcommand(args, w) {
      const arity = PUBSUB_SUBCOMMANDS.get(args[1].toLowerCase());
      if (arity === undefined) {
        err(w, `ERR unknown subcommand '${args[1].slice(0, 128)}'. Try ${args[0].toUpperCase()} HELP.`);
        return false;
      }
      if (arity > 0 ? args.length !== arity : args.length < -arity) {
        arityError(w, `pubsub|${args[1].toLowerCase()}`);
        return false;
      }
      return true;
    },
    run(args, w, ctx) {
      const sub = args[1];
      const ps = existing(ctx.server);
      const n = args.length;
      if (isOpt(sub, 'help')) {
        w.arr(PUBSUB_HELP.length);
        for (const line of PUBSUB_HELP) w.status(line);
      } else if (isOpt(sub, 'channels') || isOpt(sub, 'shardchannels')) {
        if (n > 3) return subcommandSyntax(args, w);
        matching(isOpt(sub, 'channels') ? ps?.channels : ps?.shard, n === 3 ? args[2] : null, w);
      } else if (isOpt(sub, 'numsub')) {
        counts(ps?.channels, args, w);
      } else if (isOpt(sub, 'shardnumsub')) {
        counts(ps?.shard, args, w);
      } else if (isOpt(sub, 'numpat')) {
        // Redis 7.0 counts distinct patterns, not subscriptions to them.
        w.int(ps?.patterns.size ?? 0);
      } else {
        // Unreachable after dispatch's subcommand check; kept for EXEC's queue.
        w.err(ErrCode.Unknown, `ERR unknown subcommand '${sub.slice(0, 128)}'. Try PUBSUB HELP.`);
      }
    },
  },
];
