// Replaying an AOF at start-up: each logged command runs through dispatch as
// a client's would, from a fake client whose replies go nowhere (Redis's
// createAOFClient). Kept apart from aof.ts so that the AOF's file work does
// not depend on the command tables.

import { dispatch } from '../commands/dispatch.js';
import { respTable } from '../commands/resp/index.js';
import type { CommandContext } from '../commands/types.js';
import type { ReplyWriter } from '../protocol/reply.js';
import type { ServerState } from './state.js';

const discard = (): void => {};
/** A reply writer that drops everything (a replayed command's reply has no reader). */
const nowhere: ReplyWriter = {
  nil: discard,
  err: discard,
  str: discard,
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
    state.loadData(() => {});
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
  try {
    state.loadData((args) => {
      // Blocking commands behave as their non-blocking forms (they ran with data there).
      client.inExec = true;
      dispatch(respTable, args, nowhere, ctx);
    });
  } finally {
    state.clientClosed(client);
    state.context.stats.totalConnections--;
  }
}
