// The store benchmark's "beside redis-server" section: the same workloads sent
// over RESP, pipelined, to a redis-server and to a redloop server started for
// the run (same machine, same client), reported side by side: SCAN over 1M keys,
// PFCOUNT, GEOSEARCH, XADD and XRANGE on a 1M-entry stream. Each figure is
// the server process's own CPU time per command (utime + stime from
// /proc/<pid>/stat, so the client's work and the other processes on the shared
// cores stay out) and the client's wall time per command.

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseReply, type RespReply } from '../protocol/resp.js';
import { prng } from '../util/prng.js';

export interface VsFigures {
  /** Commands the task sent (SCAN: the calls a whole iteration took on that server). */
  commands: number;
  cpuUsPerCmd: number;
  wallUsPerCmd: number;
}

export interface VsRow {
  task: string;
  redis: VsFigures | null;
  redloop: VsFigures | null;
}

/** How many commands are in flight at once. */
const PIPELINE = 500;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** A pipelining RESP client: send() queues commands, flush() resolves with their replies in order. */
class Client {
  private buf: Buffer = Buffer.alloc(0);
  private waiting: { n: number; replies: RespReply[]; done: (r: RespReply[]) => void } | null = null;

  private constructor(private readonly sock: Socket) {
    sock.on('data', (d: Buffer) => {
      this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
      this.drain();
    });
  }

  static open(port: number): Promise<Client> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(new Client(s)));
      s.once('error', reject);
    });
  }

  private drain(): void {
    const w = this.waiting;
    if (w === null) return;
    let p = 0;
    while (w.replies.length < w.n) {
      const r = parseReply(this.buf, p);
      if (r === null) break;
      if (r.reply.type === 'error') throw new Error(`bench command failed: ${String(r.reply.value)}`);
      w.replies.push(r.reply);
      p += r.size;
    }
    this.buf = this.buf.subarray(p);
    if (w.replies.length === w.n) {
      this.waiting = null;
      w.done(w.replies);
    }
  }

  /** Sends the commands and resolves with their replies. */
  run(cmds: string[][]): Promise<RespReply[]> {
    let out = '';
    for (const c of cmds) {
      out += `*${c.length}\r\n`;
      for (const a of c) out += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
    }
    return new Promise((resolve) => {
      this.waiting = { n: cmds.length, replies: [], done: resolve };
      this.sock.write(out);
      this.drain();
    });
  }

  /** Runs many commands, PIPELINE at a time. */
  async runAll(cmds: string[][]): Promise<void> {
    for (let i = 0; i < cmds.length; i += PIPELINE) await this.run(cmds.slice(i, i + PIPELINE));
  }

  close(): void {
    this.sock.destroy();
  }
}

interface Server {
  name: 'redis' | 'redloop';
  pid: number;
  port: number;
  proc: ChildProcess;
}

