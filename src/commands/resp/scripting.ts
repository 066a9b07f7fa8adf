// Lua scripting with Redis 7.0's semantics: EVAL, EVALSHA, EVAL_RO,
// EVALSHA_RO and SCRIPT LOAD/EXISTS/FLUSH/KILL/HELP. The VM and the
// conversions live in src/scripting/; here: argument checks, the script's
// client, and how a script's redis.call reaches the command table (through
// dispatch's `execute`, as a client's command would, atomically: the whole
// script runs inside this one command).

import type { ReplyWriter } from '../../protocol/reply.js';
import { ScriptEngine, ScriptError, type ScriptRun } from '../../scripting/engine.js';
import { parseInt64 } from '../args.js';
import { NO_KEYS, err } from '../common.js';
import { execute } from '../dispatch.js';
import type { ClientState, CommandContext, CommandSpec, ServerContext } from '../types.js';

const LEVELS = ['debug', 'verbose', 'notice', 'warning'];

/** The server's script engine, created on first use. */
export function engineOf(server: ServerContext): ScriptEngine {
  let e = server.registry.get('scripting') as ScriptEngine | undefined;
  if (e === undefined) {
    e = new ScriptEngine((level, line) => server.log?.(`<script ${LEVELS[level]}> ${line}`));
    server.registry.set('scripting', e);
  }
  return e;
}

/** The script time limit in ms (busy-reply-threshold; 0 or less: none). */
function timeLimit(server: ServerContext): number {
  const v = Number(server.config.get('busy-reply-threshold') ?? '5000');
  return Number.isFinite(v) && v > 0 ? v : Infinity;
}

/** Runs EVAL/EVALSHA(_RO): args are [name, script-or-sha, numkeys, keys…, args…]. */
function evalGeneric(args: string[], w: ReplyWriter, ctx: CommandContext, bySha: boolean, readOnlyCmd: boolean, commands: () => Map<string, CommandSpec>): void {
  const numkeys = parseInt64(args[2]);
  if (numkeys === null) return err(w, 'ERR value is not an integer or out of range');
  if (numkeys > args.length - 3) return err(w, "ERR Number of keys can't be greater than number of args");
  if (numkeys < 0) return err(w, "ERR Number of keys can't be negative");
  const engine = engineOf(ctx.server);
  let sha: string;
  if (bySha) {
    sha = args[1].toLowerCase();
    if (sha.length !== 40 || !engine.has(sha)) return err(w, 'NOSCRIPT No matching script. Please use EVAL.');
  } else {
    try {
      sha = engine.load(args[1]);
    } catch (e) {
      if (e instanceof ScriptError) return err(w, e.message);
      throw e;
    }
  }
  const flags = engine.flagsOf(sha)!;
  if (flags.shebang && !flags.noWrites && readOnlyCmd) return err(w, 'ERR Can not execute a script with write flag using *_ro command.');
  const readOnly = readOnlyCmd || flags.noWrites;
  const n = Number(numkeys);
  const keys = args.slice(3, 3 + n);
  const argv = args.slice(3 + n);
  const limit = timeLimit(ctx.server);
  const run: ScriptRun = {
    name: sha,
    resp: 2,
    deadline: Date.now() + limit,
    limitMs: limit,
    killed: false,
    call: (cargs, cw) => scriptCall(cargs, cw, scriptCtx, readOnly, commands),
  };
  // The script's own client: the caller's identity, its own RESP version (redis.setresp), never in MULTI, never blocking.
  const client = Object.create(ctx.client) as ClientState;
  Object.defineProperty(client, 'resp', { get: () => run.resp, set: () => {}, configurable: true });
  client.inExec = true;
  client.multi = null;
  client.waiting = false;
  const scriptCtx: CommandContext = { store: ctx.store, client, server: ctx.server };
  engine.beginRun();
  engine.exec(sha, keys, argv, w, run);
}

/** One redis.call from a script (Redis's scriptCall): the checks, then the command as a client would run it. */
function scriptCall(args: string[], w: ReplyWriter, ctx: CommandContext, readOnly: boolean, commands: () => Map<string, CommandSpec>): void {
  const table = commands();
  const spec = table.get(args[0]) ?? table.get(args[0].toLowerCase());
  if (spec === undefined) return err(w, 'ERR Unknown Redis command called from script');
  const n = args.length;
  if (spec.arity > 0 ? n !== spec.arity : n < -spec.arity) return err(w, 'ERR Wrong number of args calling Redis command from script');
  if (spec.subcommand !== undefined && !spec.subcommand(args, w)) return;
  const flags = spec.flags ?? [];
  if (flags.includes('noscript')) return err(w, 'ERR This Redis command is not allowed from script');
  if (readOnly && spec.write === true) return err(w, 'ERR Write commands are not allowed from read-only scripts.');
  ctx.client.lastCommand = spec.name;
  execute(spec, args, w, ctx);
}

