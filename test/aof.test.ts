// The AOF on redloop's own: kill -9 under a pipelined write load with
// appendfsync always loses no acknowledged write (everysec: the loss is
// reported); a tail cut anywhere loads as a logged truncation to the last
// whole command, a corrupt byte in the middle stops the start naming the file
// and offset; CONFIG SET appendonly yes writes its base in the background;
// INFO persistence's aof_* fields follow the files.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { prng } from '../src/util/prng.js';
import { startServer } from './helpers/server.js';
import { RawClient } from './compat/harness.js';
import { parseReply } from '../src/protocol/resp.js';
import { CommandReader } from '../src/persist/aof.js';
import { straceWorks } from './helpers/strace.js';

const SERVER = fileURLToPath(new URL('../dist/cli/server.js', import.meta.url));
const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'redloop-aof-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const text = async (c: RawClient, args: string[]): Promise<string> => {
  const r = parseReply(await c.call(args))!.reply;
  if (r.type === 'bulk') return r.value === null ? '(nil)' : r.value.toString('latin1');
  if (r.type === 'status' || r.type === 'error') return r.value;
  if (r.type === 'int') return String(r.value);
  return JSON.stringify(r);
};
/** An array reply's bulk strings. */
const strings = async (c: RawClient, args: string[]): Promise<(string | null)[]> => {
  const r = parseReply(await c.call(args))!.reply;
  if (r.type !== 'array' || r.items === null) throw new Error(`expected an array from ${args.join(' ')}`);
  return r.items.map((x) => (x.type === 'bulk' && x.value !== null ? x.value.toString('latin1') : null));
};
const setCmd = (i: number): string => `*3\r\n$3\r\nSET\r\n$${`k:${i}`.length}\r\nk:${i}\r\n$${String(i).length}\r\n${i}\r\n`;

/** Of keys k:0 … k:n-1, how many exist. */
async function present(c: RawClient, n: number): Promise<number> {
  let found = 0;
  for (let from = 0; from < n; from += 1000) {
    const keys = Array.from({ length: Math.min(1000, n - from) }, (_, i) => `k:${from + i}`);
    found += Number(await text(c, ['EXISTS', ...keys]));
  }
  return found;
}

/**
 * Pipelines SET k:0, k:1, … (up to `window` unanswered), counting the +OK
 * replies; once `killAt` have arrived, kill -9 the server in the same tick.
 * Resolves with the number of writes acknowledged before the kill.
 */
function pipelineUntilKill(port: number, pid: number, killAt: number, window = 2000): Promise<number> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let sent = 0;
    let acked = 0;
    let killed = false;
    let partial = 0;
    const fill = (): void => {
      let chunk = '';
      while (sent - acked < window && sent < killAt * 4) chunk += setCmd(sent++);
      if (chunk !== '') sock.write(chunk);
    };
    sock.on('connect', fill);
    sock.on('data', (d) => {
      if (killed) return;
      // Every reply is +OK\r\n (5 bytes).
      partial += d.length;
      acked += Math.floor(partial / 5);
      partial %= 5;
      if (acked >= killAt) {
        killed = true;
        process.kill(pid, 'SIGKILL');
        sock.destroy();
        resolve(acked);
        return;
      }
      fill();
    });
    sock.on('error', (e) => {
      if (!killed) reject(e);
    });
  });
}

/** Runs the server expecting it to refuse to start; resolves with its exit code and stderr. */
function failToStart(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [SERVER, '--port', '0', '--resp-port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    proc.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (d.includes('redloop ready')) {
        proc.kill('SIGKILL');
        reject(new Error(`the server started: ${stderr}`));
      }
    });
    proc.on('exit', (code) => resolve({ code, stderr }));
  });
}


