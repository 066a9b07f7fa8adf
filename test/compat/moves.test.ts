// Differential: the non-blocking moves and multi-pops (LMOVE, RPOPLPUSH,
// LMPOP in src/commands/list.ts; ZMPOP in src/commands/resp/zset.ts) against a
// real redis-server, byte for byte; then the same commands from several
// clients at once through the harness's multi-client scripts, and seeded
// random streams over a few keys so that types, empty and missing keys collide.
import { describe, expect, test } from 'vitest';
import { parseReply } from '../../src/protocol/resp.js';
import { useServers, type ClientStep, type Step } from './harness.js';
import { prng } from '../../src/util/prng.js';

const binary = Buffer.from([0, 255, 13, 10, 1]);

describe('moves and multi-pops', () => {
  const s = useServers();

  describe('LMOVE and RPOPLPUSH', () => {
    test('every direction between two lists', () =>
      s.same([
        ['RPUSH', 'src', 'a', 'b', 'c', 'd', 'e', 'f'],
        ['LMOVE', 'src', 'dst', 'LEFT', 'LEFT'],
        ['LMOVE', 'src', 'dst', 'LEFT', 'RIGHT'],
        ['LMOVE', 'src', 'dst', 'RIGHT', 'LEFT'],
        ['LMOVE', 'src', 'dst', 'RIGHT', 'RIGHT'],
        ['LRANGE', 'src', '0', '-1'],
        ['LRANGE', 'dst', '0', '-1'],
        ['lmove', 'src', 'dst', 'left', 'right'],
        ['LMOVE', 'src', 'dst', 'Right', 'lEfT'],
        ['EXISTS', 'src'],
        ['LRANGE', 'dst', '0', '-1'],
        ['LMOVE', 'src', 'dst', 'LEFT', 'LEFT'],
        ['RPUSH', 'r', '1', '2', '3'],
        ['RPOPLPUSH', 'r', 'dst'],
        ['RPOPLPUSH', 'r', 'new'],
        ['TYPE', 'new'],
        ['LRANGE', 'new', '0', '-1'],
        ['rpoplpush', 'r', 'new'],
        ['EXISTS', 'r'],
        ['RPOPLPUSH', 'r', 'new'],
        ['LRANGE', 'new', '0', '-1'],
        ['LRANGE', 'dst', '0', '-1'],
      ]));

    test('the same key as source and destination', () =>
      s.same([
        ['RPUSH', 'l', 'a', 'b', 'c'],
        ['LMOVE', 'l', 'l', 'LEFT', 'RIGHT'],
        ['LRANGE', 'l', '0', '-1'],
        ['LMOVE', 'l', 'l', 'RIGHT', 'LEFT'],
        ['LRANGE', 'l', '0', '-1'],
        ['LMOVE', 'l', 'l', 'LEFT', 'LEFT'],
        ['LMOVE', 'l', 'l', 'RIGHT', 'RIGHT'],
        ['LRANGE', 'l', '0', '-1'],
        ['RPOPLPUSH', 'l', 'l'],
        ['LRANGE', 'l', '0', '-1'],
        ['RPUSH', 'one', 'x'],
        ['LMOVE', 'one', 'one', 'LEFT', 'RIGHT'],
        ['RPOPLPUSH', 'one', 'one'],
        ['LRANGE', 'one', '0', '-1'],
        ['LLEN', 'one'],
        ['LMOVE', 'nokey', 'nokey', 'LEFT', 'RIGHT'],
        ['RPOPLPUSH', 'nokey', 'nokey'],
        ['EXISTS', 'nokey'],
      ]));

    test('missing keys, WRONGTYPE on source and on destination', () =>
      s.same([
        ['SET', 'str', 'v'],
        ['ZADD', 'z', '1', 'm'],
        ['RPUSH', 'l', 'a', 'b'],
        ['LMOVE', 'nokey', 'dst', 'LEFT', 'RIGHT'],
        ['EXISTS', 'dst'],
        // A missing source answers nil before the destination's type is looked at.
        ['LMOVE', 'nokey', 'str', 'LEFT', 'RIGHT'],
        ['RPOPLPUSH', 'nokey', 'z'],
        ['LMOVE', 'str', 'dst', 'LEFT', 'RIGHT'],
        ['LMOVE', 'str', 'l', 'LEFT', 'RIGHT'],
        ['LMOVE', 'z', 'l', 'RIGHT', 'LEFT'],
        ['RPOPLPUSH', 'str', 'l'],
        ['LMOVE', 'l', 'str', 'LEFT', 'RIGHT'],
        ['LMOVE', 'l', 'z', 'RIGHT', 'LEFT'],
        ['RPOPLPUSH', 'l', 'str'],
        // Nothing moved: the source is whole.
        ['LRANGE', 'l', '0', '-1'],
        ['GET', 'str'],
        ['LMOVE', 'str', 'str', 'LEFT', 'LEFT'],
        ['RPOPLPUSH', 'z', 'z'],
      ]));

    test('syntax errors come before any lookup; arity', () =>
      s.same([
        ['RPUSH', 'l', 'a'],
        ['SET', 'str', 'v'],
        ['LMOVE', 'l', 'd', 'MIDDLE', 'LEFT'],
        ['LMOVE', 'l', 'd', 'LEFT', 'MIDDLE'],
        ['LMOVE', 'nokey', 'd', 'UP', 'LEFT'],
        ['LMOVE', 'str', 'd', 'LEFT', 'DOWN'],
        ['LMOVE', 'l', 'd', 'LEFTX', 'RIGHT'],
        ['LMOVE', 'l', 'd', '', 'RIGHT'],
        ['LMOVE', 'l', 'd', 'MIN', 'MAX'],
        ['LMOVE'],
        ['LMOVE', 'l'],
        ['LMOVE', 'l', 'd'],
        ['LMOVE', 'l', 'd', 'LEFT'],
        ['LMOVE', 'l', 'd', 'LEFT', 'RIGHT', 'LEFT'],
        ['RPOPLPUSH'],
        ['RPOPLPUSH', 'l'],
        ['RPOPLPUSH', 'l', 'd', 'x'],
        ['LRANGE', 'l', '0', '-1'],
      ]));

    test('binary elements and keys; TTLs stay with their keys', () =>
      s.same([
        ['RPUSH', binary, binary, 'x'],
        ['LMOVE', binary, 'd', 'LEFT', 'LEFT'],
        ['RPOPLPUSH', 'd', binary],
        ['LRANGE', binary, '0', '-1'],
        ['RPUSH', 'src', 'a', 'b'],
        ['EXPIRE', 'src', '1000'],
        ['RPUSH', 'dst', 'z'],
        ['EXPIRE', 'dst', '2000'],
        ['LMOVE', 'src', 'dst', 'LEFT', 'RIGHT'],
        { cmd: ['TTL', 'src'], match: 'approx' },
        { cmd: ['TTL', 'dst'], match: 'approx' },
        ['LMOVE', 'src', 'fresh', 'LEFT', 'RIGHT'],
        ['TTL', 'src'],
        ['TTL', 'fresh'],
        ['LMOVE', 'dst', 'dst', 'LEFT', 'RIGHT'],
        { cmd: ['TTL', 'dst'], match: 'approx' },
      ]));
  });

  describe('LMPOP', () => {
    test('LEFT and RIGHT, COUNT, the first non-empty key', () =>
      s.same([
        ['RPUSH', 'l', 'a', 'b', 'c', 'd', 'e'],
        ['LMPOP', '1', 'l', 'LEFT'],
        ['LMPOP', '1', 'l', 'RIGHT'],
        ['LMPOP', '1', 'l', 'left', 'COUNT', '2'],
        ['LMPOP', '1', 'l', 'right', 'count', '1'],
        ['EXISTS', 'l'],
        ['LMPOP', '1', 'l', 'LEFT'],
        ['RPUSH', 'b', '1', '2', '3'],
        ['RPUSH', 'c', 'x'],
        ['LMPOP', '3', 'nokey', 'b', 'c', 'RIGHT', 'COUNT', '10'],
        ['EXISTS', 'b'],
        ['LMPOP', '3', 'nokey', 'b', 'c', 'LEFT', 'COUNT', '10'],
        ['LMPOP', '3', 'nokey', 'b', 'c', 'LEFT'],
        ['LMPOP', '2', 'nokey', 'nokey', 'LEFT', 'COUNT', '3'],
        ['RPUSH', 'd', 'p', 'q'],
        ['LMPOP', '2', 'd', 'd', 'LEFT', 'COUNT', '9223372036854775807'],
        ['RPUSH', 'left', 'L'],
        // The end token is found by counting keys: "left" here is a key, then the end.
        ['LMPOP', '1', 'left', 'left'],
        ['RPUSH', binary, binary],
        ['LMPOP', '1', binary, 'RIGHT'],
      ]));

    test('WRONGTYPE only when met before a list', () =>
      s.same([
        ['SET', 'str', 'v'],
        ['RPUSH', 'l', 'a', 'b'],
        ['LMPOP', '2', 'str', 'l', 'LEFT'],
        ['LMPOP', '2', 'nokey', 'str', 'LEFT'],
        ['LMPOP', '2', 'l', 'str', 'LEFT'],
        ['LMPOP', '1', 'str', 'LEFT', 'COUNT', '2'],
        ['LRANGE', 'l', '0', '-1'],
      ]));

    test('bad numkeys, ends and counts; arity', () =>
      s.same([
        ['RPUSH', 'l', 'a', 'b', 'c'],
        ['LMPOP', '0', 'l', 'LEFT'],
        ['LMPOP', '-1', 'l', 'LEFT'],
        ['LMPOP', 'abc', 'l', 'LEFT'],
        ['LMPOP', '1.5', 'l', 'LEFT'],
        ['LMPOP', '01', 'l', 'LEFT'],
        ['LMPOP', '', 'l', 'LEFT'],
        ['LMPOP', '2', 'l', 'LEFT'],
        ['LMPOP', '3', 'l', 'LEFT'],
        ['LMPOP', '4611686018427387904', 'l', 'LEFT'],
        ['LMPOP', '9223372036854775807', 'l', 'LEFT'],
        ['LMPOP', '9223372036854775808', 'l', 'LEFT'],
        ['LMPOP', '1', 'l', 'MIDDLE'],
        ['LMPOP', '1', 'l', 'MIN'],
        ['LMPOP', '1', 'l', 'LEFT', 'COUNT'],
        ['LMPOP', '1', 'l', 'LEFT', 'COUNT', '0'],
        ['LMPOP', '1', 'l', 'LEFT', 'COUNT', '-1'],
        ['LMPOP', '1', 'l', 'LEFT', 'COUNT', 'abc'],
        ['LMPOP', '1', 'l', 'LEFT', 'COUNT', '1.0'],
        ['LMPOP', '1', 'l', 'LEFT', 'COUNT', '9223372036854775808'],
        ['LMPOP', '1', 'l', 'LEFT', 'COUNT', '1', 'COUNT', '1'],
        ['LMPOP', '1', 'l', 'LEFT', 'COUNT', '0', 'COUNT', '1'],
        ['LMPOP', '1', 'l', 'LEFT', 'COUNT', '1', 'x'],
        ['LMPOP', '1', 'l', 'LEFT', 'x'],
        ['LMPOP', '1', 'l', 'LEFT', 'LIMIT', '1'],
        // Errors are found before any key is looked at.
        ['SET', 'str', 'v'],
        ['LMPOP', '1', 'str', 'LEFT', 'COUNT', '0'],
        ['LMPOP', '0', 'str', 'LEFT'],
        ['LMPOP'],
        ['LMPOP', '1'],
        ['LMPOP', '1', 'l'],
        ['LRANGE', 'l', '0', '-1'],
      ]));
  });

  describe('ZMPOP', () => {
    test('MIN and MAX, COUNT, scores as Redis prints them', () =>
      s.same([
        ['ZADD', 'z', '1', 'a', '1', 'b', '2.5', 'c', '0.1', 'd', '-inf', 'lo', '+inf', 'hi', '1e20', 'big'],
        ['ZMPOP', '1', 'z', 'MIN'],
        ['ZMPOP', '1', 'z', 'MAX'],
        ['ZMPOP', '1', 'z', 'min', 'COUNT', '2'],
        ['ZMPOP', '1', 'z', 'max', 'count', '2'],
        ['ZMPOP', '1', 'z', 'MIN', 'COUNT', '10'],
        ['EXISTS', 'z'],
        ['ZMPOP', '1', 'z', 'MIN'],
        ['ZADD', 'b', '3', 'x', '4', 'y'],
        ['ZADD', 'c', '5', 'w'],
        ['ZMPOP', '3', 'nokey', 'b', 'c', 'MAX', 'COUNT', '1'],
        ['ZMPOP', '3', 'nokey', 'b', 'c', 'MAX', 'COUNT', '5'],
        ['ZMPOP', '3', 'nokey', 'b', 'c', 'MAX'],
        ['ZMPOP', '3', 'nokey', 'b', 'c', 'MAX'],
        ['ZADD', 'min', '7', 'm'],
        ['ZMPOP', '1', 'min', 'min'],
        ['ZADD', binary, '1', binary],
        ['ZMPOP', '1', binary, 'MAX'],
      ]));

    test('WRONGTYPE when the first key that exists is not a sorted set', () =>
      s.same([
        ['SET', 'str', 'v'],
        ['RPUSH', 'l', 'x'],
        ['ZADD', 'z', '1', 'a'],
        ['ZMPOP', '2', 'str', 'z', 'MIN'],
        ['ZMPOP', '2', 'nokey', 'l', 'MIN'],
        ['ZMPOP', '2', 'z', 'str', 'MIN'],
        ['ZMPOP', '1', 'str', 'MAX', 'COUNT', '3'],
        ['ZMPOP', '2', 'nokey', 'nokey', 'MAX'],
      ]));

    test('bad numkeys, ends and counts; arity', () =>
      s.same([
        ['ZADD', 'z', '1', 'a', '2', 'b'],
        ['ZMPOP', '0', 'z', 'MIN'],
        ['ZMPOP', '-5', 'z', 'MIN'],
        ['ZMPOP', 'x', 'z', 'MIN'],
        ['ZMPOP', '2', 'z', 'MIN'],
        ['ZMPOP', '9223372036854775807', 'z', 'MIN'],
        ['ZMPOP', '1', 'z', 'LEFT'],
        ['ZMPOP', '1', 'z', 'MINIMUM'],
        ['ZMPOP', '1', 'z', 'MIN', 'COUNT'],
        ['ZMPOP', '1', 'z', 'MIN', 'COUNT', '0'],
        ['ZMPOP', '1', 'z', 'MIN', 'COUNT', '-3'],
        ['ZMPOP', '1', 'z', 'MIN', 'COUNT', ' 1'],
        ['ZMPOP', '1', 'z', 'MIN', 'COUNT', '2', 'COUNT', '2'],
        ['ZMPOP', '1', 'z', 'MIN', 'WITHSCORES'],
        ['ZMPOP'],
        ['ZMPOP', '1'],
        ['ZMPOP', '1', 'z'],
        ['ZRANGE', 'z', '0', '-1', 'WITHSCORES'],
      ]));

    test('ZPOPMIN and ZPOPMAX (they share the pop)', () =>
      s.same([
        ['ZADD', 'z', '1', 'a', '2', 'b', '3', 'c'],
        ['ZPOPMIN', 'z'],
        ['ZPOPMAX', 'z', '0'],
        ['ZPOPMAX', 'z', '5'],
        ['EXISTS', 'z'],
        ['ZPOPMIN', 'z'],
        ['ZPOPMIN', 'z', '0'],
        ['SET', 'str', 'v'],
        ['ZPOPMIN', 'str', '0'],
        ['ZPOPMAX', 'str'],
        ['ZPOPMIN', 'z', '-1'],
        ['ZPOPMIN', 'z', '1', '2'],
      ]));
  });

  test('COMMAND INFO: flags and key positions', async () => {
    const names = ['lmove', 'rpoplpush', 'lmpop', 'zmpop'];
    const pick = (b: Buffer) => {
      const r = parseReply(b)!.reply;
      if (r.type !== 'array' || r.items === null) return r;
      return r.items.map((it) => (it.type === 'array' && it.items !== null ? it.items.slice(0, 6) : it));
    };
    const [a, b] = await Promise.all([s.redis.call(['COMMAND', 'INFO', ...names]), s.ours.call(['COMMAND', 'INFO', ...names])]);
    expect(pick(b)).toEqual(pick(a));
  });

  describe('several clients', () => {
    test('moves interleaved between three connections', () =>
      s.script(3, [
        [0, ['RPUSH', 'q', 'a', 'b', 'c', 'd']],
        [1, ['LMOVE', 'q', 'work', 'LEFT', 'RIGHT']],
        [2, ['LMOVE', 'q', 'work', 'LEFT', 'RIGHT']],
        [0, ['LRANGE', 'work', '0', '-1']],
        [1, ['RPOPLPUSH', 'work', 'done']],
        [2, ['LMPOP', '2', 'q', 'work', 'RIGHT', 'COUNT', '5']],
        [0, ['LMPOP', '2', 'q', 'work', 'RIGHT', 'COUNT', '5']],
        [1, ['LMPOP', '2', 'q', 'work', 'RIGHT', 'COUNT', '5']],
        [2, ['ZADD', 'z', '1', 'x', '2', 'y']],
        [0, ['ZMPOP', '1', 'z', 'MAX']],
        [1, ['ZMPOP', '1', 'z', 'MAX']],
        [2, ['ZMPOP', '1', 'z', 'MAX']],
        [0, ['LRANGE', 'done', '0', '-1']],
      ]));

    // The harness's own checks: a reply still owed is not there yet, and is
    // read once it comes; a reply that nobody read is a failure.
    test('a request that has not fully arrived gets its reply once it has', () =>
      s.script(2, [
        [0, ['RPUSH', 'l', 'a']],
        { send: 0, raw: '*5\r\n$5\r\nLMOVE\r\n$1\r\nl\r\n$1\r\nm\r\n' },
        { quiet: 0 },
        [1, ['LLEN', 'm']],
        { quiet: [0, 1] },
        { send: 0, raw: '$4\r\nLEFT\r\n$5\r\nR' },
        { quiet: 0 },
        { send: 0, raw: 'IGHT\r\n' },
        { reply: 0 },
        [1, ['LRANGE', 'm', '0', '-1']],
        { send: 1, cmd: ['LMPOP', '1', 'm', 'LEFT'] },
        { send: 1, cmd: ['EXISTS', 'm'] },
        { reply: 1 },
        { reply: 1 },
      ]));

    test('a reply nobody read fails the script', async () => {
      await expect(s.script(2, [{ send: 1, cmd: ['PING'] }, { quiet: 1 }])).rejects.toThrow(/connection 1: redis has a reply nobody read: "\+PONG/);
      await expect(s.script(1, [{ send: 0, cmd: ['RPUSH', 'l', 'x'] }])).rejects.toThrow(/connection 0: redloop has a reply nobody read: ":1/);
    });
  });

  describe('random streams', () => {

    function generate(seed: number, n: number): string[][] {
      const r = prng(seed);
      const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)];
      const key = () => pick(['a', 'b', 'c', 'd']);
      const keys = () => Array.from({ length: 1 + Math.floor(r() * 3) }, key);
      const elem = () => pick(['x', 'y', 'z', '', '1']);
      const end = () => pick(['LEFT', 'RIGHT', 'left', 'MIN']);
      const zend = () => pick(['MIN', 'MAX', 'max', 'LEFT']);
      const count = () => (r() < 0.5 ? [] : ['COUNT', pick(['1', '2', '5', '0', '-1'])]);
      const numkeys = (ks: string[]) => (r() < 0.9 ? String(ks.length) : pick(['0', String(ks.length + 1), 'x']));
      const gens: (() => string[])[] = [
        () => [pick(['RPUSH', 'LPUSH']), key(), elem(), elem()],
        () => ['LMOVE', key(), key(), end(), end()],
        () => ['RPOPLPUSH', key(), key()],
        () => {
          const ks = keys();
          return ['LMPOP', numkeys(ks), ...ks, end(), ...count()];
        },
        () => ['ZADD', key(), pick(['1', '2', '-1', '0.5']), elem()],
        () => {
          const ks = keys();
          return ['ZMPOP', numkeys(ks), ...ks, zend(), ...count()];
        },
        () => [pick(['ZPOPMIN', 'ZPOPMAX']), key(), ...(r() < 0.5 ? [pick(['0', '1', '3'])] : [])],
        () => ['LRANGE', key(), '0', '-1'],
        () => ['ZRANGE', key(), '0', '-1', 'WITHSCORES'],
        () => ['SET', key(), elem()],
        () => ['TYPE', key()],
        () => ['DEL', key()],
      ];
      return Array.from({ length: n }, () => pick(gens)());
    }

    for (const seed of [1, 2, 3, 4]) {
      test(`seed ${seed}: 400 commands`, () => s.same(generate(seed, 400) as Step[]));
    }

    test('seed 5: 300 commands spread over three connections', () => {
      const r = prng(500);
      const steps: ClientStep[] = generate(5, 300).map((cmd) => [Math.floor(r() * 3), cmd]);
      return s.script(3, steps);
    });
  });
});
