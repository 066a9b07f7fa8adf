// The Lua VM behind EVAL and friends: one fengari state per server, the
// sandbox Redis 7.0 gives scripts (read-only globals, no os/io/require/
// loadfile/dofile/print/debug), the `redis` table, and the conversions
// between Lua values and replies in both directions. No sockets, no command
// table: a run is given a `call` function that runs one command from the
// script and writes its reply into the ReplyWriter it is handed.

import { createHash } from 'node:crypto';
import type { ErrCode, ReplyWriter } from '../protocol/reply.js';
import { pushBit } from './bit.js';
import { pushCjson } from './cjson.js';
import { pushCmsgpack } from './cmsgpack.js';
import { pushStruct } from './struct.js';
import { fromLua, lauxlib, lua, luaString, lualib, pushLuaString, pushString, setAllocWatch, stackArgs, stackString, toLua, type LuaState } from './fengari.js';
import { getHeapStatistics } from 'node:v8';
import { fmtG } from './numfmt.js';

const fmt17g = (n: number): string => fmtG(n, 17);

export const REDIS_VERSION = '7.0.15';
export const REDIS_VERSION_NUM = 0x07000f;

/** What the script asks of the server for one redis.call/pcall: run args, reply into w. */
export type ScriptCall = (args: string[], w: ReplyWriter) => void;

/** One EVAL's context, set while the script runs. */
export interface ScriptRun {
  readonly call: ScriptCall;
  /** The name errors cite: the script's sha (EVAL) or the function's name (FCALL). */
  readonly name: string;
  /** RESP version redis.call's replies are converted from (redis.setresp). */
  resp: 2 | 3;
  /** Told of redis.setresp (the script's client replies in that version from then on). */
  readonly onResp?: (v: 2 | 3) => void;
  /** Wall-clock ms past which the script is busy (busy-reply-threshold); Infinity for none. */
  readonly deadline: number;
  readonly limitMs: number;
  /**
   * Why the script is being stopped, or false. 'user': SCRIPT KILL or FUNCTION
   * KILL; 'shutdown': SHUTDOWN NOSAVE; 'timeout': past the deadline where the
   * server cannot serve others meanwhile (no `overdue`).
   */
  killed: false | 'user' | 'shutdown' | 'timeout';
  /**
   * Called by the count hook while the script runs past its deadline: the
   * server answers other clients from here (-BUSY, SCRIPT KILL). Absent: the
   * script is stopped at the deadline instead.
   */
  readonly overdue?: () => void;
}

/** A function a library registered (FCALL's target). */
export interface LibFunction {
  readonly name: string;
  readonly ref: number;
  readonly description: string | null;
  readonly flags: ScriptFlags;
  library: string;
}

export interface Library {
  readonly name: string;
  readonly code: string;
  readonly functions: LibFunction[];
}

const VALID_NAME = /^[A-Za-z0-9_]+$/;
/** (Redis 7.0 words the bad function name error as the library name one.) */
const BAD_NAME = 'Library names can only contain letters, numbers, or underscores(_) and must be at least one character long';

/** A compiled script. */
export interface Compiled {
  readonly ref: number;
  readonly body: string;
  readonly flags: ScriptFlags;
}

export interface ScriptFlags {
  /** A shebang was present (flags then matter for *_RO and writes). */
  readonly shebang: boolean;
  readonly noWrites: boolean;
  readonly allowOom: boolean;
  readonly allowStale: boolean;
  readonly noCluster: boolean;
  readonly allowCrossSlot: boolean;
}

const NO_FLAGS: ScriptFlags = { shebang: false, noWrites: false, allowOom: false, allowStale: false, noCluster: false, allowCrossSlot: false };

const FLAG_NAMES: Record<string, keyof ScriptFlags> = {
  'no-writes': 'noWrites',
  'allow-oom': 'allowOom',
  'allow-stale': 'allowStale',
  'no-cluster': 'noCluster',
  'allow-cross-slot-keys': 'allowCrossSlot',
};

/** Parses `#!lua flags=a,b` (Redis's evalExtractShebangFlags): the flags and the shebang's length, or an error message. */
export function parseShebang(body: string): { flags: ScriptFlags; length: number } | string {
  if (!body.startsWith('#!')) return { flags: NO_FLAGS, length: 0 };
  const nl = body.indexOf('\n');
  const line = nl < 0 ? body : body.slice(0, nl);
  const parts = line.split(' ').filter((p) => p !== '');
  if (parts[0] !== '#!lua') return `ERR Unexpected engine in script shebang: ${parts[0]}`;
  const flags: Record<string, boolean> = { ...NO_FLAGS, shebang: true };
  for (const p of parts.slice(1)) {
    if (!p.startsWith('flags=')) return `ERR Unknown lua shebang option: ${p}`;
    for (const f of p.slice(6).split(',')) {
      if (f === '') continue;
      const key = FLAG_NAMES[f];
      if (key === undefined) return `ERR Unexpected flag in script shebang: ${f}`;
      flags[key] = true;
    }
  }
  return { flags: flags as unknown as ScriptFlags, length: line.length };
}

export function sha1hex(s: string): string {
  return createHash('sha1').update(s, 'latin1').digest('hex');
}

/** An error a run ends with: the reply's whole error line. */
export class ScriptError extends Error {}


/** Instructions between two runs of the count hook (the clock check; Redis's is every 100000 of its faster VM's). */
const HOOK_EVERY = 10000;

/**
 * The memory cap of a script: how much the JavaScript heap (V8's heap plus
 * the typed arrays Lua strings live in) may grow while one script runs.
 * fengari allocates in the process's own heap, so the VM's memory cannot be
 * counted apart from the rest; the growth is measured instead — every
 * MEMORY_CHECK_BYTES of strings the VM creates, and on every count hook
 * (tables grow a little per instruction). Past the cap the script fails with
 * "not enough memory", as Lua's allocator would.
 */
export const MEMORY_CAP_BYTES = 512 * 1024 * 1024;
const MEMORY_CHECK_BYTES = 16 * 1024 * 1024;
/** The longest string string.rep may build (Redis's proto-max-bulk-len default: no reply could carry more). */
const MAX_REP_BYTES = 512 * 1024 * 1024;

/** What a script that passed the memory cap fails with (thrown from inside the VM's allocation, as Lua's LUA_ERRMEM). */
class ScriptMemoryError extends Error {}

function heapBytes(): number {
  const h = getHeapStatistics();
  return h.used_heap_size + h.external_memory;
}

/** Deepest nesting converted between replies and Lua tables. */
const MAX_DEPTH = 1000;

/** Redis's (long long) cast of a Lua number: truncation; out of range or NaN gives LLONG_MIN, as x86 does. */
function luaNumberToInt(n: number): number | bigint {
  if (!Number.isFinite(n) || n >= 2 ** 63 || n < -(2 ** 63)) return -(2n ** 63n);
  const t = Math.trunc(n);
  return Number.isSafeInteger(t) ? t : BigInt(t);
}

