#!/usr/bin/env node
// npm run bench:models: the notes' concurrency models side by side, in one
// run, on the echo protocol ([u32 len][bytes], each message sent back):
//
//   event loop, poll     redloop-server --mode echo --loop poll
//   event loop, epoll    redloop-server --mode echo --loop epoll
//   thread per client    redloop-server --mode thread-per-connection
//
// (--mode blocking serves one client at a time: with N clients at once all but
// one would wait forever, so it is not in the table; that stall is its lesson.)
//
// For 10, 100 and 1000 clients: the time until every client has had its first
// reply (a thread per client must first be started), the server's memory per
// client (RSS once all are connected, less RSS before any), its threads, then a
// closed-loop load (each client sends a message, waits for it, sends the
// next): throughput, latency percentiles, server CPU per request and context
// switches per request (all of the server's threads, from /proc/PID/task/*/status).
//
//   npm run bench:models [-- --clients 10,100,1000 --requests 30000 --label models]
//   npm run bench:models -- --quick     (10 and 100 clients; written to bench/results/tmp)

import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { cpus } from 'node:os';
import * as hdr from 'hdr-histogram-js';
import { processCpuUs } from '../bench/cpu.js';
import { render } from '../bench/report.js';

const SERVER = fileURLToPath(new URL('./server.js', import.meta.url));
const RESULTS = fileURLToPath(new URL('../../bench/results/', import.meta.url));

interface Model {
  name: string;
  args: string[];
}
const MODELS: Model[] = [
  { name: 'event loop (poll)', args: ['--mode', 'echo', '--loop', 'poll'] },
  { name: 'event loop (epoll)', args: ['--mode', 'echo', '--loop', 'epoll'] },
  { name: 'thread per connection', args: ['--mode', 'thread-per-connection'] },
];

interface Row {
  model: string;
  clients: number;
  /** ms from the first connect until every client had its first reply. */
  readyMs: number;
  rssIdleMiB: number;
  rssConnectedMiB: number;
  kibPerClient: number;
  threads: number;
  requests: number;
  throughput: number;
  serverCpuUsPerRequest: number;
  ctxSwitchesPerRequest: number;
  p50us: number;
  p99us: number;
  maxus: number;
}

function status(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(`/proc/${pid}/status`, 'latin1').split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

const rssMiB = (pid: number) => Number(status(pid).VmRSS.split(' ')[0]) / 1024;

/** Voluntary + involuntary context switches of every thread of pid (threads that ended are not counted). */
function ctxSwitches(pid: number): number {
  let n = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      const s = readFileSync(`/proc/${pid}/task/${t}/status`, 'latin1');
      n += Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(s)![1]) + Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(s)![1]);
    } catch {
      // the thread ended meanwhile
    }
  }
  return n;
}

function startServer(model: Model): Promise<{ proc: ChildProcess; port: number; pid: number }> {
  const proc = spawn(process.execPath, [SERVER, '--port', '0', '--quiet', '--maxclients', '5000', ...model.args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /book=\S+:(\d+) .* pid=(\d+)/.exec(out);
      if (m) resolve({ proc, port: Number(m[1]), pid: Number(m[2]) });
    });
    proc.once('exit', (code) => reject(new Error(`${model.name}: server exited (${code}) before ready`)));
  });
}

const MSG = (() => {
  const body = Buffer.from('the quick brown fox jumps over!!'); // 32 bytes
  const b = Buffer.alloc(4 + body.length);
  b.writeUInt32LE(body.length, 0);
  body.copy(b, 4);
  return b;
})();

/** A client that sends one message at a time and calls back when it is echoed whole. */
class EchoClient {
  private got = 0;
  private sentAt = 0;
  onReply: ((latencyMs: number) => void) | null = null;
  constructor(readonly sock: Socket) {
    sock.setNoDelay(true);
    sock.on('data', (d) => {
      this.got += d.length;
      while (this.got >= MSG.length) {
        this.got -= MSG.length;
        this.onReply?.(performance.now() - this.sentAt);
      }
    });
  }
  send(): void {
    this.sentAt = performance.now();
    this.sock.write(MSG);
  }
}

async function measure(model: Model, n: number, totalRequests: number): Promise<Row> {
  const srv = await startServer(model);
  try {
    const rssIdle = rssMiB(srv.pid);
    const t0 = performance.now();
    const clients: EchoClient[] = [];
    // Connect in batches of 100 (the listen backlog is large, but a burst of 1000 SYNs is not the point).
    for (let i = 0; i < n; i += 100) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(100, n - i) }, () => new Promise<EchoClient>((resolve, reject) => {
          const s = connect({ host: '127.0.0.1', port: srv.port });
          s.once('connect', () => resolve(new EchoClient(s)));
          s.once('error', reject);
        })),
      );
      clients.push(...batch);
    }
    // Every client's first round trip: for threads, each must have been started.
    await Promise.all(clients.map((c) => new Promise<void>((resolve) => {
      c.onReply = () => resolve();
      c.send();
    })));
    const readyMs = performance.now() - t0;
    const rssConnected = rssMiB(srv.pid);
    const threads = Number(status(srv.pid).Threads);

    // The closed-loop load: each client sends `per` messages, one at a time.
    const per = Math.max(10, Math.floor(totalRequests / n));
    const hist = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
    const cpu0 = processCpuUs(srv.pid);
    const ctx0 = ctxSwitches(srv.pid);
    const l0 = performance.now();
    await Promise.all(clients.map((c) => new Promise<void>((resolve) => {
      let left = per;
      c.onReply = (ms) => {
        hist.recordValue(Math.max(1, Math.round(ms * 1000)));
        if (--left === 0) resolve();
        else c.send();
      };
      c.send();
    })));
    const elapsed = (performance.now() - l0) / 1000;
    const cpu = processCpuUs(srv.pid) - cpu0;
    const ctx = ctxSwitches(srv.pid) - ctx0;
    const requests = per * n;
    for (const c of clients) c.sock.destroy();
    return {
      model: model.name,
      clients: n,
      readyMs: Math.round(readyMs),
      rssIdleMiB: Number(rssIdle.toFixed(1)),
      rssConnectedMiB: Number(rssConnected.toFixed(1)),
      kibPerClient: Number((((rssConnected - rssIdle) * 1024) / n).toFixed(1)),
      threads,
      requests,
      throughput: Math.round(requests / elapsed),
      serverCpuUsPerRequest: Number((cpu / requests).toFixed(2)),
      ctxSwitchesPerRequest: Number((ctx / requests).toFixed(2)),
      p50us: hist.getValueAtPercentile(50),
      p99us: hist.getValueAtPercentile(99),
      maxus: hist.maxValue,
    };
  } finally {
    srv.proc.kill('SIGKILL');
  }
}

