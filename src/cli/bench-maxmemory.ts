#!/usr/bin/env node
// `npm run bench:maxmemory`: what maxmemory costs. Two redloop servers (--loop
// poll) side by side in one run, one without a limit and one with maxmemory
// and allkeys-lru, both loaded with the same SET and GET workloads (50
// connections, no pipelining, random keys, more than the limit
// holds: the load generator cycles a pool of 8192 requests, about 1.5 MB of keys
// and values here, so with maxmemory 1mb most SETs re-create a key evicted
// earlier and evict another); reports
// throughput and the server's CPU time per request, the median of three runs
// each, alternating the servers, and writes bench/results/maxmemory.md.

import { parseArgs } from 'node:util';
import { mkdirSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import { parseMix, runLoad, type LoadResult } from '../bench/loadgen.js';
import { startRedloop, type RunningTarget } from '../bench/servers.js';
import { encodeCommand } from '../bench/loadgen.js';
import { connect } from 'node:net';

const { values: v } = parseArgs({
  options: {
    duration: { type: 'string', default: '3' },
    keyspace: { type: 'string', default: '1000000' },
    value: { type: 'string', default: '64' },
    maxmemory: { type: 'string', default: '1mb' },
    out: { type: 'string', default: 'bench/results' },
  },
});

/** Sends one RESP command and waits for a reply line (CONFIG SET / INFO before the load). */
function call(port: number, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1' });
    let got = '';
    s.on('data', (d) => {
      got += d.toString('latin1');
      if (got.endsWith('\r\n') && (got[0] !== '$' || got.split('\r\n').length > 2)) {
        s.destroy();
        resolve(got);
      }
    });
    s.on('error', reject);
    s.write(encodeCommand('resp', args));
  });
}

async function info(port: number, field: string): Promise<string> {
  const text = await call(port, ['INFO', 'all']);
  return /\r\n/.test(text) ? (new RegExp(`${field}:(\\S+)`).exec(text)?.[1] ?? '?') : '?';
}

interface Row {
  server: string;
  command: string;
  throughput: number;
  cpuUsPerRequest: number;
  p99Us: number;
}

async function measure(t: RunningTarget, label: string, command: 'get' | 'set'): Promise<Row> {
  const r: LoadResult = await runLoad({
    host: '127.0.0.1',
    port: t.ports.resp!,
    protocol: 'resp',
    connections: 50,
    pipeline: 1,
    durationSec: Number(v.duration),
    warmupSec: 1,
    keyspace: Number(v.keyspace),
    valueSize: Number(v.value),
    mix: parseMix(command),
    serverPid: t.pid,
  });
  return { server: label, command: command.toUpperCase(), throughput: r.throughput, cpuUsPerRequest: r.serverCpuUsPerRequest ?? NaN, p99Us: r.latencyUs.p99 };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const off = await startRedloop('poll', 1000);
  const on = await startRedloop('poll', 1000);
  try {
    await call(on.ports.resp!, ['CONFIG', 'SET', 'maxmemory', v.maxmemory!, 'maxmemory-policy', 'allkeys-lru']);
    const runs: Row[] = [];
    for (let round = 0; round < 3; round++) {
      for (const command of ['set', 'get'] as const) {
        runs.push(await measure(off, 'maxmemory 0', command));
        runs.push(await measure(on, `maxmemory ${v.maxmemory} allkeys-lru`, command));
      }
    }
    const rows: Row[] = [];
    for (const server of ['maxmemory 0', `maxmemory ${v.maxmemory} allkeys-lru`]) {
      for (const command of ['SET', 'GET']) {
        const mine = runs.filter((r) => r.server === server && r.command === command);
        rows.push({
          server,
          command,
          throughput: median(mine.map((r) => r.throughput)),
          cpuUsPerRequest: median(mine.map((r) => r.cpuUsPerRequest)),
          p99Us: median(mine.map((r) => r.p99Us)),
        });
      }
    }
    const evicted = await info(on.ports.resp!, 'evicted_keys');
    const usedOn = await info(on.ports.resp!, 'used_memory_human');
    const rssOn = await info(on.ports.resp!, 'used_memory_rss_human');
    const usedOff = await info(off.ports.resp!, 'used_memory_human');
    const rssOff = await info(off.ports.resp!, 'used_memory_rss_human');
    const lines = [
      '# maxmemory: cost of eviction on the request path',
      '',
      `${new Date().toISOString()}, ${os.cpus()[0]?.model ?? '?'} (${os.cpus().length} cores, shared), Node ${process.version}.`,
      `redloop --loop poll, 50 connections, no pipelining, random keys over ${v.keyspace} (the load generator cycles a pool of 8192 requests), ${v.value} B values; ${v.duration} s per measurement after 1 s warm-up, median of 3, servers alternated.`,
      '',
      '| server | command | requests/s | server CPU µs/request | p99 µs |',
      '|---|---|---:|---:|---:|',
      ...rows.map((r) => `| ${r.server} | ${r.command} | ${Math.round(r.throughput)} | ${r.cpuUsPerRequest.toFixed(2)} | ${Math.round(r.p99Us)} |`),
      '',
      `After the run: limited server used_memory ${usedOn}, RSS ${rssOn}, evicted_keys ${evicted}; unlimited server used_memory ${usedOff}, RSS ${rssOff}.`,
      '',
    ];
    const text = lines.join('\n');
    writeSync(1, text);
    mkdirSync(v.out!, { recursive: true });
    writeFileSync(`${v.out}/maxmemory.md`, text);
  } finally {
    await off.stop();
    await on.stop();
  }
}

main().catch((e) => {
  writeSync(2, `${e instanceof Error ? e.stack : e}\n`);
  process.exit(1);
});
