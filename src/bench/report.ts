// The suite's report: the targets checked against the measured runs,
// Markdown tables (one row per scenario, one column per server), and SVG charts
// rendered with vega-lite (throughput vs idle connections; server CPU per
// request). Everything here is a pure function of the runs.

import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { LoadResult, Protocol } from './loadgen.js';
import type { TargetName } from './servers.js';

export interface SuiteRun extends LoadResult {
  /** e.g. "b:resp:get". */
  scenario: string;
  group: 'a' | 'b' | 'c' | 'd';
  title: string;
  target: TargetName;
  /** Every repetition; the fields above are the median one's. */
  samples?: { throughput: number; serverCpuUsPerRequest: number | null; p99: number }[];
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

// ---- tables -------------------------------------------------------------------

const kreq = (x: number) => (x >= 100_000 ? `${(x / 1000).toFixed(0)}k` : x >= 10_000 ? `${(x / 1000).toFixed(1)}k` : `${(x / 1000).toFixed(2)}k`);
const us = (x: number | null) => (x === null ? '–' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const ms = (x: number) => (x / 1000).toFixed(x >= 10_000 ? 0 : x >= 1000 ? 1 : 2);

function scenarios(runs: SuiteRun[]): { scenario: string; title: string }[] {
  const seen = new Map<string, string>();
  for (const r of runs) if (!seen.has(r.scenario)) seen.set(r.scenario, r.title);
  return [...seen].map(([scenario, title]) => ({ scenario, title }));
}

function targetsIn(runs: SuiteRun[]): TargetName[] {
  return TARGET_ORDER.filter((t) => runs.some((r) => r.target === t));
}

function grid(runs: SuiteRun[], cell: (r: SuiteRun) => string): string {
  const cols = targetsIn(runs);
  const lines = [`| scenario | ${cols.join(' | ')} |`, `|---|${cols.map(() => '---:').join('|')}|`];
  for (const s of scenarios(runs)) {
    const cells = cols.map((t) => {
      const r = runs.find((x) => x.scenario === s.scenario && x.target === t);
      return r ? cell(r) : '';
    });
    lines.push(`| ${s.title} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

export function markdown(rep: SuiteReport, charts: { idle: string | null; cpu: string | null }): string {
  const m = rep.machine;
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
  out.push(grid(rep.runs, (r) => us(r.serverCpuUsPerRequest)));
  out.push('');
  out.push('## Throughput (requests/s)');
  out.push('');
  out.push(grid(rep.runs, (r) => kreq(r.throughput)));
  out.push('');
  out.push('## Latency p50 / p99 / p99.9 (ms)');
  out.push('');
  out.push(grid(rep.runs, (r) => `${ms(r.latencyUs.p50)} / ${ms(r.latencyUs.p99)} / ${ms(r.latencyUs.p999)}`));
  out.push('');
  if (charts.idle) out.push(`![throughput vs idle connections](${charts.idle})`, '');
  if (charts.cpu) out.push(`![server CPU per request](${charts.cpu})`, '');
  out.push('## Every run');
  out.push('');
  out.push('| scenario | server | requests | req/s | server µs/req | server CPU | client µs/req | client CPU | errors |');
  out.push('|---|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rep.runs) {
    out.push(
      `| ${r.title} | ${r.target} | ${r.requests} | ${Math.round(r.throughput)} | ${us(r.serverCpuUsPerRequest)} | ${r.serverCpuPercent === null ? '–' : r.serverCpuPercent.toFixed(0) + '%'} | ${us(r.clientCpuUsPerRequest)} | ${r.clientCpuPercent.toFixed(0)}% | ${r.errors + r.disconnects} |`,
    );
  }
  out.push('');
  return out.join('\n');
}

/** The compact console table: req/s and server µs/request per scenario and server. */
export function consoleTable(runs: SuiteRun[]): string {
  const cols = targetsIn(runs);
  const rows = scenarios(runs).map((s) => [
    s.title,
    ...cols.map((t) => {
      const r = runs.find((x) => x.scenario === s.scenario && x.target === t);
      return r ? `${kreq(r.throughput)}/s ${us(r.serverCpuUsPerRequest)}µs` : '';
    }),
  ]);
  const head = ['scenario  (req/s, server CPU µs/request)', ...cols];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [fmt(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)].join('\n');
}

// ---- charts --------------------------------------------------------------------

async function render(spec: vl.TopLevelSpec): Promise<string> {
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