function markdown(rows: Row[], cmd: string, chart: string): string {
  const head = ['model', 'clients', 'all served after', 'RSS idle → connected', 'per client', 'threads', 'requests/s', 'server CPU µs/req', 'ctx switches/req', 'p50', 'p99', 'max'];
  const lines = [
    '# Concurrency models: event loop vs thread per connection',
    '',
    `Reproduce: \`${cmd}\` (${new Date().toISOString().slice(0, 16)}Z, ${cpus().length} cores, Node ${process.version}).`,
    '',
    'Echo protocol, 32-byte messages, closed loop (each client waits for its echo before sending the next).',
    'Memory is the server\'s RSS once every client has had one reply, less its RSS before any connected.',
    'Context switches are summed over all the server\'s threads during the load. On this 2-core machine the',
    'load generator shares the CPUs, so server CPU per request is the steadier figure; throughput mostly',
    'says who got the CPU.',
    '',
    `| ${head.join(' | ')} |`,
    `|${head.map((_, i) => (i < 1 ? ':--' : '--:')).join('|')}|`,
    ...rows.map((r) => `| ${[r.model, r.clients, `${r.readyMs} ms`, `${r.rssIdleMiB} → ${r.rssConnectedMiB} MiB`, `${r.kibPerClient} KiB`, r.threads, r.throughput.toLocaleString('en-US'), r.serverCpuUsPerRequest, r.ctxSwitchesPerRequest, `${r.p50us} µs`, `${r.p99us} µs`, `${r.maxus} µs`].join(' | ')} |`),
    '',
    `![memory per client, server CPU per request and p99 latency by client count](${chart})`,
    '',
  ];
  return lines.join('\n');
}

async function chart(rows: Row[]): Promise<string> {
  const x = { field: 'clients', type: 'ordinal', title: 'clients' } as const;
  const color = { field: 'model', type: 'nominal', title: null } as const;
  const panel = (field: string, title: string, log = false) => ({
    width: 240,
    height: 200,
    mark: { type: 'line', point: true },
    encoding: { x, y: { field, type: 'quantitative', title, ...(log ? { scale: { type: 'log' } } : {}) }, color },
  });
  return render({
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'Event loop vs thread per connection (echo, closed loop)',
    data: { values: rows },
    hconcat: [panel('kibPerClient', 'server memory per client (KiB)'), panel('serverCpuUsPerRequest', 'server CPU µs per request'), panel('p99us', 'p99 latency (µs)', true)],
  } as never);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      clients: { type: 'string' },
      requests: { type: 'string' },
      label: { type: 'string' },
      quick: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write('usage: npm run bench:models [-- --clients 10,100,1000] [--requests 30000] [--label models] [--quick]\n');
    return;
  }
  const levels = (values.clients ?? (values.quick ? '10,100' : '10,100,1000')).split(',').map(Number);
  if (levels.some((n) => !Number.isInteger(n) || n < 1 || n > 5000)) throw new Error('--clients: counts from 1 to 5000');
  const total = Number(values.requests ?? (values.quick ? 5000 : 30000));
  const label = values.label ?? (values.quick ? null : 'models');
  const dir = label === null ? `${RESULTS}tmp/` : RESULTS;
  const name = label ?? 'models-quick';
  mkdirSync(dir, { recursive: true });
  const rows: Row[] = [];
  for (const n of levels) {
    for (const m of MODELS) {
      process.stderr.write(`bench:models: ${m.name}, ${n} clients…\n`);
      rows.push(await measure(m, n, total));
      const r = rows[rows.length - 1];
      process.stderr.write(`  ${r.throughput} req/s, ${r.serverCpuUsPerRequest} µs CPU/req, ${r.kibPerClient} KiB/client, ${r.threads} threads, p99 ${r.p99us} µs, ready after ${r.readyMs} ms\n`);
    }
  }
  const cmd = `npm run bench:models -- --clients ${levels.join(',')} --requests ${total}${label !== null && label !== 'models' ? ` --label ${label}` : ''}`;
  writeFileSync(`${dir}${name}.json`, JSON.stringify({ command: cmd, date: new Date().toISOString(), rows }, null, 2) + '\n');
  writeFileSync(`${dir}${name}.svg`, await chart(rows));
  writeFileSync(`${dir}${name}.md`, markdown(rows, cmd, `${name}.svg`));
  process.stdout.write(readFileSync(`${dir}${name}.md`, 'utf8'));
}

main().catch((err: Error) => {
  process.stderr.write(`bench:models: ${err.message}\n`);
  process.exit(1);
});
