// The cmsgpack library Redis ships (lua-cmsgpack 0.4): cmsgpack.pack(...)
// encodes each argument as MessagePack and concatenates them;
// cmsgpack.unpack(s) returns every value s holds. Written over fengari's API
// with lua-cmsgpack's encoding choices: integral numbers as the smallest
// integer type, others as a float when exact else a double, strings as
// str8/16/32, tables as arrays when their keys are 1..n, else as maps
// (in the VM's iteration order), nesting past 16 encoded as nil.

import { fromLua, lauxlib, lua, toLua, type LuaState } from './fengari.js';

const MAX_NESTING = 16;

class Out {
  bytes: number[] = [];
  u8(...b: number[]): void {
    for (const x of b) this.bytes.push(x & 0xff);
  }
  be(n: number, size: number): void {
    for (let i = size - 1; i >= 0; i--) this.bytes.push(Number((BigInt.asUintN(64, BigInt(n)) >> BigInt(8 * i)) & 0xffn));
  }
}

const f32 = new Float32Array(1);
const dv = new DataView(new ArrayBuffer(8));

function encodeNumber(o: Out, n: number): void {
  if (Number.isInteger(n) && n >= -(2 ** 63) && n < 2 ** 63) {
    if (n >= 0) {
      if (n <= 127) o.u8(n);
      else if (n <= 0xff) o.u8(0xcc, n);
      else if (n <= 0xffff) { o.u8(0xcd); o.be(n, 2); }
      else if (n <= 0xffffffff) { o.u8(0xce); o.be(n, 4); }
      else { o.u8(0xcf); o.be(n, 8); }
    } else {
      if (n >= -32) o.u8(n);
      else if (n >= -128) o.u8(0xd0, n);
      else if (n >= -32768) { o.u8(0xd1); o.be(n, 2); }
      else if (n >= -2147483648) { o.u8(0xd2); o.be(n, 4); }
      else { o.u8(0xd3); o.be(n, 8); }
    }
    return;
  }
  f32[0] = n;
  if (f32[0] === n || (Number.isNaN(n) && Number.isNaN(f32[0]))) {
    dv.setFloat32(0, n);
    o.u8(0xca, dv.getUint8(0), dv.getUint8(1), dv.getUint8(2), dv.getUint8(3));
  } else {
    dv.setFloat64(0, n);
    o.u8(0xcb);
    for (let i = 0; i < 8; i++) o.u8(dv.getUint8(i));
  }
}

function encodeString(o: Out, b: Uint8Array): void {
  const n = b.length;
  if (n < 32) o.u8(0xa0 | n);
  else if (n <= 0xff) o.u8(0xd9, n);
  else if (n <= 0xffff) { o.u8(0xda); o.be(n, 2); }
  else { o.u8(0xdb); o.be(n, 4); }
  for (let i = 0; i < n; i++) o.bytes.push(b[i]);
}

function encode(L: LuaState, o: Out, idx: number, level: number): void {
  switch (lua.lua_type(L, idx)) {
    case lua.LUA_TBOOLEAN:
      return o.u8(lua.lua_toboolean(L, idx) ? 0xc3 : 0xc2);
    case lua.LUA_TNUMBER:
      return encodeNumber(o, lua.lua_tonumber(L, idx));
    case lua.LUA_TSTRING:
      return encodeString(o, lua.lua_tolstring(L, idx));
    case lua.LUA_TTABLE:
      if (level >= MAX_NESTING) return o.u8(0xc0);
      return encodeTable(L, o, idx, level + 1);
    default:
      return o.u8(0xc0);
  }
}