// A reply as redis.call receives it, built by the Collector below, then pushed onto the Lua stack.
type Val =
  | { t: 'nil' }
  | { t: 'nilArr' }
  | { t: 'str'; s: string }
  | { t: 'status'; s: string }
  | { t: 'err'; s: string }
  | { t: 'int'; n: number | bigint }
  | { t: 'dbl'; n: number; text?: string }
  | { t: 'arr' | 'set' | 'push'; items: Val[] }
  | { t: 'map'; items: Val[] }
  | { t: 'bool'; b: boolean }
  | { t: 'verbatim'; format: string; s: string }
  | { t: 'big'; s: string };

/** A ReplyWriter that rebuilds the one reply a command writes as a value tree. */
class Collector implements ReplyWriter {
  private stack: { items: Val[]; left: number }[] = [];
  result: Val | null = null;

  private add(v: Val): void {
    const top = this.stack[this.stack.length - 1];
    if (top === undefined) {
      this.result = v;
      return;
    }
    top.items.push(v);
    top.left--;
    this.settle();
  }
  private settle(): void {
    while (this.stack.length > 0 && this.stack[this.stack.length - 1].left === 0) {
      this.stack.pop();
      if (this.stack.length === 0) return;
      const parent = this.stack[this.stack.length - 1];
      parent.left--;
    }
  }
  private open(t: 'arr' | 'set' | 'push' | 'map', n: number, count: number): void {
    const v: Val = { t, items: [] } as Val;
    const top = this.stack[this.stack.length - 1];
    if (top === undefined) this.result = v;
    else top.items.push(v);
    if (count === 0) {
      if (top !== undefined) {
        top.left--;
        this.settle();
      }
      return;
    }
    this.stack.push({ items: (v as { items: Val[] }).items, left: count });
    void n;
  }
  nil(): void { this.add({ t: 'nil' }); }
  nilArr(): void { this.add({ t: 'nilArr' }); }
  err(_code: ErrCode, msg: string): void { this.add({ t: 'err', s: msg }); }
  str(s: string): void { this.add({ t: 'str', s }); }
  bytes(b: Uint8Array, n: number): void { this.add({ t: 'str', s: Buffer.from(b.buffer, b.byteOffset, n).latin1Slice(0, n) }); }
  status(s: string): void { this.add({ t: 'status', s }); }
  int(n: number | bigint): void { this.add({ t: 'int', n }); }
  dbl(d: number): void { this.add({ t: 'dbl', n: d }); }
  dblText(d: number, text: string): void { this.add({ t: 'dbl', n: d, text }); }
  arr(n: number): void { this.open('arr', n, n); }
  map(n: number): void { this.open('map', n, 2 * n); }
  set(n: number): void { this.open('set', n, n); }
  push(n: number): void { this.open('push', n, n); }
  pairs(n: number): void { this.open('arr', n, 2 * n); }
  pair(): void {}
  bool(b: boolean): void { this.add({ t: 'bool', b }); }
  verbatim(format: string, s: string): void { this.add({ t: 'verbatim', format, s }); }
  bigNumber(digits: string): void { this.add({ t: 'big', s: digits }); }
}

/**
 * The ReplyWriter of redis.call: a reply of one string, integer, status or
 * nil is pushed onto the Lua stack as it is written (no value tree, no
 * intermediate objects); an error is kept for callCommand (raised or
 * returned as a table); anything else (aggregates, RESP3 types) is rebuilt
 * by a Collector and converted by pushVal. A command writes one reply; if
 * one wrote a second, the last wins, as with the Collector alone.
 */
class LuaReplyWriter implements ReplyWriter {
  private L: LuaState = null;
  private resp: 2 | 3 = 2;
  /** Values this call pushed (0 or 1). */
  pushed = 0;
  error: string | null = null;
  private collector: Collector | null = null;

  constructor(private readonly pushTree: (L: LuaState, v: Val, resp: 2 | 3) => void) {}

  begin(L: LuaState, resp: 2 | 3): void {
    this.L = L;
    this.resp = resp;
    this.pushed = 0;
    this.error = null;
    this.collector = null;
  }

  /** The command returned: an aggregate collected is pushed now. */
  done(): void {
    const c = this.collector;
    if (c === null) return;
    this.collector = null;
    if (c.result !== null) {
      this.replace();
      if (c.result.t === 'err') {
        this.error = c.result.s;
        return;
      }
      lauxlib.luaL_checkstack(this.L, 4, 'reply nesting');
      this.pushTree(this.L, c.result, this.resp);
      this.pushed = 1;
    }
  }

  /** A new top-level reply: drops one already written. */
  private replace(): void {
    if (this.pushed !== 0) {
      lua.lua_pop(this.L, 1);
      this.pushed = 0;
    }
    this.error = null;
  }

  private scalar(): boolean {
    if (this.collector !== null) return false;
    this.replace();
    lauxlib.luaL_checkstack(this.L, 2, 'reply');
    this.pushed = 1;
    return true;
  }

  private get c(): Collector {
    if (this.collector === null) {
      this.replace();
      this.collector = new Collector();
    }
    return this.collector;
  }

  str(s: string): void {
    if (this.scalar()) pushString(this.L, s);
    else this.c.str(s);
  }
  /** A value held as bytes (store/bytes.ts): the Lua string of the same bytes. */
  bytes(b: Uint8Array, n: number): void {
    this.str(Buffer.from(b.buffer, b.byteOffset, n).latin1Slice(0, n));
  }
  int(n: number | bigint): void {
    if (this.scalar()) lua.lua_pushnumber(this.L, Number(n));
    else this.c.int(n);
  }
  nil(): void {
    if (this.scalar()) {
      if (this.resp === 3) lua.lua_pushnil(this.L);
      else lua.lua_pushboolean(this.L, false);
    } else this.c.nil();
  }
  status(s: string): void {
    if (this.scalar()) pushField(this.L, 'ok', s);
    else this.c.status(s);
  }
  err(code: ErrCode, msg: string): void {
    if (this.collector !== null) return this.c.err(code, msg);
    this.replace();
    this.error = msg;
  }
  nilArr(): void { this.c.nilArr(); }
  dbl(d: number): void { this.c.dbl(d); }
  dblText(d: number, text: string): void { this.c.dblText(d, text); }
  arr(n: number): void { this.c.arr(n); }
  map(n: number): void { this.c.map(n); }
  set(n: number): void { this.c.set(n); }
  push(n: number): void { this.c.push(n); }
  pairs(n: number): void { this.c.pairs(n); }
  pair(): void {}
  bool(b: boolean): void { this.c.bool(b); }
  verbatim(format: string, s: string): void { this.c.verbatim(format, s); }
  bigNumber(digits: string): void { this.c.bigNumber(digits); }
}

export class ScriptEngine {
  private L: LuaState;
  private scripts = new Map<string, Compiled>();
  private run: ScriptRun | null = null;
  /** Bytes of the bodies of cached scripts (INFO's used_memory_scripts_eval). */
  bodyBytes = 0;

