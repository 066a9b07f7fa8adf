// The book's key commands, with the book's semantics: get, set (reply nil),
// del (one key), keys (no pattern), pexpire (ms < 0 removes the TTL), pttl.

import { ErrCode } from '../../protocol/reply.js';
import { Bytes } from '../../store/bytes.js';
import { parseInt64, wrongType } from '../args.js';
import type { CommandSpec } from '../types.js';
import { notify, NOTIFY_GENERIC, NOTIFY_STRING } from '../notify.js';

export const bookStringCommands: CommandSpec[] = [
  {
    name: 'get',
    arity: 2,
    run(args, w, { store }) {
      const v = store.getRaw(args[1]);
      if (v === undefined) w.nil();
      else if (typeof v === 'string') w.str(v);
      else if (v instanceof Bytes) w.bytes(v.buf, v.length);
      else wrongType(w);
    },
  },
  {
    name: 'set',
    arity: 3,
    flags: ['write', 'denyoom'],
    run(args, w, ctx) {
      const { store } = ctx;
      const v = store.getRaw(args[1]);
      if (v !== undefined && typeof v !== 'string' && !(v instanceof Bytes)) return wrongType(w);
      store.put(args[1], args[2]); // the book updates the value in place: a TTL stays
      notify(ctx, NOTIFY_STRING, 'set', args[1]);
      w.nil();
    },
  },
  {
    name: 'del',
    arity: 2,
    flags: ['write'],
    run(args, w, ctx) {
      if (!ctx.store.delete(args[1])) return w.int(0);
      notify(ctx, NOTIFY_GENERIC, 'del', args[1]);
      w.int(1);
    },
  },
  {
    name: 'keys',
    arity: 1,
    run(_args, w, { store }) {
      const keys = [...store.keys()];
      w.arr(keys.length);
      for (const k of keys) w.str(k);
    },
  },
  {
    name: 'pexpire',
    arity: 3,
    flags: ['write', 'fast'],
    run(args, w, ctx) {
      const { store } = ctx;
      const ms = parseInt64(args[2]);
      if (ms === null) return w.err(ErrCode.BadArg, 'expect int64');
      // A deadline must fit the clock (ms as a double, exact below 2^53).
      if (ms > Number.MAX_SAFE_INTEGER - store.now()) return w.err(ErrCode.BadArg, "invalid expire time in 'pexpire' command");
      if (!store.has(args[1])) return w.int(0);
      if (ms < 0) {
        if (store.clearDeadline(args[1])) notify(ctx, NOTIFY_GENERIC, 'persist', args[1]);
      } else {
        store.setDeadline(args[1], store.now() + Number(ms));
        notify(ctx, NOTIFY_GENERIC, 'expire', args[1]);
      }
      w.int(1);
    },
  },
  {
    name: 'pttl',
    arity: 2,
    run(args, w, { store }) {
      w.int(store.pttl(args[1]));
    },
  },
];
