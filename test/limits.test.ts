// Limits over real sockets against the spawned server: maxclients (and its
// clamp to RLIMIT_NOFILE), the hard client output buffer limit with memory
// bounded, fairness between a huge pipeline and a single request, accept at
// EMFILE without spinning, AUTH and protected mode.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import { BookClient, startServer, type TestServer } from './helpers/server.js';
import { CLK_TCK, cpuTicks, fdCount, procStatusBytes, RawClient, waitUntil } from './helpers/proc.js';
import { decodeResponse, encodeRequest, type BookValue } from '../src/protocol/book.js';

const nil: BookValue = { type: 'nil' };
const str = (s: string): BookValue => ({ type: 'str', value: Buffer.from(s, 'latin1') });
const MiB = 1 << 20;

describe.each(['poll', 'epoll', 'libuv'])('maxclients (--loop %s)', (loop) => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer(['--maxclients', '3', '--loop', loop]);
  });
  afterAll(async () => {
    await srv.stop();
  });

  test('beyond it RESP gets the error then close, the book port just closes; existing clients unaffected', async () => {
    const base = fdCount(srv.pid);
    const clients = await Promise.all([0, 1, 2].map(() => BookClient.connect(srv.bookPort)));
    // A reply proves each was accepted (and counted) before the next step.
    for (const [i, c] of clients.entries()) expect(await c.call('set', `mc${i}`, `v${i}`)).toEqual(nil);

    const resp = await RawClient.connect(srv.respPort);
    await resp.waitClosed();
    expect(resp.received.toString('latin1')).toBe('-ERR max number of clients reached\r\n');

    const book = await RawClient.connect(srv.bookPort);
    await book.waitClosed();
    expect(book.received.length).toBe(0);

    for (const [i, c] of clients.entries()) expect(await c.call('get', `mc${i}`)).toEqual(str(`v${i}`));

    // A slot freed is a slot available again.
    clients[0].close();
    await waitUntil(() => fdCount(srv.pid) <= base + 2, 'the server to close the freed connection');
    const again = await BookClient.connect(srv.bookPort);
    expect(await again.call('get', 'mc1')).toEqual(str('v1'));
    again.close();
    clients[1].close();
    clients[2].close();
  });
});

test.each(['poll', 'libuv'])('maxclients is clamped to RLIMIT_NOFILE minus a reserve, with a log line (--loop %s)', async (loop) => {
  const srv = await startServer(['--maxclients', '10000', '--loop', loop], { prefix: ['prlimit', '--nofile=100:100'] });
  try {
    await srv.waitForStderr(/maxclients 10000 needs 10032 file descriptors but the limit is 100 \(hard 100\); maxclients reduced to 68/);
    const c = await BookClient.connect(srv.bookPort);
    expect(await c.call('get', 'x')).toEqual(nil);
    c.close();
  } finally {
    await srv.stop();
  }
});

test('the soft fd limit is raised toward the hard limit before clamping', async () => {
  const srv = await startServer(['--maxclients', '200'], { prefix: ['prlimit', '--nofile=64:4096'] });
  try {
    const c = await BookClient.connect(srv.bookPort);
    expect(await c.call('get', 'x')).toEqual(nil);
    c.close();
    const limits = execFileSync('prlimit', ['--pid', String(srv.pid), '--nofile', '--noheadings', '--raw', '--output', 'SOFT,HARD'], { encoding: 'utf8' });
    // (Node itself may already have raised it all the way.)
    const [soft, hard] = limits.trim().split(/\s+/).map(Number);
    expect(hard).toBe(4096);
    expect(soft).toBeGreaterThanOrEqual(232);
    expect(srv.stderr()).not.toContain('maxclients reduced');
  } finally {
    await srv.stop();
  }
});

