// Differential: the RESP2 wire itself — inline commands, quoting, empty
// requests, pipelining and every protocol error (reply bytes, then the close)
// against a real redis-server, byte for byte.
import { connect } from 'node:net';
import { describe, expect, test } from 'vitest';
import { useServers } from './harness.js';

/** Sends payload on a fresh connection; returns every byte received and whether the server closed it. */
function exchange(port: number, payload: Buffer | string, waitMs = 250): Promise<{ bytes: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const sock = connect({ port, host: '127.0.0.1' });
    const chunks: Buffer[] = [];
    let closed = false;
    sock.on('data', (d) => chunks.push(d));
    sock.on('error', reject);
    sock.on('close', () => {
      closed = true;
    });
    sock.on('connect', () => sock.write(payload));
    setTimeout(() => {
      sock.destroy();
      resolve({ bytes: Buffer.concat(chunks).toString('latin1'), closed });
    }, waitMs);
  });
}

const cases: [string, Buffer | string][] = [
  ['inline PING', 'PING\r\n'],
  ['inline with LF only', 'PING\n'],
  ['inline with arguments and blanks', '  SET   k  v  \r\nGET k\r\n'],
  ['inline double quotes', 'SET k "a b\\x41\\n\\t\\"c"\r\nGET k\r\n'],
  ['inline single quotes', "SET k 'it\\'s x\\n'\r\nGET k\r\n"],
  ['inline quote inside a token', 'SET k a"b c"d\r\n'],
  ['inline empty lines', '\r\n\r\n   \r\nPING\r\n'],
  ['inline unbalanced double quote', 'SET k "abc\r\nPING\r\n'],
  ['inline unbalanced single quote', "SET k 'abc\r\nPING\r\n"],
  ['inline closing quote not followed by a blank', 'SET k "a"b\r\nPING\r\n'],
  ['inline unknown command', 'FOO bar baz\r\n'],
  ['inline too big', 'x'.repeat(70_000)],
  ['multibulk pipelined', '*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n'],
  ['multibulk *0 and *-1 are ignored', '*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n'],
  ['multibulk invalid count', '*abc\r\nPING\r\n'],
  ['multibulk count with leading zero', '*01\r\n$4\r\nPING\r\n'],
  ['multibulk count over INT_MAX', '*2147483648\r\n'],
  ['multibulk count with plus', '*+1\r\n$4\r\nPING\r\n'],
  ['multibulk count too large', '*1048577x\r\n'],
  ['multibulk count line too long', '*' + '1'.repeat(70_000)],
  ['bulk without $', '*1\r\nx\r\n'],
  ['bulk empty line', '*1\r\n\r\n'],
  ['bulk invalid length', '*1\r\n$abc\r\n'],
  ['bulk negative length', '*1\r\n$-1\r\n'],
  ['bulk length over proto-max-bulk-len', '*1\r\n$600000000\r\n'],
  ['bulk length line too long', '*1\r\n$' + '1'.repeat(70_000)],
  ['bulk CRLF not checked', '*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n'],
  ['commands before an error are answered', '*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n*x\r\n'],
  ['mixed inline and multibulk', 'PING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\nECHO "there"\r\n'],
  ['binary-safe bulk', Buffer.concat([Buffer.from('*2\r\n$4\r\nECHO\r\n$4\r\n'), Buffer.from([0, 13, 10, 255]), Buffer.from('\r\n')])],
];

describe('RESP2 wire', () => {
  const s = useServers();
  for (const [name, payload] of cases) {
    test(name, async () => {
      const [redis, ours] = await Promise.all([exchange(s.redisPort, payload), exchange(s.oursPort, payload)]);
      expect(ours).toEqual(redis);
    });
  }

  test('a request split at every byte boundary', async () => {
    const req = Buffer.from('*3\r\n$3\r\nSET\r\n$2\r\nsk\r\n$5\r\nhello\r\n*2\r\n$3\r\nGET\r\n$2\r\nsk\r\nPING\r\n');
    for (let cut = 1; cut < req.length; cut += 7) {
      const sock = connect({ port: s.oursPort, host: '127.0.0.1' });
      await new Promise((r) => sock.once('connect', r));
      const got: Buffer[] = [];
      sock.on('data', (d) => got.push(d));
      sock.write(req.subarray(0, cut));
      await new Promise((r) => setTimeout(r, 5));
      sock.write(req.subarray(cut));
      await new Promise((r) => setTimeout(r, 40));
      sock.destroy();
      expect(Buffer.concat(got).toString('latin1')).toBe('+OK\r\n$5\r\nhello\r\n+PONG\r\n');
    }
  });
});
