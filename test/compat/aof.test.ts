// Differential: Redis 7.0's multi-part AOF both ways between redloop and redis-server.
// - redloop's appendonlydir (after a workload of every type, TTLs set every
//   way, commands whose text is not their effect, a transaction, a script, a
//   served blocking pop, an expired key, and a BGREWRITEAOF half way):
//   redis-check-aof accepts it and redis-server loads the same data and
//   deadlines, with an RDB-preamble base and with a commands base;
// - redis-server's appendonlydir after the same workload: redloop loads it
//   and holds what redis-server itself rebuilds from it (what it held, but
//   for stream groups' entries-read, which Redis 7.0's AOF does not keep).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { parseReply, type RespReply } from '../../src/protocol/resp.js';
import { startServer } from '../helpers/server.js';
import { RawClient, connectResp, startRedis } from './harness.js';

type Arg = string | Buffer;

const FAR = 4_102_444_800_123; // 2100-01-01T00:00:00.123Z
const reply = (b: Buffer): RespReply => parseReply(b)!.reply;

async function ok(c: RawClient, args: Arg[]): Promise<RespReply> {
  const r = reply(await c.call(args));
  if (r.type === 'error') throw new Error(`${args.map(String).join(' ').slice(0, 80)}: ${r.value}`);
  return r;
}

/** A reply as text, arrays flattened, for comparing values whose replies are deterministic. */
function flat(r: RespReply): string {
  switch (r.type) {
    case 'array':
    case 'map':
    case 'set':
    case 'push':
      return r.items === null ? 'nil' : `[${r.items.map(flat).join(',')}]`;
    case 'bulk':
      return r.value === null ? 'nil' : JSON.stringify(r.value.toString('latin1'));
    default:
      return `${r.type}:${String((r as { value?: unknown }).value)}`;
  }
}

/** Every key's type, value (order-insensitive where the type is) and absolute deadline. */
async function snapshot(c: RawClient): Promise<Record<string, string>> {
  const keysReply = await ok(c, ['KEYS', '*']);
  const keys = keysReply.type === 'array' ? keysReply.items!.map((k) => (k.type === 'bulk' ? k.value!.toString('latin1') : '?')) : [];
  const out: Record<string, string> = {};
  for (const key of keys.sort()) {
    const type = flat(await ok(c, ['TYPE', key]));
    let value: string;
    const q = async (args: Arg[]): Promise<string> => flat(await ok(c, args));
    switch (type) {
      case 'status:string':
        value = await q(['GET', key]);
        break;
      case 'status:list':
        value = await q(['LRANGE', key, '0', '-1']);
        break;
      case 'status:set': {
        const r = await ok(c, ['SMEMBERS', key]);
        value = r.items!.map(flat).sort().join(',');
        break;
      }
      case 'status:hash': {
        const r = await ok(c, ['HGETALL', key]);
        const items = r.items!.map(flat);
        const pairs: string[] = [];
        for (let i = 0; i < items.length; i += 2) pairs.push(`${items[i]}=${items[i + 1]}`);
        value = pairs.sort().join(',');
        break;
      }
      case 'status:zset':
        value = await q(['ZRANGE', key, '0', '-1', 'WITHSCORES']);
        break;
      case 'status:stream': {
        value = await q(['XRANGE', key, '-', '+']);
        const info = await ok(c, ['XINFO', 'STREAM', key]);
        const fields = info.items!.map(flat);
        // length, last-generated-id, max-deleted-entry-id, entries-added, groups (not the radix-tree figures).
        for (const name of ['length', 'last-generated-id', 'max-deleted-entry-id', 'entries-added', 'groups']) {
          value += ` ${name}=${fields[fields.indexOf(JSON.stringify(name)) + 1]}`;
        }
        value += ` groups=${await q(['XINFO', 'GROUPS', key])}`;
        const groups = await ok(c, ['XINFO', 'GROUPS', key]);
        for (const g of groups.items!) {
          const name = g.items![1].value!.toString('latin1');
          value += ` pending(${name})=${await q(['XPENDING', key, name])}`;
        }
        break;
      }
      default:
        value = type;
    }
    out[key] = `${type} ${value} pexpiretime=${await q(['PEXPIRETIME', key])}`;
  }
  // Libraries in name order (redis-server lists them in its dict's order).
  out['(functions)'] = (await ok(c, ['FUNCTION', 'LIST', 'WITHCODE'])).items!.map(flat).sort().join(',');
  return out;
}

