// docs/walkthrough.md section 10 shows trace excerpts of one BLPOP served by
// another client's LPUSH, and of a BLPOP timing out. This runs the same
// scenario and checks that every excerpt line appears, in order, in a real
// trace (numbers — fds, sizes, timeouts — normalised), so the section cannot
// silently go stale.

import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { RawClient } from './helpers/proc.js';
import { startServer } from './helpers/server.js';

const norm = (line: string): string => line.trim().replace(/\d+/g, 'N');

/** The fenced code blocks of the section whose heading starts with `## 10.`. */
function sectionExcerpts(): string[][] {
  const text = readFileSync(new URL('../docs/walkthrough.md', import.meta.url), 'utf8');
  const start = text.indexOf('\n## 10.');
  const end = text.indexOf('\n## ', start + 1);
  const section = text.slice(start, end);
  const blocks = [...section.matchAll(/```\n([\s\S]*?)```/g)].map((m) => m[1].split('\n').filter((l) => l.trim() !== ''));
  return blocks;
}

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
    const trace = srv.stderr().split('\n').map(norm);
    let at = 0;
    for (const block of blocks) {
      for (const line of block) {
        const want = norm(line);
        const found = trace.indexOf(want, at);
        if (found < 0) throw new Error(`walkthrough line not in the trace (after line ${at}): ${line}\n${srv.stderr()}`);
        at = found + 1;
      }
    }
    waiter.sock.destroy();
    pusher.sock.destroy();
  } finally {
    await srv.stop();
  }
});