test.each(['poll', 'epoll', 'libuv'])('a client pipelining GETs of a 1 MiB value without reading is cut off at the output limit; memory stays bounded (--loop %s)', async (loop) => {
  const limit = 8 * MiB;
  const gets = 200; // 200 MiB of replies if nothing stopped them
  const srv = await startServer(['--client-output-buffer-limit', String(limit), '--loop', loop]);
  try {
    const ctl = await BookClient.connect(srv.bookPort);
    const value = 'x'.repeat(MiB);
    expect(await ctl.call('set', 'big', value)).toEqual(nil);
    expect(await ctl.call('set', 'small', 'intact')).toEqual(nil);
    const peakBefore = procStatusBytes(srv.pid, 'VmHWM');

    const hog = await RawClient.connect(srv.bookPort);
    hog.sock.pause(); // never read
    const one = encodeRequest(['get', 'big']);
    hog.sock.write(Buffer.concat(Array.from({ length: gets }, () => one)));
    await srv.waitForStderr(/output buffer over the limit \(\d+ > 8388608 bytes\)/);
    hog.sock.resume();
    await hog.waitClosed();
    // What did arrive is far less than what was asked for.
    expect(hog.received.length).toBeLessThan(gets * MiB);

    const growth = procStatusBytes(srv.pid, 'VmHWM') - peakBefore;
    // Bounded by the limit (the buffer may double past it) plus slack — not by 200 MiB.
    expect(growth).toBeLessThan(4 * limit + 32 * MiB);

    expect(await ctl.call('get', 'small')).toEqual(str('intact'));
    const again = await ctl.call('get', 'big');
    expect(again.type === 'str' && again.value.length).toBe(MiB);
    ctl.close();
  } finally {
    await srv.stop();
  }
});

test.each(['poll', 'epoll'])("fairness: one connection's huge pipeline does not starve another client (--loop %s)", async (loop) => {
  const srv = await startServer(['--loop', loop]);
  try {
    const n = 100_000;
    const big = await BookClient.connect(srv.bookPort);
    const other = await BookClient.connect(srv.bookPort);
    const one = encodeRequest(['get', 'nosuchkey']);
    const firstReply = big.waitReplies(1, 30_000);
    big.sock.write(Buffer.concat(Array.from({ length: n }, () => one)));
    await firstReply;
    // The big pipeline is under way: the other client's single request must be
    // answered before it finishes.
    let bigCountWhenOtherAnswered = -1;
    const answered = other.call('set', 'fair', 'yes').then((r) => {
      bigCountWhenOtherAnswered = big.replies.length;
      return r;
    });
    expect(await answered).toEqual(nil);
    await big.waitReplies(n, 60_000);
    expect(bigCountWhenOtherAnswered).toBeGreaterThan(0);
    expect(bigCountWhenOtherAnswered).toBeLessThan(n);
    big.close();
    other.close();
  } finally {
    await srv.stop();
  }
});

test.each(['poll', 'epoll'])('accept at EMFILE: excess clients are accepted and closed, the loop stays responsive, logs once, does not spin (--loop %s)', async (loop) => {
  const srv = await startServer(['--loop', loop]);
  try {
    const early = await BookClient.connect(srv.bookPort);
    expect(await early.call('set', 'emfile', 'ok')).toEqual(nil);
    // Lower the running server's fd limit to just above what it has open.
    const open = fdCount(srv.pid);
    const lim = open + 4;
    execFileSync('prlimit', ['--pid', String(srv.pid), `--nofile=${lim}:${lim}`]);

    const tries = 30;
    const clients = await Promise.all(Array.from({ length: tries }, () => RawClient.connect(srv.bookPort)));
    const req = encodeRequest(['get', 'emfile']);
    for (const c of clients) c.sock.write(req);
    // Each is either served (reply: 4 + 1 + 4 + 2 bytes) or closed by the server.
    await Promise.all(clients.map((c) => c.waitFor(() => c.closed || c.received.length >= 11, 'served or closed')));
    const served = clients.filter((c) => !c.closed).length;
    const refused = clients.filter((c) => c.closed && c.received.length === 0).length;
    expect(served).toBeGreaterThan(0);
    expect(served).toBeLessThan(tries / 2);
    expect(served + refused).toBe(tries);
    await srv.waitForStderr('out of file descriptors');

    // Over a quiet second the server must be mostly idle: a spinning poll() would be ~100%.
    const t0 = cpuTicks(srv.pid);
    const w0 = Date.now();
    await new Promise((r) => setTimeout(r, 1000));
    const cpu = (cpuTicks(srv.pid) - t0) / CLK_TCK / ((Date.now() - w0) / 1000);
    expect(cpu).toBeLessThan(0.5);

    expect(await early.call('get', 'emfile')).toEqual(str('ok'));
    expect(srv.stderr().match(/out of file descriptors/g)?.length).toBe(1);

    // Freeing fds lets new clients in again.
    for (const c of clients) c.sock.destroy();
    await waitUntil(() => fdCount(srv.pid) < lim - 1, 'the server to close the served clients');
    const late = await BookClient.connect(srv.bookPort);
    expect(await late.call('get', 'emfile')).toEqual(str('ok'));
    late.close();
    early.close();
  } finally {
    await srv.stop();
  }
});