/** Waits until a key is gone (expired), asking the server: the event, not a sleep. */
async function untilGone(c: RawClient, key: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (flat(await ok(c, ['EXISTS', key])) === 'int:0') return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${key} never expired`);
}

/**
 * The workload, in two halves (a rewrite may run between them). Every family,
 * TTLs set every way, and the commands whose logged form is not their text.
 */
async function firstHalf(c: RawClient, c2: RawClient, streams: boolean): Promise<void> {
  await ok(c, ['SET', 's:plain', 'hello']);
  await ok(c, ['APPEND', 's:plain', ' world']);
  await ok(c, ['SETRANGE', 's:plain', '0', 'J']);
  await ok(c, ['SET', 's:ex', 'v', 'EX', '100000']);
  await ok(c, ['SET', 's:px', 'v', 'PX', '100000000']);
  await ok(c, ['SET', 's:exat', 'v', 'EXAT', String(Math.floor(FAR / 1000))]);
  await ok(c, ['SETEX', 's:setex', '100000', 'v']);
  await ok(c, ['PSETEX', 's:psetex', '100000000', 'v']);
  await ok(c, ['SET', 's:getex', 'v']);
  await ok(c, ['GETEX', 's:getex', 'EX', '5000']);
  await ok(c, ['SET', 's:persisted', 'v', 'EX', '5000']);
  await ok(c, ['GETEX', 's:persisted', 'PERSIST']);
  await ok(c, ['SET', 's:keepttl', 'v', 'PX', '90000000']);
  await ok(c, ['SET', 's:keepttl', 'w', 'KEEPTTL']);
  await ok(c, ['INCRBYFLOAT', 's:float', '1.5']);
  await ok(c, ['INCRBYFLOAT', 's:float', '0.25']);
  await ok(c, ['INCR', 's:n']);
  await ok(c, ['INCRBY', 's:n', '41']);
  await ok(c, ['SETBIT', 's:bits', '100', '1']);
  await ok(c, ['SET', 's:bin', Buffer.from([0, 255, 13, 10, 42])]);
  await ok(c, ['PFADD', 'hll', 'a', 'b', 'c']);
  await ok(c, ['RPUSH', 'l', 'a', 'b', 'c', 'd', 'e']);
  await ok(c, ['LPOP', 'l']);
  await ok(c, ['LPUSH', 'l', 'z']);
  await ok(c, ['LINSERT', 'l', 'BEFORE', 'c', 'bb']);
  await ok(c, ['EXPIRE', 'l', '100000']);
  await ok(c, ['SADD', 'set', 'a', 'b', 'c', 'd', 'e', 'f', 'g']);
  await ok(c, ['SPOP', 'set']);
  await ok(c, ['SPOP', 'set', '2']);
  await ok(c, ['SADD', 'iset', '1', '2', '3', '-7']);
  await ok(c, ['SADD', 'gone-set', 'x', 'y']);
  await ok(c, ['SPOP', 'gone-set', '5']);
  await ok(c, ['HSET', 'h', 'f1', 'v1', 'f2', '2', 'f3', 'x']);
  await ok(c, ['HINCRBYFLOAT', 'h', 'f2', '0.5']);
  await ok(c, ['HDEL', 'h', 'f1']);
  await ok(c, ['PEXPIREAT', 'h', String(FAR)]);
  await ok(c, ['ZADD', 'z', '1', 'a', '2', 'b', '3', 'c', '-1.5', 'd']);
  await ok(c, ['ZINCRBY', 'z', '2.5', 'a']);
  await ok(c, ['ZPOPMIN', 'z']);
  await ok(c, ['GEOADD', 'geo', '13.361389', '38.115556', 'Palermo']);
  await ok(c, ['FUNCTION', 'LOAD', "#!lua name=lib1\nredis.register_function('setit', function(keys, args) return redis.call('set', keys[1], args[1]) end)"]);
  await ok(c, ['FCALL', 'setit', '1', 'fk', 'by-function']);
  if (streams) {
    await ok(c, ['XADD', 'st', '*', 'f', 'v']);
    await ok(c, ['XADD', 'st', 'MAXLEN', '~', '1000', '*', 'g', 'w']);
    await ok(c, ['XADD', 'st', '*', 'h', 'x']);
    await ok(c, ['XGROUP', 'CREATE', 'st', 'grp', '0']);
    await ok(c, ['XREADGROUP', 'GROUP', 'grp', 'alice', 'COUNT', '1', 'STREAMS', 'st', '>']);
    // A served XREADGROUP BLOCK: its group's new state is logged when it is served.
    await ok(c, ['XGROUP', 'CREATE', 'st3', 'g3', '$', 'MKSTREAM']);
    const reading = c2.call(['XREADGROUP', 'GROUP', 'g3', 'carol', 'BLOCK', '0', 'STREAMS', 'st3', '>']);
    await ok(c, ['CLIENT', 'LIST']);
    await ok(c, ['XADD', 'st3', '*', 'n', '1']);
    await reading;
    await ok(c, ['XCLAIM', 'st', 'grp', 'dave', '0', flat((await ok(c, ['XRANGE', 'st', '-', '+', 'COUNT', '1'])).items![0].items![0]).slice(1, -1)]);
    await ok(c, ['XADD', 'st2', '5-1', 'a', 'b']);
    await ok(c, ['XADD', 'st2', '5-2', 'c', 'd']);
    await ok(c, ['XDEL', 'st2', '5-1']);
  }
  // A served blocking pop: logged as the pop it made.
  const blocked = c2.call(['BLPOP', 'bl', '0']);
  await ok(c, ['CLIENT', 'LIST']); // the BLPOP has reached the server before the push
  await ok(c, ['RPUSH', 'bl', 'a', 'b', 'c']);
  await blocked;
  const moving = c2.call(['BLMOVE', 'src', 'dst', 'LEFT', 'RIGHT', '0']);
  await ok(c, ['CLIENT', 'LIST']);
  await ok(c, ['RPUSH', 'src', 'x', 'y']);
  await moving;
  const zpop = c2.call(['BZMPOP', '0', '1', 'bz0', 'MAX', 'COUNT', '2']);
  await ok(c, ['CLIENT', 'LIST']);
  await ok(c, ['ZADD', 'bz0', '1', 'a', '2', 'b', '3', 'c']);
  await zpop;
  // Blocking pops that find data at once.
  await ok(c, ['RPUSH', 'bl2', 'a', 'b', 'c', 'd']);
  await ok(c, ['BLMPOP', '0', '1', 'bl2', 'RIGHT', 'COUNT', '2']);
  await ok(c, ['BRPOP', 'nothing', 'bl2', '0']);
  await ok(c, ['ZADD', 'bz', '1', 'a', '2', 'b']);
  await ok(c, ['BZPOPMAX', 'bz', '0']);
  await ok(c, ['BRPOPLPUSH', 'bl2', 'bl3', '0']);
}

async function secondHalf(c: RawClient, streams: boolean): Promise<void> {
  await ok(c, ['MULTI']);
  await ok(c, ['INCR', 's:n']);
  await ok(c, ['SET', 'tx', 'x']);
  await ok(c, ['EXPIRE', 'tx', '100000']);
  await ok(c, ['EXEC']);
  await ok(c, ['EVAL', "redis.call('set', KEYS[1], 'lua'); redis.call('rpush', KEYS[2], 'x'); return redis.call('spop', KEYS[3])", '3', 'ev1', 'ev2', 'set']);
  await ok(c, ['FUNCTION', 'LOAD', "#!lua name=lib2\nredis.register_function('two', function(keys, args) return 2 end)"]);
  await ok(c, ['SET', 'soon', 'v', 'PX', '1']);
  await untilGone(c, 'soon');
  await ok(c, ['PEXPIRE', 'l', '200000000']);
  await ok(c, ['RENAME', 'iset', 'iset2']);
  await ok(c, ['SET', 'deleted', 'x']);
  await ok(c, ['DEL', 'deleted']);
  await ok(c, ['EXPIRE', 's:plain', '-1']); // deletes it
  await ok(c, ['RPUSH', 'l2', '1', '2', '3']);
  await ok(c, ['LMOVE', 'l2', 'l3', 'LEFT', 'RIGHT']);
  await ok(c, ['ZADD', 'z2', '1', 'x', '2', 'y']);
  await ok(c, ['ZUNIONSTORE', 'z3', '2', 'z', 'z2']);
  if (streams) {
    await ok(c, ['XADD', 'st', '*', 'after', 'rewrite']);
    await ok(c, ['XREADGROUP', 'GROUP', 'grp', 'bob', 'STREAMS', 'st', '>']);
    await ok(c, ['XACK', 'st', 'grp', flat(await ok(c, ['XADD', 'st', '*', 'k', 'v'])).slice(1, -1)]);
    await ok(c, ['XTRIM', 'st', 'MAXLEN', '~', '2']);
  }
}

function checkAof(dir: string): string {
  const r = spawnSync('redis-check-aof', [join(dir, 'appendonlydir', 'appendonly.aof.manifest')], { encoding: 'utf8' });
  return `${r.status} ${r.stdout}${r.stderr}`;
}

/** Sends every command in one write; each reply, errors thrown. */
async function pipe(c: RawClient, cmds: Arg[][]): Promise<RespReply[]> {
  const out: RespReply[] = [];
  for (let from = 0; from < cmds.length; from += 5000) {
    const part = cmds.slice(from, from + 5000);
    c.write(Buffer.concat(part.map((a) => Buffer.from(`*${a.length}\r\n${a.map((x) => `$${Buffer.byteLength(x)}\r\n${String(x)}\r\n`).join('')}`))));
    for (const b of await c.next(part.length, 30_000)) {
      const r = reply(b);
      if (r.type === 'error') throw new Error(r.value);
      out.push(r);
    }
  }
  return out;
}

/** The keys of the background-rewrite test, as one text: strings, lists with their deadline, hashes. */
async function digest(c: RawClient, S: number, L: number): Promise<string> {
  const cmds: Arg[][] = [['DBSIZE'], ['GET', 'after'], ['EXISTS', 'gone']];
  for (let i = 0; i < S; i += 1000) cmds.push(['MGET', ...Array.from({ length: Math.min(1000, S - i) }, (_, j) => `k:${i + j}`)]);
  for (let i = 0; i < L; i++) cmds.push(['LRANGE', `l:${i}`, '0', '-1'], ['PEXPIRETIME', `l:${i}`], ['HGET', `h:${i}`, 'f'], ['HGET', `h:${i}`, 'g']);
  return (await pipe(c, cmds)).map(flat).join('\n');
}

/** Waits until redis-server's background rewrite is done (INFO says so). */
async function rewriteDone(c: RawClient): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const info = (await ok(c, ['INFO', 'persistence'])).value as unknown as Buffer;
    const text = Buffer.isBuffer(info) ? info.toString() : String(info);
    if (text.includes('aof_rewrite_in_progress:0') && text.includes('aof_rewrite_scheduled:0')) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('BGREWRITEAOF never finished');
}

/**
 * Writes in several databases: 0, 3 and 15, SWAPDB, MOVE, COPY … DB, a
 * transaction that SELECTs inside it, and a key that expires in database 5
 * while database 0 holds a key of the same name (so a DEL logged in the wrong
 * database would delete it on reload).
 */
async function multiDb(c: RawClient, rewrite: (() => Promise<void>) | null): Promise<void> {
  await ok(c, ['SELECT', '0']);
  await ok(c, ['SET', 'a', 'zero']);
  await ok(c, ['SET', 'e', 'kept in 0']);
  await ok(c, ['SELECT', '3']);
  await ok(c, ['SET', 'b', 'three']);
  await ok(c, ['RPUSH', 'l', 'x', 'y']);
  await ok(c, ['SELECT', '15']);
  await ok(c, ['SET', 'c', 'fifteen', 'PXAT', String(FAR)]);
  await ok(c, ['HSET', 'h', 'f', 'v']);
  await ok(c, ['SWAPDB', '3', '15']);
  await ok(c, ['SELECT', '4']);
  await ok(c, ['XADD', 's', '1-1', 'f', 'v']); // in the rewritten base: an RDB preamble holds the stream
  if (rewrite !== null) await rewrite();
  await ok(c, ['SELECT', '0']);
  await ok(c, ['SET', 'm', 'moved']);
  await ok(c, ['MOVE', 'm', '7']);
  await ok(c, ['COPY', 'a', 'a2', 'DB', '9']);
  await ok(c, ['MULTI']);
  await ok(c, ['SET', 'tx0', '1']);
  await ok(c, ['SELECT', '2']);
  await ok(c, ['SET', 'tx2', '2']);
  await ok(c, ['EXEC']);
  await ok(c, ['SELECT', '5']);
  await ok(c, ['SET', 'k5', 'five']);
  await ok(c, ['SET', 'e', 'v', 'PX', '30']);
  await untilGone(c, 'e');
  await ok(c, ['SELECT', '15']);
  await ok(c, ['SET', 'after', 'swap']);
}

/** Every database's snapshot (those with keys), by index. */
async function snapshotDbs(c: RawClient): Promise<Record<string, Record<string, string>>> {
  const out: Record<string, Record<string, string>> = {};
  for (let db = 0; db < 16; db++) {
    await ok(c, ['SELECT', String(db)]);
    if (flat(await ok(c, ['DBSIZE'])) === 'int:0') continue;
    out[db] = await snapshot(c);
  }
  await ok(c, ['SELECT', '0']);
  return out;
}

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'redloop-compat-aof-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('AOF against redis-server 7.0', () => {
  for (const preamble of ['yes', 'no']) {
    test(`a background BGREWRITEAOF while writes go on (aof-use-rdb-preamble ${preamble}): redis-check-aof accepts the files, redis-server loads every write`, async () => {
      const dir = tempDir();
      const ours = await startServer(['--dir', dir, '--appendonly', 'yes', '--aof-use-rdb-preamble', preamble, '--appendfsync', 'always']);
      const c = await RawClient.connect(ours.respPort);
      const S = 20_000;
      const L = 500;
      let before: string;
      try {
        const batch: Arg[][] = [];
        for (let i = 0; i < S; i++) batch.push(['SET', `k:${i}`, `old${i}`]);
        for (let i = 0; i < L; i++) batch.push(['RPUSH', `l:${i}`, 'a', 'b'], ['HSET', `h:${i}`, 'f', 'old'], ['PEXPIREAT', `l:${i}`, String(FAR)]);
        await pipe(c, batch);
        // The rewrite starts, and in the same iteration (so while its snapshot is being taken) and after it,
        // the keys it holds are overwritten, grown in place, deleted and expired.
        const during: Arg[][] = [['BGREWRITEAOF']];
        for (let i = 0; i < S; i += 3) during.push(['SET', `k:${i}`, `new${i}`]);
        for (let i = 0; i < L; i++) during.push(['RPUSH', `l:${i}`, 'c'], ['HSET', `h:${i}`, 'f', 'new', 'g', String(i)]);
        for (let i = 1; i < S; i += 7) during.push(['DEL', `k:${i}`]);
        during.push(['SET', 'gone', 'x', 'PX', '1']);
        const r = await pipe(c, during);
        expect(flat(r[0])).toBe('status:Background append only file rewriting started');
        const more: Arg[][] = [];
        for (let i = 0; i < S; i += 5) more.push(['APPEND', `k:${i}`, '+']);
        await pipe(c, more);
        await ours.waitForStderr('Background AOF rewrite finished successfully', 30_000);
        await pipe(c, [['SET', 'after', 'rewrite'], ['LPUSH', 'l:0', 'z']]);
        before = await digest(c, S, L);
      } finally {
        c.close();
        expect(await ours.stop()).toBe(0);
      }
      expect(before!).toContain('new3');
      const check = checkAof(dir);
      expect(check).toMatch(/^0 /);
      expect(check).toContain('All AOF files and manifest are valid');
      const redis = await startRedis(['--dir', dir, '--appendonly', 'yes']);
      const rc = await RawClient.connect(redis.port);
      try {
        expect(await digest(rc, S, L)).toBe(before!);
      } finally {
        rc.close();
        await redis.stop();
      }
    });
  }

  for (const preamble of ['yes', 'no']) {
    test(`redis-server loads redloop's appendonlydir (aof-use-rdb-preamble ${preamble}); redis-check-aof accepts it`, async () => {
      const dir = tempDir();
      const ours = await startServer(['--dir', dir, '--appendonly', 'yes', '--aof-use-rdb-preamble', preamble, '--appendfsync', 'always']);
      const c = await RawClient.connect(ours.respPort);
      const c2 = await RawClient.connect(ours.respPort);
      let before: Record<string, string>;
      try {
        await firstHalf(c, c2, true);
        expect(flat(await ok(c, ['BGREWRITEAOF']))).toBe('status:Background append only file rewriting started');
        // The rewrite runs in the background while the second half's writes go on (into the new incr file).
        await secondHalf(c, true);
        await ours.waitForStderr('Background AOF rewrite finished successfully', 30_000);
        before = await snapshot(c);
      } finally {
        c.close();
        c2.close();
        expect(await ours.stop()).toBe(0);
      }
      const files = readdirSync(join(dir, 'appendonlydir')).sort();
      expect(files).toEqual([`appendonly.aof.2.base.${preamble === 'yes' ? 'rdb' : 'aof'}`, 'appendonly.aof.2.incr.aof', 'appendonly.aof.manifest']);
      expect(readFileSync(join(dir, 'appendonlydir', 'appendonly.aof.manifest'), 'latin1')).toBe(
        `file appendonly.aof.2.base.${preamble === 'yes' ? 'rdb' : 'aof'} seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n`,
      );
      const check = checkAof(dir);
      expect(check).toMatch(/^0 /);
      expect(check).toContain('All AOF files and manifest are valid');
      expect(Object.keys(before!).length).toBeGreaterThan(25);

      // redloop reloads its own files (the XREADGROUP effects kept the groups' counters too) …
      const again = await startServer(['--dir', dir, '--appendonly', 'yes']);
      const ac = await RawClient.connect(again.respPort);
      try {
        expect(await snapshot(ac)).toEqual(before!);
      } finally {
        ac.close();
        expect(await again.stop()).toBe(0);
      }
      // … and so does redis-server.
      const redis = await startRedis(['--dir', dir, '--appendonly', 'yes']);
      const rc = await RawClient.connect(redis.port);
      try {
        expect(await snapshot(rc)).toEqual(before!);
      } finally {
        rc.close();
        await redis.stop();
      }
    });
  }

  for (const preamble of ['yes', 'no']) {
    test(`redloop loads redis-server's appendonlydir (aof-use-rdb-preamble ${preamble}, rewritten half way)`, async () => {
      const dir = tempDir();
      const redis = await startRedis(['--dir', dir, '--appendonly', 'yes', '--aof-use-rdb-preamble', preamble]);
      const rc = await RawClient.connect(redis.port);
      const rc2 = await RawClient.connect(redis.port);
      let before: Record<string, string>;
      try {
        await firstHalf(rc, rc2, true);
        // Rewritten half way: with the RDB preamble, the base holds the workload's function
        // library as RDB_OPCODE_FUNCTION2 (and its stream), which redloop loads.
        await ok(rc, ['BGREWRITEAOF']);
        await rewriteDone(rc);
        await secondHalf(rc, true);
        before = await snapshot(rc);
        await rc.call(['SHUTDOWN']).catch(() => undefined);
      } finally {
        rc.close();
        rc2.close();
        await redis.stop();
      }
      // What redis-server itself rebuilds from these files: the same as it held, but for the
      // groups' entries-read and lag, which Redis 7.0's own AOF does not keep (XCLAIM … LASTID sets no count).
      const again = await startRedis(['--dir', dir, '--appendonly', 'yes']);
      const rc3 = await RawClient.connect(again.port);
      let reloaded: Record<string, string>;
      try {
        reloaded = await snapshot(rc3);
        await rc3.call(['SHUTDOWN', 'NOSAVE']).catch(() => undefined);
      } finally {
        rc3.close();
        await again.stop();
      }
      const unstream = (snap: Record<string, string>): Record<string, string> => {
        const out: Record<string, string> = {};
        for (const [k, v] of Object.entries(snap)) out[k] = v.replace(/"entries-read",[^,]+,"lag",[^\]]+/g, '"entries-read",?,"lag",?');
        return out;
      };
      expect(unstream(reloaded!)).toEqual(unstream(before!));
      const ours = await startServer(['--dir', dir, '--appendonly', 'yes']);
      const c = await RawClient.connect(ours.respPort);
      try {
        expect(await snapshot(c)).toEqual(reloaded!);
      } finally {
        c.close();
        await ours.stop();
      }
    });
  }

  for (const preamble of ['yes', 'no']) {
    test(`several databases (aof-use-rdb-preamble ${preamble}): redis-server loads redloop's appendonlydir per db, redloop loads redis-server's`, async () => {
      // redloop's files, with a BGREWRITEAOF after the SWAPDB (a base over every database).
      const dir = tempDir();
      const ours = await startServer(['--dir', dir, '--appendonly', 'yes', '--aof-use-rdb-preamble', preamble, '--appendfsync', 'always']);
      const c = await RawClient.connect(ours.respPort);
      let before: Record<string, Record<string, string>>;
      try {
        await multiDb(c, async () => {
          expect(flat(await ok(c, ['BGREWRITEAOF']))).toBe('status:Background append only file rewriting started');
        });
        await ours.waitForStderr('Background AOF rewrite finished successfully', 30_000);
        before = await snapshotDbs(c);
      } finally {
        c.close();
        expect(await ours.stop()).toBe(0);
      }
      expect(Object.keys(before!).sort()).toEqual(['0', '15', '2', '3', '4', '5', '7', '9']);
      expect(before!['0'].e).toContain('kept in 0');
      expect(checkAof(dir)).toMatch(/^0 /);
      const incr = readFileSync(join(dir, 'appendonlydir', 'appendonly.aof.2.incr.aof'), 'latin1');
      // The expired key is logged as DEL in its own database.
      expect(incr).toContain('*2\r\n$6\r\nSELECT\r\n$1\r\n5\r\n*3\r\n$3\r\nSET\r\n$2\r\nk5\r\n');
      expect(incr).toMatch(/\$1\r\ne\r\n\$1\r\nv\r\n\$4\r\nPXAT\r\n\$\d+\r\n\d+\r\n\*2\r\n\$3\r\nDEL\r\n\$1\r\ne\r\n/);
      const redis = await startRedis(['--dir', dir, '--appendonly', 'yes']);
      const rc = await RawClient.connect(redis.port);
      try {
        expect(await snapshotDbs(rc)).toEqual(before!);
      } finally {
        rc.close();
        await redis.stop();
      }
      const again = await startServer(['--dir', dir, '--appendonly', 'yes']);
      const ac = await RawClient.connect(again.respPort);
      try {
        expect(await snapshotDbs(ac)).toEqual(before!);
      } finally {
        ac.close();
        expect(await again.stop()).toBe(0);
      }

      // redis-server's files (rewritten after the SWAPDB too), loaded by redloop.
      const rdir = tempDir();
      const r2 = await startRedis(['--dir', rdir, '--appendonly', 'yes', '--aof-use-rdb-preamble', preamble]);
      const r2c = await RawClient.connect(r2.port);
      let theirs: Record<string, Record<string, string>>;
      try {
        await multiDb(r2c, async () => {
          await ok(r2c, ['BGREWRITEAOF']);
          await rewriteDone(r2c);
        });
        theirs = await snapshotDbs(r2c);
        await r2c.call(['SHUTDOWN']).catch(() => undefined);
      } finally {
        r2c.close();
        await r2.stop();
      }
      expect(theirs!).toEqual(before!);
      const ours2 = await startServer(['--dir', rdir, '--appendonly', 'yes']);
      const oc = await RawClient.connect(ours2.respPort);
      try {
        expect(await snapshotDbs(oc)).toEqual(theirs!);
      } finally {
        oc.close();
        await ours2.stop();
      }
    });
  }

  test('aof-timestamp-enabled yes: #TS annotations that redis-check-aof accepts and both servers skip', async () => {
    const dir = tempDir();
    const ours = await startServer(['--dir', dir, '--appendonly', 'yes', '--aof-timestamp-enabled', 'yes']);
    const c = await RawClient.connect(ours.respPort);
    await ok(c, ['SET', 'a', '1']);
    await ok(c, ['RPUSH', 'l', 'x', 'y']);
    c.close();
    expect(await ours.stop()).toBe(0);
    const incr = readFileSync(join(dir, 'appendonlydir', 'appendonly.aof.1.incr.aof'), 'latin1');
    expect(incr).toMatch(/^#TS:\d{10}\r\n\*2\r\n\$6\r\nSELECT/);
    const check = checkAof(dir);
    expect(check).toMatch(/^0 /);
    expect(check).toContain('All AOF files and manifest are valid');
    for (const start of ['redloop', 'redis']) {
      let port: number;
      let stop: () => Promise<unknown>;
      if (start === 'redloop') {
        const s = await startServer(['--dir', dir, '--appendonly', 'yes']);
        port = s.respPort;
        stop = () => s.stop();
      } else {
        const r = await startRedis(['--dir', dir, '--appendonly', 'yes']);
        port = r.port;
        stop = () => r.stop();
      }
      const rc = await RawClient.connect(port);
      expect(flat(await ok(rc, ['GET', 'a']))).toBe('"1"');
      expect(flat(await ok(rc, ['LRANGE', 'l', '0', '-1']))).toBe('["x","y"]');
      rc.close();
      await stop();
    }
  });
});

