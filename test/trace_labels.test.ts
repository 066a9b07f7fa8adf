// --trace names fds: each labelled fd the first time it appears in an
// iteration (a note under the syscall line, or in the first note mentioning
// it), while the syscall lines keep strace's shape.

import { expect, test } from 'vitest';
import { RawClient } from './helpers/proc.js';
import { startServer } from './helpers/server.js';

/** The lines of iteration blocks, split at `#n`. */
const blocks = (t: string): string[] => t.split(/^(?=#\d+ )/m).filter((b) => b.startsWith('#'));

test('listeners, signal pipe and a RESP client are named, once per iteration, after their first syscall line', async () => {
  const srv = await startServer(['--trace']);
  try {
    const c = await RawClient.connect(srv.respPort);
    const port = c.sock.localPort;
    c.sock.write('*1\r\n$4\r\nPING\r\n');
    await c.waitFor(() => c.received.toString('latin1') === '+PONG\r\n', 'PONG');
    c.sock.end();
    await c.waitFor(() => c.closed, 'close');
    await srv.waitForStderr(/closed \(EOF\)/);
    const t = srv.stderr();
    const fd = /accept\(\d+\) = (\d+)/.exec(t)![1];
    const [book, resp, sig] = /^  poll\(\[(\d+):IN (\d+):IN (\d+):IN\], 3, -1\)/m.exec(t)!.slice(1);
    // The first iteration's poll is followed by the names of its three fds.
    expect(t).toMatch(new RegExp(`^  poll\\(\\[${book}:IN ${resp}:IN ${sig}:IN\\], 3, -1\\) = 1 \\[${resp}:IN\\]\\n    fd ${book} book-listener, fd ${resp} resp-listener, fd ${sig} signal-pipe$`, 'm'));
    // Once open, the client is named with its address and protocol (its port is our socket's).
    expect(t).toContain(`    fd ${fd} client 127.0.0.1:${port} (resp)\n  accept(${resp}) = -1 EAGAIN`);
    // Each fd is named at most once per iteration.
    for (const b of blocks(t)) {
      for (const label of ['book-listener', 'resp-listener', 'signal-pipe', 'client 127.0.0.1']) {
        expect(b.split(label).length - 1).toBeLessThanOrEqual(1);
      }
    }
    // The read iteration: named by the poll, so the request note keeps its short form.
    const served = blocks(t).find((b) => b.includes('1 request (PING)'))!;
    expect(served).toContain(`fd ${fd} client 127.0.0.1:${port} (resp)`);
    expect(served).toContain(`    fd ${fd}: 1 request (PING)`);
  } finally {
    await srv.stop();
  }
});

test('--step names stdin', async () => {
  const srv = await startServer(['--no-resp', '--step']);
  try {
    await srv.waitForStderr('step: Enter runs iteration #1,');
    srv.proc.stdin!.write('\n');
    await srv.waitForStderr(/fd 0 stdin/);
    expect(srv.stderr()).toMatch(/^  poll\(\[\d+:IN 0:IN\], 2, -1\) = 1 \[0:IN\]\n    fd \d+ signal-pipe, fd 0 stdin$/m);
  } finally {
    await srv.stop();
  }
});