function encodeTable(L: LuaState, o: Out, idx: number, level: number): void {
  lauxlib.luaL_checkstack(L, 4, 'cmsgpack');
  let count = 0;
  let max = 0;
  let array = true;
  lua.lua_pushnil(L);
  while (lua.lua_next(L, idx) !== 0) {
    lua.lua_pop(L, 1);
    count++;
    if (lua.lua_type(L, -1) === lua.LUA_TNUMBER) {
      const k = lua.lua_tonumber(L, -1);
      if (Number.isInteger(k) && k > 0) max = Math.max(max, k);
      else array = false;
    } else array = false;
  }
  if (array && max === count) {
    if (count < 16) o.u8(0x90 | count);
    else if (count <= 0xffff) { o.u8(0xdc); o.be(count, 2); }
    else { o.u8(0xdd); o.be(count, 4); }
    for (let i = 1; i <= count; i++) {
      lua.lua_rawgeti(L, idx, i);
      encode(L, o, lua.lua_gettop(L), level);
      lua.lua_pop(L, 1);
    }
    return;
  }
  if (count < 16) o.u8(0x80 | count);
  else if (count <= 0xffff) { o.u8(0xde); o.be(count, 2); }
  else { o.u8(0xdf); o.be(count, 4); }
  lua.lua_pushnil(L);
  while (lua.lua_next(L, idx) !== 0) {
    const top = lua.lua_gettop(L);
    encode(L, o, top - 1, level);
    encode(L, o, top, level);
    lua.lua_pop(L, 1);
  }
}

class Truncated extends Error {}
class BadFormat extends Error {}

class Reader {
  i = 0;
  constructor(readonly b: Uint8Array) {}
  need(n: number): void {
    if (this.i + n > this.b.length) throw new Truncated();
  }
  u(n: number): number {
    this.need(n);
    let v = 0;
    for (let k = 0; k < n; k++) v = v * 256 + this.b[this.i++];
    return v;
  }
  s(n: number): number {
    this.need(n);
    let v = 0n;
    for (let k = 0; k < n; k++) v = (v << 8n) | BigInt(this.b[this.i++]);
    return Number(BigInt.asIntN(8 * n, v));
  }
  bytes(n: number): Uint8Array {
    this.need(n);
    const out = this.b.subarray(this.i, this.i + n);
    this.i += n;
    return out;
  }
}

function decode(L: LuaState, r: Reader): void {
  lauxlib.luaL_checkstack(L, 4, 'cmsgpack');
  r.need(1);
  const t = r.b[r.i++];
  if (t <= 0x7f) return lua.lua_pushnumber(L, t);
  if (t >= 0xe0) return lua.lua_pushnumber(L, t - 256);
  if ((t & 0xe0) === 0xa0) return lua.lua_pushstring(L, r.bytes(t & 0x1f));
  if ((t & 0xf0) === 0x90) return decodeArray(L, r, t & 0x0f);
  if ((t & 0xf0) === 0x80) return decodeMap(L, r, t & 0x0f);
  switch (t) {
    case 0xc0: return lua.lua_pushnil(L);
    case 0xc2: return lua.lua_pushboolean(L, false);
    case 0xc3: return lua.lua_pushboolean(L, true);
    case 0xcc: return lua.lua_pushnumber(L, r.u(1));
    case 0xcd: return lua.lua_pushnumber(L, r.u(2));
    case 0xce: return lua.lua_pushnumber(L, r.u(4));
    case 0xcf: return lua.lua_pushnumber(L, r.u(8));
    case 0xd0: return lua.lua_pushnumber(L, r.s(1));
    case 0xd1: return lua.lua_pushnumber(L, r.s(2));
    case 0xd2: return lua.lua_pushnumber(L, r.s(4));
    case 0xd3: return lua.lua_pushnumber(L, r.s(8));
    case 0xca: {
      const b = r.bytes(4);
      return lua.lua_pushnumber(L, new DataView(b.buffer, b.byteOffset, 4).getFloat32(0));
    }
    case 0xcb: {
      const b = r.bytes(8);
      return lua.lua_pushnumber(L, new DataView(b.buffer, b.byteOffset, 8).getFloat64(0));
    }
    case 0xc4: case 0xd9: return lua.lua_pushstring(L, r.bytes(r.u(1)));
    case 0xc5: case 0xda: return lua.lua_pushstring(L, r.bytes(r.u(2)));
    case 0xc6: case 0xdb: return lua.lua_pushstring(L, r.bytes(r.u(4)));
    case 0xdc: return decodeArray(L, r, r.u(2));
    case 0xdd: return decodeArray(L, r, r.u(4));
    case 0xde: return decodeMap(L, r, r.u(2));
    case 0xdf: return decodeMap(L, r, r.u(4));
  }
  throw new BadFormat();
}

