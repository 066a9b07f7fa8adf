// --trace and --step, against the built server: the trace of a scripted
// session (connect, a pipelined pair of requests in one write, close) shows
// the loop's events in order; it agrees call for call with strace of the same
// run; --step runs exactly one iteration per line on stdin.

import { describe, expect, test } from 'vitest';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BookClient, startServer, type TestServer } from './helpers/server.js';
import { showCalls, straceCalls, straceWorks, traceCalls } from './helpers/strace.js';
import type { BookValue } from '../src/protocol/book.js';

const str = (s: string): BookValue => ({ type: 'str', value: Buffer.from(s, 'latin1') });
const nil: BookValue = { type: 'nil' };

/** Asserts that the patterns occur in `text` in this order; returns the index after the last. */
function expectInOrder(text: string, patterns: (string | RegExp)[], from = 0): number {
  let at = from;
  for (const p of patterns) {
    const rest = text.slice(at);
    const m = typeof p === 'string' ? { index: rest.indexOf(p), len: p.length } : ((r) => (r ? { index: r.index, len: r[0].length } : { index: -1, len: 0 }))(p.exec(rest));
    if (m.index < 0) throw new Error(`trace: expected ${p} after offset ${at}, in:\n${text}`);
    at += m.index + m.len;
  }
  return at;
}

/** The scripted session: connect, `set k v` + `get k` in one write, both replies, close. */
async function pipelinedSession(srv: TestServer): Promise<void> {
  const c = await BookClient.connect(srv.bookPort);
  c.send(['set', 'k', 'v'], ['get', 'k']);
  expect(await c.waitReplies(2)).toEqual([nil, str('v')]);
  c.sock.end();
  await c.waitClosed();
}