describe('AUTH on the book port', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer(['--requirepass', 's3cret']);
  });
  afterAll(async () => {
    await srv.stop();
  });

  test('commands are refused until auth succeeds', async () => {
    const c = await BookClient.connect(srv.bookPort);
    expect(await c.call('get', 'k')).toEqual({ type: 'err', code: 1, msg: "NOAUTH Authentication required: send 'auth <password>' first." });
    expect(await c.call('auth', 'wrong')).toEqual({ type: 'err', code: 4, msg: 'WRONGPASS invalid password' });
    expect(await c.call('set', 'k', 'v')).toMatchObject({ type: 'err', code: 1 });
    expect(await c.call('auth', 's3cret')).toEqual(str('OK'));
    expect(await c.call('set', 'k', 'v')).toEqual(nil);
    expect(await c.call('get', 'k')).toEqual(str('v'));
    c.close();
    // Authentication is per connection.
    const d = await BookClient.connect(srv.bookPort);
    expect(await d.call('get', 'k')).toMatchObject({ type: 'err', code: 1 });
    d.close();
  });
});

test('auth without --requirepass is an error that says so', async () => {
  const srv = await startServer([]);
  try {
    const c = await BookClient.connect(srv.bookPort);
    const r = await c.call('auth', 'x');
    expect(r).toMatchObject({ type: 'err', code: 4 });
    expect((r as { msg: string }).msg).toContain('--requirepass');
    c.close();
  } finally {
    await srv.stop();
  }
});

/** A non-loopback IPv4 address of this machine, if it has one. */
function externalAddress(): string | null {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return null;
}

describe.skipIf(externalAddress() === null)('protected mode', () => {
  const ext = externalAddress()!;

  test.each(['poll', 'libuv'])('bound to 0.0.0.0 with no password: non-loopback clients are refused with directions, loopback ones served (--loop %s)', async (loop) => {
    const srv = await startServer(['--bind', '0.0.0.0', '--loop', loop]);
    try {
      const resp = await RawClient.connect(srv.respPort, ext);
      await resp.waitClosed();
      const text = resp.received.toString('latin1');
      expect(text).toMatch(/^-DENIED Redloop is running in protected mode because/);
      expect(text).toContain('--requirepass');
      expect(text).toContain('--protected-mode no');
      expect(text.endsWith('\r\n')).toBe(true);

      const book = await RawClient.connect(srv.bookPort, ext);
      await book.waitClosed();
      expect(book.received.length).toBe(0);
      await srv.waitForStderr('protected mode');

      const local = await BookClient.connect(srv.bookPort);
      expect(await local.call('get', 'k')).toEqual(nil);
      local.close();
    } finally {
      await srv.stop();
    }
  });

  test('with --requirepass (or --protected-mode no) non-loopback clients are served', async () => {
    for (const flags of [['--requirepass', 'pw'], ['--protected-mode', 'no']]) {
      const srv = await startServer(['--bind', '0.0.0.0', ...flags]);
      try {
        const c = await RawClient.connect(srv.bookPort, ext);
        c.sock.write(encodeRequest(['get', 'k']));
        await c.waitFor(() => decodeResponse(c.received) !== null || c.closed, 'a reply');
        const r = decodeResponse(c.received)?.value;
        expect(r).toEqual(flags[0] === '--requirepass' ? expect.objectContaining({ type: 'err' }) : nil);
        c.sock.destroy();
      } finally {
        await srv.stop();
      }
    }
  });
});