  constructor(private readonly log: (level: number, line: string) => void) {
    this.L = this.newState();
    this.keysName = luaString(this.L, 'KEYS');
    this.argvName = luaString(this.L, 'ARGV');
    setAllocWatch((bytes) => {
      if (this.run === null) return;
      this.allocated += bytes;
      if (this.allocated >= MEMORY_CHECK_BYTES) {
        this.allocated = 0;
        this.checkMemory();
      }
    });
  }

  /** Strings created since the last memory check of this run. */
  private allocated = 0;
  /** The heap's size at this run's first memory check (-1: not measured yet). */
  private heapBase = -1;
  /** Scripts stopped by the memory cap (INFO), and the count when the current run began. */
  memoryErrors = 0;
  private memoryErrorsBefore = 0;

  /** Fails the running script (from inside the VM) once the heap grew past the cap since its first check. */
  private checkMemory(): void {
    const now = heapBytes();
    if (this.heapBase < 0) {
      this.heapBase = now;
      return;
    }
    if (now - this.heapBase > MEMORY_CAP_BYTES) {
      this.heapBase = now; // a pcall that caught it may go on: allow it the cap again before the next error
      this.memoryErrors++;
      throw new ScriptMemoryError(`not enough memory: the script grew the heap by more than the Lua memory cap (${MEMORY_CAP_BYTES / 1024 / 1024} MB)`);
    }
  }

  get running(): boolean {
    return this.run !== null;
  }

  get count(): number {
    return this.scripts.size;
  }

  has(sha: string): boolean {
    return this.scripts.has(sha.toLowerCase());
  }

  /** SCRIPT FLUSH: forgets every script and starts a fresh VM. */
  flush(): void {
    for (const s of this.scripts.values()) lauxlib.luaL_unref(this.L, lua.LUA_REGISTRYINDEX, s.ref);
    this.scripts.clear();
    this.bodyBytes = 0;
    lua.lua_gc(this.L, lua.LUA_GCCOLLECT, 0);
  }

  /** Compiles and caches body (SCRIPT LOAD, EVAL): its sha; throws ScriptError on a bad shebang or syntax. */
  load(body: string): string {
    const sha = sha1hex(body);
    if (this.scripts.has(sha)) return sha;
    const sb = parseShebang(body);
    if (typeof sb === 'string') throw new ScriptError(sb);
    const L = this.L;
    // The shebang line stays in the source as a comment, so line numbers are the body's.
    const src = sb.length > 0 ? '--' + body.slice(2) : body;
    const status = lauxlib.luaL_loadbuffer(L, toLua(src), null, toLua('@user_script'));
    if (status !== lua.LUA_OK) {
      const msg = lua.lua_type(L, -1) === lua.LUA_TSTRING ? fromLua(lua.lua_tolstring(L, -1)) : 'unknown error';
      lua.lua_pop(L, 1);
      // Lua 5.3 names the end of input <eof>; 5.1, which Redis embeds, quotes it.
      throw new ScriptError(`ERR Error compiling script (new function): ${msg.replace(/ near <eof>$/, " near '<eof>'")}`);
    }
    const ref = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
    this.scripts.set(sha, { ref, body, flags: sb.flags });
    this.bodyBytes += body.length;
    return sha;
  }

  flagsOf(sha: string): ScriptFlags | undefined {
    return this.scripts.get(sha.toLowerCase())?.flags;
  }

  /**
   * Runs a cached script with KEYS and ARGV; its reply goes to w. `readOnly`:
   * EVAL_RO or a no-writes script (writes are refused by `call`, which sees run.readOnly via the caller).
   */
  exec(sha: string, keys: string[], argv: string[], w: ReplyWriter, run: ScriptRun): void {
    const script = this.scripts.get(sha.toLowerCase());
    if (script === undefined) throw new Error(`script ${sha} is not loaded`);
    this.execCompiled(script, keys, argv, w, run);
  }

  /** The cached script with this sha (lower case), or undefined: for execCompiled, one lookup per EVALSHA. */
  script(sha: string): Compiled | undefined {
    return this.scripts.get(sha);
  }

  /** exec of a script script() returned. */
  execCompiled(script: Compiled, keys: string[], argv: string[], w: ReplyWriter, run: ScriptRun): void {
    this.setArray('KEYS', keys);
    this.setArray('ARGV', argv);
    this.invoke(script.ref, null, w, run);
  }

  /** FCALL: runs a registered function with its keys and args tables as arguments. */
  fcall(fn: LibFunction, keys: string[], argv: string[], w: ReplyWriter, run: ScriptRun): void {
    this.invoke(fn.ref, [keys, argv], w, run);
  }

