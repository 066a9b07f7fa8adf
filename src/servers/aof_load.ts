// Replaying an AOF at start-up: each logged command runs through dispatch as
// a client's would, from a fake client whose replies go nowhere (Redis's
// createAOFClient). Kept apart from aof.ts so that the AOF's file work does
// not depend on the command tables.

import { dispatch, lookup } from '../commands/dispatch.js';
import { respTable } from '../commands/resp/index.js';
import type { CommandContext } from '../commands/types.js';
import type { ReplyWriter } from '../protocol/reply.js';
import type { ServerState } from './state.js';

const discard = (): void => {};
/** Error replies of the commands replayed (Redis ignores them too; the load logs how many). */
let errors = 0;
let firstError = '';
/** A reply writer that drops everything (a replayed command's reply has no reader) but counts errors. */
const nowhere: ReplyWriter = {
  nil: discard,
  err: (_code, msg) => {
    if (errors++ === 0) firstError = msg;
  },
  str: discard,
  bytes: discard,
  status: discard,
  int: discard,
  dbl: discard,
  dblText: discard,
  arr: discard,
  nilArr: discard,
  map: discard,
  set: discard,
  bool: discard,
  verbatim: discard,
  bigNumber: discard,
  push: discard,
  pairs: discard,
  pair: discard,
};

/** Loads what is on disk (AOF or RDB, as the settings say) into the state's keyspace. Throws on a bad file. */
export function loadDataAtStartup(state: ServerState): void {
  if (!state.settings.appendOnly) {
    state.loadData(() => null);
    return;
  }
  const client = state.newClient(0, () => 'aof-loader', 'resp');
  client.authenticated = true;
  const ctx: CommandContext = {
    store: state.store,
    client,
    server: state.context,
    hooks: state.context.hooks,
    persistence: state.context.persistence,
    counters: state.context.counters,
  };
  errors = 0;
  try {
    state.loadData((args) => {
      // As Redis: a command it does not know stops the load (its data would be lost silently).
      const spec = lookup(respTable, args[0]);
      if (spec === undefined) return `unknown command '${args[0]}'`;
      // A database this server does not have: its data could be put nowhere (Redis stops too).
      if (spec.name === 'select') {
        const n = args.length === 2 && /^(0|[1-9][0-9]*)$/.test(args[1]) ? Number(args[1]) : -1;
        if (n < 0 || n >= state.databases.length) return `it selects database ${args[1] ?? ''}, and this server has ${state.databases.length} (databases)`;
      }
      // Blocking commands behave as their non-blocking forms (they ran with data there).
      client.inExec = true;
      dispatch(respTable, args, nowhere, ctx);
      return null;
    });
    if (errors > 0) state.log(`${errors} commands replayed from the AOF answered an error (ignored, as Redis does); the first: ${firstError}`);
    // INFO commandstats/errorstats start from the clients' commands, not the replay's.
    state.context.counters.reset();
  } finally {
    state.clientClosed(client);
    state.context.stats.totalConnections--;
  }
}
