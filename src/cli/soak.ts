#!/usr/bin/env node
// redloop soak: churns many short connections against a spawned server —
// connect, a few requests, disconnect (some by resetting abruptly) — for a
// bounded number and time, and reports the server's RSS, fd count, CPU and the
// error counts at the start and the end. Reported, not asserted.
//
//   npm run soak -- [--connections 10000] [--concurrency 50] [--seconds 120] [--loop poll|epoll]

import { parseArgs } from 'node:util';
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { decodeResponse, encodeRequest } from '../protocol/book.js';
import { cpuSeconds, fdCount, rssBytes, spawnServer } from './live_server.js';
import { prng } from '../util/prng.js';

interface Counts {
  done: number;
  requests: number;
  resets: number;
  connectErrors: number;
  socketErrors: Map<string, number>;
  badReplies: number;
  timeouts: number;
  closedEarly: number;
}

function peakRss(pid: number): number {
  const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

function respCmd(args: string[]): Buffer {
  return Buffer.from(`*${args.length}\r\n${args.map((a) => `$${a.length}\r\n${a}\r\n`).join('')}`, 'latin1');
}

/** Counts complete RESP replies in buf (simple types and bulk strings only, as the soak sends). */
function respReplies(buf: Buffer): number {
  let n = 0;
  let p = 0;
  for (;;) {
    const nl = buf.indexOf('\r\n', p);
    if (nl < 0) return n;
    if (buf[p] === 0x24 /* $ */) {
      const len = Number(buf.latin1Slice(p + 1, nl));
      if (len < 0) p = nl + 2;
      else if (nl + 2 + len + 2 <= buf.length) p = nl + 2 + len + 2;
      else return n;
    } else p = nl + 2;
    n++;
  }
}

/** One churn connection: connect, k requests (pipelined), then close or reset. */
function churnOne(port: number, resp: boolean, id: number, k: number, reset: boolean, counts: Counts): Promise<void> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    let buf = Buffer.alloc(0);
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      counts.done++;
      resolve();
    };
    const timer = setTimeout(() => {
      counts.timeouts++;
      sock.destroy();
      finish();
    }, 10_000);
    const reqs: string[][] = [];
    for (let i = 0; i < k; i++) reqs.push(i % 3 === 0 ? ['set', `soak:${id % 1000}`, `v${id}`] : i % 3 === 1 ? ['get', `soak:${id % 1000}`] : ['del', `soak:${id % 1000}`]);
    sock.on('connect', () => {
      sock.write(Buffer.concat(reqs.map((r) => (resp ? respCmd(r.map((a, j) => (j === 0 ? a.toUpperCase() : a))) : encodeRequest(r)))));
    });
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      let got = 0;
      if (resp) got = respReplies(buf);
      else {
        let p = 0;
        for (;;) {
          const r = decodeResponse(buf, p);
          if (r === null) break;
          if (r.value.type === 'err') counts.badReplies++;
          p += r.size;
          got++;
        }
      }
      if (got >= k) {
        counts.requests += k;
        if (reset) {
          counts.resets++;
          sock.resetAndDestroy();
        } else sock.end();
        finish();
      }
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      const code = e.code ?? 'error';
      if (code === 'ECONNREFUSED' || e.syscall === 'connect') counts.connectErrors++;
      counts.socketErrors.set(code, (counts.socketErrors.get(code) ?? 0) + 1);
      finish();
    });
    sock.on('close', () => {
      if (!settled) counts.closedEarly++;
      finish();
    });
  });
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      connections: { type: 'string', default: '10000' },
      concurrency: { type: 'string', default: '50' },
      seconds: { type: 'string', default: '120' },
      loop: { type: 'string', default: 'poll' },
      seed: { type: 'string', default: '1' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write('Usage: npm run soak -- [--connections 10000] [--concurrency 50] [--seconds 120] [--loop poll|epoll] [--seed 1]\n');
    return 0;
  }
  const total = Number(values.connections);
  const concurrency = Number(values.concurrency);
  const seconds = Number(values.seconds);
  const rng = prng(Number(values.seed));
  const server = await spawnServer(['--quiet', '--loop', values.loop!]);
  const pid = server.pid;
  // Let RESP take part only if it answers (it began as a stub).
  const respWorks = await new Promise<boolean>((resolve) => {
    const s = connect({ host: '127.0.0.1', port: server.respPort }, () => s.write('*1\r\n$4\r\nPING\r\n'));
    const t = setTimeout(() => (s.destroy(), resolve(false)), 2000);
    s.on('data', (d) => (clearTimeout(t), s.destroy(), resolve(d.toString('latin1') === '+PONG\r\n')));
    s.on('error', () => (clearTimeout(t), resolve(false)));
  });

  const start = { rss: rssBytes(pid), fds: fdCount(pid), cpu: cpuSeconds(pid), at: Date.now() };
  const counts: Counts = { done: 0, requests: 0, resets: 0, connectErrors: 0, socketErrors: new Map(), badReplies: 0, timeouts: 0, closedEarly: 0 };
  const deadline = Date.now() + seconds * 1000;
  let started = 0;
  let maxFds = start.fds;
  const sampler = setInterval(() => {
    if (!server.exited()) maxFds = Math.max(maxFds, fdCount(pid));
  }, 100);
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (started < total && Date.now() < deadline && !server.exited()) {
        const id = started++;
        const resp = respWorks && rng() < 0.5;
        const k = 1 + Math.floor(rng() * 5);
        await churnOne(resp ? server.respPort : server.bookPort, resp, id, k, rng() < 0.25, counts);
      }
    }),
  );
  clearInterval(sampler);
  const churnEnd = { rss: rssBytes(pid), fds: fdCount(pid), cpu: cpuSeconds(pid), at: Date.now() };
  // Give the server a moment to see the last closes, then read the fd count again.
  const settleBy = Date.now() + 5000;
  while (fdCount(pid) > start.fds && Date.now() < settleBy) await new Promise((r) => setTimeout(r, 50));
  const settled = { rss: rssBytes(pid), fds: fdCount(pid), peak: peakRss(pid) };
  const alive = !server.exited();
  const code = await server.stop();

  const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
  const secs = (churnEnd.at - start.at) / 1000;
  const errs = [...counts.socketErrors].map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  const lines = [
    `soak: ${counts.done} connections (${started} started of ${total}), concurrency ${concurrency}, loop ${values.loop}, RESP ${respWorks ? 'on' : 'off (not answering)'}`,
    `soak: ${counts.requests} requests in ${secs.toFixed(1)} s (${(counts.done / secs).toFixed(0)} connections/s), ${counts.resets} closed by reset`,
    `soak: server RSS start ${mib(start.rss)}, end of churn ${mib(churnEnd.rss)}, after settling ${mib(settled.rss)}, peak ${mib(settled.peak)}`,
    `soak: server fds start ${start.fds}, end of churn ${churnEnd.fds}, after settling ${settled.fds}, max sampled ${maxFds}`,
    `soak: server CPU ${(churnEnd.cpu - start.cpu).toFixed(2)} s for the churn (${(((churnEnd.cpu - start.cpu) / Math.max(1, counts.done)) * 1e6).toFixed(0)} µs per connection)`,
    `soak: errors: connect ${counts.connectErrors}, socket [${errs}], timeouts ${counts.timeouts}, closed early ${counts.closedEarly}, error replies ${counts.badReplies}`,
    `soak: server ${alive ? 'alive' : 'DEAD'} at the end; exit code on SIGTERM ${code}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(`soak: ${e.stack ?? e.message}\n`);
    process.exit(1);
  },
);
