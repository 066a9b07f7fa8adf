// The book protocol's command table: the book's commands with the book's
// semantics, plus hashes, lists and sets with Redis's names and reply types.
// Dispatch errors use the book's code 1 (unknown command / wrong arity).

import { ErrCode } from '../../protocol/reply.js';
import { commandMap } from '../dispatch.js';
import { hashCommands } from '../hash.js';
import { listCommands } from '../list.js';
import { setCommands } from '../set.js';
import type { CommandSpec, CommandTable } from '../types.js';
import { bookAuthCommands } from './auth.js';
import { transactionCommands } from '../multi.js';
import { bookStringCommands } from './strings.js';
import { bookZsetCommands } from './zset.js';

export const bookCommands: CommandSpec[] = [
  ...bookStringCommands,
  ...bookZsetCommands,
  ...hashCommands,
  ...listCommands,
  ...setCommands,
  ...bookAuthCommands,
  // MULTI/EXEC fit the book's framing: EXEC's reply is one arr of the queued replies.
  ...transactionCommands,
];

export const bookTable: CommandTable = {
  commands: commandMap(bookCommands),
  unknownCommand(_args, w) {
    w.err(ErrCode.Unknown, 'unknown command');
  },
  wrongArity(spec, _args, w) {
    w.err(ErrCode.Unknown, `wrong number of arguments for '${spec.name}' command`);
  },
  noAuth(w) {
    w.err(ErrCode.Unknown, "NOAUTH Authentication required: send 'auth <password>' first.");
  },
};
