// Looks a request's command up in a protocol's table, checks arity and
// authentication, and runs it — or, as Redis's processCommand does, refuses it
// in a subscribed context or queues it inside MULTI. Around the run: WATCH's
// view of write commands, MONITOR's feed, and, after a top-level command,
// serving blocked clients whose keys it made ready (so that a multi-element
// push or a whole transaction completes before any waiter sees it). Each
// protocol's table words its own errors.

import { ErrCode, type ReplyWriter } from '../protocol/reply.js';
import { performance } from 'node:perf_hooks';
import type { CommandContext, CommandSpec, CommandStat, CommandTable } from './types.js';
import type { CommandCounters } from './counters.js';
import { discardTransaction, unwatchAll } from './multi.js';
import { MAY_REPLICATE } from './common.js';
import { LatencyHistogram } from './latency.js';
import { NOTIFY_KEY_MISS, notifyMisses } from './notify.js';

/** Not queued inside MULTI: they act on the transaction itself (Redis's list). */
const TRANSACTION_CONTROL = new Set(['exec', 'discard', 'multi', 'watch', 'quit', 'reset']);
/** All a RESP2 client may send while subscribed. */
const SUBSCRIBED_OK = new Set(['ping', 'subscribe', 'ssubscribe', 'unsubscribe', 'sunsubscribe', 'psubscribe', 'punsubscribe', 'quit', 'reset']);

/** Runs args (name first) against the table; writes exactly one reply (none for a command that blocks). */
export function dispatch(table: CommandTable, args: string[], w: ReplyWriter, ctx: CommandContext): void {
  const name = args[0];
  const { client } = ctx;
  const spec = table.commands.get(name) ?? table.commands.get(name.toLowerCase());
  if (spec === undefined) {
    client.lastCommand = '';
    if (client.multi !== null) client.multi.failed = true;
    table.unknownCommand(args, w);
    return;
  }
  // CLIENT LIST's cmd: the last command looked up, queued or refused ones too (Redis's lastcmd),
  // naming a container command's subcommand as Redis 7 does (client|list).
  const subs = spec.subcommandNames;
  client.lastCommand = subs !== undefined && args.length > 1 && subs.has(args[1].toLowerCase()) ? `${spec.name}|${args[1].toLowerCase()}` : spec.name;
  const n = args.length;
  if (spec.arity > 0 ? n !== spec.arity : n < -spec.arity) {
    if (client.multi !== null) client.multi.failed = true;
    // A refused EXEC discards the transaction and says why (Redis's execCommandAbort).
    rejected(spec, args, ctx);
    if (spec.name === 'exec') return execAbort(`wrong number of arguments for 'exec' command`, w, ctx);
    table.wrongArity(spec, args, w);
    return;
  }
  if (spec.subcommand !== undefined && !spec.subcommand(args, w, ctx)) {
    rejected(spec, args, ctx);
    if (client.multi !== null) client.multi.failed = true;
    return;
  }
  if (!client.authenticated && spec.noauth !== true) {
    rejected(spec, args, ctx);
    if (client.multi !== null) client.multi.failed = true;
    table.noAuth(w);
    return;
  }
  // maxmemory: evict before the command; refuse it if it may grow memory and nothing more can go (Redis's order: after auth).
  // Not while a script is busy: Redis evicts nothing inside a yielding long command (the script's own calls check).
  const { hooks } = ctx;
  if (hooks.oomRefuses !== null && hooks.busy === null) {
    const refusal = hooks.oomRefuses(spec, client);
    if (refusal !== null) {
      rejected(spec, args, ctx);
      if (client.multi !== null) client.multi.failed = true;
      w.err(ErrCode.Unknown, refusal);
      return;
    }
  }
  // Only RESP2 clients are restricted while subscribed; RESP3 separates pushes from replies (Redis 7.0).
  if (client.subscriptions > 0 && client.resp === 2 && client.protocol === 'resp' && !SUBSCRIBED_OK.has(spec.name)) {
    rejected(spec, args, ctx);
    w.err(
      ErrCode.Unknown,
      `ERR Can't execute '${client.lastCommand}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`,
    );
    return;
  }
  // To Redis a MONITOR client is a replica: it may not touch the keyspace, and it is never paused.
  if (client.monitor && touchesKeyspace(spec)) {
    if (client.multi !== null) client.multi.failed = true;
    w.err(ErrCode.Unknown, "ERR Replica can't interact with the keyspace");
    return;
  }
  // A script is busy (past busy-reply-threshold): only the commands that may run then (Redis's CMD_ALLOW_BUSY).
  if (hooks.busy !== null) {
    const busy = hooks.busy(spec, args, ctx);
    if (busy !== null) {
      rejected(spec, args, ctx);
      if (client.multi !== null) client.multi.failed = true;
      if (spec.name === 'exec') return execAbort(busy, w, ctx);
      w.err(ErrCode.Unknown, busy);
      return;
    }
  }
  if (hooks.postpone !== null && !client.monitor && hooks.postpone(spec, ctx, () => rerunLater(table, args, ctx))) return;
  // A failed background save with stop-writes-on-bgsave-error, or an AOF that cannot be written:
  // writes (and PING) get -MISCONF,
  // queued or not (Redis's writeCommandsDeniedByDiskError in processCommand).
  if (hooks.denyWrites !== null && !client.inExec && (spec.write === true || spec.name === 'ping' || writesQueued(spec, ctx))) {
    rejected(spec, args, ctx);
    if (spec.name === 'exec') return execAbort(hooks.denyWrites, w, ctx);
    if (client.multi !== null) client.multi.failed = true;
    w.err(ErrCode.Unknown, hooks.denyWrites);
    return;
  }
  if (client.multi !== null && !TRANSACTION_CONTROL.has(spec.name)) {
    if (spec.noMulti === true) {
      rejected(spec, args, ctx);
      client.multi.failed = true;
      w.err(ErrCode.Unknown, `ERR Command not allowed inside a transaction`);
      return;
    }
    const multi = client.multi;
    for (let i = 0; i < n; i++) multi.bytes += args[i].length;
    if (multi.bytes > multi.limit) {
      // Queued commands are memory a client makes the server hold: bounded like its query buffer.
      client.closeAfterReply = true;
      multi.failed = true;
      w.err(ErrCode.Unknown, `ERR MULTI queue over the client query buffer limit (${multi.limit} bytes); closing the connection`);
      return;
    }
    multi.queue.push(args.slice());
    multi.specs.push(spec);
    w.status('QUEUED');
    return;
  }
  execute(spec, args, w, ctx);
  // (Not while a script is busy: the clients its writes made ready are served once it is done.)
  if (hooks.afterCommand !== null && hooks.busy === null) hooks.afterCommand();
}