describe('RESP query limits and AUTH', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer(['--proto-max-bulk-len', '1000', '--requirepass', 'pw']);
  });
  afterAll(async () => {
    await srv.stop();
  });

  /** Sends bytes on a new RESP connection; resolves with everything received once the server closes. */
  async function sendAndClose(bytes: string): Promise<string> {
    const c = await RawClient.connect(srv.respPort);
    c.sock.write(Buffer.from(bytes, 'latin1'));
    await c.waitClosed();
    return c.received.toString('latin1');
  }

  test.each([
    ['an inline request over 64 KiB', 'x'.repeat(65 * 1024), '-ERR Protocol error: too big inline request\r\n'],
    ['a bulk over --proto-max-bulk-len', '*2\r\n$3\r\nGET\r\n$1001\r\n', '-ERR Protocol error: invalid bulk length\r\n'],
    ['a multibulk count over INT_MAX', '*2147483648\r\n', '-ERR Protocol error: invalid multibulk length\r\n'],
    ['a negative bulk length', '*1\r\n$-5\r\n', '-ERR Protocol error: invalid bulk length\r\n'],
    // Before AUTH, Redis's small limits: a stranger cannot make the server buffer much.
    ['11 arguments before AUTH', '*11\r\n', '-ERR Protocol error: unauthenticated multibulk length\r\n'],
    ['a huge multibulk count before AUTH', '*2147483647\r\n$2\r\nab\r\n', '-ERR Protocol error: unauthenticated multibulk length\r\n'],
  ])('%s gets Redis\'s protocol error, then the connection closes', async (_name, bytes, reply) => {
    expect(await sendAndClose(bytes)).toBe(reply);
  });

  test('a bulk at the limit is accepted (and refused only for want of AUTH)', async () => {
    const c = await RawClient.connect(srv.respPort);
    c.sock.write(Buffer.from(`*2\r\n$4\r\nECHO\r\n$1000\r\n${'e'.repeat(1000)}\r\n`, 'latin1'));
    await c.waitBytes(3);
    expect(c.received.toString('latin1')).toBe('-NOAUTH Authentication required.\r\n');
    c.sock.destroy();
  });

  test('before AUTH a bulk over 16 KiB is refused; after AUTH the server\'s own limit applies', async () => {
    const big = await startServer(['--requirepass', 'pw']);
    try {
      const c = await RawClient.connect(big.respPort);
      c.sock.write('*2\r\n$4\r\nECHO\r\n$16385\r\n');
      await c.waitClosed();
      expect(c.received.toString('latin1')).toBe('-ERR Protocol error: unauthenticated bulk length\r\n');
      const d = await RawClient.connect(big.respPort);
      const value = 'v'.repeat(100_000);
      d.sock.write(`AUTH pw\r\n*2\r\n$4\r\nECHO\r\n$${value.length}\r\n${value}\r\n`);
      const expected = `+OK\r\n$${value.length}\r\n${value}\r\n`;
      await d.waitFor(() => d.received.length >= expected.length, 'AUTH and ECHO replies');
      expect(d.received.toString('latin1')).toBe(expected);
      d.sock.destroy();
    } finally {
      await big.stop();
    }
  });

  test('AUTH and HELLO AUTH gate the RESP commands', async () => {
    const c = await RawClient.connect(srv.respPort);
    const exchange = async (cmd: string, expected: string | RegExp) => {
      const before = c.received.length;
      c.sock.write(cmd);
      await c.waitFor(() => c.received.subarray(before).includes('\r\n'), cmd.trim());
      const got = c.received.subarray(before).toString('latin1');
      if (typeof expected === 'string') expect(got).toBe(expected);
      else expect(got).toMatch(expected);
    };
    await exchange('GET k\r\n', '-NOAUTH Authentication required.\r\n');
    await exchange('AUTH nope\r\n', /^-WRONGPASS /);
    await exchange('AUTH pw\r\n', '+OK\r\n');
    await exchange('GET k\r\n', '$-1\r\n');
    c.sock.destroy();
    const d = await RawClient.connect(srv.respPort);
    d.sock.write('HELLO 2 AUTH default pw\r\n');
    await d.waitFor(() => d.received.includes('\r\n'), 'HELLO reply');
    expect(d.received.toString('latin1')).toMatch(/^\*\d+\r\n/);
    d.sock.destroy();
  });
});

