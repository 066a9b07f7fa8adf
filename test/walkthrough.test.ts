// docs/walkthrough.md shows trace excerpts from real runs. These tests run the
// same scenarios and check that every excerpt line appears, in order, in a
// real trace (numbers — fds, sizes, timeouts — normalised), so the sections
// cannot silently go stale: section 8 (a pipelined pair, the fairness cap) and
// section 10 (one BLPOP served by another client's LPUSH, a BLPOP timing out).
// Section 8's third excerpt (an 8 MB value over many reads and partial writes)
// is left out: how the bytes split depends on socket buffers and on how fast
// the client reads, so no run reproduces it line for line.

import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { RawClient } from './helpers/proc.js';
import { startServer, type TestServer } from './helpers/server.js';
import { encodeRequest } from '../src/protocol/book.js';

const norm = (line: string): string => line.trim().replace(/\d+/g, 'N');

/** The fenced code blocks of the section whose heading starts with `## <n>.`. */
function sectionExcerpts(n = 10): string[][] {
  const text = readFileSync(new URL('../docs/walkthrough.md', import.meta.url), 'utf8');
  const start = text.indexOf(`\n## ${n}.`);
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
      const found = trace.indexOf(norm(line), at);
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

test('section 8 excerpts match a real --trace run: a pipelined pair, then 1500 gets in one write', async () => {
  const blocks = sectionExcerpts(8);
  expect(blocks.length).toBe(4);
  expect(blocks[0][0]).toContain("s.end(Buffer.concat([e(['set','k','v']), e(['get','k'])]))");
  const srv = await startServer(['--trace']);
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
  const srv = await startServer(['--trace']);
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
    await srv.waitForStderr('timeout 5000 (BLPOP timeout of client');
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
