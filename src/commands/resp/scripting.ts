// Lua scripting with Redis 7.0's semantics: EVAL, EVALSHA, EVAL_RO,
// EVALSHA_RO and SCRIPT LOAD/EXISTS/FLUSH/KILL/HELP. The VM and the
// conversions live in src/scripting/; here: argument checks, the script's
// client, and how a script's redis.call reaches the command table (through
// dispatch's `execute`, as a client's command would, atomically: the whole
// script runs inside this one command).

import type { ReplyWriter } from '../../protocol/reply.js';
import { ScriptEngine, ScriptError, type Compiled, type ScriptFlags, type ScriptRun } from '../../scripting/engine.js';
import { globMatch } from './keys.js';
import { DumpError, functionsPayload, readFunctionsPayload } from '../../persist/rdb.js';
import { parseInt64 } from '../args.js';
import { NO_KEYS, err } from '../common.js';
import { redisMeta } from '../meta.js';
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
  let script: Compiled | undefined;
  let sha: string;
  if (bySha) {
    sha = args[1];
    if (sha.length !== 40) return err(w, 'NOSCRIPT No matching script. Please use EVAL.');
    script = engine.script(sha) ?? engine.script((sha = sha.toLowerCase()));
    if (script === undefined) return err(w, 'NOSCRIPT No matching script. Please use EVAL.');
  } else {
    try {
      sha = engine.load(args[1]);
    } catch (e) {
      if (e instanceof ScriptError) return err(w, e.message);
      throw e;
    }
    script = engine.script(sha)!;
  }
  const flags = script.flags;
  if (flags.shebang && !flags.noWrites && readOnlyCmd) return err(w, 'ERR Can not execute a script with write flag using *_ro command.');
  const n = Number(numkeys);
  const run = newRun(sha, ctx, readOnlyCmd || flags.noWrites, commands, true, args);
  engine.beginRun();
  try {
    engine.execCompiled(script, args.slice(3, 3 + n), args.slice(3 + n), w, run);
  } finally {
    endRun(ctx, run);
  }
}

/** The script running now (one at a time: the server is single-threaded), for SCRIPT KILL and FUNCTION STATS. */
interface Running {
  readonly run: ScriptRun;
  /** EVAL (true) or FCALL. */
  readonly isEval: boolean;
  /** The command that runs it (FUNCTION STATS). */
  readonly args: string[];
  readonly startedMs: number;
  /** It called a write command: it can no longer be killed (UNKILLABLE). */
  dirty: boolean;
  /** Past busy-reply-threshold: the loop serves other clients from inside it. */
  busy: boolean;
}

function runningOf(server: ServerContext): Running | null {
  return (server.registry.get('scripting.running') as Running | undefined) ?? null;
}

const BUSY_EVAL = 'BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.';
const BUSY_FUNCTION = 'BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.';
/** What may run while a script is busy (Redis 7.0's CMD_ALLOW_BUSY, subcommands below). */
const ALLOW_BUSY = new Set(['auth', 'hello', 'quit', 'reset', 'multi', 'discard', 'watch', 'unwatch', 'replconf', 'shutdown']);

/** The script's run is over: leave busy mode; a script stopped by SHUTDOWN NOSAVE gets no reply (its client is closed, as Redis exits). */
function endRun(ctx: CommandContext, run: ScriptRun): void {
  const running = runningOf(ctx.server);
  if (running === null || running.run !== run) return;
  ctx.server.registry.delete('scripting.running');
  if (running.busy) {
    // (Stopped by SHUTDOWN NOSAVE: busy mode stays, so nothing the script did is served — no blocked
    // client gets the value it pushed — while the server closes; Redis exits at once.)
    if (run.killed !== 'shutdown') ctx.hooks.busy = null;
    ctx.server.log?.(`Slow script detected: still in execution after ${Math.round(Date.now() - running.startedMs)} milliseconds. ${run.killed === 'user' ? 'It was killed.' : run.killed === 'shutdown' ? 'The server is shutting down.' : 'It ended.'}`);
  }
  if (run.killed === 'shutdown') ctx.client.kill('SHUTDOWN NOSAVE');
}

/** Past the threshold, on every count hook: the first time enter busy mode; each time run a loop iteration. */
function overdue(ctx: CommandContext, running: Running, poll: () => void): void {
  if (!running.busy) {
    running.busy = true;
    ctx.server.log?.(
      `Slow script detected: still in execution after ${Math.round(Date.now() - running.startedMs)} milliseconds. ` +
        `You can try killing the script using the ${running.isEval ? 'SCRIPT KILL' : 'FUNCTION KILL'} command. Script name is: ${running.run.name}.`,
    );
    ctx.hooks.busy = (spec, args) => {
      if (ALLOW_BUSY.has(spec.name)) return null;
      const sub = args.length > 1 ? args[1].toLowerCase() : '';
      if (spec.name === 'script' && sub === 'kill') return null;
      if (spec.name === 'function' && (sub === 'kill' || sub === 'stats')) return null;
      return running.isEval ? BUSY_EVAL : BUSY_FUNCTION;
    };
  }
  poll();
}

