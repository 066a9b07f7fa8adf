// docs/walkthrough.md shows trace excerpts from real runs. These tests run the
// same scenarios and check that every excerpt line appears, in order, in a
// real trace (numbers — fds, sizes, timeouts, ports — normalised; a line
// ending in `= ...` matches by its start), so the sections cannot silently go
// stale: sections 2, 6 and 7 (one client's set), 3 and 4 (the blocking
// server, one client and then two), 8 (a pipelined pair, the fairness cap) and
// 10 (one BLPOP served by another client's LPUSH, a BLPOP timing out), the
// thread-per-connection section and the epoll one.
// Section 1 and section 7's strace output are strace's, not ours
// (test/trace.test.ts holds the trace against strace call for call).
// Section 8's third excerpt (an 8 MB value over many reads and partial writes)
// is left out: how the bytes split depends on socket buffers and on how fast
// the client reads, so no run reproduces it line for line.

import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { RawClient } from './helpers/proc.js';
import { BookClient, startServer, type TestServer } from './helpers/server.js';
import { encodeRequest } from '../src/protocol/book.js';

/** Numbers normalised; a `← comment` the walkthrough adds to a line dropped. */
const norm = (line: string): string =>
  line
    .replace(/\s+←.*$/, '')
    .trim()
    .replace(/\d+/g, 'N');

/** The fenced code blocks of the section whose heading starts with `## <n>.`. */
function sectionExcerpts(n: number | string = 10): string[][] {
  const text = readFileSync(new URL('../docs/walkthrough.md', import.meta.url), 'utf8');
  const start = text.indexOf(typeof n === 'number' ? `\n## ${n}.` : `\n## ${n}`);
  if (start < 0) throw new Error(`no section ${n} in docs/walkthrough.md`);
  const end = text.indexOf('\n## ', start + 1);
  const section = text.slice(start, end);
  const blocks = [...section.matchAll(/```\n([\s\S]*?)```/g)].map((m) => m[1].split('\n').filter((l) => l.trim() !== ''));
  return blocks;
}

/** Every line of each block appears in the server's trace, in order. */
function expectBlocksInTrace(srv: TestServer, blocks: string[][]): void {
  const trace = srv.stderr().split('\n').map(norm);
  let at = 0;
  for (const block of blocks) {
    for (const line of block) {
      const want = norm(line);
      const found = want.endsWith(' = ...') ? trace.findIndex((l, i) => i >= at && l.startsWith(want.slice(0, -3))) : trace.indexOf(want, at);
      if (found < 0) throw new Error(`walkthrough line not in the trace (after line ${at}): ${line}\n${srv.stderr()}`);
      at = found + 1;
    }
  }
}

/** Sends `requests` in one write, shuts the socket, and collects the reply bytes until the server closes. */
async function sendAndShut(port: number, requests: string[][]): Promise<Buffer> {
  const c = await RawClient.connect(port);
  c.sock.end(Buffer.concat(requests.map((r) => encodeRequest(r))));
  await c.waitFor(() => c.closed, 'the server closing');
  return c.received;
}

