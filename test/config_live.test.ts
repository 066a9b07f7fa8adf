// CONFIG SET takes effect in the running server: timeout, maxclients,
// requirepass, client-output-buffer-limit, client-query-buffer-limit,
// proto-max-bulk-len, slowlog-*; CONFIG RESETSTAT.

import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startServer, type TestServer } from './helpers/server.js';

/** A raw RESP connection: send inline or multibulk requests, read replies as text. */
class Conn {
  private data = '';
  private waiters: (() => void)[] = [];
  closed = false;
  private constructor(readonly sock: Socket) {
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      this.data += d;
      for (const w of this.waiters.splice(0)) w();
    });
    sock.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w();
    });
    sock.on('error', () => {});
  }
  static open(port: number): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(new Conn(s)));
      s.once('error', reject);
    });
  }
  send(...args: string[]): void {
    this.sock.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a, 'latin1')}\r\n${a}\r\n`).join('')}`, 'latin1');
  }
  /** Waits until the received text has a complete first line (or the connection closed); returns and consumes that line. */
  async line(): Promise<string | null> {
    for (;;) {
      const i = this.data.indexOf('\r\n');
      if (i >= 0) {
        const l = this.data.slice(0, i);
        this.data = this.data.slice(i + 2);
        return l;
      }
      if (this.closed) return null;
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }
  async call(...args: string[]): Promise<string | null> {
    this.send(...args);
    return this.line();
  }
  /** Resolves once the server closed the connection. */
  async closedByServer(): Promise<void> {
    while (!this.closed) await new Promise<void>((r) => this.waiters.push(r));
  }
  close(): void {
    this.sock.destroy();
  }
}

describe('CONFIG SET takes effect', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer(['--quiet']);
  });
  afterAll(async () => {
    await srv.stop();
  });

  test('timeout: idle clients are closed once timeout is set while running', async () => {
    const admin = await Conn.open(srv.respPort);
    const idle = await Conn.open(srv.respPort);
    expect(await idle.call('PING')).toBe('+PONG');
    expect(await admin.call('CONFIG', 'SET', 'timeout', '1')).toBe('+OK');
    await idle.closedByServer(); // about a second later
    await admin.closedByServer(); // idle too, since its CONFIG SET
    const next = await Conn.open(srv.respPort);
    expect(await next.call('CONFIG', 'SET', 'timeout', '0')).toBe('+OK');
    next.close();
  });

  test('maxclients: more clients are refused; raising it lets them in', async () => {
    const admin = await Conn.open(srv.respPort);
    expect(await admin.call('CONFIG', 'SET', 'maxclients', '1')).toBe('+OK');
    const extra = await Conn.open(srv.respPort);
    expect(await extra.line()).toBe('-ERR max number of clients reached');
    await extra.closedByServer();
    expect(await admin.call('CONFIG', 'SET', 'maxclients', '10000')).toBe('+OK');
    const ok = await Conn.open(srv.respPort);
    expect(await ok.call('PING')).toBe('+PONG');
    ok.close();
    admin.close();
  });

  test('requirepass: new clients must AUTH; connected ones stay authenticated', async () => {
    const admin = await Conn.open(srv.respPort);
    expect(await admin.call('CONFIG', 'SET', 'requirepass', 'sekret')).toBe('+OK');
    expect(await admin.call('PING')).toBe('+PONG');
    const fresh = await Conn.open(srv.respPort);
    expect(await fresh.call('PING')).toBe('-NOAUTH Authentication required.');
    expect(await fresh.call('AUTH', 'wrong')).toMatch(/^-WRONGPASS/);
    expect(await fresh.call('AUTH', 'sekret')).toBe('+OK');
    expect(await fresh.call('CONFIG', 'SET', 'requirepass', '')).toBe('+OK');
    const open = await Conn.open(srv.respPort);
    expect(await open.call('PING')).toBe('+PONG');
    for (const c of [admin, fresh, open]) c.close();
  });

  test('client-output-buffer-limit normal: a client whose replies pass the hard limit is disconnected', async () => {
    const admin = await Conn.open(srv.respPort);
    expect(await admin.call('SET', 'big', 'x'.repeat(300_000))).toBe('+OK');
    expect(await admin.call('CONFIG', 'SET', 'client-output-buffer-limit', 'normal 1mb 0 0')).toBe('+OK');
    expect(await admin.call('CONFIG', 'GET', 'client-output-buffer-limit')).toBe('*2');
    await admin.line();
    await admin.line();
    await admin.line();
    expect(await admin.line()).toBe('normal 1048576 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60');
    const reader = await Conn.open(srv.respPort);
    reader.sock.pause(); // reads nothing: the replies pile up in the server
    for (let i = 0; i < 40; i++) reader.send('GET', 'big');
    reader.sock.resume();
    await reader.closedByServer();
    expect(await admin.call('CONFIG', 'SET', 'client-output-buffer-limit', 'normal 256mb 0 0')).toBe('+OK');
    admin.close();
  });

  test('client-query-buffer-limit and proto-max-bulk-len: checked on what clients send next', async () => {
    const admin = await Conn.open(srv.respPort);
    expect(await admin.call('CONFIG', 'SET', 'proto-max-bulk-len', '100')).toMatch(/between 1048576 and 9223372036854775807 inclusive/);
    expect(await admin.call('CONFIG', 'SET', 'proto-max-bulk-len', '1mb')).toBe('+OK');
    const c = await Conn.open(srv.respPort);
    c.sock.write(`*2\r\n$4\r\nECHO\r\n$${2 * 1024 * 1024}\r\n`);
    expect(await c.line()).toBe('-ERR Protocol error: invalid bulk length');
    await c.closedByServer();
    expect(await admin.call('CONFIG', 'SET', 'proto-max-bulk-len', '512mb', 'client-query-buffer-limit', '1mb')).toBe('+OK');
    const q = await Conn.open(srv.respPort);
    q.sock.write(`*2\r\n$4\r\nECHO\r\n$${2 * 1024 * 1024}\r\n${'y'.repeat(1024 * 1024 + 10)}`);
    await q.closedByServer();
    expect(await admin.call('CONFIG', 'SET', 'client-query-buffer-limit', '1gb')).toBe('+OK');
    admin.close();
  });

  test('slowlog-max-len and CONFIG RESETSTAT', async () => {
    const c = await Conn.open(srv.respPort);
    expect(await c.call('CONFIG', 'SET', 'slowlog-log-slower-than', '0', 'slowlog-max-len', '3')).toBe('+OK');
    for (let i = 0; i < 5; i++) expect(await c.call('PING')).toBe('+PONG');
    expect(await c.call('SLOWLOG', 'LEN')).toBe(':3');
    expect(await c.call('CONFIG', 'SET', 'slowlog-log-slower-than', '-1')).toBe('+OK');
    expect(await c.call('SLOWLOG', 'RESET')).toBe('+OK');
    expect(await c.call('PING')).toBe('+PONG');
    expect(await c.call('SLOWLOG', 'LEN')).toBe(':0');
    expect(await c.call('CONFIG', 'SET', 'slowlog-log-slower-than', '10000', 'slowlog-max-len', '128')).toBe('+OK');
    expect(await c.call('CONFIG', 'RESETSTAT')).toBe('+OK');
    c.send('INFO', 'stats');
    const head = await c.line();
    expect(head).toMatch(/^\$\d+$/);
    let info = '';
    for (let l = await c.line(); l !== null && l !== ''; l = await c.line()) info += l + '\n';
    expect(info).toContain('total_commands_processed:1\n'); // the INFO itself
    expect(info).toContain('total_connections_received:0\n');
    c.close();
  });
});
