// --trace-bytes: each read and write is followed by its bytes (hexdump -C's
// rows, at most 64 bytes, then "… (N more)"), and each read by where the
// requests in incoming end and how much is left unparsed.

import { expect, test } from 'vitest';
import { RawClient } from './helpers/proc.js';
import { startServer } from './helpers/server.js';

test('a request and a half in one write, then the rest: bytes, frame ends, unparsed count', async () => {
  const srv = await startServer(['--trace-bytes']);
  try {
    const c = await RawClient.connect(srv.respPort);
    const ping = '*1\r\n$4\r\nPING\r\n'; // 14 bytes
    const echo = `*2\r\n$4\r\nECHO\r\n$100\r\n${'x'.repeat(100)}\r\n`; // 122 bytes
    c.sock.write(ping + echo.slice(0, 10));
    await srv.waitForStderr('10 unparsed');
    let t = srv.stderr();
    const fd = /accept\(\d+\) = (\d+)/.exec(t)![1];
    expect(t).toContain(
      [
        `  read(${fd}, 65536) = 24`,
        `    fd ${fd} read 24 bytes:`,
        `      0000  2a 31 0d 0a 24 34 0d 0a  50 49 4e 47 0d 0a 2a 32  |*1..$4..PING..*2|`,
        `      0010  0d 0a 24 34 0d 0a 45 43                           |..$4..EC|`,
        `    fd ${fd}: 1 request (PING)`,
        `    fd ${fd}: incoming 24 bytes: request ends at byte 14; 10 unparsed`,
      ].join('\n'),
    );
    await c.waitFor(() => c.received.toString('latin1') === '+PONG\r\n', 'PONG');
    await srv.waitForStderr(`    fd ${fd} wrote 7 bytes:\n      0000  2b 50 4f 4e 47 0d 0a`);
    c.sock.write(echo.slice(10));
    await c.waitFor(() => c.received.length === 7 + 108, 'the ECHO reply');
    await srv.waitForStderr(/wrote 108 bytes:(\n.*){5}/);
    t = srv.stderr();
    // 112 new bytes, 64 shown: four rows, then the count of the rest.
    expect(t).toMatch(new RegExp(`read\\(${fd}, \\d+\\) = 112\\n    fd ${fd} read 112 bytes:\\n(      [0-9a-f]{4}  .*\\n){4}      … \\(48 more\\)\\n`));
    expect(t).toContain(`    fd ${fd}: incoming 122 bytes: request ends at byte 122; 0 unparsed`);
    expect(t).toMatch(/wrote 108 bytes:\n(      [0-9a-f]{4}  .*\n){4}      … \(44 more\)/);
    // Two requests in one read: both ends.
    c.sock.write(ping + ping);
    await srv.waitForStderr('requests end at bytes 14, 28; 0 unparsed');
    // The syscall lines are untouched: no byte rows among them.
    for (const line of srv.stderr().split('\n')) if (/^  \S/.test(line)) expect(line).toMatch(/^  \w+\(.*\) = /);
  } finally {
    await srv.stop();
  }
});
