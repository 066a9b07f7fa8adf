// BGREWRITEAOF in the background (src/servers/aof.ts over snapshot.ts and the
// writer thread): Redis 7.0's replies while it runs (a second one, a BGSAVE,
// BGSAVE SCHEDULE, a BGREWRITEAOF during a BGSAVE or inside EXEC is
// scheduled), INFO's aof_rewrite_* fields, the files it leaves (with the AOF
// off too), CONFIG SET appendonly no killing a running one, automatic
// rewrites (auto-aof-rewrite-percentage), and kill -9 under appendfsync always
// while and right after a rewrite runs under a pipelined write load that
// overwrites the keys being snapshotted: every acknowledged write is there.
// CONFIG SET appendonly yes (Redis 7.0's startAppendOnly): OK at once, INFO
// while its first rewrite runs or is scheduled, SHUTDOWN refused meanwhile,
// appendonly no abandoning it, and kill -9 under appendfsync always after it
// was turned on under a pipelined write load: every acknowledged write is there.

import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { startServer, type TestServer } from './helpers/server.js';
import { RawClient } from './compat/harness.js';
import { parseReply, type RespReply } from '../src/protocol/resp.js';

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'redloop-aofrw-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const show = (r: RespReply): string => {
  if (r.type === 'bulk') return r.value === null ? '(nil)' : r.value.toString('latin1');
  if (r.type === 'status') return r.value;
  if (r.type === 'error') return `-${r.value}`;
  if (r.type === 'int') return String(r.value);
  if (r.type === 'array') return JSON.stringify(r.items?.map(show) ?? null);
  return JSON.stringify(r);
};
const text = async (c: RawClient, args: string[]): Promise<string> => show(parseReply(await c.call(args))!.reply);
/** Sends every command in one write and returns each reply (they run in one loop iteration). */
async function pipeline(c: RawClient, cmds: string[][]): Promise<string[]> {
  for (const a of cmds) c.write(`*${a.length}\r\n${a.map((x) => `$${Buffer.byteLength(x)}\r\n${x}\r\n`).join('')}`);
  return (await c.next(cmds.length)).map((b) => show(parseReply(b)!.reply));
}
const field = (info: string, name: string): string => new RegExp(`${name}:([^\\r\\n]*)`).exec(info)?.[1] ?? '';

const N = 30_000;
/** N keys k:i = old, in pipelined batches. */
async function populate(c: RawClient): Promise<void> {
  for (let from = 0; from < N; from += 2000) {
    const cmds: string[][] = [];
    for (let i = from; i < from + 2000; i++) cmds.push(['SET', `k:${i}`, 'old']);
    await pipeline(c, cmds);
  }
}
const count = (s: string, what: string): number => s.split(what).length - 1;

