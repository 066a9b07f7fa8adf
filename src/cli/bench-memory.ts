#!/usr/bin/env node
// `npm run bench:memory`: redloop's memory behaviour beside redis-server, one
// server at a time (never two big datasets at once), results in
// bench/results/memory.md.
//
//  (a) bytes per key: 1M keys of 16-byte keys and 16-byte values, filled by
//      pipelined SETs; RSS growth and used_memory growth per key (redloop also:
//      V8's heap growth after a full GC).
//  (b) a big fill: redloop with --maxmemory 8gb (noeviction) filled with 1 MiB
//      values until -OOM; RSS, used_memory, and that it still answers.
//  (c) an overwrite load on a 2 GB dataset (1 KiB values): writers overwrite
//      random keys while a control client (its own thread) GETs random keys one
//      at a time; the control client's p50/p99/p99.9/max. redloop runs with
//      node --trace-gc so the pauses can be attributed; each `--variant` (node
//      flags) is one more redloop run.
//
// npm run bench:memory -- [--only a,b,c] [--keys 1000000] [--big-gb 8]
//   [--dataset-gb 2] [--value 1024] [--seconds 20] [--writers 4] [--depth 16]
//   [--variant "--max-semi-space-size=64"]... [--out bench/results/memory.md]

import { parseArgs } from 'node:util';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import net from 'node:net';
import os from 'node:os';

const { values: v } = parseArgs({
  options: {
    only: { type: 'string', default: 'a,b,c' },
    keys: { type: 'string', default: '1000000' },
    'big-gb': { type: 'string', default: '8' },
    'big-value': { type: 'string', default: String(1024 * 1024) },
    'dataset-gb': { type: 'string', default: '2' },
    value: { type: 'string', default: '1024' },
    seconds: { type: 'string', default: '20' },
    writers: { type: 'string', default: '4' },
    depth: { type: 'string', default: '16' },
    variant: { type: 'string', multiple: true, default: [] },
    out: { type: 'string', default: 'bench/results/memory.md' },
  },
});

const SERVER = fileURLToPath(new URL('./server.js', import.meta.url));
const CONTROL = fileURLToPath(new URL('../bench/control.js', import.meta.url));
const KEY = 'key:{i}'; // 4 + 12 digits = 16 bytes
const keyName = (i: number): string => `key:${String(i).padStart(12, '0')}`;
const log = (s: string): void => void process.stderr.write(`${s}\n`);

interface Server {
  label: string;
  pid: number;
  port: number;
  proc: ChildProcess;
  /** stdout lines with the time they arrived (node --trace-gc prints there). */
  lines: { t: number; line: string }[];
  stop(): Promise<void>;
}

function stopper(proc: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      proc.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      proc.kill('SIGTERM');
    });
}

function startRedloop(label: string, nodeArgs: string[], args: string[]): Promise<Server> {
  // Its own empty directory and no save rules: nothing loaded at start, nothing saved during the run.
  const dir = mkdtempSync(join(os.tmpdir(), 'redloop-bench-memory-'));
  const proc = spawn(process.execPath, [...nodeArgs, SERVER, '--port', '0', '--resp-port', '0', '--loop', 'epoll', '--dir', dir, '--save', '', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: { t: number; line: string }[] = [];
  let err = '';
  let rest = '';
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err = (err + d).slice(-4000);
    for (const l of d.split('\n')) if (l.includes('memory:')) log(`  [${label}] ${l.trim()}`);
  });
  return new Promise((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`redloop exited (${code}) before ready: ${err}`)));
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      const parts = (rest + d).split('\n');
      rest = parts.pop()!;
      const t = Date.now();
      for (const line of parts) {
        lines.push({ t, line });
        const m = /redloop ready: book=\S+ resp=\S+:(\d+) loop=\S+ pid=(\d+)/.exec(line);
        if (m) {
          proc.removeAllListeners('exit');
          resolve({ label, pid: Number(m[2]), port: Number(m[1]), proc, lines, stop: stopper(proc) });
        }
      }
    });
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

async function startRedis(args: string[] = []): Promise<Server> {
  const port = await freePort();
  // Its own empty directory: a dump.rdb left in the current one (by another benchmark) would be loaded.
  const dir = mkdtempSync(join(os.tmpdir(), 'redloop-bench-memory-'));
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--loglevel', 'warning', ...args], {
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((res) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        res(true);
      });
      s.on('error', () => res(false));
    });
    if (ok) return { label: 'redis-server', pid: proc.pid!, port, proc, lines: [], stop: stopper(proc) };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('redis-server did not start');
}