const iterations = (trace: string): number => (trace.match(/^#\d+/gm) ?? []).length;

describe('--trace', () => {
  test('a pipelined session: poll, accept, fcntl, read, 2 requests, write, EOF, close — in order', async () => {
    const srv = await startServer(['--no-resp', '--trace']);
    await pipelinedSession(srv);
    await srv.waitForStderr(/closed \(EOF\)/);
    const t = srv.stderr();
    const fd = /accept\(\d+\) = (\d+)/.exec(t)![1];
    expectInOrder(t, [
      /^#1 timeout -1 \(no timers\)$/m,
      /^  poll\(\[\d+:IN \d+:IN\], 2, -1\) = 1 \[\d+:IN\]$/m,
      `  accept(`,
      `  fcntl(${fd}, F_GETFL) = `,
      `  fcntl(${fd}, F_SETFL, `,
      `  setsockopt(${fd}, IPPROTO_TCP, TCP_NODELAY, 1) = 0`,
      /accept\(\d+\) = -1 EAGAIN/,
      /^#\d+ /m,
      new RegExp(`^  poll\\(\\[[^\\]]*${fd}:IN\\|ERR\\], 3, -1\\) = 1 \\[${fd}:IN\\]$`, 'm'),
      `  read(${fd}, 65536) = 45`,
      `    fd ${fd}: 2 requests (set, get)`,
      `    fd ${fd}: want read → write`,
      `  write(${fd}, 15) = 15`,
      `    fd ${fd}: want write → read`,
      /^#\d+ /m,
      `  read(${fd}, 65536) = 0 (EOF)`,
      `  close(${fd}) = 0`,
      `    fd ${fd}: closed (EOF)`,
    ]);
    expect(await srv.stop()).toBe(0);
  });

  test.skipIf(!straceWorks()).each([['--trace'], ['--step']])('every syscall the loop makes appears once, matching strace of the same run (%s)', async (flag) => {
    const dir = mkdtempSync(join(tmpdir(), 'redloop-strace-'));
    const file = join(dir, 'strace.log');
    try {
      const srv = await startServer(['--no-resp', flag], {
        prefix: ['strace', '-f', '-o', file, '-e', 'trace=poll,accept,accept4,read,write,close,fcntl,setsockopt'],
      });
      // --step: Enter typed ahead for the iterations below, then c to run freely
      // (the paused polls and the stdin reads are syscalls too).
      if (flag === '--step') srv.proc.stdin!.write('\n'.repeat(12));
      await pipelinedSession(srv);
      await pipelinedSession(srv);
      await srv.waitForStderr(/closed \(EOF\)[^]*closed \(EOF\)/);
      if (flag === '--step') {
        srv.proc.stdin!.write('c\n');
        await srv.waitForStderr('step: c: running freely');
      }
      // SIGINT to the server itself (srv.proc is strace): the signal pipe, then shutdown.
      process.kill(srv.pid, 'SIGINT');
      if (srv.proc.exitCode === null) await once(srv.proc, 'exit');
      const traced = showCalls(traceCalls(srv.stderr()));
      const straced = showCalls(straceCalls(readFileSync(file, 'utf8'), srv.pid));
      expect(traced.length).toBeGreaterThan(20);
      // After the loop, Node's own exit makes more calls (closing its fds): the
      // loop's part is the first traced.length calls, and they must agree.
      expect(straced.slice(0, traced.length)).toEqual(traced);
      if (flag === '--step') expect(traced.filter((c) => c.startsWith('read(0)')).length).toBeGreaterThanOrEqual(2);
      expect(new Set(traceCalls(srv.stderr()).map((c) => c.name))).toEqual(new Set(['poll', 'accept', 'fcntl', 'setsockopt', 'read', 'write', 'close']));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('--step', () => {
  test('one iteration per Enter; the paused poll holds only the signal pipe and stdin; c runs freely', async () => {
    const srv = await startServer(['--no-resp', '--step']);
    const stdin = srv.proc.stdin!;
    const prompt = (n: number) => `step: Enter runs iteration #${n},`;

    await srv.waitForStderr(prompt(1));
    expect(iterations(srv.stderr())).toBe(1);

    // Enter 1: iteration 1 runs; its poll (stdin included) waits for a client.
    stdin.write('\n');
    await srv.waitForStderr(/^    timeout -1 \(no timers\)$/m);
    const c = await BookClient.connect(srv.bookPort);
    await srv.waitForStderr(prompt(2));
    let t = srv.stderr();
    expect(iterations(t)).toBe(2);
    expectInOrder(t, [
      prompt(1),
      /^  poll\(\[\d+:IN 0:IN\], 2, -1\) = 1 \[0:IN\]$/m, // paused: signal pipe and stdin only
      '  read(0, 256) = 1',
      /^  poll\(\[\d+:IN \d+:IN 0:IN\], 3, -1\) = 1 \[\d+:IN\]$/m, // the iteration's own poll
      '  accept(',
      prompt(2),
    ]);

    // Requests sent while paused are handled by the one iteration Enter 2 releases.
    c.send(['set', 'k', 'v'], ['get', 'k']);
    stdin.write('\n');
    expect(await c.waitReplies(2)).toEqual([nil, str('v')]);
    await srv.waitForStderr(prompt(3));
    t = srv.stderr();
    expect(iterations(t)).toBe(3);
    expectInOrder(t, [prompt(2), '2 requests (set, get)', /write\(\d+, 15\) = 15/, prompt(3)]);

    // Enter 3: the client's EOF and the close.
    c.sock.end();
    stdin.write('\n');
    await c.waitClosed();
    await srv.waitForStderr(prompt(4));
    t = srv.stderr();
    expect(iterations(t)).toBe(4);
    expectInOrder(t, [prompt(3), '= 0 (EOF)', 'closed (EOF)', prompt(4)]);

    // c + Enter: no more pauses; a client is served with no further input.
    stdin.write('c\n');
    await srv.waitForStderr('step: c: running freely');
    const c2 = await BookClient.connect(srv.bookPort);
    expect(await c2.call('get', 'k')).toEqual(str('v'));
    c2.close();
    expect(srv.stderr()).not.toContain(prompt(5));
    expect(await srv.stop()).toBe(0);
  });

  test('stdin at EOF: stepping stops and the server runs freely', async () => {
    const srv = await startServer(['--no-resp', '--step']);
    await srv.waitForStderr('step: Enter runs iteration #1,');
    srv.proc.stdin!.end();
    await srv.waitForStderr('step: stdin closed: running freely');
    const c = await BookClient.connect(srv.bookPort);
    expect(await c.call('set', 'a', 'b')).toEqual(nil);
    expect(await c.call('get', 'a')).toEqual(str('b'));
    c.close();
    expect(await srv.stop()).toBe(0);
  });
});