function decodeArray(L: LuaState, r: Reader, n: number): void {
  // Each element takes at least one byte: a count beyond the input is truncated input, not an allocation.
  if (n > r.b.length - r.i) throw new Truncated();
  lua.lua_createtable(L, n, 0);
  for (let i = 1; i <= n; i++) {
    decode(L, r);
    lua.lua_rawseti(L, -2, i);
  }
}

function decodeMap(L: LuaState, r: Reader, n: number): void {
  if (2 * n > r.b.length - r.i) throw new Truncated();
  lua.lua_createtable(L, 0, n);
  for (let i = 0; i < n; i++) {
    decode(L, r);
    decode(L, r);
    if (lua.lua_type(L, -2) === lua.LUA_TNIL) lua.lua_pop(L, 2); // a nil key cannot be stored
    else lua.lua_rawset(L, -3);
  }
}

/** Pushes the cmsgpack table onto the stack. */
export function pushCmsgpack(L: LuaState): void {
  lua.lua_newtable(L);
  const fn = (name: string, f: (L: LuaState) => number) => {
    lua.lua_pushjsfunction(L, f);
    lua.lua_setfield(L, -2, toLua(name));
  };
  fn('pack', (L) => {
    const argc = lua.lua_gettop(L);
    if (argc === 0) return lauxlib.luaL_argerror(L, 0, toLua('MessagePack pack needs input.'));
    const o = new Out();
    for (let i = 1; i <= argc; i++) encode(L, o, i, 0);
    lua.lua_pushstring(L, Uint8Array.from(o.bytes));
    return 1;
  });
  const unpack = (L: LuaState, limit: number, offset: number): number => {
    const s = lauxlib.luaL_checklstring(L, 1);
    const r = new Reader(s);
    r.i = offset;
    const base = lua.lua_gettop(L);
    let n = 0;
    try {
      while (r.i < s.length && (limit <= 0 || n < limit)) {
        decode(L, r);
        n++;
      }
    } catch (e) {
      lua.lua_settop(L, base);
      if (e instanceof Truncated) return lauxlib.luaL_error(L, toLua('Missing bytes in input.'));
      if (e instanceof BadFormat) return lauxlib.luaL_error(L, toLua('Bad data format in input.'));
      throw e;
    }
    return n;
  };
  fn('unpack', (L) => unpack(L, 0, 0));
  fn('unpack_one', (L) => {
    const offset = lua.lua_isnoneornil(L, 2) ? 0 : lauxlib.luaL_checkinteger(L, 2);
    const s = lauxlib.luaL_checklstring(L, 1);
    const before = lua.lua_gettop(L);
    const r = new Reader(s);
    r.i = offset;
    try {
      if (r.i < s.length) decode(L, r);
      else lua.lua_pushnil(L);
    } catch (e) {
      lua.lua_settop(L, before);
      if (e instanceof Truncated) return lauxlib.luaL_error(L, toLua('Missing bytes in input.'));
      if (e instanceof BadFormat) return lauxlib.luaL_error(L, toLua('Bad data format in input.'));
      throw e;
    }
    lua.lua_pushnumber(L, r.i >= s.length ? -1 : r.i);
    lua.lua_insert(L, -2);
    return 2;
  });
  void fromLua;
}
