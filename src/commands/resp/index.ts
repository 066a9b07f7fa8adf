// The RESP command table: Redis 7's commands with Redis's semantics, and
// dispatch errors worded exactly as Redis 7 words them. Hashes and lists are
// shared with the book protocol (src/commands/hash.ts, list.ts).

import { ErrCode } from '../../protocol/reply.js';
import { commandMap } from '../dispatch.js';
import { applyMeta } from '../meta.js';
import { hashCommands } from '../hash.js';
import { listCommands } from '../list.js';
import type { CommandSpec, CommandTable } from '../types.js';
import { respBitCommands } from './bits.js';
import { respGeoCommands } from './geo.js';
import { respHllCommands } from './hll.js';
import { respKeyCommands } from './keys.js';
import { respScanCommands } from './scan.js';
import { respObjectCommands } from './object.js';
import { respSortCommands } from './sort.js';
import { respServerCommands } from './server.js';
import { respPersistCommands } from './persist.js';
import { respClientCommands } from './client.js';
import { respPubsubCommands } from './pubsub.js';
import { transactionCommands } from '../multi.js';
import { setCommands } from '../set.js';
import { respStringCommands } from './strings.js';
import { respZsetCommands } from './zset.js';
import { respBlockingCommands } from './blocking.js';
import { respScriptingCommands } from './scripting.js';
import { respStreamCommands } from './stream.js';
import { debugCommand } from './debug.js';
import { respMemoryCommands } from './memory.js';

/** printf's "%.*s": at most n bytes, and a C string ends at its first NUL. */
function cString(s: string, n: number): string {
  const nul = s.indexOf('\0');
  return (nul >= 0 ? s.slice(0, nul) : s).slice(0, Math.max(0, n));
}

/**
 * Redis 7's unknown-command error: the name (128 bytes at most) and the first
 * arguments, quoted, while their text is under 128 bytes, e.g.
 * `ERR unknown command 'foo', with args beginning with: 'a' 'b' `.
 */
export function unknownCommandMessage(args: string[]): string {
  let rest = '';
  for (let i = 1; i < args.length && rest.length < 128; i++) rest += `'${cString(args[i], 128 - rest.length)}' `;
  return `ERR unknown command '${cString(args[0], 128)}', with args beginning with: ${rest}`;
}

export const respCommands: CommandSpec[] = [
  ...respStringCommands,
  ...respBitCommands,
  ...respHllCommands,
  ...respGeoCommands,
  ...respKeyCommands,
  ...respScanCommands,
  ...respObjectCommands,
  ...respSortCommands,
  ...setCommands,
  ...respZsetCommands,
  ...hashCommands,
  ...listCommands,
  ...respBlockingCommands,
  ...respStreamCommands,
  ...respMemoryCommands,
  ...respServerCommands(() => respTable.commands),
  ...respPersistCommands,
  ...respClientCommands(() => respTable.commands),
  ...transactionCommands,
  ...respPubsubCommands,
  ...respScriptingCommands(() => respTable.commands),
  debugCommand,
];

export const respTable: CommandTable = {
  commands: commandMap(respCommands, applyMeta),
  unknownCommand(args, w) {
    w.err(ErrCode.Unknown, unknownCommandMessage(args));
  },
  wrongArity(spec, _args, w) {
    w.err(ErrCode.Unknown, `ERR wrong number of arguments for '${spec.name}' command`);
  },
  noAuth(w) {
    w.err(ErrCode.Unknown, 'NOAUTH Authentication required.');
  },
};
