// The load generator: its reply counters (fed every possible split of a
// response stream), a tiny run against a started server, and the CLI's JSON.

import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BookWriter } from '../src/protocol/book.js';
import { ByteBuffer } from '../src/loop/buffer.js';
import { ErrCode } from '../src/protocol/reply.js';
import { BookReplyCounter, RespReplyCounter, type ReplyCounter } from '../src/bench/replies.js';
import { encodeCommand, parseMix, runLoad } from '../src/bench/loadgen.js';
import { processCpuUs } from '../src/bench/cpu.js';
import { checkMessageTargets, checkTargets, markdown, type MessageRun, type SuiteRun } from '../src/bench/report.js';
import { BLOCKING_PROBE, BlockedPool, IntReplySum, PUBSUB_PROBE, runFanout, runPingPong, unsupported, UnsupportedError } from '../src/bench/pubsub.js';
import { startRedis, type RunningTarget } from '../src/bench/servers.js';
import { startServer, type TestServer } from './helpers/server.js';

/** Feeds `bytes` split at `cut` and at every byte; each way must count `n` replies. */
function countAllSplits(make: () => ReplyCounter, bytes: Buffer, n: number, errors: number): void {
  for (let cut = 0; cut <= bytes.length; cut++) {
    const c = make();
    const got = c.feed(bytes, 0, cut) + c.feed(bytes, cut, bytes.length);
    expect(got, `split at ${cut}`).toBe(n);
    expect(c.errors).toBe(errors);
  }
  const c = make();
  let got = 0;
  for (let i = 0; i < bytes.length; i++) got += c.feed(bytes, i, i + 1);
  expect(got).toBe(n);
}

describe('reply counters', () => {
  test('book frames, whatever the chunking', () => {
    const out = new ByteBuffer();
    const w = new BookWriter();
    const reply = (f: () => void) => {
      w.begin(out);
      f();
      w.end();
    };
    reply(() => w.nil());
    reply(() => w.str('hello'));
    reply(() => w.err(ErrCode.Unknown, 'unknown command'));
    reply(() => w.int(42));
    reply(() => {
      w.arr(2);
      w.str('a');
      w.dbl(1.5);
    });
    reply(() => w.str('x'.repeat(300)));
    countAllSplits(() => new BookReplyCounter(), out.toBuffer(), 6, 1);
  });

  test('RESP: simple, error, integer, bulk, nil, nested and empty arrays', () => {
    const stream = Buffer.from(
      '+OK\r\n-ERR bad\r\n:12\r\n$5\r\nhe\r\no\r\n$-1\r\n*2\r\n*2\r\n$1\r\na\r\n:1\r\n$0\r\n\r\n*0\r\n*-1\r\n$12\r\n' + 'x'.repeat(12) + '\r\n',
      'latin1',
    );
    countAllSplits(() => new RespReplyCounter(), stream, 9, 1);
  });

  test('request encodings', () => {
    expect(encodeCommand('resp', ['SET', 'k', 'vv']).toString('latin1')).toBe('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\nvv\r\n');
    expect(parseMix('get:30,set:70')).toEqual([
      { command: 'get', weight: 30 },
      { command: 'set', weight: 70 },
    ]);
    expect(() => parseMix('flushall')).toThrow(/unknown command/);
  });
});

