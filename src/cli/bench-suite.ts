#!/usr/bin/env node
// `npm run bench`: the side-by-side suite. It starts every server itself —
// redloop with --loop poll, epoll and libuv, and redis-server when installed
// (RESP scenarios) — and runs, in one run so ratios are comparable:
//   a. 50 connections, no pipelining, GET and SET;
//   b. 50 connections, pipeline 16, GET and SET;
//   c. idle scaling: 0 / 1 000 / 5 000 / 10 000 idle connections + 50 active;
//   d. value sizes 16 B, 1 KiB, 64 KiB.
// Then it prints a table and the issue's targets, and writes
// bench/results/<label>.md, .json and SVG charts.

import { parseArgs } from 'node:util';
import { mkdirSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import cliProgress from 'cli-progress';
import { IdlePool, parseMix, probe, runLoad, type LoadOptions, type LoadResult, type Protocol } from '../bench/loadgen.js';
import { checkTargets, consoleTable, cpuChart, idleChart, markdown, TARGET_ORDER, type Machine, type SuiteReport, type SuiteRun } from '../bench/report.js';
import { redisVersion, startRedis, startRedloop, type RunningTarget, type TargetName } from '../bench/servers.js';

const HELP = `Usage: npm run bench -- [options]

  --quick            a shorter run (under 2 minutes): one 1 s measurement each, idle up to 5 000
                     (the full run takes the median of three 2 s measurements)
  --label <name>     name of the report files (default: full, or quick with --quick)
  --out <dir>        where to write them (default bench/results)
  --servers <list>   a subset, e.g. poll,epoll (default poll,epoll,libuv,redis)
  --no-redis         skip redis-server even if installed
  --render <json>    only re-render a saved report's Markdown and charts (after a format change)
  -h, --help         show this help
`;

const HOST = '127.0.0.1';
const ACTIVE = 50;
/** Enough for 10 000 idle + 50 active + the prefill connection on every server. */
const MAX_CLIENTS = 12_000;

interface Step {
  group: SuiteRun['group'];
  scenario: string;
  title: string;
  protocol: Protocol;
  opts: Omit<LoadOptions, 'host' | 'port' | 'protocol' | 'serverPid'>;
}

function machine(redis: string | null): Machine {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1].trim();
  } catch {
    // Not Linux? os.cpus() then.
  }
  return { nproc: os.availableParallelism(), cpu, kernel: os.release(), node: process.version, redis };
}

/**
 * The repetitions summarised: the sample with the median server CPU per
 * request (its latency and client figures), with throughput replaced by the
 * median throughput — each headline figure is the median of its own samples.
 */
function median(samples: LoadResult[]): LoadResult {
  const mid = <T>(xs: T[], key: (x: T) => number): T => [...xs].sort((a, b) => key(a) - key(b))[(xs.length - 1) >> 1];
  const r = mid(samples, (x) => x.serverCpuUsPerRequest ?? -x.throughput);
  return { ...r, throughput: mid(samples, (x) => x.throughput).throughput };
}

/** What the JSON keeps of every repetition. */
function brief(r: LoadResult): { throughput: number; serverCpuUsPerRequest: number | null; p99: number } {
  return { throughput: Math.round(r.throughput), serverCpuUsPerRequest: r.serverCpuUsPerRequest, p99: r.latencyUs.p99 };
}