/** One command, one reply (a bulk or a line). */
function call(port: number, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let buf: Buffer = Buffer.alloc(0);
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      const nl = buf.indexOf('\r\n');
      if (nl < 0) return;
      const head = buf.toString('latin1', 0, nl);
      if (head[0] !== '$') {
        s.destroy();
        return resolve(head);
      }
      const n = Number(head.slice(1));
      if (buf.length >= nl + 2 + n + 2) {
        s.destroy();
        resolve(buf.toString('latin1', nl + 2, nl + 2 + n));
      }
    });
    s.on('error', reject);
    s.write(args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).reduce((acc, x) => acc + x, `*${args.length}\r\n`));
  });
}

async function infoNum(port: number, field: string): Promise<number> {
  const text = await call(port, ['INFO', 'memory']);
  const m = new RegExp(`^${field}:(\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

function rss(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

const setCmd = (key: string, value: string): string => `*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$${value.length}\r\n${value}\r\n`;

/**
 * Pipelined SETs of keys first..first+count-1, `batch` at a time; stops at the
 * first error reply (the error is returned). Counts reply lines (SET's replies
 * are one line each).
 */
async function fill(port: number, first: number, count: number, value: string, batch: number): Promise<{ ok: number; error: string | null }> {
  const s = net.connect(port, '127.0.0.1');
  await new Promise((r) => s.once('connect', r));
  let ok = 0;
  let error: string | null = null;
  try {
    for (let i = first; i < first + count && error === null; i += batch) {
      const n = Math.min(batch, first + count - i);
      let req = '';
      for (let j = i; j < i + n; j++) req += setCmd(keyName(j), value);
      s.write(Buffer.from(req, 'latin1'));
      await new Promise<void>((resolve) => {
        let lines = 0;
        let start = true;
        let errLine: string | null = null;
        const onData = (d: Buffer): void => {
          for (let k = 0; k < d.length; k++) {
            const c = d[k];
            if (start && c === 45 /* - */ && errLine === null) errLine = d.toString('latin1', k, Math.min(d.length, k + 80)).split('\r')[0];
            start = c === 10;
            if (c === 10) lines++;
          }
          if (lines >= n) {
            s.off('data', onData);
            ok += n - (errLine === null ? 0 : 1);
            if (errLine !== null) error = errLine;
            resolve();
          }
        };
        s.on('data', onData);
      });
    }
  } finally {
    s.destroy();
  }
  return { ok, error };
}

const MB = 1024 * 1024;
const fmtMB = (n: number): string => `${(n / MB).toFixed(1)} MB`;
const out: string[] = [];
const say = (s = ''): void => {
  out.push(s);
  log(s);
};

async function partA(): Promise<void> {
  const n = Number(v.keys);
  const value = 'v'.repeat(16);
  say(`## (a) Bytes per key: ${n.toLocaleString('en')} keys, 16-byte keys, 16-byte values`);
  say();
  say('| server | RSS growth / key | used_memory growth / key | V8 heap growth / key (after full GC) | fill time |');
  say('|---|---|---|---|---|');
  const rows: Record<string, number> = {};
  for (const which of ['redis', 'redloop'] as const) {
    const srv = which === 'redis' ? await startRedis() : await startRedloop('redloop', [], []);
    try {
      if (which === 'redloop') await call(srv.port, ['MEMORY', 'PURGE']);
      const r0 = rss(srv.pid);
      const u0 = await infoNum(srv.port, 'used_memory');
      const h0 = which === 'redloop' ? await infoNum(srv.port, 'redloop_heap_used') : NaN;
      const t0 = Date.now();
      const res = await fill(srv.port, 0, n, value, 1000);
      const secs = (Date.now() - t0) / 1000;
      if (res.error !== null) throw new Error(`${which}: ${res.error}`);
      const u1 = await infoNum(srv.port, 'used_memory');
      let h1 = NaN;
      if (which === 'redloop') {
        await call(srv.port, ['MEMORY', 'PURGE']);
        h1 = await infoNum(srv.port, 'redloop_heap_used');
      }
      const r1 = rss(srv.pid);
      rows[which] = (r1 - r0) / n;
      say(`| ${which === 'redis' ? 'redis-server' : 'redloop (epoll)'} | ${((r1 - r0) / n).toFixed(1)} B | ${((u1 - u0) / n).toFixed(1)} B | ${which === 'redloop' ? `${((h1 - h0) / n).toFixed(1)} B` : '—'} | ${secs.toFixed(1)} s |`);
    } finally {
      await srv.stop();
    }
  }
  say();
  say(`RSS per key, redloop / redis-server: **${(rows.redloop / rows.redis).toFixed(2)}×** (goal ≤ 1.5×).`);
  say();
}

async function partB(): Promise<void> {
  const gb = Number(v['big-gb']);
  const size = Number(v['big-value']);
  const value = 'x'.repeat(size);
  say(`## (b) Fill to ${gb} GB with --maxmemory ${gb}gb (noeviction), ${size.toLocaleString('en')}-byte values, redloop only`);
  say();
  const srv = await startRedloop('redloop', [], ['--maxmemory', `${gb}gb`]);
  try {
    const startLine = (await new Promise<string>((r) => setTimeout(() => r(''), 200))) || '';
    void startLine;
    const limit = await infoNum(srv.port, 'redloop_heap_limit');
    const t0 = Date.now();
    let peakRss = 0;
    const timer = setInterval(() => (peakRss = Math.max(peakRss, rss(srv.pid))), 200);
    const res = await fill(srv.port, 0, Math.ceil((gb * 1.25 * 1024 ** 3) / size), value, 16);
    clearInterval(timer);
    const secs = (Date.now() - t0) / 1000;
    const used = await infoNum(srv.port, 'used_memory');
    const r = rss(srv.pid);
    peakRss = Math.max(peakRss, r);
    const get = await call(srv.port, ['STRLEN', keyName(0)]);
    const ping = await call(srv.port, ['PING']);
    say(`- V8 heap limit (chosen at start from the machine's ${fmtMB(os.totalmem())}): ${fmtMB(limit)}`);
    say(`- keys stored before the first refusal: ${res.ok.toLocaleString('en')} (${fmtMB(res.ok * size)} of values) in ${secs.toFixed(1)} s; first refusal: \`${res.error ?? 'none'}\``);
    say(`- used_memory ${fmtMB(used)}; RSS ${fmtMB(r)} (peak seen ${fmtMB(peakRss)})`);
    say(`- afterwards: STRLEN of the first key → ${get}, PING → ${ping}; the process was still running: ${srv.proc.exitCode === null}`);
    say();
  } finally {
    await srv.stop();
  }
}

interface Pause {
  kind: string;
  ms: number;
}

function gcPauses(lines: { t: number; line: string }[], from: number, to: number): Pause[] {
  const out: Pause[] = [];
  for (const { t, line } of lines) {
    if (t < from || t > to) continue;
    const m = /ms: ((?:Minor )?Mark-Compact(?: \(reduce\))?|Scavenge|Mark-Compact)\b.*?MB, ([\d.]+) \/ [\d.]+ ms/.exec(line);
    if (m) out.push({ kind: m[1], ms: Number(m[2]) });
  }
  return out;
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function overwriteLoad(srv: Server, keys: number, value: string): Promise<{ lat: number[]; ops: number; from: number; to: number }> {
  const seconds = Number(v.seconds);
  const writers = Number(v.writers);
  const depth = Number(v.depth);
  const worker = new Worker(CONTROL, { workerData: { port: srv.port, keys, keyOf: KEY } });
  const from = Date.now();
  let ops = 0;
  let stop = false;
  const done: Promise<void>[] = [];
  for (let w = 0; w < writers; w++) {
    done.push(
      new Promise<void>((resolve) => {
        const s = net.connect(srv.port, '127.0.0.1');
        s.setNoDelay(true);
        let outstanding = 0;
        const send = (): void => {
          let req = '';
          while (outstanding < depth) {
            req += setCmd(keyName(Math.floor(Math.random() * keys)), value);
            outstanding++;
          }
          s.write(Buffer.from(req, 'latin1'));
        };
        s.on('connect', send);
        s.on('data', (d: Buffer) => {
          for (let k = 0; k < d.length; k++) if (d[k] === 10) outstanding--, ops++;
          if (stop) {
            if (outstanding === 0) {
              s.destroy();
              resolve();
            }
            return;
          }
          if (outstanding < depth / 2) send();
        });
        s.on('error', () => resolve());
      }),
    );
  }
  await new Promise((r) => setTimeout(r, seconds * 1000));
  stop = true;
  const lat = await new Promise<number[]>((resolve) => {
    worker.once('message', (m) => resolve(Array.isArray(m) ? m : m.lat));
    worker.postMessage('stop');
  });
  const to = Date.now();
  await Promise.all(done);
  await worker.terminate();
  return { lat, ops, from, to };
}

async function partC(): Promise<void> {
  const size = Number(v.value);
  const keys = Math.floor((Number(v['dataset-gb']) * 1024 ** 3) / size);
  const value = 'w'.repeat(size);
  say(
    `## (c) Overwrite load on a ${v['dataset-gb']} GB dataset: ${keys.toLocaleString('en')} keys of ${size}-byte values; ` +
      `${v.writers} writers × ${v.depth} pipelined SETs of random keys, control client GETs one at a time, ${v.seconds} s`,
  );
  say();
  say('| server | control p50 | p99 | p99.9 | max | control requests | writes/s | RSS before → after load |');
  say('|---|---|---|---|---|---|---|---|');
  const runs: { label: string; nodeArgs: string[] }[] = [{ label: 'redloop', nodeArgs: ['--trace-gc'] }];
  for (const flags of v.variant as string[]) runs.push({ label: `redloop ${flags}`, nodeArgs: ['--trace-gc', ...flags.split(/\s+/).filter(Boolean)] });
  const gcRows: string[] = [];
  for (const run of [{ label: 'redis-server', nodeArgs: [] as string[] }, ...runs]) {
    const srv = run.label === 'redis-server' ? await startRedis() : await startRedloop(run.label, run.nodeArgs, []);
    try {
      const f = await fill(srv.port, 0, keys, value, 256);
      if (f.error !== null) throw new Error(`${run.label}: fill: ${f.error}`);
      const rBefore = rss(srv.pid);
      const { lat, ops, from, to } = await overwriteLoad(srv, keys, value);
      const rAfter = rss(srv.pid);
      const sorted = lat.sort((a, b) => a - b);
      const ms = (us: number): string => `${(us / 1000).toFixed(2)} ms`;
      say(
        `| ${run.label} | ${ms(pct(sorted, 50))} | ${ms(pct(sorted, 99))} | ${ms(pct(sorted, 99.9))} | ${ms(sorted[sorted.length - 1])} | ${sorted.length.toLocaleString('en')} | ` +
          `${Math.round(ops / ((to - from) / 1000)).toLocaleString('en')} | ${fmtMB(rBefore)} → ${fmtMB(rAfter)} |`,
      );
      if (run.label !== 'redis-server') {
        const pauses = gcPauses(srv.lines, from, to);
        const kinds = new Map<string, number[]>();
        for (const p of pauses) kinds.set(p.kind, [...(kinds.get(p.kind) ?? []), p.ms]);
        for (const [kind, xs] of kinds) {
          xs.sort((a, b) => a - b);
          gcRows.push(`| ${run.label} | ${kind} | ${xs.length} | ${pct(xs, 50).toFixed(1)} ms | ${xs[xs.length - 1].toFixed(1)} ms | ${xs.reduce((a, b) => a + b, 0).toFixed(0)} ms |`);
        }
      }
    } finally {
      await srv.stop();
    }
  }
  say();
  say('GC pauses in the load window (node --trace-gc on the server):');
  say();
  say('| server | kind | count | median pause | max pause | total |');
  say('|---|---|---|---|---|---|');
  for (const r of gcRows) say(r);
  say();
}

async function main(): Promise<void> {
  const only = new Set(String(v.only).split(','));
  const redis = spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout?.trim() ?? 'not installed';
  const header = [
    '# Memory benchmark (`npm run bench:memory`)',
    '',
    `${new Date().toISOString()} · node ${process.version} · ${redis} · ${os.cpus().length} CPUs, ${fmtMB(os.totalmem())} · load average at start: ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')} (the machine is shared: absolute figures are noisy; servers ran one at a time, redloop with --loop epoll)`,
    '',
    `Command: \`npm run bench:memory -- ${process.argv.slice(2).join(' ')}\``,
    '',
  ];
  for (const l of header) say(l);
  if (only.has('a')) await partA();
  if (only.has('b')) await partB();
  if (only.has('c')) await partC();
  say(`Load average at the end: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  mkdirSync(dirname(v.out!), { recursive: true });
  writeFileSync(v.out!, out.join('\n') + '\n');
  log(`wrote ${v.out}`);
}

main().catch((e) => {
  log(String(e?.stack ?? e));
  process.exit(1);
});
