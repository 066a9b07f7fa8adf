// Each command's description as Redis 7.0 declares it — arity, flags, key
// positions and key specs, ACL categories, tips, subcommands, documentation —
// read from one generated table (meta.generated.ts, keyed by name). The RESP
// command table takes arity, flags and key positions from it when it is built
// (so dispatch's arity check, write/read-only accounting and key extraction use
// the same description COMMAND prints), and COMMAND INFO / DOCS / LIST /
// GETKEYS answer from it. Nothing here runs per dispatched command.

import { ErrCode, type ReplyWriter } from '../protocol/reply.js';
import { REDIS_COMMANDS } from './meta.generated.js';
import type { CommandSpec } from './types.js';

/**
 * A reply stored as compact JSON: a bulk string is a string, an integer a
 * number, an array an array; a map {"%": [k, v, ...]}, a set {"~": [...]}, a
 * simple string {"+": s}.
 */
export type StoredReply = string | number | StoredReply[] | { '%': StoredReply[] } | { '~': StoredReply[] } | { '+': string };

/** One command (or subcommand) as COMMAND INFO and COMMAND DOCS describe it. */
export interface CommandMeta {
  arity: number;
  flags: string[];
  firstKey: number;
  lastKey: number;
  keyStep: number;
  /** '@read', '@string', … */
  acl: string[];
  tips: string[];
  /** COMMAND INFO's key specs, as stored replies (maps). */
  keySpecs: StoredReply[];
  /** By full name ('client|list'), sorted. */
  subcommands: Record<string, CommandMeta>;
  /** COMMAND DOCS's map without `subcommands`, flat: key, value, key, value … */
  docs: StoredReply[];
}

/** Redis 7.0's description of a top-level command, or of a subcommand by full name ('client|list'). */
export function redisMeta(name: string): CommandMeta | undefined {
  const bar = name.indexOf('|');
  if (bar < 0) return Object.hasOwn(REDIS_COMMANDS, name) ? REDIS_COMMANDS[name] : undefined;
  const parent = redisMeta(name.slice(0, bar));
  return parent !== undefined && Object.hasOwn(parent.subcommands, name) ? parent.subcommands[name] : undefined;
}

/**
 * Gives a RESP command its arity, flags and key positions from its
 * description (called once per command when the table is built). A spec may
 * still carry its own values (the book table shares some specs, and a command
 * written before its description existed keeps working); the description
 * wins, and test/command_meta.test.ts lists every disagreement.
 */
export function applyMeta(spec: CommandSpec): void {
  const m = redisMeta(spec.name);
  if (m === undefined) return void missingMeta.push(spec.name);
  const said = (what: string, own: unknown, theirs: unknown) => {
    if (own !== undefined && JSON.stringify(own) !== JSON.stringify(theirs)) metaDisagreements.push(`${spec.name} ${what}: spec ${JSON.stringify(own)}, Redis ${JSON.stringify(theirs)}`);
  };
  // MONITOR does not show admin commands (Redis's CMD_ADMIN); a spec may decide for itself (CONFIG, CLIENT).
  if (spec.skipMonitor === undefined) {
    const subs = Object.keys(m.subcommands);
    if (subs.length === 0) {
      if (m.flags.includes('admin')) spec.skipMonitor = true;
    } else if (subs.some((full) => m.subcommands[full].flags.includes('admin'))) {
      spec.skipMonitor = (args) => args.length > 1 && redisMeta(`${spec.name}|${args[1].toLowerCase()}`)?.flags.includes('admin') === true;
    }
  }
  said('arity', spec.arity, m.arity);
  said('flags', spec.flags, m.flags);
  said('firstKey', spec.firstKey, m.firstKey);
  said('lastKey', spec.lastKey, m.lastKey);
  said('keyStep', spec.keyStep, m.keyStep);
  spec.arity = m.arity;
  spec.flags = m.flags;
  spec.firstKey = m.firstKey;
  spec.lastKey = m.lastKey;
  spec.keyStep = m.keyStep;
  if (Object.keys(m.subcommands).length > 0) {
    const implemented = spec.subcommands;
    const names = new Set(
      Object.keys(m.subcommands)
        .map((full) => full.slice(full.indexOf('|') + 1))
        .filter((sub) => implemented === undefined || implemented.includes(sub)),
    );
    spec.subcommandNames = names;
    // Subcommands the spec serves beyond Redis 7.0's (CLIENT SETINFO, from 7.2): checked by the command itself.
    const beyond = new Set((implemented ?? []).filter((sub) => !Object.hasOwn(m.subcommands, `${spec.name}|${sub}`)));
    // Redis's lookup refuses an unknown subcommand, or a known one with the wrong arity, before the command runs.
    const own = spec.subcommand;
    const generic = (args: string[], w: ReplyWriter) => (args.length > 1 && beyond.has(args[1].toLowerCase())) || checkSubcommandOf(spec.name, names, args, w);
    spec.subcommand = own === undefined ? generic : (args, w, ctx) => generic(args, w) && own(args, w, ctx);
  }
}

