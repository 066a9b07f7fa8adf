// Looks a request's command up in a protocol's table, checks arity and
// authentication, and runs it. Each protocol's table words its own errors.

import type { ReplyWriter } from '../protocol/reply.js';
import type { CommandContext, CommandSpec, CommandTable } from './types.js';

/** Runs args (name first) against the table; writes exactly one reply. */
export function dispatch(table: CommandTable, args: string[], w: ReplyWriter, ctx: CommandContext): void {
  const name = args[0];
  const spec = table.commands.get(name) ?? table.commands.get(name.toLowerCase());
  if (spec === undefined) {
    table.unknownCommand(args, w);
    return;
  }
  const n = args.length;
  if (spec.arity > 0 ? n !== spec.arity : n < -spec.arity) {
    table.wrongArity(spec, args, w);
    return;
  }
  if (!ctx.client.authenticated && spec.noauth !== true) {
    table.noAuth(w);
    return;
  }
  ctx.client.lastCommand = spec.name;
  spec.run(args, w, ctx);
}

/** Builds a name → spec map holding both lower- and upper-case names (no lowercasing on the hot path). */
export function commandMap(specs: readonly CommandSpec[]): Map<string, CommandSpec> {
  const m = new Map<string, CommandSpec>();
  for (const s of specs) {
    m.set(s.name, s);
    m.set(s.name.toUpperCase(), s);
  }
  return m;
}
