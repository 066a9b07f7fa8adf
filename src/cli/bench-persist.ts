// npm run bench:persist — persistence figures, redloop and redis-server side
// by side in one run (same machine, same load, same moment):
//   BGSAVE of N keys (default 1M): wall time, the server's peak extra memory
//   (VmHWM after the save minus VmRSS before it, the peak reset through
//   /proc/PID/clear_refs; for redis-server also its fork child's copy-on-write,
//   rdb_last_cow_size), and the latency a control client sees doing one GET at
//   a time during the save (p50/p99/max; the same client before the save for
//   reference), while a writer client overwrites random keys in batches.
// Results go to stdout and bench/results/persist.md. Reported, not asserted.
// Options: --keys N, --value-size B, --targets poll,epoll,libuv,redis.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { redisVersion, startRedis, startRedloop, type RunningTarget } from '../bench/servers.js';

const { values: v } = parseArgs({
  options: {
    keys: { type: 'string', default: '1000000' },
    'value-size': { type: 'string', default: '32' },
    targets: { type: 'string', default: 'poll,redis' },
    out: { type: 'string', default: 'bench/results/persist.md' },
  },
});
const KEYS = Number(v.keys);
/**
 * A save rule that never fires during the run, on both servers: a server with
 * save rules is one that saves, and redloop starts its writer thread at
 * start-up then (not inside the first BGSAVE), as a deployment would run it.
 */
const IDLE_RULE = '86400 1000000000';
const VALUE = 'x'.repeat(Math.max(1, Number(v['value-size']) - 8));

/** A minimal pipelining RESP client: send commands, await their replies in order (as text). */
class Resp {
  private buf = Buffer.alloc(0);
  private readonly waiting: ((reply: string) => void)[] = [];
  private constructor(private readonly sock: net.Socket) {
    sock.setNoDelay(true);
    sock.on('data', (d) => {
      this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
      this.parse();
    });
  }

  static connect(port: number): Promise<Resp> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new Resp(s)));
      s.once('error', reject);
    });
  }

  /** Parses whole replies (status, error, integer, bulk; arrays are not needed here). */
  private parse(): void {
    let at = 0;
    const b = this.buf;
    for (;;) {
      const nl = b.indexOf('\r\n', at);
      if (nl < 0) break;
      const type = b[at];
      let reply: string;
      let next = nl + 2;
      if (type === 0x24) {
        const len = Number(b.toString('latin1', at + 1, nl));
        if (len >= 0) {
          if (b.length < next + len + 2) break;
          reply = b.toString('latin1', next, next + len);
          next += len + 2;
        } else reply = '(nil)';
      } else reply = b.toString('latin1', at, nl);
      at = next;
      this.waiting.shift()!(reply);
    }
    this.buf = at === b.length ? Buffer.alloc(0) : b.subarray(at);
  }

  send(cmds: string[][]): Promise<string[]> {
    const parts: string[] = [];
    for (const c of cmds) {
      parts.push(`*${c.length}\r\n`);
      for (const a of c) parts.push(`$${Buffer.byteLength(a)}\r\n${a}\r\n`);
    }
    const all = cmds.map(() => new Promise<string>((r) => this.waiting.push(r)));
    this.sock.write(parts.join(''));
    return Promise.all(all);
  }

  async call(...c: string[]): Promise<string> {
    return (await this.send([c]))[0];
  }

  close(): void {
    this.sock.destroy();
  }
}

function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

async function infoField(c: Resp, field: string): Promise<string> {
  const text = await c.call('INFO', 'persistence');
  return new RegExp(`${field}:(\\S+)`).exec(text)?.[1] ?? '';
}

/** The control client, in a thread of its own so the writer's replies never delay its clock. */
const CONTROL = `
const { parentPort, workerData } = require('node:worker_threads');
const net = require('node:net');
const s = net.connect(workerData.port, '127.0.0.1');
s.setNoDelay(true);
let phase = 'before', t0 = 0, stop = false;
const lat = { before: [], during: [] };
const req = '*2\\r\\n$3\\r\\nGET\\r\\n$5\\r\\nkey:7\\r\\n';
let pending = '';
s.on('connect', () => { t0 = performance.now(); s.write(req); });
s.on('data', (d) => {
  pending += d.toString('latin1');
  if (!pending.endsWith('\\r\\n') || (pending[0] === '$' && pending.split('\\r\\n').length < 3)) return;
  pending = '';
  lat[phase].push(performance.now() - t0);
  if (stop) { s.destroy(); parentPort.postMessage(lat); return; }
  t0 = performance.now(); s.write(req);
});
parentPort.on('message', (m) => { if (m === 'during') phase = 'during'; else stop = true; });
`;

interface Row {
  target: string;
  wallMs: number;
  extraRssMb: number;
  cowMb: number;
  before: { p50: number; p99: number; max: number; n: number };
  during: { p50: number; p99: number; max: number; n: number };
  writes: number;
}

function pct(xs: number[]): { p50: number; p99: number; max: number; n: number } {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => (s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(q * s.length))]);
  return { p50: at(0.5), p99: at(0.99), max: s.length === 0 ? NaN : s[s.length - 1], n: s.length };
}