async function start(name: 'redis' | 'redloop'): Promise<Server> {
  const port = await freePort();
  const proc =
    name === 'redis'
      ? spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', '/tmp'], { stdio: 'ignore' })
      : spawn(process.execPath, [fileURLToPath(new URL('./server.js', import.meta.url)), '--resp-port', String(port), '--port', String(await freePort()), '--quiet'], { stdio: 'ignore' });
  for (let i = 0; i < 200; i++) {
    try {
      const c = await Client.open(port);
      c.close();
      return { name, pid: proc.pid!, port, proc };
    } catch {
      if (proc.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  proc.kill('SIGKILL');
  throw new Error(`${name} did not start`);
}

/** The process's CPU time (user + system) in µs, from /proc (clock ticks of 10 ms: tasks run long enough for that). */
function cpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
}

/** One task on one server: setup (not measured), then the measured commands (a function of the client, or a list). */
interface Task {
  name: string;
  setup: (c: Client) => Promise<void>;
  measured: (c: Client) => Promise<number>;
}

function tasks(): Task[] {
  const KEYS = 1_000_000;
  const ENTRIES = 1_000_000;
  const mset = (prefix: string, n: number): string[][] => {
    const out: string[][] = [];
    for (let i = 0; i < n; i += 100) {
      const c = ['MSET'];
      for (let j = i; j < Math.min(n, i + 100); j++) c.push(`${prefix}${j}`, 'v');
      out.push(c);
    }
    return out;
  };
  return [
    {
      name: `SCAN over ${KEYS} keys, COUNT 1000 (a whole iteration; per call)`,
      setup: (c) => c.runAll([['FLUSHALL'], ...mset('key:', KEYS)]),
      async measured(c) {
        let cursor = '0';
        let calls = 0;
        do {
          const [r] = await c.run([['SCAN', cursor, 'COUNT', '1000']]);
          if (r.type !== 'array' || r.items === null || r.items[0].type !== 'bulk') throw new Error('bad SCAN reply');
          cursor = r.items[0].value!.toString();
          calls++;
        } while (cursor !== '0');
        return calls;
      },
    },
    {
      name: 'PFADD 1 new element + PFCOUNT, 1M counted (dense; recount only when a register changed)',
      async setup(c) {
        const cmds: string[][] = [['FLUSHALL']];
        for (let i = 0; i < 1_000_000; i += 1000) cmds.push(['PFADD', 'h', ...Array.from({ length: 1000 }, (_, j) => `element:${i + j}`)]);
        await c.runAll(cmds);
      },
      async measured(c) {
        const cmds: string[][] = [];
        for (let i = 0; i < 50_000; i++) cmds.push(['PFADD', 'h', `fresh:${i}`], ['PFCOUNT', 'h']);
        await c.runAll(cmds);
        return cmds.length;
      },
    },
    {
      name: 'GEOSEARCH BYRADIUS 50 km COUNT 10 ASC among 100K points',
      async setup(c) {
        const rand = prng(7);
        const cmds: string[][] = [['FLUSHALL']];
        for (let i = 0; i < 100_000; i += 500) {
          const cmd = ['GEOADD', 'g'];
          for (let j = i; j < i + 500; j++) cmd.push((rand() * 20 - 10).toFixed(6), (rand() * 20 + 40).toFixed(6), `p${j}`);
          cmds.push(cmd);
        }
        await c.runAll(cmds);
      },
      async measured(c) {
        const rand = prng(8);
        const cmds: string[][] = [];
        for (let i = 0; i < 5000; i++) cmds.push(['GEOSEARCH', 'g', 'FROMLONLAT', (rand() * 20 - 10).toFixed(4), (rand() * 20 + 40).toFixed(4), 'BYRADIUS', '50', 'km', 'ASC', 'COUNT', '10']);
        await c.runAll(cmds);
        return cmds.length;
      },
    },
    {
      name: `XADD ${ENTRIES} entries (explicit IDs, 1 field)`,
      setup: (c) => c.runAll([['FLUSHALL']]),
      async measured(c) {
        const cmds: string[][] = [];
        for (let i = 1; i <= ENTRIES; i++) cmds.push(['XADD', 's', `${i}-1`, 'field', 'value']);
        await c.runAll(cmds);
        return cmds.length;
      },
    },
    {
      name: `XRANGE … COUNT 10 from random IDs, ${ENTRIES}-entry stream`,
      setup: async () => {},
      async measured(c) {
        const rand = prng(15);
        const cmds: string[][] = [];
        for (let i = 0; i < 20_000; i++) cmds.push(['XRANGE', 's', `${1 + Math.floor(rand() * (ENTRIES - 10))}-1`, '+', 'COUNT', '10']);
        await c.runAll(cmds);
        return cmds.length;
      },
    },
  ];
}

/** Runs every task on redis-server, then on redloop; null when redis-server cannot be started. */
export async function benchVsRedis(log: (s: string) => void): Promise<VsRow[] | null> {
  const results = new Map<string, VsRow>();
  for (const name of ['redis', 'redloop'] as const) {
    let srv: Server;
    try {
      srv = await start(name);
    } catch (e) {
      if (name === 'redis') return null;
      throw e;
    }
    const c = await Client.open(srv.port);
    try {
      for (const t of tasks()) {
        log(`vs: ${name}: ${t.name}`);
        await t.setup(c);
        const cpu0 = cpuUs(srv.pid);
        const wall0 = performance.now();
        const n = await t.measured(c);
        const wallUs = (performance.now() - wall0) * 1000;
        const cpu = cpuUs(srv.pid) - cpu0;
        const row = results.get(t.name) ?? { task: t.name, redis: null, redloop: null };
        row[name] = { commands: n, cpuUsPerCmd: cpu / n, wallUsPerCmd: wallUs / n };
        results.set(t.name, row);
      }
    } finally {
      c.close();
      srv.proc.kill('SIGTERM');
      await new Promise((r) => (srv.proc.exitCode !== null ? r(null) : srv.proc.once('exit', r)));
    }
  }
  return [...results.values()];
}
