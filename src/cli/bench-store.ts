// Store microbenchmark (npm run bench:store): the book's zadd/zquery/zrem at 10K,
// 100K and 1M members, and 1M keys expiring through expireSome(2000) per loop turn.
// Also: PFADD of 1M distinct elements and PFCOUNT through the RESP command specs, and
// XADD of 1M stream entries and small XRANGEs (at 1K and 1M entries).
// Usage: node dist/cli/bench-store.js [--sizes 10000,100000,1000000] [--time ms] [--rounds n] [--out file.md]
//        [--sections zset,expiry,hll,stream,vs]
// `vs` starts a redis-server and a redloop server and runs SCAN over 1M keys, PFCOUNT, GEOSEARCH and
// XADD/XRANGE on 1M entries against both over RESP (src/cli/bench-store-vs.ts), side by side.

import { cpus } from 'node:os';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Bench } from 'tinybench';
import { bookZsetCommands } from '../commands/book/zset.js';
import { respHllCommands } from '../commands/resp/hll.js';
import { respStreamCommands } from '../commands/resp/stream.js';
import type { CommandContext, CommandSpec } from '../commands/types.js';
import type { ReplyWriter } from '../protocol/reply.js';
import { Keyspace } from '../store/keyspace.js';
import type { ZSet } from '../store/zset.js';
import { prng } from '../util/prng.js';
import { benchVsRedis, type VsRow } from './bench-store-vs.js';

/** Commands run in batches so that the clock's own cost (a getrusage call, ~1 µs) stays out of ns/op. */
const BATCH = 200;
/** The loop's per-iteration cap on active expiry. */
const EXPIRE_CAP = 2000;

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const sizes = option('sizes', '10000,100000,1000000').split(',').map(Number);
const taskTimeMs = Number(option('time', '400'));
const rounds = Number(option('rounds', '3'));
const outFile = option('out', '');
const sections = new Set(option('sections', 'zset,expiry,hll,stream,vs').split(','));

/**
 * Process CPU time (user + system) in ms, µs-precise (getrusage). On a 2-core
 * machine shared with other work, wall time counts every moment the bench
 * waits for a core; CPU time counts the work done, GC pauses included. (Per-
 * thread schedstat would exclude V8's helper threads, but here it only
 * advances at scheduler ticks, ~4 ms: too coarse.)
 */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

// A full GC before each measurement, so that earlier garbage is not collected in the middle of it.
setFlagsFromString('--expose-gc');
const fullGc = runInNewContext('gc') as () => void;

/** A reply writer that discards everything: we time the command and the store, not an encoder. */
const sink: ReplyWriter = {
  nil() {},
  err(_code, msg) {
    throw new Error(`bench command failed: ${msg}`);
  },
  str() {},
  bytes() {},
  status() {},
  int() {},
  dbl() {},
  arr() {},
  nilArr() {},
  map() {},
  set() {},
  bool() {},
  verbatim() {},
  bigNumber() {},
  dblText() {},
  push() {},
  pairs() {},
  pair() {},
};

const spec = (name: string): CommandSpec => bookZsetCommands.find((c) => c.name === name)!;
const zadd = spec('zadd');
const zrem = spec('zrem');
const zquery = spec('zquery');


interface ZRow {
  size: number;
  /** The AVL tree's height: how many nodes a seek visits at most. */
  height: number;
  task: string;
  nsPerOp: number;
  rme: number;
}

