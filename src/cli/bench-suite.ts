#!/usr/bin/env node
// `npm run bench`: the side-by-side suite. It starts every server itself —
// redloop with --loop poll, epoll and libuv, and redis-server when installed
// (RESP scenarios) — and runs, in one run so ratios are comparable:
//   a. 50 connections, no pipelining, GET and SET;
//   b. 50 connections, pipeline 16, GET and SET;
//   c. idle scaling: 0 / 1 000 / 5 000 / 10 000 idle connections + 50 active;
//   d. value sizes 16 B, 1 KiB, 64 KiB;
//   e. GET P=1 with 0 and 10 000 clients blocked in BLPOP (RESP);
//   f. PUBLISH fan-out to 1, 10 and 100 subscribers (RESP);
//   g. BLPOP/LPUSH ping-pong, 1 and 50 pairs (RESP).
// Then it prints a table and the issue's targets, and writes
// bench/results/<label>.md, .json and SVG charts. `--groups e,f,g` (what
// `npm run bench:pubsub` runs) measures a subset. A server that answers
// `-ERR unknown command` to a scenario's commands is reported "unsupported"
// for it; a run whose counts do not verify is reported as an error.

import { parseArgs } from 'node:util';
import { mkdirSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import cliProgress from 'cli-progress';
import { IdlePool, parseMix, probe, runLoad, type LoadOptions, type LoadResult, type Protocol } from '../bench/loadgen.js';
import { BLOCKING_PROBE, BlockedPool, PUBSUB_PROBE, runFanout, runPingPong, unsupported, UnsupportedError, type MessageFigures } from '../bench/pubsub.js';
import {
  checkMessageTargets,
  checkTargets,
  consoleTable,
  cpuChart,
  fanoutChart,
  idleChart,
  markdown,
  TARGET_ORDER,
  type Machine,
  type MessageRun,
  type Skipped,
  type SuiteReport,
  type SuiteRun,
} from '../bench/report.js';
import { redisVersion, startRedis, startRedloop, type RunningTarget, type TargetName } from '../bench/servers.js';

const HELP = `Usage: npm run bench -- [options]

  --quick            a shorter run: one 1 s measurement each, idle and blocked clients up to 5 000
                     (the full run takes the median of three 2 s measurements)
  --label <name>     name of the report files (default: full; quick with --quick; pubsub with
                     --groups pubsub)
  --out <dir>        where to write them (default bench/results; a --quick run without --label:
                     bench/results/tmp, which git ignores)
  --servers <list>   a subset, e.g. poll,epoll (default poll,epoll,libuv,redis)
  --duration <s>     seconds per measurement instead (for a smoke run; warm-up at most half of it)
  --blocked <n>      clients blocked in BLPOP in group e (default 10 000, 5 000 with --quick)
  --groups <list>    a subset of the scenario groups a..g, e.g. c,e; 'pubsub' = e,f,g
                     (default all; npm run bench:pubsub is --groups pubsub)
  --no-redis         skip redis-server even if installed
  --redloop <file>   the redloop server to start: another build's dist/cli/server.js
                     (default: this build's), e.g. a branch's worktree
  --render <json>    only re-render a saved report's Markdown and charts (after a format change)
  -h, --help         show this help
`;

const HOST = '127.0.0.1';
const ACTIVE = 50;
/** Enough for 10 000 idle + 50 active + the prefill connection on every server. */
const MAX_CLIENTS = 12_000;
const GROUPS = ['a', 'b', 'c', 'd', 'e', 'f', 'g'] as const;
type Group = (typeof GROUPS)[number];
/** Fan-out: subscribers per channel (group f); ping-pong: client pairs (group g). */
const SUBSCRIBERS = [1, 10, 100];
const PAIRS = [1, 50];
/** Count bounds of one measured phase (the time bound is the duration): generous, they stop a run on a much faster machine. */
const MAX_PUBLISHES = 2_000_000;
const MAX_ROUND_TRIPS = 1_000_000;

interface Step {
  group: SuiteRun['group'];
  scenario: string;
  title: string;
  protocol: Protocol;
  opts: Omit<LoadOptions, 'host' | 'port' | 'protocol' | 'serverPid'>;
  /** Group e: connections blocked in BLPOP during the run. */
  blocked?: number;
}

/** --groups: letters, or 'pubsub' for e, f, g. */
function parseGroups(spec: string | undefined): Group[] {
  if (spec === undefined) return [...GROUPS];
  const out = new Set<Group>();
  for (const g of spec.split(',').map((x) => x.trim().toLowerCase())) {
    if (g === 'pubsub') ['e', 'f', 'g'].forEach((x) => out.add(x as Group));
    else if ((GROUPS as readonly string[]).includes(g)) out.add(g as Group);
    else throw new Error(`--groups: unknown group '${g}' (a..g or pubsub)`);
  }
  return GROUPS.filter((g) => out.has(g));
}

/** The median of a scenario's repetitions, by server CPU per unit; rate replaced by the median rate. */
function medianMessages<T extends MessageFigures>(samples: T[]): T {
  const mid = <U>(xs: U[], key: (x: U) => number): U => [...xs].sort((a, b) => key(a) - key(b))[(xs.length - 1) >> 1];
  const r = mid(samples, (x) => x.serverCpuUsPerUnit ?? -x.rate);
  return { ...r, rate: mid(samples, (x) => x.rate).rate };
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
      groups: { type: 'string' },
      duration: { type: 'string' },
      blocked: { type: 'string' },
      'no-redis': { type: 'boolean' },
      redloop: { type: 'string' },
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
    const core = saved.runs.some((r) => r.group !== 'e');
    saved.targets = [...(core ? checkTargets(saved.runs, proto, last) : []), ...checkMessageTargets(saved.runs, saved.messages ?? [], saved.skipped ?? [])];
    await writeReport(saved, v.out ?? fileURLToPath(new URL('../../bench/results/', import.meta.url)));
    return;
  }
  const quick = Boolean(v.quick);
  const groups = parseGroups(v.groups);
  const has = (g: Group) => groups.includes(g);
  const subset = groups.length === GROUPS.length ? '' : groups.join('') === 'efg' ? 'pubsub' : `groups-${groups.join('')}`;
  const label = v.label ?? (subset ? `${subset}${quick ? '-quick' : ''}` : quick ? 'quick' : 'full');
  if (!/^[\w.-]+$/.test(label)) throw new Error(`--label may hold letters, digits, '.', '_' and '-' only`);
  // A --quick run is a look, not a result: its files go where git ignores them, unless --label or --out asks to keep them.
  const keep = v.label !== undefined || !quick;
  const outDir = v.out ?? fileURLToPath(new URL(keep ? '../../bench/results/' : '../../bench/results/tmp/', import.meta.url));
  const wanted = (v.servers ?? TARGET_ORDER.join(',')).split(',') as TargetName[];
  for (const w of wanted) if (!TARGET_ORDER.includes(w)) throw new Error(`--servers: unknown server '${w}'`);
  const durationSec = v.duration !== undefined ? Number(v.duration) : quick ? 1 : 2;
  if (!(durationSec > 0)) throw new Error(`--duration: expected seconds > 0, got '${v.duration}'`);
  const warmupSec = Math.min(quick ? 0.3 : 0.5, durationSec / 2);
  const reps = quick ? 1 : 3;
  const idleLevels = quick ? [0, 1000, 5000] : [0, 1000, 5000, 10_000];
  const maxBlocked = v.blocked !== undefined ? Number(v.blocked) : quick ? 5000 : 10_000;
  if (!Number.isInteger(maxBlocked) || maxBlocked < 1) throw new Error(`--blocked: expected a count ≥ 1, got '${v.blocked}'`);
  const blockedLevels = [0, maxBlocked];

  const startedAt = new Date();
  const redis = v['no-redis'] || !wanted.includes('redis') ? null : redisVersion();
  const mach = machine(redis);
  const notes: string[] = [];
  log(`redloop bench (${quick ? 'quick' : 'full'}): ${mach.nproc} CPUs, ${mach.cpu}, Linux ${mach.kernel}, Node ${mach.node}${redis ? `, redis-server ${redis}` : ''}`);

  // ---- servers ----
  const targets: RunningTarget[] = [];
  for (const name of ['poll', 'epoll', 'libuv'] as const) if (wanted.includes(name)) targets.push(await startRedloop(name, MAX_CLIENTS, v.redloop));
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

  const planned = steps.filter((s) => has(s.group as Group));
  steps.length = 0;
  steps.push(...planned);
  const respTargets = targets.filter((t) => t.ports.resp !== undefined).length;
  const runsPlanned =
    steps.reduce((n, s) => n + targets.filter((t) => t.ports[s.protocol] !== undefined).length, 0) +
    (has('c') ? idleLevels.length * targets.filter((t) => t.ports[main] !== undefined).length : 0) +
    (has('e') ? blockedLevels.length * respTargets : 0) +
    (has('f') ? SUBSCRIBERS.length * respTargets : 0) +
    (has('g') ? PAIRS.length * respTargets : 0);

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
    runs.push({ ...r, scenario: step.scenario, group: step.group, title: step.title, target: t.name, ...(step.blocked !== undefined ? { blocked: step.blocked } : {}), samples: samples.map(brief) });
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
  for (const t of has('c') ? targets : []) {
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

  // e: clients blocked in BLPOP, server by server, growing one pool (as c).
  const messages: MessageRun[] = [];
  const skipped: Skipped[] = [];
  /** Why a server cannot run a scenario family ('pubsub' | 'blocking'), or null; asked once per server. */
  const support = new Map<string, string | null>();
  const lacks = async (t: RunningTarget, family: 'pubsub' | 'blocking'): Promise<string | null> => {
    const key = `${t.name}:${family}`;
    if (!support.has(key)) {
      let why: string | null;
      if (t.ports.resp === undefined) why = 'no RESP port';
      else {
        try {
          why = await unsupported(HOST, t.ports.resp, family === 'pubsub' ? PUBSUB_PROBE : BLOCKING_PROBE);
        } catch (err) {
          why = null; // not an unknown command: let the run itself report what fails
          notes.push(`${family} probe on ${t.name}: ${(err as Error).message}`);
        }
      }
      support.set(key, why);
    }
    return support.get(key)!;
  };
  const skip = (scenario: string, title: string, t: RunningTarget, status: Skipped['status'], reason: string) => {
    skipped.push({ scenario, title, target: t.name, status, reason });
    if (!tty) log(`    ${status}: ${reason}`);
  };
  const blockedStep = (n: number): Step => ({
    group: 'e',
    scenario: `e:resp:${n}`,
    title: `e. GET P=1 + ${n} blocked (resp)`,
    protocol: 'resp',
    opts: { ...common, pipeline: 1, mix: parseMix('get') },
    blocked: n,
  });
  for (const t of has('e') ? targets : []) {
    const why = await lacks(t, 'blocking');
    if (why !== null) {
      for (const n of blockedLevels) skip(blockedStep(n).scenario, blockedStep(n).title, t, 'unsupported', why);
      if (tty) bar.increment(blockedLevels.length);
      continue;
    }
    const pool = new BlockedPool(HOST, t.ports.resp!);
    try {
      for (const n of blockedLevels) {
        if (n > pool.size) {
          task(`blocking ${n} clients in BLPOP on ${t.name}`);
          await pool.growTo(n, tty ? (k) => task(`blocking clients in BLPOP on ${t.name}: ${k}/${n}`) : undefined);
        }
        const key = `${t.name}:${common.valueSize}:${common.keyspace}`; // GETs find values, as in a and c
        const prefill = !prefilled.has(key);
        prefilled.add(key);
        await runOne(blockedStep(n), t, { prefill });
        if (pool.answered > 0) throw new Error(`${pool.answered} blocked BLPOPs were answered during the run: ${JSON.stringify(pool.firstAnswer.slice(0, 80))}`);
      }
      if (pool.lost > 0) notes.push(`${t.name}: ${pool.lost} blocked connections were closed by the server.`);
    } catch (err) {
      const e = err as Error;
      for (const n of blockedLevels) {
        const st = blockedStep(n);
        if (!runs.some((r) => r.scenario === st.scenario && r.target === t.name)) skip(st.scenario, st.title, t, e instanceof UnsupportedError ? 'unsupported' : 'error', e.message);
      }
    } finally {
      await pool.close().catch((err: Error) => notes.push(`${t.name}: closing the blocked clients: ${err.message}`));
    }
  }

  for (const step of steps.filter((s) => s.group === 'd')) {
    for (const t of targets) if (t.ports[step.protocol] !== undefined) await runOne(step, t);
  }

  // f and g: scenario by scenario, every server in turn; each run verifies its
  // counts, and a run that does not is reported as an error, not a figure.
  const runMessages = async (
    scenario: string,
    title: string,
    group: 'f' | 'g',
    level: number,
    t: RunningTarget,
    once: (port: number) => MessageFigures & { published?: number },
  ): Promise<void> => {
    const why = await lacks(t, group === 'f' ? 'pubsub' : 'blocking');
    if (why !== null) {
      skip(scenario, title, t, 'unsupported', why);
      if (tty) bar.increment();
      return;
    }
    const samples: (MessageFigures & { published?: number })[] = [];
    for (let i = 0; i < reps; i++) {
      task(`${title} on ${t.name}${reps > 1 ? ` (${i + 1}/${reps})` : ''}`);
      try {
        const r = once(t.ports.resp!);
        if (r.problems.length > 0) {
          skip(scenario, title, t, 'error', r.problems.join('; '));
          samples.length = 0;
          break;
        }
        samples.push(r);
      } catch (err) {
        skip(scenario, title, t, err instanceof UnsupportedError ? 'unsupported' : 'error', (err as Error).message);
        samples.length = 0;
        break;
      }
    }
    if (tty) bar.increment();
    if (samples.length === 0) return;
    const r = medianMessages(samples);
    messages.push({ ...r, scenario, group, title, target: t.name, level, samples: samples.map((x) => ({ rate: Math.round(x.rate), serverCpuUsPerUnit: x.serverCpuUsPerUnit, p99: x.latencyUs.p99 })) });
    if (!tty) log(`    ${Math.round(r.rate)}/s, server ${r.serverCpuUsPerUnit?.toFixed(2)} µs per ${group === 'f' ? 'delivered message' : 'round trip'}, p99 ${r.latencyUs.p99} µs`);
  };
  const timing = { durationSec, warmupSec };
  for (const S of has('f') ? SUBSCRIBERS : []) {
    const title = `f. PUBLISH to ${S} subscriber${S === 1 ? '' : 's'} (per delivered message)`;
    for (const t of targets) {
      await runMessages(`f:${S}`, title, 'f', S, t, (port) => runFanout({ host: HOST, port, serverPid: t.pid, subscribers: S, maxPublishes: MAX_PUBLISHES, ...timing }));
    }
  }
  for (const N of has('g') ? PAIRS : []) {
    const title = `g. BLPOP/LPUSH ping-pong, ${N} pair${N === 1 ? '' : 's'} (per round trip)`;
    for (const t of targets) {
      await runMessages(`g:${N}`, title, 'g', N, t, (port) => runPingPong({ host: HOST, port, serverPid: t.pid, pairs: N, maxRoundTrips: MAX_ROUND_TRIPS, ...timing }));
    }
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
    messages,
    skipped,
    targets: [
      ...(groups.some((g) => 'abcd'.includes(g)) ? checkTargets(runs, main, idleLevels[idleLevels.length - 1]) : []),
      ...checkMessageTargets(runs, messages, skipped),
    ],
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
  const fanoutSvg = await fanoutChart(report.messages ?? [], `PUBLISH fan-out: server CPU per delivered message (${where})`);
  const charts = { idle: idleSvg ? `${label}-idle.svg` : null, cpu: cpuSvg ? `${label}-cpu.svg` : null, fanout: fanoutSvg ? `${label}-fanout.svg` : null };
  if (idleSvg) writeFileSync(`${outDir}/${charts.idle}`, idleSvg);
  if (cpuSvg) writeFileSync(`${outDir}/${charts.cpu}`, cpuSvg);
  if (fanoutSvg) writeFileSync(`${outDir}/${charts.fanout}`, fanoutSvg);
  writeFileSync(`${outDir}/${label}.json`, JSON.stringify(report, null, 2) + '\n');
  writeFileSync(`${outDir}/${label}.md`, markdown(report, charts));

  const out: string[] = ['', consoleTable(runs, report.messages, report.skipped), '', 'Targets (server CPU per request unless noted):'];
  for (const t of report.targets) {
    // How far each figure is from its target, in words: a miss is a figure to read, not a failed run.
    const mark = t.met === null ? '   ?' : t.met ? ' met' : 'miss';
    const ratio = t.ratio === null ? '–' : `${t.ratio.toFixed(2)}×`;
    out.push(`${mark}  ${t.name}: ${ratio} (target ${t.kind === 'max' ? '≤' : '≥'} ${t.limit}×) — ${t.verdict}${t.basis ? ` (${t.basis})` : ''}`);
  }
  for (const n of notes) out.push(`note: ${n}`);
  for (const x of (report.skipped ?? []).filter((x) => x.status === 'error')) out.push(`error: ${x.title} on ${x.target}: ${x.reason}`);
  out.push('', `wrote ${outDir}${outDir.endsWith('/') ? '' : '/'}${label}.md, .json${idleSvg || cpuSvg || fanoutSvg ? ' and charts' : ''} (${report.wallSec.toFixed(0)} s)`);
  writeSync(1, out.join('\n') + '\n');
}

main().then(
  () => process.exit(0),
  (err) => {
    writeSync(2, `redloop bench: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