/** Commands of the RESP table that Redis 7.0 does not describe (test/command_meta.test.ts wants none). */
export const missingMeta: string[] = [];
/** Where a spec's own arity, flags or key positions differ from its description (the description is used). */
export const metaDisagreements: string[] = [];

/**
 * A container's subcommand check, where Redis's lookup makes it (dispatch calls
 * it after the container's own arity): an unknown subcommand, or a known one
 * with the wrong number of arguments, is refused with Redis's words.
 */
export function checkSubcommandOf(container: string, served: ReadonlySet<string>, args: string[], w: ReplyWriter): boolean {
  if (args.length < 2) return true;
  const sub = args[1].toLowerCase();
  const meta = served.has(sub) ? redisMeta(`${container}|${sub}`) : undefined;
  if (meta === undefined) {
    w.err(ErrCode.Unknown, `ERR unknown subcommand '${args[1].slice(0, 128)}'. Try ${container.toUpperCase()} HELP.`);
    return false;
  }
  const n = args.length;
  if (meta.arity > 0 ? n !== meta.arity : n < -meta.arity) {
    w.err(ErrCode.Unknown, `ERR wrong number of arguments for '${container}|${sub}' command`);
    return false;
  }
  return true;
}

/** Writes a stored reply. */
export function writeStored(w: ReplyWriter, v: StoredReply): void {
  if (typeof v === 'string') return w.str(v);
  if (typeof v === 'number') return w.int(v);
  if (Array.isArray(v)) {
    w.arr(v.length);
    for (const x of v) writeStored(w, x);
    return;
  }
  if ('+' in v) return w.status(v['+']);
  if ('%' in v) {
    const items = v['%'];
    w.map(items.length / 2);
    for (const x of items) writeStored(w, x);
    return;
  }
  const items = v['~'];
  w.set(items.length);
  for (const x of items) writeStored(w, x);
}

/** The subcommands of a command redloop serves (those its spec says it implements). */
export function servedSubcommands(spec: CommandSpec, m: CommandMeta): [string, CommandMeta][] {
  const names = spec.subcommandNames;
  if (names === undefined) return [];
  return Object.entries(m.subcommands).filter(([full]) => names.has(full.slice(full.indexOf('|') + 1)));
}

/** One COMMAND / COMMAND INFO entry: Redis 7's ten fields. */
export function writeCommandInfo(w: ReplyWriter, name: string, m: CommandMeta, subs: [string, CommandMeta][]): void {
  w.arr(10);
  w.str(name);
  w.int(m.arity);
  w.set(m.flags.length);
  for (const f of m.flags) w.status(f);
  w.int(m.firstKey);
  w.int(m.lastKey);
  w.int(m.keyStep);
  w.set(m.acl.length);
  for (const c of m.acl) w.status(c);
  w.set(m.tips.length);
  for (const t of m.tips) w.str(t);
  w.set(m.keySpecs.length);
  for (const k of m.keySpecs) writeStored(w, k);
  if (subs.length === 0) return w.set(0);
  w.arr(subs.length);
  for (const [full, sm] of subs) writeCommandInfo(w, full, sm, []);
}

/** One COMMAND DOCS value: the doc map, with `subcommands` when there are any. */
export function writeCommandDocs(w: ReplyWriter, m: CommandMeta, subs: [string, CommandMeta][]): void {
  const d = m.docs;
  w.map(d.length / 2 + (subs.length > 0 ? 1 : 0));
  for (const x of d) writeStored(w, x);
  if (subs.length === 0) return;
  w.str('subcommands');
  w.map(subs.length);
  for (const [full, sm] of subs) {
    w.str(full);
    writeCommandDocs(w, sm, []);
  }
}

// ---- key extraction (COMMAND GETKEYS) ----

type BeginSearch = { type: 'index'; pos: number } | { type: 'keyword'; keyword: string; startfrom: number } | { type: 'unknown' };
type FindKeys =
  | { type: 'range'; lastkey: number; keystep: number; limit: number }
  | { type: 'keynum'; keynumidx: number; firstkey: number; keystep: number }
  | { type: 'unknown' };

