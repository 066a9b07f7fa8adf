// Store microbenchmark (npm run bench:store): the book's zadd/zquery/zrem at 10K,
// 100K and 1M members, and 1M keys expiring through expireSome(2000) per loop turn.
// Usage: node dist/cli/bench-store.js [--sizes 10000,100000,1000000] [--time ms] [--out file.md]

import { cpus } from 'node:os';
import { openSync, readSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Bench } from 'tinybench';
import { bookZsetCommands } from '../commands/book/zset.js';
import type { CommandContext, CommandSpec } from '../commands/types.js';
import type { ReplyWriter } from '../protocol/reply.js';
import { Keyspace } from '../store/keyspace.js';
import type { ZSet } from '../store/zset.js';

/** Commands run in batches so that the clock's own cost (one pread, ~5 µs of CPU) stays out of ns/op. */
const BATCH = 1000;
/** The loop's per-iteration cap on active expiry. */
const EXPIRE_CAP = 2000;

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const sizes = option('sizes', '10000,100000,1000000').split(',').map(Number);
const taskTimeMs = Number(option('time', '400'));
const outFile = option('out', '');

/**
 * This thread's CPU time in ms, from /proc/thread-self/schedstat (nanoseconds
 * the kernel ran it). On a 2-core machine shared with other work, wall time
 * counts every moment the bench waits for a core; this clock counts only the
 * work done, including GC pauses on this thread but not V8's helper threads.
 */
const schedstat = openSync('/proc/thread-self/schedstat', 'r');
const schedBuf = Buffer.alloc(64);
function threadCpuMs(): number {
  const n = readSync(schedstat, schedBuf, 0, schedBuf.length, 0);
  let ns = 0;
  for (let i = 0; i < n; i++) {
    const c = schedBuf[i];
    if (c < 48 || c > 57) break;
    ns = ns * 10 + (c - 48);
  }
  return ns / 1e6;
}

/** A reply writer that discards everything: we time the command and the store, not an encoder. */
const sink: ReplyWriter = {
  nil() {},
  err(_code, msg) {
    throw new Error(`bench command failed: ${msg}`);
  },
  str() {},
  status() {},
  int() {},
  dbl() {},
  arr() {},
  nilArr() {},
};

const spec = (name: string): CommandSpec => bookZsetCommands.find((c) => c.name === name)!;
const zadd = spec('zadd');
const zrem = spec('zrem');
const zquery = spec('zquery');

/** A deterministic PRNG (mulberry32), so runs are comparable. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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

  // Pre-built argument lists: string building is not what we measure.
  const POOL = 16 * BATCH;
  let fresh = 0;
  const queryArgs: string[][] = [];
  const offsetQueryArgs: string[][] = [];
  const updateArgs: string[][] = [];
  for (let i = 0; i < POOL; i++) {
    queryArgs.push(['zquery', 'z', score(), '', '0', '10']);
    // A move of a quarter of the set from the seek point: O(log n) by rank, not n/4 steps.
    const sign = rand() < 0.5 ? '-' : '';
    offsetQueryArgs.push(['zquery', 'z', score(), '', `${sign}${Math.floor(n / 4)}`, '10']);
    updateArgs.push(['zadd', 'z', score(), `member:${Math.floor(rand() * n)}`]);
  }
  let q = 0;
  const nextBatch = (): string[][] => {
    const batch: string[][] = [];
    for (let i = 0; i < BATCH; i++) batch.push(['zadd', 'z', score(), `fresh:${fresh++}`]);
    return batch;
  };

  let pending: string[][] = [];
  const bench = new Bench({ time: taskTimeMs, warmupTime: 50, now: threadCpuMs });
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
      for (let i = 0; i < BATCH; i++) zadd.run(updateArgs[q++ % POOL], sink, ctx);
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
  await bench.run();
  const height = (store.get('z') as ZSet).height;
  return bench.tasks.map((t) => ({
    size: n,
    height,
    task: t.name,
    nsPerOp: (t.result!.mean * 1e6) / BATCH,
    rme: t.result!.rme,
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
  /** The largest CPU time of this thread one call used: immune to preemption, unlike wall time. */
  worstCpuMs: number;
  /** Keys still stored when the worst-CPU call ran (a rehash shows up at a power-of-two boundary). */
  worstCpuAtKeys: number;
}