/** A server run under strace: SIGKILL to both the server (its pid) and strace (the child), unless it has exited. */
function killStraced(srv: Awaited<ReturnType<typeof startServer>>): void {
  if (srv.proc.exitCode !== null || srv.proc.signalCode !== null) return;
  try {
    process.kill(srv.pid, 'SIGKILL');
  } catch {
    // already gone
  }
  srv.proc.kill('SIGKILL');
}
describe('AOF crash safety', () => {
  for (const loop of ['poll', 'epoll', 'libuv']) {
    test(`kill -9 under pipelined writes with appendfsync always (--loop ${loop}): every acknowledged write is there after a restart`, async () => {
      const dir = tempDir();
      const srv = await startServer(['--dir', dir, '--loop', loop, '--appendonly', 'yes', '--appendfsync', 'always']);
      const acked = await pipelineUntilKill(srv.respPort, srv.pid, 3000);
      await srv.exited();
      const again = await startServer(['--dir', dir, '--appendonly', 'yes']);
      const c = await RawClient.connect(again.respPort);
      try {
        expect(await present(c, acked)).toBe(acked);
        const dbsize = Number(await text(c, ['DBSIZE']));
        console.log(`appendfsync always (${loop}): ${acked} writes acknowledged before kill -9, all ${acked} there after restart (${dbsize - acked} more were written but not yet acknowledged)`);
      } finally {
        c.close();
        await again.stop();
      }
    });
  }

  test('kill -9 with appendfsync everysec and no: the loss window is reported', async () => {
    for (const mode of ['everysec', 'no']) {
      const dir = tempDir();
      const srv = await startServer(['--dir', dir, '--appendonly', 'yes', '--appendfsync', mode]);
      const acked = await pipelineUntilKill(srv.respPort, srv.pid, 20000);
      await srv.exited();
      const again = await startServer(['--dir', dir, '--appendonly', 'yes']);
      const c = await RawClient.connect(again.respPort);
      try {
        const kept = await present(c, acked);
        // kill -9 leaves the page cache: a write() made before the kill survives it without an fsync.
        // What everysec risks is an OS crash or power loss (up to ~1 s of writes); that is not simulated here.
        console.log(`appendfsync ${mode}: ${acked} acknowledged before kill -9, ${kept} there after restart, ${acked - kept} lost`);
        expect(kept).toBeLessThanOrEqual(acked);
      } finally {
        c.close();
        await again.stop();
      }
    }
  });
});

