#!/usr/bin/env node
// npm run docs:lessons: records the example traces in docs/lessons/ from real
// runs (redloop-server --trace-json), for redloop-replay:
//
//   poll.jsonl, epoll.jsonl   the same traffic under each backend: 20 idle
//                             clients connect, then one client sends SET and
//                             GET pipelined in one write, then a PING, then
//                             leaves. `npx redloop-replay docs/lessons/poll.jsonl
//                             docs/lessons/epoll.jsonl` shows them side by side:
//                             poll's array of 23+ entries rebuilt every
//                             iteration, epoll's ready list of one and its
//                             epoll_ctl calls only when a client comes or goes.
//   blpop.jsonl               a BLPOP that blocks, served by another client's
//                             LPUSH; then a BLPOP that times out (the timer
//                             sets poll's timeout).
//
// Ports, fds and times differ from run to run; the shape does not.

import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SERVER = fileURLToPath(new URL('./server.js', import.meta.url));
const OUT = fileURLToPath(new URL('../../docs/lessons/', import.meta.url));

const resp = (...args: string[]) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;

class Client {
  private got = '';
  private waiters: (() => void)[] = [];
  private constructor(readonly sock: Socket) {
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      this.got += d;
      for (const w of this.waiters.splice(0)) w();
    });
  }
  static open(port: number): Promise<Client> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port });
      s.once('connect', () => resolve(new Client(s)));
      s.once('error', reject);
    });
  }
  /** Sends raw RESP and waits until `expect` has arrived in full. */
  async ask(raw: string, expect: string): Promise<void> {
    const want = this.got.length + expect.length;
    this.sock.write(raw);
    while (this.got.length < want) await new Promise<void>((r) => this.waiters.push(r));
    if (!this.got.endsWith(expect)) throw new Error(`expected ${JSON.stringify(expect)}, got ${JSON.stringify(this.got)}`);
  }
  /** Sends raw RESP and waits for a reply ending in CRLF after it; returns what arrived. */
  async send(raw: string): Promise<string> {
    const from = this.got.length;
    this.sock.write(raw);
    while (this.got.length === from || !this.got.endsWith('\r\n')) await new Promise<void>((r) => this.waiters.push(r));
    return this.got.slice(from);
  }
  async close(): Promise<void> {
    this.sock.end();
    await new Promise<void>((r) => this.sock.once('close', () => r()));
  }
}

async function record(file: string, loop: string, traffic: (port: number) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'redloop-lesson-'));
  const proc = spawn(process.execPath, [SERVER, '--port', '0', '--resp-port', '0', '--loop', loop, '--quiet', '--dir', dir, '--trace-json', `${OUT}${file}`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /resp=\S+:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    proc.once('exit', (code) => reject(new Error(`server exited (${code})`)));
  });
  await traffic(port);
  proc.kill('SIGTERM');
  await new Promise<void>((r) => proc.once('exit', () => r()));
  rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`docs/lessons/${file}\n`);
}

async function idleAndOneBusy(port: number): Promise<void> {
  const idle: Client[] = [];
  for (let i = 0; i < 20; i++) idle.push(await Client.open(port));
  const c = await Client.open(port);
  await c.ask(resp('SET', 'greeting', 'hello') + resp('GET', 'greeting'), '+OK\r\n$5\r\nhello\r\n');
  await c.ask(resp('PING'), '+PONG\r\n');
  await c.close();
  for (const i of idle) await i.close();
}

async function blpop(port: number): Promise<void> {
  const waiter = await Client.open(port);
  const pusher = await Client.open(port);
  const served = waiter.ask(resp('BLPOP', 'jobs', '0'), '*2\r\n$4\r\njobs\r\n$5\r\njob-1\r\n');
  // The pusher goes once the BLPOP is blocked: CLIENT LIST shows it (a round trip, no sleep).
  while (!(await pusher.send(resp('CLIENT', 'LIST'))).includes('cmd=blpop'));
  await pusher.ask(resp('LPUSH', 'jobs', 'job-1'), ':1\r\n');
  await served;
  await waiter.ask(resp('BLPOP', 'jobs', '0.1'), '*-1\r\n');
  await waiter.close();
  await pusher.close();
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  await record('poll.jsonl', 'poll', idleAndOneBusy);
  await record('epoll.jsonl', 'epoll', idleAndOneBusy);
  await record('blpop.jsonl', 'poll', blpop);
}

main().catch((err: Error) => {
  process.stderr.write(`docs:lessons: ${err.message}\n`);
  process.exit(1);
});
