// The connection commands that act on clients: CLIENT (SETNAME, GETNAME, ID,
// INFO, LIST, KILL, PAUSE, UNPAUSE, UNBLOCK, NO-EVICT, SETINFO, HELP), RESET
// and MONITOR. CLIENT PAUSE postpones the affected commands of every client
// (their client waits, as a blocked one does) until the pause ends; the end
// is a timer in the loop's heap. Killing another client closes it at its next
// turn; killing oneself closes after the reply, as Redis does.

import type { ReplyWriter } from '../../protocol/reply.js';
import { NOT_INTEGER, SYNTAX, parseInt64 } from '../args.js';
import { MAY_REPLICATE, NO_KEYS, arityError, err, isOpt, selectDb } from '../common.js';
import type { ClientState, CommandContext, CommandSpec, ServerContext } from '../types.js';
import { discardTransaction, unwatchAll } from '../multi.js';
import { clientCaching, clientGetRedir, clientTracking, clientTrackingInfo, disableTracking, trackingListFields } from '../tracking.js';

/** What other modules hang off a client for CLIENT LIST and RESET (pub/sub, blocking). */
export interface ClientExtensions {
  /** Channel, pattern and shard-channel counts (the pub/sub module). */
  pubsubCounts?(server: ServerContext, c: ClientState): { sub: number; psub: number; ssub: number };
  /** Drops every subscription without telling the client (RESET). */
  unsubscribeAll?(server: ServerContext, c: ClientState): void;
  /** Unblocks a client blocked on keys (CLIENT UNBLOCK); false if it was not. */
  unblock?(server: ServerContext, c: ClientState, how: 'timeout' | 'error'): boolean;
}

/** Registered by the pub/sub and blocking modules at load time. */
export const clientExtensions: ClientExtensions = {};

/** Per-client facts this module keeps. */
interface ClientExtra {
  noEvict: boolean;
  libName: string;
  libVer: string;
}
const extras = new WeakMap<ClientState, ClientExtra>();
function extra(c: ClientState): ClientExtra {
  let e = extras.get(c);
  if (e === undefined) extras.set(c, (e = { noEvict: false, libName: '', libVer: '' }));
  return e;
}

/** CLIENT NO-EVICT ON: maxmemory-clients never evicts this client. */
export function isNoEvict(c: ClientState): boolean {
  return extras.get(c)?.noEvict ?? false;
}

/** Redis's client-name charset: printable ASCII without spaces. */
export function validClientName(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 33 || c > 126) return false;
  }
  return true;
}

function subArity(w: ReplyWriter, sub: string): void {
  arityError(w, `client|${sub.toLowerCase()}`);
}

/** Too many arguments for a subcommand whose table arity has no upper bound (Redis's addReplySubcommandSyntaxError). */
function subcommandSyntax(w: ReplyWriter, sub: string): void {
  err(w, `ERR unknown subcommand or wrong number of arguments for '${sub.slice(0, 128)}'. Try CLIENT HELP.`);
}

/** Redis's getClientType: pubsub for subscribed clients, normal otherwise (we have no replicas or masters). */
function clientType(server: ServerContext, c: ClientState): 'normal' | 'pubsub' {
  return c.subscriptions > 0 ? 'pubsub' : 'normal';
}

const CLIENT_TYPES = new Set(['normal', 'master', 'slave', 'replica', 'pubsub']);

/** Redis's reply chunk (PROTO_REPLY_CHUNK_BYTES): its static reply buffer and each reply-list node hold this much. */
const REPLY_CHUNK = 16 * 1024;

