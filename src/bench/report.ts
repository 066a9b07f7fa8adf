// The suite's report: the targets checked against the measured runs,
// Markdown tables (one row per scenario, one column per server), and SVG charts
// rendered with vega-lite (throughput vs idle connections; server CPU per
// request). Everything here is a pure function of the runs.

import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { LoadResult, Protocol } from './loadgen.js';
import type { MessageFigures } from './pubsub.js';
import type { TargetName } from './servers.js';

export interface SuiteRun extends LoadResult {
  /** e.g. "b:resp:get". */
  scenario: string;
  group: 'a' | 'b' | 'c' | 'd' | 'e';
  title: string;
  target: TargetName;
  /** Group e: connections blocked in BLPOP during the run. */
  blocked?: number;
  /** Every repetition; the fields above are the median one's. */
  samples?: { throughput: number; serverCpuUsPerRequest: number | null; p99: number }[];
}

/**
 * A pub/sub or blocking run (groups f and g): units are delivered messages
 * (f: PUBLISH fan-out) or round trips (g: BLPOP/LPUSH ping-pong). Only runs
 * whose counts verified are kept here; the others are Skipped with status 'error'.
 */
export interface MessageRun extends MessageFigures {
  /** e.g. "f:10" (10 subscribers), "g:50" (50 pairs). */
  scenario: string;
  group: 'f' | 'g';
  title: string;
  target: TargetName;
  /** Subscribers (f) or pairs (g). */
  level: number;
  /** f: PUBLISH commands answered in the window (units = published × subscribers). */
  published?: number;
  samples?: { rate: number; serverCpuUsPerUnit: number | null; p99: number }[];
}

/** A scenario a server did not run: it lacks the commands, or its counts did not verify. */
export interface Skipped {
  scenario: string;
  title: string;
  target: TargetName;
  status: 'unsupported' | 'error';
  reason: string;
}

export interface Machine {
  nproc: number;
  cpu: string;
  kernel: string;
  node: string;
  redis: string | null;
}

export interface TargetCheck {
  name: string;
  /** The measured ratio, null when a run it needs is missing. */
  ratio: number | null;
  /** ratio must be ≤ limit (kind 'max') or ≥ limit ('min'). */
  limit: number;
  kind: 'max' | 'min';
  met: boolean | null;
  /** "meets it with 12% to spare" / "23% over" / why it was not measured. */
  verdict: string;
  /** The figures the ratio came from. */
  basis: string;
}

export interface SuiteReport {
  label: string;
  quick: boolean;
  startedAt: string;
  wallSec: number;
  machine: Machine;
  notes: string[];
  runs: SuiteRun[];
  /** Groups f and g (absent in reports from before them). */
  messages?: MessageRun[];
  skipped?: Skipped[];
  targets: TargetCheck[];
}

export const TARGET_ORDER: TargetName[] = ['poll', 'epoll', 'libuv', 'redis'];

const find = (runs: SuiteRun[], scenario: string, target: TargetName) =>
  runs.find((r) => r.scenario === scenario && r.target === target && r.requests > 0);

function check(name: string, ratio: number | null, limit: number, kind: 'max' | 'min', basis: string, missing: string): TargetCheck {
  if (ratio === null || !Number.isFinite(ratio)) return { name, ratio: null, limit, kind, met: null, verdict: `not measured: ${missing}`, basis };
  const met = kind === 'max' ? ratio <= limit : ratio >= limit;
  const off = kind === 'max' ? ratio / limit - 1 : 1 - ratio / limit;
  const pct = `${Math.abs(off * 100).toFixed(0)}%`;
  const verdict = met ? `meets it (${pct} to spare)` : kind === 'max' ? `misses: ${pct} over the limit` : `misses: ${pct} short`;
  return { name, ratio, limit, kind, met, verdict, basis };
}

function cpuRatio(runs: SuiteRun[], scenario: string, a: TargetName, b: TargetName): { ratio: number | null; basis: string } {
  const ra = find(runs, scenario, a);
  const rb = find(runs, scenario, b);
  if (!ra || !rb || ra.serverCpuUsPerRequest === null || rb.serverCpuUsPerRequest === null || rb.serverCpuUsPerRequest === 0) {
    return { ratio: null, basis: '' };
  }
  return {
    ratio: ra.serverCpuUsPerRequest / rb.serverCpuUsPerRequest,
    basis: `${a} ${ra.serverCpuUsPerRequest.toFixed(2)} µs vs ${b} ${rb.serverCpuUsPerRequest.toFixed(2)} µs per request`,
  };
}

