// Lua scripting with Redis 7.0's semantics: EVAL, EVALSHA, EVAL_RO,
// EVALSHA_RO and SCRIPT LOAD/EXISTS/FLUSH/KILL/HELP. The VM and the
// conversions live in src/scripting/; here: argument checks, the script's
// client, and how a script's redis.call reaches the command table (through
// dispatch's `execute`, as a client's command would, atomically: the whole
// script runs inside this one command).

import type { ReplyWriter } from '../../protocol/reply.js';
import { ScriptEngine, ScriptError, type ScriptFlags, type ScriptRun } from '../../scripting/engine.js';
import { globMatch } from './keys.js';
import { parseInt64 } from '../args.js';
import { NO_KEYS, err } from '../common.js';
import { execute } from '../dispatch.js';
import { OOM_ERROR } from '../../servers/memory.js';
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
  const n = Number(numkeys);
  const run = newRun(sha, ctx, readOnlyCmd || flags.noWrites, commands);
  engine.beginRun();
  engine.exec(sha, args.slice(3, 3 + n), args.slice(3 + n), w, run);
}

/** A run's context: its time limit, and the script's own client through which its redis.call commands run. */
function newRun(name: string, ctx: CommandContext, readOnly: boolean, commands: () => Map<string, CommandSpec>): ScriptRun {
  const limit = timeLimit(ctx.server);
  const run: ScriptRun = {
    name,
    resp: 2,
    deadline: Date.now() + limit,
    limitMs: limit,
    killed: false,
    call: (cargs, cw) => scriptCall(cargs, cw, scriptCtx, readOnly, commands),
    onResp: (v) => (client.resp = v),
  };
  // The script's own client: the caller's identity, its own RESP version (redis.setresp), never in MULTI, never blocking.
  const client = Object.create(ctx.client) as ClientState;
  client.resp = 2;
  client.inExec = true;
  client.multi = null;
  client.waiting = false;
  const scriptCtx: CommandContext = { store: ctx.store, client, server: ctx.server, hooks: ctx.hooks, persistence: ctx.persistence, counters: ctx.counters };
  return run;
}

/** FCALL / FCALL_RO name numkeys keys… args…. */
function fcallGeneric(args: string[], w: ReplyWriter, ctx: CommandContext, readOnlyCmd: boolean, commands: () => Map<string, CommandSpec>): void {
  const engine = engineOf(ctx.server);
  const fn = engine.functions.get(args[1].toLowerCase());
  if (fn === undefined) return err(w, 'ERR Function not found');
  const numkeys = parseInt64(args[2]);
  if (numkeys === null) return err(w, 'ERR Bad number of keys provided');
  if (numkeys > args.length - 3) return err(w, "ERR Number of keys can't be greater than number of args");
  if (numkeys < 0) return err(w, "ERR Number of keys can't be negative");
  if (!fn.flags.noWrites && readOnlyCmd) return err(w, 'ERR Can not execute a script with write flag using *_ro command.');
  const n = Number(numkeys);
  const run = newRun(fn.name, ctx, readOnlyCmd || fn.flags.noWrites, commands);
  engine.beginRun();
  engine.fcall(fn, args.slice(3, 3 + n), args.slice(3 + n), w, run);
}

const FUNCTION_ARITY: Record<string, number> = { load: -3, list: -2, delete: 3, flush: -2, kill: 2, stats: 2, help: 2, dump: 2, restore: -3 };

const FLAG_WORDS: [keyof ScriptFlags, string][] = [
  ['noWrites', 'no-writes'],
  ['allowOom', 'allow-oom'],
  ['allowStale', 'allow-stale'],
  ['noCluster', 'no-cluster'],
  ['allowCrossSlot', 'allow-cross-slot-keys'],
];

