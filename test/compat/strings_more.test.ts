// Differential: LCS and SUBSTR against a real redis-server.
import { describe, test } from 'vitest';
import { useServers, type Step } from './harness.js';
import { prng } from '../../src/util/prng.js';

const binary = Buffer.from([0, 255, 13, 10, 1, 0]);


describe('strings: LCS', () => {
  const s = useServers();

  test('the LCS, LEN, IDX, MINMATCHLEN, WITHMATCHLEN', () =>
    s.same([
      ['MSET', 'key1', 'ohmytext', 'key2', 'mynewtext'],
      ['LCS', 'key1', 'key2'],
      ['LCS', 'key1', 'key2', 'LEN'],
      ['LCS', 'key1', 'key2', 'IDX'],
      ['LCS', 'key1', 'key2', 'IDX', 'MINMATCHLEN', '4'],
      ['LCS', 'key1', 'key2', 'IDX', 'MINMATCHLEN', '4', 'WITHMATCHLEN'],
      ['LCS', 'key1', 'key2', 'idx', 'withmatchlen'],
      ['LCS', 'key1', 'key2', 'IDX', 'MINMATCHLEN', '-5'],
      ['LCS', 'key1', 'key2', 'IDX', 'MINMATCHLEN', '100'],
      ['LCS', 'key1', 'key2', 'LEN', 'MINMATCHLEN', '100'],
      ['LCS', 'key1', 'key2', 'WITHMATCHLEN'],
      ['LCS', 'key1', 'key2', 'MINMATCHLEN', '2'],
      ['LCS', 'key1', 'key2', 'IDX', 'IDX', 'MINMATCHLEN', '1', 'MINMATCHLEN', '3'],
      ['LCS', 'key1', 'key1', 'IDX', 'WITHMATCHLEN'],
      ['LCS', 'key2', 'key1', 'IDX', 'WITHMATCHLEN'],
      ['MSET', 'a', 'ABCBDAB', 'b', 'BDCABA'],
      ['LCS', 'a', 'b'],
      ['LCS', 'a', 'b', 'IDX', 'WITHMATCHLEN'],
      ['LCS', 'b', 'a', 'IDX', 'WITHMATCHLEN'],
      ['MSET', 'x', 'aaaa', 'y', 'aa'],
      ['LCS', 'x', 'y', 'IDX', 'WITHMATCHLEN'],
      ['LCS', 'y', 'x', 'IDX'],
      ['MSET', 'p', 'abc', 'q', 'xyz'],
      ['LCS', 'p', 'q'],
      ['LCS', 'p', 'q', 'IDX'],
      ['LCS', 'p', 'q', 'LEN'],
      ['SET', 'empty', ''],
      ['LCS', 'p', 'empty', 'IDX'],
      ['LCS', 'p', 'nokey'],
      ['LCS', 'nokey', 'nokey2', 'IDX'],
      ['LCS', 'nokey', 'p', 'LEN'],
      ['SET', 'bin1', binary],
      ['SET', 'bin2', Buffer.concat([Buffer.from('x'), binary, Buffer.from([0, 0])])],
      ['LCS', 'bin1', 'bin2'],
      ['LCS', 'bin1', 'bin2', 'IDX', 'WITHMATCHLEN'],
      ['SET', 'n1', '12345'],
      ['INCR', 'n1'],
      ['SET', 'n2', '99346'],
      ['LCS', 'n1', 'n2'],
      ['LCS', 'key1', 'key2', 'LEN', 'IDX'],
      ['LCS', 'key1', 'key2', 'IDX', 'LEN'],
      ['LCS', 'key1', 'key2', 'MINMATCHLEN'],
      ['LCS', 'key1', 'key2', 'MINMATCHLEN', 'x'],
      ['LCS', 'key1', 'key2', 'MINMATCHLEN', '9223372036854775808'],
      ['LCS', 'key1', 'key2', 'BOGUS'],
      ['RPUSH', 'list', 'a'],
      ['LCS', 'key1', 'list'],
      ['LCS', 'list', 'nokey'],
      ['LCS', 'list', 'key1', 'BOGUS'],
      ['LCS', 'key1'],
    ]));

  test('random strings over small alphabets (many ties in the table)', () => {
    const r = prng(15);
    const word = (n: number, alphabet: string) => Array.from({ length: n }, () => alphabet[Math.floor(r() * alphabet.length)]).join('');
    const steps: Step[] = [];
    for (let k = 0; k < 40; k++) {
      const alphabet = ['ab', 'abc', 'ACGT', 'abcdefgh'][k % 4];
      steps.push(['MSET', 'a', word(Math.floor(r() * 40), alphabet), 'b', word(Math.floor(r() * 40), alphabet)]);
      steps.push(['LCS', 'a', 'b']);
      steps.push(['LCS', 'a', 'b', 'IDX', 'WITHMATCHLEN']);
      steps.push(['LCS', 'b', 'a', 'IDX', 'MINMATCHLEN', String(Math.floor(r() * 4))]);
    }
    return s.same(steps);
  });

  test('long strings; the table is refused past proto-max-bulk-len, as Redis does', () =>
    s.same([
      ['SET', 'long1', 'abcdefghij'.repeat(200)],
      ['SET', 'long2', 'bcdefghijk'.repeat(150)],
      ['LCS', 'long1', 'long2', 'LEN'],
      ['LCS', 'long1', 'long2', 'IDX', 'MINMATCHLEN', '5'],
      ['CONFIG', 'SET', 'proto-max-bulk-len', '1048576'],
      ['SET', 'big1', 'x'.repeat(600)],
      ['SET', 'big2', 'y'.repeat(600)],
      ['LCS', 'big1', 'big2'],
      ['LCS', 'big1', 'big2', 'LEN'],
      ['CONFIG', 'SET', 'proto-max-bulk-len', '536870912'],
      ['LCS', 'big1', 'big2', 'LEN'],
    ]));
});

describe('strings: SUBSTR', () => {
  const s = useServers();

  test('SUBSTR is GETRANGE', () =>
    s.same([
      ['SET', 'k', 'Hello World'],
      ['SUBSTR', 'k', '0', '4'],
      ['SUBSTR', 'k', '-5', '-1'],
      ['SUBSTR', 'k', '6', '100'],
      ['SUBSTR', 'k', '5', '2'],
      ['SUBSTR', 'k', '-1', '-5'],
      ['SUBSTR', 'k', '-100', '2'],
      ['SUBSTR', 'k', '20', '30'],
      ['SUBSTR', 'k', '0', '-100'],
      ['SUBSTR', 'k', 'x', '1'],
      ['SUBSTR', 'k', '0', '9223372036854775808'],
      ['SUBSTR', 'nokey', '0', '1'],
      ['SET', 'bin', binary],
      ['SUBSTR', 'bin', '1', '3'],
      ['SET', 'n', '12345'],
      ['INCR', 'n'],
      ['SUBSTR', 'n', '1', '2'],
      ['RPUSH', 'list', 'a'],
      ['SUBSTR', 'list', '0', '1'],
      ['SUBSTR', 'k', '0'],
      ['SUBSTR', 'k', '0', '1', '2'],
    ]));
});