describe('CONFIG SET appendonly yes against redis-server 7.0 (startAppendOnly: the first base in the background)', () => {
  const resp: 2 | 3 = process.env.COMPAT_RESP === '3' ? 3 : 2;
  const WAIT_FIELDS = ['aof_enabled', 'aof_rewrite_in_progress', 'aof_rewrite_scheduled', 'aof_pending_rewrite', 'aof_rewrites', 'aof_last_bgrewrite_status'];
  const encode = (a: Arg[]): string => `*${a.length}\r\n${a.map((x) => `$${Buffer.byteLength(x)}\r\n${String(x)}\r\n`).join('')}`;
  const fieldsOf = (info: Buffer): string =>
    WAIT_FIELDS.map((f) => `${f}:${new RegExp(`\\b${f}:([^\\r\\n]*)`).exec(info.toString('latin1'))?.[1] ?? '(absent)'}`).join(' ');
  /** One write of every command, so each server runs them back to back (no timer, no child reaped in between); INFO as its wait fields. */
  async function batch(c: RawClient, cmds: Arg[][]): Promise<string[]> {
    c.write(cmds.map(encode).join(''));
    const replies = await c.next(cmds.length);
    return replies.map((b, i) => (String(cmds[i][0]).toUpperCase() === 'INFO' ? fieldsOf(b) : b.toString('latin1')));
  }
  /** Until the rewrite (started or scheduled) has ended: INFO polled, no fixed sleep. */
  async function settled(c: RawClient, who: string): Promise<string> {
    const deadline = Date.now() + 20_000;
    let f = '';
    while (Date.now() < deadline) {
      f = fieldsOf(await c.call(['INFO', 'persistence']));
      if (f.includes('aof_rewrite_in_progress:0 aof_rewrite_scheduled:0')) return f;
      await new Promise((r) => setImmediate(r));
    }
    throw new Error(`${who}: the AOF rewrite never ended (${f})`);
  }
  const manifestOf = (dir: string): string => readFileSync(join(dir, 'appendonlydir', 'appendonly.aof.manifest'), 'latin1');

  test('the replies and INFO while it waits (scheduled during BGSAVE and in EXEC, running with SHUTDOWN refused, abandoned), then the same manifest; redis-check-aof accepts ours', async () => {
    const redisDir = tempDir();
    const ourDir = tempDir();
    const redis = await startRedis(['--dir', redisDir]);
    const ours = await startServer(['--dir', ourDir]);
    const rc = await connectResp(redis.port, resp);
    const oc = await connectResp(ours.respPort, resp);
    const both = async (cmds: Arg[][]): Promise<void> => {
      const [a, b] = await Promise.all([batch(rc, cmds), batch(oc, cmds)]);
      expect(b).toEqual(a);
    };
    try {
      await both([['SET', 'a', '1'], ['RPUSH', 'l', 'x', 'y']]);
      // During a BGSAVE: scheduled; writes meanwhile are in the base it will take.
      await both([['BGSAVE'], ['CONFIG', 'SET', 'appendonly', 'yes'], ['INFO', 'persistence'], ['CONFIG', 'GET', 'appendonly'], ['BGREWRITEAOF'], ['SET', 'b', '2']]);
      const [sa, sb] = await Promise.all([settled(rc, 'redis-server'), settled(oc, 'redloop')]);
      expect(sb).toBe(sa);
      expect(sb).toContain('aof_enabled:1');
      expect(manifestOf(ourDir)).toBe(manifestOf(redisDir));
      await both([['SET', 'c', '3']]);
      // Running, then abandoned by appendonly no (BGREWRITEAOF meanwhile: already in progress).
      await both([
        ['CONFIG', 'SET', 'appendonly', 'no'],
        ['CONFIG', 'SET', 'appendonly', 'yes'],
        ['INFO', 'persistence'],
        ['BGREWRITEAOF'],
        // Exiting before the first base is written would lose the data: refused (FORCE would exit anyway).
        ['SHUTDOWN'],
        ['SET', 'd', '4'],
        ['CONFIG', 'SET', 'appendonly', 'no'],
        ['INFO', 'persistence'],
        ['CONFIG', 'GET', 'appendonly'],
      ]);
      expect(manifestOf(ourDir)).toBe(manifestOf(redisDir));
      // Inside EXEC: scheduled until the transaction is over.
      await both([['MULTI'], ['CONFIG', 'SET', 'appendonly', 'yes'], ['SET', 'e', '5'], ['EXEC'], ['INFO', 'persistence'], ['SET', 'f', '6']]);
      const [ea, eb] = await Promise.all([settled(rc, 'redis-server'), settled(oc, 'redloop')]);
      expect(eb).toBe(ea);
      await both([['SET', 'g', '7'], ['INFO', 'persistence']]);
      expect(manifestOf(ourDir)).toBe(manifestOf(redisDir));
    } catch (e) {
      // A server stopped half way may be writing its first base, when both refuse SIGTERM: end them here.
      redis.proc.kill('SIGKILL');
      ours.proc.kill('SIGKILL');
      throw e;
    } finally {
      rc.close();
      oc.close();
      await redis.stop();
      await ours.stop();
    }
    const check = checkAof(ourDir);
    expect(check).toMatch(/^0 /);
    // redis-server loads ours: every write is there (d was written while the AOF was off, and is in the later base).
    const again = await startRedis(['--dir', ourDir, '--appendonly', 'yes']);
    const c = await RawClient.connect(again.port);
    try {
      expect(flat(reply(await c.call(['MGET', 'a', 'b', 'c', 'd', 'e', 'f', 'g'])))).toBe('["1","2","3","4","5","6","7"]');
      expect(flat(reply(await c.call(['LRANGE', 'l', '0', '-1'])))).toBe('["x","y"]');
    } finally {
      c.close();
      await again.stop();
    }
  });

  test('a rewrite that cannot start (appenddirname is a file): CONFIG SET fails, the AOF stays off', async () => {
    const redisDir = tempDir();
    const ourDir = tempDir();
    writeFileSync(join(redisDir, 'appendonlydir'), 'not a directory');
    writeFileSync(join(ourDir, 'appendonlydir'), 'not a directory');
    const redis = await startRedis(['--dir', redisDir]);
    const ours = await startServer(['--dir', ourDir]);
    const rc = await connectResp(redis.port, resp);
    const oc = await connectResp(ours.respPort, resp);
    try {
      const cmds: Arg[][] = [['SET', 'a', '1'], ['CONFIG', 'SET', 'appendonly', 'yes'], ['CONFIG', 'GET', 'appendonly'], ['INFO', 'persistence'], ['SET', 'b', '2']];
      const [a, b] = await Promise.all([batch(rc, cmds), batch(oc, cmds)]);
      expect(b).toEqual(a);
      expect(b[1]).toContain('Unable to turn on AOF');
      expect(b[3]).toContain('aof_enabled:0');
      await ours.waitForStderr("Redis needs to enable the AOF but can't trigger a background AOF rewrite operation");
    } finally {
      rc.close();
      oc.close();
      await redis.stop();
      await ours.stop();
    }
  });
});
