// Differential: COMMAND (COUNT, LIST FILTERBY, INFO, DOCS, GETKEYS,
// GETKEYSANDFLAGS, HELP and its errors) for every command redloop has,
// compared with redis-server 7.0's answer for the same command.
//
// Known differences, each checked below rather than skipped:
// - redloop serves fewer commands: COUNT, LIST and the argument-less forms are
//   compared with Redis's restricted to the commands redloop has;
// - KNOWN_MISSING subcommands are not served, so they are absent from their
//   container's COMMAND INFO / DOCS entry;
// - Redis lists subcommands in its hash table's order, redloop by name: the
//   subcommands of a container are compared as sets.
import { describe, expect, test } from 'vitest';
import { respTable } from '../../src/commands/resp/index.js';
import { parseReply, type RespReply } from '../../src/protocol/resp.js';
import { RawClient, useServers } from './harness.js';

const names = [...new Set([...respTable.commands.values()].map((s) => s.name))].sort();
/** Subcommands of Redis 7.0 that redloop does not implement (README: deviations). */
const KNOWN_MISSING = ['client|reply', 'script|debug'];

/** A reply as plain data, its RESP type kept where it is not an array. */
type Plain = string | number | null | Plain[] | { [type: string]: Plain[] | string };
function plain(r: RespReply): Plain {
  switch (r.type) {
    case 'bulk':
      return r.value === null ? null : r.value.toString('latin1');
    case 'int':
      return Number(r.value);
    case 'status':
      return { status: r.value };
    case 'error':
      return { error: r.value };
    case 'null':
      return null;
    case 'array':
      return r.items === null ? null : r.items.map(plain);
    case 'map':
    case 'set':
    case 'push':
      return { [r.type]: r.items.map(plain) };
    default:
      return { [r.type]: String((r as { value?: unknown }).value) };
  }
}
const parse = (b: Buffer): Plain => plain(parseReply(b)!.reply);

/** A COMMAND INFO entry with its subcommands sorted and KNOWN_MISSING ones dropped. */
function normInfo(e: Plain): Plain {
  if (!Array.isArray(e)) return e;
  const subs = e[9];
  if (!Array.isArray(subs)) return e;
  const kept = subs.filter((s) => Array.isArray(s) && !KNOWN_MISSING.includes(s[0] as string));
  kept.sort((a, b) => ((a as Plain[])[0]! < (b as Plain[])[0]! ? -1 : 1));
  return [...e.slice(0, 9), kept.length === 0 ? { set: [] } : kept];
}

/** A COMMAND DOCS value (a map, or a flat array in RESP2) with its subcommands sorted and KNOWN_MISSING ones dropped. */
function normDocs(d: Plain): Plain {
  const items = Array.isArray(d) ? d : d !== null && typeof d === 'object' && Array.isArray(d.map) ? d.map : null;
  if (items === null) return d;
  const out: Plain[] = [];
  for (let i = 0; i < items.length; i += 2) {
    out.push(items[i]);
    if (items[i] !== 'subcommands') {
      out.push(items[i + 1]);
      continue;
    }
    const sub = items[i + 1];
    const flat = Array.isArray(sub) ? sub : (sub as { map: Plain[] }).map;
    const pairs: [string, Plain][] = [];
    for (let j = 0; j < flat.length; j += 2) if (!KNOWN_MISSING.includes(flat[j] as string)) pairs.push([flat[j] as string, flat[j + 1]]);
    pairs.sort((a, b) => (a[0] < b[0] ? -1 : 1));
    out.push(pairs.flat());
  }
  return out;
}

/** Request arguments from a COMMAND DOCS argument tree: `full` takes every optional part, else none. */
function sampleArgs(args: Plain[] | undefined, full: boolean): string[] {
  const out: string[] = [];
  let keyNo = 0;
  const walk = (list: Plain[], into: string[]) => {
    for (let i = 0; i < list.length; i++) {
      const a = fields(list[i]);
      const flags = flagsOf(a.flags);
      if (flags.includes('optional') && !full) continue;
      const times = flags.includes('multiple') ? 2 : 1;
      for (let t = 0; t < times; t++) {
        if (a.token !== undefined && (t === 0 || flags.includes('multiple_token')) && a.type !== 'pure-token') into.push(a.token as string);
        switch (a.type) {
          case 'pure-token':
            into.push(a.token as string);
            break;
          case 'oneof':
            walk([(a.arguments as Plain[])[0]], into);
            break;
          case 'block':
            walk(a.arguments as Plain[], into);
            break;
          case 'key':
            into.push(`k${++keyNo}`);
            break;
          case 'integer':
            // numkeys: the number of keys that follow (two: a multiple argument is given twice).
            into.push(/numkeys|count/.test(a.name as string) ? '2' : '1');
            break;
          case 'double':
            into.push('1.5');
            break;
          case 'unix-time':
            into.push('100');
            break;
          default:
            into.push(String(a.name));
        }
      }
    }
  };
  walk(args ?? [], out);
  return out;
}
function fields(p: Plain): Record<string, Plain> {
  const flat = Array.isArray(p) ? p : p !== null && typeof p === 'object' && Array.isArray(p.map) ? p.map : [];
  const o: Record<string, Plain> = {};
  for (let i = 0; i < flat.length; i += 2) o[flat[i] as string] = flat[i + 1];
  return o;
}
function flagsOf(p: Plain | undefined): string[] {
  if (p === undefined || p === null) return [];
  const items = Array.isArray(p) ? p : typeof p === 'object' && Array.isArray(p.set) ? p.set : [];
  return items.map((x) => (typeof x === 'object' && x !== null && !Array.isArray(x) ? (x.status as string) : String(x)));
}

