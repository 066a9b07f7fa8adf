// `npm run bench:notify`: what keyspace notifications, the slowlog and latency
// tracking cost the loop. One run, one redloop (--loop poll) per mode, SET and
// GET (50 connections, pipeline 16) under:
//   all off     notify-keyspace-events "", slowlog-log-slower-than -1,
//               latency-tracking no (no clock read per command)
//   default     Redis's defaults: notifications off, slowlog on (10 ms) and
//               latency-tracking yes, so every command is timed
//   KEA         default + every notification class on, nobody subscribed (each
//               write still builds and looks up its two channel names)
//   KEA + sub   as KEA, and a client PSUBSCRIBEd to __key*@*__:* (each SET
//               pushes two messages to it)
//   slowlog 0   default + slowlog-log-slower-than 0 (every command logged,
//               slowlog-max-len 128)
//   latency-monitor 1  default + latency-monitor-threshold 1
// and, with --baseline PATH, the default load on another build's
// dist/cli/server.js (a build without notifications: "off must cost nothing").
// The modes are interleaved repetition by repetition (drift hits all alike);
// each figure is the median of its repetitions. Results are reported, not
// asserted: bench/results/notify.md (and .json) with the command that made them.

import net from 'node:net';
import { writeFileSync, mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import { processCpuUs } from '../bench/cpu.js';
import { runLoad, type LoadResult } from '../bench/loadgen.js';
import { startRedloop, type RunningTarget } from '../bench/servers.js';

const HOST = '127.0.0.1';

const { values: v } = parseArgs({
  options: {
    duration: { type: 'string', default: '2' },
    reps: { type: 'string', default: '3' },
    baseline: { type: 'string' },
    'baseline-label': { type: 'string', default: 'baseline build (no notifications)' },
    label: { type: 'string', default: 'notify' },
    quick: { type: 'boolean', default: false },
    micro: { type: 'string', default: '3' },
  },
});
/** Rounds of the in-process measurement (bench:micro per mode); 0 skips it. */
const microRounds = v.quick ? 1 : Number(v.micro);
const durationSec = v.quick ? 1 : Number(v.duration);
const reps = v.quick ? 1 : Number(v.reps);

/** Sends one command on a fresh connection and returns the raw reply text. */
function command(port: number, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: HOST, port });
    let got = '';
    s.on('data', (d) => {
      got += d.toString('latin1');
      if (got.endsWith('\r\n')) {
        s.destroy();
        resolve(got);
      }
    });
    s.on('error', reject);
    s.write(`*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join(''));
  });
}

/** A subscriber to every keyspace channel that reads and discards what it is sent; counts the bytes. */
class Subscriber {
  bytes = 0;
  private constructor(private readonly s: net.Socket) {
    s.on('data', (d) => (this.bytes += d.length));
  }
  static async open(port: number): Promise<Subscriber> {
    const s = net.connect({ host: HOST, port });
    await new Promise<void>((r, j) => s.once('connect', r).once('error', j));
    const sub = new Subscriber(s);
    s.write('*2\r\n$10\r\nPSUBSCRIBE\r\n$12\r\n__key*@*__:*\r\n');
    while (sub.bytes === 0) await new Promise((r) => setTimeout(r, 10));
    return sub;
  }
  close(): void {
    this.s.destroy();
  }
}

interface Mode {
  name: string;
  target: 'this' | 'baseline';
  /** CONFIG SET before each measurement: every observability parameter, so a mode never inherits another's. */
  config: [string, string][];
  subscriber: boolean;
}

/** Redis 7.0's defaults for the parameters measured here. */
const DEFAULTS: Record<string, string> = {
  'notify-keyspace-events': '',
  'slowlog-log-slower-than': '10000',
  'slowlog-max-len': '128',
  'latency-tracking': 'yes',
  'latency-monitor-threshold': '0',
};
const cfg = (over: Record<string, string>): [string, string][] => Object.entries({ ...DEFAULTS, ...over });

const ALL_OFF = 'all off';
const DEFAULT = 'default';
const MODES: Mode[] = [
  { name: ALL_OFF, target: 'this', config: cfg({ 'slowlog-log-slower-than': '-1', 'latency-tracking': 'no' }), subscriber: false },
  { name: DEFAULT, target: 'this', config: cfg({}), subscriber: false },
  { name: 'KEA', target: 'this', config: cfg({ 'notify-keyspace-events': 'KEA' }), subscriber: false },
  { name: 'KEA + subscriber', target: 'this', config: cfg({ 'notify-keyspace-events': 'KEA' }), subscriber: true },
  { name: 'slowlog-log-slower-than 0', target: 'this', config: cfg({ 'slowlog-log-slower-than': '0' }), subscriber: false },
  { name: 'latency-monitor-threshold 1', target: 'this', config: cfg({ 'latency-monitor-threshold': '1' }), subscriber: false },
  ...(v.baseline ? [{ name: v['baseline-label']!, target: 'baseline' as const, config: [], subscriber: false }] : []),
];

interface Sample {
  mode: string;
  cmd: 'set' | 'get';
  throughput: number;
  cpuUsPerReq: number;
  p99: number;
  subscriberBytes: number;
}

async function measure(t: RunningTarget, mode: Mode, cmd: 'set' | 'get'): Promise<Sample> {
  const port = t.ports.resp!;
  if (mode.config.length > 0) {
    const args = ['CONFIG', 'SET', ...mode.config.flat()];
    const ok = await command(port, args);
    if (!ok.startsWith('+OK')) throw new Error(`${args.join(' ')}: ${ok}`);
  }
  const sub = mode.subscriber ? await Subscriber.open(port) : null;
  try {
    const r: LoadResult = await runLoad({
      host: HOST,
      port,
      protocol: 'resp',
      connections: 50,
      pipeline: 16,
      durationSec,
      warmupSec: 0.5,
      keyspace: 10_000,
      valueSize: 16,
      mix: [{ command: cmd, weight: 1 }],
      prefill: cmd === 'get',
      serverPid: t.pid,
    });
    if (r.errors > 0) throw new Error(`${mode.name} ${cmd}: ${r.errors} error replies`);
    return { mode: mode.name, cmd, throughput: r.throughput, cpuUsPerReq: r.serverCpuUsPerRequest ?? NaN, p99: r.latencyUs.p99, subscriberBytes: sub?.bytes ?? 0 };
  } finally {
    sub?.close();
  }
}

/** Waits until the server has gone quiet (under 2 ms of CPU per 100 ms), e.g. done writing to a closed subscriber. */
async function settle(pid: number): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const before = processCpuUs(pid);
    await new Promise((r) => setTimeout(r, 100));
    if (processCpuUs(pid) - before < 2000) return;
  }
}

const med = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

const MICRO_TASKS = ['dispatch resp SET (10k keys)', 'dispatch resp GET (10k keys)', 'session resp, 16 pipelined GETs'];
/** bench-micro's arguments for a mode's CONFIG SET pairs (only those that differ from the defaults). */
const microArgs = (m: Mode): string[] => m.config.filter(([k, val]) => DEFAULTS[k] !== val).flatMap(([k, val]) => ['--config', k, val]);

/**
 * The in-process figure, less disturbed by a shared machine than a socket run:
 * bench:micro (dispatch of one command against 10k keys, a RESP session turn of
 * 16 pipelined GETs; best batch, ns per op) per mode, `rounds` times
 * interleaved, the best of the rounds. The baseline runs its own build's
 * bench-micro (beside its server.js) if that has the SET task.
 */
function micro(rounds: number): { mode: string; task: string; ns: number }[] {
  const here = join(dirname(fileURLToPath(import.meta.url)), 'bench-micro.js');
  const modes: [string, string, string[]][] = MODES.filter((m) => m.target === 'this' && !m.subscriber).map((m) => [m.name, here, microArgs(m)]);
  modes.splice(3, 0, ['KEAn', here, ['--config', 'notify-keyspace-events', 'KEAn']]);
  if (v.baseline) {
    const theirs = join(dirname(v.baseline), 'bench-micro.js');
    if (existsSync(theirs)) modes.push([v['baseline-label']!, theirs, []]);
  }
  const best = new Map<string, number>();
  for (let r = 0; r < rounds; r++) {
    for (const [mode, script, args] of modes) {
      const out = execFileSync(process.execPath, [script, ...args, '--tasks', MICRO_TASKS.join('|')], { encoding: 'utf8' });
      for (const task of MICRO_TASKS) {
        const line = out.split('\n').find((l) => l.startsWith(task));
        if (line === undefined) continue;
        const ns = Number(line.slice(task.length).trim().split(/\s+/)[0]);
        const k = `${mode}\t${task}`;
        best.set(k, Math.min(best.get(k) ?? Infinity, ns));
      }
      console.log(`micro round ${r + 1}/${rounds} ${mode} done`);
    }
  }
  return [...best].map(([k, ns]) => {
    const [mode, task] = k.split('\t');
    return { mode, task, ns };
  });
}

async function main(): Promise<void> {
  // One server process per mode: a mode never runs on a heap another mode has grown (the
  // subscriber mode leaves large output buffers behind), and every process is warmed alike.
  const loadBefore = os.loadavg().map((x) => x.toFixed(2)).join(', ');
  const servers = new Map<string, RunningTarget>();
  for (const mode of MODES) servers.set(mode.name, await startRedloop('poll', 1000, mode.target === 'baseline' ? v.baseline : undefined));
  const all = [...servers.values()];
  const samples: Sample[] = [];
  try {
    // Both servers' JIT settles before anything is measured (a fresh process starts slower).
    for (const mode of MODES) for (const cmd of ['set', 'get'] as const) await measure(servers.get(mode.name)!, { ...mode, subscriber: false }, cmd);
    for (let rep = 0; rep < reps; rep++) {
      for (const cmd of ['set', 'get'] as const) {
        // The order rotates each repetition, so that no mode always follows the same one.
        for (let k = 0; k < MODES.length; k++) {
          const mode = MODES[(k + rep) % MODES.length];
          const target = servers.get(mode.name)!;
          for (const t of all) await settle(t.pid);
          const s = await measure(target, mode, cmd);
          samples.push(s);
          console.log(`rep ${rep + 1}/${reps} ${cmd.toUpperCase()} ${mode.name}: ${Math.round(s.throughput)}/s, server ${s.cpuUsPerReq.toFixed(3)} µs/request, p99 ${s.p99} µs`);
        }
      }
    }
  } finally {
    for (const t of all) await t.stop();
  }

  const microRows = microRounds > 0 ? micro(microRounds) : [];
  const rows: string[] = [];
  const json: Record<string, unknown>[] = [];
  for (const cmd of ['set', 'get'] as const) {
    const ref = (name: string): number => med(samples.filter((s) => s.cmd === cmd && s.mode === name).map((s) => s.cpuUsPerReq));
    const off = ref(ALL_OFF);
    const dflt = ref(DEFAULT);
    const pct = (cpu: number, base: number, self: boolean): string => {
      if (self) return '—';
      const p = (cpu / base - 1) * 100;
      return `${p >= 0 ? '+' : ''}${p.toFixed(1)}%`;
    };
    for (const mode of MODES) {
      const mine = samples.filter((s) => s.cmd === cmd && s.mode === mode.name);
      const cpu = med(mine.map((s) => s.cpuUsPerReq));
      const rate = med(mine.map((s) => s.throughput));
      const p99 = med(mine.map((s) => s.p99));
      const spread = `${Math.min(...mine.map((s) => s.cpuUsPerReq)).toFixed(3)}–${Math.max(...mine.map((s) => s.cpuUsPerReq)).toFixed(3)}`;
      rows.push(`| ${cmd.toUpperCase()} | ${mode.name} | ${Math.round(rate)} | ${cpu.toFixed(3)} (${spread}) | ${pct(cpu, off, mode.name === ALL_OFF)} | ${pct(cpu, dflt, mode.name === DEFAULT)} | ${p99} |`);
      json.push({ cmd, mode: mode.name, throughput: rate, serverCpuUsPerRequest: cpu, p99, samples: mine });
    }
  }
  const cmdline = `npm run bench:notify --${process.argv.slice(2).length ? ' ' + process.argv.slice(2).map((a) => (/[\s'"]/.test(a) ? `'${a}'` : a)).join(' ') : ''}`;
  const md = [
    '# Keyspace notifications, the slowlog and latency tracking: what they cost the loop',
    '',
    `Reproduce: \`npm run build && ${cmdline.replace(/ --$/, '')}\` (src/cli/bench-notify.ts).`,
    '',
    `redloop --loop poll (one server process per mode), RESP, 50 connections, pipeline 16, 10 000 keys, 16-byte values; ${reps} interleaved repetition(s) of ${durationSec} s per mode`,
    `(median; the range of server CPU per request in brackets). Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, Node ${process.version}, ${new Date().toISOString()}.`,
    'The load generator and the server share the CPUs: server CPU per request is the fair figure, throughput says who got the CPU.',
    '',
    `Load while it ran (uptime): ${loadBefore} before, ${os.loadavg().map((x) => x.toFixed(2)).join(', ')} after.`,
    '',
    '| command | mode | requests/s | server µs/request | vs all off | vs default | p99 µs |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
    '- **all off**: notify-keyspace-events "", slowlog-log-slower-than -1, latency-tracking no (latency-monitor-threshold 0).',
    '  No clock is read per command (`execute()` in src/commands/dispatch.ts tests the three settings once); a write',
    '  pays one load and one branch per event it could publish (`notify()` in src/commands/notify.ts); the keyspace',
    '  listener for new/expired/evicted is not installed.',
    '- **default** (Redis 7.0\'s): notifications off, slowlog-log-slower-than 10000, latency-tracking yes: every command',
    '  is timed (two performance.now()), its usec added to commandstats and recorded in its latency histogram; none is slow enough for the slowlog.',
    '- **slowlog-log-slower-than 0** (slowlog-max-len 128): as default, and every command enters the slowlog (an entry built, the oldest dropped).',
    '- **latency-monitor-threshold 1**: as default, and each command\'s duration compared with the threshold for the command/fast-command event.',
    '- **KEA** without a subscriber: each SET builds its two channel names and finds nobody to deliver to.',
    '- **KEA + subscriber**: each SET pushes two pmessages (keyspace and keyevent) into the subscriber\'s output; GET publishes nothing.',
    v.baseline
      ? `- **${v['baseline-label']}**: \`${v.baseline}\`, another build run with the same load (and its own bench-micro for the in-process table). For "off costs nothing", a build of this tree with bench/baseline-no-observability.patch applied: no clock read, no keymiss test, notify() returning at once.`
      : '- Run with `--baseline PATH/dist/cli/server.js` (e.g. this tree with bench/baseline-no-observability.patch applied) to add a build without the observability.',
    ...(microRows.length === 0
      ? []
      : [
          '',
          `## In process (bench:micro, best of ${microRounds} interleaved runs, ns per op)`,
          '',
          'The socket run above shares two cores with the load generator (and, on the reference machine, with other',
          "people's work): its per-request figures move by tens of percent between repetitions. bench:micro times",
          'the same code paths without sockets (src/cli/bench-micro.ts; `--config NAME VALUE` sets a parameter as the modes above do;',
          'nobody subscribed; KEA also installs the keyspace listener, for expired/evicted; KEAn makes the keyspace look a key up before storing it, for new), best batch of 1000 ops.',
          ...(v.baseline ? ["The baseline column is that build's own bench-micro."] : []),
          '',
          `| task | ${[...new Set(microRows.map((r) => r.mode))].join(' | ')} |`,
          `|---|${[...new Set(microRows.map((r) => r.mode))].map(() => '---').join('|')}|`,
          ...MICRO_TASKS.map((t) => `| ${t} | ${[...new Set(microRows.map((r) => r.mode))].map((m) => microRows.find((r) => r.mode === m && r.task === t)?.ns.toFixed(1) ?? '—').join(' | ')} |`),
          '',
        ]),
    '',
  ].join('\n');
  mkdirSync('bench/results', { recursive: true });
  const dir = v.quick ? 'bench/results/tmp' : 'bench/results';
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}/${v.label}.md`, md);
  writeFileSync(`${dir}/${v.label}.json`, JSON.stringify({ durationSec, reps, baseline: v.baseline ?? null, results: json, micro: microRows }, null, 2) + '\n');
  console.log(`\n${md}\nwritten: ${dir}/${v.label}.md, ${dir}/${v.label}.json`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