/** The targets. `proto` is the protocol the libuv comparison uses (RESP when our servers speak it). */
export function checkTargets(runs: SuiteRun[], proto: Protocol, maxIdle: number): TargetCheck[] {
  const out: TargetCheck[] = [];
  for (const cmd of ['get', 'set']) {
    const CMD = cmd.toUpperCase();
    let r = cpuRatio(runs, `b:${proto}:${cmd}`, 'poll', 'libuv');
    out.push(check(`pipelined ${CMD} (P=16, ${proto}): poll ≤ 0.7× libuv, server CPU/request`, r.ratio, 0.7, 'max', r.basis, 'a run failed'));
    r = cpuRatio(runs, `b:resp:${cmd}`, 'poll', 'redis');
    out.push(check(`pipelined ${CMD} (P=16, resp): poll ≤ 1.0× redis-server, server CPU/request`, r.ratio, 1.0, 'max', r.basis, 'needs redis-server and RESP on redloop'));
    r = cpuRatio(runs, `a:resp:${cmd}`, 'poll', 'redis');
    out.push(check(`unpipelined ${CMD} (P=1, resp): poll ≤ 1.1× redis-server, server CPU/request`, r.ratio, 1.1, 'max', r.basis, 'needs redis-server and RESP on redloop'));
  }
  const idleRuns = runs.filter((x) => x.group === 'c' && x.target === 'epoll' && x.requests > 0);
  const base = idleRuns.find((x) => x.idle === 0);
  const top = idleRuns.find((x) => x.idle === 10_000) ?? idleRuns.filter((x) => x.idle === maxIdle)[0];
  const ratio = base && top && top.idle > 0 ? top.throughput / base.throughput : null;
  // Throughput is what the target names; server CPU per request is printed beside
  // it because on a shared machine throughput also moves with everyone else's load.
  const cpu = (r: SuiteRun) => (r.serverCpuUsPerRequest === null ? '' : `, ${r.serverCpuUsPerRequest.toFixed(1)} µs`);
  const basis = base && top ? `${Math.round(top.throughput)} req/s${cpu(top)} with ${top.idle} idle vs ${Math.round(base.throughput)} req/s${cpu(base)} with none` : '';
  const label = top && top.idle !== 10_000 ? ` (measured at ${top.idle}: quick mode)` : '';
  out.push(check(`epoll with 10 000 idle connections keeps ≥ 90% of its 0-idle throughput${label}`, ratio, 0.9, 'min', basis, 'idle runs missing'));
  return out;
}

/** The goal for groups f and g: within this factor of redis-server's server CPU per unit. */
export const MESSAGE_LIMIT = 1.2;

/**
 * Groups e, f, g: every redloop figure of f and g as a ratio to redis-server's
 * (≤ 1.2×), and epoll's throughput with the most blocked clients against none
 * (the idle target's criterion, ≥ 90%).
 */