async function benchZset(n: number): Promise<ZRow[]> {
  const rand = prng(n);
  const store = new Keyspace();
  const ctx = { store } as unknown as CommandContext;
  const score = () => (rand() * 1e6).toFixed(3);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) zadd.run(['zadd', 'z', score(), `member:${i}`], sink, ctx);
  const buildMs = performance.now() - t0;
  console.error(`zset n=${n}: built in ${buildMs.toFixed(0)} ms`);
  fullGc();

  // Pre-built argument lists: string building is not what we measure. The pool is large so that
  // queries do not keep revisiting a few cached paths.
  const POOL = 1 << 16;
  // Score pool one longer than the member pool: each pass pairs a member with a different score, so an
  // update is never a no-op (re-adding a member with its current score returns before touching the tree).
  const updateNames: string[] = [];
  const updateScores: string[] = [];
  let fresh = 0;
  const queryArgs: string[][] = [];
  const offsetQueryArgs: string[][] = [];
  for (let i = 0; i < POOL; i++) {
    queryArgs.push(['zquery', 'z', score(), '', '0', '10']);
    // A move of a quarter of the set from the seek point: O(log n) by rank, not n/4 steps.
    const sign = rand() < 0.5 ? '-' : '';
    offsetQueryArgs.push(['zquery', 'z', score(), '', `${sign}${Math.floor(n / 4)}`, '10']);
    updateNames.push(`member:${Math.floor(rand() * n)}`);
    updateScores.push(score());
  }
  updateScores.push(score());
  let u = 0;
  let q = 0;
  const nextBatch = (): string[][] => {
    const batch: string[][] = [];
    for (let i = 0; i < BATCH; i++) batch.push(['zadd', 'z', score(), `fresh:${fresh++}`]);
    return batch;
  };

  let pending: string[][] = [];
  const bench = new Bench({ time: taskTimeMs, warmupTime: 50, now: cpuMs });
  bench
    .add(
      'zadd (new member)',
      () => {
        for (const a of pending) zadd.run(a, sink, ctx);
      },
      {
        beforeEach: () => void (pending = nextBatch()),
        // Keep the set at n: remove what the batch added, outside the timed part.
        afterEach: () => {
          for (const a of pending) zrem.run(['zrem', 'z', a[3]], sink, ctx);
        },
      },
    )
    .add('zadd (update score)', () => {
      for (let i = 0; i < BATCH; i++, u++) zadd.run(['zadd', 'z', updateScores[u % (POOL + 1)], updateNames[u % POOL]], sink, ctx);
    })
    .add(
      'zrem',
      () => {
        for (const a of pending) zrem.run(a, sink, ctx);
      },
      {
        beforeEach: () => {
          const batch = nextBatch();
          for (const a of batch) zadd.run(a, sink, ctx);
          pending = batch.map((a) => ['zrem', 'z', a[3]]);
        },
      },
    )
    .add('zquery (seek, 5 pairs)', () => {
      for (let i = 0; i < BATCH; i++) zquery.run(queryArgs[q++ % POOL], sink, ctx);
    })
    .add('zquery (seek, offset ±n/4, 5 pairs)', () => {
      for (let i = 0; i < BATCH; i++) zquery.run(offsetQueryArgs[q++ % POOL], sink, ctx);
    });
  // Rounds over the same set; each task keeps its best round, since load from other processes only
  // ever adds time (the set itself stays at n members throughout).
  const best = new Map<string, { mean: number; rme: number }>();
  for (let round = 0; round < rounds; round++) {
    if (round > 0) bench.reset();
    await bench.run();
    for (const t of bench.tasks) {
      const r = t.result!;
      const prev = best.get(t.name);
      if (prev === undefined || r.mean < prev.mean) best.set(t.name, { mean: r.mean, rme: r.rme });
    }
  }
  const height = (store.get('z') as ZSet).height;
  return bench.tasks.map((t) => ({
    size: n,
    height,
    task: t.name,
    nsPerOp: (best.get(t.name)!.mean * 1e6) / BATCH,
    rme: best.get(t.name)!.rme,
  }));
}

interface ExpiryRow {
  scenario: string;
  keys: number;
  calls: number;
  worstMs: number;
  p99Ms: number;
  meanMs: number;
  totalMs: number;
  /** The largest min(wall, process CPU) of one call: a bound on its own work, immune to preemption. */
  worstCpuMs: number;
  /** Keys still stored when the worst-CPU call ran (a rehash shows up at a power-of-two boundary). */
  worstCpuAtKeys: number;
  p99CpuMs: number;
  /** Milliseconds of garbage-collection pause that overlapped the worst call. */
  gcInWorstMs: number;
}