/** EXEC of a transaction with a write command in it (Redis counts it as a write command). */
function writesQueued(spec: CommandSpec, ctx: CommandContext): boolean {
  return spec.name === 'exec' && ctx.client.multi !== null && ctx.client.multi.specs.some((s) => s.write === true);
}

/** Redis's is_write_command || is_read_command || is_may_replicate_command. */
function touchesKeyspace(spec: CommandSpec): boolean {
  const f = spec.flags;
  return (f !== undefined && (f.includes('write') || f.includes('readonly'))) || MAY_REPLICATE.has(spec.name);
}

/** A command refused before it ran (arity, auth, context): its rejected_calls. */
function rejected(spec: CommandSpec, args: string[], ctx: CommandContext): void {
  // An unknown subcommand is no command at all to Redis: nothing is counted.
  if (spec.subStats !== undefined && args.length > 1 && !spec.subStats.has(args[1].toLowerCase())) return;
  statOf(ctx.counters, spec, args).rejected++;
}

let nextIndex = 0;

/** This server's counters of a command, or of a container's subcommand (config|get), as Redis 7 keeps them. */
function statOf(counters: CommandCounters, spec: CommandSpec, args: string[]): CommandStat {
  const subs = spec.subStats;
  if (subs !== undefined && args.length > 1) {
    const sub = subs.get(args[1].toLowerCase());
    if (sub !== undefined) return (counters.commandStats[sub.index] ??= newStat(sub.name));
  }
  const i = spec.index ?? (spec.index = nextIndex++);
  return (counters.commandStats[i] ??= newStat(spec.name));
}

function newStat(name: string): CommandStat {
  return { name, calls: 0, usec: 0, timed: 0, rejected: 0, failed: 0 };
}

/**
 * After a timed command: its usec, its latency histogram, the latency monitor's
 * command / fast-command event, and the slowlog (not EXEC, whose commands are
 * logged one by one; not a command that blocked: Redis counts it when served).
 */
