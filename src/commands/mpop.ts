// The arguments LMPOP, BLMPOP, ZMPOP and BZMPOP share, parsed as Redis 7.0's
// lmpopGenericCommand / zmpopGenericCommand parse them:
//   numkeys key [key ...] <end> [COUNT count]
// where <end> is LEFT|RIGHT (lists) or MIN|MAX (sorted sets). The blocking forms
// put their timeout before numkeys and pass numkeys' index.

import type { ReplyWriter } from '../protocol/reply.js';
import { SYNTAX, parseInt64 } from './args.js';
import { err, isOpt } from './common.js';

export const NUMKEYS_NOT_POSITIVE = 'ERR numkeys should be greater than 0';
export const COUNT_NOT_POSITIVE = 'ERR count should be greater than 0';

export interface MpopRequest<End extends string> {
  readonly keys: string[];
  /** Which end to pop from: the first of the two tokens (LEFT, MIN) or the second (RIGHT, MAX), lower case. */
  readonly end: End;
  /** COUNT's value (≥ 1); 1 when COUNT is not given. */
  readonly count: number;
}

/**
 * Parses `numkeys key... <end> [COUNT count]` from args[numkeysIndex] on.
 * `ends` are the two end tokens in lower case, e.g. ['left', 'right'].
 * Errors, in Redis's order: numkeys not an integer ≥ 1 ("numkeys should be
 * greater than 0", for "abc" too); fewer arguments than numkeys announces,
 * an unknown end, anything but one COUNT after it, a second COUNT (syntax
 * error); COUNT not an integer ≥ 1 ("count should be greater than 0").
 * Writes the error and returns null.
 */
export function mpopParse<End extends string>(
  args: string[],
  numkeysIndex: number,
  ends: readonly [End, End],
  w: ReplyWriter,
): MpopRequest<End> | null {
  const numkeys = parseInt64(args[numkeysIndex]);
  if (numkeys === null || numkeys < 1) {
    err(w, NUMKEYS_NOT_POSITIVE);
    return null;
  }
  // The end token follows the keys; a numkeys reaching past the arguments is a syntax error.
  const endIndex = numkeysIndex + 1 + Number(numkeys);
  if (endIndex >= args.length) {
    err(w, SYNTAX);
    return null;
  }
  const endArg = args[endIndex];
  const end = isOpt(endArg, ends[0]) ? ends[0] : isOpt(endArg, ends[1]) ? ends[1] : null;
  if (end === null) {
    err(w, SYNTAX);
    return null;
  }
  let count = -1;
  for (let j = endIndex + 1; j < args.length; j++) {
    if (count === -1 && isOpt(args[j], 'count') && j + 1 < args.length) {
      const c = parseInt64(args[++j]);
      if (c === null || c < 1) {
        err(w, COUNT_NOT_POSITIVE);
        return null;
      }
      count = Number(c);
    } else {
      err(w, SYNTAX);
      return null;
    }
  }
  return { keys: args.slice(numkeysIndex + 1, endIndex), end, count: count === -1 ? 1 : count };
}
