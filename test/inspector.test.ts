// The live view's HTTP side without a browser (test/browser drives the page):
// what it answers, its limits, and that its clients cannot affect data clients.

import { describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startServer, type TestServer } from './helpers/server.js';
import { RawClient } from './helpers/proc.js';

const SERVER = fileURLToPath(new URL('../dist/cli/server.js', import.meta.url));

async function inspectorPort(srv: TestServer): Promise<number> {
  await srv.waitForStderr(/inspector: http:\/\/127\.0\.0\.1:\d+\//);
  return Number(/inspector: http:\/\/127\.0\.0\.1:(\d+)\//.exec(srv.stderr())![1]);
}

/** One HTTP exchange over a raw socket: what came back before the server closed. */
async function http(port: number, request: string): Promise<string> {
  const c = await RawClient.connect(port);
  c.sock.write(request);
  await c.waitFor(() => c.closed, 'the server closes after its response');
  return c.received.toString('utf8');
}

describe('--inspect-port over raw HTTP', () => {
  test('the page, the events stream, the controls, and errors for anything else', async () => {
    const srv = await startServer(['--inspect-port', '0']);
    try {
      const port = await inspectorPort(srv);
      const page = await http(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      expect(page).toMatch(/^HTTP\/1\.1 200 OK\r\nContent-Type: text\/html; charset=utf-8\r\nContent-Length: \d+\r\n/);
      expect(page).toContain('<title>redloop — the loop, live</title>');
      expect(await http(port, 'GET /nope HTTP/1.1\r\n\r\n')).toMatch(/^HTTP\/1\.1 404 Not Found\r\n/);
      expect(await http(port, 'DELETE / HTTP/1.1\r\n\r\n')).toMatch(/^HTTP\/1\.1 405 Method Not Allowed\r\n/);
      expect(await http(port, `GET /${'x'.repeat(10000)}`)).toMatch(/^HTTP\/1\.1 431 /);
      // The events stream: a hello with the loop's state, then one record per iteration.
      const ev = await RawClient.connect(port);
      ev.sock.write('GET /events HTTP/1.1\r\n\r\n');
      await ev.waitFor(() => ev.received.includes('event: hello'), 'hello');
      expect(ev.received.toString()).toMatch(/^HTTP\/1\.1 200 OK\r\nContent-Type: text\/event-stream\r\n/);

      expect(await http(port, 'POST /pause HTTP/1.1\r\n\r\n')).toMatch(/^HTTP\/1\.1 204 No Content\r\n/);
      await ev.waitFor(() => ev.received.includes('event: paused'), 'paused');
      // Paused: a data request waits, while the inspector is still served (by the paused poll).
      const c = await RawClient.connect(srv.respPort);
      c.sock.write('*1\r\n$4\r\nPING\r\n');
      expect(await http(port, 'GET /nope HTTP/1.1\r\n\r\n')).toMatch(/^HTTP\/1\.1 404 /);
      expect(c.received.length).toBe(0);
      expect(await http(port, 'POST /continue HTTP/1.1\r\n\r\n')).toMatch(/^HTTP\/1\.1 204 /);
      await c.waitFor(() => c.received.toString('latin1') === '+PONG\r\n', 'PONG after continue');
      await ev.waitFor(() => ev.received.includes('event: running'), 'running');

      c.sock.write('*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n');
      await c.waitFor(() => c.received.length === 7 + 8, 'ECHO reply');
      await ev.waitFor(() => /event: iteration\ndata: \{.*"readBytes":"\*2\\r\\n\$4\\r\\nECHO\\r\\n\$2\\r\\nhi\\r\\n"/.test(ev.received.toString()), 'the ECHO iteration');
    } finally {
      await srv.stop();
    }
  });

  test('a page that stops reading its events is cut off; data clients are not affected', async () => {
    const srv = await startServer(['--inspect-port', '0']);
    try {
      const port = await inspectorPort(srv);
      const ev = await RawClient.connect(port);
      ev.sock.write('GET /events HTTP/1.1\r\n\r\n');
      await ev.waitFor(() => ev.received.includes('event: hello'), 'hello');
      ev.sock.pause(); // reads nothing more: the kernel buffers fill, then the inspector's 4 MiB
      const c = await RawClient.connect(srv.respPort);
      const big = 'x'.repeat(200);
      const req = `*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${big.length}\r\n${big}\r\n`;
      let n = 0;
      // Each round trip is an iteration whose record (≈1 KB) is owed to the stalled page.
      while (!srv.stderr().includes('inspector: a page stopped reading')) {
        c.sock.write(req);
        n++;
        await c.waitFor(() => c.received.length === n * 5, 'OK');
        if (n > 200_000) throw new Error('the stalled page was never cut off');
      }
      expect(c.received.toString('latin1')).toBe('+OK\r\n'.repeat(n));
      ev.sock.resume();
      await ev.waitFor(() => ev.closed, 'the stalled page is closed');
      c.sock.write('*2\r\n$3\r\nGET\r\n$1\r\nk\r\n');
      await c.waitFor(() => c.received.toString('latin1').endsWith(`$200\r\n${big}\r\n`), 'GET after the cut-off');
    } finally {
      await srv.stop();
    }
  });

  test('at most 16 inspector connections; the 17th is answered 503', async () => {
    const srv = await startServer(['--inspect-port', '0']);
    try {
      const port = await inspectorPort(srv);
      const held: RawClient[] = [];
      for (let i = 0; i < 16; i++) {
        const h = await RawClient.connect(port);
        h.sock.write('GET /events HTTP/1.1\r\n\r\n');
        await h.waitFor(() => h.received.includes('event: hello'), 'hello');
        held.push(h);
      }
      expect(await http(port, 'GET / HTTP/1.1\r\n\r\n')).toMatch(/^HTTP\/1\.1 503 /);
      held[0].sock.destroy();
      // Once the inspector has seen that close (an iteration of the loop), a slot is free again.
      let answer = '';
      for (let i = 0; i < 1000; i++) {
        answer = await http(port, 'GET /nope HTTP/1.1\r\n\r\n');
        if (!answer.startsWith('HTTP/1.1 503 ')) break;
      }
      expect(answer).toMatch(/^HTTP\/1\.1 404 /);
    } finally {
      await srv.stop();
    }
  });

  test('refused with --loop libuv and with --mode blocking or echo', () => {
    for (const args of [['--loop', 'libuv'], ['--mode', 'blocking'], ['--mode', 'echo']]) {
      const r = spawnSync(process.execPath, [SERVER, '--port', '0', '--no-resp', '--inspect-port', '0', ...args], { encoding: 'utf8' });
      expect(r.status).toBe(2);
      expect(r.stderr).toContain('--inspect-port shows redloop');
    }
  });
});