/**
 * 1M keys with a TTL, then a simulated loop: each turn advances a fake clock
 * and calls expireSome(2000), as the server's timer step does. The wall time
 * of each call is the stall that turn would add.
 */
async function benchExpiry(keys: number, spreadMs: number, tickMs: number, scenario: string, budgetMs = Infinity): Promise<ExpiryRow> {
  let now = 0;
  const store = new Keyspace(() => now);
  const rand = prng(keys + spreadMs);
  for (let i = 0; i < keys; i++) {
    const k = `key:${i}`;
    store.put(k, 'value');
    store.setDeadline(k, 1 + rand() * spreadMs);
  }
  // Collect the build's garbage now, then give V8's concurrent sweepers time to finish, so that
  // neither lands in the measured calls (right after a full GC the first calls ran 3-10x slower).
  fullGc();
  await new Promise((resolve) => setTimeout(resolve, 300));
  const times: number[] = [];
  const cpuTimes: number[] = [];
  let worstCpuMs = 0;
  let worstCpuAtKeys = 0;
  let worstStart = 0;
  let worstEnd = 0;
  const gcs: Array<[number, number]> = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcs.push([e.startTime, e.startTime + e.duration]);
  });
  observer.observe({ entryTypes: ['gc'] });
  while (store.size > 0) {
    now += tickMs;
    const cpu = cpuMs();
    const t = performance.now();
    store.expireSome(EXPIRE_CAP, budgetMs);
    times.push(performance.now() - t);
    // This call's own work is at most its wall time (which also counts preemption) and at most
    // the process CPU time (which also counts V8's helper threads): the smaller is a tight bound.
    const used = Math.min(cpuMs() - cpu, times[times.length - 1]);
    cpuTimes.push(used);
    if (used > worstCpuMs) {
      worstCpuMs = used;
      worstCpuAtKeys = store.size;
      worstStart = t;
      worstEnd = t + times[times.length - 1];
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 20)); // GC entries are delivered asynchronously
  observer.disconnect();
  let gcInWorstMs = 0;
  for (const [a, b] of gcs) gcInWorstMs += Math.max(0, Math.min(b, worstEnd) - Math.max(a, worstStart));
  const sorted = [...times].sort((a, b) => a - b);
  const sortedCpu = cpuTimes.sort((a, b) => a - b);
  const total = times.reduce((a, b) => a + b, 0);
  return {
    scenario,
    keys,
    calls: times.length,
    worstMs: sorted[sorted.length - 1],
    p99Ms: sorted[Math.floor(sorted.length * 0.99)],
    meanMs: total / times.length,
    totalMs: total,
    worstCpuMs,
    worstCpuAtKeys,
    p99CpuMs: sortedCpu[Math.floor(sortedCpu.length * 0.99)],
    gcInWorstMs,
  };
}

function fmt(x: number, digits = 1): string {
  return x.toFixed(digits);
}

interface ExpiryScenario {
  scenario: string;
  spreadMs: number;
  budgetMs: number | null;
}

/**
 * Runs one expiry scenario in this process (the --expiry-child mode) and prints its row as JSON.
 * Each scenario gets a fresh process: the previous one's million dead keys would otherwise be
 * collected, in a long major-GC pause, in the middle of the next one's measurements.
 */
async function expiryChild(keys: number, sc: ExpiryScenario): Promise<void> {
  // A first, discarded round, so that expireSome is measured compiled, as in a server that has run a while.
  await benchExpiry(20_000, sc.spreadMs === 0 ? 0 : 100, 1, 'warm-up', sc.budgetMs ?? Infinity);
  const row = await benchExpiry(keys, sc.spreadMs, 1, sc.scenario, sc.budgetMs ?? Infinity);
  process.stdout.write(JSON.stringify(row));
}

function runExpiryInChild(keys: number, sc: ExpiryScenario): ExpiryRow {
  const out = execFileSync(process.execPath, [process.argv[1], '--expiry-child', JSON.stringify({ keys, sc })], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 20,
  });
  return JSON.parse(out) as ExpiryRow;
}