function log(line: string): void {
  writeSync(2, line + '\n');
}

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    args: process.argv.slice(2),
    strict: true,
    options: {
      quick: { type: 'boolean' },
      label: { type: 'string' },
      out: { type: 'string' },
      servers: { type: 'string' },
      'no-redis': { type: 'boolean' },
      render: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (v.help) {
    writeSync(1, HELP);
    return;
  }
  if (v.render !== undefined) {
    // Re-render a saved report (tables, targets, charts) without measuring again.
    const saved = JSON.parse(readFileSync(v.render, 'utf8')) as SuiteReport;
    const last = Math.max(...saved.runs.filter((r) => r.group === 'c').map((r) => r.idle), 0);
    const proto = saved.runs.find((r) => r.group === 'c')?.protocol ?? 'resp';
    saved.targets = checkTargets(saved.runs, proto, last);
    await writeReport(saved, v.out ?? fileURLToPath(new URL('../../bench/results/', import.meta.url)));
    return;
  }
  const quick = Boolean(v.quick);
  const label = v.label ?? (quick ? 'quick' : 'full');
  if (!/^[\w.-]+$/.test(label)) throw new Error(`--label may hold letters, digits, '.', '_' and '-' only`);
  const outDir = v.out ?? fileURLToPath(new URL('../../bench/results/', import.meta.url));
  const wanted = (v.servers ?? TARGET_ORDER.join(',')).split(',') as TargetName[];
  for (const w of wanted) if (!TARGET_ORDER.includes(w)) throw new Error(`--servers: unknown server '${w}'`);
  const warmupSec = quick ? 0.3 : 0.5;
  const durationSec = quick ? 1 : 2;
  const reps = quick ? 1 : 3;
  const idleLevels = quick ? [0, 1000, 5000] : [0, 1000, 5000, 10_000];

  const startedAt = new Date();
  const redis = v['no-redis'] || !wanted.includes('redis') ? null : redisVersion();
  const mach = machine(redis);
  const notes: string[] = [];
  log(`redloop bench (${quick ? 'quick' : 'full'}): ${mach.nproc} CPUs, ${mach.cpu}, Linux ${mach.kernel}, Node ${mach.node}${redis ? `, redis-server ${redis}` : ''}`);

  // ---- servers ----
  const targets: RunningTarget[] = [];
  for (const name of ['poll', 'epoll', 'libuv'] as const) if (wanted.includes(name)) targets.push(await startRedloop(name, MAX_CLIENTS));
  if (redis !== null) targets.push(await startRedis(MAX_CLIENTS));
  else if (wanted.includes('redis') && !v['no-redis']) notes.push('redis-server is not installed: the redis-server columns and targets are missing.');

  // Our RESP may be unfinished: use it only if every redloop server answers it.
  const ours = targets.filter((t) => t.name !== 'redis');
  const respOk = (await Promise.all(ours.map((t) => (t.ports.resp ? probe(HOST, t.ports.resp, 'resp') : false)))).every(Boolean);
  if (!respOk) {
    notes.push('redloop did not answer RESP: RESP scenarios ran on redis-server only; idle and value-size scenarios use the book protocol.');
    for (const t of ours) delete t.ports.resp;
  }
  const main: Protocol = respOk ? 'resp' : 'book';
  const protocols: Protocol[] = ['book', 'resp'];

  // ---- plan ----
  const common = { connections: ACTIVE, warmupSec, durationSec, keyspace: 10_000, valueSize: 16 };
  const steps: Step[] = [];
  for (const [group, P] of [['a', 1], ['b', 16]] as const) {
    for (const protocol of protocols) {
      for (const cmd of ['get', 'set'] as const) {
        steps.push({
          group,
          scenario: `${group}:${protocol}:${cmd}`,
          title: `${group}. ${cmd.toUpperCase()} P=${P} (${protocol})`,
          protocol,
          opts: { ...common, pipeline: P, mix: parseMix(cmd), prefill: cmd === 'get' },
        });
      }
    }
  }
  const sizes: [number, string, number][] = [
    [16, '16 B', 10_000],
    [1024, '1 KiB', 10_000],
    [65536, '64 KiB', 200],
  ];
  for (const [valueSize, name, keyspace] of sizes) {
    steps.push({
      group: 'd',
      scenario: `d:${main}:${valueSize}`,
      title: `d. GET/SET 50:50 ${name} (${main})`,
      protocol: main,
      opts: { ...common, pipeline: 1, valueSize, keyspace, mix: parseMix('get:50,set:50'), prefill: true },
    });
  }

  const runsPlanned =
    steps.reduce((n, s) => n + targets.filter((t) => t.ports[s.protocol] !== undefined).length, 0) +
    idleLevels.length * targets.filter((t) => t.ports[main] !== undefined).length;

  const tty = process.stderr.isTTY === true;
  const bar = new cliProgress.SingleBar(
    { format: ' {bar} {value}/{total} runs | {duration_formatted} | {task}', stream: process.stderr, hideCursor: true, etaBuffer: 20 },
    cliProgress.Presets.shades_classic,
  );
  if (tty) bar.start(runsPlanned, 0, { task: 'starting' });
  const runs: SuiteRun[] = [];
  const task = (text: string) => (tty ? bar.update({ task: text }) : log(`  ${text}`));

  // Every measurement is repeated `reps` times and the median (by server CPU
  // per request) reported: the machine is shared, single runs are noisy.
  const runOne = async (step: Step, t: RunningTarget, extra: Partial<LoadOptions> = {}): Promise<void> => {
    const port = t.ports[step.protocol]!;
    const samples: LoadResult[] = [];
    for (let i = 0; i < reps; i++) {
      task(`${step.title} on ${t.name}${reps > 1 ? ` (${i + 1}/${reps})` : ''}`);
      try {
        samples.push(await runLoad({ host: HOST, port, protocol: step.protocol, serverPid: t.pid, ...step.opts, ...extra, prefill: i === 0 && extra.prefill }));
      } catch (err) {
        notes.push(`${step.title} on ${t.name} failed: ${(err as Error).message}`);
        break;
      }
    }
    if (tty) bar.increment();
    if (samples.length === 0) return;
    const r = median(samples);
    runs.push({ ...r, scenario: step.scenario, group: step.group, title: step.title, target: t.name, samples: samples.map(brief) });
    if (r.errors + r.disconnects > 0) notes.push(`${step.title} on ${t.name}: ${r.errors} error replies, ${r.disconnects} disconnects.`);
    if (!tty) log(`    ${Math.round(r.throughput)} req/s, server ${r.serverCpuUsPerRequest?.toFixed(2)} µs/req, p99 ${r.latencyUs.p99} µs`);
  };

  // a, b, d: scenario by scenario, every server in turn (so drift hits all alike).
  const prefilled = new Set<string>();
  const ordered = [...steps.filter((s) => s.group !== 'd')];
  for (const step of ordered) {
    for (const t of targets) {
      if (t.ports[step.protocol] === undefined) continue;
      const key = `${t.name}:${step.opts.valueSize}:${step.opts.keyspace}`;
      const prefill = Boolean(step.opts.prefill) && !prefilled.has(key);
      if (prefill) prefilled.add(key);
      await runOne(step, t, { prefill });
    }
  }

  // c: idle scaling, server by server, growing one pool of idle connections.
  for (const t of targets) {
    const port = t.ports[main];
    if (port === undefined) continue;
    const pool = new IdlePool(HOST, port, main);
    try {
      for (const idle of idleLevels) {
        if (idle > pool.size) {
          task(`opening ${idle} idle connections to ${t.name}`);
          await pool.growTo(idle, tty ? (n) => task(`opening idle connections to ${t.name}: ${n}/${idle}`) : undefined);
        }
        const step: Step = {
          group: 'c',
          scenario: `c:${main}:${idle}`,
          title: `c. GET P=1 + ${idle} idle (${main})`,
          protocol: main,
          opts: { ...common, pipeline: 1, mix: parseMix('get'), idle, idlePool: pool },
        };
        await runOne(step, t);
      }
      if (pool.lost > 0) notes.push(`${t.name}: ${pool.lost} idle connections were closed by the server during idle scaling.`);
    } catch (err) {
      notes.push(`idle scaling on ${t.name} stopped: ${(err as Error).message}`);
    } finally {
      pool.close();
    }
  }

  for (const step of steps.filter((s) => s.group === 'd')) {
    for (const t of targets) if (t.ports[step.protocol] !== undefined) await runOne(step, t);
  }

  if (tty) bar.stop();
  await Promise.all(targets.map((t) => t.stop()));

  // ---- report ----
  const report: SuiteReport = {
    label,
    quick,
    startedAt: startedAt.toISOString(),
    wallSec: (Date.now() - startedAt.getTime()) / 1000,
    machine: mach,
    notes,
    runs,
    targets: checkTargets(runs, main, idleLevels[idleLevels.length - 1]),
  };
  await writeReport(report, outDir);
}