/**
 * 1M keys with a TTL, then a simulated loop: each turn advances a fake clock
 * and calls expireSome(2000), as the server's timer step does. The wall time
 * of each call is the stall that turn would add.
 */
function benchExpiry(keys: number, spreadMs: number, tickMs: number, scenario: string, budgetMs = Infinity): ExpiryRow {
  let now = 0;
  const store = new Keyspace(() => now);
  const rand = prng(keys + spreadMs);
  for (let i = 0; i < keys; i++) {
    const k = `key:${i}`;
    store.put(k, 'value');
    store.setDeadline(k, 1 + rand() * spreadMs);
  }
  const times: number[] = [];
  let worstCpuMs = 0;
  let worstCpuAtKeys = 0;
  while (store.size > 0) {
    now += tickMs;
    const cpu = threadCpuMs();
    const t = performance.now();
    store.expireSome(EXPIRE_CAP, budgetMs);
    times.push(performance.now() - t);
    const cpuMs = threadCpuMs() - cpu;
    if (cpuMs > worstCpuMs) {
      worstCpuMs = cpuMs;
      worstCpuAtKeys = store.size;
    }
  }
  const sorted = [...times].sort((a, b) => a - b);
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
  };
}

function fmt(x: number, digits = 1): string {
  return x.toFixed(digits);
}

async function main(): Promise<void> {
  const zrows: ZRow[] = [];
  for (const n of sizes) zrows.push(...(await benchZset(n)));

  const keys = sizes.length ? Math.max(...sizes) : 1_000_000;
  // A first, discarded round, so that expireSome is measured compiled, as in a server that has run a while.
  benchExpiry(20_000, 0, 1, 'warm-up');
  benchExpiry(20_000, 100, 1, 'warm-up');
  console.error(`expiry: ${keys} keys`);
  const expiry = [
    benchExpiry(keys, 0, 1, 'mass expiry: every key has the same deadline'),
    benchExpiry(keys, 10_000, 1, 'deadlines spread over 10 s, a loop turn every 1 ms'),
    benchExpiry(keys, 0, 1, 'mass expiry, expireSome(2000, 2 ms budget)', 2),
  ];

  const base = new Map(zrows.filter((r) => r.size === sizes[0]).map((r) => [r.task, r.nsPerOp]));
  const lines: string[] = [];
  lines.push('# Store microbenchmark: sorted set and TTL expiry', '');
  lines.push(`Reproduce: \`npm run build && node dist/cli/bench-store.js --out bench/results/store.md\``);
  lines.push(
    '',
    `Node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores, shared), ${new Date().toISOString()}.`,
    `tinybench, ${taskTimeMs} ms of CPU per task; each sample is a batch of ${BATCH} commands run through the`,
    "book's command specs with a no-op reply writer (argument parsing + keyspace lookup + the AVL tree).",
    "Times are this thread's CPU time (/proc/thread-self/schedstat), not wall time: the machine's 2 cores are",
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
    '| scenario | calls | worst call ms (wall) | p99 ms (wall) | mean ms | total ms | worst call ms (CPU) | keys left then |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const e of expiry) {
    lines.push(
      `| ${e.scenario} | ${e.calls} | ${fmt(e.worstMs, 2)} | ${fmt(e.p99Ms, 3)} | ${fmt(e.meanMs, 3)} | ${fmt(e.totalMs, 0)} | ${fmt(e.worstCpuMs, 2)} | ${e.worstCpuAtKeys} |`,
    );
  }
  lines.push(
    '',
    'The worst call is the longest a single loop turn spends expiring keys; the cap bounds it at 2000',
    'deletions (heap pops + Map deletes) however many keys fall due together. Wall time also counts the',
    "bench being preempted on a shared machine; this thread's CPU time (GC pauses on it included) is the",
    "figure that matters for the loop. What is left above the cap's own cost is V8",
    "rehashing a Map shard as it shrinks: the keyspace's tables are sharded over 1024 Maps so each rehash",
    'touches ~1/1024 of the keys (one unsharded Map spent 100-130 ms CPU in the call crossing 262 144 keys).',
    '',
  );
  const md = lines.join('\n');
  process.stdout.write(md);
  if (outFile) writeFileSync(outFile, md);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