test('sections 2, 6 and 7 excerpts match a real --trace run of `redloop-cli set k v`', async () => {
  const srv = await startServer(['--trace', '--save', '']);
  try {
    const c = await BookClient.connect(srv.bookPort);
    expect(await c.call('set', 'k', 'v')).toEqual({ type: 'nil' });
    c.sock.end();
    await c.waitClosed();
    await srv.waitForStderr(/closed \(EOF\)\n#\d+ timeout -1 \(no timers\)\n/);
  } finally {
    // The next iteration's poll is printed when it returns: at the stop.
    await srv.stop();
  }
  expectBlocksInTrace(srv, [sectionExcerpts(2)[0]]);
  expectBlocksInTrace(srv, [sectionExcerpts(6)[0]]);
  expectBlocksInTrace(srv, [sectionExcerpts(7)[0]]);
});

test('sections 3 and 4 excerpts match a real run of the blocking server: one client, then a second stalled behind a first', async () => {
  const srv = await startServer(['--no-resp', '--mode', 'blocking', '--trace']);
  try {
    // Section 4: client 1 connects and stays; client 2's request waits in the backlog.
    const c1 = await RawClient.connect(srv.bookPort);
    await srv.waitForStderr('client 1 on fd');
    const c2 = await BookClient.connect(srv.bookPort);
    c2.send(['set', 'k', 'v']);
    c1.sock.end();
    expect(await c2.waitReplies(1)).toEqual([{ type: 'nil' }]);
    c2.sock.end();
    await c2.waitClosed();
    await srv.waitForStderr('client 2 gone');
    expectBlocksInTrace(srv, [sectionExcerpts(4)[1]]);
    // Section 3: one client's set, two reads and a write (client 2's, here).
    expectBlocksInTrace(srv, [sectionExcerpts(3)[0]]);
  } finally {
    await srv.stop();
  }
});

test('section 8 excerpts match a real --trace run: a pipelined pair, then 1500 gets in one write', async () => {
  const blocks = sectionExcerpts(8);
  expect(blocks.length).toBe(4);
  expect(blocks[0][0]).toContain("s.end(Buffer.concat([e(['set','k','v']), e(['get','k'])]))");
  const srv = await startServer(['--trace', '--save', '']);
  try {
    expect((await sendAndShut(srv.bookPort, [['set', 'k', 'v'], ['get', 'k']])).length).toBe(15);
    expect((await sendAndShut(srv.bookPort, Array.from({ length: 1500 }, () => ['get', 'k']))).length).toBe(15000);
    await srv.waitForStderr(/closed \(EOF\)[^]*closed \(EOF\)/);
    expectBlocksInTrace(srv, [blocks[1], blocks[2]]);
  } finally {
    await srv.stop();
  }
});

test('section 10 excerpts match a real --trace run of BLPOP, LPUSH and a timeout', async () => {
  const blocks = sectionExcerpts();
  expect(blocks.length).toBe(3);
  const srv = await startServer(['--trace', '--save', '']);
  try {
    const waiter = await RawClient.connect(srv.respPort);
    const pusher = await RawClient.connect(srv.respPort);
    // Both connected and served once, so the excerpts' iterations come after.
    for (const c of [waiter, pusher]) {
      c.sock.write('PING\r\n');
      await c.waitFor(() => c.received.toString('latin1') === '+PONG\r\n', 'PONG');
      c.received = Buffer.alloc(0);
    }
    waiter.sock.write('*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n5\r\n');
    // The next iteration's header names the BLPOP's timer. Its milliseconds are the time left
    // (ceil(deadline - now)): 5000 unless the server lost the CPU for a millisecond or more
    // between blocking the client and starting the iteration, as on a busy machine (then 4999,
    // 4985…). So wait for the header, not for the number; the excerpt check normalises numbers.
    await srv.waitForStderr(/#\d+ timeout \d+ \(BLPOP timeout of client \d+\)/);
    pusher.sock.write('*3\r\n$5\r\nLPUSH\r\n$1\r\nq\r\n$3\r\njob\r\n');
    await waiter.waitFor(() => waiter.received.toString('latin1') === '*2\r\n$1\r\nq\r\n$3\r\njob\r\n', 'the served reply');
    await srv.waitForStderr(/write\(\d+, 20\) = 20\n.*\n#\d+ timeout -1/);
    waiter.sock.write('*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$3\r\n0.2\r\n');
    await waiter.waitFor(() => waiter.received.toString('latin1').endsWith('*-1\r\n'), 'the timeout reply');
    await srv.waitForStderr(/write\(\d+, 5\) = 5/);
    expectBlocksInTrace(srv, blocks);
    waiter.sock.destroy();
    pusher.sock.destroy();
  } finally {
    await srv.stop();
  }
});

test('the thread-per-connection excerpt matches a real --trace run: a silent client, and one echoed', async () => {
  const srv = await startServer(['--no-resp', '--mode', 'thread-per-connection', '--trace']);
  try {
    const silent = await RawClient.connect(srv.bookPort);
    await srv.waitForStderr(/\[acceptor\] accept/);
    const c = await RawClient.connect(srv.bookPort);
    c.sock.end(Buffer.from([5, 0, 0, 0, ...Buffer.from('hello')]));
    await c.waitFor(() => c.closed, 'the echo and the close');
    await srv.waitForStderr(/\[thread 2\] close\(\d+\) = 0/);
    expectBlocksInTrace(srv, sectionExcerpts('Concurrency models, measured'));
    silent.sock.destroy();
  } finally {
    await srv.stop();
  }
});

test("the epoll section's excerpt matches a real --loop epoll --trace run of `redloop-cli set k v`", async () => {
  const srv = await startServer(['--loop', 'epoll', '--trace']);
  try {
    const c = await BookClient.connect(srv.bookPort);
    expect(await c.call('set', 'k', 'v')).toEqual({ type: 'nil' });
    c.sock.end();
    await c.waitClosed();
    await srv.waitForStderr(/closed \(EOF\)/);
    expectBlocksInTrace(srv, [sectionExcerpts('Afterwards: the same loop on epoll')[0]]);
  } finally {
    await srv.stop();
  }
});

test("section 11 excerpts match a real --trace run of BGSAVE: the writer thread's pipe in the poll set", async () => {
  const all = sectionExcerpts(11);
  expect(all.length).toBe(3);
  const blocks = all.slice(0, 2);
  const srv = await startServer(['--trace', '--save', '']);
  try {
    const c = await RawClient.connect(srv.respPort);
    c.sock.write('*3\r\n$3\r\nset\r\n$1\r\nk\r\n$1\r\nv\r\n');
    await c.waitFor(() => c.received.toString('latin1') === '+OK\r\n', 'OK');
    c.sock.write('*1\r\n$6\r\nbgsave\r\n'); // lowercase, as redis-cli sends what was typed
    await c.waitFor(() => c.received.toString('latin1').endsWith('+Background saving started\r\n'), 'BGSAVE');
    // The client stays connected, as redis-cli's session does in the walkthrough.
    await srv.waitForStderr('Background saving terminated with success');
    expectBlocksInTrace(srv, blocks);
    c.sock.destroy();
  } finally {
    await srv.stop();
  }
});

test('section 11 BGREWRITEAOF excerpt matches a real --trace run: the rewrite on the same thread and pipe', async () => {
  const blocks = sectionExcerpts(11).slice(2);
  const srv = await startServer(['--trace', '--save', '', '--appendonly', 'yes']);
  try {
    const c = await RawClient.connect(srv.respPort);
    c.sock.write('*3\r\n$3\r\nset\r\n$1\r\nk\r\n$1\r\nv\r\n');
    await c.waitFor(() => c.received.toString('latin1') === '+OK\r\n', 'OK');
    c.sock.write('*1\r\n$12\r\nbgrewriteaof\r\n');
    await c.waitFor(() => c.received.toString('latin1').endsWith('+Background append only file rewriting started\r\n'), 'BGREWRITEAOF');
    await srv.waitForStderr('Background AOF rewrite finished successfully');
    // The trace of an iteration is printed as it ends, after the log lines written during it.
    await srv.waitForStderr('writer thread: job 1 committed');
    expectBlocksInTrace(srv, blocks);
    c.sock.destroy();
  } finally {
    await srv.stop();
  }
});