const SCRIPT_HELP = [
  'SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'DEBUG (YES|SYNC|NO)',
  '    Set the debug mode for subsequent scripts executed.',
  'EXISTS <sha1> [<sha1> ...]',
  '    Return information about the existence of the scripts in the script cache.',
  'FLUSH [ASYNC|SYNC]',
  '    Flush the Lua scripts cache. Very dangerous on replicas.',
  '    When called without the optional mode argument, the behavior is determined by the',
  '    lazyfree-lazy-user-flush configuration directive. Valid modes are:',
  '    * ASYNC: Asynchronously flush the scripts cache.',
  '    * SYNC: Synchronously flush the scripts cache.',
  'KILL',
  '    Kill the currently executing Lua script.',
  'LOAD <script>',
  '    Load a script into the scripts cache without executing it.',
  'HELP',
  '    Prints this help.',
];

const SCRIPT_ARITY: Record<string, number> = { load: 3, exists: -3, flush: -2, kill: 2, help: 2 };

function scriptCommand(args: string[], w: ReplyWriter, ctx: CommandContext): void {
  const sub = args[1].toLowerCase();
  const arity = SCRIPT_ARITY[sub];
  if (arity === undefined) return err(w, `ERR unknown subcommand '${args[1].slice(0, 128)}'. Try SCRIPT HELP.`);
  if (arity > 0 ? args.length !== arity : args.length < -arity) return err(w, `ERR wrong number of arguments for 'script|${sub}' command`);
  const engine = engineOf(ctx.server);
  switch (sub) {
    case 'load':
      try {
        return w.str(engine.load(args[2]));
      } catch (e) {
        if (e instanceof ScriptError) return err(w, e.message);
        throw e;
      }
    case 'exists':
      w.arr(args.length - 2);
      for (let i = 2; i < args.length; i++) w.int(engine.has(args[i]) ? 1 : 0);
      return;
    case 'flush': {
      if (args.length > 3) return err(w, 'ERR SCRIPT FLUSH only support SYNC|ASYNC option');
      if (args.length === 3 && !['sync', 'async'].includes(args[2].toLowerCase())) return err(w, 'ERR SCRIPT FLUSH only support SYNC|ASYNC option');
      engine.flush();
      return w.status('OK');
    }
    case 'kill':
      // A script runs to completion inside one command: while another client's command runs, none is running.
      return err(w, 'NOTBUSY No scripts in execution right now.');
    case 'help':
      w.arr(SCRIPT_HELP.length);
      for (const line of SCRIPT_HELP) w.status(line);
      return;
  }
}

/** EVAL's keys: numkeys at 2, keys from 3 (COMMAND's movablekeys). */
const EVAL_KEYS = { firstKey: 0, lastKey: 0, keyStep: 0 } as const;

export function respScriptingCommands(commands: () => Map<string, CommandSpec>): CommandSpec[] {
  return [
    {
      name: 'eval',
      arity: -3,
      flags: ['noscript', 'stale', 'skip_monitor', 'may_replicate', 'no_mandatory_keys', 'movablekeys'],
      ...EVAL_KEYS,
      run: (args, w, ctx) => evalGeneric(args, w, ctx, false, false, commands),
    },
    {
      name: 'evalsha',
      arity: -3,
      flags: ['noscript', 'stale', 'skip_monitor', 'may_replicate', 'no_mandatory_keys', 'movablekeys'],
      ...EVAL_KEYS,
      run: (args, w, ctx) => evalGeneric(args, w, ctx, true, false, commands),
    },
    {
      name: 'eval_ro',
      arity: -3,
      flags: ['noscript', 'stale', 'skip_monitor', 'no_mandatory_keys', 'readonly', 'movablekeys'],
      ...EVAL_KEYS,
      run: (args, w, ctx) => evalGeneric(args, w, ctx, false, true, commands),
    },
    {
      name: 'evalsha_ro',
      arity: -3,
      flags: ['noscript', 'stale', 'skip_monitor', 'no_mandatory_keys', 'readonly', 'movablekeys'],
      ...EVAL_KEYS,
      run: (args, w, ctx) => evalGeneric(args, w, ctx, true, true, commands),
    },
    {
      name: 'script',
      arity: -2,
      flags: ['noscript'],
      ...NO_KEYS,
      run: scriptCommand,
    },
  ];
}
