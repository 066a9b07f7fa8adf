// redis-benchmark's default suite (no -t) against redloop, without and with
// pipelining: every test must complete, with no error and no warning.
import { execFile } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';
import { afterAll, beforeAll } from 'vitest';

const TESTS = [
  'PING_INLINE', 'PING_MBULK', 'SET', 'GET', 'INCR', 'LPUSH', 'RPUSH', 'LPOP', 'RPOP', 'SADD', 'HSET', 'SPOP', 'ZADD',
  'ZPOPMIN', 'LPUSH (needed to benchmark LRANGE)', 'LRANGE_100 (first 100 elements)', 'LRANGE_300 (first 300 elements)',
  'LRANGE_500 (first 500 elements)', 'LRANGE_600 (first 600 elements)', 'MSET (10 keys)',
];

function benchmark(port: number, extra: string[]): Promise<{ out: string; err: string }> {
  return new Promise((resolve, reject) => {
    execFile('redis-benchmark', ['-p', String(port), '-q', '-n', '20000', ...extra], { timeout: 150_000 }, (e, out, err) => {
      if (e) reject(new Error(`redis-benchmark failed: ${e.message}\n${err}`));
      // -q still redraws a progress line with \r; keep only the final lines.
      else resolve({ out: out.split(/[\r\n]/).filter((l) => l.includes('requests per second')).join('\n'), err });
    });
  });
}

describe('redis-benchmark', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(['--quiet']);
  });
  afterAll(async () => {
    await server?.stop();
  });

  for (const extra of [[], ['-P', '16']]) {
    test(`default suite ${extra.join(' ') || 'without pipelining'}`, async () => {
      const { out, err } = await benchmark(server.respPort, extra);
      console.log(`redis-benchmark -q -n 20000 ${extra.join(' ')}\n${out}`);
      expect(err).toBe('');
      expect(out).not.toMatch(/error|ERR|WARNING/i);
      for (const name of TESTS) expect(out).toContain(`${name}: `);
    }, 160_000);
  }
});