/** One CLIENT LIST / CLIENT INFO line, in Redis 7.0's field order, from the client's real state. */
export function clientLine(c: ClientState, ctx: CommandContext, argvMem = 0): string {
  const now = Date.now();
  const host = ctx.server.host;
  const info = c.connInfo();
  const counts = clientExtensions.pubsubCounts?.(ctx.server, c) ?? { sub: 0, psub: 0, ssub: 0 };
  const x = extra(c);
  let flags = '';
  if (c.monitor) flags += 'O';
  if (c.subscriptions > 0) flags += 'P';
  if (c.multi !== null) flags += 'x';
  if (c.waiting) flags += 'b';
  const tracking = trackingListFields(ctx.server, c);
  flags += tracking.flags;
  if (c.dirtyCas) flags += 'd';
  if (c.closeAfterReply) flags += 'c';
  if (x.noEvict) flags += 'e';
  let multiMem = 0;
  if (c.multi !== null) for (const q of c.multi.queue) for (const a of q) multiMem += a.length;
  const self = c === ctx.client;
  // The client running this command: its request is still in its query buffer (Redis 7.0 counts it).
  const qbuf = info.qbuf + (self ? info.current : 0);
  const qmem = qbuf + info.qbufFree;
  if (!self) argvMem = info.argvMem;
  // Pending output, laid out as Redis holds it: a few KiB in the client's reply
  // buffer (obl); more than 16 KiB waits in 16 KiB reply-list nodes (oll of
  // them, omem bytes), the buffer itself having gone out first. rbs is our
  // buffer's size, and rbp (Redis: the peak of the last 5 s) reads the same, as
  // the buffer only grows to a peak and shrinks once drained.
  const big = info.pending > REPLY_CHUNK;
  const obl = big ? 0 : info.pending;
  const oll = big ? Math.ceil(info.pending / REPLY_CHUNK) : 0;
  const omem = oll * REPLY_CHUNK;
  return (
    `id=${c.id} addr=${c.peer} laddr=${host}:${c.localPort} fd=${c.fd} name=${c.name} ` +
    `age=${Math.floor((now - c.createdAtMs) / 1000)} idle=${Math.floor(info.idleMs / 1000)} flags=${flags || 'N'} db=${c.db} ` +
    `sub=${counts.sub} psub=${counts.psub} ssub=${counts.ssub} multi=${c.multi === null ? -1 : c.multi.queue.length} ` +
    `qbuf=${qbuf} qbuf-free=${info.qbufFree} argv-mem=${argvMem} multi-mem=${multiMem} ` +
    `rbs=${info.obufSize} rbp=${info.obufSize} obl=${obl} oll=${oll} omem=${omem} ` +
    `tot-mem=${qmem + info.obufSize + argvMem + multiMem} events=${info.events} ` +
    `cmd=${c.lastCommand || 'NULL'} user=default redir=${tracking.redir} resp=${c.resp}` +
    (x.libName || x.libVer ? ` lib-name=${x.libName} lib-ver=${x.libVer}` : '') +
    '\n'
  );
}

/** CLIENT's subcommands Redis 7.0 flags admin (COMMAND INFO client|kill …). */
const ADMIN_SUBCOMMANDS = new Set(['kill', 'list', 'no-evict', 'pause', 'unpause', 'unblock']);

function argvMem(args: string[]): number {
  let n = 0;
  for (const a of args) n += a.length;
  return n;
}

// ---- CLIENT PAUSE ----

/** The server's pause: its mode and end, and the clients whose commands wait for it (FIFO). */
class Pause {
  mode: 'write' | 'all' | null = null;
  end = 0;
  timer: unknown = null;
  readonly postponed: { client: ClientState; rerun: (w: ReplyWriter) => void }[] = [];
  constructor(private readonly server: ServerContext) {
    server.onClientClosed((c) => {
      const i = this.postponed.findIndex((p) => p.client === c);
      if (i >= 0) this.postponed.splice(i, 1);
    });
  }

  /** Redis's is_may_replicate_command: writes, and commands that may propagate. */
  private affects(spec: CommandSpec, client: ClientState): boolean {
    if (this.mode === 'all') return true;
    if (spec.flags?.includes('write') || MAY_REPLICATE.has(spec.name)) return true;
    if (spec.name === 'exec' && client.multi !== null) {
      return client.multi.queue.some((q) => {
        const n = q[0].toLowerCase();
        return MAY_REPLICATE.has(n) || WRITE_NAMES.has(n);
      });
    }
    return false;
  }