export function checkMessageTargets(runs: SuiteRun[], messages: MessageRun[], skipped: Skipped[]): TargetCheck[] {
  const out: TargetCheck[] = [];
  const seen = new Map<string, string>();
  for (const r of [...messages, ...skipped]) if ((r.scenario[0] === 'f' || r.scenario[0] === 'g') && !seen.has(r.scenario)) seen.set(r.scenario, r.title);
  const order = [...seen].sort(([a], [b]) => a[0].localeCompare(b[0]) || Number(a.slice(2)) - Number(b.slice(2)));
  for (const [scenario, title] of order) {
    const unit = scenario[0] === 'f' ? 'delivered message' : 'round trip';
    const redis = messages.find((m) => m.scenario === scenario && m.target === 'redis');
    for (const t of TARGET_ORDER) {
      if (t === 'redis') continue;
      const ours = messages.find((m) => m.scenario === scenario && m.target === t);
      const skip = skipped.find((x) => x.scenario === scenario && x.target === t);
      if (!ours && !skip) continue;
      const name = `${title.replace(/ \(per [^)]*\)$/, '')}: ${t} ≤ ${MESSAGE_LIMIT}× redis-server, server CPU per ${unit}`;
      if (!ours || ours.serverCpuUsPerUnit === null) {
        out.push(check(name, null, MESSAGE_LIMIT, 'max', '', skip ? `${skip.status} on ${t}` : 'no server CPU figure'));
        continue;
      }
      if (!redis || redis.serverCpuUsPerUnit === null || redis.serverCpuUsPerUnit === 0) {
        const rs = skipped.find((x) => x.scenario === scenario && x.target === 'redis');
        out.push(check(name, null, MESSAGE_LIMIT, 'max', '', rs ? `${rs.status} on redis-server` : 'needs redis-server'));
        continue;
      }
      const basis = `${t} ${ours.serverCpuUsPerUnit.toFixed(2)} µs vs redis ${redis.serverCpuUsPerUnit.toFixed(2)} µs per ${unit}`;
      out.push(check(name, ours.serverCpuUsPerUnit / redis.serverCpuUsPerUnit, MESSAGE_LIMIT, 'max', basis, ''));
    }
  }
  const blocked = runs.filter((x) => x.group === 'e' && x.target === 'epoll' && x.requests > 0);
  const base = blocked.find((x) => (x.blocked ?? 0) === 0);
  const most = Math.max(0, ...blocked.map((x) => x.blocked ?? 0));
  const top = blocked.find((x) => (x.blocked ?? 0) === most && most > 0);
  const epollSkip = skipped.find((x) => x.scenario.startsWith('e:') && x.target === 'epoll');
  if (base || top || epollSkip) {
    const cpu = (r: SuiteRun) => (r.serverCpuUsPerRequest === null ? '' : `, ${r.serverCpuUsPerRequest.toFixed(1)} µs`);
    const basis = base && top ? `${Math.round(top.throughput)} req/s${cpu(top)} with ${top.blocked} blocked vs ${Math.round(base.throughput)} req/s${cpu(base)} with none` : '';
    const label = top && top.blocked !== 10_000 ? ` (measured at ${top.blocked})` : '';
    const ratio = base && top ? top.throughput / base.throughput : null;
    out.push(check(`epoll with 10 000 clients blocked in BLPOP keeps ≥ 90% of its 0-blocked throughput${label}`, ratio, 0.9, 'min', basis, epollSkip ? `${epollSkip.status} on epoll` : 'blocked runs missing'));
  }
  return out;
}

// ---- tables -------------------------------------------------------------------