interface HllRow {
  task: string;
  totalMs: number;
  nsPerOp: number;
}

/**
 * PFADD of `n` distinct elements into one key (1000 per command, as a client
 * would batch them), through the RESP command spec: hashing, the sparse
 * phase, the promotion, then dense updates. Then PFCOUNT with the cache
 * invalidated each time (a full register scan), and PFCOUNT of two keys.
 */
function benchHll(n: number): HllRow[] {
  const store = new Keyspace();
  const ctx = { store } as unknown as CommandContext;
  const pf = (name: string) => respHllCommands.find((c) => c.name === name)!;
  const pfadd = pf('pfadd');
  const pfcount = pf('pfcount');
  const PER = 1000;
  const batches: string[][] = [];
  for (let i = 0; i < n; i += PER) {
    const args = ['pfadd', 'h'];
    for (let j = i; j < Math.min(n, i + PER); j++) args.push(`element:${j}`);
    batches.push(args);
  }
  fullGc();
  const rows: HllRow[] = [];
  let t0 = cpuMs();
  for (const args of batches) pfadd.run(args, sink, ctx);
  let ms = cpuMs() - t0;
  rows.push({ task: `PFADD ${n} distinct elements (${PER} per command)`, totalMs: ms, nsPerOp: (ms * 1e6) / n });
  const again = batches.slice(0, Math.max(1, batches.length / 10));
  t0 = cpuMs();
  for (const args of again) pfadd.run(args, sink, ctx);
  ms = cpuMs() - t0;
  rows.push({ task: 'PFADD of elements already counted (dense, nothing changes)', totalMs: ms, nsPerOp: (ms * 1e6) / (again.length * PER) });
  pfadd.run(['pfadd', 'h2', 'x', 'y', ...batches[0].slice(2)], sink, ctx);
  const ROUNDS = 2000;
  t0 = cpuMs();
  for (let i = 0; i < ROUNDS; i++) {
    pfadd.run(['pfadd', 'h', `fresh:${i}`], sink, ctx); // invalidates the cached cardinality (mostly)
    pfcount.run(['pfcount', 'h'], sink, ctx);
  }
  ms = cpuMs() - t0;
  rows.push({ task: 'PFADD 1 element + PFCOUNT (dense, recount)', totalMs: ms, nsPerOp: (ms * 1e6) / ROUNDS });
  t0 = cpuMs();
  for (let i = 0; i < ROUNDS; i++) pfcount.run(['pfcount', 'h', 'h2'], sink, ctx);
  ms = cpuMs() - t0;
  rows.push({ task: 'PFCOUNT of 2 keys (dense + sparse union)', totalMs: ms, nsPerOp: (ms * 1e6) / ROUNDS });
  return rows;
}

/**
 * XADD of `n` entries with explicit IDs (one field each) through the RESP
 * command spec, then XRANGE of 10 entries from random starting IDs and XADD of
 * one more entry, at 1K and at `n` entries: O(log n) shows as nearly equal
 * figures (the stream's own counter of compared IDs is reported too).
 */
function benchStream(n: number): HllRow[] {
  const cmd = (name: string) => respStreamCommands.find((c) => c.name === name)!;
  const xadd = cmd('xadd');
  const xrange = cmd('xrange');
  const rows: HllRow[] = [];
  for (const size of [1000, n]) {
    const store = new Keyspace();
    const ctx = { store, server: { registry: new Map() } } as unknown as CommandContext;
    fullGc();
    let t0 = cpuMs();
    for (let i = 1; i <= size; i++) xadd.run(['xadd', 's', `${i}-1`, 'field', 'value'], sink, ctx);
    let ms = cpuMs() - t0;
    rows.push({ task: `XADD ${size} entries (explicit IDs, 1 field)`, totalMs: ms, nsPerOp: (ms * 1e6) / size });
    const rand = prng(15);
    const ROUNDS = 20_000;
    const starts = Array.from({ length: ROUNDS }, () => `${1 + Math.floor(rand() * (size - 10))}-1`);
    const stream = store.get('s') as unknown as { visits: number };
    const v0 = stream.visits;
    t0 = cpuMs();
    for (const start of starts) xrange.run(['xrange', 's', start, '+', 'COUNT', '10'], sink, ctx);
    ms = cpuMs() - t0;
    const per = (stream.visits - v0) / ROUNDS;
    rows.push({ task: `XRANGE … COUNT 10 at ${size} entries (${per.toFixed(1)} IDs compared per search)`, totalMs: ms, nsPerOp: (ms * 1e6) / ROUNDS });
  }
  return rows;
}