  start(mode: 'write' | 'all', durationMs: number): void {
    const { server } = this;
    const end = server.timers.now() + durationMs;
    // A second pause keeps the later end and the stricter mode, as Redis's pauseClients.
    if (this.mode === null || mode === 'all') this.mode = this.mode === 'all' ? 'all' : mode;
    if (end > this.end || this.timer === null) {
      this.end = Math.max(end, this.end);
      if (this.timer !== null) server.timers.cancel(this.timer);
      this.timer = server.timers.add(this.end, () => {
        this.timer = null;
        this.stop();
        server.hooks.afterReply?.(null); // tracking's messages from the postponed commands
      }, 'CLIENT PAUSE ends');
    }
    server.hooks.postpone = (spec, ctx, rerun) => {
      if (this.mode === null || !this.affects(spec, ctx.client)) return false;
      ctx.client.waiting = true;
      this.postponed.push({ client: ctx.client, rerun: rerun() });
      server.note?.(`client ${ctx.client.id}: ${spec.name} postponed (CLIENT PAUSE ${this.mode.toUpperCase()})`);
      return true;
    };
  }

  /** Ends the pause: every postponed command runs, in the order it arrived, then its client carries on. */
  stop(): void {
    const { server } = this;
    if (this.timer !== null) server.timers.cancel(this.timer);
    this.timer = null;
    this.mode = null;
    this.end = 0;
    server.hooks.postpone = null;
    const list = this.postponed.splice(0);
    for (const { client, rerun } of list) {
      client.waiting = false;
      client.deliver(rerun);
      client.wake();
    }
    server.hooks.afterCommand?.();
  }
}

/** Names of write commands, for judging a queued transaction (filled from the table). */
const WRITE_NAMES = new Set<string>();

function pauseOf(server: ServerContext): Pause {
  let p = server.registry.get('pause') as Pause | undefined;
  if (p === undefined) server.registry.set('pause', (p = new Pause(server)));
  return p;
}

// ---- CLIENT KILL ----

interface KillFilter {
  id: number | null;
  addr: string | null;
  laddr: string | null;
  type: string | null;
  skipMe: boolean;
}

/** Parses CLIENT KILL's filters from args[2]; writes the error and returns null when they are bad. */
function parseKillFilter(args: string[], w: ReplyWriter): KillFilter | null {
  const f: KillFilter = { id: null, addr: null, laddr: null, type: null, skipMe: true };
  if ((args.length - 2) % 2 !== 0) return err(w, SYNTAX), null;
  for (let i = 2; i < args.length; i += 2) {
    const opt = args[i];
    const v = args[i + 1];
    if (isOpt(opt, 'id')) {
      const id = parseInt64(v);
      if (id === null || typeof id !== 'number' || id <= 0) return err(w, 'ERR client-id should be greater than 0'), null;
      f.id = id;
    } else if (isOpt(opt, 'type')) {
      const t = v.toLowerCase();
      if (!CLIENT_TYPES.has(t)) return err(w, `ERR Unknown client type '${v}'`), null;
      f.type = t === 'slave' ? 'replica' : t;
    } else if (isOpt(opt, 'addr')) f.addr = v;
    else if (isOpt(opt, 'laddr')) f.laddr = v;
    else if (isOpt(opt, 'user')) {
      if (v !== 'default') return err(w, `ERR No such user '${v}'`), null;
    } else if (isOpt(opt, 'skipme')) {
      if (isOpt(v, 'yes')) f.skipMe = true;
      else if (isOpt(v, 'no')) f.skipMe = false;
      else return err(w, SYNTAX), null;
    } else return err(w, SYNTAX), null;
  }
  return f;
}

function kill(ctx: CommandContext, c: ClientState): void {
  if (c === ctx.client) ctx.client.closeAfterReply = true;
  else c.kill('CLIENT KILL');
}