const kreq = (x: number) => (x >= 1_000_000 ? `${(x / 1e6).toFixed(2)}M` : x >= 100_000 ? `${(x / 1000).toFixed(0)}k` : x >= 10_000 ? `${(x / 1000).toFixed(1)}k` : `${(x / 1000).toFixed(2)}k`);
const us = (x: number | null) => (x === null ? '–' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const ms = (x: number) => (x / 1000).toFixed(x >= 10_000 ? 0 : x >= 1000 ? 1 : 2);

function scenarios(runs: SuiteRun[]): { scenario: string; title: string }[] {
  const seen = new Map<string, string>();
  for (const r of runs) if (!seen.has(r.scenario)) seen.set(r.scenario, r.title);
  return [...seen].map(([scenario, title]) => ({ scenario, title }));
}

function grid<R extends { scenario: string; title: string; target: TargetName }>(runs: R[], cell: (r: R) => string, skipped: Skipped[] = []): string {
  const cols = TARGET_ORDER.filter((t) => runs.some((r) => r.target === t) || skipped.some((x) => x.target === t));
  const lines = [`| scenario | ${cols.join(' | ')} |`, `|---|${cols.map(() => '---:').join('|')}|`];
  const rows = new Map<string, string>();
  for (const r of [...runs, ...skipped]) if (!rows.has(r.scenario)) rows.set(r.scenario, r.title);
  for (const [scenario, title] of rows) {
    const s = { scenario, title };
    const cells = cols.map((t) => {
      const r = runs.find((x) => x.scenario === s.scenario && x.target === t);
      const k = skipped.find((x) => x.scenario === s.scenario && x.target === t);
      return r ? cell(r) : k ? k.status : '';
    });
    lines.push(`| ${s.title} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** Skipped scenarios of the request-per-reply groups (e), for the main grids. */
const skippedRuns = (rep: { skipped?: Skipped[] }) => (rep.skipped ?? []).filter((x) => x.scenario.startsWith('e:'));

export function markdown(rep: SuiteReport, charts: { idle: string | null; cpu: string | null; fanout?: string | null }): string {
  const m = rep.machine;
  const skipE = skippedRuns(rep);
  const out: string[] = [];
  out.push(`# redloop benchmark: ${rep.label}${rep.quick ? ' (quick)' : ''}`);
  out.push('');
  out.push(`${rep.startedAt}, ${rep.wallSec.toFixed(0)} s wall. Machine: ${m.nproc} CPUs (${m.cpu}), Linux ${m.kernel}, Node ${m.node}` + (m.redis ? `, redis-server ${m.redis}.` : ', no redis-server.'));
  out.push('');
  out.push('Client and servers share the same CPUs, so **server CPU time per request** (user+sys from');
  out.push('/proc/PID/stat over the measured window, divided by the requests answered in it) is the fair');
  out.push('comparison; throughput and latency are shown beside it. Every run: 50 active connections,');
  out.push('closed loop (each connection sends its next batch when the last one is answered).');
  if (!rep.quick) out.push('Each figure is the median of three 2-second measurements (throughput and CPU separately).');
  for (const n of rep.notes) out.push(`\n> ${n}`);
  out.push('');
  out.push('## Targets');
  out.push('');
  out.push('| target | ratio | verdict | from |');
  out.push('|---|---:|---|---|');
  for (const t of rep.targets) out.push(`| ${t.name} | ${t.ratio === null ? '–' : t.ratio.toFixed(2)} | ${t.met === null ? '' : t.met ? '✅ ' : '❌ '}${t.verdict} | ${t.basis} |`);
  out.push('');
  out.push('## Server CPU per request (µs, lower is better)');
  out.push('');
  out.push(grid(rep.runs, (r) => us(r.serverCpuUsPerRequest), skipE));
  out.push('');
  out.push('## Throughput (requests/s)');
  out.push('');
  out.push(grid(rep.runs, (r) => kreq(r.throughput), skipE));
  out.push('');
  out.push('## Latency p50 / p99 / p99.9 (ms)');
  out.push('');
  out.push(grid(rep.runs, (r) => `${ms(r.latencyUs.p50)} / ${ms(r.latencyUs.p99)} / ${ms(r.latencyUs.p999)}`, skipE));
  out.push('');
  if (charts.idle) out.push(`![throughput vs idle connections](${charts.idle})`, '');
  if (charts.cpu) out.push(`![server CPU per request](${charts.cpu})`, '');
  out.push(...messageSection(rep, charts.fanout ?? null));
  out.push('## Every run');
  out.push('');
  out.push('| scenario | server | requests | req/s | server µs/req | server CPU | client µs/req | client CPU | errors |');
  out.push('|---|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rep.runs) {
    out.push(
      `| ${r.title} | ${r.target} | ${r.requests} | ${Math.round(r.throughput)} | ${us(r.serverCpuUsPerRequest)} | ${r.serverCpuPercent === null ? '–' : r.serverCpuPercent.toFixed(0) + '%'} | ${us(r.clientCpuUsPerRequest)} | ${r.clientCpuPercent.toFixed(0)}% | ${r.errors + r.disconnects} |`,
    );
  }
  for (const r of rep.messages ?? []) {
    out.push(
      `| ${r.title} | ${r.target} | ${r.units} ${r.group === 'f' ? 'msgs' : 'round trips'} | ${Math.round(r.rate)} | ${us(r.serverCpuUsPerUnit)} | ${r.serverCpuPercent === null ? '–' : r.serverCpuPercent.toFixed(0) + '%'} | ${us(r.units > 0 ? r.clientCpuUs / r.units : null)} | ${r.clientCpuPercent.toFixed(0)}% | ${r.problems.length} |`,
    );
  }
  out.push('');
  return out.join('\n');
}

/** Groups f and g: per delivered message / round trip, beside redis-server; what did not run and why. */
function messageSection(rep: SuiteReport, chart: string | null): string[] {
  const msgs = rep.messages ?? [];
  const skipped = (rep.skipped ?? []).filter((x) => !x.scenario.startsWith('e:'));
  if (msgs.length === 0 && skipped.length === 0) return [];
  const out: string[] = [];
  out.push('## Pub/sub and blocking commands');
  out.push('');
  out.push('f. PUBLISH fan-out: S subscribers on one channel, 2 publishers with 8 PUBLISH in flight each; units are');
  out.push('**delivered messages** (PUBLISH answered × subscribers, every one verified received). g. BLPOP/LPUSH');
  out.push('ping-pong: A loops `BLPOP q1 0`, `LPUSH q2 x`, B loops `LPUSH q1 x`, `BLPOP q2 0`; units are **round');
  out.push("trips** (two blocked waits, four commands). The window closes once everything sent was delivered.");
  out.push(`"unsupported": the server answered \`-ERR unknown command\`; "error": its counts did not verify.`);
  out.push('');
  out.push('### Server CPU per delivered message / round trip (µs, lower is better; rate per second)');
  out.push('');
  out.push(grid(msgs, (r) => `${us(r.serverCpuUsPerUnit)} (${kreq(r.rate)})`, skipped));
  out.push('');
  out.push(`### Ratio to redis-server (goal ≤ ${MESSAGE_LIMIT}×)`);
  out.push('');
  out.push(
    grid(
      msgs,
      (r) => {
        const redis = msgs.find((x) => x.scenario === r.scenario && x.target === 'redis');
        if (r.target === 'redis' || !redis || redis.serverCpuUsPerUnit === null || r.serverCpuUsPerUnit === null) return r.target === 'redis' ? '1.00' : '–';
        const ratio = r.serverCpuUsPerUnit / redis.serverCpuUsPerUnit;
        return `${ratio.toFixed(2)} ${ratio <= MESSAGE_LIMIT ? '✅' : '❌'}`;
      },
      skipped,
    ),
  );
  out.push('');
  out.push('### Latency p50 / p99 (ms): f. PUBLISH reply, g. round trip');
  out.push('');
  out.push(grid(msgs, (r) => `${ms(r.latencyUs.p50)} / ${ms(r.latencyUs.p99)}`, skipped));
  out.push('');
  if (chart) out.push(`![server CPU per delivered message, PUBLISH fan-out](${chart})`, '');
  const why = skipped.filter((x, i) => skipped.findIndex((y) => y.target === x.target && y.reason === x.reason) === i);
  for (const x of why) out.push(`- ${x.target}: ${x.status}: ${x.reason}`);
  if (why.length > 0) out.push('');
  return out;
}

/**
 * The compact console table: req/s and server µs/request per scenario and
 * server; then, for groups f and g, delivered messages or round trips per
 * second and server µs per one of them.
 */
export function consoleTable(runs: SuiteRun[], messages: MessageRun[] = [], skipped: Skipped[] = []): string {
  const cols = TARGET_ORDER.filter((t) => [...runs, ...messages, ...skipped].some((r) => r.target === t));
  const cell = (scenario: string, t: TargetName): string => {
    const r = runs.find((x) => x.scenario === scenario && x.target === t);
    if (r) return `${kreq(r.throughput)}/s ${us(r.serverCpuUsPerRequest)}µs`;
    const m = messages.find((x) => x.scenario === scenario && x.target === t);
    if (m) return `${kreq(m.rate)}/s ${us(m.serverCpuUsPerUnit)}µs`;
    return skipped.find((x) => x.scenario === scenario && x.target === t)?.status ?? '';
  };
  const titles = new Map<string, string>();
  for (const r of [...runs, ...skipped.filter((x) => x.scenario.startsWith('e:')), ...messages, ...skipped]) if (!titles.has(r.scenario)) titles.set(r.scenario, r.title);
  const rows = [...titles].map(([scenario, title]) => [title, ...cols.map((t) => cell(scenario, t))]);
  const head = ['scenario  (per second, server CPU µs per request / message / round trip)', ...cols];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [fmt(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)].join('\n');
}

// ---- charts --------------------------------------------------------------------

export async function render(spec: vl.TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  return view.toSVG();
}

const COLORS = { domain: TARGET_ORDER as string[], range: ['#d62728', '#1f77b4', '#2ca02c', '#7f7f7f'] };

/**
 * Throughput against idle connections, one line per server, and beside it the
 * server's CPU per request (steadier than throughput on a shared machine).
 */
export async function idleChart(runs: SuiteRun[], title: string): Promise<string | null> {
  const values = runs
    .filter((r) => r.group === 'c' && r.requests > 0)
    .map((r) => ({ idle: r.idle, throughput: Math.round(r.throughput), us: r.serverCpuUsPerRequest, server: r.target }));
  if (values.length === 0) return null;
  const x = { field: 'idle', type: 'quantitative', title: 'idle connections (plus 50 active)' } as const;
  const color = { field: 'server', type: 'nominal', scale: COLORS, sort: TARGET_ORDER } as const;
  return render({
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    data: { values },
    hconcat: [
      {
        width: 360,
        height: 240,
        mark: { type: 'line', point: true },
        encoding: { x, y: { field: 'throughput', type: 'quantitative', title: 'requests/s (GET, P=1)' }, color },
      },
      {
        width: 360,
        height: 240,
        mark: { type: 'line', point: true },
        encoding: { x, y: { field: 'us', type: 'quantitative', title: 'server CPU µs per request' }, color },
      },
    ],
  });
}

/** PUBLISH fan-out: server CPU µs per delivered message by subscriber count, one bar per server (log scale). */
export async function fanoutChart(messages: MessageRun[], title: string): Promise<string | null> {
  const values = messages
    .filter((r) => r.group === 'f' && r.serverCpuUsPerUnit !== null && r.units > 0)
    .map((r) => ({ subscribers: r.level, us: Number(r.serverCpuUsPerUnit!.toFixed(3)), server: r.target }));
  if (values.length === 0) return null;
  const floor = Math.min(...values.map((v) => v.us)) / 1.5;
  return render({
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 360,
    height: 300,
    data: { values },
    mark: 'bar',
    encoding: {
      x: { field: 'subscribers', type: 'ordinal', title: 'subscribers (2 publishers, 8 PUBLISH in flight each)', axis: { labelAngle: 0 } },
      xOffset: { field: 'server', type: 'nominal', sort: TARGET_ORDER },
      y2: { datum: floor },
      y: {
        field: 'us',
        type: 'quantitative',
        scale: { type: 'log', domain: [floor, Math.max(...values.map((v) => v.us)) * 1.5] },
        axis: { values: [0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100] },
        title: 'server CPU µs per delivered message (log)',
      },
      color: { field: 'server', type: 'nominal', scale: COLORS, sort: TARGET_ORDER },
      tooltip: [{ field: 'server' }, { field: 'subscribers' }, { field: 'us' }],
    },
  });
}

/** Server CPU µs per request, grouped by scenario, one bar per server (log scale: the range is wide). */
export async function cpuChart(runs: SuiteRun[], title: string): Promise<string | null> {
  const values = runs
    .filter((r) => r.serverCpuUsPerRequest !== null && r.requests > 0)
    .map((r) => ({ scenario: r.title, us: Number(r.serverCpuUsPerRequest!.toFixed(3)), server: r.target }));
  if (values.length === 0) return null;
  const order = scenarios(runs).map((s) => s.title);
  const floor = Math.min(...values.map((v) => v.us)) / 1.5;
  return render({
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: { step: 14 },
    height: 300,
    data: { values },
    mark: 'bar',
    encoding: {
      x: { field: 'scenario', type: 'nominal', sort: order, title: null, axis: { labelAngle: -40, labelLimit: 260 } },
      xOffset: { field: 'server', type: 'nominal', sort: TARGET_ORDER },
      y2: { datum: floor },
      y: {
        field: 'us',
        type: 'quantitative',
        // An explicit domain, and bars drawn up from its floor (y2): a bar's
        // zero baseline has no place on a log scale.
        scale: { type: 'log', domain: [floor, Math.max(...values.map((v) => v.us)) * 1.5] },
        axis: { values: [0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] },
        title: 'server CPU µs per request (log)',
      },
      color: { field: 'server', type: 'nominal', scale: COLORS, sort: TARGET_ORDER },
      tooltip: [{ field: 'server' }, { field: 'us' }],
    },
  });
}