describe('against a server', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer(['--loop', 'epoll']);
  });
  afterAll(async () => {
    await srv.stop();
  });

  test.each(['raw', 'net'] as const)('a tiny -n run answers every request without errors (engine %s)', async (engine) => {
    const r = await runLoad({
      engine,
      host: '127.0.0.1',
      port: srv.bookPort,
      protocol: 'book',
      connections: 4,
      pipeline: 8,
      requests: 2000,
      keyspace: 100,
      valueSize: 32,
      mix: parseMix('get:50,set:50'),
      prefill: true,
      idle: 20,
      serverPid: srv.pid,
    });
    expect(r.requests).toBeGreaterThanOrEqual(2000);
    expect(r.errors).toBe(0);
    expect(r.disconnects).toBe(0);
    expect(r.idle).toBe(20);
    expect(r.engine).toBe(engine);
    expect(r.latencyUs.p50).toBeGreaterThan(0);
    expect(r.serverCpuUs).not.toBeNull();
  });

  test('redloop-bench --json', async () => {
    const bench = fileURLToPath(new URL('../dist/cli/bench.js', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [bench, '--port', String(srv.bookPort), '-n', '500', '-c', '2', '-P', '4', '--json', '--server-pid', String(srv.pid)]);
    const r = JSON.parse(stdout);
    expect(r.requests).toBeGreaterThanOrEqual(500);
    expect(r.errors).toBe(0);
    expect(typeof r.serverCpuUsPerRequest).toBe('number');
  });

  test('server CPU time is read from /proc', () => {
    expect(processCpuUs(srv.pid)).toBeGreaterThanOrEqual(0);
    expect(processCpuUs(process.pid)).toBeGreaterThan(0);
  });
});

describe('suite report', () => {
  const run = (scenario: string, target: SuiteRun['target'], us: number, throughput = 1000, idle = 0): SuiteRun =>
    ({
      scenario,
      group: scenario[0] as SuiteRun['group'],
      title: scenario,
      target,
      protocol: 'resp',
      engine: 'raw',
      connections: 50,
      pipeline: 16,
      idle,
      valueSize: 16,
      keyspace: 10,
      mix: 'get:1',
      requests: 100,
      errors: 0,
      disconnects: 0,
      elapsedSec: 1,
      throughput,
      latencyUs: { p50: 1, p99: 2, p999: 3, max: 4, mean: 1 },
      serverCpuUs: us * 100,
      serverCpuUsPerRequest: us,
      serverCpuPercent: 50,
      clientCpuUs: 100,
      clientCpuUsPerRequest: 1,
      clientCpuPercent: 10,
    }) as SuiteRun;

  test('targets: ratios, verdicts, and what is missing', () => {
    const runs = [
      run('b:resp:get', 'poll', 1.0),
      run('b:resp:get', 'libuv', 2.0),
      run('b:resp:get', 'redis', 0.8),
      run('c:resp:0', 'epoll', 10, 50_000, 0),
      run('c:resp:10000', 'epoll', 10, 47_500, 10_000),
    ];
    const t = checkTargets(runs, 'resp', 10_000);
    const by = (prefix: string) => t.find((x) => x.name.startsWith(prefix))!;
    expect(by('pipelined GET (P=16, resp): poll ≤ 0.7× libuv')).toMatchObject({ ratio: 0.5, met: true });
    expect(by('pipelined GET (P=16, resp): poll ≤ 1.0× redis')).toMatchObject({ ratio: 1.25, met: false, verdict: 'misses: 25% over the limit' });
    expect(by('unpipelined GET')).toMatchObject({ ratio: null, met: null });
    expect(by('epoll with 10 000 idle')).toMatchObject({ ratio: 0.95, met: true });
    const md = markdown({ label: 'x', quick: true, startedAt: '', wallSec: 1, machine: { nproc: 2, cpu: 'cpu', kernel: 'k', node: 'v20', redis: null }, notes: [], runs, targets: t }, { idle: null, cpu: null });
    expect(md).toContain('| b:resp:get | 1.00 |  | 2.00 | 0.80 |'); // poll, epoll (no run), libuv, redis
  });

  test('pub/sub and blocking: ratios to redis-server, unsupported and error cells', () => {
    const msg = (scenario: string, target: SuiteRun['target'], us: number): MessageRun => ({
      scenario,
      group: scenario[0] as 'f' | 'g',
      title: scenario,
      target,
      level: Number(scenario.slice(2)),
      units: 1000,
      elapsedSec: 1,
      rate: 1000,
      serverCpuUs: us * 1000,
      serverCpuUsPerUnit: us,
      serverCpuPercent: 50,
      clientCpuUs: 100,
      clientCpuPercent: 10,
      latencyUs: { p50: 1, p99: 2, p999: 3, max: 4, mean: 1 },
      problems: [],
    });
    const messages = [msg('f:10', 'redis', 0.5), msg('f:10', 'epoll', 0.55), msg('f:10', 'libuv', 0.75), msg('g:1', 'redis', 30)];
    const skipped = [
      { scenario: 'f:10', title: 'f:10', target: 'poll' as const, status: 'unsupported' as const, reason: "ERR unknown command 'SUBSCRIBE'" },
      { scenario: 'g:1', title: 'g:1', target: 'epoll' as const, status: 'error' as const, reason: 'pair 0: ...' },
      { scenario: 'e:resp:10000', title: 'e:resp:10000', target: 'poll' as const, status: 'unsupported' as const, reason: "ERR unknown command 'BLPOP'" },
    ];
    const runs = [{ ...run('e:resp:0', 'epoll', 10, 50_000), blocked: 0 }, { ...run('e:resp:10000', 'epoll', 10, 40_000), blocked: 10_000 }];
    const t = checkMessageTargets(runs, messages, skipped);
    const by = (prefix: string) => t.filter((x) => x.name.startsWith(prefix));
    expect(by('f:10').map((x) => [x.name.split(': ')[1].split(' ')[0], x.ratio === null ? null : Number(x.ratio.toFixed(2)), x.met])).toEqual([
      ['poll', null, null],
      ['epoll', 1.1, true],
      ['libuv', 1.5, false],
    ]);
    expect(by('g:1')).toMatchObject([{ met: null, verdict: 'not measured: error on epoll' }]);
    expect(by('epoll with 10 000 clients blocked')).toMatchObject([{ ratio: 0.8, met: false }]);
    const md = markdown(
      { label: 'x', quick: true, startedAt: '', wallSec: 1, machine: { nproc: 2, cpu: 'cpu', kernel: 'k', node: 'v20', redis: '7.0' }, notes: [], runs, messages, skipped, targets: t },
      { idle: null, cpu: null, fanout: null },
    );
    expect(md).toContain('| f:10 | unsupported | 0.55 (1.00k) | 0.75 (1.00k) | 0.50 (1.00k) |');
    expect(md).toContain('| f:10 | unsupported | 1.10 ✅ | 1.50 ❌ | 1.00 |');
    expect(md).toContain('| g:1 |  | error |  | 30.0 (1.00k) |');
    expect(md).toContain('| e:resp:10000 | unsupported | 10.0 |'); // poll, epoll in the per-request grid
  });
});

