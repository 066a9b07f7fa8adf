#!/usr/bin/env node
// `npm run bench:lua`: the cost of a script call, side by side with
// redis-server in one run. Scenarios (RESP, -c connections, no pipelining,
// a prefilled keyspace):
//   get       GET key (the baseline: what a plain command costs);
//   evalsha1  EVALSHA of `return redis.call('GET', KEYS[1])`;
//   evalsha10 EVALSHA of a script calling GET ten times.
// Each repetition runs every scenario on every server in turn (interleaved),
// and the report takes the median server CPU per call (µs, from
// /proc/<pid>/stat) and its ratio to redis-server's. `--baseline PATH` adds
// another build's dist/cli/server.js (before/after in the same run).

import { parseArgs } from 'node:util';
import { mkdirSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { connect, encodeCommand, roundTrip, runLoad, type LoadResult } from '../bench/loadgen.js';
import { redisVersion, startRedis, startRedloop, type RunningTarget } from '../bench/servers.js';
import { sha1hex } from '../scripting/engine.js';

const HELP = `Usage: npm run bench:lua -- [options]

  --duration <s>     seconds per measurement (default 2; warm-up 0.5 s before each)
  --reps <n>         repetitions, interleaved; the median is reported (default 3)
  -c <n>             connections (default 10)
  --loop <name>      redloop's backend (default epoll)
  --redloop <file>   the redloop server (default: this build's dist/cli/server.js)
  --baseline <file>  also run another build's dist/cli/server.js, reported as "before"
  --baseline-note <text>  what that build is (printed in the report), e.g. a commit
  --label <name>     report name: bench/results/<name>.md and .json (default lua)
  --no-write         print only
  -h, --help         this help
`;

const ONE = "return redis.call('GET', KEYS[1])";
const TEN = "local v\nfor i = 1, 10 do v = redis.call('GET', KEYS[1]) end\nreturn v";

const SCENARIOS = [
  { name: 'get', title: 'GET', build: (key: string) => ['GET', key] },
  { name: 'evalsha1', title: "EVALSHA, 1 redis.call('GET')", build: (key: string) => ['EVALSHA', sha1hex(ONE), '1', key] },
  { name: 'evalsha10', title: "EVALSHA, 10 redis.call('GET')", build: (key: string) => ['EVALSHA', sha1hex(TEN), '1', key] },
] as const;

const KEYSPACE = 10_000;

function log(line: string): void {
  writeSync(2, line + '\n');
}

async function loadScripts(port: number): Promise<void> {
  const s = await connect('127.0.0.1', port);
  try {
    await roundTrip(s, 'resp', Buffer.concat([encodeCommand('resp', ['SCRIPT', 'LOAD', ONE]), encodeCommand('resp', ['SCRIPT', 'LOAD', TEN])]), 2);
  } finally {
    s.destroy();
  }
}

interface Row {
  server: string;
  scenario: string;
  samples: LoadResult[];
}

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    args: process.argv.slice(2),
    strict: true,
    options: {
      duration: { type: 'string' },
      reps: { type: 'string' },
      c: { type: 'string', short: 'c' },
      loop: { type: 'string' },
      redloop: { type: 'string' },
      baseline: { type: 'string' },
      'baseline-note': { type: 'string' },
      label: { type: 'string' },
      'no-write': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (v.help) {
    writeSync(1, HELP);
    return;
  }
  const durationSec = Number(v.duration ?? '2');
  const reps = Number(v.reps ?? '3');
  const connections = Number(v.c ?? '10');
  const loop = (v.loop ?? 'epoll') as 'poll' | 'epoll' | 'libuv';
  const label = v.label ?? 'lua';
  if (!(durationSec > 0) || !(reps >= 1) || !(connections >= 1)) throw new Error('bad --duration, --reps or -c');
  const redis = redisVersion();
  if (redis === null) throw new Error('redis-server is not on PATH: this benchmark compares with it');
  const loadBefore = os.loadavg();
  const servers: { name: string; target: RunningTarget }[] = [];
  try {
    if (v.baseline !== undefined) servers.push({ name: 'before', target: await startRedloop(loop, 1000, v.baseline) });
    servers.push({ name: 'redloop', target: await startRedloop(loop, 1000, v.redloop) });
    servers.push({ name: 'redis', target: await startRedis(1000) });
    for (const s of servers) await loadScripts(s.target.ports.resp!);
    const rows: Row[] = [];
    for (const s of servers) for (const sc of SCENARIOS) rows.push({ server: s.name, scenario: sc.name, samples: [] });
    for (let rep = 0; rep < reps; rep++) {
      for (const sc of SCENARIOS) {
        for (const s of servers) {
          const r = await runLoad({
            host: '127.0.0.1',
            port: s.target.ports.resp!,
            protocol: 'resp',
            connections,
            pipeline: 1,
            durationSec,
            warmupSec: 0.5,
            keyspace: KEYSPACE,
            valueSize: 16,
            mix: [{ command: 'get', weight: 1 }],
            request: { label: sc.name, build: sc.build },
            prefill: rep === 0 && sc === SCENARIOS[0],
            serverPid: s.target.pid,
          });
          if (r.errors > 0) throw new Error(`${s.name} ${sc.name}: ${r.errors} error replies`);
          rows.find((x) => x.server === s.name && x.scenario === sc.name)!.samples.push(r);
          log(`rep ${rep + 1}/${reps} ${sc.name.padEnd(10)} ${s.name.padEnd(8)} ${r.serverCpuUsPerRequest!.toFixed(2).padStart(7)} µs/call  ${Math.round(r.throughput)} calls/s`);
        }
      }
    }
    const loadAfter = os.loadavg();
    const med = (r: Row): LoadResult => [...r.samples].sort((a, b) => a.serverCpuUsPerRequest! - b.serverCpuUsPerRequest!)[(r.samples.length - 1) >> 1];
    const fig = (server: string, sc: string) => med(rows.find((x) => x.server === server && x.scenario === sc)!);
    const lines: string[] = [];
    lines.push(`# Scripting: server CPU per call, side by side with redis-server`);
    lines.push('');
    lines.push(`\`npm run bench:lua -- --duration ${durationSec} --reps ${reps} -c ${connections}${v.baseline ? ' --baseline <before>/dist/cli/server.js' : ''}\``);
    lines.push('');
    lines.push(
      `${new Date().toISOString()}; ${os.availableParallelism()} CPUs (${os.cpus()[0]?.model ?? '?'}), Node ${process.version}, redis-server ${redis}; ` +
        `redloop --loop ${loop}; ${connections} connections, no pipelining, ${KEYSPACE} keys of 16 B; median of ${reps} interleaved ${durationSec} s runs (after 0.5 s warm-up each). ` +
        `Load average before ${loadBefore.map((x) => x.toFixed(2)).join(' ')}, after ${loadAfter.map((x) => x.toFixed(2)).join(' ')} (the machine is shared; the load generator runs on it too).`,
    );
    if (v.baseline !== undefined) lines.push('', `"before" is ${v['baseline-note'] ?? v.baseline}.`);
    lines.push('');
    const names = servers.map((s) => s.name);
    lines.push(`| scenario | ${names.map((n) => `${n} µs/call`).join(' | ')} | ${names.filter((n) => n !== 'redis').map((n) => `${n} ÷ redis`).join(' | ')} | ${names.map((n) => `${n} calls/s`).join(' | ')} |`);
    lines.push(`|---|${names.map(() => '---:').join('|')}|${names.filter((n) => n !== 'redis').map(() => '---:').join('|')}|${names.map(() => '---:').join('|')}|`);
    for (const sc of SCENARIOS) {
      const f = names.map((n) => fig(n, sc.name));
      const redisFig = fig('redis', sc.name).serverCpuUsPerRequest!;
      lines.push(
        `| ${sc.title} | ${f.map((x) => x.serverCpuUsPerRequest!.toFixed(1)).join(' | ')} | ${names
          .filter((n) => n !== 'redis')
          .map((n) => `${(fig(n, sc.name).serverCpuUsPerRequest! / redisFig).toFixed(2)}×`)
          .join(' | ')} | ${f.map((x) => Math.round(x.throughput)).join(' | ')} |`,
      );
    }
    lines.push('');
    lines.push('Scripts:');
    lines.push('');
    lines.push('```lua');
    lines.push(`-- evalsha1\n${ONE}\n-- evalsha10\n${TEN}`);
    lines.push('```');
    const md = lines.join('\n') + '\n';
    writeSync(1, md);
    if (!v['no-write']) {
      const dir = fileURLToPath(new URL('../../bench/results/', import.meta.url));
      mkdirSync(dir, { recursive: true });
      writeFileSync(`${dir}${label}.md`, md);
      writeFileSync(
        `${dir}${label}.json`,
        JSON.stringify(
          { date: new Date().toISOString(), loadBefore, loadAfter, redis, connections, durationSec, reps, rows: rows.map((r) => ({ server: r.server, scenario: r.scenario, serverCpuUsPerCall: r.samples.map((x) => x.serverCpuUsPerRequest), throughput: r.samples.map((x) => Math.round(x.throughput)) })) },
          null,
          2,
        ) + '\n',
      );
      log(`wrote bench/results/${label}.md and .json`);
    }
  } finally {
    for (const s of servers) await s.target.stop();
  }
}

main().catch((e) => {
  log(`bench-lua: ${(e as Error).message}`);
  process.exit(1);
});