  /** Calls the function held at registry ref with the given array arguments; its result or error is the reply. */
  private invoke(ref: number, arrays: string[][] | null, w: ReplyWriter, run: ScriptRun): void {
    const L = this.L;
    const top = lua.lua_gettop(L);
    lua.lua_pushjsfunction(L, errorHandler);
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, ref);
    if (arrays !== null) for (const a of arrays) pushArray(L, a);
    this.run = run;
    this.allocated = 0;
    this.heapBase = -1;
    this.memoryErrorsBefore = this.memoryErrors;
    lua.lua_sethook(L, this.hook, lua.LUA_MASKCOUNT, HOOK_EVERY);
    let status: number;
    try {
      status = lua.lua_pcall(L, arrays === null ? 0 : arrays.length, 1, top + 1);
    } finally {
      this.run = null;
      lua.lua_sethook(L, null, 0, 0);
    }
    try {
      if (status === lua.LUA_OK) this.reply(L, lua.lua_gettop(L), w, 0);
      else this.errorReply(L, lua.lua_gettop(L), w, run.name);
    } finally {
      lua.lua_settop(L, top);
      // Lua 5.1 collects garbage incrementally; a step per script keeps the heap from growing between full cycles.
      lua.lua_gc(L, lua.LUA_GCSTEP, 0);
    }
  }

  // ---- Functions (FUNCTION LOAD, FCALL) ----

  readonly libraries = new Map<string, Library>();
  /** By lower-cased name: FCALL finds a function in any case, as Redis's case-insensitive dict. */
  readonly functions = new Map<string, LibFunction>();
  /** Functions registered by the library being loaded (redis.register_function), or null outside FUNCTION LOAD. */
  private registering: LibFunction[] | null = null;
  private loadRedis: number | null = null;

  /** FUNCTION LOAD: the library's name; throws ScriptError with Redis's message. */
  loadLibrary(code: string, replace: boolean): string {
    if (!code.startsWith('#!')) throw new ScriptError('ERR Missing library metadata');
    const nl = code.indexOf('\n');
    const line = nl < 0 ? code : code.slice(0, nl);
    const parts = line.slice(2).split(' ').filter((p) => p !== '');
    if (parts[0] === undefined || parts[0].toLowerCase() !== 'lua') throw new ScriptError(`ERR Engine '${parts[0] ?? ''}' not found`);
    let name: string | null = null;
    for (const p of parts.slice(1)) {
      if (p.startsWith('name=')) name = p.slice(5);
      else throw new ScriptError(`ERR Invalid metadata value given: ${p}`);
    }
    if (name === null) throw new ScriptError('ERR Library name was not given');
    if (!VALID_NAME.test(name)) throw new ScriptError(`ERR ${BAD_NAME}`);
    const old = this.libraries.get(name);
    if (old !== undefined && !replace) throw new ScriptError(`ERR Library '${name}' already exists`);
    const L = this.L;
    const top = lua.lua_gettop(L);
    const src = '--' + code.slice(2);
    if (lauxlib.luaL_loadbuffer(L, toLua(src), null, toLua('@user_function')) !== lua.LUA_OK) {
      const msg = fromLua(lua.lua_tolstring(L, -1) ?? toLua('unknown error'));
      lua.lua_settop(L, top);
      throw new ScriptError(`ERR Error compiling function: ${msg.replace(/ near <eof>$/, " near '<eof>'")}`);
    }
    // While the library's code runs, its globals are the load-time API (Redis's library API: only `redis`
    // with register_function and log); afterwards the same environment reads the real globals.
    const chunk = lua.lua_gettop(L);
    const env = this.functionsEnv();
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, env);
    lua.lua_setupvalue(L, chunk, 1);
    lua.lua_pushjsfunction(L, errorHandler);
    lua.lua_insert(L, chunk);
    this.setEnvIndex(this.loadApi());
    const registered: LibFunction[] = [];
    this.registering = registered;
    this.run = { name, resp: 2, deadline: Date.now() + 500, limitMs: 500, killed: false, call: () => {} }; // (FUNCTION LOAD's own limit: stopped, as Redis's)
    lua.lua_sethook(L, this.hook, lua.LUA_MASKCOUNT, HOOK_EVERY);
    let status: number;
    try {
      status = lua.lua_pcall(L, 0, 0, chunk);
    } finally {
      this.run = null;
      this.registering = null;
      lua.lua_sethook(L, null, 0, 0);
      this.setEnvIndex(null);
    }
    const fail = (msg: string): never => {
      for (const f of registered) lauxlib.luaL_unref(L, lua.LUA_REGISTRYINDEX, f.ref);
      lua.lua_settop(L, top);
      throw new ScriptError(oneLine(msg));
    };
    if (status !== lua.LUA_OK) {
      const idx = lua.lua_gettop(L);
      const msg = lua.lua_type(L, idx) === lua.LUA_TTABLE ? rawString(L, idx, 'err') ?? 'unknown error' : 'unknown error';
      fail(`ERR Error registering functions: ${msg}`);
    }
    lua.lua_settop(L, top);
    if (registered.length === 0) fail('ERR No functions registered');
    for (const f of registered) {
      const other = this.functions.get(f.name.toLowerCase());
      if (other !== undefined && other.library !== name) fail(`ERR Function ${f.name} already exists`);
    }
    if (old !== undefined) this.deleteLibrary(name);
    const lib: Library = { name, code, functions: registered };
    for (const f of registered) {
      f.library = name;
      this.functions.set(f.name.toLowerCase(), f);
    }
    this.libraries.set(name, lib);
    return name;
  }

  /** FUNCTION DELETE: false if there is no such library. */
  deleteLibrary(name: string): boolean {
    const lib = this.libraries.get(name);
    if (lib === undefined) return false;
    for (const f of lib.functions) {
      this.functions.delete(f.name.toLowerCase());
      lauxlib.luaL_unref(this.L, lua.LUA_REGISTRYINDEX, f.ref);
    }
    this.libraries.delete(name);
    return true;
  }

  /** FUNCTION FLUSH. */
  flushFunctions(): void {
    for (const name of [...this.libraries.keys()]) this.deleteLibrary(name);
  }

  private envRef: number | null = null;
  private envMetaRef: number | null = null;
  private loadApiRef: number | null = null;

  /** The environment of every library's code: empty, read-only, reading through to the globals (or the load API). */
  private functionsEnv(): number {
    if (this.envRef !== null) return this.envRef;
    const L = this.L;
    lua.lua_newtable(L);
    lua.lua_newtable(L);
    lua.lua_pushjsfunction(L, () => lauxlib.luaL_error(L, toLua('Attempt to modify a readonly table')));
    lua.lua_setfield(L, -2, toLua('__newindex'));
    lua.lua_pushboolean(L, false);
    lua.lua_setfield(L, -2, toLua('__metatable'));
    lua.lua_pushvalue(L, -1);
    this.envMetaRef = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
    lua.lua_setmetatable(L, -2);
    const ref: number = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
    this.envRef = ref;
    this.setEnvIndex(null);
    return ref;
  }

  /** Points the library environment's __index at the table held at ref, or at the globals (null). */
  private setEnvIndex(ref: number | null): void {
    const L = this.L;
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, this.envMetaRef);
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, ref ?? lua.LUA_RIDX_GLOBALS);
    lua.lua_setfield(L, -2, toLua('__index'));
    lua.lua_pop(L, 1);
  }

  /** The globals library code sees while it loads: only `redis`, itself limited (loadRedisTable). */
  private loadApi(): number {
    if (this.loadApiRef !== null) return this.loadApiRef;
    const L = this.L;
    lua.lua_newtable(L);
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, this.loadRedisTable());
    lua.lua_setfield(L, -2, toLua('redis'));
    lua.lua_newtable(L);
    lua.lua_pushjsfunction(L, (L: LuaState) => {
      const k = lua.lua_tolstring(L, 2);
      return lauxlib.luaL_error(L, toLua("Script attempted to access nonexistent global variable '%s'"), k ?? toLua('?'));
    });
    lua.lua_setfield(L, -2, toLua('__index'));
    lua.lua_setmetatable(L, -2);
    const ref: number = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
    this.loadApiRef = ref;
    return ref;
  }

  /** The `redis` table library code sees while it loads: register_function, log, versions. */
  private loadRedisTable(): number {
    if (this.loadRedis !== null) return this.loadRedis;
    const L = this.L;
    lua.lua_newtable(L);
    lua.lua_pushjsfunction(L, (L: LuaState) => this.registerFunction(L));
    lua.lua_setfield(L, -2, toLua('register_function'));
    lua.lua_getglobal(L, toLua('redis'));
    for (const k of ['log', 'LOG_DEBUG', 'LOG_VERBOSE', 'LOG_NOTICE', 'LOG_WARNING', 'REDIS_VERSION', 'REDIS_VERSION_NUM', 'setresp']) {
      lua.lua_getfield(L, -1, toLua(k));
      lua.lua_setfield(L, -3, toLua(k));
    }
    lua.lua_pop(L, 1);
    lua.lua_newtable(L);
    lua.lua_pushjsfunction(L, (L: LuaState) => {
      const k = lua.lua_tolstring(L, 2);
      return lauxlib.luaL_error(L, toLua("Script attempted to access nonexistent global variable '%s'"), k ?? toLua('?'));
    });
    lua.lua_setfield(L, -2, toLua('__index'));
    lua.lua_setmetatable(L, -2);
    const ref: number = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
    this.loadRedis = ref;
    return ref;
  }

  /** redis.register_function(name, callback) or redis.register_function{function_name=…, callback=…, flags=…, description=…}. */
  private registerFunction(L: LuaState): number {
    const regs = this.registering;
    if (regs === null) return this.fail(L, true, 'redis.register_function can only be called on FUNCTION LOAD command');
    const argc = lua.lua_gettop(L);
    let name: string | null = null;
    let description: string | null = null;
    const flags: Record<string, boolean> = { ...NO_FLAGS, shebang: true };
    if (argc === 2) {
      if (lua.lua_type(L, 1) !== lua.LUA_TSTRING) return this.fail(L, true, 'first argument to redis.register_function must be a string');
      if (lua.lua_type(L, 2) !== lua.LUA_TFUNCTION) return this.fail(L, true, 'second argument to redis.register_function must be a function');
      name = fromLua(lua.lua_tolstring(L, 1));
      lua.lua_settop(L, 2);
    } else if (argc === 1 && lua.lua_type(L, 1) === lua.LUA_TTABLE) {
      let callback = false;
      lua.lua_pushnil(L);
      while (lua.lua_next(L, 1) !== 0) {
        const key = lua.lua_type(L, -2) === lua.LUA_TSTRING ? fromLua(lua.lua_tolstring(L, -2)) : '';
        const t = lua.lua_type(L, -1);
        if (key === 'function_name') {
          if (t !== lua.LUA_TSTRING) return this.fail(L, true, 'function_name argument given to redis.register_function must be a string');
          name = fromLua(lua.lua_tolstring(L, -1));
        } else if (key === 'description') {
          if (t !== lua.LUA_TSTRING) return this.fail(L, true, 'description argument given to redis.register_function must be a string');
          description = fromLua(lua.lua_tolstring(L, -1));
        } else if (key === 'callback') {
          if (t !== lua.LUA_TFUNCTION) return this.fail(L, true, 'callback argument given to redis.register_function must be a function');
          callback = true;
        } else if (key === 'flags') {
          if (t !== lua.LUA_TTABLE) return this.fail(L, true, 'flags argument to redis.register_function must be a table representing function flags');
          for (let i = 1; lua.lua_rawgeti(L, -1, i) !== lua.LUA_TNIL; i++) {
            const f = lua.lua_type(L, -1) === lua.LUA_TSTRING ? FLAG_NAMES[fromLua(lua.lua_tolstring(L, -1))] : undefined;
            if (f === undefined) return this.fail(L, true, 'unknown flag given');
            flags[f] = true;
            lua.lua_pop(L, 1);
          }
          lua.lua_pop(L, 1);
        } else {
          return this.fail(L, true, 'unknown argument given to redis.register_function');
        }
        lua.lua_pop(L, 1);
      }
      if (name === null) return this.fail(L, true, 'redis.register_function must get a function name argument');
      if (!callback) return this.fail(L, true, 'redis.register_function must get a callback argument');
      lua.lua_getfield(L, 1, toLua('callback'));
    } else {
      return this.fail(L, true, 'wrong number of arguments to redis.register_function');
    }
    if (!VALID_NAME.test(name)) return this.fail(L, true, BAD_NAME);
    if (regs.some((f) => f.name.toLowerCase() === name!.toLowerCase())) return this.fail(L, true, 'Function already exists in the library');
    const ref = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
    regs.push({ name, ref, description, flags: flags as unknown as ScriptFlags, library: '' });
    return 0;
  }

  /**
   * The count hook (every HOOK_EVERY instructions): past the deadline the
   * server serves other clients from here (run.overdue); a killed script is
   * stopped with an error no pcall can catch.
   */
  private hook = (L: LuaState): void => {
    const run = this.run;
    if (run === null) return;
    if (run.killed === false) this.checkMemory();
    if (run.killed === false && Date.now() > run.deadline) {
      if (run.overdue !== undefined) run.overdue();
      else run.killed = 'timeout';
    }
    if (run.killed === false) return;
    // From now on the hook fires on every instruction, so that a pcall that caught the error cannot go on.
    lua.lua_sethook(L, this.hook, lua.LUA_MASKCOUNT, 1);
    if (run.killed === 'timeout' && this.registering !== null) {
      pushErrTable(L, 'ERR FUNCTION LOAD timeout');
    } else if (run.killed === 'timeout') {
      pushErrTable(L, `ERR Script killed: it ran past the script time limit (busy-reply-threshold, ${run.limitMs} ms) on a server that cannot serve other clients meanwhile (the libuv twin)`);
    } else {
      pushErrTable(L, 'ERR Script killed by user with SCRIPT KILL...');
    }
    lua.lua_error(L);
  };

  /** The names KEYS and ARGV as Lua strings made once (a name made per run would be hashed per run). */
  private readonly keysName: unknown;
  private readonly argvName: unknown;

  private setArray(name: 'KEYS' | 'ARGV', values: string[]): void {
    const L = this.L;
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, lua.LUA_RIDX_GLOBALS);
    pushLuaString(L, name === 'KEYS' ? this.keysName : this.argvName);
    pushArray(L, values);
    lua.lua_rawset(L, -3); // (the globals' __newindex lets these two through; a raw set is the same)
    lua.lua_pop(L, 1);
  }

  /** The error a failed run ends with (Redis's luaCallFunction): `<err> script: <name>, on <source>:<line>.` */
  private errorReply(L: LuaState, idx: number, w: ReplyWriter, name: string): void {
    if (lua.lua_type(L, idx) !== lua.LUA_TTABLE) {
      const msg =
        lua.lua_type(L, idx) === lua.LUA_TSTRING
          ? fromLua(lua.lua_tolstring(L, idx))
          : this.memoryErrors > this.memoryErrorsBefore
            ? `not enough memory: the script grew the heap by more than the Lua memory cap (${MEMORY_CAP_BYTES / 1024 / 1024} MB)`
            : 'execution failure';
      return w.err(1 as ErrCode, oneLine(`ERR Error running script ${name}, ${msg.slice(0, 100)}`));
    }
    const err = rawString(L, idx, 'err') ?? 'ERR unknown error';
    const source = rawString(L, idx, 'source');
    const line = rawString(L, idx, 'line');
    let msg = err;
    if (source !== null && line !== null) msg += ` script: ${name}, on ${source}:${line}.`;
    w.err(1 as ErrCode, oneLine(msg));
  }

  /** Lua → reply (Redis 7.0's luaReplyToRedisReply). */
  private reply(L: LuaState, idx: number, w: ReplyWriter, depth: number): void {
    switch (lua.lua_type(L, idx)) {
      case lua.LUA_TSTRING:
        return w.str(stackString(L, idx));
      case lua.LUA_TBOOLEAN:
        if (this.replyResp === 3) return w.bool(lua.lua_toboolean(L, idx));
        return lua.lua_toboolean(L, idx) ? w.int(1) : w.nil();
      case lua.LUA_TNUMBER:
        return w.int(luaNumberToInt(lua.lua_tonumber(L, idx)));
      case lua.LUA_TTABLE:
        break;
      default:
        return w.nil();
    }
    if (depth >= MAX_DEPTH || !lua.lua_checkstack(L, 4)) return w.err(1 as ErrCode, 'ERR reached lua stack limit');
    const err = rawString(L, idx, 'err');
    if (err !== null) return w.err(1 as ErrCode, oneLine(err));
    const ok = rawString(L, idx, 'ok');
    if (ok !== null) return w.status(oneLine(ok));
    lua.lua_getfield(L, idx, toLua('double'));
    if (lua.lua_type(L, -1) === lua.LUA_TNUMBER) {
      const d = lua.lua_tonumber(L, -1);
      lua.lua_pop(L, 1);
      return w.dbl(d);
    }
    lua.lua_pop(L, 1);
    for (const kind of ['map', 'set'] as const) {
      lua.lua_pushstring(L, toLua(kind));
      lua.lua_rawget(L, idx);
      if (lua.lua_type(L, -1) === lua.LUA_TTABLE) {
        const t = lua.lua_gettop(L);
        let n = 0;
        lua.lua_pushnil(L);
        while (lua.lua_next(L, t) !== 0) {
          n++;
          lua.lua_pop(L, 1);
        }
        if (kind === 'map') w.map(n);
        else w.set(n);
        lua.lua_pushnil(L);
        while (lua.lua_next(L, t) !== 0) {
          this.reply(L, lua.lua_gettop(L) - 1, w, depth + 1);
          if (kind === 'map') this.reply(L, lua.lua_gettop(L), w, depth + 1);
          lua.lua_pop(L, 1);
        }
        lua.lua_pop(L, 1);
        return;
      }
      lua.lua_pop(L, 1);
    }
    // An array: elements 1, 2, … up to the first nil.
    let n = 0;
    while (lua.lua_rawgeti(L, idx, n + 1) !== lua.LUA_TNIL) {
      lua.lua_pop(L, 1);
      n++;
    }
    lua.lua_pop(L, 1);
    w.arr(n);
    for (let i = 1; i <= n; i++) {
      lua.lua_rawgeti(L, idx, i);
      this.reply(L, lua.lua_gettop(L), w, depth + 1);
      lua.lua_pop(L, 1);
    }
  }

  /** The RESP version the script replies in (redis.setresp of the current run; 2 outside one). */
  private replyResp: 2 | 3 = 2;

  /** Reply → Lua (Redis 7.0's redisProtocolToLuaType), for RESP version resp. */
  private pushVal(L: LuaState, v: Val, resp: 2 | 3, depth: number): void {
    lauxlib.luaL_checkstack(L, 4, 'reply nesting');
    switch (v.t) {
      case 'str':
        return lua.lua_pushstring(L, toLua(v.s));
      case 'int':
        return lua.lua_pushnumber(L, Number(v.n));
      case 'status':
        return pushField(L, 'ok', v.s);
      case 'err':
        return pushField(L, 'err', v.s);
      case 'nil':
      case 'nilArr':
        return resp === 3 ? lua.lua_pushnil(L) : lua.lua_pushboolean(L, false);
      case 'bool':
        return resp === 3 ? lua.lua_pushboolean(L, v.b) : v.b ? lua.lua_pushnumber(L, 1) : lua.lua_pushnumber(L, 0);
      case 'dbl':
        if (resp === 3) {
          lua.lua_newtable(L);
          lua.lua_pushnumber(L, v.n);
          lua.lua_setfield(L, -2, toLua('double'));
          return;
        }
        return lua.lua_pushstring(L, toLua(v.text ?? fmt17g(v.n)));
      case 'big':
        return resp === 3 ? pushField(L, 'big_number', v.s) : lua.lua_pushstring(L, toLua(v.s));
      case 'verbatim':
        if (resp === 3) {
          lua.lua_newtable(L);
          lua.lua_newtable(L);
          lua.lua_pushstring(L, toLua(v.s));
          lua.lua_setfield(L, -2, toLua('string'));
          lua.lua_pushstring(L, toLua(v.format));
          lua.lua_setfield(L, -2, toLua('format'));
          lua.lua_setfield(L, -2, toLua('verbatim_string'));
          return;
        }
        return lua.lua_pushstring(L, toLua(v.s));
      case 'map':
        if (resp === 3) {
          lua.lua_newtable(L);
          lua.lua_newtable(L);
          for (let i = 0; i + 1 < v.items.length; i += 2) {
            this.pushVal(L, v.items[i], resp, depth + 1);
            this.pushVal(L, v.items[i + 1], resp, depth + 1);
            lua.lua_rawset(L, -3);
          }
          lua.lua_setfield(L, -2, toLua('map'));
          return;
        }
        break;
      case 'set':
        if (resp === 3) {
          lua.lua_newtable(L);
          lua.lua_newtable(L);
          for (const item of v.items) {
            this.pushVal(L, item, resp, depth + 1);
            lua.lua_pushboolean(L, true);
            lua.lua_rawset(L, -3);
          }
          lua.lua_setfield(L, -2, toLua('set'));
          return;
        }
        break;
    }
    const items = (v as { items: Val[] }).items;
    lua.lua_createtable(L, items.length, 0);
    for (let i = 0; i < items.length; i++) {
      this.pushVal(L, items[i], resp, depth + 1);
      lua.lua_rawseti(L, -2, i + 1);
    }
  }

  /** redis.call / redis.pcall. */
  private callCommand(L: LuaState, raise: boolean): number {
    const run = this.run;
    const argc = lua.lua_gettop(L);
    if (run === null) return lauxlib.luaL_error(L, toLua('redis.call used outside a script'));
    if (argc === 0) return this.fail(L, raise, 'Please specify at least one argument for this redis lib call');
    const args = stackArgs(L, argc, fmt17g);
    if (args === null) return this.fail(L, raise, 'Lua redis lib command arguments must be strings or integers');
    const w = this.callWriter;
    w.begin(L, run.resp);
    run.call(args, w);
    w.done();
    const error = w.error;
    if (error !== null) {
      w.error = null;
      pushErrTable(L, error.startsWith('-') ? error : '-' + error);
      return raise ? lua.lua_error(L) : 1;
    }
    if (w.pushed === 0) w.nil(); // (no reply at all: nil)
    return 1;
  }

  /** The writer redis.call hands its command: replies go straight onto the Lua stack. */
  private readonly callWriter = new LuaReplyWriter((L, v, resp) => this.pushVal(L, v, resp, 0));

  /** An error of the redis lib: raised by call, returned by pcall (as {err=...}). */
  private fail(L: LuaState, raise: boolean, msg: string): number {
    pushErrTable(L, `ERR ${msg}`);
    return raise ? lua.lua_error(L) : 1;
  }

  private newState(): LuaState {
    const L = lauxlib.luaL_newstate();
    for (const [name, open] of [
      ['_G', lualib.luaopen_base],
      ['table', lualib.luaopen_table],
      ['string', lualib.luaopen_string],
      ['math', lualib.luaopen_math],
      ['coroutine', lualib.luaopen_coroutine],
    ] as const) {
      lauxlib.luaL_requiref(L, toLua(name), open, 1);
      lua.lua_pop(L, 1);
    }
    lua.lua_atnativeerror(L, (L: LuaState) => {
      const e = lua.lua_touserdata(L, -1);
      if (e instanceof ScriptMemoryError) {
        lua.lua_pushstring(L, toLua(e.message));
        return 1;
      }
      // A JavaScript allocation that failed is the same condition.
      if (e instanceof RangeError && /allocation failed|Invalid typed array length|Invalid array length|Invalid string length/.test(e.message)) {
        lua.lua_pushstring(L, toLua(`not enough memory (${e.message})`));
        return 1;
      }
      lua.lua_pushstring(L, toLua(`internal error: ${e instanceof Error ? e.message : String(e)}`));
      return 1;
    });
    const setGlobalFn = (name: string, fn: (L: LuaState) => number) => {
      lua.lua_pushjsfunction(L, fn);
      lua.lua_setglobal(L, toLua(name));
    };
    // The redis table.
    lua.lua_newtable(L);
    const field = (name: string, fn: (L: LuaState) => number) => {
      lua.lua_pushjsfunction(L, fn);
      lua.lua_setfield(L, -2, toLua(name));
    };
    const num = (name: string, n: number) => {
      lua.lua_pushnumber(L, n);
      lua.lua_setfield(L, -2, toLua(name));
    };
    field('call', (L) => this.callCommand(L, true));
    field('pcall', (L) => this.callCommand(L, false));
    field('error_reply', (L) => {
      if (lua.lua_gettop(L) !== 1 || lua.lua_type(L, 1) !== lua.LUA_TSTRING) return this.fail(L, false, 'wrong number or type of arguments');
      const msg = fromLua(lua.lua_tolstring(L, 1));
      pushErrTable(L, msg.startsWith('-') ? msg : '-' + msg);
      return 1;
    });
    field('status_reply', (L) => {
      if (lua.lua_gettop(L) !== 1 || lua.lua_type(L, 1) !== lua.LUA_TSTRING) return this.fail(L, false, 'wrong number or type of arguments');
      pushField(L, 'ok', fromLua(lua.lua_tolstring(L, 1)));
      return 1;
    });
    field('sha1hex', (L) => {
      if (lua.lua_gettop(L) !== 1) return lauxlib.luaL_error(L, toLua('wrong number of arguments'));
      const s = lua.lua_type(L, 1) === lua.LUA_TSTRING || lua.lua_type(L, 1) === lua.LUA_TNUMBER ? fromLua(lua.lua_tolstring(L, 1)) : '';
      lua.lua_pushstring(L, toLua(sha1hex(s)));
      return 1;
    });
    field('log', (L) => {
      const argc = lua.lua_gettop(L);
      if (argc < 2) return this.fail(L, true, 'redis.log() requires two arguments or more.');
      if (!lua.lua_isnumber(L, 1)) return this.fail(L, true, 'First argument must be a number (log level).');
      const level = lua.lua_tonumber(L, 1);
      if (!(level >= 0 && level <= 3)) return this.fail(L, true, 'Invalid debug level.');
      const parts: string[] = [];
      for (let i = 2; i <= argc; i++) {
        const s = lua.lua_tolstring(L, i);
        if (s !== null && s !== undefined) parts.push(fromLua(s));
      }
      this.log(Math.trunc(level), parts.join(' '));
      return 0;
    });
    field('setresp', (L) => {
      if (lua.lua_gettop(L) !== 1) return this.fail(L, true, 'redis.setresp() requires one argument.');
      const v = lua.lua_tonumber(L, 1);
      if (v !== 2 && v !== 3) return this.fail(L, true, 'RESP version must be 2 or 3.');
      if (this.run !== null) {
        this.run.resp = v;
        this.run.onResp?.(v);
      }
      this.replyResp = v;
      return 0;
    });
    field('set_repl', (L) => {
      if (lua.lua_gettop(L) !== 1) return this.fail(L, true, 'redis.set_repl() requires one argument.');
      const v = lua.lua_tonumber(L, 1);
      if (!(v >= 0 && v <= 3)) return this.fail(L, true, 'Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.');
      return 0;
    });
    field('replicate_commands', (L) => {
      lua.lua_pushboolean(L, true);
      return 1;
    });
    field('breakpoint', (L) => {
      lua.lua_pushboolean(L, false);
      return 1;
    });
    field('debug', () => 0);
    num('LOG_DEBUG', 0);
    num('LOG_VERBOSE', 1);
    num('LOG_NOTICE', 2);
    num('LOG_WARNING', 3);
    num('REPL_NONE', 0);
    num('REPL_AOF', 1);
    num('REPL_SLAVE', 2);
    num('REPL_REPLICA', 2);
    num('REPL_ALL', 3);
    lua.lua_pushstring(L, toLua(REDIS_VERSION));
    lua.lua_setfield(L, -2, toLua('REDIS_VERSION'));
    num('REDIS_VERSION_NUM', REDIS_VERSION_NUM);
    lua.lua_setglobal(L, toLua('redis'));
    pushCjson(L);
    lua.lua_setglobal(L, toLua('cjson'));
    pushBit(L);
    lua.lua_setglobal(L, toLua('bit'));
    pushCmsgpack(L);
    lua.lua_setglobal(L, toLua('cmsgpack'));
    pushStruct(L);
    lua.lua_setglobal(L, toLua('struct'));
    // pcall and xpcall may not catch the error that stops a script past its time limit.
    const rawPcall = (L: LuaState, handler: boolean): number => {
      const argc = lua.lua_gettop(L);
      if (argc < 1) return lauxlib.luaL_argerror(L, 1, toLua('value expected'));
      let status: number;
      if (handler) {
        if (argc < 2) return lauxlib.luaL_argerror(L, 2, toLua('value expected'));
        // xpcall(f, msgh, ...): move msgh below f.
        lua.lua_pushvalue(L, 2);
        lua.lua_remove(L, 2);
        lua.lua_insert(L, 1);
        status = lua.lua_pcall(L, argc - 2, lua.LUA_MULTRET, 1);
        lua.lua_remove(L, 1);
      } else {
        status = lua.lua_pcall(L, argc - 1, lua.LUA_MULTRET, 0);
      }
      if (this.run !== null && this.run.killed) return lua.lua_error(L);
      // Redis's pcall hands a script the message of an error table ({err=...} raised by redis.call), not the table.
      if (status !== lua.LUA_OK && !handler && lua.lua_type(L, -1) === lua.LUA_TTABLE) {
        lua.lua_getfield(L, -1, toLua('err'));
        if (lua.lua_type(L, -1) === lua.LUA_TSTRING) lua.lua_replace(L, -2);
        else lua.lua_pop(L, 1);
      }
      lauxlib.luaL_checkstack(L, 1, null);
      lua.lua_pushboolean(L, status === lua.LUA_OK);
      lua.lua_insert(L, 1);
      return lua.lua_gettop(L);
    };
    setGlobalFn('pcall', (L) => rawPcall(L, false));
    setGlobalFn('xpcall', (L) => rawPcall(L, true));
    // string.rep refuses a result no reply could carry before allocating it (a JS function: errors cite the script's line).
    lua.lua_getglobal(L, toLua('string'));
    lua.lua_getfield(L, -1, toLua('rep'));
    const rawRep = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
    lua.lua_pushjsfunction(L, (L: LuaState) => {
      const len = lauxlib.luaL_checklstring(L, 1).length;
      const n = lauxlib.luaL_checkinteger(L, 2);
      const sep = lua.lua_gettop(L) >= 3 && lua.lua_type(L, 3) !== lua.LUA_TNIL ? lauxlib.luaL_checklstring(L, 3).length : 0;
      if (n > 0 && (len + sep) * n > MAX_REP_BYTES) return lauxlib.luaL_error(L, toLua('resulting string too large'));
      lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, rawRep);
      lua.lua_insert(L, 1);
      lua.lua_call(L, lua.lua_gettop(L) - 1, 1);
      return 1;
    });
    lua.lua_setfield(L, -2, toLua('rep'));
    lua.lua_pop(L, 1);
    // Lua 5.1's names that 5.3 dropped or moved, as Redis scripts use them; then remove what Redis removes.
    this.doString(L, `
      unpack = table.unpack
      loadstring = load
      table.getn = function(t) return #t end
      table.maxn = function(t) local m = 0 for k in pairs(t) do if type(k) == 'number' and k > m then m = k end end return m end
      string.gfind = string.gmatch
      math.pow = function(a, b) return a ^ b end
      math.mod = math.fmod
      table.unpack = nil
      local rawtonumber = tonumber
      tonumber = function(...) local v = rawtonumber(...) if math.type(v) == 'integer' then return v + 0.0 end return v end
      print = nil dofile = nil loadfile = nil require = nil module = nil package = nil
      utf8 = nil debug = nil os = nil io = nil
      _VERSION = 'Lua 5.1'
    `);
    // Globals are read-only, and reading one that does not exist is an error (Redis 7.0).
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, lua.LUA_RIDX_GLOBALS);
    lua.lua_newtable(L);
    lua.lua_pushjsfunction(L, (L: LuaState) => {
      const k = lua.lua_tolstring(L, 2);
      return lauxlib.luaL_error(L, toLua('Script attempted to access nonexistent global variable \'%s\''), k ?? toLua('?'));
    });
    lua.lua_setfield(L, -2, toLua('__index'));
    lua.lua_pushjsfunction(L, (L: LuaState) => {
      const k = lua.lua_tolstring(L, 2);
      if (k !== null && k !== undefined && (fromLua(k) === 'KEYS' || fromLua(k) === 'ARGV')) {
        lua.lua_rawset(L, 1);
        return 0;
      }
      return lauxlib.luaL_error(L, toLua('Attempt to modify a readonly table'));
    });
    lua.lua_setfield(L, -2, toLua('__newindex'));
    lua.lua_pushboolean(L, false);
    lua.lua_setfield(L, -2, toLua('__metatable'));
    lua.lua_setmetatable(L, -2);
    lua.lua_pop(L, 1);
    lua.lua_settop(L, 0);
    return L;
  }

  private doString(L: LuaState, code: string): void {
    if (lauxlib.luaL_dostring(L, toLua(code)) !== lua.LUA_OK) throw new Error(`scripting prelude: ${fromLua(lua.lua_tolstring(L, -1))}`);
  }

  /** Sets the reply RESP version for this run (before exec). */
  beginRun(): void {
    this.replyResp = 2;
  }
}

