// --trace-json FILE: one JSON object per loop iteration. A real run with both
// --trace and --trace-json: the file's iterations and syscalls are the text
// trace's, call for call; the interest set is poll's array (or epoll's ready
// list and epoll_ctl changes); a connection's state after the step shows its
// buffers' split and want flags.

import { describe, expect, test } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BookClient, startServer } from './helpers/server.js';
import type { IterationRecord } from '../src/loop/trace_json.js';

/** The text trace's syscall lines per iteration (index 0: before #1). */
function textIterations(trace: string): Map<number, { header: string; calls: string[] }> {
  const out = new Map<number, { header: string; calls: string[] }>();
  let cur = { header: '', calls: [] as string[] };
  out.set(0, cur);
  for (const line of trace.split('\n')) {
    const h = /^#(\d+) ?(.*)$/.exec(line);
    if (h !== null) {
      cur = { header: h[2], calls: [] };
      out.set(Number(h[1]), cur);
    } else if (/^  \w+\(.*\) = /.test(line)) cur.calls.push(line.slice(2));
  }
  if (out.get(0)!.calls.length === 0) out.delete(0);
  return out;
}

async function run(loop: 'poll' | 'epoll'): Promise<{ text: string; records: IterationRecord[]; clientPort: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'redloop-tracejson-'));
  const file = join(dir, 'trace.jsonl');
  try {
    const srv = await startServer(['--no-resp', '--loop', loop, '--idle-timeout-ms', '60000', '--trace', '--trace-json', file]);
    const c = await BookClient.connect(srv.bookPort);
    const clientPort = c.sock.localPort!;
    // Two requests in one write, the first split from the second by the frame boundary.
    c.send(['set', 'k', 'v'], ['get', 'k']);
    await c.waitReplies(2);
    c.sock.end();
    await c.waitClosed();
    await srv.waitForStderr(/closed \(EOF\)/);
    expect(await srv.stop()).toBe(0);
    const records = readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as IterationRecord);
    return { text: srv.stderr(), records, clientPort };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.each([['poll' as const], ['epoll' as const]])('--trace-json (%s)', (loop) => {
  test('iterations and syscalls match the text trace; the served connection’s state after its step', async () => {
    const { text, records, clientPort } = await run(loop);
    const iters = textIterations(text);
    // The same iterations, in order, each with the same syscalls as the text trace.
    expect(records.map((r) => r.iteration)).toEqual([...iters.keys()]);
    for (const r of records) {
      const t = iters.get(r.iteration)!;
      expect(r.syscalls.map((s) => `${s.name}(${s.args}) = ${s.result}`)).toEqual(t.calls);
      if (r.iteration > 0) expect(t.header).toBe(`timeout ${r.timeout!.ms} (${r.timeout!.why})`);
      expect(r.backend).toBe(loop);
    }
    expect(records.flatMap((r) => r.syscalls).length).toBeGreaterThan(15);

    // The iteration that read both requests.
    const served = records.find((r) => r.syscalls.some((s) => s.name === 'read' && s.ret === 45))!;
    const fd = Number(served.syscalls.find((s) => s.name === 'read')!.args.split(',')[0]);
    const conn = served.connections.find((c) => c.fd === fd)!;
    expect(conn).toMatchObject({
      label: `client 127.0.0.1:${clientPort} (book)`,
      peer: `127.0.0.1:${clientPort}`,
      protocol: 'book',
      closed: false,
      wantRead: true,
      wantWrite: false,
      wantClose: false,
      // set k v is 4 + 4 + (4+3) + (4+1) + (4+1) = 25 bytes; get k is 20.
      incoming: { read: 45, parsed: 45, unparsed: 0, frames: [25, 45] },
      outgoing: { written: 15, pending: 0 },
    });
    expect(conn.idleDeadline).toBeGreaterThan(served.t);
    expect(served.notes).toContain(`fd ${fd}: 2 requests (set, get)`);

    // The interest set.
    const waitCall = served.syscalls[0];
    if (loop === 'poll') {
      const set = (served.interest as { poll: { fd: number; events: string[]; revents: string[]; label: string | null }[] }).poll;
      expect(waitCall.name).toBe('poll');
      expect(waitCall.args).toBe(`[${set.map((e) => `${e.fd}:${e.events.join('|')}`).join(' ')}], ${set.length}, ${served.timeout!.ms}`);
      expect(set.find((e) => e.fd === fd)).toMatchObject({ events: ['IN', 'ERR'], revents: ['IN'], label: conn.label });
      expect(set.filter((e) => e.revents.length !== 0).map((e) => e.fd)).toEqual([fd]);
      expect(set.map((e) => e.label)).toContain('book-listener');
    } else {
      const { ready } = served.interest as { ready: { fd: number; events: string[] }[]; changes: unknown[] };
      expect(waitCall.name).toBe('epoll_wait');
      expect(ready).toEqual([{ fd, events: ['IN'], label: conn.label }]);
      // The accepting iteration added the client to the interest list.
      const accepted = records.find((r) => r.syscalls.some((s) => s.name === 'accept' && s.ret === fd))!;
      expect((accepted.interest as { changes: unknown[] }).changes).toContainEqual({ op: 'ADD', fd, events: ['IN'], ret: 0 });
      // The setup (iteration 0) created the epoll fd and added the listener and the signal pipe.
      expect(records[0].iteration).toBe(0);
      expect(records[0].syscalls[0].name).toBe('epoll_create1');
    }

    // The close: the connection is reported closed, with its label kept.
    const closing = records.find((r) => r.syscalls.some((s) => s.name === 'close' && s.args === `${fd}`))!;
    expect(closing.connections.find((c) => c.fd === fd)).toMatchObject({ closed: true, peer: `127.0.0.1:${clientPort}` });
    // Connections only: the listener closed at shutdown is no connection.
    const shutdown = records[records.length - 1];
    expect(shutdown.notes.some((n) => n.includes('listening socket closed'))).toBe(true);
    expect(shutdown.connections).toEqual([]);
  });
});

test('a BLPOP timeout: the timer fired is in its iteration; --trace-json alone writes no text trace', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'redloop-tracejson-'));
  const file = join(dir, 'trace.jsonl');
  try {
    const srv = await startServer(['--trace-json', file]);
    const { RawClient } = await import('./helpers/proc.js');
    const c = await RawClient.connect(srv.respPort);
    c.sock.write('*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$4\r\n0.05\r\n');
    await c.waitFor(() => c.received.toString('latin1') === '*-1\r\n', 'the timeout reply');
    c.sock.destroy();
    expect(await srv.stop()).toBe(0);
    expect(srv.stderr()).not.toMatch(/^#\d+/m);
    const records = readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as IterationRecord);
    const blocked = records.find((r) => r.notes.some((n) => n.includes('blocked (BLPOP)')))!;
    const next = records[records.indexOf(blocked) + 1];
    expect(next.timeout!.why).toMatch(/^BLPOP timeout of client/);
    const fired = records.find((r) => r.timers.length !== 0)!;
    expect(fired.timers[0]).toMatch(/^BLPOP timeout of client/);
    expect(fired.syscalls.some((s) => s.name === 'write' && s.ret === 5)).toBe(true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
