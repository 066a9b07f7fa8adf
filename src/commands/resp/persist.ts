// Persistence commands: SAVE, BGSAVE [SCHEDULE], BGREWRITEAOF (in the
// background), LASTSAVE, SHUTDOWN, DUMP and RESTORE, with Redis 7.0's arguments,
// replies and errors. The RDB codec is src/persist/rdb.ts and the file work is the
// server's (ctx.server.persistence); commands see neither files nor sockets.

import { NOT_INTEGER, SYNTAX, parseInt64 } from '../args.js';
import { KEY1, NO_KEYS, deadlineFromUnixMs, err, isOpt, unixNowMs } from '../common.js';
import type { CommandSpec, ShutdownFlags } from '../types.js';
import { shutdownDuringScript } from './scripting.js';
import { notify, NOTIFY_GENERIC } from '../notify.js';
import { DumpError, RdbUnsupportedError, dumpPayload, restorePayload } from '../../persist/rdb.js';

export const respPersistCommands: CommandSpec[] = [
  {
    name: 'save',
    arity: 1,
    flags: ['admin', 'noscript', 'no_async_loading', 'no_multi'],
    noMulti: true,
    ...NO_KEYS,
    run(_args, w, { server }) {
      if (server.persistence.bgsaveInProgress) return err(w, 'ERR Background save already in progress');
      // Redis answers a failed SAVE with a bare "-ERR" and logs why; so do we.
      if (server.persistence.save() === null) w.status('OK');
      else err(w, 'ERR');
    },
  },
  {
    name: 'bgsave',
    arity: -1,
    flags: ['admin', 'noscript', 'no_async_loading'],
    ...NO_KEYS,
    run(args, w, { server, client }) {
      if (args.length > 2 || (args.length === 2 && !isOpt(args[1], 'schedule'))) return err(w, SYNTAX);
      const r = server.persistence.bgsave(args.length === 2, client.inExec);
      if (r === 'started') w.status('Background saving started');
      else if (r === 'scheduled') w.status('Background saving scheduled');
      else err(w, `ERR ${r.error}`);
    },
  },
  {
    name: 'shutdown',
    arity: -1,
    flags: ['admin', 'noscript', 'loading', 'stale', 'no_multi', 'allow_busy'],
    noMulti: true,
    ...NO_KEYS,
    run(args, w, { server, client }) {
      const flags: ShutdownFlags = { nosave: false, save: false, now: false, force: false };
      let abort = false;
      for (let i = 1; i < args.length; i++) {
        const a = args[i].toLowerCase();
        if (a === 'nosave' || a === 'save' || a === 'now' || a === 'force') flags[a] = true;
        else if (a === 'abort') abort = true;
        else return err(w, SYNTAX);
      }
      if ((abort && (flags.nosave || flags.save || flags.now || flags.force)) || (flags.nosave && flags.save)) return err(w, SYNTAX);
      // A shutdown here never waits (no replicas to catch up), so there is never one to abort.
      if (abort) return err(w, 'ERR No shutdown in progress.');
      // A busy script: -BUSY, or with NOSAVE the script is stopped and the server goes down.
      const busy = shutdownDuringScript(server, flags.nosave);
      if (busy !== null) return err(w, busy);
      const why = server.persistence.shutdown(flags);
      if (why !== null) return err(w, `ERR ${why}`);
      // As Redis: no reply; the client waits until the server closes the connection.
      client.waiting = true;
    },
  },
  {
    name: 'bgrewriteaof',
    arity: 1,
    flags: ['admin', 'noscript', 'no_async_loading'],
    ...NO_KEYS,
    run(_args, w, { server, client }) {
      const r = server.aof.bgrewrite(client.inExec);
      if (r === 'started') w.status('Background append only file rewriting started');
      else if (r === 'scheduled') w.status('Background append only file rewriting scheduled');
      else err(w, `ERR ${r.error}`);
    },
  },
  {
    name: 'lastsave',
    arity: 1,
    flags: ['loading', 'stale', 'fast'],
    ...NO_KEYS,
    run(_args, w, { server }) {
      w.int(server.persistence.lastSaveUnixSec);
    },
  },
  {
    name: 'dump',
    arity: 2,
    flags: ['readonly'],
    ...KEY1,
    run(args, w, { store, server }) {
      const v = store.getRaw(args[1]);
      if (v === undefined) return w.nil();
      let payload: Uint8Array;
      try {
        payload = dumpPayload(v, { compression: server.persistence.rdbCompression });
      } catch (e) {
        if (e instanceof RdbUnsupportedError) return err(w, `ERR ${e.message}`);
        throw e;
      }
      w.str(Buffer.from(payload.buffer, payload.byteOffset, payload.length).toString('latin1'));
    },
  },
  {
    name: 'restore',
    arity: -4,
    flags: ['write', 'denyoom'],
    ...KEY1,
    run(args, w, ctx) {
      const { store } = ctx;
      // As Redis's restoreCommand: options, then the key, the TTL, the payload — in that order.
      let replace = false;
      let absttl = false;
      let idle = false;
      let freq = false;
      for (let j = 4; j < args.length; j++) {
        const more = args.length - j - 1;
        if (isOpt(args[j], 'replace')) replace = true;
        else if (isOpt(args[j], 'absttl')) absttl = true;
        else if (isOpt(args[j], 'idletime') && more >= 1 && !freq) {
          const v = parseInt64(args[++j]);
          if (v === null) return err(w, NOT_INTEGER);
          if (v < 0) return err(w, 'ERR Invalid IDLETIME value, must be >= 0');
          idle = true; // accepted and checked, not applied (README: RESTORE)
        } else if (isOpt(args[j], 'freq') && more >= 1 && !idle) {
          const v = parseInt64(args[++j]);
          if (v === null) return err(w, NOT_INTEGER);
          if (v < 0 || v > 255) return err(w, 'ERR Invalid FREQ value, must be >= 0 and <= 255');
          freq = true; // accepted and checked, not applied (README: RESTORE)
        } else return err(w, SYNTAX);
      }
      const key = args[1];
      if (!replace && store.has(key)) return err(w, 'BUSYKEY Target key name already exists.');
      const ttlArg = parseInt64(args[2]);
      if (ttlArg === null) return err(w, NOT_INTEGER);
      if (ttlArg < 0) return err(w, 'ERR Invalid TTL value, must be >= 0');
      let value;
      try {
        value = restorePayload(Buffer.from(args[3], 'latin1'));
      } catch (e) {
        if (e instanceof DumpError) return err(w, `ERR ${e.message}`);
        throw e;
      }
      const deleted = replace && store.delete(key);
      let ttl = Number(ttlArg);
      if (ttl !== 0 && !absttl) ttl += unixNowMs();
      if (ttl !== 0 && ttl <= unixNowMs()) {
        // Already expired (ABSTTL in the past): the old key is gone, nothing is stored.
        if (deleted) notify(ctx, NOTIFY_GENERIC, 'del', key);
        return w.status('OK');
      }
      store.put(key, value);
      if (ttl !== 0) store.setDeadline(key, deadlineFromUnixMs(store, ttl));
      notify(ctx, NOTIFY_GENERIC, 'restore', key);
      w.status('OK');
    },
  },
];