function timed(spec: CommandSpec, stat: CommandStat, args: string[], started: number, ctx: CommandContext): void {
  const ms = performance.now() - started;
  const micros = Math.floor(ms * 1000);
  stat.usec += micros;
  stat.timed++;
  const { counters } = ctx;
  if (ctx.client.waiting) return;
  const { settings } = counters;
  if (settings.latencyTracking) (stat.hist ??= new LatencyHistogram()).record(ms * 1e6);
  if (settings.latencyMonitorThreshold > 0) counters.latency.addSampleIfNeeded(spec.fast === true ? 'fast-command' : 'command', Math.floor(micros / 1000));
  const threshold = settings.slowlogLogSlowerThan;
  // The threshold as it is now: CONFIG SET slowlog-log-slower-than 0 logs itself, as in Redis.
  if (threshold < 0 || micros < threshold || spec.name === 'exec') return;
  counters.slowlog.record(args, micros, ctx.client);
}

function execAbort(why: string, w: ReplyWriter, ctx: CommandContext): void {
  discardTransaction(ctx.server, ctx.client);
  unwatchAll(ctx.server, ctx.client);
  w.err(ErrCode.Unknown, `EXECABORT Transaction discarded because of: ${why}`);
}

/** A postponed request, run again when CLIENT PAUSE ends (its reply then goes through deliver). */
function rerunLater(table: CommandTable, args: string[], ctx: CommandContext): (w: ReplyWriter) => void {
  const saved = args.slice();
  return (w) => dispatch(table, saved, w, ctx);
}

/** Runs a command that passed dispatch's checks (EXEC runs its queue through here too). */
export function execute(spec: CommandSpec, args: string[], w: ReplyWriter, ctx: CommandContext): void {
  const { hooks, counters } = ctx;
  // The changes a save would keep: one per write command run (see README: Persistence).
  if (spec.write === true && ++ctx.persistence.dirty >= ctx.persistence.dirtyAlarm) ctx.persistence.dirtied();
  // SLOWLOG, LATENCY, latencystats and commandstats' usec: a clock read on each side, only while one of them is on.
  const { settings } = counters;
  const started = settings.slowlogLogSlowerThan >= 0 || settings.latencyTracking || settings.latencyMonitorThreshold > 0 ? performance.now() : -1;
  const { store } = ctx;
  // Access times are stamped with one clock read per command (Redis caches its LRU clock too).
  store.setClock(started >= 0 ? started : performance.now());
  const errors = counters.errorCount;
  const nested = counters.nestedErrors;
  counters.execDepth++;
  if (spec.write === true && hooks.beforeWrite !== null) hooks.beforeWrite(store, args);
  // A write command's lookups of collections are measured again after it (used_memory).
  const wasWriting = store.writing;
  if (spec.write === true) store.writing = true;
  if (spec.write === true && (hooks.aroundWrite !== null || hooks.trackWrite !== null)) {
    const { aroundWrite, trackWrite } = hooks;
    const run = aroundWrite === null ? () => spec.run(args, w, ctx) : () => aroundWrite(args, () => spec.run(args, w, ctx), ctx.store);
    if (trackWrite !== null) trackWrite(ctx, args, run);
    else run();
  } else if (spec.readOnly === true) {
    // keyspace_hits / keyspace_misses: the key lookups of read-only commands.
    store.countLookups = true;
    spec.run(args, w, ctx);
    store.countLookups = false;
  } else {
    spec.run(args, w, ctx);
  }
  if (spec.write === true) {
    store.writing = wasWriting;
    if (!wasWriting) store.settle();
  }
  // CLIENT TRACKING: the keys a read-only command named are remembered for the reader.
  if (hooks.afterRead !== null && spec.readOnly === true) hooks.afterRead(spec, args, ctx);
  // Counted after it ran, as Redis's call() does: INFO commandstats leaves itself out, RESETSTAT's own call stays.
  const stat = statOf(counters, spec, args);
  stat.calls++;
  // Keyspace notifications' keymiss class (m), off by default: one test of the class bits per read.
  if (spec.readOnly === true && (counters.settings.notifyKeyspaceEvents & NOTIFY_KEY_MISS) !== 0 && counters.errorCount === errors) {
    notifyMisses(ctx, spec, args);
  }
  // EXEC's failed_calls leave out its commands' errors (each counts as its own command's failure).
  const during = counters.errorCount - errors;
  // The AOF logs the write's effect (before execDepth drops: a top-level command commits its writes).
  if (hooks.propagate !== null) hooks.propagate(spec, args, ctx, during - (counters.nestedErrors - nested) > 0);
  if (during - (counters.nestedErrors - nested) > 0) stat.failed++;
  if (--counters.execDepth > 0) counters.nestedErrors += during;
  if (started >= 0) timed(spec, stat, args, started, ctx);
  if (hooks.monitors.size !== 0 && !skipsMonitor(spec, args)) feedMonitors(args, ctx);
}

