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
import { checkTargets, markdown, type SuiteRun } from '../src/bench/report.js';
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
});
