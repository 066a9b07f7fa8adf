// redis-cli -3 (RESP3) against redis-server and against redloop: one session
// of commands on stdin, printed in redis-cli's formatted mode (--no-raw: maps
// as `1# k => v`, sets as `1~`, doubles as `(double)`), the two outputs
// compared line for line.

import { execFile } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { useServers } from './harness.js';

function cli(port: number, args: string[], input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('redis-cli', ['-3', '--no-raw', '-p', String(port), ...args], { timeout: 30_000 }, (e, out, err) => {
      if (e) reject(new Error(`redis-cli failed: ${e.message}\n${err}`));
      else resolve(out);
    });
    child.stdin!.end(input);
  });
}

describe('redis-cli -3', () => {
  const s = useServers();

  test('a session of commands prints the same as against redis-server', async () => {
    const session = [
      'FLUSHALL',
      'HELLO 3 SETNAME cli3',
      'CLIENT GETNAME',
      'HSET h a 1',
      'HGETALL h',
      'HGETALL nokey',
      'ZADD z 1.5 a 2 b -inf c',
      'ZRANGE z 0 -1 WITHSCORES',
      'ZSCORE z a',
      'ZSCORE z c',
      'ZMSCORE z a nope',
      'GET nokey',
      'SADD s x',
      'SMEMBERS s',
      'SMEMBERS nokey',
      'MULTI',
      'GET nokey',
      'ZPOPMIN z 2',
      'HGETALL h',
      'EXEC',
      'LPOP nokey 2',
      'CONFIG GET maxmemory',
      'INFO keyspace',
      'EXISTS h',
      'SET f 1',
      'INCRBYFLOAT f 0.1',
      'SET a ohmytext',
      'SET b mynewtext',
      'LCS a b IDX WITHMATCHLEN',
      'HRANDFIELD h 1 WITHVALUES',
      'HELLO 4',
      'GET',
    ].join('\n');
    const [theirs, ours] = await Promise.all([cli(s.redisPort, [], session), cli(s.oursPort, [], session)]);
    // HELLO's reply: the version and client id are the servers' own.
    const mask = (t: string) => t.replace(/"version" => "[^"]*"/, '"version" => V').replace(/"id" => \(integer\) \d+/, '"id" => N');
    expect(mask(ours)).toBe(mask(theirs));
    expect(ours).toContain('1# "a" => "1"');
    expect(ours).toContain('(double) 1.5');
    expect(ours).toContain('1~ "x"');
  });
});