describe('BGREWRITEAOF in the background', () => {
  test("Redis's replies while it runs; BGSAVE refused or scheduled; a rewrite during a BGSAVE or in EXEC is scheduled; INFO follows", async () => {
    const dir = tempDir();
    const srv = await startServer(['--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always']);
    const c = await RawClient.connect(srv.respPort);
    try {
      await populate(c);
      const r = await pipeline(c, [['BGREWRITEAOF'], ['BGREWRITEAOF'], ['BGSAVE'], ['BGSAVE', 'SCHEDULE'], ['SET', 'during', '1'], ['INFO', 'persistence']]);
      expect(r.slice(0, 5)).toEqual([
        'Background append only file rewriting started',
        '-ERR Background append only file rewriting already in progress',
        "-ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.",
        'Background saving scheduled',
        'OK',
      ]);
      expect(field(r[5], 'aof_rewrite_in_progress')).toBe('1');
      expect(field(r[5], 'aof_current_rewrite_time_sec')).toBe('0');
      expect(field(r[5], 'rdb_bgsave_in_progress')).toBe('0');
      // While it runs, the manifest already lists the new incr file the SET went to.
      expect(readFileSync(join(dir, 'appendonlydir', 'appendonly.aof.manifest'), 'latin1')).toBe(
        'file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\nfile appendonly.aof.2.incr.aof seq 2 type i\n',
      );
      expect(readFileSync(join(dir, 'appendonlydir', 'appendonly.aof.2.incr.aof'), 'latin1')).toContain('$6\r\nduring\r\n');
      await srv.waitForStderr('Background AOF rewrite finished successfully', 30_000);
      // The scheduled BGSAVE runs once the rewrite is over.
      await srv.waitForStderr('Background saving terminated with success', 30_000);
      expect(readdirSync(join(dir, 'appendonlydir')).sort()).toEqual(['appendonly.aof.2.base.rdb', 'appendonly.aof.2.incr.aof', 'appendonly.aof.manifest']);
      let info = await text(c, ['INFO', 'persistence']);
      expect(field(info, 'aof_rewrite_in_progress')).toBe('0');
      expect(field(info, 'aof_last_bgrewrite_status')).toBe('ok');
      expect(Number(field(info, 'aof_last_rewrite_time_sec'))).toBeGreaterThanOrEqual(0);
      expect(field(info, 'aof_current_rewrite_time_sec')).toBe('-1');

      // A BGREWRITEAOF while a BGSAVE runs is scheduled, and runs after it.
      const r2 = await pipeline(c, [['BGSAVE'], ['BGREWRITEAOF'], ['INFO', 'persistence']]);
      expect(r2.slice(0, 2)).toEqual(['Background saving started', 'Background append only file rewriting scheduled']);
      expect(field(r2[2], 'aof_rewrite_scheduled')).toBe('1');
      expect(field(r2[2], 'aof_rewrite_in_progress')).toBe('0');
      await srv.waitForStderr(/finished successfully[\s\S]*finished successfully/, 30_000);
      // Inside EXEC, as Redis: scheduled.
      expect(await pipeline(c, [['MULTI'], ['BGREWRITEAOF'], ['EXEC']])).toEqual(['OK', 'QUEUED', JSON.stringify(['Background append only file rewriting scheduled'])]);
      await srv.waitForStderr(/finished successfully[\s\S]*finished successfully[\s\S]*finished successfully/, 30_000);
      info = await text(c, ['INFO', 'persistence']);
      expect(field(info, 'aof_rewrites')).toBe('3');
      expect(field(info, 'aof_rewrite_scheduled')).toBe('0');
      expect(readdirSync(join(dir, 'appendonlydir')).sort()).toEqual(['appendonly.aof.4.base.rdb', 'appendonly.aof.4.incr.aof', 'appendonly.aof.manifest']);
    } finally {
      c.close();
      expect(await srv.stop()).toBe(0);
    }
    const again = await startServer(['--dir', dir, '--appendonly', 'yes']);
    const c2 = await RawClient.connect(again.respPort);
    try {
      expect(await text(c2, ['DBSIZE'])).toBe(String(N + 1));
      expect(await text(c2, ['GET', 'during'])).toBe('1');
    } finally {
      c2.close();
      await again.stop();
    }
  });

  test('with appendonly no, BGREWRITEAOF writes a base and a manifest naming only it (as Redis 7.0); CONFIG SET appendonly no kills a running rewrite', async () => {
    const dir = tempDir();
    const srv = await startServer(['--dir', dir]);
    const c = await RawClient.connect(srv.respPort);
    try {
      await populate(c);
      expect(await text(c, ['BGREWRITEAOF'])).toBe('Background append only file rewriting started');
      await srv.waitForStderr('Background AOF rewrite finished successfully', 30_000);
      expect(readdirSync(join(dir, 'appendonlydir')).sort()).toEqual(['appendonly.aof.1.base.rdb', 'appendonly.aof.manifest']);
      expect(readFileSync(join(dir, 'appendonlydir', 'appendonly.aof.manifest'), 'latin1')).toBe('file appendonly.aof.1.base.rdb seq 1 type b\n');
      expect(await text(c, ['CONFIG', 'SET', 'appendonly', 'yes'])).toBe('OK');
      await srv.waitForStderr(/finished successfully[\s\S]*finished successfully/, 30_000);
      const r = await pipeline(c, [['BGREWRITEAOF'], ['CONFIG', 'SET', 'appendonly', 'no'], ['INFO', 'persistence']]);
      expect(r[0]).toBe('Background append only file rewriting started');
      expect(field(r[2], 'aof_rewrite_in_progress')).toBe('0');
      expect(field(r[2], 'aof_enabled')).toBe('0');
      await srv.waitForStderr('Killing running AOF rewrite');
      expect(srv.stderr()).not.toMatch(/finished successfully[\s\S]*finished successfully[\s\S]*finished successfully/);
    } finally {
      c.close();
      expect(await srv.stop()).toBe(0);
    }
  });

  test('auto-aof-rewrite-percentage: the AOF grown past min-size and the percentage starts a rewrite on its own', async () => {
    const dir = tempDir();
    const srv = await startServer(['--dir', dir, '--appendonly', 'yes', '--auto-aof-rewrite-min-size', '100000', '--auto-aof-rewrite-percentage', '100']);
    const c = await RawClient.connect(srv.respPort);
    try {
      await populate(c);
      await srv.waitForStderr(/Starting automatic rewriting of AOF on \d+% growth/, 30_000);
      await srv.waitForStderr('Background AOF rewrite finished successfully', 30_000);
      expect(field(await text(c, ['INFO', 'persistence']), 'aof_rewrites')).not.toBe('0');
      expect(await text(c, ['DBSIZE'])).toBe(String(N));
    } finally {
      c.close();
      expect(await srv.stop()).toBe(0);
    }
  });

  for (const preamble of ['yes', 'no']) {
    test(`kill -9 under pipelined overwrites during and right after a rewrite, appendfsync always (aof-use-rdb-preamble ${preamble}): every acknowledged write is there`, async () => {
      const dir = tempDir();
      const srv = await startServer(['--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--aof-use-rdb-preamble', preamble]);
      const c = await RawClient.connect(srv.respPort);
      await populate(c);
      const acked = await overwriteUntilKill(srv, c);
      c.close();
      await srv.exited();
      const again = await startServer(['--dir', dir, '--appendonly', 'yes']);
      const c2 = await RawClient.connect(again.respPort);
      try {
        // Each acknowledged SET k:i i is there with its value (not the value the base was taken from).
        let wrong = 0;
        for (let from = 0; from < acked; from += 1000) {
          const keys = Array.from({ length: Math.min(1000, acked - from) }, (_, i) => `k:${from + i}`);
          const got = JSON.parse(await text(c2, ['MGET', ...keys])) as string[];
          got.forEach((v, i) => {
            if (v !== String(from + i)) wrong++;
          });
        }
        expect(wrong).toBe(0);
        expect(Number(await text(c2, ['DBSIZE']))).toBeGreaterThanOrEqual(N);
        console.log(`BGREWRITEAOF under load (preamble ${preamble}): ${acked} overwrites acknowledged before kill -9, all there after restart`);
      } finally {
        c2.close();
        await again.stop();
      }
    });
  }
});

