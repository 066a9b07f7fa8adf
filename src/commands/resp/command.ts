// COMMAND: COUNT, LIST [FILTERBY MODULE|ACLCAT|PATTERN], INFO, DOCS, GETKEYS,
// GETKEYSANDFLAGS and HELP — answered from each command's Redis 7.0
// description (src/commands/meta.ts), the one that also gave the table its
// arity, flags and key positions. Only commands (and subcommands) redloop
// serves are shown.

import type { ReplyWriter } from '../../protocol/reply.js';
import type { CommandSpec } from '../types.js';
import { NO_KEYS, err } from '../common.js';
import {
  type CommandMeta,
  type FoundKey,
  keySpecsOf,
  keysBySpecs,
  redisMeta,
  servedSubcommands,
  writeCommandDocs,
  writeCommandInfo,
} from '../meta.js';
import { globMatch } from './keys.js';

const COMMAND_HELP = [
  'COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  '(no subcommand)',
  '    Return details about all Redis commands.',
  'COUNT',
  '    Return the total number of commands in this Redis server.',
  'LIST',
  '    Return a list of all commands in this Redis server.',
  'INFO [<command-name> ...]',
  '    Return details about multiple Redis commands.',
  '    If no command names are given, documentation details for all',
  '    commands are returned.',
  'DOCS [<command-name> ...]',
  '    Return documentation details about multiple Redis commands.',
  '    If no command names are given, documentation details for all',
  '    commands are returned.',
  'GETKEYS <full-command>',
  '    Return the keys from a full Redis command.',
  'GETKEYSANDFLAGS <full-command>',
  '    Return the keys and the access flags from a full Redis command.',
  'HELP',
  '    Prints this help.',
];

/** A command or subcommand as served: its full name, its description, the subcommands served under it. */
interface Served {
  name: string;
  meta: CommandMeta;
  subs: [string, CommandMeta][];
}

/** Every command of the table with a description (each once: the map holds two spellings). */
function served(table: Map<string, CommandSpec>): Served[] {
  const out: Served[] = [];
  for (const spec of new Set(table.values())) {
    const meta = redisMeta(spec.name);
    if (meta !== undefined) out.push({ name: spec.name, meta, subs: servedSubcommands(spec, meta) });
  }
  return out;
}

/** A command or `container|sub` by name, as COMMAND INFO/DOCS look names up; undefined if not served. */
function find(table: Map<string, CommandSpec>, name: string): Served | undefined {
  const lower = name.toLowerCase();
  const bar = lower.indexOf('|');
  const spec = table.get(bar < 0 ? lower : lower.slice(0, bar));
  if (spec === undefined) return undefined;
  const meta = redisMeta(spec.name);
  if (meta === undefined) return undefined;
  const subs = servedSubcommands(spec, meta);
  if (bar < 0) return { name: spec.name, meta, subs };
  const sub = subs.find(([full]) => full === lower);
  return sub === undefined ? undefined : { name: sub[0], meta: sub[1], subs: [] };
}

/** The command a full request names (Redis's lookupCommand): a container's subcommand when there is one. */
function findRequest(table: Map<string, CommandSpec>, req: string[]): Served | undefined {
  if (req[0].includes('|')) return undefined; // a full name is not a command name here
  const top = find(table, req[0]);
  if (top === undefined || req.length === 1 || top.subs.length === 0) return top;
  return find(table, `${top.name}|${req[1]}`);
}

/**
 * Key finders for commands whose key specs cannot say (Redis's getkeys_proc):
 * used when the specs fail, as Redis falls back to them. Commands redloop does
 * not have yet are here so that adding them needs nothing more.
 */
const KEY_FINDERS: Record<string, (args: readonly string[]) => FoundKey[]> = {
  sort(args) {
    const keys: FoundKey[] = [{ pos: 1, flags: ['RO', 'access'] }];
    let store = -1;
    for (let i = 2; i < args.length; i++) {
      const a = args[i].toLowerCase();
      if (a === 'limit') i += 2;
      else if (a === 'get' || a === 'by') i += 1;
      else if (a === 'store' && i + 1 < args.length) store = i + 1;
    }
    if (store > 0) keys.push({ pos: store, flags: ['OW', 'update'] });
    return keys;
  },
  sort_ro: () => [{ pos: 1, flags: ['RO', 'access'] }],
  // SET and BITFIELD: their key's flags depend on the arguments (key specs flagged variable_flags).
  set(args) {
    for (let i = 3; i < args.length; i++) if (args[i].toLowerCase() === 'get') return [{ pos: 1, flags: ['RW', 'access', 'update'] }];
    return [{ pos: 1, flags: ['OW', 'update'] }];
  },
  bitfield(args) {
    let readOnly = true;
    for (let i = 2; i < args.length; i++) {
      const a = args[i].toLowerCase();
      const rest = args.length - i - 1;
      if (a === 'get' && rest >= 2) i += 2;
      else if (a === 'overflow' && rest >= 1) i += 1;
      else {
        readOnly = false; // SET, INCRBY, or a syntax error (assumed to write)
        break;
      }
    }
    return [{ pos: 1, flags: readOnly ? ['RO', 'access'] : ['RW', 'access', 'update'] }];
  },
  georadius: (args) => geoKeys(args, 6),
  georadiusbymember: (args) => geoKeys(args, 5),
};