// Groups e, f, g of the suite in a tiny configuration: counts only, no timing.
// redis-server has every command (scripts/install-redis.sh installs it; the
// test needs it). redloop runs each scenario whose commands it has; for the
// others the scenario must report UnsupportedError (the suite's "unsupported"),
// not crash or hang.
describe('pub/sub and blocking scenarios', () => {
  let redis: RunningTarget;
  let ours: TestServer;
  beforeAll(async () => {
    redis = await startRedis(1000);
    ours = await startServer(['--loop', 'epoll']);
  });
  afterAll(async () => {
    await redis?.stop();
    await ours?.stop();
  });
  const HOST = '127.0.0.1';
  const servers = () => [
    { name: 'redis-server', port: redis.ports.resp!, pid: redis.pid, mustSupport: true },
    { name: 'redloop epoll', port: ours.respPort, pid: ours.pid, mustSupport: false },
  ];

  test.each([0, 1])('PUBLISH fan-out: every subscriber receives every message (server %i)', async (k) => {
    const s = servers()[k];
    const why = await unsupported(HOST, s.port, PUBSUB_PROBE);
    if (s.mustSupport) expect(why).toBeNull();
    for (const subscribers of [1, 7]) {
      const o = { host: HOST, port: s.port, serverPid: s.pid, subscribers, pipeline: 4, durationSec: 10, maxPublishes: 301, warmupSec: 0 };
      if (why !== null) {
        expect(() => runFanout(o)).toThrow(UnsupportedError);
        continue;
      }
      const r = runFanout(o);
      expect(r.problems).toEqual([]);
      expect(r.published).toBe(301); // the count bound ends the run long before the time bound
      expect(r.units).toBe(301 * subscribers);
      expect(r.check).toEqual({ published: 301, minReceived: 301, maxReceived: 301, receiversReported: 301 * subscribers });
      expect(r.serverCpuUs).not.toBeNull();
    }
  });

  test.each([0, 1])('BLPOP/LPUSH ping-pong: every round trip completes (server %i)', async (k) => {
    const s = servers()[k];
    const why = await unsupported(HOST, s.port, BLOCKING_PROBE);
    if (s.mustSupport) expect(why).toBeNull();
    for (const pairs of [1, 4]) {
      const o = { host: HOST, port: s.port, serverPid: s.pid, pairs, durationSec: 10, maxRoundTrips: 200, warmupSec: 0 };
      if (why !== null) {
        expect(() => runPingPong(o)).toThrow(UnsupportedError);
        continue;
      }
      const r = runPingPong(o);
      expect(r.problems).toEqual([]);
      expect(r.units).toBe(200);
      expect(r.check).toEqual({ roundTrips: 200, popsA: 200, popsB: 200, pushes: 400 });
    }
    // Every A was left blocked in BLPOP and then disconnected: no waiter remains.
    if (why === null) await expect.poll(() => new BlockedPool(HOST, s.port).blockedClients()).toBe(0);
  });

  test.each([0, 1])('blocked clients: held through a GET load, then freed (server %i)', async (k) => {
    const s = servers()[k];
    const why = await unsupported(HOST, s.port, BLOCKING_PROBE);
    if (s.mustSupport) expect(why).toBeNull();
    const pool = new BlockedPool(HOST, s.port);
    try {
      if (why !== null) {
        await expect(pool.growTo(20)).rejects.toThrow(UnsupportedError);
        return;
      }
      await pool.growTo(40);
      expect(await pool.blockedClients()).toBe(40);
      const r = await runLoad({ host: HOST, port: s.port, protocol: 'resp', connections: 2, pipeline: 1, requests: 300, keyspace: 10, valueSize: 8, mix: parseMix('get'), serverPid: s.pid });
      expect(r.requests).toBeGreaterThanOrEqual(300);
      expect(r.errors + r.disconnects).toBe(0);
      expect(pool.answered).toBe(0);
      expect(pool.lost).toBe(0);
    } finally {
      await pool.close(); // resolves once INFO reports no blocked client
    }
    expect(await pool.blockedClients()).toBe(0);
  });

  test('IntReplySum sums PUBLISH replies split anywhere', () => {
    const bytes = Buffer.from(':3\r\n:0\r\n-ERR no\r\n:12\r\n', 'latin1');
    for (let cut = 0; cut <= bytes.length; cut++) {
      const c = new IntReplySum();
      expect(c.feed(bytes, 0, cut) + c.feed(bytes, cut, bytes.length)).toBe(4);
      expect(c).toMatchObject({ replies: 4, errors: 1, sum: 15, firstError: '-ERR no' });
    }
  });
});

describe('bench:models', () => {
  test('runs every model in miniature and writes its table (into bench/results/tmp)', async () => {
    const script = fileURLToPath(new URL('../dist/cli/bench-models.js', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [script, '--quick', '--clients', '3', '--requests', '30']);
    const rows = stdout.split('\n').filter((l) => /^\| (event loop|thread per connection)/.test(l));
    expect(rows.map((r) => r.split(' | ')[0])).toEqual(['| event loop (poll)', '| event loop (epoll)', '| thread per connection']);
    // Three clients: the thread model runs a thread for each (plus the acceptor and Node's own).
    const threads = rows.map((r) => Number(r.split(' | ')[5]));
    expect(threads[2]).toBeGreaterThanOrEqual(threads[0] + 4);
  });
});
