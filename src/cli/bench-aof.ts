#!/usr/bin/env node
// `npm run bench:aof`: acknowledged-write throughput and server CPU per
// request with the AOF on, appendfsync always / everysec / no, redloop
// (--loop poll and epoll) side by side with redis-server in one run, each
// server in its own fresh directory. SET of 64-byte values over 100 000 keys,
// 50 connections, no pipelining (every reply acknowledges one write) and
// pipeline 16. Prints a Markdown table and the goal (under always,
// ≥ 0.8× redis-server's acknowledged writes/s); --out writes it to a file.

import { parseArgs } from 'node:util';
import { mkdtempSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseMix, runLoad, type LoadResult } from '../bench/loadgen.js';
import { redisVersion, startRedis, startRedloop, type RunningTarget } from '../bench/servers.js';

const HELP = `Usage: npm run bench:aof -- [options]

  --duration <s>   seconds per measurement (default 5; warm-up 1 s)
  --servers <list> a subset of poll,epoll,redis (default all three)
  --modes <list>   a subset of always,everysec,no (default all three)
  --out <file>     also write the Markdown table there
  -h, --help       show this help
`;

interface Row {
  server: string;
  mode: string;
  pipeline: number;
  r: LoadResult;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string' },
      servers: { type: 'string' },
      modes: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    writeSync(1, HELP);
    return;
  }
  const duration = Number(values.duration ?? 5);
  const servers = (values.servers ?? 'poll,epoll,redis').split(',');
  const modes = (values.modes ?? 'always,everysec,no').split(',');
  const redis = redisVersion();
  const rows: Row[] = [];
  for (const mode of modes) {
    for (const server of servers) {
      if (server === 'redis' && redis === null) continue;
      for (const pipeline of [1, 16]) {
        const dir = mkdtempSync(join(os.tmpdir(), 'redloop-bench-aof-'));
        const aof = ['--dir', dir, '--appendonly', 'yes', '--appendfsync', mode];
        let target: RunningTarget;
        if (server === 'redis') target = await startRedis(1000, aof);
        else target = await startRedloop(server as 'poll' | 'epoll', 1000, undefined, aof);
        try {
          const r = await runLoad({
            host: '127.0.0.1',
            port: target.ports.resp!,
            protocol: 'resp',
            connections: 50,
            pipeline,
            durationSec: duration,
            warmupSec: 1,
            keyspace: 100_000,
            valueSize: 64,
            mix: parseMix('set'),
            serverPid: target.pid,
          });
          rows.push({ server: server === 'redis' ? `redis-server ${redis}` : `redloop ${server}`, mode, pipeline, r });
          writeSync(1, `${mode.padEnd(8)} ${server.padEnd(6)} P=${String(pipeline).padEnd(2)} ${Math.round(r.throughput)} writes/s\n`);
        } finally {
          await target.stop();
          rmSync(dir, { recursive: true, force: true });
        }
      }
    }
  }
  let md = `# AOF write throughput (npm run bench:aof)\n\n`;
  md += `${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), Node ${process.version}; SET, 64-byte values, 100 000 keys, 50 connections, ${duration} s each; server CPU from /proc.\n\n`;
  md += `| appendfsync | server | pipeline | writes/s | p50 ms | p99 ms | server CPU µs/request |\n|---|---|---|---|---|---|---|\n`;
  for (const { server, mode, pipeline, r } of rows) {
    md += `| ${mode} | ${server} | ${pipeline} | ${Math.round(r.throughput)} | ${(r.latencyUs.p50 / 1000).toFixed(2)} | ${(r.latencyUs.p99 / 1000).toFixed(2)} | ${r.serverCpuUsPerRequest?.toFixed(1) ?? '-'} |\n`;
  }
  const redisAlways = rows.filter((x) => x.mode === 'always' && x.server.startsWith('redis'));
  if (redisAlways.length > 0) {
    md += `\nGoal: under appendfsync always, at least 0.8× redis-server's acknowledged writes/s.\n\n`;
    for (const x of rows.filter((y) => y.mode === 'always' && !y.server.startsWith('redis'))) {
      const ref = redisAlways.find((y) => y.pipeline === x.pipeline);
      if (ref === undefined) continue;
      const ratio = x.r.throughput / ref.r.throughput;
      md += `- ${x.server}, pipeline ${x.pipeline}: ${ratio.toFixed(2)}× redis-server (${ratio >= 0.8 ? 'met' : 'miss'})\n`;
    }
  }
  writeSync(1, `\n${md}`);
  if (values.out !== undefined) writeFileSync(values.out, md);
}

main().catch((e: Error) => {
  writeSync(2, `bench-aof: ${e.message}\n`);
  process.exit(1);
});
