// The RESP command table. (STUB: to be written.)

import { ErrCode } from '../../protocol/reply.js';
import { commandMap } from '../dispatch.js';
import type { CommandTable } from '../types.js';

export const respTable: CommandTable = {
  commands: commandMap([]),
  unknownCommand(args, w) {
    w.err(ErrCode.Unknown, `ERR unknown command '${args[0]}'`);
  },
  wrongArity(spec, _args, w) {
    w.err(ErrCode.Unknown, `ERR wrong number of arguments for '${spec.name}' command`);
  },
  noAuth(w) {
    w.err(ErrCode.Unknown, 'NOAUTH Authentication required.');
  },
};