test('huge declared lengths on live connections allocate nothing by them (peak RSS stays flat)', async () => {
  const srv = await startServer([]);
  try {
    const ctl = await BookClient.connect(srv.bookPort);
    expect(await ctl.call('get', 'x')).toEqual(nil);
    const peakBefore = procStatusBytes(srv.pid, 'VmHWM');
    const conns: RawClient[] = [];
    for (let i = 0; i < 40; i++) {
      const book = await RawClient.connect(srv.bookPort);
      const hdr = Buffer.alloc(12);
      hdr.writeUInt32LE(32 << 20, 0); // exactly the largest allowed frame...
      hdr.writeUInt32LE(200_000, 4);
      hdr.writeUInt32LE(1 << 30, 8); // ...of which 12 bytes ever arrive
      book.sock.write(hdr);
      const resp = await RawClient.connect(srv.respPort);
      resp.sock.write('*200000\r\n$536870912\r\nabc');
      conns.push(book, resp);
    }
    // Those bytes sat in the server's receive queues (loopback delivers during write())
    // before the control request was sent: by its reply, the loop has read them all.
    expect(await ctl.call('get', 'x')).toEqual(nil);
    const growth = procStatusBytes(srv.pid, 'VmHWM') - peakBefore;
    // 40 × (32 MiB + 512 MiB) if lengths were trusted; a few 64 KiB read buffers if not.
    expect(growth).toBeLessThan(32 * MiB);
    for (const c of conns) expect(c.closed).toBe(false);
    for (const c of conns) c.sock.destroy();
    ctl.close();
  } finally {
    await srv.stop();
  }
});

test.each(['poll', 'epoll', 'libuv'])('a request that would hold more than --client-query-buffer-limit closes that connection only (--loop %s)', async (loop) => {
  const srv = await startServer(['--loop', loop, '--client-query-buffer-limit', String(MiB)]);
  try {
    const ctl = await BookClient.connect(srv.bookPort);
    // Under the limit: fine.
    const v = 'v'.repeat(900 * 1024);
    expect(await ctl.call('set', 'q', v)).toEqual(nil);

    const resp = await RawClient.connect(srv.respPort);
    resp.sock.write(Buffer.from('*3\r\n$3\r\nSET\r\n$1\r\nq\r\n$4000000\r\n', 'latin1'));
    resp.sock.write(Buffer.alloc(2 * MiB, 0x78));
    await resp.waitClosed();
    expect(resp.received.length).toBe(0);

    const book = await RawClient.connect(srv.bookPort);
    const hdr = Buffer.alloc(4);
    hdr.writeUInt32LE(4 * MiB);
    book.sock.write(hdr);
    book.sock.write(Buffer.alloc(2 * MiB, 0x78));
    await book.waitClosed();
    expect(book.received.length).toBe(0);

    await srv.waitForStderr(/query buffer over the limit \(\d+ > 1048576 bytes\)/);
    const got = await ctl.call('get', 'q');
    expect(got.type === 'str' && got.value.length).toBe(v.length);
    ctl.close();
  } finally {
    await srv.stop();
  }
});

test.each(['poll', 'libuv'])('SIGHUP and SIGUSR1 are ignored: the server keeps serving, no inspector opens (--loop %s)', async (loop) => {
  const srv = await startServer(['--loop', loop]);
  try {
    process.kill(srv.pid, 'SIGHUP');
    process.kill(srv.pid, 'SIGUSR1');
    const c = await BookClient.connect(srv.bookPort);
    expect(await c.call('set', 'k', 'v')).toEqual(nil);
    expect(await c.call('get', 'k')).toEqual(str('v'));
    c.close();
    // Node prints "Debugger listening on ws://…" when SIGUSR1 opens the inspector.
    expect(srv.stderr()).not.toContain('Debugger listening');
    expect(srv.proc.exitCode).toBeNull();
  } finally {
    expect(await srv.stop()).toBe(0);
  }
});

test('TCP keepalive on accepted sockets: 300 s by default (as Redis), off with --tcp-keepalive 0', async () => {
  for (const [flags, expected] of [[[], '300'], [['--tcp-keepalive', '60'], '60'], [['--tcp-keepalive', '0'], null]] as const) {
    const srv = await startServer(['--no-resp', '--trace', ...flags]);
    try {
      const c = await BookClient.connect(srv.bookPort);
      expect(await c.call('get', 'k')).toEqual(nil);
      c.close();
      // The reply's write is traced after the accept and its setsockopt calls.
      await srv.waitForStderr(/^  write\(\d+, \d+\) = \d+$/m);
      const t = srv.stderr();
      if (expected === null) expect(t).not.toContain('SO_KEEPALIVE');
      else {
        expect(t).toMatch(/setsockopt\(\d+, SOL_SOCKET, SO_KEEPALIVE, 1\) = 0/);
        expect(t).toMatch(new RegExp(`setsockopt\\(\\d+, IPPROTO_TCP, TCP_KEEPIDLE, ${expected}\\) = 0`));
        expect(t).toMatch(/setsockopt\(\d+, IPPROTO_TCP, TCP_KEEPCNT, 3\) = 0/);
      }
    } finally {
      await srv.stop();
    }
  }
});