async function measure(name: string, start: (dir: string) => Promise<RunningTarget>): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), `bench-persist-${name}-`));
  const t = await start(dir);
  try {
    const port = t.ports.resp!;
    const load = await Resp.connect(port);
    process.stdout.write(`${name}: loading ${KEYS} keys… `);
    const BATCH = 10_000;
    for (let i = 0; i < KEYS; i += BATCH) {
      const cmds: string[][] = [];
      for (let j = i; j < Math.min(KEYS, i + BATCH); j++) cmds.push(['SET', `key:${j}`, `${VALUE}${j}`.slice(-VALUE.length - 8)]);
      await load.send(cmds);
    }
    process.stdout.write('saving… ');
    // A writer overwriting random keys in batches of 100 from before the save to its end (so the
    // "before" column has the same write load as "during").
    const writer = await Resp.connect(port);
    let writing = true;
    let writes = 0;
    let writesBefore = 0;
    const writerDone = (async () => {
      while (writing) {
        const cmds: string[][] = [];
        for (let j = 0; j < 100; j++) cmds.push(['SET', `key:${Math.floor(Math.random() * KEYS)}`, 'overwritten']);
        await writer.send(cmds);
        writes += 100;
      }
    })();
    // The control client: one GET at a time, before and during the save.
    const control = new Worker(CONTROL, { eval: true, workerData: { port } });
    const latencies = new Promise<{ before: number[]; during: number[] }>((r) => control.once('message', r));
    await new Promise((r) => setTimeout(r, 1000));
    const rssBefore = statusKb(t.pid, 'VmRSS');
    writeFileSync(`/proc/${t.pid}/clear_refs`, '5'); // resets VmHWM to the current RSS
    control.postMessage('during');
    writesBefore = writes;
    const started = performance.now();
    const reply = await load.call('BGSAVE');
    if (!reply.includes('Background saving started')) throw new Error(`${name}: BGSAVE answered ${reply}`);
    while ((await infoField(load, 'rdb_bgsave_in_progress')) !== '0') await new Promise((r) => setTimeout(r, 5));
    const wallMs = performance.now() - started;
    control.postMessage('stop');
    writing = false;
    await writerDone;
    const lat = await latencies;
    const peak = statusKb(t.pid, 'VmHWM');
    const status = await infoField(load, 'rdb_last_bgsave_status');
    if (status !== 'ok') throw new Error(`${name}: the background save failed`);
    const cow = Number(await infoField(load, 'rdb_last_cow_size'));
    load.close();
    writer.close();
    await control.terminate();
    console.log('done');
    return {
      target: name,
      wallMs,
      extraRssMb: (peak - rssBefore) / 1024,
      cowMb: cow / 1024 / 1024,
      before: pct(lat.before),
      during: pct(lat.during),
      writes: writes - writesBefore,
    };
  } finally {
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const targets = String(v.targets).split(',');
  const rows: Row[] = [];
  for (const name of targets) {
    if (name === 'redis') {
      if (redisVersion() === null) {
        console.log('redis-server not found: skipped');
        continue;
      }
      rows.push(await measure('redis-server', (dir) => startRedis(100, ['--dir', dir, '--save', IDLE_RULE])));
    } else if (name === 'poll' || name === 'epoll' || name === 'libuv') {
      rows.push(await measure(`redloop ${name}`, (dir) => startRedloop(name, 100, undefined, ['--dir', dir, '--save', IDLE_RULE])));
    }
  }
  const f = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '–');
  const lines = [
    `# Persistence benchmark`,
    '',
    `BGSAVE of ${KEYS} string keys (values of ${v['value-size']} bytes) while a writer overwrites random keys in batches of 100 ` +
      `(from 1 s before the save to its end) and a control client does one GET at a time ("before": that 1 s; "during": the save). ${new Date().toISOString()}, redis-server ${redisVersion() ?? 'absent'}, node ${process.version}.`,
    '',
    '| server | BGSAVE wall (ms) | peak extra RSS (MB) | cow / preserved (MB) | GET p50 / p99 / max before (ms) | GET p50 / p99 / max during (ms) | GETs during | writes during |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.target} | ${f(r.wallMs, 0)} | ${f(r.extraRssMb, 1)} | ${f(r.cowMb, 1)} | ${f(r.before.p50, 3)} / ${f(r.before.p99, 3)} / ${f(r.before.max, 3)} | ` +
        `${f(r.during.p50, 3)} / ${f(r.during.p99, 3)} / ${f(r.during.max, 3)} | ${r.during.n} | ${r.writes} |`,
    ),
    '',
    `Both servers run with \`save ${IDLE_RULE}\` (never due during the run). ` +
      'Peak extra RSS: the server process\'s VmHWM after the save minus its VmRSS before (the peak reset through /proc/PID/clear_refs); ' +
      "for redis-server that is the parent only — its fork child's own pages are in the cow column (rdb_last_cow_size). " +
      "For redloop the cow column is rdb_last_cow_size too: bytes serialized ahead of the walk because a write was about to change them. " +
      'Goal (issue 12): control-client p99 ≤ 2 ms during the save.',
    '',
  ];
  const text = lines.join('\n');
  console.log(text);
  mkdirSync(join(String(v.out), '..'), { recursive: true });
  writeFileSync(String(v.out), text);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