describe('CONFIG SET appendonly yes in the background (Redis 7.0 startAppendOnly)', () => {
  test('turned on under a pipelined write load, appendfsync always: OK at once, INFO shows the wait, and after kill -9 every acknowledged write is there', async () => {
    const dir = tempDir();
    const srv = await startServer(['--dir', dir, '--appendfsync', 'always']);
    const c = await RawClient.connect(srv.respPort);
    await populate(c);
    let during: string[] = [];
    const acked = await overwriteUntilKill(srv, c, async () => {
      // One batch: writes before and after the switch, and INFO while the first rewrite runs.
      during = await pipeline(c, [['SET', 'x', '1'], ['CONFIG', 'SET', 'appendonly', 'yes'], ['SET', 'y', '2'], ['INFO', 'persistence'], ['SET', 'z', '3']]);
    });
    c.close();
    await srv.exited();
    expect(during.slice(0, 3)).toEqual(['OK', 'OK', 'OK']);
    expect(during[4]).toBe('OK');
    expect(field(during[3], 'aof_enabled')).toBe('1');
    expect(field(during[3], 'aof_rewrite_in_progress')).toBe('1');
    expect(field(during[3], 'aof_rewrite_scheduled')).toBe('0');
    expect(srv.stderr()).toContain('Background append only file rewriting started');
    const again = await startServer(['--dir', dir, '--appendonly', 'yes']);
    const c2 = await RawClient.connect(again.respPort);
    try {
      expect(await text(c2, ['MGET', 'x', 'y', 'z'])).toBe('["1","2","3"]');
      let wrong = 0;
      for (let from = 0; from < acked; from += 1000) {
        const keys = Array.from({ length: Math.min(1000, acked - from) }, (_, i) => `k:${from + i}`);
        const got = JSON.parse(await text(c2, ['MGET', ...keys])) as string[];
        got.forEach((v, i) => {
          if (v !== String(from + i)) wrong++;
        });
      }
      expect(wrong).toBe(0);
      expect(Number(await text(c2, ['DBSIZE']))).toBe(N + 3 + Math.max(0, acked - N));
      console.log(`CONFIG SET appendonly yes under load: ${acked} overwrites acknowledged before kill -9, all there after restart`);
    } finally {
      c2.close();
      await again.stop();
    }
  });

  test('during a BGSAVE the first rewrite is scheduled; SHUTDOWN is refused while it runs; appendonly no while it waits abandons it (no temp incr file, manifest as it was)', async () => {
    const dir = tempDir();
    const srv = await startServer(['--dir', dir]);
    const c = await RawClient.connect(srv.respPort);
    const aofDir = join(dir, 'appendonlydir');
    try {
      await populate(c);
      let r = await pipeline(c, [['BGSAVE'], ['CONFIG', 'SET', 'appendonly', 'yes'], ['CONFIG', 'GET', 'appendonly'], ['INFO', 'persistence'], ['SET', 'during', '1']]);
      expect(r.slice(0, 3)).toEqual(['Background saving started', 'OK', '["appendonly","yes"]']);
      expect(field(r[3], 'aof_enabled')).toBe('1');
      expect(field(r[3], 'aof_rewrite_in_progress')).toBe('0');
      expect(field(r[3], 'aof_rewrite_scheduled')).toBe('1');
      expect(field(r[3], 'aof_pending_rewrite')).toBe('1');
      await srv.waitForStderr('AOF was enabled but there is already another background operation. An AOF background was scheduled to start when possible.');
      await srv.waitForStderr('Background AOF rewrite finished successfully', 30_000);
      let info = await text(c, ['INFO', 'persistence']);
      expect([field(info, 'aof_enabled'), field(info, 'aof_rewrite_in_progress'), field(info, 'aof_rewrite_scheduled')]).toEqual(['1', '0', '0']);
      expect(readdirSync(aofDir).sort()).toEqual(['appendonly.aof.1.base.rdb', 'appendonly.aof.1.incr.aof', 'appendonly.aof.manifest']);
      const manifest = readFileSync(join(aofDir, 'appendonly.aof.manifest'), 'latin1');
      expect(manifest).toBe('file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n');

      // Off, then on and off again in one batch: the second rewrite is abandoned.
      expect(await text(c, ['CONFIG', 'SET', 'appendonly', 'no'])).toBe('OK');
      // SHUTDOWN while the first base is being written is refused (the data would be lost), as Redis.
      r = await pipeline(c, [['CONFIG', 'SET', 'appendonly', 'yes'], ['INFO', 'persistence'], ['SHUTDOWN'], ['CONFIG', 'SET', 'appendonly', 'no'], ['INFO', 'persistence']]);
      expect([r[0], r[2], r[3]]).toEqual(['OK', '-ERR Errors trying to SHUTDOWN. Check logs.', 'OK']);
      expect([field(r[1], 'aof_enabled'), field(r[1], 'aof_rewrite_in_progress')]).toEqual(['1', '1']);
      expect([field(r[4], 'aof_enabled'), field(r[4], 'aof_rewrite_in_progress'), field(r[4], 'aof_rewrite_scheduled')]).toEqual(['0', '0', '0']);
      await srv.waitForStderr("Writing initial AOF, can't exit.");
      await srv.waitForStderr('Killing running AOF rewrite');
      // The writer thread removes the abandoned base's temp file on its own time (gone by the next commit, checked below).
      expect(readdirSync(aofDir).filter((f) => !f.startsWith('temp-rewriteaof-bg-')).sort()).toEqual(['appendonly.aof.1.base.rdb', 'appendonly.aof.1.incr.aof', 'appendonly.aof.manifest']);
      expect(readFileSync(join(aofDir, 'appendonly.aof.manifest'), 'latin1')).toBe(manifest);

      // On again: the new base, and the writes since in the next incr file; the old incr file is history.
      expect(await text(c, ['CONFIG', 'SET', 'appendonly', 'yes'])).toBe('OK');
      await text(c, ['SET', 'later', '2']);
      await srv.waitForStderr(/finished successfully[\s\S]*finished successfully/, 30_000);
      await text(c, ['SET', 'last', '3']);
      expect(readdirSync(aofDir).sort()).toEqual(['appendonly.aof.2.base.rdb', 'appendonly.aof.2.incr.aof', 'appendonly.aof.manifest']);
      info = await text(c, ['INFO', 'persistence']);
      expect(field(info, 'aof_enabled')).toBe('1');
    } catch (e) {
      process.kill(srv.pid, 'SIGKILL'); // it may be writing its first base, when it refuses SIGTERM
      throw e;
    } finally {
      c.close();
      await srv.stop();
    }
    expect(srv.proc.exitCode).toBe(0);
    const again = await startServer(['--dir', dir, '--appendonly', 'yes']);
    const c2 = await RawClient.connect(again.respPort);
    try {
      expect(await text(c2, ['MGET', 'during', 'later', 'last'])).toBe('["1","2","3"]');
      expect(await text(c2, ['DBSIZE'])).toBe(String(N + 3));
    } finally {
      c2.close();
      await again.stop();
    }
  });
});