function skipsMonitor(spec: CommandSpec, args: string[]): boolean {
  const skip = spec.skipMonitor;
  return skip === undefined ? false : typeof skip === 'boolean' ? skip : skip(args);
}

/** Looks a command up by name (any case); undefined if unknown. */
export function lookup(table: CommandTable, name: string): CommandSpec | undefined {
  return table.commands.get(name) ?? table.commands.get(name.toLowerCase());
}

/** MONITOR's line: `+<unix seconds.micros> [<db> <peer>] "cmd" "arg" …`, arguments quoted as Redis's sdscatrepr. */
function feedMonitors(args: string[], ctx: CommandContext): void {
  const ms = performance.timeOrigin + performance.now(); // wall clock with sub-ms precision
  const secs = Math.floor(ms / 1000);
  const micros = String(Math.floor(ms * 1000) % 1e6).padStart(6, '0');
  let line = `${secs}.${micros} [${ctx.store.id} ${ctx.client.peer}]`;
  // Secrets are redacted, as Redis 7.0 does for AUTH and HELLO's AUTH.
  const redactFrom = isAuth(args) ? 1 : args.length;
  const helloAuth = args[0].toLowerCase() === 'hello' ? args.findIndex((a, i) => i > 0 && a.toLowerCase() === 'auth') : -1;
  for (let i = 0; i < args.length; i++) {
    const secret = i >= redactFrom || (helloAuth > 0 && (i === helloAuth + 1 || i === helloAuth + 2));
    line += ' ' + (secret ? '"(redacted)"' : quoteRepr(args[i]));
  }
  for (const m of ctx.server.hooks.monitors) m.deliver((w) => w.status(line));
}

function isAuth(args: string[]): boolean {
  return args[0].length === 4 && args[0].toLowerCase() === 'auth';
}

/** Redis's sdscatrepr: a double-quoted string with \n \r \t \a \b \\ \" escaped and other non-printables as \xHH. */
export function quoteRepr(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    switch (c) {
      case 0x5c: out += '\\\\'; break;
      case 0x22: out += '\\"'; break;
      case 0x0a: out += '\\n'; break;
      case 0x0d: out += '\\r'; break;
      case 0x09: out += '\\t'; break;
      case 0x07: out += '\\a'; break;
      case 0x08: out += '\\b'; break;
      default:
        out += c >= 0x20 && c < 0x7f ? s[i] : `\\x${c.toString(16).padStart(2, '0')}`;
    }
  }
  return out + '"';
}

/**
 * Builds a name → spec map holding both lower- and upper-case names (no
 * lowercasing on the hot path). `describe` (the RESP table: applyMeta) gives
 * each spec its arity, flags and key positions from the command's description.
 */
export function commandMap(specs: readonly CommandSpec[], describe?: (spec: CommandSpec) => void): Map<string, CommandSpec> {
  const m = new Map<string, CommandSpec>();
  for (const s of specs) {
    if (describe !== undefined) describe(s);
    if (s.flags !== undefined && s.flags.includes('write')) s.write = true;
    if (s.index === undefined) s.index = nextIndex++;
    if (s.subcommandNames !== undefined && s.subStats === undefined) {
      s.subStats = new Map([...s.subcommandNames].map((sub) => [sub, { index: nextIndex++, name: `${s.name}|${sub}` }]));
    }
    if (s.flags !== undefined && s.flags.includes('readonly')) s.readOnly = true;
    if (s.flags !== undefined && s.flags.includes('fast')) s.fast = true;
    if (s.flags !== undefined && s.flags.includes('denyoom')) s.denyoom = true;
    m.set(s.name, s);
    m.set(s.name.toUpperCase(), s);
  }
  return m;
}
