// Loads fengari (Lua 5.3 in pure JavaScript) configured for Redis's scripts:
// integral floats print without ".0" (LUA_COMPAT_FLOATSTRING), so that with
// every number a script receives being a float, tostring(10/2) is "5" as in
// the Lua 5.1 Redis embeds. fengari reads its configuration from
// FENGARICONF once, when it is first loaded; we set it only around that load.

import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fmt14g } from './numfmt.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
export type LuaState = any;

/** Told the size of every string the VM creates (it may throw to refuse the allocation); null: nobody. */
let allocWatch: ((bytes: number) => void) | null = null;

export function setAllocWatch(fn: ((bytes: number) => void) | null): void {
  allocWatch = fn;
}

/**
 * fengari frees a stack slot with `delete L.stack[i]` (on every pop, every
 * return); in V8 deleting an array element is a call into the runtime that
 * optimised code cannot inline — it was an eighth of a redis.call-heavy
 * script's time. Storing undefined is the same for every reader (the stack is
 * a holey array read only by index; fengari never asks `i in stack`), so the
 * VM's modules are compiled with that one change, while they load (their
 * order and cycles untouched). A fengari without those statements loads as
 * it is.
 */
const STACK_DELETE = /\bdelete ((?:L|from)\.stack\[[^\]]+\]);/g;

function withStackPatch<T>(require: NodeJS.Require, fn: () => T): T {
  const Module = require('node:module') as any;
  const srcDir = path.dirname(require.resolve('fengari/src/lapi.js')) + path.sep;
  const original = Module._extensions['.js'];
  Module._extensions['.js'] = function (module: any, filename: string) {
    if (!filename.startsWith(srcDir)) return original.call(this, module, filename);
    module._compile(readFileSync(filename, 'utf8').replace(STACK_DELETE, '$1 = undefined;'), filename);
  };
  try {
    return fn();
  } finally {
    Module._extensions['.js'] = original;
  }
}

function load(): any {
  const require = createRequire(import.meta.url);
  return withStackPatch(require, () => loadConfigured(require));
}

function loadConfigured(require: NodeJS.Require): any {
  const before = process.env.FENGARICONF;
  process.env.FENGARICONF = JSON.stringify({ LUA_COMPAT_FLOATSTRING: true });
  try {
    // Lua 5.1 prints numbers with "%.14g" (1e+20, 1e-07); fengari with JavaScript's String().
    // Its number formatter is taken from luaconf when the VM's modules load, so it is replaced first.
    // (defs.js first: it and luaconf.js require each other, and defs is the one fengari loads first.)
    require('fengari/src/defs.js');
    const conf = require('fengari/src/luaconf.js');
    conf.lua_number2str = (n: number) => fmt14g(n);
    // Every Lua string the VM makes (concatenation, string.rep, table.concat, pushed replies) goes through
    // luaS_bless or luaS_new; the modules that use it take it from lstring's exports when they load, so it is wrapped
    // before they do. The watcher counts the bytes (the VM's memory cap, see engine.ts).
    const lstring = require('fengari/src/lstring.js');
    const bless = lstring.luaS_bless;
    const newString = lstring.luaS_new;
    // (Functions, not arrows: ltm.js calls `new luaS_new(…)`.)
    lstring.luaS_bless = function (L: any, str: Uint8Array) {
      if (allocWatch !== null) allocWatch(str.length);
      return bless(L, str);
    };
    lstring.luaS_new = function (L: any, str: Uint8Array) {
      if (allocWatch !== null) allocWatch(str.length);
      return newString(L, str);
    };
    return require('fengari');
  } finally {
    if (before === undefined) delete process.env.FENGARICONF;
    else process.env.FENGARICONF = before;
  }
}

export const fengari = load();
export const lua: any = fengari.lua;
export const lauxlib: any = fengari.lauxlib;
export const lualib: any = fengari.lualib;

// fengari's internals behind the public API, for the hot paths of redis.call (see pushString and
// stackString): a string pushed without the API's two copies, a string argument read without one.
const lstring = createRequire(import.meta.url)('fengari/src/lstring.js');
const lobject = createRequire(import.meta.url)('fengari/src/lobject.js');

/** Below this length a loop beats Buffer's (pooled allocation, a native call) in both directions. */
const SHORT = 64;

/** A binary (latin1) JS string as Lua bytes. */
export function toLua(s: string): Uint8Array {
  const n = s.length;
  if (n < SHORT) {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = s.charCodeAt(i);
    return b;
  }
  return Buffer.from(s, 'latin1');
}

/** Lua bytes as a binary (latin1) JS string. */
export function fromLua(b: Uint8Array): string {
  const n = b.length;
  if (n < SHORT) {
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(b[i]);
    return s;
  }
  return Buffer.from(b.buffer, b.byteOffset, n).toString('latin1');
}

/**
 * Pushes a binary JS string as a Lua string (lua_pushstring's effect), and
 * remembers the JS string on the Lua string: when the script hands it back to
 * redis.call (KEYS[1]), stackString needs no conversion. The caller has made
 * room on the stack (lua_checkstack), as for any push.
 */
export function pushString(L: LuaState, s: string): void {
  const ts = lstring.luaS_bless(L, toLua(s));
  ts.js = s;
  lobject.pushsvalue2s(L, ts);
}

/**
 * The Lua string at stack index idx (> 0, a string: the caller checked
 * lua_type) as a binary JS string, converted once per Lua string and then
 * remembered on it (Lua strings are immutable): a script's constants such as
 * 'GET' and the KEYS/ARGV it passes on cost nothing after the first call.
 */
export function stackString(L: LuaState, idx: number): string {
  const ts = L.stack[L.ci.funcOff + idx].value;
  const cached = ts.js;
  if (cached !== undefined) return cached;
  return (ts.js = fromLua(ts.realstring));
}

/** A Lua string made once and kept (its table hash, computed on first use, is kept with it): see pushLuaString. */
export function luaString(L: LuaState, s: string): unknown {
  const ts = lstring.luaS_bless(L, toLua(s));
  ts.js = s;
  return ts;
}

/** Pushes a string made by luaString. */
export function pushLuaString(L: LuaState, ts: unknown): void {
  lobject.pushsvalue2s(L, ts);
}

/**
 * The arguments 1..argc of the running JavaScript function as binary JS
 * strings (numbers formatted by fmtNumber), read off the stack directly; null
 * if one is neither a string nor a number (redis.call's arguments).
 */
export function stackArgs(L: LuaState, argc: number, fmtNumber: (n: number) => string): string[] | null {
  const base = L.ci.funcOff;
  const out: string[] = new Array(argc);
  for (let i = 0; i < argc; i++) {
    const tv = L.stack[base + 1 + i];
    const t = tv.type & 0x0f;
    if (t === 4) {
      const ts = tv.value;
      out[i] = ts.js ?? (ts.js = fromLua(ts.realstring));
    } else if (t === 3) {
      out[i] = fmtNumber(tv.value);
    } else {
      return null;
    }
  }
  return out;
}