/** The message handler of every run (Redis's __redis__err__handler): errors become {err=…, source=…, line=…}. */
function errorHandler(L: LuaState): number {
  const ar = new lua.lua_Debug();
  let found = false;
  // The nearest Lua frame (an error raised inside a library function cites the script line that called it).
  for (let level = 1; level <= 4 && lua.lua_getstack(L, level, ar) && lua.lua_getinfo(L, toLua('nSl'), ar); level++) {
    const what = fromLua(ar.what);
    if (what === 'Lua' || what === 'main') {
      found = true;
      break;
    }
  }
  if (lua.lua_type(L, 1) !== lua.LUA_TTABLE) {
    const s = lauxlib.luaL_tolstring(L, 1);
    lua.lua_pop(L, 1);
    lua.lua_settop(L, 0);
    pushField(L, 'err', 'ERR ' + as51(fromLua(s)));
  } else {
    lua.lua_settop(L, 1);
  }
  if (found) {
    lua.lua_pushstring(L, ar.source);
    lua.lua_setfield(L, -2, toLua('source'));
    lua.lua_pushstring(L, toLua(String(ar.currentline)));
    lua.lua_setfield(L, -2, toLua('line'));
  }
  return 1;
}

function pushArray(L: LuaState, values: string[]): void {
  lauxlib.luaL_checkstack(L, 2, 'arguments');
  lua.lua_createtable(L, values.length, 0);
  for (let i = 0; i < values.length; i++) {
    pushString(L, values[i]);
    lua.lua_rawseti(L, -2, i + 1);
  }
}