describe('COMMAND introspection', () => {
  const s = useServers();

  test('COMMAND INFO of every command equals Redis 7.0 (subcommands as a set)', async () => {
    const [a, b] = await Promise.all([s.redis.call(['COMMAND', 'INFO', ...names]), s.ours.call(['COMMAND', 'INFO', ...names])]);
    const theirs = (parse(a) as Plain[]).map(normInfo);
    const ours = (parse(b) as Plain[]).map(normInfo);
    const diff = names.filter((_, i) => JSON.stringify(ours[i]) !== JSON.stringify(theirs[i]));
    expect(diff).toEqual([]);
  });

  test('COMMAND INFO of subcommands, of unknown names, and COMMAND (all) and COUNT agree with the names served', async () => {
    await s.same([
      ['COMMAND', 'INFO', 'client|list', 'config|get', 'CONFIG|SET', 'nosuch', 'client|nosuch', 'get|x'],
      ['COMMAND', 'INFO', 'GET', 'Set'],
    ]);
    const all = parse(await s.ours.call(['COMMAND'])) as Plain[];
    expect(all.map((e) => (e as Plain[])[0]).sort()).toEqual(names);
    expect(parse(await s.ours.call(['COMMAND', 'COUNT']))).toBe(names.length);
    const infoAll = parse(await s.ours.call(['COMMAND', 'INFO'])) as Plain[];
    expect(infoAll.length).toBe(names.length);
  });

  test('COMMAND DOCS of every command equals Redis 7.0 (subcommands as a set)', async () => {
    const [a, b] = await Promise.all([s.redis.call(['COMMAND', 'DOCS', ...names]), s.ours.call(['COMMAND', 'DOCS', ...names])]);
    const byName = (p: Plain) => {
      const f = fields(p);
      return Object.fromEntries(Object.entries(f).map(([k, v]) => [k, normDocs(v)]));
    };
    const theirs = byName(parse(a));
    const ours = byName(parse(b));
    expect(Object.keys(ours).sort()).toEqual(names);
    const diff = names.filter((n) => JSON.stringify(ours[n]) !== JSON.stringify(theirs[n]));
    expect(diff).toEqual([]);
    await s.same([['COMMAND', 'DOCS', 'nosuch', 'get', 'client|list', 'CLIENT|KILL']]);
  });

  test('COMMAND LIST, with FILTERBY ACLCAT for every category, PATTERN and MODULE, equals Redis restricted to the commands redloop has', async () => {
    const served = new Set(parse(await s.ours.call(['COMMAND', 'LIST'])) as string[]);
    // Everything redloop lists is a Redis command; everything Redis lists that redloop has is listed.
    const theirsAll = parse(await s.redis.call(['COMMAND', 'LIST'])) as string[];
    const has = (n: string) => names.includes(n.split('|')[0]) && !KNOWN_MISSING.includes(n);
    expect([...served].sort()).toEqual(theirsAll.filter(has).sort());
    const cats = (parse(await s.redis.call(['ACL', 'CAT'])) as string[]).concat(['nosuchcat', 'READ']);
    const filters = [...cats.map((c) => ['ACLCAT', c]), ['PATTERN', 'z*'], ['PATTERN', '*|*'], ['PATTERN', 'CLIENT*'], ['PATTERN', 'x[a-d]*'], ['MODULE', 'nosuch']];
    for (const f of filters) {
      const cmd = ['COMMAND', 'LIST', 'FILTERBY', ...f];
      const [a, b] = await Promise.all([s.redis.call(cmd), s.ours.call(cmd)]);
      expect((parse(b) as string[]).sort(), cmd.join(' ')).toEqual((parse(a) as string[]).filter(has).sort());
    }
    await s.same([
      ['COMMAND', 'LIST', 'FILTERBY', 'bogus', 'x'],
      ['COMMAND', 'LIST', 'FILTERBY', 'ACLCAT'],
      ['COMMAND', 'LIST', 'x'],
      ['COMMAND', 'LIST', 'FILTERBY', 'PATTERN', 'x', 'y'],
    ]);
  });

  test('COMMAND GETKEYS and GETKEYSANDFLAGS for every command, with its arguments built from its docs (none, and all optional ones)', async () => {
    const docs = fields(parse(await s.redis.call(['COMMAND', 'DOCS', ...names])));
    const problems: string[] = [];
    for (const name of names) {
      const d = fields(docs[name]);
      const requests: string[][] = [];
      const subs = d.subcommands === undefined ? [] : Object.entries(fields(d.subcommands)).filter(([n]) => !KNOWN_MISSING.includes(n));
      if (subs.length === 0) {
        requests.push([name, ...sampleArgs(d.arguments as Plain[], false)], [name, ...sampleArgs(d.arguments as Plain[], true)]);
      } else {
        for (const [full, sd] of subs) {
          const sf = fields(sd);
          const [c, sub] = full.split('|');
          requests.push([c, sub, ...sampleArgs(sf.arguments as Plain[], false)], [c, sub, ...sampleArgs(sf.arguments as Plain[], true)]);
        }
      }
      for (const req of requests) {
        for (const how of ['GETKEYS', 'GETKEYSANDFLAGS']) {
          const cmd = ['COMMAND', how, ...req];
          const [a, b] = await Promise.all([s.redis.call(cmd), s.ours.call(cmd)]);
          if (!a.equals(b)) problems.push(`${cmd.join(' ')}: redis ${JSON.stringify(a.toString('latin1'))}, ours ${JSON.stringify(b.toString('latin1'))}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  test('COMMAND GETKEYS edge cases: movable keys, bad numkeys, absent keywords, arity, unknown commands', () =>
    s.same([
      ['COMMAND', 'GETKEYS', 'EVAL', 'return 1', '3', 'a', 'b', 'c', 'x', 'y'],
      ['COMMAND', 'GETKEYS', 'EVAL', 'return 1', '0'],
      ['COMMAND', 'GETKEYS', 'EVAL', 'return 1', '5', 'a'],
      ['COMMAND', 'GETKEYS', 'EVAL', 'return 1', '-1', 'a'],
      ['COMMAND', 'GETKEYS', 'EVAL', 'return 1', 'x', 'a'],
      ['COMMAND', 'GETKEYS', 'FCALL', 'f', '1', 'a', 'b'],
      ['COMMAND', 'GETKEYS', 'ZUNIONSTORE', 'd', '2', 'a', 'b', 'WEIGHTS', '1', '2'],
      ['COMMAND', 'GETKEYS', 'ZUNIONSTORE', 'd', '5', 'a', 'b'],
      ['COMMAND', 'GETKEYS', 'ZUNIONSTORE', 'd', '0', 'a'],
      ['COMMAND', 'GETKEYSANDFLAGS', 'ZINTERSTORE', 'd', '2', 'a', 'b'],
      ['COMMAND', 'GETKEYS', 'ZINTER', '2', 'a', 'b', 'WITHSCORES'],
      ['COMMAND', 'GETKEYS', 'LMPOP', '2', 'a', 'b', 'LEFT'],
      ['COMMAND', 'GETKEYS', 'BLMPOP', '0', '2', 'a', 'b', 'LEFT', 'COUNT', '3'],
      ['COMMAND', 'GETKEYS', 'SINTERCARD', '3', 'a', 'b'],
      ['COMMAND', 'GETKEYS', 'XREAD', 'COUNT', '2', 'STREAMS', 'a', 'b', '0', '0'],
      ['COMMAND', 'GETKEYS', 'XREAD', 'STREAMS', 'a', 'b', '0'],
      ['COMMAND', 'GETKEYS', 'XREAD', 'COUNT', '2', 'BLOCK', '0'],
      ['COMMAND', 'GETKEYSANDFLAGS', 'XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', 'a', '>'],
      ['COMMAND', 'GETKEYS', 'GEORADIUS', 'src', '0', '0', '1', 'km', 'STORE', 'dst'],
      ['COMMAND', 'GETKEYSANDFLAGS', 'GEORADIUS', 'src', '0', '0', '1', 'km', 'STOREDIST', 'dst'],
      ['COMMAND', 'GETKEYS', 'GEORADIUS', 'src', '0', '0', '1', 'km', 'STORE'],
      ['COMMAND', 'GETKEYS', 'GEORADIUSBYMEMBER', 'src', 'm', '1', 'km', 'STORE', 'a', 'STOREDIST', 'b'],
      ['COMMAND', 'GETKEYS', 'MSET', 'a', '1', 'b', '2'],
      ['COMMAND', 'GETKEYS', 'MSET', 'a', '1', 'b'],
      ['COMMAND', 'GETKEYSANDFLAGS', 'SET', 'k', 'v', 'GET'],
      ['COMMAND', 'GETKEYSANDFLAGS', 'BITFIELD', 'k', 'GET', 'u8', '0'],
      ['COMMAND', 'GETKEYS', 'RENAME', 'a', 'b'],
      ['COMMAND', 'GETKEYS', 'BLPOP', 'a', 'b', 'c', '0'],
      ['COMMAND', 'GETKEYS', 'GET', 'a', 'b'],
      ['COMMAND', 'GETKEYS', 'GET'],
      ['COMMAND', 'GETKEYS', 'PING'],
      ['COMMAND', 'GETKEYS', 'CLIENT', 'LIST'],
      ['COMMAND', 'GETKEYS', 'NOSUCH', 'a'],
      ['COMMAND', 'GETKEYS', 'client|list', 'a'],
      ['COMMAND', 'GETKEYS', 'PUBLISH', 'ch', 'm'],
      ['COMMAND', 'GETKEYS', 'SPUBLISH', 'ch', 'm'],
      ['COMMAND', 'GETKEYS', 'SSUBSCRIBE', 'ch'],
      ['COMMAND', 'GETKEYS', 'PFDEBUG', 'GETREG', 'k'],
      ['COMMAND', 'GETKEYS'],
      ['COMMAND', 'GETKEYS', 'GET'],
      ['COMMAND', 'GETKEYSANDFLAGS', 'get'],
    ]));

  test('a container called from a script: unknown subcommand, its arity and its noscript flag, in the script wording', () =>
    s.same([
      ['EVAL', "return redis.call('config','nosuch')", '0'],
      ['EVAL', "return redis.call('config','get')", '0'],
      ['EVAL', "return redis.call('client','list')", '0'],
      ['EVAL', "return redis.call('config','get','maxmemory')", '0'],
      ['EVAL', "return redis.call('command','count','x')", '0'],
      ['EVAL', "return redis.call('latency','latest')", '0'],
      ['EVAL', "return redis.call('pubsub','numpat')", '0'],
    ]));

  test('MONITOR leaves out admin commands and subcommands by their description (SLOWLOG, LATENCY, PFSELFTEST…)', () =>
    s.script(2, [
      [0, ['MONITOR']],
      [1, ['SLOWLOG', 'RESET']],
      [1, ['LATENCY', 'LATEST']],
      [1, ['PFSELFTEST']],
      [1, ['COMMAND', 'COUNT', 'x']],
      [1, ['LATENCY', 'HELP']], // not admin: shown
      { reply: 0, match: 'monitor' },
      [1, ['ECHO', 'shown']],
      { reply: 0, match: 'monitor' },
      [0, ['RESET']],
    ]));

  test('COMMAND HELP and its errors', () =>
    s.same([
      ['COMMAND', 'HELP'],
      ['COMMAND', 'help', 'x'],
      ['COMMAND', 'NOSUCH'],
      ['COMMAND', 'COUNT', 'x'],
    ]));
});

/** A reply's skeleton: integers and numeric strings become their type, runs of integers (histogram buckets) one 'ints'. */
function skeleton(p: Plain): unknown {
  if (typeof p === 'number') return 'int';
  if (typeof p === 'string') return /^\d+$/.test(p) ? 'numeric' : p;
  if (p === null) return null;
  if (Array.isArray(p)) return p.length > 0 && p.every((x) => typeof x === 'number') ? 'ints' : p.map(skeleton);
  const [type, v] = Object.entries(p)[0];
  if (Array.isArray(v)) return { [type]: v.length > 0 && v.every((x) => typeof x === 'number') ? 'ints' : v.map(skeleton) };
  return { [type]: v };
}
/** Text with every number masked. */
const masked = (b: Buffer) => b.toString('latin1').replace(/\d+/g, 'N');

describe('LATENCY: shapes as Redis 7.0 after a slow command (DEBUG SLEEP) and a few fast ones', () => {
  const s = useServers(['--enable-debug-command', 'yes'], { redisArgs: ['--enable-debug-command', 'yes'] });

  test('LATEST, HISTORY, GRAPH, DOCTOR, HISTOGRAM, RESET, HELP and errors', async () => {
    const both = async (cmd: string[]) => Promise.all([s.redis.call(cmd), s.ours.call(cmd)]);
    // Off: nothing recorded, the doctor says so.
    await s.same([['LATENCY', 'LATEST'], ['LATENCY', 'DOCTOR'], ['LATENCY', 'HISTORY', 'command'], ['LATENCY', 'GRAPH', 'command']]);
    // A threshold no ordinary command reaches, and one sleep over it.
    await s.same([['CONFIG', 'SET', 'latency-monitor-threshold', '200'], ['DEBUG', 'SLEEP', '0.3'], ['SET', 'k', 'v'], ['GET', 'k']]);
    for (const cmd of [['LATENCY', 'LATEST'], ['LATENCY', 'HISTORY', 'command'], ['LATENCY', 'HISTORY', 'nosuch'], ['LATENCY', 'HISTOGRAM', 'get', 'set', 'nosuch'], ['LATENCY', 'HISTOGRAM', 'config'], ['LATENCY', 'HISTOGRAM', 'CONFIG|SET']]) {
      const [a, b] = await both(cmd);
      expect(skeleton(parse(b)), cmd.join(' ')).toEqual(skeleton(parse(a)));
    }
    // One sample of 300 ms or so: the same graph and report but for the numbers.
    for (const cmd of [['LATENCY', 'GRAPH', 'command'], ['LATENCY', 'DOCTOR']]) {
      const [a, b] = await both(cmd);
      expect(masked(b), cmd.join(' ')).toBe(masked(a));
    }
    const latest = parse(await s.ours.call(['LATENCY', 'LATEST'])) as Plain[][];
    expect(latest[0][0]).toBe('command');
    expect(latest[0][2]).toBeGreaterThanOrEqual(300);
    await s.same([
      ['LATENCY', 'RESET', 'nosuch'],
      ['LATENCY', 'RESET', 'command', 'nosuch'],
      ['LATENCY', 'LATEST'],
      ['LATENCY', 'RESET'],
      ['LATENCY', 'HELP'],
      ['LATENCY', 'NOSUCH'],
      ['LATENCY', 'GRAPH'],
      ['LATENCY', 'HISTORY'],
      ['LATENCY', 'LATEST', 'x'],
      ['LATENCY', 'GRAPH', 'nosuch'],
      ['CONFIG', 'SET', 'latency-monitor-threshold', '0'],
    ]);
  });

  test('INFO latencystats: one line per command run, p50/p99/p99.9 as configured; empty when tracking is off', async () => {
    await s.same([['CONFIG', 'RESETSTAT'], ['SET', 'k', 'v'], ['GET', 'k'], ['GET', 'k']]);
    const lines = (b: Buffer) => masked(b).split('\r\n').filter((l) => l.startsWith('latency_percentiles_usec_get') || l.startsWith('latency_percentiles_usec_set') || l.startsWith('#')).sort();
    let [a, b] = await Promise.all([s.redis.call(['INFO', 'latencystats']), s.ours.call(['INFO', 'latencystats'])]);
    expect(lines(b)).toEqual(lines(a));
    expect(b.toString('latin1')).toMatch(/latency_percentiles_usec_get:p50=\d+\.\d{3},p99=\d+\.\d{3},p99\.9=\d+\.\d{3}\r\n/);
    await s.same([['CONFIG', 'SET', 'latency-tracking-info-percentiles', '0 50 100'], ['GET', 'k']]);
    [a, b] = await Promise.all([s.redis.call(['INFO', 'latencystats']), s.ours.call(['INFO', 'latencystats'])]);
    expect(lines(b)).toEqual(lines(a));
    await s.same([['CONFIG', 'SET', 'latency-tracking', 'no'], ['CONFIG', 'SET', 'latency-tracking-info-percentiles', '50 99 99.9'], ['INFO', 'latencystats'], ['CONFIG', 'SET', 'latency-tracking', 'yes']]);
  });
});

describe('DEBUG', () => {
  describe('refused by default (enable-debug-command no), as Redis 7.0', () => {
    const s = useServers();
    test('any subcommand, after the arity check', () =>
      s.same([['DEBUG', 'SLEEP', '0'], ['DEBUG', 'OBJECT', 'k'], ['DEBUG', 'NOSUCH'], ['DEBUG'], ['CONFIG', 'GET', 'enable-debug-command'], ['CONFIG', 'SET', 'enable-debug-command', 'yes']]));
  });

  describe('allowed from loopback with enable-debug-command local', () => {
    const s = useServers(['--enable-debug-command', 'local'], { redisArgs: ['--enable-debug-command', 'local'] });
    test('DEBUG SLEEP 0 answers OK', () => s.same([['DEBUG', 'SLEEP', '0'], ['CONFIG', 'GET', 'enable-debug-command']]));
  });

  describe('enabled', () => {
    const s = useServers(['--enable-debug-command', 'yes'], { redisArgs: ['--enable-debug-command', 'yes'] });
    /** DEBUG OBJECT with the fields redloop cannot know (address, LRU clock and idle time) masked. */
    const maskObject = (b: Buffer) => b.toString('latin1').replace(/Value at:0x[0-9a-f]+/, 'Value at:ADDR').replace(/lru:\d+ lru_seconds_idle:\d+/, 'lru:L lru_seconds_idle:I');

    test('DEBUG OBJECT: encoding, refcount, serializedlength and the quicklist fields as Redis for every type and encoding', async () => {
      const big = 'x'.repeat(100);
      const setup: string[][] = [
        ['SET', 'int', '100'],
        ['SET', 'bigint', '123456789'],
        ['SET', 'neg', '-5'],
        ['SET', 'emb', 'hello'],
        ['SET', 'raw', big],
        ['SET', 'raw2', 'y'.repeat(45)],
        ['RPUSH', 'list', 'a', 'b', '1', '2'],
        ['SADD', 'iset', '1', '2', '3'],
        ['SADD', 'hset', 'a', 'b'],
        ['HSET', 'hsmall', 'f', 'v'],
        ['HSET', 'hbig', 'f', big],
        ['ZADD', 'zsmall', '1', 'a'],
        ['ZADD', 'zbig', '1', big],
        // Not SETRANGE/APPEND on a short string: Redis makes those raw, redloop does not know a string's history (README).
      ];
      await s.same(setup);
      // A list over several quicklist nodes.
      const many = Array.from({ length: 3000 }, (_, i) => `element-${i}`);
      await Promise.all([s.redis.call(['RPUSH', 'longlist', ...many]), s.ours.call(['RPUSH', 'longlist', ...many])]);
      const problems: string[] = [];
      for (const key of [...setup.map((c) => c[1]), 'longlist']) {
        const [a, b] = await Promise.all([s.redis.call(['DEBUG', 'OBJECT', key]), s.ours.call(['DEBUG', 'OBJECT', key])]);
        if (maskObject(a) !== maskObject(b)) problems.push(`${key}: redis ${maskObject(a)} ours ${maskObject(b)}`);
      }
      expect(problems).toEqual([]);
    });

    test('DEBUG SLEEP, SET-ACTIVE-EXPIRE (keys then expire only when touched), and the errors', async () => {
      await s.same([
        ['DEBUG', 'SLEEP', '0'],
        ['DEBUG', 'SLEEP', '0.01'],
        ['DEBUG', 'SLEEP', 'x'],
        ['DEBUG', 'SLEEP'],
        ['DEBUG', 'OBJECT', 'nokey'],
        ['DEBUG', 'OBJECT'],
        ['DEBUG', 'NOSUCH', 'x'],
        ['DEBUG', 'RELOADX'],
        ['DEBUG', 'SET-ACTIVE-EXPIRE', '0'],
        ['SET', 'e', 'v', 'PX', '1'],
        { sleepMs: 50 },
        ['DBSIZE'], // still there: nothing expires it actively
        ['GET', 'e'], // touched: expired
        ['DBSIZE'],
        ['DEBUG', 'SET-ACTIVE-EXPIRE', '1'],
      ]);
      const help = parse(await s.ours.call(['DEBUG', 'HELP'])) as Plain[];
      expect(help[0]).toEqual({ status: 'DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:' });
    });
  });
});

describe('INFO: keyspace hits and misses, instantaneous metrics, sections', () => {
  const s = useServers();
  const field = (b: Buffer, name: string) => new RegExp(`\\r\\n${name}:([^\\r]*)\\r\\n`).exec(b.toString('latin1'))?.[1];

  test('keyspace_hits / keyspace_misses count the lookups of read commands as Redis; RESETSTAT zeroes them', async () => {
    await s.same([
      ['SET', 'a', '1'],
      ['HSET', 'h', 'f', 'v'],
      ['RPUSH', 'l', 'x'],
      ['SADD', 's', 'm'],
      ['CONFIG', 'RESETSTAT'],
      ['GET', 'a'], // hit
      ['GET', 'nokey'], // miss
      ['MGET', 'a', 'b', 'c'], // 1 hit, 2 misses
      ['HGET', 'h', 'f'],
      ['HGET', 'nokey', 'f'],
      ['EXISTS', 'a', 'nokey'],
      ['TYPE', 'l'],
      ['LRANGE', 'l', '0', '-1'],
      ['SISMEMBER', 's', 'm'],
      ['STRLEN', 'nokey'],
      ['SET', 'b', '2'], // writes do not count
      ['INCR', 'c'],
      ['DEL', 'b', 'nokey'],
      ['MULTI'],
      ['GET', 'a'],
      ['EXEC'],
      ['EVAL', "return redis.call('GET', KEYS[1])", '1', 'a'],
      ['EVAL', "return redis.call('GET', KEYS[1])", '1', 'nokey'],
    ]);
    const [a, b] = await Promise.all([s.redis.call(['INFO', 'stats']), s.ours.call(['INFO', 'stats'])]);
    expect([field(b, 'keyspace_hits'), field(b, 'keyspace_misses')]).toEqual([field(a, 'keyspace_hits'), field(a, 'keyspace_misses')]);
    expect(Number(field(b, 'keyspace_hits'))).toBeGreaterThan(0);
    await s.same([['CONFIG', 'RESETSTAT']]);
    const after = await s.ours.call(['INFO', 'stats']);
    expect([field(after, 'keyspace_hits'), field(after, 'keyspace_misses'), field(after, 'total_error_replies')]).toEqual(['0', '0', '0']);
  });

  test('the Stats fields redloop reports come in Redis\'s order, numbers where Redis has numbers', async () => {
    const [a, b] = await Promise.all([s.redis.call(['INFO', 'stats']), s.ours.call(['INFO', 'stats'])]);
    const names = (x: Buffer) =>
      x.toString('latin1').replace(/^[$=]\d+\r\n(txt:)?/, '').split('\r\n').filter((l) => l.includes(':')).map((l) => l.split(':')[0]);
    const ours = names(b);
    for (const f of ['instantaneous_ops_per_sec', 'instantaneous_input_kbps', 'instantaneous_output_kbps', 'total_net_input_bytes', 'keyspace_hits', 'total_error_replies']) expect(ours).toContain(f);
    expect(names(a).filter((n) => ours.includes(n))).toEqual(ours);
    for (const f of ours) expect(field(b, f), f).toMatch(/^\d+(\.\d\d)?$/);
    expect(field(b, 'instantaneous_input_kbps')).toMatch(/^\d+\.\d\d$/);
  });

  test('INFO everything / all / default / several sections: the same sections in the same order as Redis', async () => {
    const heads = (x: Buffer) => x.toString('latin1').split('\r\n').filter((l) => l.startsWith('# '));
    for (const cmd of [['INFO'], ['INFO', 'default'], ['INFO', 'all'], ['INFO', 'everything'], ['INFO', 'default', 'commandstats'], ['INFO', 'keyspace', 'server'], ['INFO', 'latencystats'], ['INFO', 'nosuch']]) {
      const [a, b] = await Promise.all([s.redis.call(cmd), s.ours.call(cmd)]);
      expect(heads(b), cmd.join(' ')).toEqual(heads(a));
    }
  });

  test('INFO commandstats and latencystats: a container\'s subcommands on lines of their own (cmdstat_config|get), as Redis 7', async () => {
    await s.same([
      ['CONFIG', 'RESETSTAT'],
      ['CONFIG', 'GET', 'maxmemory'],
      ['CONFIG', 'GET'],
      ['CLIENT', 'SETNAME', 'x'],
      ['CLIENT', 'GETNAME'],
      ['CLIENT', 'NOSUCH'],
      ['COMMAND', 'COUNT', 'x'],
    ]);
    const stats = (x: Buffer) =>
      x
        .toString('latin1')
        .split('\r\n')
        .filter((l) => l.startsWith('cmdstat_'))
        .map((l) => l.replace(/usec=\d+,usec_per_call=[\d.]+,/, ''))
        .sort();
    const [a, b] = await Promise.all([s.redis.call(['INFO', 'commandstats']), s.ours.call(['INFO', 'commandstats'])]);
    expect(stats(b)).toEqual(stats(a));
    expect(stats(b)).toContain('cmdstat_config|get:calls=1,rejected_calls=1,failed_calls=0');
    const lat = (x: Buffer) => x.toString('latin1').split('\r\n').filter((l) => l.startsWith('latency_percentiles_usec_')).map((l) => l.split(':')[0]).sort();
    const [la, lb] = await Promise.all([s.redis.call(['INFO', 'latencystats']), s.ours.call(['INFO', 'latencystats'])]);
    expect(lat(lb)).toEqual(lat(la));
  });

  test('pubsub_channels, pubsub_patterns, pubsubshard_channels count what has subscribers', async () => {
    for (const [srv, port] of [['redis', s.redisPort], ['ours', s.oursPort]] as const) {
      const sub = await RawClient.connect(port);
      try {
        sub.write('SUBSCRIBE c1 c2\r\nPSUBSCRIBE p*\r\nSSUBSCRIBE s1\r\n');
        await sub.next(4);
        const info = await (srv === 'redis' ? s.redis : s.ours).call(['INFO', 'stats']);
        expect([field(info, 'pubsub_channels'), field(info, 'pubsub_patterns'), field(info, 'pubsubshard_channels')], srv).toEqual(['2', '1', '1']);
      } finally {
        sub.close();
      }
    }
  });

  test('tracking_clients and tracking_total_keys/items/prefixes after known CLIENT TRACKING traffic', async () => {
    for (const [srv, port] of [['redis', s.redisPort], ['ours', s.oursPort]] as const) {
      const [a, b] = await Promise.all([RawClient.connect(port), RawClient.connect(port)]);
      try {
        for (const c of [a, b]) await c.call(['HELLO', '3']);
        await a.call(['CLIENT', 'TRACKING', 'ON']);
        await b.call(['CLIENT', 'TRACKING', 'ON', 'BCAST', 'PREFIX', 'p:', 'PREFIX', 'q:']);
        await a.call(['GET', 'k1']);
        await a.call(['MGET', 'k2', 'k3']);
        const info = await (srv === 'redis' ? s.redis : s.ours).call(['INFO', 'everything']);
        const got = ['tracking_clients', 'tracking_total_keys', 'tracking_total_items', 'tracking_total_prefixes'].map((f) => field(info, f));
        expect(got, srv).toEqual(['2', '3', '3', '2']);
      } finally {
        a.close();
        b.close();
      }
    }
  });

  test('avg_ttl is the mean time to live of the keys with one', async () => {
    await s.same([['SET', 'p', 'v'], ['SET', 'x', 'v', 'EX', '1000'], ['SET', 'y', 'v', 'EX', '3000']]);
    const info = (await s.ours.call(['INFO', 'keyspace'])).toString('latin1');
    const avg = Number(/avg_ttl=(\d+)/.exec(info)![1]);
    expect(avg).toBeGreaterThan(1_990_000);
    expect(avg).toBeLessThanOrEqual(2_000_000);
  });
});

describe('CLIENT LIST / CLIENT INFO fields after known traffic', () => {
  const s = useServers();
  /** One client's fields, from a CLIENT LIST reply, by its id. */
  const fieldsOf = (list: Buffer, id: string): Record<string, string> => {
    const line = list.toString('latin1').split('\n').find((l) => l.includes(`id=${id} `)) ?? '';
    return Object.fromEntries(line.trim().split(' ').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  };
  const idOf = (b: Buffer) => /:(\d+)/.exec(b.toString('latin1'))![1];
  const pick = (f: Record<string, string>, names: string[]) => Object.fromEntries(names.map((n) => [n, f[n]]));
  const SAME = ['flags', 'db', 'sub', 'psub', 'ssub', 'multi', 'qbuf', 'argv-mem', 'multi-mem', 'obl', 'oll', 'omem', 'events', 'cmd', 'user', 'redir', 'resp'];

  test('CLIENT INFO of oneself: the running request is in qbuf and argv-mem, cmd names the subcommand', async () => {
    const [a, b] = await Promise.all([s.redis.call(['CLIENT', 'INFO']), s.ours.call(['CLIENT', 'INFO'])]);
    const line = (x: Buffer) => fieldsOf(Buffer.from(x.toString('latin1').replace(/^\$\d+\r\n|^=\d+\r\ntxt:/, '')), /id=(\d+)/.exec(x.toString('latin1'))![1]);
    expect(pick(line(b), SAME)).toEqual(pick(line(a), SAME));
    expect(line(b).qbuf).toBe('26');
    expect(line(b).cmd).toBe('client|info');
  });

  test('another client: a partly received request (qbuf, argv-mem), MULTI with queued commands, subscriptions, a pending big reply', async () => {
    for (const [srv, port] of [['redis', s.redisPort], ['ours', s.oursPort]] as const) {
      const main = srv === 'redis' ? s.redis : s.ours;
      const [partial, multi, sub, reader] = await Promise.all([0, 1, 2, 3].map(() => RawClient.connect(port)));
      try {
        // The id, and half a request in the same write: when the id comes back, the server has read both.
        partial.write('CLIENT ID\r\n*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nva');
        const partialId = idOf((await partial.next())[0]);
        const multiId = idOf(await multi.call(['CLIENT', 'ID']));
        await multi.call(['MULTI']);
        await multi.call(['SET', 'a', '1']);
        await multi.call(['GET', 'a']);
        const subId = idOf(await sub.call(['CLIENT', 'ID']));
        await sub.call(['SUBSCRIBE', 'c1', 'c2']);
        await sub.next();
        await sub.call(['PSUBSCRIBE', 'p*']);
        const list = await main.call(['CLIENT', 'LIST']);
        const got = { partial: fieldsOf(list, partialId), multi: fieldsOf(list, multiId), sub: fieldsOf(list, subId) };
        expect(pick(got.partial, ['qbuf', 'argv-mem', 'cmd', 'events', 'multi']), srv).toEqual({ qbuf: '2', 'argv-mem': '6', cmd: 'client|id', events: 'r', multi: '-1' });
        expect(pick(got.multi, ['flags', 'multi', 'cmd', 'multi-mem']), srv).toEqual({ flags: 'x', multi: '2', cmd: 'get', 'multi-mem': got.multi['multi-mem'] });
        expect(pick(got.sub, ['flags', 'sub', 'psub', 'ssub', 'cmd']), srv).toEqual({ flags: 'P', sub: '2', psub: '1', ssub: '0', cmd: 'psubscribe' });

        // A reader that stops reading: replies pile up in its output buffer.
        const readerId = idOf(await reader.call(['CLIENT', 'ID']));
        await main.call(['SET', 'big', 'x'.repeat(1 << 20)]);
        reader.sock.pause();
        reader.write(Buffer.from('*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n'.repeat(32)));
        let f: Record<string, string> = {};
        // Wait (polling CLIENT LIST) until the kernel's socket buffers are full and the rest waits in the server.
        for (let i = 0; i < 500; i++) {
          f = fieldsOf(await main.call(['CLIENT', 'LIST']), readerId);
          if (f.cmd === 'get' && Number(f.oll) > 0 && f.events.includes('w')) break;
          await new Promise((r) => setImmediate(r));
        }
        expect(Number(f.oll), `${srv} oll`).toBeGreaterThan(0);
        expect(Number(f.omem), `${srv} omem`).toBeGreaterThan(0);
        expect(f.obl, `${srv} obl`).toBe('0'); // the reply buffer went out first
        // Waiting to write; Redis goes on reading (rw), redloop stops reading a client whose replies wait (w).
        expect(f.events, srv).toBe(srv === 'redis' ? 'rw' : 'w');
      } finally {
        for (const c of [partial, multi, sub, reader]) c.close();
      }
    }
  });
});