/**
 * A run's context: its time limit, and the script's own client through which
 * its redis.call commands run. One object per run (a class: its methods are
 * shared, so a run allocates no closures); it is also the Running entry.
 */
class ScriptRunner implements ScriptRun, Running {
  resp: 2 | 3 = 2;
  killed: ScriptRun['killed'] = false;
  readonly deadline: number;
  readonly limitMs: number;
  readonly startedMs: number;
  readonly overdue: (() => void) | undefined;
  readonly args: string[];
  dirty = false;
  busy = false;
  private readonly scriptCtx: CommandContext;

  constructor(
    readonly name: string,
    private readonly ctx: CommandContext,
    private readonly readOnly: boolean,
    private readonly commands: () => Map<string, CommandSpec>,
    readonly isEval: boolean,
    args: string[],
  ) {
    const limit = timeLimit(ctx.server);
    this.startedMs = Date.now();
    this.deadline = this.startedMs + limit;
    this.limitMs = limit;
    this.args = args.slice();
    this.overdue = ctx.server.processEventsWhileBusy === null ? undefined : this.serveWhileBusy;
    // The script's own client: the caller's identity, its own RESP version (redis.setresp), never in MULTI, never blocking.
    const client = Object.create(ctx.client) as ClientState;
    client.resp = 2;
    client.inExec = true;
    client.multi = null;
    client.waiting = false;
    client.script = true;
    this.scriptCtx = { store: ctx.store, client, server: ctx.server, hooks: ctx.hooks, persistence: ctx.persistence, counters: ctx.counters };
  }

  get run(): ScriptRun {
    return this;
  }

  call(args: string[], w: ReplyWriter): void {
    scriptCall(args, w, this.scriptCtx, this.readOnly, this.commands, this);
  }

  onResp(v: 2 | 3): void {
    this.scriptCtx.client.resp = v;
  }

  private serveWhileBusy(): void {
    overdue(this.ctx, this, this.ctx.server.processEventsWhileBusy!);
  }
}

function newRun(name: string, ctx: CommandContext, readOnly: boolean, commands: () => Map<string, CommandSpec>, isEval: boolean, args: string[]): ScriptRun {
  const run = new ScriptRunner(name, ctx, readOnly, commands, isEval, args);
  ctx.server.registry.set('scripting.running', run);
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
  const run = newRun(fn.name, ctx, readOnlyCmd || fn.flags.noWrites, commands, false, args);
  engine.beginRun();
  try {
    engine.fcall(fn, args.slice(3, 3 + n), args.slice(3 + n), w, run);
  } finally {
    endRun(ctx, run);
  }
}

/** Every library's code, in load order (FUNCTION DUMP, saving). */
function libraryCodes(engine: ScriptEngine): string[] {
  return [...engine.libraries.values()].map((l) => l.code);
}

/**
 * FUNCTION RESTORE (and loading an RDB file): all or nothing. 'flush' replaces
 * every library; 'append' refuses a library that exists; 'replace' replaces
 * one with the same name. On any error the libraries are as they were.
 */
function restoreLibraries(engine: ScriptEngine, codes: string[], policy: 'append' | 'replace' | 'flush'): string | null {
  const before = libraryCodes(engine);
  const rollback = (): void => {
    engine.flushFunctions();
    for (const code of before) engine.loadLibrary(code, false);
  };
  if (policy === 'flush') engine.flushFunctions();
  if (policy === 'append') {
    const taken = codes.map(libraryNameOf).find((name) => engine.libraries.has(name));
    if (taken !== undefined) return `ERR Library ${taken} already exists`;
  }
  const loaded = new Set<string>();
  for (const code of codes) {
    try {
      const name = engine.loadLibrary(code, policy === 'replace' && !loaded.has(libraryNameOf(code)));
      loaded.add(name);
    } catch (e) {
      if (!(e instanceof ScriptError)) throw e;
      rollback();
      return e.message;
    }
  }
  return null;
}

/** The name in a library's `#!lua name=…` line ('' if none: loading it fails anyway). */
function libraryNameOf(code: string): string {
  const nl = code.indexOf('\n');
  const m = /\sname=(\S+)/.exec(nl < 0 ? code : code.slice(0, nl));
  return m === null ? '' : m[1];
}