function pushField(L: LuaState, key: string, value: string): void {
  lua.lua_newtable(L);
  lua.lua_pushstring(L, toLua(value));
  lua.lua_setfield(L, -2, toLua(key));
}

/**
 * Redis's luaPushErrorBuff: "-CODE msg" keeps its code ("-X" alone becomes
 * "ERR X"), a message without the dash is given as it is (callers write "ERR …").
 */
function pushErrTable(L: LuaState, msg: string): void {
  if (msg.startsWith('-')) {
    const sp = msg.indexOf(' ');
    msg = sp < 0 ? `ERR ${msg.slice(1)}` : `${msg.slice(1, sp)} ${msg.slice(sp + 1)}`;
  }
  pushField(L, 'err', msg.replace(/^[\r\n]+|[\r\n]+$/g, ''));
}

/** Lua 5.3 words "attempt to index a nil value (local 't')"; 5.1, as Redis shows it, "attempt to index local 't' (a nil value)". */
function as51(msg: string): string {
  return msg.replace(/attempt to (\w+) a (\w+) value \((local|global|field|upvalue|method|constant) '([^']*)'\)/, "attempt to $1 $3 '$4' (a $2 value)");
}

function rawString(L: LuaState, idx: number, key: string): string | null {
  lua.lua_pushstring(L, toLua(key));
  lua.lua_rawget(L, idx);
  const r = lua.lua_type(L, -1) === lua.LUA_TSTRING || lua.lua_type(L, -1) === lua.LUA_TNUMBER ? fromLua(lua.lua_tolstring(L, -1)) : null;
  lua.lua_pop(L, 1);
  return r;
}

/** Error lines cannot hold CR or LF (Redis replaces them with spaces). */
function oneLine(s: string): string {
  return s.replace(/[\r\n]/g, ' ');
}
