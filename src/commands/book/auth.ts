// The book protocol's `auth <password>`: with --requirepass set, every other
// command is refused (err "NOAUTH ...", from dispatch) until this succeeds.

import { createHash, timingSafeEqual } from 'node:crypto';
import { ErrCode } from '../../protocol/reply.js';
import type { CommandSpec } from '../types.js';

/** Compares without leaking, through timing, how much of the password matched. */
export function passwordMatches(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'latin1').digest();
  const b = createHash('sha256').update(expected, 'latin1').digest();
  return timingSafeEqual(a, b);
}

export const bookAuthCommands: CommandSpec[] = [
  {
    name: 'auth',
    arity: 2,
    noauth: true,
    run(args, w, { client, server }) {
      const pass = server.requirePass;
      if (pass === null) {
        return w.err(ErrCode.BadArg, 'AUTH called without any password configured (start the server with --requirepass)');
      }
      if (!passwordMatches(args[1], pass)) {
        // As Redis: a failed AUTH leaves an authenticated connection authenticated.
        return w.err(ErrCode.BadArg, 'WRONGPASS invalid password');
      }
      client.authenticated = true;
      w.status('OK');
    },
  },
];