/** GEORADIUS[BYMEMBER]'s keys: the source, and the last STORE/STOREDIST target that has an argument. */
function geoKeys(args: readonly string[], from: number): FoundKey[] {
  const keys: FoundKey[] = [{ pos: 1, flags: ['RO', 'access'] }];
  let store = -1;
  for (let i = from; i < args.length; i++) {
    const a = args[i].toLowerCase();
    if ((a === 'store' || a === 'storedist') && i + 1 < args.length) {
      store = i + 1;
      i++;
    }
  }
  if (store > 0) keys.push({ pos: store, flags: ['OW', 'update'] });
  return keys;
}

/** Redis's getKeysFromCommandWithSpecs: the specs, or the command's own finder when they cannot be followed. */
export function keysOf(name: string, meta: CommandMeta, args: readonly string[]): FoundKey[] {
  // Specs are preferred, unless one says its flags depend on the arguments.
  const specs = keySpecsOf(meta);
  const usable = specs.length > 0 && !specs.some((k) => k.flags.includes('variable_flags'));
  const bySpecs = usable ? keysBySpecs(meta, args) : null;
  if (bySpecs !== null) return bySpecs;
  const finder = KEY_FINDERS[name];
  return finder === undefined ? [] : finder(args);
}

function getKeys(table: Map<string, CommandSpec>, req: string[], withFlags: boolean, w: ReplyWriter): void {
  const cmd = findRequest(table, req);
  if (cmd === undefined) return err(w, 'ERR Invalid command specified');
  const hasKeys = keySpecsOf(cmd.meta).some((s) => !s.flags.includes('not_key')) || Object.hasOwn(KEY_FINDERS, cmd.name);
  if (!hasKeys) return err(w, 'ERR The command has no key arguments');
  const { arity } = cmd.meta;
  if (arity > 0 ? arity !== req.length : req.length < -arity) return err(w, 'ERR Invalid number of arguments specified for command');
  const keys = keysOf(cmd.name, cmd.meta, req);
  if (keys.length === 0) {
    if (cmd.meta.flags.includes('no_mandatory_keys')) return w.arr(0);
    return err(w, 'ERR Invalid arguments specified for command');
  }
  w.arr(keys.length);
  for (const k of keys) {
    if (!withFlags) {
      w.str(req[k.pos]);
      continue;
    }
    w.arr(2);
    w.str(req[k.pos]);
    w.set(k.flags.length);
    for (const f of k.flags) w.status(f);
  }
}

/** COMMAND LIST FILTERBY's test of one command or subcommand. */
function listFilter(kind: string, arg: string): ((name: string, m: CommandMeta) => boolean) | null {
  switch (kind.toLowerCase()) {
    case 'module':
      return () => false; // no modules are loaded
    case 'aclcat': {
      const cat = `@${arg.toLowerCase()}`;
      return (_name, m) => m.acl.includes(cat);
    }
    case 'pattern':
      return (name) => globMatch(arg, name, true);
    default:
      return null;
  }
}

/** The COMMAND command. `table` gives the RESP table (built from the list this spec is in). */
export function commandCommand(table: () => Map<string, CommandSpec>): CommandSpec {
  return {
    name: 'command',
    arity: -1,
    ...NO_KEYS,
    run(args, w) {
      const specs = table();
      if (args.length === 1) {
        const all = served(specs);
        w.arr(all.length);
        for (const c of all) writeCommandInfo(w, c.name, c.meta, c.subs);
        return;
      }
      switch (args[1].toLowerCase()) {
        case 'count':
          return w.int(served(specs).length);
        case 'info': {
          const found = args.length === 2 ? served(specs) : args.slice(2).map((n) => find(specs, n));
          w.arr(found.length);
          for (const c of found) {
            if (c === undefined) w.nil();
            else writeCommandInfo(w, c.name, c.meta, c.subs);
          }
          return;
        }
        case 'docs': {
          const found = (args.length === 2 ? served(specs) : args.slice(2).map((n) => find(specs, n))).filter((c): c is Served => c !== undefined);
          w.map(found.length);
          for (const c of found) {
            w.str(c.name);
            writeCommandDocs(w, c.meta, c.subs);
          }
          return;
        }
        case 'list': {
          let keep: (name: string, m: CommandMeta) => boolean = () => true;
          if (args.length === 5 && args[2].toLowerCase() === 'filterby') {
            const f = listFilter(args[3], args[4]);
            if (f === null) return err(w, 'ERR syntax error');
            keep = f;
          } else if (args.length > 2) return err(w, 'ERR syntax error');
          const names: string[] = [];
          for (const c of served(specs)) {
            if (keep(c.name, c.meta)) names.push(c.name);
            for (const [full, m] of c.subs) if (keep(full, m)) names.push(full);
          }
          w.arr(names.length);
          for (const n of names) w.str(n);
          return;
        }
        case 'getkeys':
          return getKeys(specs, args.slice(2), false, w);
        case 'getkeysandflags':
          return getKeys(specs, args.slice(2), true, w);
        default: {
          // help (checkSubcommand let nothing else through)
          w.arr(COMMAND_HELP.length);
          for (const l of COMMAND_HELP) w.status(l);
        }
      }
    },
  };
}
