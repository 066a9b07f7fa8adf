// Starting the servers the suite compares: redloop with each backend (a child
// `node dist/cli/server.js --loop X`, ports read from its ready line) and
// redis-server when it is installed (RESP only). Each is a separate process so
// its CPU time can be read from /proc/<pid>/stat.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Protocol } from './loadgen.js';

export type TargetName = 'poll' | 'epoll' | 'libuv' | 'redis';

export interface RunningTarget {
  name: TargetName;
  pid: number;
  /** Port per protocol; absent = the target does not speak it. */
  ports: Partial<Record<Protocol, number>>;
  stop(): Promise<void>;
}

const SERVER = fileURLToPath(new URL('../cli/server.js', import.meta.url));
const START_TIMEOUT_MS = 15_000;

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

function stopper(proc: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      proc.once('exit', () => {
        clearTimeout(timer);
        children.delete(proc);
        resolve();
      });
      proc.kill('SIGTERM');
    });
}

/**
 * Starts redloop with `--loop name` on free ports, persistence off as for
 * redis-server below (`--save ""`; `extra` may set rules again); resolves once it printed its
 * ready line. `script` is another build's dist/cli/server.js (default: this one's).
 */
export function startRedloop(name: 'poll' | 'epoll' | 'libuv', maxClients: number, script = SERVER, extra: string[] = []): Promise<RunningTarget> {
  const args = [script, '--loop', name, '--port', '0', '--resp-port', '0', '--quiet', '--maxclients', String(maxClients), '--save', '', ...extra];
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(proc);
  let out = '';
  let err = '';
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-4000)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`redloop --loop ${name} did not become ready: ${err}`));
    }, START_TIMEOUT_MS);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redloop --loop ${name} exited (${code}) before ready: ${err}`));
    });
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /redloop ready: book=\S+:(\d+) resp=(?:\S+:(\d+)|off) loop=\S+ pid=(\d+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      proc.removeAllListeners('exit');
      const ports: Partial<Record<Protocol, number>> = { book: Number(m[1]) };
      if (m[2]) ports.resp = Number(m[2]);
      resolve({ name, pid: Number(m[3]), ports, stop: stopper(proc) });
    });
  });
}

/** The redis-server on PATH, or null. */
export function redisVersion(): string | null {
  const r = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return null;
  const m = /v=(\S+)/.exec(r.stdout);
  return m ? m[1] : r.stdout.trim();
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Starts `redis-server` with persistence off (unless `extra` turns it on) on a free port. */
export async function startRedis(maxClients: number, extra: string[] = []): Promise<RunningTarget> {
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxclients', String(maxClients), '--loglevel', 'warning', ...extra];
  const proc = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(proc);
  let err = '';
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-4000)));
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await canConnect(port))) {
    if (proc.exitCode !== null) throw new Error(`redis-server exited (${proc.exitCode}): ${err}`);
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`redis-server did not accept connections on ${port}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { name: 'redis', pid: proc.pid!, ports: { resp: port }, stop: stopper(proc) };
}
