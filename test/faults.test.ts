// Faults over real sockets against the spawned server: a peer that resets
// mid-request or mid-reply, half-closes after sending, hangs up with data
// unread, or is stopped with kill -STOP; the server itself stopped and
// continued; oversized and malformed frames. Each must cost only the
// connection concerned: the server keeps answering and gives its fds back.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { BookClient, startServer, type TestServer } from './helpers/server.js';
import { fdCount, RawClient, waitUntil } from './helpers/proc.js';
import { encodeRequest, K_MAX_MSG, type BookValue } from '../src/protocol/book.js';

const nil: BookValue = { type: 'nil' };
const str = (s: string): BookValue => ({ type: 'str', value: Buffer.from(s, 'latin1') });

describe.each(['poll', 'epoll', 'libuv'])('faults (--loop %s)', (loop) => {
  let srv: TestServer;
  let ctl: BookClient;
  let baseFds = 0;
  beforeAll(async () => {
    srv = await startServer(['--loop', loop]);
    ctl = await BookClient.connect(srv.bookPort);
    expect(await ctl.call('set', 'canary', 'alive')).toEqual(nil);
    baseFds = fdCount(srv.pid);
  });
  afterAll(async () => {
    ctl.close();
    expect(await srv.stop()).toBe(0);
  });

  /** The server still answers, the canary is intact and no fd leaked. */
  async function healthy(): Promise<void> {
    expect(await ctl.call('get', 'canary')).toEqual(str('alive'));
    await waitUntil(() => fdCount(srv.pid) === baseFds, `fd count back to ${baseFds}`);
  }

  test('a client that never closes its side is still closed after a final reply (protocol error, QUIT)', async () => {
    // allowHalfOpen: these clients do not answer the server's FIN with their own.
    const sockets = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        new Promise<Socket>((resolve) => {
          const s = connect({ port: srv.respPort, host: '127.0.0.1', allowHalfOpen: true }, () => resolve(s));
          s.on('error', () => {});
          s.on('data', () => {});
          s.write(i % 2 ? 'QUIT\r\n' : '*1\r\n$x\r\n');
        }),
      ),
    );
    // The server closes its fd altogether, not just its sending half.
    await healthy();
    for (const s of sockets) s.destroy();
  });

  test('peer reset mid-request closes just that connection', async () => {
    const c = await RawClient.connect(srv.bookPort);
    const req = encodeRequest(['set', 'half', 'x'.repeat(1000)]);
    c.sock.write(req.subarray(0, 500));
    await waitUntil(() => fdCount(srv.pid) === baseFds + 1, 'the connection to be accepted');
    c.sock.resetAndDestroy();
    await healthy();
    expect(await ctl.call('get', 'half')).toEqual(nil);
  });

  test('peer reset mid-reply (ECONNRESET/EPIPE on write) closes just that connection', async () => {
    const big = 'y'.repeat(4 << 20);
    expect(await ctl.call('set', 'big', big)).toEqual(nil);
    const c = await RawClient.connect(srv.bookPort);
    const get = encodeRequest(['get', 'big']);
    c.sock.write(Buffer.concat([get, get, get, get]));
    await c.waitBytes(64 * 1024);
    c.sock.resetAndDestroy();
    await healthy();
    expect(await ctl.call('del', 'big')).toEqual({ type: 'int', value: 1n });
  });

  test('a client that half-closes after sending a pipeline gets every reply, then the server closes', async () => {
    // 5000 requests: more than one event's cap (1000), so the rest are served
    // as pending work after the peer's EOF.
    const n = 5000;
    const c = await BookClient.connect(srv.bookPort);
    const reqs: string[][] = [];
    for (let i = 0; i < n; i++) reqs.push(i % 2 === 0 ? ['set', `hc${i}`, `${i}`] : ['get', `hc${i - 1}`]);
    c.send(...reqs);
    c.sock.end();
    await c.waitClosed();
    expect(c.replies.length).toBe(n);
    expect(c.replies[n - 1]).toEqual(str(`${n - 2}`));
    await healthy();
  });

  test('a half-close in the middle of a request: the complete ones are answered, then close', async () => {
    const c = await BookClient.connect(srv.bookPort);
    const part = encodeRequest(['get', 'canary']);
    c.sock.write(Buffer.concat([part, part, part.subarray(0, 7)]));
    c.sock.end();
    await c.waitClosed();
    expect(c.replies).toEqual([str('alive'), str('alive')]);
    await healthy();
  });

  test.each([
    ['a FIN and close', (c: RawClient) => c.sock.end(() => c.sock.destroy())],
    ['a reset', (c: RawClient) => c.sock.resetAndDestroy()],
  ])('POLLHUP with unread data (request then %s while the server is stopped): the data is read first', async (_name, hangUp) => {
    const key = `hup-${_name.length}`;
    const c = await RawClient.connect(srv.bookPort);
    await waitUntil(() => fdCount(srv.pid) === baseFds + 1, 'the connection to be accepted');
    // Stop the server so that the request and the hang-up are both waiting
    // when it next polls.
    process.kill(srv.pid, 'SIGSTOP');
    try {
      c.sock.write(encodeRequest(['set', key, 'applied']));
      hangUp(c);
      await new Promise<void>((resolve) => c.sock.once('close', () => resolve()));
    } finally {
      process.kill(srv.pid, 'SIGCONT');
    }
    await healthy();
    expect(await ctl.call('get', key)).toEqual(str('applied'));
  });

  test('an oversized frame closes that connection only', async () => {
    const c = await RawClient.connect(srv.bookPort);
    const hdr = Buffer.alloc(8);
    hdr.writeUInt32LE(K_MAX_MSG + 1, 0);
    c.sock.write(hdr);
    await c.waitClosed();
    expect(c.received.length).toBe(0);
    await healthy();
    await srv.waitForStderr(/protocol error: message longer than 33554432 bytes; closing/);
  });

  test('a frame declaring a huge (allowed) length but never completing holds only that connection', async () => {
    const c = await RawClient.connect(srv.bookPort);
    const hdr = Buffer.alloc(8);
    hdr.writeUInt32LE(K_MAX_MSG, 0);
    c.sock.write(hdr);
    expect(await ctl.call('get', 'canary')).toEqual(str('alive'));
    c.sock.destroy();
    await healthy();
  });

  test.each([
    ['zero-length frame', Buffer.from([0, 0, 0, 0])],
    ['count larger than the payload', Buffer.from([8, 0, 0, 0, 255, 255, 0, 0, 1, 0, 0, 0])],
    ['string length past the payload', Buffer.from([12, 0, 0, 0, 1, 0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 0])],
    ['garbage', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')],
  ])('malformed frame (%s) closes that connection only', async (_name, frame) => {
    const c = await RawClient.connect(srv.bookPort);
    c.sock.write(frame);
    await c.waitClosed();
    await healthy();
  });

  test('the server survives kill -STOP / -CONT of a client that was receiving a large reply', async () => {
    expect(await ctl.call('set', 'mid', 'z'.repeat(256 * 1024))).toEqual(nil);
    const script = `
      const net = require('node:net');
      const s = net.connect(${srv.bookPort}, '127.0.0.1', () => {
        const req = Buffer.alloc(4 + 4 + 4 + 3 + 4 + 3);
        let o = 0;
        req.writeUInt32LE(req.length - 4, o); o += 4;
        req.writeUInt32LE(2, o); o += 4;
        req.writeUInt32LE(3, o); o += 4; o += req.write('get', o, 'latin1');
        req.writeUInt32LE(3, o); o += 4; o += req.write('mid', o, 'latin1');
        s.write(Buffer.concat(Array(40).fill(req)));
        process.stdout.write('sent\\n');
      });
      let got = 0;
      s.on('data', (d) => { got += d.length; if (got >= 40 * (4 + 1 + 4 + 256 * 1024)) { process.stdout.write('done ' + got + '\\n'); s.destroy(); } });
    `;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const saw = (text: string) => new Promise<void>((resolve, reject) => {
      const check = () => (out.includes(text) ? resolve() : undefined);
      child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; check(); });
      child.on('exit', () => (out.includes(text) ? resolve() : reject(new Error(`client exited: ${out}`))));
      check();
    });
    const sent = saw('sent');
    const done = saw('done');
    await sent;
    child.kill('SIGSTOP');
    try {
      // While the client is frozen (and its replies pile up), others are served.
      for (let i = 0; i < 20; i++) expect(await ctl.call('get', 'canary')).toEqual(str('alive'));
    } finally {
      child.kill('SIGCONT');
    }
    await done;
    expect(out).toContain(`done ${40 * (4 + 1 + 4 + 256 * 1024)}`);
    await healthy();
  });

  test('the server survives kill -STOP / -CONT of itself: queued connections and requests are served after', async () => {
    process.kill(srv.pid, 'SIGSTOP');
    let c: BookClient;
    try {
      // The kernel completes the handshake while the server is stopped.
      c = await BookClient.connect(srv.bookPort);
      c.send(['set', 'stopped', 'then-continued'], ['get', 'stopped']);
      ctl.send(['get', 'canary']);
    } finally {
      process.kill(srv.pid, 'SIGCONT');
    }
    expect(await c.waitReplies(2)).toEqual([nil, str('then-continued')]);
    await ctl.waitReplies(ctl.replies.length);
    c.close();
    await healthy();
  });
});
