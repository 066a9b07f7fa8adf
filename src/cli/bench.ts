#!/usr/bin/env node
// redloop-bench: a load generator for the book protocol and RESP (so it can
// load redloop and redis-server alike). Prints throughput, latency
// percentiles, the server's CPU per request (--server-pid) and its own CPU.

import { parseArgs } from 'node:util';
import { writeSync } from 'node:fs';
import { parseMix, runLoad, type LoadOptions, type LoadResult, type Protocol } from '../bench/loadgen.js';

const HELP = `Usage: redloop-bench [options]

  --host <addr>          server address (default 127.0.0.1)
  --port <n>             server port (default 1234 for book, 6379 for resp)
  --protocol <book|resp> wire protocol (default book)
  -c <n>                 active connections (default 50)
  -P <n>                 pipeline depth: requests per batch per connection (default 1)
  -n <n>                 total requests (default 100000), or
  -d <seconds>           run for this long instead
  --warmup <seconds>     load without measuring first (default 0)
  --keyspace <n>         number of distinct keys (default 10000)
  --value-size <bytes>   SET value size (default 16)
  --mix <spec>           command mix, e.g. get:50,set:50 (default get)
  --prefill              SET every key once before the run
  --idle <n>             extra idle connections held open during the run
  --server-pid <pid>     measure this process's CPU time (/proc/<pid>/stat)
  --engine <raw|net>     raw: drive the connections with epoll/read/write through redloop's
                         addon (default for a numeric IPv4 host; cheapest per request);
                         net: node:net sockets on Node's own loop
  --json                 print the result as JSON
  -h, --help             show this help
`;

function fail(msg: string): never {
  writeSync(2, `redloop-bench: ${msg}\n\n${HELP}`);
  process.exit(2);
}

function num(name: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) fail(`${name} expects a number ≥ ${min}, got '${v}'`);
  return n;
}

export function parseBenchArgs(argv: string[]): { opts: LoadOptions; json: boolean } {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        protocol: { type: 'string' },
        c: { type: 'string', short: 'c' },
        P: { type: 'string', short: 'P' },
        n: { type: 'string', short: 'n' },
        d: { type: 'string', short: 'd' },
        warmup: { type: 'string' },
        keyspace: { type: 'string' },
        'value-size': { type: 'string' },
        mix: { type: 'string' },
        prefill: { type: 'boolean' },
        idle: { type: 'string' },
        'server-pid': { type: 'string' },
        engine: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    fail((err as Error).message);
  }
  const v = parsed.values;
  if (v.help) {
    writeSync(1, HELP);
    process.exit(0);
  }
  const protocol = (v.protocol ?? 'book') as Protocol;
  if (protocol !== 'book' && protocol !== 'resp') fail(`--protocol must be book or resp, got '${protocol}'`);
  let mix;
  try {
    mix = parseMix(v.mix ?? 'get');
  } catch (err) {
    fail((err as Error).message);
  }
  const engine = v.engine;
  if (engine !== undefined && engine !== 'raw' && engine !== 'net') fail(`--engine must be raw or net, got '${engine}'`);
  const durationSec = num('-d', v.d, 0.001);
  const requests = durationSec === undefined ? (num('-n', v.n, 1) ?? 100_000) : undefined;
  if (durationSec !== undefined && v.n !== undefined) fail('give -n or -d, not both');
  return {
    json: Boolean(v.json),
    opts: {
      host: v.host ?? '127.0.0.1',
      port: num('--port', v.port, 1) ?? (protocol === 'book' ? 1234 : 6379),
      protocol,
      connections: Math.floor(num('-c', v.c, 1) ?? 50),
      pipeline: Math.floor(num('-P', v.P, 1) ?? 1),
      requests,
      durationSec,
      warmupSec: num('--warmup', v.warmup, 0) ?? 0,
      keyspace: Math.floor(num('--keyspace', v.keyspace, 1) ?? 10_000),
      valueSize: Math.floor(num('--value-size', v['value-size'], 0) ?? 16),
      mix,
      prefill: Boolean(v.prefill),
      idle: Math.floor(num('--idle', v.idle, 0) ?? 0),
      engine,
      serverPid: v['server-pid'] !== undefined ? Math.floor(num('--server-pid', v['server-pid'], 1)!) : null,
    },
  };
}

const f1 = (x: number) => x.toFixed(1);
const f2 = (x: number) => x.toFixed(2);

/** The human summary. */
export function formatResult(r: LoadResult): string {
  const lines = [
    `${r.protocol}  ${r.mix}  c=${r.connections} P=${r.pipeline} idle=${r.idle} value=${r.valueSize} B keyspace=${r.keyspace} engine=${r.engine}`,
    `  requests     ${r.requests} in ${f2(r.elapsedSec)} s, ${r.errors} errors${r.disconnects ? `, ${r.disconnects} disconnects` : ''}`,
    `  throughput   ${Math.round(r.throughput).toLocaleString('en-US')} req/s`,
    `  latency      p50 ${r.latencyUs.p50} µs  p99 ${r.latencyUs.p99} µs  p99.9 ${r.latencyUs.p999} µs  max ${r.latencyUs.max} µs`,
  ];
  if (r.serverCpuUsPerRequest !== null) {
    lines.push(`  server CPU   ${f2(r.serverCpuUsPerRequest)} µs/request (${f1(r.serverCpuPercent!)}% of a core)`);
  } else {
    lines.push('  server CPU   not measured (give --server-pid)');
  }
  lines.push(`  client CPU   ${f2(r.clientCpuUsPerRequest)} µs/request (${f1(r.clientCpuPercent)}% of a core)`);
  return lines.join('\n') + '\n';
}

async function main(): Promise<void> {
  const { opts, json } = parseBenchArgs(process.argv.slice(2));
  try {
    const r = await runLoad(opts);
    writeSync(1, json ? JSON.stringify(r, null, 2) + '\n' : formatResult(r));
    process.exit(r.requests > 0 ? 0 : 1);
  } catch (err) {
    writeSync(2, `redloop-bench: ${(err as Error).message}\n`);
    process.exit(1);
  }
}

main();