function clientKill(args: string[], w: ReplyWriter, ctx: CommandContext): void {
  const host = ctx.server.host;
  if (args.length === 3) {
    // The old form: CLIENT KILL ip:port, oneself included.
    const target = ctx.server.clientList().find((c) => c.peer === args[2]);
    if (target === undefined) return err(w, 'ERR No such client');
    kill(ctx, target);
    return w.status('OK');
  }
  const f = parseKillFilter(args, w);
  if (f === null) return;
  let killed = 0;
  for (const c of ctx.server.clientList()) {
    if (f.id !== null && c.id !== f.id) continue;
    if (f.addr !== null && c.peer !== f.addr) continue;
    if (f.laddr !== null && `${host}:${c.localPort}` !== f.laddr) continue;
    if (f.type !== null && clientType(ctx.server, c) !== f.type) continue;
    if (f.skipMe && c === ctx.client) continue;
    kill(ctx, c);
    killed++;
  }
  w.int(killed);
}

function clientList(args: string[], w: ReplyWriter, ctx: CommandContext): void {
  let clients = ctx.server.clientList();
  if (args.length > 2) {
    if (isOpt(args[2], 'type') && args.length === 4) {
      const t = args[3].toLowerCase();
      if (!CLIENT_TYPES.has(t)) return err(w, `ERR Unknown client type '${args[3]}'`);
      const want = t === 'slave' ? 'replica' : t;
      clients = clients.filter((c) => clientType(ctx.server, c) === want);
    } else if (isOpt(args[2], 'id') && args.length >= 4) {
      const ids = new Set<number>();
      for (const a of args.slice(3)) {
        const id = parseInt64(a);
        if (id === null || typeof id !== 'number' || id <= 0) return err(w, 'ERR Invalid client ID');
        ids.add(id);
      }
      clients = [...ids].map((id) => ctx.server.clientById(id)).filter((c): c is ClientState => c !== undefined);
    } else return err(w, SYNTAX);
  }
  const mem = argvMem(args);
  w.verbatim('txt', clients.map((c) => clientLine(c, ctx, mem)).join(''));
}

const HELP = [
  'CACHING (YES|NO)',
  '    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.',
  'GETREDIR',
  '    Return the client ID we are redirecting to when tracking is enabled.',
  'GETNAME',
  '    Return the name of the current connection.',
  'ID',
  '    Return the ID of the current connection.',
  'INFO',
  '    Return information about the current client connection.',
  'KILL <ip:port>',
  '    Kill connection made from <ip:port>.',
  'KILL <option> <value> [<option> <value> [...]]',
  '    Kill connections. Options are:',
  '    * ADDR (<ip:port>|<unixsocket>:0)',
  '      Kill connections made from the specified address',
  '    * LADDR (<ip:port>|<unixsocket>:0)',
  '      Kill connections made to specified local address',
  '    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)',
  '      Kill connections by type.',
  '    * USER <username>',
  '      Kill connections authenticated by <username>.',
  '    * SKIPME (YES|NO)',
  '      Skip killing current connection (default: yes).',
  'LIST [options ...]',
  '    Return information about client connections. Options:',
  '    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)',
  '      Return clients of specified type.',
  'UNPAUSE',
  '    Stop the current client pause, resuming traffic.',
  'PAUSE <timeout> [WRITE|ALL]',
  '    Suspend all, or just write, clients for <timeout> milliseconds.',
  'SETNAME <name>',
  '    Assign the name <name> to the current connection.',
  'UNBLOCK <clientid> [TIMEOUT|ERROR]',
  '    Unblock the specified blocked client.',
  'TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]',
  '         [OPTIN] [OPTOUT] [NOLOOP]',
  '    Control server assisted client side caching.',
  'TRACKINGINFO',
  '    Report tracking status for the current connection.',
  'NO-EVICT (ON|OFF)',
  '    Protect current client connection from eviction.',
];