function functionCommand(args: string[], w: ReplyWriter, ctx: CommandContext): void {
  const sub = args[1].toLowerCase();
  const arity = FUNCTION_ARITY[sub];
  if (arity === undefined) return err(w, `ERR unknown subcommand '${args[1].slice(0, 128)}'. Try FUNCTION HELP.`);
  if (arity > 0 ? args.length !== arity : args.length < -arity) return err(w, `ERR wrong number of arguments for 'function|${sub}' command`);
  const engine = engineOf(ctx.server);
  switch (sub) {
    case 'load': {
      let replace = false;
      let i = 2;
      for (; i < args.length - 1; i++) {
        if (args[i].toLowerCase() === 'replace') replace = true;
        else return err(w, `ERR Unknown option given: ${args[i]}`);
      }
      if (i !== args.length - 1) return err(w, 'ERR Function code is missing');
      try {
        return w.str(engine.loadLibrary(args[i], replace));
      } catch (e) {
        if (e instanceof ScriptError) return err(w, e.message);
        throw e;
      }
    }
    case 'list': {
      let pattern: string | null = null;
      let withCode = false;
      for (let i = 2; i < args.length; i++) {
        const a = args[i].toLowerCase();
        if (a === 'withcode' && !withCode) withCode = true;
        else if (a === 'libraryname' && pattern === null && i + 1 < args.length) pattern = args[++i];
        else if (a === 'withcode') return err(w, 'ERR Unknown argument withcode');
        else if (a === 'libraryname' && pattern !== null) return err(w, 'ERR library name argument was already given');
        else if (a === 'libraryname') return err(w, 'ERR library name argument was not given');
        else return err(w, `ERR Unknown argument ${args[i]}`);
      }
      const libs = [...engine.libraries.values()].filter((l) => pattern === null || globMatch(pattern, l.name, true));
      w.arr(libs.length);
      for (const lib of libs) {
        w.map(withCode ? 4 : 3);
        w.str('library_name');
        w.str(lib.name);
        w.str('engine');
        w.str('LUA');
        w.str('functions');
        w.arr(lib.functions.length);
        for (const f of lib.functions) {
          w.map(3);
          w.str('name');
          w.str(f.name);
          w.str('description');
          if (f.description === null) w.nil();
          else w.str(f.description);
          w.str('flags');
          const set = FLAG_WORDS.filter(([k]) => f.flags[k]).map(([, word]) => word);
          w.set(set.length);
          for (const word of set) w.status(word);
        }
        if (withCode) {
          w.str('library_code');
          w.str(lib.code);
        }
      }
      return;
    }
    case 'delete':
      return engine.deleteLibrary(args[2]) ? w.status('OK') : err(w, 'ERR Library not found');
    case 'flush':
      if (args.length > 3 || (args.length === 3 && !['sync', 'async'].includes(args[2].toLowerCase()))) {
        return err(w, 'ERR FUNCTION FLUSH only supports SYNC|ASYNC option');
      }
      engine.flushFunctions();
      return w.status('OK');
    case 'kill':
      return err(w, 'NOTBUSY No scripts in execution right now.');
    case 'stats':
      w.map(2);
      w.str('running_script');
      w.nil();
      w.str('engines');
      w.map(1);
      w.str('LUA');
      w.map(2);
      w.str('libraries_count');
      w.int(engine.libraries.size);
      w.str('functions_count');
      w.int(engine.functions.size);
      return;
    case 'dump':
    case 'restore':
      return err(w, `ERR FUNCTION ${sub.toUpperCase()} is not supported by redloop yet`);
    case 'help':
      w.arr(FUNCTION_HELP.length);
      for (const line of FUNCTION_HELP) w.status(line);
      return;
  }
}

const FUNCTION_HELP = [
  "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "LOAD [REPLACE] <FUNCTION CODE>",
  "    Create a new library with the given library name and code.",
  "DELETE <LIBRARY NAME>",
  "    Delete the given library.",
  "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
  "    Return general information on all the libraries:",
  "    * Library name",
  "    * The engine used to run the Library",
  "    * Library description",
  "    * Functions list",
  "    * Library code (if WITHCODE is given)",
  "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
  "STATS",
  "    Return information about the current function running:",
  "    * Function name",
  "    * Command used to run the function",
  "    * Duration in MS that the function is running",
  "    If no function is running, return nil",
  "    In addition, returns a list of available engines.",
  "KILL",
  "    Kill the current running function.",
  "FLUSH [ASYNC|SYNC]",
  "    Delete all the libraries.",
  "    When called without the optional mode argument, the behavior is determined by the",
  "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
  "    * ASYNC: Asynchronously flush the libraries.",
  "    * SYNC: Synchronously flush the libraries.",
  "DUMP",
  "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
  "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
  "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
  "    control how to handle existing libraries (default APPEND):",
  "    * FLUSH: delete all existing libraries.",
  "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
  "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
  "      libraries with the new libraries (notice that even on this option there is a chance of failure",
  "      in case of functions name collision with another library).",
  "HELP",
  "    Prints this help.",
];

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
  // As Redis's scriptVerifyOOM: a denyoom command is refused if memory was over maxmemory when the script began.
  // Beyond Redis: a script looping over writes must not fill V8's heap either (src/servers/heap.ts).
  if (spec.denyoom === true && (ctx.server.memory.oomBeforeCommand || ctx.server.memory.scriptWriteRefused())) return err(w, OOM_ERROR);
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
      name: 'fcall',
      arity: -3,
      flags: ['noscript', 'stale', 'skip_monitor', 'may_replicate', 'no_mandatory_keys', 'movablekeys'],
      ...EVAL_KEYS,
      run: (args, w, ctx) => fcallGeneric(args, w, ctx, false, commands),
    },
    {
      name: 'fcall_ro',
      arity: -3,
      flags: ['noscript', 'stale', 'skip_monitor', 'no_mandatory_keys', 'readonly', 'movablekeys'],
      ...EVAL_KEYS,
      run: (args, w, ctx) => fcallGeneric(args, w, ctx, true, commands),
    },
    {
      name: 'function',
      arity: -2,
      flags: ['noscript'],
      ...NO_KEYS,
      run: functionCommand,
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