describe('AOF loading: truncation and corruption', () => {
  /** An AOF dir holding a base and an incr file of SET k:0 … k:n-1, then a MULTI/EXEC of two more. */
  async function makeAof(n: number): Promise<{ dir: string; incr: string; boundaries: number[] }> {
    const dir = tempDir();
    const srv = await startServer(['--dir', dir, '--appendonly', 'yes']);
    const c = await RawClient.connect(srv.respPort);
    for (let i = 0; i < n; i++) await text(c, ['SET', `k:${i}`, String(i)]);
    await text(c, ['MULTI']);
    await text(c, ['SET', 'tx:a', '1']);
    await text(c, ['SET', 'tx:b', '2']);
    expect(await text(c, ['EXEC'])).toContain('OK');
    c.close();
    expect(await srv.stop()).toBe(0);
    const incr = join(dir, 'appendonlydir', 'appendonly.aof.1.incr.aof');
    const data = readFileSync(incr, 'latin1');
    const boundaries: number[] = [];
    for (let i = 0; i < data.length; i++) if (data[i] === '*' && (i === 0 || data[i - 1] === '\n')) boundaries.push(i);
    boundaries.push(data.length);
    return { dir, incr, boundaries };
  }

  test('a tail cut at random points loads as the commands before the cut, logged and truncated to the last whole command', async () => {
    const { dir, incr, boundaries } = await makeAof(60);
    const size = statSync(incr).size;
    const rand = prng(12);
    const cuts = [...Array.from({ length: 6 }, () => 1 + Math.floor(rand() * (size - 1))), boundaries[5], size - 1, boundaries[boundaries.length - 2] + 3];
    for (const cut of cuts) {
      const copy = tempDir();
      cpSync(dir, copy, { recursive: true });
      const file = join(copy, 'appendonlydir', 'appendonly.aof.1.incr.aof');
      truncateSync(file, cut);
      const srv = await startServer(['--dir', copy, '--appendonly', 'yes']);
      const c = await RawClient.connect(srv.respPort);
      try {
        // The commands wholly before the cut (the first is SELECT; a cut MULTI/EXEC is reverted as a whole).
        const whole = boundaries.filter((b) => b > 0 && b <= cut).length;
        const txStart = boundaries[boundaries.length - 5]; // MULTI, SET, SET, EXEC, end
        const sets = Math.min(60, Math.max(0, whole - 1));
        const txDone = cut >= boundaries[boundaries.length - 1];
        expect(await present(c, 60)).toBe(sets);
        expect(await text(c, ['EXISTS', 'k:' + (sets - 1 < 0 ? 0 : sets - 1)])).toBe(sets > 0 ? '1' : '0');
        expect(await text(c, ['EXISTS', 'tx:a', 'tx:b'])).toBe(txDone ? '2' : '0');
        const validEnd = cut >= txStart && !txDone ? txStart : Math.max(...boundaries.filter((b) => b <= cut));
        if (cut !== validEnd) {
          await srv.waitForStderr('truncating the file to');
          expect(srv.stderr()).toContain(`truncating the file to ${validEnd} bytes`);
        }
        expect(statSync(file).size).toBe(validEnd);
        // And it goes on appending after the cut.
        await text(c, ['SET', 'after', 'cut']);
      } finally {
        c.close();
        expect(await srv.stop()).toBe(0);
      }
      const again = await startServer(['--dir', copy, '--appendonly', 'yes']);
      const c2 = await RawClient.connect(again.respPort);
      expect(await text(c2, ['GET', 'after'])).toBe('cut');
      c2.close();
      await again.stop();
    }
  });

  test('aof-load-truncated no refuses a cut tail; a corrupt byte in the middle, a cut base, a missing file, a bad manifest stop the start naming file and offset', async () => {
    const { dir, boundaries } = await makeAof(20);
    const cutCopy = tempDir();
    cpSync(dir, cutCopy, { recursive: true });
    truncateSync(join(cutCopy, 'appendonlydir', 'appendonly.aof.1.incr.aof'), boundaries[10] + 7);
    let r = await failToStart(['--dir', cutCopy, '--appendonly', 'yes', '--aof-load-truncated', 'no']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`appendonly.aof.1.incr.aof is truncated at byte offset ${boundaries[10]}`);
    expect(r.stderr).toContain('aof-load-truncated is no');
    expect(r.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace

    const bad = tempDir();
    cpSync(dir, bad, { recursive: true });
    const file = join(bad, 'appendonlydir', 'appendonly.aof.1.incr.aof');
    const data = readFileSync(file);
    data[boundaries[8]] = 'X'.charCodeAt(0);
    writeFileSync(file, data);
    r = await failToStart(['--dir', bad, '--appendonly', 'yes']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${file}: bad AOF format: expected '*' (a command)`);
    expect(r.stderr).toContain(`at byte offset ${boundaries[8]}`);
    expect(readFileSync(file).equals(data)).toBe(true); // left as it was

    const missing = tempDir();
    cpSync(dir, missing, { recursive: true });
    rmSync(join(missing, 'appendonlydir', 'appendonly.aof.1.incr.aof'));
    r = await failToStart(['--dir', missing, '--appendonly', 'yes']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot read AOF file');
    expect(r.stderr).toContain('appendonly.aof.1.incr.aof (listed in the manifest)');

    // A command redloop does not know, or a database the server does not have: refused (their data would be lost silently).
    for (const [cmd, why] of [
      ['*2\r\n$7\r\nNOSUCHX\r\n$1\r\na\r\n', "unknown command 'NOSUCHX'"],
      ['*2\r\n$6\r\nSELECT\r\n$2\r\n16\r\n', 'it selects database 16, and this server has 16 (databases)'],
    ]) {
      const odd = tempDir();
      cpSync(dir, odd, { recursive: true });
      const f = join(odd, 'appendonlydir', 'appendonly.aof.1.incr.aof');
      const at = statSync(f).size;
      writeFileSync(f, cmd, { flag: 'a' });
      r = await failToStart(['--dir', odd, '--appendonly', 'yes']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`${f}: ${why} (at byte offset ${at})`);
    }

    // A base cut short: the RDB reader names the offset.
    const cutBase = tempDir();
    cpSync(dir, cutBase, { recursive: true });
    const baseFile = join(cutBase, 'appendonlydir', 'appendonly.aof.1.base.rdb');
    truncateSync(baseFile, statSync(baseFile).size - 5);
    r = await failToStart(['--dir', cutBase, '--appendonly', 'yes']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot load .*appendonly\.aof\.1\.base\.rdb: bad RDB preamble at byte offset \d+/);
    expect(r.stderr).not.toMatch(/\n\s+at /);

    const manifest = tempDir();
    cpSync(dir, manifest, { recursive: true });
    writeFileSync(join(manifest, 'appendonlydir', 'appendonly.aof.manifest'), 'file x seq 1 type q\n');
    r = await failToStart(['--dir', manifest, '--appendonly', 'yes']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("invalid AOF manifest line 1");
  });
});

describe('AOF at run time', () => {
  test('CONFIG SET appendonly yes writes a base in the background; BGREWRITEAOF swaps base and incr; INFO follows; a restart loads it all', async () => {
    const dir = tempDir();
    const srv = await startServer(['--dir', dir]);
    const c = await RawClient.connect(srv.respPort);
    try {
      expect(await strings(c, ['CONFIG', 'GET', 'appendonly'])).toEqual(['appendonly', 'no']);
      expect(await text(c, ['INFO', 'persistence'])).toContain('aof_enabled:0');
      await text(c, ['SET', 'before', '1']);
      await text(c, ['RPUSH', 'list', 'a', 'b']);
      expect(await text(c, ['CONFIG', 'SET', 'appendonly', 'yes'])).toBe('OK');
      await srv.waitForStderr('Background AOF rewrite finished successfully');
      expect(readdirSync(join(dir, 'appendonlydir')).sort()).toEqual(['appendonly.aof.1.base.rdb', 'appendonly.aof.1.incr.aof', 'appendonly.aof.manifest']);
      let info = await text(c, ['INFO', 'persistence']);
      expect(info).toContain('aof_enabled:1');
      const base = Number(/aof_base_size:(\d+)/.exec(info)![1]);
      expect(base).toBe(statSync(join(dir, 'appendonlydir', 'appendonly.aof.1.base.rdb')).size);
      await text(c, ['SET', 'after', '2']);
      info = await text(c, ['INFO', 'persistence']);
      const incrSize = statSync(join(dir, 'appendonlydir', 'appendonly.aof.1.incr.aof')).size;
      expect(incrSize).toBeGreaterThan(0);
      expect(info).toContain(`aof_current_size:${base + incrSize}`);
      expect(info).toContain('aof_last_write_status:ok');
      expect(await text(c, ['CONFIG', 'SET', 'appendfsync', 'always'])).toBe('OK');
      expect(await strings(c, ['CONFIG', 'GET', 'appendfsync'])).toEqual(['appendfsync', 'always']);
      expect(await text(c, ['CONFIG', 'SET', 'appenddirname', 'x'])).toContain("can't set immutable config");
      expect(await text(c, ['BGREWRITEAOF'])).toBe('Background append only file rewriting started');
      await srv.waitForStderr(/Background AOF rewrite finished successfully[\s\S]*Background AOF rewrite finished successfully/);
      expect(readdirSync(join(dir, 'appendonlydir')).sort()).toEqual(['appendonly.aof.2.base.rdb', 'appendonly.aof.2.incr.aof', 'appendonly.aof.manifest']);
      info = await text(c, ['INFO', 'persistence']);
      expect(info).toContain('aof_rewrites:2');
      expect(info).toContain('aof_last_bgrewrite_status:ok');
      await text(c, ['SET', 'last', '3']);
    } finally {
      c.close();
      expect(await srv.stop()).toBe(0);
    }
    const again = await startServer(['--dir', dir, '--appendonly', 'yes']);
    const c2 = await RawClient.connect(again.respPort);
    try {
      expect(await strings(c2, ['MGET', 'before', 'after', 'last'])).toEqual(['1', '2', '3']);
      expect(await strings(c2, ['LRANGE', 'list', '0', '-1'])).toEqual(['a', 'b']);
    } finally {
      c2.close();
      await again.stop();
    }
  });

  test('with appendonly yes the AOF is loaded, not dump.rdb (as Redis); with no AOF yet the server starts empty and creates one (as Redis 7.0)', async () => {
    const dir = tempDir();
    const srv = await startServer(['--dir', dir]);
    const c = await RawClient.connect(srv.respPort);
    await text(c, ['SET', 'x', 'from-rdb']);
    await text(c, ['SAVE']);
    c.close();
    await srv.stop();
    // No AOF directory yet: empty, and a base and incr file are made.
    const fresh = await startServer(['--dir', dir, '--appendonly', 'yes']);
    const f = await RawClient.connect(fresh.respPort);
    expect(await text(f, ['GET', 'x'])).toBe('(nil)');
    await text(f, ['SET', 'x', 'from-aof']);
    f.close();
    await fresh.stop();
    for (const [args, want] of [[['--appendonly', 'yes'], 'from-aof'], [[], 'from-rdb']] as const) {
      const s2 = await startServer(['--dir', dir, ...args]);
      const c2 = await RawClient.connect(s2.respPort);
      expect(await text(c2, ['GET', 'x'])).toBe(want);
      c2.close();
      await s2.stop();
    }
  });

  test('appendfsync everysec: the fsync runs on a worker thread whose completion comes back through a pipe in the poll set (--trace shows it)', async () => {
    const dir = tempDir();
    const srv = await startServer(['--dir', dir, '--appendonly', 'yes', '--trace']);
    const c = await RawClient.connect(srv.respPort);
    try {
      await text(c, ['SET', 'a', '1']);
      await srv.waitForStderr('aof-fsync-pipe: the worker finished an fdatasync of the AOF', 5000);
      expect(srv.stderr()).toMatch(/poll\(\[[^\]]*(\d+):IN[^\]]*\][^\n]*\[\1:IN\]\n\s+fd .*\1 aof-fsync-pipe/);
      expect(await text(c, ['INFO', 'persistence'])).toContain('aof_last_write_status:ok');
    } finally {
      c.close();
      expect(await srv.stop()).toBe(0);
    }
  });

  test('each write is logged as its effect, as Redis propagates it', async () => {
    const dir = tempDir();
    const srv = await startServer(['--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always']);
    const c = await RawClient.connect(srv.respPort);
    const c2 = await RawClient.connect(srv.respPort);
    try {
      await text(c, ['SET', 's', 'v', 'EX', '100']);
      await text(c, ['SET', 'p', 'v']);
      await text(c, ['EXPIRE', 'p', '100']);
      await text(c, ['INCRBYFLOAT', 'f', '1.5']);
      await text(c, ['SADD', 'set', 'only']);
      await text(c, ['SPOP', 'set']);
      await text(c, ['HSET', 'h', 'x', '1']);
      await text(c, ['INCR', 'h']); // WRONGTYPE: not logged
      await text(c, ['GET', 'p']); // a read: not logged
      const id = await text(c, ['XADD', 'st', '*', 'a', 'b']);
      const blocked = c2.call(['BLPOP', 'q', '0']); // blocks: logged only when served
      await text(c, ['CLIENT', 'LIST']);
      await text(c, ['RPUSH', 'q', 'one', 'two']);
      await blocked;
      await text(c, ['BRPOP', 'q', '0']); // data there at once
      await text(c, ['MULTI']);
      await text(c, ['SET', 'm1', '1']);
      await text(c, ['SET', 'm2', '2']);
      await text(c, ['EXEC']);
      await text(c, ['SET', 'gone', 'v', 'PX', '1']);
      for (let i = 0; i < 500 && (await text(c, ['EXISTS', 'gone'])) !== '0'; i++) await new Promise((r) => setTimeout(r, 5));
      const logged: string[] = [];
      const reader = new CommandReader(readFileSync(join(dir, 'appendonlydir', 'appendonly.aof.1.incr.aof')), 'incr');
      for (let cmd = reader.next(); cmd !== null; cmd = reader.next()) logged.push(cmd.args.join(' ').replace(/\b1\d{12}\b/g, 'T'));
      expect(logged).toEqual([
        'SELECT 0',
        'SET s v PXAT T',
        'SET p v',
        'PEXPIREAT p T',
        'SET f 1.5',
        'SADD set only',
        'SREM set only',
        'HSET h x 1',
        `XADD st ${id.replace(/^1\d{12}/, 'T')} a b`,
        'RPUSH q one two',
        'LPOP q',
        'RPOP q',
        'MULTI',
        'SET m1 1',
        'SET m2 2',
        'EXEC',
        'SET gone v PXAT T',
        'DEL gone',
      ]);
    } finally {
      c.close();
      c2.close();
      await srv.stop();
    }
  });

  test('keys evicted by maxmemory are logged as DEL in their own database, and a restart does not bring them back', async () => {
    const dir = tempDir();
    const args = ['--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--maxmemory-policy', 'allkeys-random'];
    const srv = await startServer(args);
    const c = await RawClient.connect(srv.respPort);
    try {
      await text(c, ['SELECT', '3']);
      await text(c, ['SET', 'a', '1']);
      await text(c, ['SET', 'b', '2']);
      // Lower than what is used: CONFIG SET evicts at once, every key of every database.
      await text(c, ['CONFIG', 'SET', 'maxmemory', '1']);
      await text(c, ['CONFIG', 'SET', 'maxmemory', '0']);
      expect(await text(c, ['DBSIZE'])).toBe('0');
      const logged: string[] = [];
      const reader = new CommandReader(readFileSync(join(dir, 'appendonlydir', 'appendonly.aof.1.incr.aof')), 'incr');
      for (let cmd = reader.next(); cmd !== null; cmd = reader.next()) logged.push(cmd.args.join(' '));
      const multi = logged.slice(3);
      expect(logged.slice(0, 3)).toEqual(['SELECT 3', 'SET a 1', 'SET b 2']);
      expect(multi.filter((l) => l.startsWith('DEL ')).sort()).toEqual(['DEL a', 'DEL b']);
    } finally {
      c.close();
      await srv.stop();
    }
    const again = await startServer(args);
    const c2 = await RawClient.connect(again.respPort);
    try {
      await text(c2, ['SELECT', '3']);
      expect(await text(c2, ['DBSIZE'])).toBe('0');
    } finally {
      c2.close();
      await again.stop();
    }
  });

  test.skipIf(!straceWorks())('LATENCY: a slow AOF write and fdatasync are recorded as aof-write, aof-write-alone and aof-fsync-always; nothing while the monitor is off (strace delays both)', async () => {
    const dir = tempDir();
    // strace makes every write and fdatasync take at least 20 ms: the AOF's are then over a 1 ms threshold.
    const srv = await startServer(['--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--latency-monitor-threshold', '1'], {
      prefix: ['strace', '-f', '-o', '/dev/null', '-e', 'trace=write,fdatasync', '-e', 'inject=write,fdatasync:delay_exit=20000'],
    });
    try {
      const c = await RawClient.connect(srv.respPort);
      expect(await text(c, ['SET', 'k', 'v'])).toBe('OK');
      const events = async (): Promise<Map<string, number>> => {
        const r = parseReply(await c.call(['LATENCY', 'LATEST']))!.reply;
        if (r.type !== 'array' || r.items === null) throw new Error(`LATENCY LATEST: ${JSON.stringify(r)}`);
        const byName = new Map<string, number>();
        for (const e of r.items) {
          if (e.type !== 'array' || e.items === null) throw new Error('not an event');
          const [name, , latest] = e.items;
          if (name.type !== 'bulk' || latest.type !== 'int') throw new Error('bad event');
          byName.set(name.value!.toString('latin1'), Number(latest.value));
        }
        return byName;
      };
      const seen = await events();
      for (const name of ['aof-write', 'aof-write-alone', 'aof-fsync-always']) {
        expect(seen.get(name), name).toBeGreaterThanOrEqual(20);
      }
      expect(seen.has('aof-write-pending-fsync')).toBe(false); // appendfsync always: no background fsync
      // Off: the same write and fdatasync, and no event.
      expect(await text(c, ['CONFIG', 'SET', 'latency-monitor-threshold', '0'])).toBe('OK');
      expect(await text(c, ['LATENCY', 'RESET'])).toBe(String(seen.size));
      expect(await text(c, ['SET', 'k', 'w'])).toBe('OK');
      expect((await events()).size).toBe(0);
      c.close();
      process.kill(srv.pid, 'SIGTERM');
      if (srv.proc.exitCode === null) await once(srv.proc, 'exit');
    } finally {
      killStraced(srv);
    }
  });

  test.skipIf(!straceWorks())('everysec: a write that waited 2 s for a busy background fsync counts in aof_delayed_fsync, and CONFIG RESETSTAT zeroes it (strace holds fdatasync 4 s)', async () => {
    const dir = tempDir();
    const srv = await startServer(['--dir', dir, '--appendonly', 'yes', '--appendfsync', 'everysec'], {
      prefix: ['strace', '-f', '-o', '/dev/null', '-e', 'trace=fdatasync', '-e', 'inject=fdatasync:delay_exit=4000000'],
    });
    try {
      const c = await RawClient.connect(srv.respPort);
      const field = async (name: string): Promise<string | undefined> => new RegExp(`${name}:(\\d+)`).exec(await text(c, ['INFO', 'persistence']))?.[1];
      const delayed = () => field('aof_delayed_fsync');
      expect(await delayed()).toBe('0');
      // A write, then its fdatasync on the worker (within a second, held 4 s): INFO shows it pending.
      expect(await text(c, ['SET', 'a', '1'])).toBe('OK');
      while ((await field('aof_pending_bio_fsync')) !== '1');
      // The next write waits for that fsync, up to 2 s, then goes ahead and is counted.
      expect(await text(c, ['SET', 'b', '2'])).toBe('OK');
      await srv.waitForStderr('Asynchronous AOF fsync is taking too long', 15_000);
      expect(await delayed()).toBe('1');
      expect(await text(c, ['CONFIG', 'RESETSTAT'])).toBe('OK');
      expect(await delayed()).toBe('0');
      c.close();
      process.kill(srv.pid, 'SIGKILL'); // a SIGTERM would wait for the held fdatasync
      if (srv.proc.exitCode === null) await once(srv.proc, 'exit');
    } finally {
      killStraced(srv);
    }
  });

  test.skipIf(!straceWorks())('appendfsync always is a group commit: a pipelined batch costs one AOF write and one fdatasync, both before the replies (strace)', async () => {
    const dir = tempDir();
    const log = join(dir, 'strace.log');
    const srv = await startServer(['--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always'], {
      prefix: ['strace', '-f', '-o', log, '-e', 'trace=write,fdatasync,fsync'],
    });
    try {
      const c = await RawClient.connect(srv.respPort);
      await text(c, ['PING']);
      // 50 SETs in one write: the server reads them in one iteration.
      const sock = connect(srv.respPort, '127.0.0.1');
      await new Promise<void>((resolve) => sock.on('connect', () => resolve()));
      let got = 0;
      const all = new Promise<void>((resolve) =>
        sock.on('data', (d) => {
          got += d.length;
          if (got >= 50 * 5) resolve();
        }),
      );
      sock.write(Array.from({ length: 50 }, (_, i) => setCmd(i)).join(''));
      await all;
      sock.destroy();
      c.close();
      // SIGTERM to the server itself (srv.proc is strace).
      process.kill(srv.pid, 'SIGTERM');
      if (srv.proc.exitCode === null) await once(srv.proc, 'exit');
    } finally {
      // Never leave the server (or strace) behind, whatever failed above.
      killStraced(srv);
    }
    const lines = readFileSync(log, 'utf8').split('\n').filter((l) => l.startsWith(`${srv.pid} `));
    const firstReply = lines.findIndex((l) => /write\(\d+, "\+OK\\r\\n\+OK/.test(l));
    expect(firstReply).toBeGreaterThan(0);
    // Since the PING's reply: the batch's AOF write, one fdatasync of that fd, then the replies.
    const ping = lines.findIndex((l) => l.includes('"+PONG'));
    const between = lines.slice(ping + 1, firstReply);
    const aofWrites = between.filter((l) => /write\(\d+, "\*/.test(l));
    const syncs = between.filter((l) => /fdatasync\(\d+\)/.test(l));
    expect(aofWrites).toHaveLength(1);
    // SELECT 0 and the 50 SETs, in one write().
    const bytes = '*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n'.length + Array.from({ length: 50 }, (_, i) => setCmd(i).length).reduce((a, b) => a + b, 0);
    expect(aofWrites[0]).toMatch(new RegExp(`, ${bytes}\\) = ${bytes}$`));
    expect(syncs).toHaveLength(1);
    const aofFd = /write\((\d+),/.exec(aofWrites[0])![1];
    expect(syncs[0]).toContain(`fdatasync(${aofFd})`);
    expect(between.indexOf(aofWrites[0])).toBeLessThan(between.indexOf(syncs[0]));
  });
});
