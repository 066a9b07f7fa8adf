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
