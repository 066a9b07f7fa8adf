// The cjson library Redis ships (lua-cjson 2.1): cjson.encode, cjson.decode,
// cjson.null, written here over fengari's API. Numbers are encoded with
// %.14g as lua-cjson does; strings are byte strings, escaped as lua-cjson
// escapes them ('/' as "\/", control bytes as \u00XX).

import { fromLua, lauxlib, lua, toLua, type LuaState } from './fengari.js';
import { fmt14g } from './numfmt.js';

const MAX_DEPTH = 1000;

function escapeJson(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    switch (c) {
      case 0x22: out += '\\"'; break;
      case 0x5c: out += '\\\\'; break;
      case 0x2f: out += '\\/'; break;
      case 0x08: out += '\\b'; break;
      case 0x0c: out += '\\f'; break;
      case 0x0a: out += '\\n'; break;
      case 0x0d: out += '\\r'; break;
      case 0x09: out += '\\t'; break;
      default:
        out += c < 0x20 || c === 0x7f ? `\\u${c.toString(16).padStart(4, '0')}` : s[i];
    }
  }
  return out + '"';
}

class JsonError extends Error {}

/** Encodes the value at stack index idx (absolute). */
function encodeValue(L: LuaState, idx: number, depth: number): string {
  switch (lua.lua_type(L, idx)) {
    case lua.LUA_TNIL:
      return 'null';
    case lua.LUA_TBOOLEAN:
      return lua.lua_toboolean(L, idx) ? 'true' : 'false';
    case lua.LUA_TNUMBER: {
      const n = lua.lua_tonumber(L, idx);
      if (!Number.isFinite(n)) throw new JsonError('Cannot serialise number: must not be NaN or Inf');
      return fmt14g(n);
    }
    case lua.LUA_TSTRING:
      return escapeJson(fromLua(lua.lua_tolstring(L, idx)));
    case lua.LUA_TLIGHTUSERDATA:
      if (lua.lua_touserdata(L, idx) === NULL_MARK) return 'null';
      break;
    case lua.LUA_TTABLE:
      return encodeTable(L, idx, depth + 1);
  }
  throw new JsonError(`Cannot serialise ${fromLua(lua.lua_typename(L, lua.lua_type(L, idx)))}: type not supported`);
}

function encodeTable(L: LuaState, idx: number, depth: number): string {
  if (depth > MAX_DEPTH) throw new JsonError(`Cannot serialise, excessive nesting (${depth})`);
  lauxlib.luaL_checkstack(L, 4, 'cjson');
  // An array when every key is a positive integer and there are no holes (lua-cjson's rule, without its sparse-array ratio).
  let max = 0;
  let count = 0;
  let isArray = true;
  lua.lua_pushnil(L);
  while (lua.lua_next(L, idx) !== 0) {
    count++;
    if (isArray) {
      if (lua.lua_type(L, -2) === lua.LUA_TNUMBER) {
        const k = lua.lua_tonumber(L, -2);
        if (Number.isInteger(k) && k >= 1) max = Math.max(max, k);
        else isArray = false;
      } else isArray = false;
    }
    lua.lua_pop(L, 1);
  }
  if (isArray && count > 0 && max === count) {
    const parts: string[] = [];
    for (let i = 1; i <= max; i++) {
      lua.lua_rawgeti(L, idx, i);
      parts.push(encodeValue(L, lua.lua_gettop(L), depth));
      lua.lua_pop(L, 1);
    }
    return `[${parts.join(',')}]`;
  }
  if (isArray && count > 0) throw new JsonError('Cannot serialise table: excessively sparse array');
  const parts: string[] = [];
  lua.lua_pushnil(L);
  while (lua.lua_next(L, idx) !== 0) {
    const kt = lua.lua_type(L, -2);
    let key: string;
    if (kt === lua.LUA_TSTRING) key = fromLua(lua.lua_tolstring(L, -2));
    else if (kt === lua.LUA_TNUMBER) key = fmt14g(lua.lua_tonumber(L, -2));
    else throw new JsonError('Cannot serialise table: table key must be a number or string');
    parts.push(`${escapeJson(key)}:${encodeValue(L, lua.lua_gettop(L), depth)}`);
    lua.lua_pop(L, 1);
  }
  return `{${parts.join(',')}}`;
}

/** The unique lightuserdata cjson.null stands for. */
const NULL_MARK = { cjsonNull: true };

class Parser {
  i = 0;
  constructor(readonly s: string, readonly L: LuaState) {}

  fail(what: string, token?: string): never {
    throw new JsonError(`Expected ${what} but found ${token ?? this.tokenName()} at character ${this.i + 1}`);
  }

  tokenName(): string {
    const c = this.s[this.i];
    if (c === undefined) return 'T_END';
    if ('{}[]:,'.includes(c)) return `T_${{ '{': 'OBJ_BEGIN', '}': 'OBJ_END', '[': 'ARR_BEGIN', ']': 'ARR_END', ':': 'COLON', ',': 'COMMA' }[c]}`;
    return 'invalid token';
  }