function helpReply(w: ReplyWriter, lines: string[]): void {
  w.arr(lines.length + 3);
  w.status('CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:');
  for (const l of lines) w.status(l);
  w.status('HELP');
  w.status('    Prints this help.');
}

/** Whether args.length satisfies a Redis arity. */
function arityOk(n: number, arity: number): boolean {
  return arity > 0 ? n === arity : n >= -arity;
}

export function respClientCommands(table: () => Map<string, CommandSpec>): CommandSpec[] {
  const writeNames = (): void => {
    if (WRITE_NAMES.size !== 0) return;
    for (const s of table().values()) if (s.flags?.includes('write')) WRITE_NAMES.add(s.name);
  };
  return [
    {
      name: 'client',
      arity: -2,
      // All of Redis 7.0's but REPLY, and SETINFO (Redis 7.2, which clients such as node-redis send).
      subcommands: ['caching', 'getname', 'getredir', 'help', 'id', 'info', 'kill', 'list', 'no-evict', 'pause', 'setname', 'tracking', 'trackinginfo', 'unblock', 'unpause', 'setinfo'],
      // Redis 7.0 flags these subcommands admin: MONITOR does not show them.
      skipMonitor: (args) => ADMIN_SUBCOMMANDS.has(args[1].toLowerCase()),
      ...NO_KEYS,
      run(args, w, ctx) {
        const sub = args[1];
        const n = args.length;
        const { client } = ctx;
        if (isOpt(sub, 'setname')) {
          if (!arityOk(n, 3)) return subArity(w, sub);
          if (!validClientName(args[2])) return err(w, 'ERR Client names cannot contain spaces, newlines or special characters.');
          client.name = args[2];
          w.status('OK');
        } else if (isOpt(sub, 'getname')) {
          if (!arityOk(n, 2)) return subArity(w, sub);
          if (client.name === '') w.nil();
          else w.str(client.name);
        } else if (isOpt(sub, 'id')) {
          if (!arityOk(n, 2)) return subArity(w, sub);
          w.int(client.id);
        } else if (isOpt(sub, 'info')) {
          if (!arityOk(n, 2)) return subArity(w, sub);
          w.verbatim('txt', clientLine(client, ctx, argvMem(args)));
        } else if (isOpt(sub, 'list')) {
          clientList(args, w, ctx);
        } else if (isOpt(sub, 'kill')) {
          if (!arityOk(n, -3)) return subArity(w, sub);
          clientKill(args, w, ctx);
        } else if (isOpt(sub, 'pause')) {
          if (!arityOk(n, -3)) return subArity(w, sub);
          if (n > 4) return subcommandSyntax(w, sub);
          const ms = parseInt64(args[2]);
          if (ms === null || typeof ms !== 'number') return err(w, 'ERR timeout is not an integer or out of range');
          if (ms < 0) return err(w, 'ERR timeout is negative');
          let mode: 'write' | 'all' = 'all';
          if (n === 4) {
            if (isOpt(args[3], 'write')) mode = 'write';
            else if (!isOpt(args[3], 'all')) return err(w, 'ERR CLIENT PAUSE mode must be WRITE or ALL');
          }
          writeNames();
          pauseOf(ctx.server).start(mode, ms);
          w.status('OK');
        } else if (isOpt(sub, 'unpause')) {
          if (!arityOk(n, 2)) return subArity(w, sub);
          pauseOf(ctx.server).stop();
          w.status('OK');
        } else if (isOpt(sub, 'unblock')) {
          if (!arityOk(n, -3)) return subArity(w, sub);
          if (n > 4) return subcommandSyntax(w, sub);
          const id = parseInt64(args[2]);
          if (id === null || typeof id !== 'number') return err(w, NOT_INTEGER);
          let how: 'timeout' | 'error' = 'timeout';
          if (n === 4) {
            if (isOpt(args[3], 'error')) how = 'error';
            else if (!isOpt(args[3], 'timeout')) return err(w, 'ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR');
          }
          const target = ctx.server.clientById(id);
          // Only a client blocked on keys: one held by CLIENT PAUSE is not unblocked (as Redis).
          const done = target !== undefined && clientExtensions.unblock !== undefined && clientExtensions.unblock(ctx.server, target, how);
          w.int(done ? 1 : 0);
        } else if (isOpt(sub, 'no-evict')) {
          if (!arityOk(n, 3)) return subArity(w, sub);
          // maxmemory-clients leaves a client with the flag alone (src/servers/memory.ts); CLIENT LIST shows it as 'e'.
          if (isOpt(args[2], 'on')) extra(client).noEvict = true;
          else if (isOpt(args[2], 'off')) extra(client).noEvict = false;
          else return err(w, SYNTAX);
          w.status('OK');
        } else if (isOpt(sub, 'setinfo')) {
          // Redis 7.2's CLIENT SETINFO (Node clients send it): kept and shown in CLIENT LIST as 7.2 does.
          if (!arityOk(n, 4)) return subArity(w, sub);
          const v = args[3];
          if (isOpt(args[2], 'lib-name')) {
            if (!validClientName(v)) return err(w, 'ERR lib-name cannot contain spaces, newlines or special characters.');
            extra(client).libName = v;
          } else if (isOpt(args[2], 'lib-ver')) {
            if (!validClientName(v)) return err(w, 'ERR lib-ver cannot contain spaces, newlines or special characters.');
            extra(client).libVer = v;
          } else return err(w, `ERR Unrecognized option '${args[2]}'`);
          w.status('OK');
        } else if (isOpt(sub, 'tracking')) {
          if (!arityOk(n, -3)) return subArity(w, sub);
          clientTracking(args, w, ctx);
        } else if (isOpt(sub, 'caching')) {
          if (!arityOk(n, 3)) return subArity(w, sub);
          clientCaching(args, w, ctx);
        } else if (isOpt(sub, 'getredir')) {
          if (!arityOk(n, 2)) return subArity(w, sub);
          clientGetRedir(w, ctx);
        } else if (isOpt(sub, 'trackinginfo')) {
          if (!arityOk(n, 2)) return subArity(w, sub);
          clientTrackingInfo(w, ctx);
        } else if (isOpt(sub, 'help')) {
          helpReply(w, HELP);
        } else {
          err(w, `ERR unknown subcommand '${sub.slice(0, 128)}'. Try CLIENT HELP.`);
        }
      },
    },
    {
      name: 'reset',
      arity: 1,
      flags: ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'],
      noauth: true,
      ...NO_KEYS,
      run(_args, w, ctx) {
        // Redis's clearClientConnectionState: the connection as if new (but for its id and address).
        const { client, server } = ctx;
        discardTransaction(server, client);
        unwatchAll(server, client);
        if (client.monitor) {
          client.monitor = false;
          server.hooks.monitors.delete(client);
        }
        clientExtensions.unsubscribeAll?.(server, client);
        disableTracking(server, client);
        client.name = '';
        client.resp = 2;
        extra(client).noEvict = false;
        client.authenticated = server.requirePass === null;
        selectDb(ctx, 0);
        w.status('RESET');
      },
    },
    {
      name: 'monitor',
      arity: 1,
      flags: ['admin', 'noscript', 'loading', 'stale'],
      skipMonitor: true,
      ...NO_KEYS,
      run(_args, w, ctx) {
        const { client, server } = ctx;
        if (client.inExec) return err(w, "ERR MONITOR isn't allowed for DENY BLOCKING client");
        if (!client.monitor) {
          client.monitor = true;
          if (server.hooks.monitors.size === 0 && !server.registry.has('monitor-cleanup')) {
            server.registry.set('monitor-cleanup', true);
            server.onClientClosed((c) => server.hooks.monitors.delete(c));
          }
          server.hooks.monitors.add(client);
        }
        w.status('OK');
      },
    },
  ];
}
