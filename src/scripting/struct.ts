// The struct library Redis ships (Roberto Ierusalimschy's struct 0.2):
// struct.pack(fmt, ...), struct.unpack(fmt, s [, pos]), struct.size(fmt),
// with the sizes of a 64-bit Linux build (short 2, int 4, long and size_t 8),
// native order little-endian, default alignment 1 and `!` alignment 8.

import { lauxlib, lua, toLua, type LuaState } from './fengari.js';

const MAXINTSIZE = 32;
const MAXALIGN = 8;

interface Header {
  little: boolean;
  align: number;
}

/** A format being read: the position of the next option. */
class Fmt {
  i = 0;
  constructor(readonly s: Uint8Array) {}
  get done(): boolean {
    return this.i >= this.s.length;
  }
  next(): string {
    return String.fromCharCode(this.s[this.i++]);
  }
  num(df: number): number {
    const c = this.s[this.i];
    if (c === undefined || c < 0x30 || c > 0x39) return df;
    let a = 0;
    while (this.i < this.s.length && this.s[this.i] >= 0x30 && this.s[this.i] <= 0x39) a = a * 10 + (this.s[this.i++] - 0x30);
    return a;
  }
}

function optsize(L: LuaState, opt: string, f: Fmt): number {
  switch (opt) {
    case 'B': case 'b': return 1;
    case 'H': case 'h': return 2;
    case 'L': case 'l': case 'T': return 8;
    case 'f': return 4;
    case 'd': return 8;
    case 'x': return 1;
    case 'c': return f.num(1);
    case 'i': case 'I': {
      const sz = f.num(4);
      if (sz > MAXINTSIZE) lauxlib.luaL_error(L, toLua(`integral size ${sz} is larger than limit of ${MAXINTSIZE}`));
      return sz;
    }
    default: return 0;
  }
}

function toAlign(len: number, h: Header, opt: string, size: number): number {
  if (size === 0 || opt === 'c') return 0;
  if (size > h.align) size = h.align;
  return (size - (len & (size - 1))) & (size - 1);
}

function control(L: LuaState, opt: string, f: Fmt, h: Header): void {
  switch (opt) {
    case ' ': return;
    case '>': h.little = false; return;
    case '<': h.little = true; return;
    case '=': h.little = true; return;
    case '!': {
      const a = f.num(MAXALIGN);
      if ((a & (a - 1)) !== 0) lauxlib.luaL_error(L, toLua(`alignment ${a} is not a power of 2`));
      h.align = a;
      return;
    }
    default:
      lauxlib.luaL_argerror(L, 1, toLua(`invalid format option '${opt}'`));
  }
}

const INT_OPTS = 'bBhHlLTiI';

function pack(L: LuaState): number {
  const f = new Fmt(lauxlib.luaL_checklstring(L, 1));
  const h: Header = { little: true, align: 1 };
  let arg = 2;
  const out: number[] = [];
  while (!f.done) {
    const opt = f.next();
    let size = optsize(L, opt, f);
    for (let a = toAlign(out.length, h, opt, size); a > 0; a--) out.push(0);
    if (INT_OPTS.includes(opt)) {
      const n = lauxlib.luaL_checknumber(L, arg++);
      // C's (unsigned long long)(long long)n for negatives, (unsigned long long)n otherwise.
      let v = Number.isFinite(n) ? BigInt.asUintN(64, BigInt(Math.trunc(Math.max(-(2 ** 63), Math.min(n, 2 ** 64 - 1))))) : 0n;
      const bytes: number[] = [];
      for (let i = 0; i < size; i++) {
        bytes.push(Number(v & 0xffn));
        v >>= 8n;
      }
      if (!h.little) bytes.reverse();
      out.push(...bytes);
    } else if (opt === 'x') {
      out.push(0);
    } else if (opt === 'f' || opt === 'd') {
      const dv = new DataView(new ArrayBuffer(size));
      if (opt === 'f') dv.setFloat32(0, lauxlib.luaL_checknumber(L, arg++), h.little);
      else dv.setFloat64(0, lauxlib.luaL_checknumber(L, arg++), h.little);
      for (let i = 0; i < size; i++) out.push(dv.getUint8(i));
    } else if (opt === 'c' || opt === 's') {
      const s: Uint8Array = lauxlib.luaL_checklstring(L, arg++);
      if (size === 0) size = s.length;
      lauxlib.luaL_argcheck(L, s.length >= size, arg, toLua('string too short'));
      for (let i = 0; i < size; i++) out.push(s[i]);
      if (opt === 's') out.push(0);
    } else {
      control(L, opt, f, h);
    }
  }
  lua.lua_pushstring(L, Uint8Array.from(out));
  return 1;
}