/** The function libraries as persistence saves and loads them (functions are part of the dataset). */
export function functionLibrariesOf(server: ServerContext) {
  return {
    codes: (): string[] => (server.registry.has('scripting') ? libraryCodes(engineOf(server)) : []),
    load: (codes: string[]): string | null => restoreLibraries(engineOf(server), codes, 'append'),
  };
}

/** SCRIPT KILL (isEval) and FUNCTION KILL: as Redis's scriptKill. */
function killScript(w: ReplyWriter, ctx: CommandContext, isEval: boolean): void {
  const running = runningOf(ctx.server);
  if (running === null || running.run.killed !== false) return err(w, 'NOTBUSY No scripts in execution right now.');
  if (running.dirty) {
    return err(
      w,
      'UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.',
    );
  }
  if (isEval && !running.isEval) return err(w, BUSY_FUNCTION);
  if (!isEval && running.isEval) return err(w, BUSY_EVAL);
  running.run.killed = 'user';
  w.status('OK');
}

/**
 * SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]. While a script is busy only
 * NOSAVE is served (the script is stopped and its client gets no reply, as
 * Redis exits). Otherwise the dataset is saved first when SAVE is given or
 * save points are configured, and a failed save refuses the shutdown unless
 * FORCE; then the server stops as on SIGTERM.
 */
/**
 * SHUTDOWN while a script is busy (SHUTDOWN itself is in src/commands/resp/persist.ts):
 * the -BUSY error unless NOSAVE, which stops the script (its client is closed).
 * Null when no script is busy or it was told to stop.
 */