async function main(): Promise<void> {
  const child = option('expiry-child', '');
  if (child !== '') {
    const { keys, sc } = JSON.parse(child) as { keys: number; sc: ExpiryScenario };
    return expiryChild(keys, sc);
  }
  const keys = sizes.length ? Math.max(...sizes) : 1_000_000;
  console.error(`expiry: ${keys} keys`);
  const scenarios: ExpiryScenario[] = [
    { scenario: 'mass expiry: every key has the same deadline', spreadMs: 0, budgetMs: null },
    { scenario: 'deadlines spread over 10 s, a loop turn every 1 ms', spreadMs: 10_000, budgetMs: null },
    { scenario: 'mass expiry, expireSome(2000, 2 ms budget)', spreadMs: 0, budgetMs: 2 },
  ];
  const expiry = sections.has('expiry') ? scenarios.map((sc) => runExpiryInChild(keys, sc)) : [];

  const zrows: ZRow[] = [];
  if (sections.has('zset')) for (const n of sizes) zrows.push(...(await benchZset(n)));
  const hll = sections.has('hll') ? benchHll(1_000_000) : [];
  const streamRows = sections.has('stream') ? benchStream(1_000_000) : [];
  const vs: VsRow[] | null = sections.has('vs') ? await benchVsRedis((s) => console.error(s)) : [];

  const base = new Map(zrows.filter((r) => r.size === sizes[0]).map((r) => [r.task, r.nsPerOp]));
  const lines: string[] = [];
  lines.push('# Store microbenchmark: sorted set and TTL expiry', '');
  lines.push(`Reproduce: \`npm run build && node dist/cli/bench-store.js --out bench/results/store.md\``);
  lines.push(
    '',
    `Node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores, shared), ${new Date().toISOString()}.`,
    `tinybench, ${taskTimeMs} ms of CPU per task, best of ${rounds} rounds; each sample is a batch of ${BATCH} commands run through the`,
    "book's command specs with a no-op reply writer (argument parsing + keyspace lookup + the AVL tree).",
    "Times are process CPU time (getrusage), not wall time: the machine's 2 cores are",
    'shared with other work, and waiting for a core is not a cost of the data structure.',
    '',
    '## Sorted set: ns per command',
    '',
    `| members | tree height | command | ns/op | ± % | × vs ${sizes[0]} | log2(n) × vs ${sizes[0]} |`,
    '|---:|---:|---|---:|---:|---:|---:|',
  );
  for (const r of zrows) {
    const ratio = r.nsPerOp / base.get(r.task)!;
    const logRatio = Math.log2(r.size) / Math.log2(sizes[0]);
    lines.push(`| ${r.size} | ${r.height} | ${r.task} | ${fmt(r.nsPerOp, 0)} | ${fmt(r.rme)} | ${fmt(ratio, 2)} | ${fmt(logRatio, 2)} |`);
  }
  lines.push(
    '',
    'O(log n) predicts the last column; O(n) would predict ×100 at 1M. Whatever exceeds log2(n) is the',
    'memory hierarchy: a 1M-node tree no longer fits in cache, so each level of the descent is a likely miss.',
    '',
    `## Active expiry: ${keys} keys, expireSome(${EXPIRE_CAP}) per loop turn`,
    '',
    'A fake clock advances 1 ms per turn; each turn calls expireSome as the server loop does. Measured after',
    'a discarded 20 000-key round, so the code is compiled.',
    '',
    '| scenario | calls | mean ms (wall) | p99 ms (wall) | worst ms (wall) | p99 ms (work) | worst ms (work) | keys left at worst | GC in worst ms |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const e of expiry) {
    lines.push(
      `| ${e.scenario} | ${e.calls} | ${fmt(e.meanMs, 3)} | ${fmt(e.p99Ms, 2)} | ${fmt(e.worstMs, 2)} | ${fmt(e.p99CpuMs, 2)} | ${fmt(e.worstCpuMs, 2)} | ${e.worstCpuAtKeys} | ${fmt(e.gcInWorstMs, 2)} |`,
    );
  }
  lines.push(
    '',
    "Wall time counts the bench being preempted on this shared 2-core machine; process CPU time counts V8's",
    "helper threads too. Each call's *work* is min(wall, CPU), a bound on what the call itself cost the loop",
    '(GC pauses on the main thread included). The cap bounds a call at 2000 deletions (heap sift + two Map',
    'deletes each) however many keys fall due together. Above that sits V8 rehashing a Map as it shrinks',
    "below a quarter full: the keyspace's tables are sharded over 256 Maps whose sizes span one octave, so a",
    'rehash touches ~1/256 of the keys and the shards do not all shrink in the same few calls (one unsharded',
    'Map spent 100-240 ms in the single call that crossed 262 144 keys). The',
    "budgeted row shows expireSome's optional time budget, which the server may pass as well.",
    '',
    '## HyperLogLog',
    '',
    'Through the RESP command specs with a no-op reply writer; process CPU time, one run (reported, not asserted).',
    '',
    '| task | total ms | ns per element or command |',
    '|---|---:|---:|',
  );
  for (const r of hll) lines.push(`| ${r.task} | ${fmt(r.totalMs, 0)} | ${fmt(r.nsPerOp, 0)} |`);
  lines.push(
    '',
    '## Streams',
    '',
    'Through the RESP command specs with a no-op reply writer; process CPU time, one run (reported, not asserted).',
    '',
    '| task | total ms | ns per entry or command |',
    '|---|---:|---:|',
  );
  for (const r of streamRows) lines.push(`| ${r.task} | ${fmt(r.totalMs, 0)} | ${fmt(r.nsPerOp, 0)} |`);
  if (sections.has('vs')) {
    lines.push(
      '',
      '## Beside redis-server (over RESP, one run)',
      '',
      'The same commands, pipelined 500 at a time from one client, to a redis-server and to a redloop server',
      "(default loop) started for the run. *CPU* is the server process's own user + system time per command",
      '(/proc, 10 ms ticks), which leaves out the client and the other work on the shared cores; *wall* is the',
      "client's elapsed time per command. SCAN counts the calls of a whole iteration on each server.",
      '',
      '| task | redis-server commands | redis-server µs CPU/cmd | redis-server µs wall/cmd | redloop commands | redloop µs CPU/cmd | redloop µs wall/cmd | CPU × redis |',
      '|---|---:|---:|---:|---:|---:|---:|---:|',
    );
    if (vs === null) lines.push('| (redis-server could not be started: no figures) | | | | | | | |');
    else
      for (const r of vs) {
        const a = r.redis;
        const b = r.redloop;
        const cell = (f: typeof a, k: 'commands' | 'cpuUsPerCmd' | 'wallUsPerCmd') => (f === null ? '–' : k === 'commands' ? String(f.commands) : fmt(f[k], 2));
        const ratio = a !== null && b !== null && a.cpuUsPerCmd > 0 ? fmt(b.cpuUsPerCmd / a.cpuUsPerCmd, 1) : '–';
        lines.push(`| ${r.task} | ${cell(a, 'commands')} | ${cell(a, 'cpuUsPerCmd')} | ${cell(a, 'wallUsPerCmd')} | ${cell(b, 'commands')} | ${cell(b, 'cpuUsPerCmd')} | ${cell(b, 'wallUsPerCmd')} | ${ratio} |`);
      }
  }
  lines.push('');
  const md = lines.join('\n');
  process.stdout.write(md);
  if (outFile) writeFileSync(outFile, md);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
