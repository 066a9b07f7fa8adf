// CLIENT TRACKING: server-assisted client-side caching, as Redis 7.0's
// tracking.c. A tracking client is told (an `invalidate` push under RESP3; a
// `message` on `__redis__:invalidate` for a RESP2 client redirecting to a
// subscribed one) when a key it may have cached changes.
//
// Default mode: the keys a read-only command of the client names (its legacy
// key positions) go into a table key → client ids; a change to a key sends one
// invalidation to each id there and forgets the key. OPTIN remembers only
// after CLIENT CACHING YES, OPTOUT not after CLIENT CACHING NO (the flag lasts
// one command, or one transaction). BCAST: no table; every change to a key
// under a registered prefix ("" = every key) is sent to the prefix's clients,
// batched after the command (Redis batches per event-loop iteration). NOLOOP:
// not for the client's own writes. FLUSHALL/FLUSHDB: every tracking client
// gets an invalidation with a null instead of keys, and the table is emptied.
//
// Changes are seen as WATCH sees them: the keyspace listener (stored,
// overwritten, deleted, expired — lazily or actively —, flushed) and, around a
// write command, a fingerprint before/after of each argument that is a
// tracked key (or under a BCAST prefix), for in-place changes. Every message
// is queued and delivered after the command's reply is written (Redis's
// tracking_pending_keys orders a client's own invalidations after its reply)
// or after an active-expiry cycle. Everything is installed only while some
// client has tracking on; the hot path pays null checks otherwise.
//
// The table holds ids, not clients, as Redis's does: a client that turns
// tracking off and on again may still be told of keys it read before; a
// disconnected id is skipped. It is bounded by tracking-table-max-keys (0: no
// bound): over it, the oldest remembered keys are invalidated and dropped
// (Redis picks random keys).

import type { ReplyWriter } from '../protocol/reply.js';
import { err } from './common.js';
import { sameSnapshot, snapshot } from './multi.js';
import type { ClientState, CommandContext, CommandSpec, KeyListener, ServerContext } from './types.js';

/** One client's tracking options (present while tracking is on, and kept for broken_redirect). */
export interface TrackState {
  bcast: boolean;
  optin: boolean;
  optout: boolean;
  noloop: boolean;
  /** CLIENT CACHING YES (OPTIN) / NO (OPTOUT) was given for the next command. */
  caching: boolean;
  /** Client id invalidations go to (0: the client itself). */
  redirect: number;
  brokenRedir: boolean;
  /** BCAST prefixes ("" for all keys). */
  readonly prefixes: Set<string>;
}

interface Bcast {
  readonly clients: Set<ClientState>;
  /** Keys changed since the last flush → the client that changed them last (null: expiry). */
  readonly keys: Map<string, ClientState | null>;
}

type Value = string[] | null;

/** Read-only commands whose keys follow a numkeys argument (legacy key positions 0). */
const NUMKEYS_READS = new Set(['sintercard', 'zunion', 'zinter', 'zdiff', 'zintercard']);

class Tracking {
  readonly clients = new Map<ClientState, TrackState>();
  /** key → ids of clients that read it (default mode). */
  readonly table = new Map<string, Set<number>>();
  readonly prefixes = new Map<string, Bcast>();
  private pending: { client: ClientState; value: Value }[] = [];
  /** The client whose write command is running (for NOLOOP). */
  private writer: ClientState | null = null;
  private active = false;
  private readonly listener: KeyListener;

  constructor(private readonly server: ServerContext) {
    this.listener = (key, why, db) => {
      // FLUSHALL empties every database ('flushall'), and Redis tells tracking clients once.
      if (key === null) {
        if (why === 'flush' || db.id === 0) this.flushAll();
      }
      else if (why !== 'new') this.invalidate(key, why === 'expire' || why === 'evict' ? null : this.writer, true);
    };
    server.onClientClosed((c) => this.disable(c));
  }

  state(c: ClientState): TrackState | undefined {
    return this.clients.get(c);
  }

  enable(c: ClientState, redirect: number, opts: { bcast: boolean; optin: boolean; optout: boolean; noloop: boolean }, prefixes: string[]): void {
    let st = this.clients.get(c);
    if (st === undefined) this.clients.set(c, (st = { bcast: false, optin: false, optout: false, noloop: false, caching: false, redirect: 0, brokenRedir: false, prefixes: new Set() }));
    st.redirect = redirect;
    st.brokenRedir = false;
    st.bcast = opts.bcast;
    st.optin = opts.optin;
    st.optout = opts.optout;
    st.noloop = opts.noloop;
    if (opts.bcast) {
      for (const p of prefixes.length === 0 ? [''] : prefixes) {
        st.prefixes.add(p);
        let b = this.prefixes.get(p);
        if (b === undefined) this.prefixes.set(p, (b = { clients: new Set(), keys: new Map() }));
        b.clients.add(c);
      }
    }
    if (!this.active) this.activate();
  }