/** Writes <label>.md, .json and the charts, and prints the table and the targets. */
async function writeReport(report: SuiteReport, outDir: string): Promise<void> {
  const { label, machine: mach, runs, notes } = report;
  mkdirSync(outDir, { recursive: true });
  const where = `${mach.nproc} CPUs, ${mach.cpu}`;
  const idleSvg = await idleChart(runs, `Throughput vs idle connections (${where})`);
  const cpuSvg = await cpuChart(runs, `Server CPU per request (${where})`);
  const charts = { idle: idleSvg ? `${label}-idle.svg` : null, cpu: cpuSvg ? `${label}-cpu.svg` : null };
  if (idleSvg) writeFileSync(`${outDir}/${charts.idle}`, idleSvg);
  if (cpuSvg) writeFileSync(`${outDir}/${charts.cpu}`, cpuSvg);
  writeFileSync(`${outDir}/${label}.json`, JSON.stringify(report, null, 2) + '\n');
  writeFileSync(`${outDir}/${label}.md`, markdown(report, charts));

  const out: string[] = ['', consoleTable(runs), '', 'Targets (server CPU per request unless noted):'];
  for (const t of report.targets) {
    const mark = t.met === null ? '  ?' : t.met ? ' ok' : ' NO';
    out.push(`${mark}  ${t.name}: ${t.ratio === null ? '–' : t.ratio.toFixed(2)} — ${t.verdict}${t.basis ? ` (${t.basis})` : ''}`);
  }
  for (const n of notes) out.push(`note: ${n}`);
  out.push('', `wrote ${outDir}${outDir.endsWith('/') ? '' : '/'}${label}.md, .json${idleSvg || cpuSvg ? ' and charts' : ''} (${report.wallSec.toFixed(0)} s)`);
  writeSync(1, out.join('\n') + '\n');
}

main().then(
  () => process.exit(0),
  (err) => {
    writeSync(2, `redloop bench: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