export function shutdownDuringScript(server: ServerContext, nosave: boolean): string | null {
  const running = runningOf(server);
  if (running === null || !running.busy) return null;
  if (!nosave) return running.isEval ? BUSY_EVAL : BUSY_FUNCTION;
  running.run.killed = 'shutdown';
  return null;
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
      return killScript(w, ctx, false);
    case 'stats': {
      const busy = runningOf(ctx.server);
      if (busy !== null && busy.isEval && busy.busy) return err(w, BUSY_EVAL);
      w.map(2);
      w.str('running_script');
      const running = runningOf(ctx.server);
      if (running === null || running.isEval) w.nil();
      else {
        w.map(3);
        w.str('name');
        w.str(running.run.name);
        w.str('command');
        w.arr(running.args.length);
        for (const a of running.args) w.str(a);
        w.str('duration_ms');
        w.int(Math.max(0, Math.round(Date.now() - running.startedMs)));
      }
      w.str('engines');
      w.map(1);
      w.str('LUA');
      w.map(2);
      w.str('libraries_count');
      w.int(engine.libraries.size);
      w.str('functions_count');
      w.int(engine.functions.size);
      return;
    }
    case 'dump':
      return w.str(Buffer.from(functionsPayload(libraryCodes(engine), { compression: ctx.persistence.rdbCompression })).toString('latin1'));
    case 'restore': {
      let policy = 'append';
      if (args.length > 4) return err(w, "ERR unknown subcommand or wrong number of arguments for 'RESTORE'. Try FUNCTION HELP.");
      if (args.length === 4) {
        policy = args[3].toLowerCase();
        if (policy !== 'append' && policy !== 'replace' && policy !== 'flush') {
          return err(w, 'ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.');
        }
      }
      let codes: string[];
      try {
        codes = readFunctionsPayload(Buffer.from(args[2], 'latin1'));
      } catch (e) {
        if (e instanceof DumpError) return err(w, `ERR ${e.message}`);
        throw e;
      }
      const why = restoreLibraries(engine, codes, policy as 'append' | 'replace' | 'flush');
      return why === null ? w.status('OK') : err(w, why);
    }
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
/** A command as scripts name it ('GET', 'get'), looked up once: its spec and whether scripts may call it. */
interface CallTarget {
  readonly spec: CommandSpec;
  readonly noscript: boolean;
}

/** Per command table (the table is built once and never changed): name as written → target. */
const callTargets = new WeakMap<Map<string, CommandSpec>, Map<string, CallTarget>>();
/** Distinct spellings remembered per table (a script may spell names any way; the memory stays bounded). */
const CALL_TARGETS_MAX = 1024;

/** The last table's cache (there is one RESP table: no WeakMap lookup per call). */
let lastTable: Map<string, CommandSpec> | null = null;
let lastCache: Map<string, CallTarget> | null = null;

function callTarget(table: Map<string, CommandSpec>, name: string): CallTarget | undefined {
  let cache = table === lastTable ? lastCache : callTargets.get(table);
  if (cache === undefined || cache === null) callTargets.set(table, (cache = new Map()));
  lastTable = table;
  lastCache = cache;
  const hit = cache.get(name);
  if (hit !== undefined) return hit;
  const spec = table.get(name) ?? table.get(name.toLowerCase());
  if (spec === undefined) return undefined;
  const target: CallTarget = { spec, noscript: (spec.flags ?? []).includes('noscript') };
  if (cache.size >= CALL_TARGETS_MAX) cache.clear();
  cache.set(name, target);
  return target;
}

function scriptCall(args: string[], w: ReplyWriter, ctx: CommandContext, readOnly: boolean, commands: () => Map<string, CommandSpec>, running: Running): void {
  const target = callTarget(commands(), args[0]);
  if (target === undefined) return err(w, 'ERR Unknown Redis command called from script');
  const spec = target.spec;
  const n = args.length;
  if (spec.arity > 0 ? n !== spec.arity : n < -spec.arity) return err(w, 'ERR Wrong number of args calling Redis command from script');
  // A container's subcommand is looked up as Redis's scriptCall does (its wording), and its flags are the subcommand's.
  let sub: ReturnType<typeof redisMeta>;
  if (spec.subcommandNames !== undefined && n > 1) {
    const name = args[1].toLowerCase();
    sub = spec.subcommandNames.has(name) ? redisMeta(`${spec.name}|${name}`) : undefined;
    if (sub === undefined && !(spec.subcommands ?? []).includes(name)) return err(w, 'ERR Unknown Redis command called from script');
    if (sub !== undefined && (sub.arity > 0 ? n !== sub.arity : n < -sub.arity)) return err(w, 'ERR Wrong number of args calling Redis command from script');
  }
  if (sub !== undefined ? (sub.flags ?? []).includes('noscript') : target.noscript) return err(w, 'ERR This Redis command is not allowed from script');
  if (spec.subcommand !== undefined && !spec.subcommand(args, w, ctx)) return;
  if (readOnly && spec.write === true) return err(w, 'ERR Write commands are not allowed from read-only scripts.');
  // As Redis's scriptVerifyOOM: a denyoom command is refused if memory was over maxmemory when the script began.
  // Beyond Redis: a script looping over writes must not fill V8's heap either (src/servers/heap.ts).
  if (spec.denyoom === true && (ctx.server.memory.oomBeforeCommand || ctx.server.memory.scriptWriteRefused())) return err(w, OOM_ERROR);
  ctx.client.lastCommand = spec.name;
  if (spec.write === true) running.dirty = true;
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
      return killScript(w, ctx, true);
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
      flags: ['noscript', 'stale', 'skip_monitor', 'no_mandatory_keys', 'movablekeys'],
      ...EVAL_KEYS,
      run: (args, w, ctx) => evalGeneric(args, w, ctx, false, false, commands),
    },
    {
      name: 'evalsha',
      arity: -3,
      flags: ['noscript', 'stale', 'skip_monitor', 'no_mandatory_keys', 'movablekeys'],
      ...EVAL_KEYS,
      run: (args, w, ctx) => evalGeneric(args, w, ctx, true, false, commands),
    },
    {
      name: 'eval_ro',
      arity: -3,
      flags: ['readonly', 'noscript', 'stale', 'skip_monitor', 'no_mandatory_keys', 'movablekeys'],
      ...EVAL_KEYS,
      run: (args, w, ctx) => evalGeneric(args, w, ctx, false, true, commands),
    },
    {
      name: 'evalsha_ro',
      arity: -3,
      flags: ['readonly', 'noscript', 'stale', 'skip_monitor', 'no_mandatory_keys', 'movablekeys'],
      ...EVAL_KEYS,
      run: (args, w, ctx) => evalGeneric(args, w, ctx, true, true, commands),
    },
    {
      name: 'fcall',
      arity: -3,
      flags: ['noscript', 'stale', 'skip_monitor', 'no_mandatory_keys', 'movablekeys'],
      ...EVAL_KEYS,
      run: (args, w, ctx) => fcallGeneric(args, w, ctx, false, commands),
    },
    {
      name: 'fcall_ro',
      arity: -3,
      flags: ['readonly', 'noscript', 'stale', 'skip_monitor', 'no_mandatory_keys', 'movablekeys'],
      ...EVAL_KEYS,
      run: (args, w, ctx) => fcallGeneric(args, w, ctx, true, commands),
    },
    {
      name: 'function',
      arity: -2,
      ...NO_KEYS,
      run: functionCommand,
    },
    {
      name: 'script',
      arity: -2,
      // All of Redis 7.0's but DEBUG (there is no Lua debugger).
      subcommands: ['exists', 'flush', 'help', 'kill', 'load'],
      ...NO_KEYS,
      run: scriptCommand,
    },
  ];
}
