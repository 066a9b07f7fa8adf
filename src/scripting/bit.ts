// The bit library Redis ships (LuaBitOp 1.0): 32-bit operations on Lua
// numbers, results as signed 32-bit numbers. Numbers are converted as
// LuaBitOp converts them: rounded to nearest (ties to even) by adding
// 2^52 + 2^51, then the low 32 bits of the double's mantissa.

import { lauxlib, lua, toLua, type LuaState } from './fengari.js';

const f64 = new Float64Array(1);
const i32 = new Int32Array(f64.buffer);

function tobit(n: number): number {
  f64[0] = n + 6755399441055744.0;
  return i32[0]; // little-endian: the low word
}

function arg(L: LuaState, i: number): number {
  return tobit(lauxlib.luaL_checknumber(L, i));
}

function ret(L: LuaState, v: number): number {
  lua.lua_pushnumber(L, v | 0);
  return 1;
}

export function pushBit(L: LuaState): void {
  lua.lua_newtable(L);
  const fn = (name: string, f: (L: LuaState) => number) => {
    lua.lua_pushjsfunction(L, f);
    lua.lua_setfield(L, -2, toLua(name));
  };
  const fold = (name: string, op: (a: number, b: number) => number) =>
    fn(name, (L) => {
      let v = arg(L, 1);
      for (let i = lua.lua_gettop(L); i > 1; i--) v = op(v, arg(L, i));
      return ret(L, v);
    });
  fn('tobit', (L) => ret(L, arg(L, 1)));
  fn('bnot', (L) => ret(L, ~arg(L, 1)));
  fold('band', (a, b) => a & b);
  fold('bor', (a, b) => a | b);
  fold('bxor', (a, b) => a ^ b);
  fn('lshift', (L) => ret(L, arg(L, 1) << (arg(L, 2) & 31)));
  fn('rshift', (L) => ret(L, arg(L, 1) >>> (arg(L, 2) & 31)));
  fn('arshift', (L) => ret(L, arg(L, 1) >> (arg(L, 2) & 31)));
  fn('rol', (L) => {
    const b = arg(L, 1);
    const n = arg(L, 2) & 31;
    return ret(L, (b << n) | (b >>> (32 - n)));
  });
  fn('ror', (L) => {
    const b = arg(L, 1);
    const n = arg(L, 2) & 31;
    return ret(L, (b << (32 - n)) | (b >>> n));
  });
  fn('bswap', (L) => {
    const b = arg(L, 1);
    return ret(L, ((b >>> 24) & 0xff) | ((b >>> 8) & 0xff00) | ((b & 0xff00) << 8) | (b << 24));
  });
  fn('tohex', (L) => {
    let b = arg(L, 1);
    let n = lua.lua_isnone(L, 2) ? 8 : arg(L, 2);
    let upper = false;
    if (n < 0) {
      n = -n;
      upper = true;
    }
    if (n > 8) n = 8;
    let s = '';
    for (let i = 0; i < n; i++) {
      s = '0123456789abcdef'[b & 15] + s;
      b >>>= 4;
    }
    lua.lua_pushstring(L, toLua(upper ? s.toUpperCase() : s));
    return 1;
  });
}