/** A key spec, read out of its stored reply. */
export interface KeySpec {
  flags: string[];
  bs: BeginSearch;
  fk: FindKeys;
}

function mapOf(v: StoredReply): Record<string, StoredReply> {
  const o: Record<string, StoredReply> = {};
  if (typeof v === 'object' && v !== null && '%' in v) {
    const items = v['%'];
    for (let i = 0; i < items.length; i += 2) o[items[i] as string] = items[i + 1];
  }
  return o;
}

const specCache = new WeakMap<CommandMeta, KeySpec[]>();

/** The key specs of a command, parsed once. */
export function keySpecsOf(m: CommandMeta): KeySpec[] {
  let specs = specCache.get(m);
  if (specs !== undefined) return specs;
  specs = m.keySpecs.map((raw) => {
    const o = mapOf(raw);
    const flagSet = o.flags as { '~': { '+': string }[] };
    const bsMap = mapOf(o.begin_search);
    const bsSpec = mapOf(bsMap.spec);
    const fkMap = mapOf(o.find_keys);
    const fkSpec = mapOf(fkMap.spec);
    const bs: BeginSearch =
      bsMap.type === 'index'
        ? { type: 'index', pos: bsSpec.index as number }
        : bsMap.type === 'keyword'
          ? { type: 'keyword', keyword: bsSpec.keyword as string, startfrom: bsSpec.startfrom as number }
          : { type: 'unknown' };
    const fk: FindKeys =
      fkMap.type === 'range'
        ? { type: 'range', lastkey: fkSpec.lastkey as number, keystep: fkSpec.keystep as number, limit: fkSpec.limit as number }
        : fkMap.type === 'keynum'
          ? { type: 'keynum', keynumidx: fkSpec.keynumidx as number, firstkey: fkSpec.firstkey as number, keystep: fkSpec.keystep as number }
          : { type: 'unknown' };
    return { flags: flagSet['~'].map((f) => f['+']), bs, fk };
  });
  specCache.set(m, specs);
  return specs;
}

/** A key found in a request: its position in args and its key-spec flags. */
export interface FoundKey {
  pos: number;
  flags: readonly string[];
}

/** Redis's string2ll for the numkeys argument: a canonical signed decimal. */
function parseNumkeys(s: string): number | null {
  return /^(0|-?[1-9][0-9]{0,17})$/.test(s) ? Number(s) : null;
}

/**
 * The keys of a request by its key specs (Redis's getKeysUsingKeySpecs), args
 * name first; null when a spec cannot be followed (an unknown spec, a numkeys
 * that is not a number or runs past the arguments), as Redis then falls back to
 * the command's own key finder.
 */
export function keysBySpecs(m: CommandMeta, args: readonly string[]): FoundKey[] | null {
  const argc = args.length;
  const found: FoundKey[] = [];
  for (const spec of keySpecsOf(m)) {
    if (spec.flags.includes('not_key')) continue;
    let first = 0;
    if (spec.bs.type === 'index') first = spec.bs.pos;
    else if (spec.bs.type === 'keyword') {
      const { keyword, startfrom } = spec.bs;
      const start = startfrom > 0 ? startfrom : argc + startfrom;
      const end = startfrom > 0 ? argc - 1 : 0;
      for (let i = start; i !== end; i = start <= end ? i + 1 : i - 1) {
        if (i >= argc || i < 1) break;
        if (args[i].toLowerCase() === keyword.toLowerCase()) {
          first = i + 1;
          break;
        }
      }
      if (first === 0) continue; // the keyword is absent: no keys from this spec
    } else return null;
    let last: number;
    let step: number;
    if (spec.fk.type === 'range') {
      step = spec.fk.keystep;
      if (spec.fk.lastkey >= 0) last = first + spec.fk.lastkey;
      else if (spec.fk.limit === 0) last = argc + spec.fk.lastkey;
      else last = first + (Math.floor((argc - first) / spec.fk.limit) + spec.fk.lastkey);
    } else if (spec.fk.type === 'keynum') {
      step = spec.fk.keystep;
      if (spec.fk.keynumidx >= argc - first) return null;
      const numkeys = parseNumkeys(args[first + spec.fk.keynumidx]);
      if (numkeys === null || numkeys < 0) return null;
      first += spec.fk.firstkey;
      last = first + numkeys - 1;
    } else return null;
    if (last >= argc || last < first || first >= argc) return null;
    for (let i = first; i <= last; i += step) {
      if (i >= argc || i < first) continue;
      found.push({ pos: i, flags: spec.flags });
    }
    if (spec.flags.includes('incomplete')) return null;
  }
  return found;
}
