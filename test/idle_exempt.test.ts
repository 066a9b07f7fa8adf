// --idle-timeout-ms closes idle clients, but not the ones Redis exempts from
// its timeout: blocked, subscribed and MONITOR clients (a monitor is a replica
// to Redis, and replicas are never timed out), on every backend.
//
// No sleeps: a plain client connected after the others is awaited until the
// server closes it for being idle; the others have been idle longer, so had
// they not been exempt they would have been closed first.

import { describe, expect, test } from 'vitest';
import { startServer } from './helpers/server.js';
import { RawClient } from './compat/harness.js';

describe.each(['poll', 'epoll', 'libuv'] as const)('--loop %s', (loop) => {
  test('blocked, subscribed and MONITOR clients outlive the idle timeout; a plain one does not', async () => {
    const srv = await startServer(['--loop', loop, '--idle-timeout-ms', '200']);
    try {
      const monitor = await RawClient.connect(srv.respPort);
      expect((await monitor.call(['MONITOR'])).toString()).toBe('+OK\r\n');
      const sub = await RawClient.connect(srv.respPort);
      expect((await sub.call(['SUBSCRIBE', 'c'])).toString()).toContain('subscribe');
      const blocked = await RawClient.connect(srv.respPort);
      blocked.write('*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n0\r\n');
      // The monitor's last traffic (the SUBSCRIBE and BLPOP lines) comes before the plain client connects.
      const fed = (await monitor.next(2)).map((b) => b.toString());
      expect(fed[1]).toContain('"BLPOP"');
      // Connected last and silent (a command would reach the monitor and count as its activity).
      const plain = await RawClient.connect(srv.respPort);
      await plain.waitClosed();
      expect(monitor.closed || sub.closed || blocked.closed).toBe(false);
      monitor.write('*1\r\n$4\r\nPING\r\n');
      expect((await monitor.next())[0].toString()).toBe('+PONG\r\n');
      for (const c of [monitor, sub, blocked]) c.close();
    } finally {
      await srv.stop();
    }
  });
});