  disable(c: ClientState): void {
    const st = this.clients.get(c);
    if (st === undefined) return;
    for (const p of st.prefixes) {
      const b = this.prefixes.get(p)!;
      b.clients.delete(c);
      if (b.clients.size === 0) this.prefixes.delete(p);
    }
    this.clients.delete(c);
    if (this.clients.size === 0) {
      // Nobody left to tell: the table and batches go (nothing could be sent from them).
      this.table.clear();
      this.prefixes.clear();
      this.server.removeKeyListener(this.listener);
      const { hooks } = this.server;
      hooks.afterRead = null;
      hooks.trackWrite = null;
      // afterReply stays until what is queued has been delivered.
      this.active = false;
    }
  }

  private activate(): void {
    this.active = true;
    this.server.addKeyListener(this.listener);
    const { hooks } = this.server;
    hooks.afterRead = (spec, args, ctx) => this.remember(spec, args, ctx.client);
    hooks.trackWrite = (ctx, args, run) => this.aroundWrite(ctx, args, run);
    hooks.afterReply = (c) => this.afterReply(c);
  }

  /** Default mode: the keys of a read-only command go into the table (OPTIN/OPTOUT permitting). */
  private remember(spec: CommandSpec, args: string[], c: ClientState): void {
    const st = this.clients.get(c);
    if (st === undefined || st.bcast) return;
    if ((st.optin && !st.caching) || (st.optout && st.caching)) return;
    let first = spec.firstKey ?? 0;
    let last: number;
    if (NUMKEYS_READS.has(spec.name)) {
      // Movable keys: numkeys at args[1], the keys after it (Redis's key specs).
      const n = Number(args[1]);
      if (!Number.isInteger(n) || n <= 0) return;
      first = 2;
      last = Math.min(1 + n, args.length - 1);
    } else if (spec.name === 'xread') {
      // XREAD … STREAMS k1 k2 … id1 id2 …: the first half after STREAMS.
      const at = args.findIndex((a, i) => i > 0 && a.toLowerCase() === 'streams');
      if (at < 0) return;
      first = at + 1;
      last = at + Math.floor((args.length - at - 1) / 2);
    } else {
      if (first <= 0 || first >= args.length) return;
      const lastKey = spec.lastKey ?? first;
      last = lastKey < 0 ? args.length + lastKey : Math.min(lastKey, args.length - 1);
    }
    const step = spec.keyStep || 1;
    for (let i = first; i <= last; i += step) {
      const key = args[i];
      let ids = this.table.get(key);
      if (ids === undefined) this.table.set(key, (ids = new Set()));
      ids.add(c.id);
    }
    const max = Number(this.server.config.get('tracking-table-max-keys') ?? '0');
    if (max > 0) {
      // Over the bound: the oldest remembered keys are invalidated and forgotten.
      for (const key of this.table.keys()) {
        if (this.table.size <= max) break;
        this.invalidate(key, null, false);
      }
    }
  }

  /** A write command: keys it changed in place (a fingerprint differs) are invalidated; NOLOOP knows the writer. */
  private aroundWrite(ctx: CommandContext, args: string[], run: () => void): void {
    const prev = this.writer;
    this.writer = ctx.client;
    let watched: string[] | null = null;
    for (let i = 1; i < args.length; i++) {
      if (this.table.has(args[i]) || this.underPrefix(args[i])) (watched ??= []).push(args[i]);
    }
    try {
      if (watched === null) return run();
      const before = watched.map((k) => snapshot(ctx.store, k));
      try {
        run();
      } finally {
        for (let i = 0; i < watched.length; i++) {
          if (!sameSnapshot(snapshot(ctx.store, watched[i]), before[i])) this.invalidate(watched[i], ctx.client, true);
        }
      }
    } finally {
      this.writer = prev;
    }
  }

  private underPrefix(key: string): boolean {
    if (this.prefixes.size === 0) return false;
    for (const p of this.prefixes.keys()) if (key.startsWith(p)) return true;
    return false;
  }

  /** Redis's trackingInvalidateKey. */
  invalidate(key: string, writer: ClientState | null, bcast: boolean): void {
    if (bcast && this.prefixes.size !== 0) {
      for (const [p, b] of this.prefixes) if (key.startsWith(p)) b.keys.set(key, writer);
    }
    const ids = this.table.get(key);
    if (ids === undefined) return;
    this.table.delete(key);
    for (const id of ids) {
      const target = this.server.clientById(id);
      if (target === undefined) continue;
      const st = this.clients.get(target);
      if (st === undefined || st.bcast) continue;
      if (st.noloop && target === writer) continue;
      this.pending.push({ client: target, value: [key] });
    }
  }