function unpack(L: LuaState): number {
  const f = new Fmt(lauxlib.luaL_checklstring(L, 1));
  const data: Uint8Array = lauxlib.luaL_checklstring(L, 2);
  const ld = data.length;
  let pos = lua.lua_isnoneornil(L, 3) ? 1 : lauxlib.luaL_checkinteger(L, 3);
  lauxlib.luaL_argcheck(L, pos > 0, 3, toLua('offset must be 1 or greater'));
  pos--;
  let n = 0;
  const h: Header = { little: true, align: 1 };
  while (!f.done) {
    const opt = f.next();
    let size = optsize(L, opt, f);
    pos += toAlign(pos, h, opt, size);
    lauxlib.luaL_argcheck(L, size <= ld && pos <= ld - size, 2, toLua('data string too short'));
    lauxlib.luaL_checkstack(L, 2, toLua('too many results'));
    if (INT_OPTS.includes(opt)) {
      let v = 0n;
      for (let i = 0; i < size; i++) {
        const b = BigInt(data[pos + (h.little ? size - 1 - i : i)]);
        v = (v << 8n) | b;
      }
      v = BigInt.asUintN(64, v);
      const signed = opt === opt.toLowerCase();
      if (signed && size < 8 && size > 0) v = BigInt.asIntN(size * 8, v);
      else if (signed) v = BigInt.asIntN(64, v);
      lua.lua_pushnumber(L, Number(v));
      n++;
    } else if (opt === 'x') {
      // padding
    } else if (opt === 'f' || opt === 'd') {
      const dv = new DataView(data.buffer, data.byteOffset + pos, size);
      lua.lua_pushnumber(L, opt === 'f' ? dv.getFloat32(0, h.little) : dv.getFloat64(0, h.little));
      n++;
    } else if (opt === 'c') {
      if (size === 0) {
        if (n === 0 || !lua.lua_isnumber(L, -1)) lauxlib.luaL_error(L, toLua("format 'c0' needs a previous size"));
        size = lua.lua_tonumber(L, -1);
        lua.lua_pop(L, 1);
        n--;
        lauxlib.luaL_argcheck(L, size <= ld && pos <= ld - size, 2, toLua('data string too short'));
      }
      lua.lua_pushstring(L, data.subarray(pos, pos + size));
      n++;
    } else if (opt === 's') {
      const e = data.indexOf(0, pos);
      if (e < 0) lauxlib.luaL_error(L, toLua('unfinished string in data'));
      size = e - pos + 1;
      lua.lua_pushstring(L, data.subarray(pos, e));
      n++;
    } else {
      control(L, opt, f, h);
    }
    pos += size;
  }
  lua.lua_pushnumber(L, pos + 1);
  return n + 1;
}

function size(L: LuaState): number {
  const f = new Fmt(lauxlib.luaL_checklstring(L, 1));
  const h: Header = { little: true, align: 1 };
  let pos = 0;
  while (!f.done) {
    const opt = f.next();
    const sz = optsize(L, opt, f);
    pos += toAlign(pos, h, opt, sz);
    if (opt === 's') lauxlib.luaL_argerror(L, 1, toLua("option 's' has no fixed size"));
    else if (opt === 'c' && sz === 0) lauxlib.luaL_argerror(L, 1, toLua("option 'c0' has no fixed size"));
    if (!/[A-Za-z0-9]/.test(opt)) control(L, opt, f, h);
    pos += sz;
  }
  lua.lua_pushnumber(L, pos);
  return 1;
}

/** Pushes the struct table onto the stack. */
export function pushStruct(L: LuaState): void {
  lua.lua_newtable(L);
  for (const [name, fn] of [['pack', pack], ['unpack', unpack], ['size', size]] as const) {
    lua.lua_pushjsfunction(L, fn);
    lua.lua_setfield(L, -2, toLua(name));
  }
}