/**
 * Pipelines SET k:0 0, SET k:1 1, … (keys the rewrite's snapshot holds as
 * "old"); once 2000 are acknowledged, BGREWRITEAOF from `ctl`; once the server
 * logs the rewrite finished and 1000 more are acknowledged, kill -9 in the same
 * tick. Resolves with the number acknowledged before the kill.
 */
function overwriteUntilKill(srv: TestServer, ctl: RawClient, trigger?: () => Promise<void>): Promise<number> {
  return new Promise((resolve, reject) => {
    const sock = connect(srv.respPort, '127.0.0.1');
    let sent = 0;
    let acked = 0;
    let partial = 0;
    let rewriteAsked = false;
    let finishedAt = -1;
    let killed = false;
    const cmd = (i: number): string => `*3\r\n$3\r\nSET\r\n$${`k:${i}`.length}\r\nk:${i}\r\n$${String(i).length}\r\n${i}\r\n`;
    const fill = (): void => {
      let chunk = '';
      while (sent - acked < 500 && sent < N * 3) chunk += cmd(sent++);
      if (chunk !== '') sock.write(chunk);
    };
    sock.on('connect', fill);
    sock.on('data', (d) => {
      if (killed) return;
      partial += d.length; // every reply is +OK\r\n
      acked += Math.floor(partial / 5);
      partial %= 5;
      if (!rewriteAsked && acked >= 2000) {
        rewriteAsked = true;
        if (trigger !== undefined) trigger().catch(reject);
        else
          void ctl.call(['BGREWRITEAOF']).then((b) => {
            if (!b.toString().startsWith('+Background append only file rewriting started')) reject(new Error(b.toString()));
          });
        void srv.waitForStderr('Background AOF rewrite finished successfully', 60_000).then(() => (finishedAt = acked), reject);
      }
      if ((finishedAt >= 0 && acked >= finishedAt + 1000) || acked >= N * 3) {
        if (finishedAt < 0) return reject(new Error('the rewrite did not finish before the load ran out'));
        killed = true;
        process.kill(srv.pid, 'SIGKILL');
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