  ws(): void {
    while (this.i < this.s.length && ' \t\r\n'.includes(this.s[this.i])) this.i++;
  }

  value(depth: number): void {
    const { L } = this;
    this.ws();
    const c = this.s[this.i];
    if (depth > MAX_DEPTH) throw new JsonError(`Found too many nested data structures (${depth}) at character ${this.i + 1}`);
    lauxlib.luaL_checkstack(L, 4, 'cjson');
    if (c === '{') {
      this.i++;
      lua.lua_newtable(L);
      this.ws();
      if (this.s[this.i] === '}') return void this.i++;
      for (;;) {
        this.ws();
        if (this.s[this.i] !== '"') this.fail('object key string');
        lua.lua_pushstring(L, toLua(this.string()));
        this.ws();
        if (this.s[this.i] !== ':') this.fail('colon');
        this.i++;
        this.value(depth + 1);
        lua.lua_rawset(L, -3);
        this.ws();
        if (this.s[this.i] === ',') { this.i++; continue; }
        if (this.s[this.i] === '}') return void this.i++;
        this.fail('comma or object end');
      }
    }
    if (c === '[') {
      this.i++;
      lua.lua_newtable(L);
      this.ws();
      if (this.s[this.i] === ']') return void this.i++;
      for (let n = 1; ; n++) {
        this.value(depth + 1);
        lua.lua_rawseti(L, -2, n);
        this.ws();
        if (this.s[this.i] === ',') { this.i++; continue; }
        if (this.s[this.i] === ']') return void this.i++;
        this.fail('comma or array end');
      }
    }
    if (c === '"') return void lua.lua_pushstring(L, toLua(this.string()));
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(this.s.slice(this.i, this.i + 400));
    if (m !== null && m[0] !== '' && m[0] !== '-') {
      this.i += m[0].length;
      return void lua.lua_pushnumber(L, Number(m[0]));
    }
    for (const [word, push] of [['true', () => lua.lua_pushboolean(L, true)], ['false', () => lua.lua_pushboolean(L, false)], ['null', () => lua.lua_pushlightuserdata(L, NULL_MARK)]] as const) {
      if (this.s.startsWith(word, this.i)) {
        this.i += word.length;
        return void push();
      }
    }
    this.fail('value');
  }

  string(): string {
    this.i++; // opening quote
    let out = '';
    for (;;) {
      if (this.i >= this.s.length) this.fail('string end', 'T_END');
      const c = this.s[this.i++];
      if (c === '"') return out;
      if (c !== '\\') { out += c; continue; }
      const e = this.s[this.i++];
      const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
      if (e in simple) { out += simple[e]; continue; }
      if (e === 'u') {
        const hex = this.s.slice(this.i, this.i + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) { this.i -= 2; this.fail('value', 'invalid token'); }
        this.i += 4;
        let cp = parseInt(hex, 16);
        if (cp >= 0xd800 && cp < 0xdc00 && this.s.slice(this.i, this.i + 2) === '\\u') {
          const lo = parseInt(this.s.slice(this.i + 2, this.i + 6), 16);
          if (lo >= 0xdc00 && lo < 0xe000) { cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00); this.i += 6; }
        }
        out += Buffer.from(String.fromCodePoint(cp), 'utf8').toString('latin1');
        continue;
      }
      this.i -= 2;
      this.fail('value', 'invalid token');
    }
  }
}

/** Pushes the cjson table onto the stack. */
export function pushCjson(L: LuaState): void {
  lua.lua_newtable(L);
  lua.lua_pushjsfunction(L, (L: LuaState) => {
    lauxlib.luaL_argcheck(L, lua.lua_gettop(L) === 1, 1, 'expected 1 argument');
    let out: string;
    try {
      out = encodeValue(L, 1, 0);
    } catch (e) {
      if (e instanceof JsonError) return lauxlib.luaL_error(L, toLua(e.message.replace(/%/g, '%%')));
      throw e;
    }
    lua.lua_pushstring(L, toLua(out));
    return 1;
  });
  lua.lua_setfield(L, -2, toLua('encode'));
  lua.lua_pushjsfunction(L, (L: LuaState) => {
    lauxlib.luaL_argcheck(L, lua.lua_gettop(L) === 1, 1, 'expected 1 argument');
    const text = fromLua(lauxlib.luaL_checklstring(L, 1));
    const p = new Parser(text, L);
    try {
      p.value(0);
      p.ws();
      if (p.i < text.length) p.fail('the end');
    } catch (e) {
      if (e instanceof JsonError) return lauxlib.luaL_error(L, toLua(e.message.replace(/%/g, '%%')));
      throw e;
    }
    return 1;
  });
  lua.lua_setfield(L, -2, toLua('decode'));
  lua.lua_pushlightuserdata(L, NULL_MARK);
  lua.lua_setfield(L, -2, toLua('null'));
}