  /** FLUSHALL/FLUSHDB: a null invalidation to every tracking client; the table is emptied. */
  private flushAll(): void {
    for (const c of this.server.clientList()) if (this.clients.has(c)) this.pending.push({ client: c, value: null });
    this.table.clear();
  }

  /** After a command's reply (or an active-expiry cycle): deliver what is queued, then BCAST's batches. */
  private afterReply(c: ClientState | null): void {
    if (c !== null) {
      // CLIENT CACHING lasts one command (any CLIENT subcommand keeps it; so does a transaction being queued).
      const st = this.clients.get(c);
      if (st !== undefined && st.caching && c.multi === null && !c.lastCommand.startsWith('client|')) st.caching = false;
    }
    if (this.pending.length !== 0) {
      const list = this.pending;
      this.pending = [];
      for (const p of list) this.send(p.client, p.value);
    }
    if (this.prefixes.size !== 0) {
      for (const [, b] of [...this.prefixes].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0))) {
        if (b.keys.size === 0) continue;
        for (const target of [...b.clients].sort((x, y) => x.id - y.id)) {
          const st = this.clients.get(target);
          const keys: string[] = [];
          for (const [k, writer] of b.keys) if (!(st?.noloop === true && writer === target)) keys.push(k);
          keys.sort(); // Redis's rax: byte order (keys are latin1 strings)
          if (keys.length !== 0) this.send(target, keys);
        }
        b.keys.clear();
      }
    }
    if (!this.active) this.server.hooks.afterReply = null;
  }

  /** Redis's sendTrackingMessage: to the client, or to its redirect target. */
  private send(c: ClientState, value: Value): void {
    const st = this.clients.get(c);
    let target = c;
    let redirected = false;
    if (st !== undefined && st.redirect !== 0) {
      const r = this.server.clientById(st.redirect);
      if (r === undefined) {
        st.brokenRedir = true;
        if (c.resp === 3) {
          const id = st.redirect;
          c.deliver((w) => {
            w.push(2);
            w.str('tracking-redir-broken');
            w.int(id);
          });
        }
        return;
      }
      target = r;
      redirected = true;
    }
    const body = (w: ReplyWriter) => {
      if (value === null) w.nil();
      else {
        w.arr(value.length);
        for (const k of value) w.str(k);
      }
    };
    if (target.resp === 3) {
      target.deliver((w) => {
        w.push(2);
        w.str('invalidate');
        body(w);
      });
    } else if (redirected && target.subscriptions > 0) {
      target.deliver((w) => {
        w.push(3);
        w.str('message');
        w.str('__redis__:invalidate');
        body(w);
      });
    }
    // A RESP2 client without a subscribed redirect target cannot be told anything.
  }
}

/** This server's tracking state, created on first use. */
export function trackingOf(server: ServerContext): Tracking {
  let t = server.registry.get('tracking') as Tracking | undefined;
  if (t === undefined) server.registry.set('tracking', (t = new Tracking(server)));
  return t;
}

/** INFO's tracking_clients, tracking_total_keys, tracking_total_items (key-client pairs; O(keys)), tracking_total_prefixes. */
export function trackingTotals(server: ServerContext): { clients: number; keys: number; items: number; prefixes: number } {
  const t = server.registry.get('tracking') as Tracking | undefined;
  if (t === undefined) return { clients: 0, keys: 0, items: 0, prefixes: 0 };
  let items = 0;
  for (const ids of t.table.values()) items += ids.size;
  return { clients: t.clients.size, keys: t.table.size, items, prefixes: t.prefixes.size };
}

/** The client's tracking state if tracking is on. */
export function trackState(server: ServerContext, c: ClientState): TrackState | undefined {
  return (server.registry.get('tracking') as Tracking | undefined)?.state(c);
}

/** Turns tracking off for the client (CLIENT TRACKING OFF, RESET, disconnect). */
export function disableTracking(server: ServerContext, c: ClientState): void {
  (server.registry.get('tracking') as Tracking | undefined)?.disable(c);
}

/** Whether two prefixes overlap (one starts with the other): Redis's stringCheckPrefix. */
function overlap(a: string, b: string): boolean {
  const n = Math.min(a.length, b.length);
  return a.slice(0, n) === b.slice(0, n);
}

/** CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p …] [BCAST] [OPTIN] [OPTOUT] [NOLOOP], with Redis 7.0's checks in its order. */
export function clientTracking(args: string[], w: ReplyWriter, ctx: CommandContext): void {
  const { client, server } = ctx;
  let redirect = 0;
  const opts = { bcast: false, optin: false, optout: false, noloop: false };
  const prefixes: string[] = [];
  for (let j = 3; j < args.length; j++) {
    const a = args[j].toLowerCase();
    const more = args.length - 1 - j;
    if (a === 'redirect' && more > 0) {
      j++;
      if (redirect !== 0) return err(w, 'ERR A client can only redirect to a single other client');
      const v = args[j];
      const n = /^-?(0|[1-9][0-9]{0,18})$/.test(v) ? Number(v) : NaN;
      if (!Number.isSafeInteger(n)) return err(w, 'ERR value is not an integer or out of range');
      if (server.clientById(n) === undefined) return err(w, 'ERR The client ID you want redirect to does not exist');
      redirect = n;
    } else if (a === 'bcast') opts.bcast = true;
    else if (a === 'optin') opts.optin = true;
    else if (a === 'optout') opts.optout = true;
    else if (a === 'noloop') opts.noloop = true;
    else if (a === 'prefix' && more > 0) prefixes.push(args[++j]);
    else return err(w, 'ERR syntax error');
  }
  const onOff = args[2].toLowerCase();
  if (onOff === 'on') {
    const st = trackState(server, client);
    if (!opts.bcast && prefixes.length > 0) return err(w, 'ERR PREFIX option requires BCAST mode to be enabled');
    if (st !== undefined && st.bcast !== opts.bcast) {
      return err(w, "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.");
    }
    if (opts.bcast && (opts.optin || opts.optout)) return err(w, 'ERR OPTIN and OPTOUT are not compatible with BCAST');
    if (opts.optin && opts.optout) return err(w, "ERR You can't specify both OPTIN mode and OPTOUT mode");
    if (st !== undefined && ((opts.optin && st.optout) || (opts.optout && st.optin))) {
      return err(w, "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.");
    }
    if (opts.bcast) {
      for (let i = 0; i < prefixes.length; i++) {
        if (st !== undefined) {
          for (const old of [...st.prefixes].sort()) {
            if (overlap(old, prefixes[i])) {
              return err(w, `ERR Prefix '${prefixes[i]}' overlaps with an existing prefix '${old}'. Prefixes for a single client must not overlap.`);
            }
          }
        }
        for (let j = i + 1; j < prefixes.length; j++) {
          if (overlap(prefixes[i], prefixes[j])) {
            return err(w, `ERR Prefix '${prefixes[i]}' overlaps with another provided prefix '${prefixes[j]}'. Prefixes for a single client must not overlap.`);
          }
        }
      }
    }
    trackingOf(server).enable(client, redirect, opts, prefixes);
  } else if (onOff === 'off') {
    disableTracking(server, client);
  } else return err(w, 'ERR syntax error');
  w.status('OK');
}

/** CLIENT CACHING YES|NO. */
export function clientCaching(args: string[], w: ReplyWriter, ctx: CommandContext): void {
  const st = trackState(ctx.server, ctx.client);
  if (st === undefined) {
    return err(w, 'ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled');
  }
  const opt = args[2].toLowerCase();
  if (opt === 'yes') {
    if (!st.optin) return err(w, 'ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.');
  } else if (opt === 'no') {
    if (!st.optout) return err(w, 'ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.');
  } else return err(w, 'ERR syntax error');
  st.caching = true;
  w.status('OK');
}

/** CLIENT GETREDIR: the redirect id, 0 without one, -1 when tracking is off. */
export function clientGetRedir(w: ReplyWriter, ctx: CommandContext): void {
  const st = trackState(ctx.server, ctx.client);
  w.int(st === undefined ? -1 : st.redirect);
}

/** CLIENT TRACKINGINFO: flags (a set), redirect, prefixes (sorted, as Redis's rax). */
export function clientTrackingInfo(w: ReplyWriter, ctx: CommandContext): void {
  const st = trackState(ctx.server, ctx.client);
  const flags: string[] = [st === undefined ? 'off' : 'on'];
  if (st !== undefined) {
    if (st.bcast) flags.push('bcast');
    if (st.optin) flags.push('optin', ...(st.caching ? ['caching-yes'] : []));
    if (st.optout) flags.push('optout', ...(st.caching ? ['caching-no'] : []));
    if (st.noloop) flags.push('noloop');
    if (st.brokenRedir) flags.push('broken_redirect');
  }
  w.map(3);
  w.str('flags');
  w.set(flags.length);
  for (const f of flags) w.str(f);
  w.str('redirect');
  w.int(st === undefined ? -1 : st.redirect);
  w.str('prefixes');
  const prefixes = st === undefined ? [] : [...st.prefixes].sort();
  w.arr(prefixes.length);
  for (const p of prefixes) w.str(p);
}

/** CLIENT LIST's tracking flags (t, R, B) and redir=. */
export function trackingListFields(server: ServerContext, c: ClientState): { flags: string; redir: number } {
  const st = trackState(server, c);
  if (st === undefined) return { flags: '', redir: -1 };
  return { flags: 't' + (st.brokenRedir ? 'R' : '') + (st.bcast ? 'B' : ''), redir: st.redirect };
}
