// redloop-cli's REPL and --pipeline, on our own blocking syscalls: requests
// typed (here piped) in batches go out in one write and the replies print in order.

import { describe, expect, test } from 'vitest';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startServer } from './helpers/server.js';
import { splitArgs } from '../src/cli/repl.js';

const CLI = fileURLToPath(new URL('../dist/cli/client.js', import.meta.url));

function cli(args: string[], input = ''): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('exit', (code) => resolve({ code, out, err }));
    p.stdin.end(input);
  });
}

describe('redloop-cli REPL', () => {
  test('lines in batches of --pipeline N: one write per batch, replies in order, a short batch at EOF', async () => {
    const srv = await startServer(['--no-resp']);
    try {
      const port = String(srv.bookPort);
      const r = await cli(['--port', port, '--pipeline', '3'], 'set a 1\nget a\nzadd z 1 "hello world"\nzquery z 0 "" 0 10\nget nope\n');
      expect(r.code).toBe(0);
      const lines = r.out.split('\n');
      expect(lines.slice(0, 6)).toEqual(['1) set a 1', '   (nil)', '2) get a', '   (str) 1', '3) zadd z 1 "hello world"', '   (int) 1']);
      expect(lines[6]).toMatch(/^-- 3 requests, 86 bytes in 1 write\(\); 3 replies, \d+ bytes in \d+ read\(\)( calls)?$/);
      expect(lines.slice(7, 14)).toEqual(['1) zquery z 0 "" 0 10', '   (arr) len=2', '   (str) hello world', '   (dbl) 1', '   (arr) end', '2) get nope', '   (nil)']);
      expect(lines[14]).toMatch(/^-- 2 requests, \d+ bytes in 1 write\(\); 2 replies, \d+ bytes in \d+ read\(\)( calls)?$/);
      // Without --pipeline each line is its own request; quit ends the session.
      const one = await cli(['--port', port], 'set c 1\nget c\nquit\nset c 2\n');
      expect(one).toMatchObject({ code: 0, out: '(nil)\n(str) 1\n' });
      expect(await cli(['--port', port, 'get', 'c'])).toMatchObject({ code: 0, out: '(str) 1\n' });
    } finally {
      await srv.stop();
    }
  });

  test('--pipeline N with a command: N copies in one write, replies in order', async () => {
    const srv = await startServer(['--no-resp']);
    try {
      const r = await cli(['--port', String(srv.bookPort), '--pipeline', '4', 'zadd', 'z', '1', 'm']);
      expect(r.code).toBe(0);
      const lines = r.out.trimEnd().split('\n');
      expect(lines.filter((l) => l.startsWith('   '))).toEqual(['   (int) 1', '   (int) 0', '   (int) 0', '   (int) 0']);
      expect(lines.at(-1)).toMatch(/^-- 4 requests, \d+ bytes in 1 write\(\); 4 replies, \d+ bytes in \d+ read/);
    } finally {
      await srv.stop();
    }
  });

  test('errors: bad --pipeline, unbalanced quotes, nothing listening', async () => {
    expect(await cli(['--pipeline', '0'])).toMatchObject({ code: 2, err: expect.stringContaining('--pipeline needs a count from 1 to 100000') });
    expect(await cli(['--pipeline', '2', '--echo', 'x'])).toMatchObject({ code: 2, err: expect.stringContaining('drop --pipeline') });
    const srv = await startServer(['--no-resp']);
    const port = srv.bookPort;
    try {
      expect(await cli(['--port', String(port)], 'get "oops\nget k\n')).toMatchObject({ code: 0, out: '(error) unbalanced quotes\n(nil)\n' });
    } finally {
      await srv.stop();
    }
    expect(await cli(['--port', String(port)], 'get k\n')).toMatchObject({ code: 1, err: expect.stringContaining('ECONNREFUSED') });
  });

  test('splitArgs: spaces, quotes and escapes', () => {
    expect(splitArgs('  set  k "a b"  ')).toEqual(['set', 'k', 'a b']);
    expect(splitArgs(`set k 'it"s' "x\\ny" ""`)).toEqual(['set', 'k', 'it"s', 'x\ny', '']);
    expect(splitArgs('set "k')).toBeNull();
  });
});
