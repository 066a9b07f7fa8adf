// Differential: streams (src/commands/resp/stream.ts) against a real
// redis-server 7.0, byte for byte. Explicit IDs keep replies deterministic;
// where an ID comes from the clock (`*`, `ms-*` is explicit) or a reply holds
// an idle time, the comparison is by shape. XREAD BLOCK runs as multi-client
// scripts: a reader blocks ({ quiet } proves it still waits), a writer adds.
import { describe, test } from 'vitest';
import { useServers, type Cmd, type Step } from './harness.js';
import { prng as rng } from '../../src/util/prng.js';

describe('streams', () => {
  const s = useServers();

  test('XADD with explicit, partial and automatic IDs; XLEN; TYPE', () =>
    s.same([
      ['XADD', 's', '1-1', 'a', '1'],
      ['XADD', 's', '1-*', 'b', '2'],
      ['XADD', 's', '2', 'c', '3'],
      ['XADD', 's', '2-*', 'c', '3'],
      ['XADD', 's', '5-*', 'f', 'v', 'g', 'w'],
      { cmd: ['XADD', 's', '*', 'x', 'y'], match: 'shape' },
      ['XLEN', 's'],
      ['XLEN', 'missing'],
      ['TYPE', 's'],
      ['XADD', 'big', '18446744073709551615-18446744073709551614', 'a', '1'],
      ['XADD', 'big', '18446744073709551615-*', 'a', '1'],
      ['XADD', 'big', '18446744073709551615-*', 'a', '1'],
      ['XADD', 'big', '*', 'a', '1'],
      ['XADD', 'big2', '18446744073709551615-*', 'a', '1'],
      ['XADD', 'z', '007-+5', 'a', '1'],
      ['XADD', 'z', '+8-1', 'a', '1'],
      ['XRANGE', 'z', '-', '+'],
      ['XADD', 'nm', 'NOMKSTREAM', '1-1', 'a', '1'],
      ['EXISTS', 'nm'],
      ['XADD', 's', 'NOMKSTREAM', '10-1', 'a', '1'],
      ['XADD', 'bin', '1-1', 'f\x00\xff', '\r\n'],
      ['XRANGE', 'bin', '-', '+'],
    ]));

  test('XADD errors: order, equal or smaller IDs, 0-0, invalid IDs, arity, options', () =>
    s.same([
      ['XADD', 's', '5-5', 'a', '1'],
      ['XADD', 's', '5-5', 'a', '1'],
      ['XADD', 's', '5-4', 'a', '1'],
      ['XADD', 's', '4-*', 'a', '1'],
      ['XADD', 's', '0-0', 'a', '1'],
      ['XADD', 'new', '0-0', 'a', '1'],
      ['EXISTS', 'new'],
      ['XADD', 'new', '0-*', 'a', '1'],
      ['XADD', 'new2', '0', 'a', '1'],
      ['XADD', 's', 'abc', 'a', '1'],
      ['XADD', 's', '1-abc', 'a', '1'],
      ['XADD', 's', '-1', 'a', '1'],
      ['XADD', 's', '1--1', 'a', '1'],
      ['XADD', 's', '18446744073709551616', 'a', '1'],
      ['XADD', 's', '*-1', 'a', '1'],
      ['XADD', 's', '-', 'a', '1'],
      ['XADD', 's', '+', 'a', '1'],
      ['XADD', 's', '9-9', 'a'],
      ['XADD', 's', '9-9', 'a', '1', 'b'],
      ['XADD', 's', 'nomkstream'],
      ['XADD', 's', 'MAXLEN', 'x', '*', 'a', '1'],
      ['XADD', 's', 'MAXLEN', '-1', '*', 'a', '1'],
      ['XADD', 's', 'MAXLEN', '1', 'MINID', '1', '*', 'a', '1'],
      ['XADD', 's', 'MINID', '1', 'MAXLEN', '1', '*', 'a', '1'],
      ['XADD', 's', 'LIMIT', '10', 'MAXLEN', '1', '*', 'a', '1'],
      ['XADD', 's', 'LIMIT', '0', '*', 'a', '1'],
      ['XADD', 's', 'LIMIT', '10', '*', 'a', '1'],
      ['XADD', 's', 'MAXLEN', '1', 'LIMIT', '10', '*', 'a', '1'],
      ['XADD', 's', 'MAXLEN', '~', '1', 'LIMIT', '-1', '*', 'a', '1'],
      ['XADD', 's', 'MAXLEN', '~', '1', 'LIMIT', 'x', '*', 'a', '1'],
      ['XADD', 's', 'MINID', 'bad', '*', 'a', '1'],
      ['XADD', 's', 'MINID', '+', '*', 'a', '1'],
      ['XADD', 's', 'MAXLEN'],
      ['XADD', 's'],
      ['SET', 'str', 'v'],
      ['XADD', 'str', '1-1', 'a', '1'],
      ['XADD', 'str', 'NOMKSTREAM', '1-1', 'a', '1'],
      ['XLEN', 'str'],
      ['XRANGE', 'str', '-', '+'],
      ['XREVRANGE', 'str', '+', '-'],
      ['XDEL', 'str', '1-1'],
      ['XTRIM', 'str', 'MAXLEN', '1'],
      ['XSETID', 'str', '1-1'],
      ['XREAD', 'STREAMS', 'str', '0'],
      ['XGROUP', 'CREATE', 'str', 'g', '0'],
      ['XACK', 'str', 'g', '1-1'],
      ['XPENDING', 'str', 'g'],
      ['LPUSH', 'l', 'x'],
      ['XREAD', 'STREAMS', 's', 'l', '0', '0'],
      ['GET', 's'],
      ['LPUSH', 's', 'x'],
      ['HSET', 's', 'a', 'b'],
    ]));

  test('XRANGE and XREVRANGE: -, +, partial IDs, exclusive ranges, COUNT, errors', () => {
    const steps: Step[] = [];
    for (let i = 1; i <= 12; i++) steps.push(['XADD', 's', `${Math.ceil(i / 3)}-${i % 3}`, 'n', String(i)]);
    steps.push(
      ['XRANGE', 's', '-', '+'],
      ['XREVRANGE', 's', '+', '-'],
      ['XRANGE', 's', '2', '3'],
      ['XRANGE', 's', '2', '2'],
      ['XRANGE', 's', '(2-1', '(3-2'],
      ['XREVRANGE', 's', '(3-2', '(2-1'],
      ['XRANGE', 's', '(2', '+'],
      ['XRANGE', 's', '-', '(2'],
      ['XRANGE', 's', '-', '+', 'COUNT', '3'],
      ['XREVRANGE', 's', '+', '-', 'count', '3'],
      ['XRANGE', 's', '-', '+', 'COUNT', '0'],
      ['XRANGE', 's', '-', '+', 'COUNT', '-5'],
      ['XRANGE', 's', '-', '+', 'COUNT', '2', 'COUNT', '4'],
      ['XRANGE', 's', '-', '+', 'COUNT'],
      ['XRANGE', 's', '-', '+', 'COUNT', 'x'],
      ['XRANGE', 's', '-', '+', 'FOO', '1'],
      ['XRANGE', 's', '3', '2'],
      ['XREVRANGE', 's', '2', '3'],
      ['XRANGE', 's', '(-', '+'],
      ['XRANGE', 's', '-', '(+'],
      ['XRANGE', 's', '(18446744073709551615-18446744073709551615', '+'],
      ['XRANGE', 's', '-', '(0-0'],
      ['XRANGE', 's', '(', '+'],
      ['XRANGE', 's', 'x', '+'],
      ['XRANGE', 's', '-', 'y'],
      ['XRANGE', 's', '(0', '(1-1'],
      ['XRANGE', 'missing', '-', '+'],
      ['XRANGE', 'missing', '-', '+', 'COUNT', '0'],
      ['XRANGE', 's'],
    );
    return s.same(steps);
  });

  test('XDEL: tombstones, first entry, counts, invalid IDs are checked before any deletion', () =>
    s.same([
      ['XADD', 's', '1-1', 'a', '1'],
      ['XADD', 's', '2-1', 'b', '2'],
      ['XADD', 's', '3-1', 'c', '3'],
      ['XDEL', 's', '1-1', '1-1', '9-9'],
      ['XRANGE', 's', '-', '+'],
      ['XDEL', 's', '2-1', 'bad'],
      ['XLEN', 's'],
      ['XDEL', 's', '2-1', '3-1'],
      ['XLEN', 's'],
      ['EXISTS', 's'],
      ['XRANGE', 's', '-', '+'],
      ['XADD', 's', '3-1', 'c', '3'],
      ['XADD', 's', '4-1', 'd', '4'],
      ['XRANGE', 's', '-', '+'],
      ['XDEL', 'missing', '1-1'],
      ['XDEL', 's'],
    ]));

  test('XTRIM and XADD trimming: MAXLEN, MINID, = and ~ (whole 100-entry nodes), LIMIT', () => {
    const steps: Step[] = [];
    for (let i = 1; i <= 350; i++) steps.push(['XADD', 's', `${i}-1`, 'f', String(i)]);
    steps.push(
      ['XTRIM', 's', 'MAXLEN', '~', '300'],
      ['XLEN', 's'],
      ['XTRIM', 's', 'MAXLEN', '~', '160'],
      ['XLEN', 's'],
      ['XRANGE', 's', '-', '+', 'COUNT', '1'],
      ['XTRIM', 's', 'MAXLEN', '=', '120'],
      ['XLEN', 's'],
      ['XRANGE', 's', '-', '+', 'COUNT', '1'],
      ['XTRIM', 's', 'MINID', '~', '300'],
      ['XLEN', 's'],
      ['XTRIM', 's', 'MINID', '305'],
      ['XLEN', 's'],
      ['XRANGE', 's', '-', '+', 'COUNT', '2'],
      ['XTRIM', 's', 'MAXLEN', '~', '0', 'LIMIT', '10'],
      ['XLEN', 's'],
      ['XTRIM', 's', 'MAXLEN', '0'],
      ['XLEN', 's'],
      ['EXISTS', 's'],
      ['XTRIM', 'missing', 'MAXLEN', '0'],
      ['XTRIM', 's', 'LIMIT', '5'],
      ['XTRIM', 's', 'FOO', '5'],
      ['XTRIM', 's', 'MAXLEN', '1', 'MINID', '1'],
      ['XTRIM', 's', 'MAXLEN', '1', 'LIMIT', '1'],
      ['XTRIM', 's', 'MAXLEN', 'x'],
      ['XTRIM', 's', 'MINID', 'x'],
    );
    for (let i = 1; i <= 250; i++) steps.push(['XADD', 't', 'MAXLEN', '~', '120', `${i}-1`, 'f', String(i)]);
    steps.push(['XLEN', 't'], ['XRANGE', 't', '-', '+', 'COUNT', '1']);
    for (let i = 1; i <= 30; i++) steps.push(['XADD', 'u', 'MINID', '=', String(i - 5), `${i}-1`, 'f', String(i)]);
    steps.push(['XLEN', 'u'], ['XRANGE', 'u', '-', '+', 'COUNT', '1']);
    for (let i = 1; i <= 20; i++) steps.push(['XADD', 'v', 'MAXLEN', '3', `${i}-1`, 'f', String(i)]);
    steps.push(['XRANGE', 'v', '-', '+']);
    return s.same(steps);
  });

  test("node boundaries follow Redis's 4096-byte listpacks too: ~ trimming and XINFO with large, numeric and varied entries", () => {
    const steps: Step[] = [];
    const rand = rng(4096);
    for (let i = 1; i <= 300; i++) {
      const r = rand();
      const fields =
        r < 0.3
          ? ['payload', 'x'.repeat(Math.floor(rand() * 300))]
          : r < 0.5
            ? ['n', String(Math.floor(rand() * 1e9) - 5e8), 'm', String(i)]
            : r < 0.7
              ? ['payload', String(i), 'extra', 'y'.repeat(Math.floor(rand() * 70))]
              : ['k'.repeat(1 + Math.floor(rand() * 80)), 'v'];
      steps.push(['XADD', 'big', `${1000 + i * 7}-${Math.floor(rand() * 3)}`, ...fields]);
      if (i % 60 === 0) steps.push(['XINFO', 'STREAM', 'big']);
    }
    steps.push(['XADD', 'huge', '1-1', 'f', 'z'.repeat(5000)], ['XADD', 'huge', '1-2', 'f', 'a'], ['XADD', 'huge', '1-3', 'f', 'b'], ['XINFO', 'STREAM', 'huge']);
    steps.push(
      ['XTRIM', 'big', 'MAXLEN', '~', '250'],
      ['XINFO', 'STREAM', 'big'],
      ['XTRIM', 'big', 'MINID', '~', '2000'],
      ['XINFO', 'STREAM', 'big'],
      ['XTRIM', 'big', 'MAXLEN', '~', '10'],
      ['XINFO', 'STREAM', 'big'],
      ['COPY', 'big', 'big2'],
      ['XINFO', 'STREAM', 'big2'],
    );
    return s.same(steps);
  });

  test('XSETID: last ID, ENTRIESADDED, MAXDELETEDID and its errors', () =>
    s.same([
      ['XADD', 's', '5-5', 'a', '1'],
      ['XSETID', 's', '5-4'],
      ['XSETID', 's', '5-5'],
      ['XSETID', 's', '10-0'],
      ['XADD', 's', '9-0', 'a', '1'],
      ['XADD', 's', '10-*', 'a', '1'],
      ['XSETID', 's', '20-0', 'ENTRIESADDED', '0'],
      ['XSETID', 's', '20-0', 'ENTRIESADDED', '-1'],
      ['XSETID', 's', '20-0', 'ENTRIESADDED', '7', 'MAXDELETEDID', '15-0'],
      ['XSETID', 's', '20-0', 'MAXDELETEDID', '25-0'],
      ['XSETID', 's', '14-0'],
      ['XSETID', 's', '20-0', 'FOO'],
      ['XSETID', 's', 'bad'],
      ['XSETID', 's', '-'],
      ['XSETID', 'missing', '1-1'],
      ['XADD', 's', '20-*', 'a', '1'],
      ['XDEL', 's', '5-5', '10-1', '20-1'],
      ['XLEN', 's'],
      ['XSETID', 's', '0-1'],
      ['XSETID', 's', '20-0'],
    ]));

  test('XREAD: several streams, COUNT, $, missing keys, errors, inside MULTI', () =>
    s.same([
      ['XADD', 'a', '1-1', 'x', '1'],
      ['XADD', 'a', '2-1', 'x', '2'],
      ['XADD', 'b', '1-5', 'y', '1'],
      ['XREAD', 'STREAMS', 'a', 'b', '0', '0'],
      ['XREAD', 'COUNT', '1', 'STREAMS', 'a', 'b', '1-1', '0-0'],
      ['XREAD', 'STREAMS', 'a', 'b', '2-1', '1-5'],
      ['XREAD', 'STREAMS', 'a', '$'],
      ['XREAD', 'STREAMS', 'missing', 'a', '0', '1'],
      ['XREAD', 'STREAMS', 'a', '+'],
      ['XREAD', 'STREAMS', 'a', '-'],
      ['XREAD', 'STREAMS', 'a', 'bad'],
      ['XREAD', 'STREAMS', 'a', 'b', '0'],
      ['XREAD', 'STREAMS', 'a', '>'],
      ['XREAD', 'COUNT', 'x', 'STREAMS', 'a', '0'],
      ['XREAD', 'BLOCK', 'x', 'STREAMS', 'a', '0'],
      ['XREAD', 'BLOCK', '-1', 'STREAMS', 'a', '0'],
      ['XREAD', 'GROUP', 'g', 'c', 'STREAMS', 'a', '0'],
      ['XREAD', 'NOACK', 'STREAMS', 'a', '0'],
      ['XREAD', 'FOO', 'STREAMS', 'a', '0'],
      ['XREAD', 'COUNT', '1', 'a', '0'],
      ['XREAD', 'COUNT', '-3', 'STREAMS', 'a', '0'],
      ['XREAD', 'BLOCK', '100', 'STREAMS', 'a', '0'],
      ['MULTI'],
      ['XREAD', 'BLOCK', '0', 'STREAMS', 'a', '$'],
      ['XADD', 'a', '3-1', 'x', '3'],
      ['XREAD', 'BLOCK', '0', 'STREAMS', 'a', '2-1'],
      ['EXEC'],
    ]));

  describe('XREAD BLOCK', () => {
    test('a waiter on $ is served by the next XADD, an existing stream too', () =>
      s.script(2, [
        [1, ['XADD', 's', '1-1', 'a', '1']],
        { send: 0, cmd: ['XREAD', 'BLOCK', '0', 'STREAMS', 's', '$'] },
        { quiet: 0 },
        [1, ['XADD', 's', '2-1', 'b', '2']],
        { reply: 0 },
        [0, ['PING']],
      ]));

    test('a waiter on a missing key is served when XADD creates it; other keys do not wake it', () =>
      s.script(2, [
        { send: 0, cmd: ['XREAD', 'COUNT', '5', 'BLOCK', '0', 'STREAMS', 'k1', 'k2', '$', '0-0'] },
        { quiet: 0 },
        [1, ['XADD', 'other', '1-1', 'a', '1']],
        [1, ['LPUSH', 'k1', 'x']],
        { quiet: 0 },
        [1, ['XADD', 'k2', '7-1', 'a', '1', 'b', '2']],
        { reply: 0 },
      ]));

    test('several waiters are all served by one XADD (a stream is not consumed); a waiter after a later ID keeps waiting', () =>
      s.script(4, [
        [3, ['XADD', 's', '5-1', 'a', '1']],
        { send: 0, cmd: ['XREAD', 'BLOCK', '0', 'STREAMS', 's', '5-1'] },
        { send: 1, cmd: ['XREAD', 'BLOCK', '0', 'STREAMS', 's', '$'] },
        { send: 2, cmd: ['XREAD', 'BLOCK', '0', 'STREAMS', 's', '9-0'] },
        { quiet: [0, 1, 2] },
        [3, ['XADD', 's', '6-1', 'b', '2']],
        { reply: 0 },
        { reply: 1 },
        { quiet: 2 },
        [3, ['XADD', 's', '9-1', 'c', '3']],
        { reply: 2 },
      ]));

    test('entries added inside MULTI are served after EXEC; a waiter times out with a null reply', () =>
      s.script(3, [
        { send: 0, cmd: ['XREAD', 'BLOCK', '0', 'STREAMS', 's', '$'] },
        { quiet: 0 },
        [1, ['MULTI']],
        [1, ['XADD', 's', '1-1', 'a', '1']],
        [1, ['XADD', 's', '1-2', 'a', '2']],
        { quiet: 0 },
        [1, ['EXEC']],
        { reply: 0 },
        [2, ['XREAD', 'BLOCK', '20', 'STREAMS', 's', '$']],
        [2, ['XREAD', 'BLOCK', '20', 'STREAMS', 'nothere', '0']],
      ]));

    test('XDEL and XTRIM do not wake; XSETID does not either', () =>
      s.script(2, [
        [1, ['XADD', 's', '1-1', 'a', '1']],
        { send: 0, cmd: ['XREAD', 'BLOCK', '0', 'STREAMS', 's', '1-1'] },
        { quiet: 0 },
        [1, ['XDEL', 's', '1-1']],
        [1, ['XTRIM', 's', 'MAXLEN', '0']],
        [1, ['XSETID', 's', '5-0']],
        { quiet: 0 },
        [1, ['XADD', 's', '6-0', 'a', '1']],
        { reply: 0 },
      ]));
  });

  describe('consumer groups', () => {
    test('XGROUP CREATE (MKSTREAM, ENTRIESREAD, $), CREATECONSUMER, DELCONSUMER, DESTROY, SETID and errors', () =>
      s.same([
        ['XGROUP', 'CREATE', 's', 'g', '0'],
        ['XGROUP', 'CREATE', 's', 'g', '0', 'MKSTREAM'],
        ['XGROUP', 'CREATE', 's', 'g', '0', 'MKSTREAM'],
        ['TYPE', 's'],
        ['XLEN', 's'],
        ['XADD', 's', '1-1', 'a', '1'],
        ['XGROUP', 'CREATE', 's', 'g2', '$', 'ENTRIESREAD', '1'],
        ['XGROUP', 'CREATE', 's', 'g3', '$', 'ENTRIESREAD', '-2'],
        ['XGROUP', 'CREATE', 's', 'g3', '$', 'ENTRIESREAD', 'x'],
        ['XGROUP', 'CREATE', 's', 'g3', '$', 'FOO'],
        ['XGROUP', 'CREATE', 's', 'g3', 'bad'],
        ['XGROUP', 'CREATE', 's', 'g3', '+'],
        ['XGROUP', 'CREATECONSUMER', 's', 'g', 'c1'],
        ['XGROUP', 'CREATECONSUMER', 's', 'g', 'c1'],
        ['XGROUP', 'CREATECONSUMER', 's', 'nog', 'c1'],
        ['XGROUP', 'CREATECONSUMER', 'missing', 'g', 'c1'],
        ['XGROUP', 'DELCONSUMER', 's', 'g', 'c1'],
        ['XGROUP', 'DELCONSUMER', 's', 'g', 'c1'],
        ['XGROUP', 'SETID', 's', 'g', '$'],
        ['XGROUP', 'SETID', 's', 'g', '0', 'ENTRIESREAD', '0'],
        ['XGROUP', 'SETID', 's', 'g', '-'],
        ['XGROUP', 'SETID', 's', 'g', 'x'],
        ['XGROUP', 'SETID', 's', 'nog', '0'],
        ['XGROUP', 'SETID', 's', 'g', '0', 'MKSTREAM'],
        ['XGROUP', 'DESTROY', 's', 'g2'],
        ['XGROUP', 'DESTROY', 's', 'g2'],
        ['XGROUP', 'DESTROY', 'missing', 'g2'],
        ['XGROUP', 'FOO', 's', 'g'],
        ['XGROUP', 'CREATE', 's'],
        ['XGROUP', 'DESTROY', 's', 'g', 'x'],
        ['XGROUP'],
        ['XGROUP', 'CREATE', 's', 'g', '0', 'MKSTREAM', 'ENTRIESREAD', '1', 'x'],
        ['XGROUP', 'HELP'],
        ['XGROUP', 'help', 'x'],
        ['XINFO', 'HELP'],
        ['XINFO'],
      ]));

    test('XREADGROUP: >, history by ID, COUNT, NOACK, XACK, XPENDING summary and extended', () =>
      s.same([
        ['XADD', 's', '1-1', 'a', '1'],
        ['XADD', 's', '2-1', 'b', '2'],
        ['XADD', 's', '3-1', 'c', '3'],
        ['XADD', 's', '4-1', 'd', '4'],
        ['XGROUP', 'CREATE', 's', 'g', '0'],
        ['XPENDING', 's', 'g'],
        ['XREADGROUP', 'GROUP', 'g', 'alice', 'COUNT', '2', 'STREAMS', 's', '>'],
        ['XREADGROUP', 'GROUP', 'g', 'bob', 'COUNT', '1', 'STREAMS', 's', '>'],
        ['XREADGROUP', 'GROUP', 'g', 'carol', 'NOACK', 'STREAMS', 's', '>'],
        ['XREADGROUP', 'GROUP', 'g', 'carol', 'STREAMS', 's', '>'],
        ['XPENDING', 's', 'g'],
        { cmd: ['XPENDING', 's', 'g', '-', '+', '10'], match: 'shape' },
        { cmd: ['XPENDING', 's', 'g', '-', '+', '10', 'bob'], match: 'shape' },
        ['XPENDING', 's', 'g', '-', '+', '10', 'nobody'],
        ['XPENDING', 's', 'g', '-', '+', '0'],
        ['XPENDING', 's', 'g', 'IDLE', '9999999', '-', '+', '10'],
        ['XREADGROUP', 'GROUP', 'g', 'alice', 'STREAMS', 's', '0'],
        ['XREADGROUP', 'GROUP', 'g', 'alice', 'COUNT', '1', 'STREAMS', 's', '1-1'],
        ['XDEL', 's', '2-1'],
        ['XREADGROUP', 'GROUP', 'g', 'alice', 'STREAMS', 's', '0'],
        ['XACK', 's', 'g', '1-1', '2-1', '9-9'],
        ['XACK', 's', 'g', '1-1'],
        ['XACK', 's', 'g', 'bad'],
        ['XACK', 's', 'nog', '1-1'],
        ['XACK', 'missing', 'g', '1-1'],
        ['XPENDING', 's', 'g'],
        ['XREADGROUP', 'GROUP', 'g', 'alice', 'STREAMS', 's', '0'],
        ['XREADGROUP', 'GROUP', 'nog', 'alice', 'STREAMS', 's', '>'],
        ['XREADGROUP', 'GROUP', 'g', 'alice', 'STREAMS', 'missing', '>'],
        ['XREADGROUP', 'GROUP', 'g', 'alice', 'STREAMS', 's', '$'],
        ['XREADGROUP', 'STREAMS', 's', '>'],
        ['XREADGROUP', 'GROUP', 'g', 'alice', 'STREAMS', 's'],
        ['XPENDING', 's', 'g', '-'],
        ['XPENDING', 's', 'g', '-', '+', 'x'],
        ['XPENDING', 's', 'g', 'IDLE', 'x', '-', '+', '1'],
        ['XPENDING', 's', 'g', 'IDLE', '1', '-', '+'],
        ['XPENDING', 's', 'nog'],
        ['XPENDING', 'missing', 'g'],
        ['XGROUP', 'DELCONSUMER', 's', 'g', 'bob'],
        ['XPENDING', 's', 'g'],
      ]));

    test('XCLAIM: min-idle, IDLE/TIME/RETRYCOUNT/FORCE/JUSTID/LASTID, deleted entries leave the PEL, errors', () =>
      s.same([
        ['XADD', 's', '1-1', 'a', '1'],
        ['XADD', 's', '2-1', 'b', '2'],
        ['XADD', 's', '3-1', 'c', '3'],
        ['XADD', 's', '4-1', 'd', '4'],
        ['XGROUP', 'CREATE', 's', 'g', '0'],
        ['XREADGROUP', 'GROUP', 'g', 'alice', 'COUNT', '3', 'STREAMS', 's', '>'],
        ['XCLAIM', 's', 'g', 'bob', '0', '1-1', 'TIME', '1000'],
        ['XCLAIM', 's', 'g', 'bob', '0', '2-1', 'JUSTID', 'RETRYCOUNT', '7', 'TIME', '2000'],
        ['XCLAIM', 's', 'g', 'bob', '99999999', '3-1'],
        ['XCLAIM', 's', 'g', 'bob', '0', '4-1', '9-9'],
        ['XCLAIM', 's', 'g', 'bob', '0', '4-1', 'FORCE', 'JUSTID', 'TIME', '3000'],
        ['XCLAIM', 's', 'g', 'carol', '0', '3-1', 'IDLE', '5', 'JUSTID'],
        ['XPENDING', 's', 'g'],
        { cmd: ['XPENDING', 's', 'g', '-', '+', '10'], match: 'shape' },
        ['XDEL', 's', '1-1'],
        ['XCLAIM', 's', 'g', 'carol', '0', '1-1', '2-1', 'JUSTID', 'TIME', '4000'],
        ['XPENDING', 's', 'g'],
        ['XCLAIM', 's', 'g', 'carol', '0', '2-1', 'LASTID', '8-0', 'JUSTID', 'TIME', '5000'],
        ['XINFO', 'GROUPS', 's'],
        ['XCLAIM', 's', 'g', 'carol', 'x', '2-1'],
        ['XCLAIM', 's', 'g', 'carol', '0', '2-1', 'IDLE', 'x'],
        ['XCLAIM', 's', 'g', 'carol', '0', '2-1', 'TIME', 'x'],
        ['XCLAIM', 's', 'g', 'carol', '0', '2-1', 'RETRYCOUNT', 'x'],
        ['XCLAIM', 's', 'g', 'carol', '0', '2-1', 'LASTID', 'x'],
        ['XCLAIM', 's', 'g', 'carol', '0', '2-1', 'BOGUS'],
        ['XCLAIM', 's', 'g', 'carol', '0', 'bad'],
        ['XCLAIM', 's', 'nog', 'carol', '0', '2-1'],
        ['XCLAIM', 'missing', 'g', 'carol', '0', '2-1'],
        { cmd: ['XINFO', 'STREAM', 's', 'FULL'], match: 'shape' },
      ]));

    test('XAUTOCLAIM: cursor, COUNT, JUSTID, deleted IDs, errors', () => {
      const steps: Step[] = [];
      for (let i = 1; i <= 12; i++) steps.push(['XADD', 's', `${i}-1`, 'n', String(i)]);
      steps.push(
        ['XGROUP', 'CREATE', 's', 'g', '0'],
        ['XREADGROUP', 'GROUP', 'g', 'alice', 'STREAMS', 's', '>'],
        ['XDEL', 's', '3-1', '4-1'],
        ['XAUTOCLAIM', 's', 'g', 'bob', '0', '0', 'COUNT', '3'],
        ['XAUTOCLAIM', 's', 'g', 'bob', '0', '5-1', 'COUNT', '2', 'JUSTID'],
        ['XAUTOCLAIM', 's', 'g', 'bob', '0', '(6-1', 'JUSTID'],
        ['XAUTOCLAIM', 's', 'g', 'carol', '99999999', '-', 'JUSTID'],
        ['XPENDING', 's', 'g'],
        ['XAUTOCLAIM', 's', 'g', 'bob', 'x', '0'],
        ['XAUTOCLAIM', 's', 'g', 'bob', '0', 'x'],
        ['XAUTOCLAIM', 's', 'g', 'bob', '0', '0', 'COUNT', '0'],
        ['XAUTOCLAIM', 's', 'g', 'bob', '0', '0', 'COUNT', 'x'],
        ['XAUTOCLAIM', 's', 'g', 'bob', '0', '0', 'FOO'],
        ['XAUTOCLAIM', 's', 'nog', 'bob', '0', '0'],
        ['XAUTOCLAIM', 'missing', 'g', 'bob', '0', '0'],
        ['SET', 'str', 'v'],
        ['XAUTOCLAIM', 'str', 'g', 'bob', '0', '0'],
        ['XCLAIM', 'str', 'g', 'bob', '0', '0'],
      );
      return s.same(steps);
    });

    test('XINFO STREAM [FULL [COUNT]], GROUPS (entries-read, lag), CONSUMERS, errors', () => {
      const steps: Step[] = [['XGROUP', 'CREATE', 'e', 'g', '$', 'MKSTREAM'], ['XINFO', 'STREAM', 'e'], ['XINFO', 'STREAM', 'e', 'FULL'], ['XINFO', 'GROUPS', 'e']];
      for (let i = 1; i <= 250; i++) steps.push(['XADD', 's', `${i}-1`, 'n', String(i)]);
      steps.push(
        ['XINFO', 'STREAM', 's'],
        ['XGROUP', 'CREATE', 's', 'g2', '0'],
        ['XGROUP', 'CREATE', 's', 'g1', '$'],
        ['XGROUP', 'CREATE', 's', 'g3', '100-1', 'ENTRIESREAD', '100'],
        ['XINFO', 'GROUPS', 's'],
        ['XREADGROUP', 'GROUP', 'g2', 'c', 'COUNT', '3', 'STREAMS', 's', '>'],
        ['XREADGROUP', 'GROUP', 'g3', 'c', 'NOACK', 'COUNT', '3', 'STREAMS', 's', '>'],
        ['XINFO', 'GROUPS', 's'],
        ['XDEL', 's', '10-1', '1-1'],
        ['XINFO', 'GROUPS', 's'],
        ['XREADGROUP', 'GROUP', 'g2', 'c', 'COUNT', '10', 'STREAMS', 's', '>'],
        ['XINFO', 'GROUPS', 's'],
        ['XINFO', 'STREAM', 's'],
        ['XTRIM', 's', 'MAXLEN', '~', '120'],
        ['XINFO', 'STREAM', 's'],
        ['XADD', 's', '300-1', 'n', 'x'],
        ['XINFO', 'GROUPS', 's'],
        ['XGROUP', 'SETID', 's', 'g1', '0'],
        ['XINFO', 'GROUPS', 's'],
        { cmd: ['XINFO', 'STREAM', 's', 'FULL', 'COUNT', '2'], match: 'shape' },
        { cmd: ['XINFO', 'STREAM', 's', 'FULL'], match: 'shape' },
        { cmd: ['XINFO', 'CONSUMERS', 's', 'g2'], match: 'shape' },
        ['XINFO', 'CONSUMERS', 's', 'nog'],
        ['XINFO', 'CONSUMERS', 'missing', 'g2'],
        ['XINFO', 'STREAM', 'missing'],
        ['XINFO', 'STREAM', 's', 'FOO'],
        ['XINFO', 'STREAM', 's', 'FULL', 'COUNT'],
        ['XINFO', 'STREAM', 's', 'FULL', 'LIMIT', '3'],
        ['XINFO', 'STREAM', 's', 'FULL', 'COUNT', 'x'],
        ['XINFO', 'GROUPS'],
        ['XINFO', 'FOO', 's'],
        ['XINFO', 'GROUPS', 's', 'x'],
        ['SET', 'str', 'v'],
        ['XINFO', 'STREAM', 'str'],
        ['XINFO', 'GROUPS', 'str'],
      );
      for (let i = 301; i <= 320; i++) steps.push(['XADD', 'fullkey', `${i}-1`, 'n', String(i)]);
      steps.push(
        ['XGROUP', 'CREATE', 'fullkey', 'g', '0'],
        ['XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', '4', 'STREAMS', 'fullkey', '>'],
        ['XCLAIM', 'fullkey', 'g', 'c', '0', '301-1', '302-1', '303-1', '304-1', 'TIME', '1234', 'JUSTID'],
        ['XGROUP', 'DELCONSUMER', 'fullkey', 'g', 'nobody'],
        // Consumers' seen-time is the clock's: compared by shape.
        { cmd: ['XINFO', 'STREAM', 'fullkey', 'FULL', 'COUNT', '3'], match: 'shape' },
        ['XGROUP', 'CREATE', 'fullkey', 'g0', '305-1'],
        ['XGROUP', 'DESTROY', 'fullkey', 'g'],
        ['XINFO', 'STREAM', 'fullkey', 'FULL', 'COUNT', '3'],
        ['XINFO', 'STREAM', 'fullkey', 'FULL', 'COUNT', '0'],
      );
      return s.same(steps);
    });

    test('XREADGROUP BLOCK: served by XADD, several consumers share new entries, DESTROY wakes with NOGROUP', () =>
      s.script(3, [
        [2, ['XGROUP', 'CREATE', 's', 'g', '$', 'MKSTREAM']],
        { send: 0, cmd: ['XREADGROUP', 'GROUP', 'g', 'c0', 'BLOCK', '0', 'STREAMS', 's', '>'] },
        { send: 1, cmd: ['XREADGROUP', 'GROUP', 'g', 'c1', 'BLOCK', '0', 'STREAMS', 's', '>'] },
        { quiet: [0, 1] },
        [2, ['XADD', 's', '1-1', 'a', '1']],
        { reply: 0 },
        { quiet: 1 },
        [2, ['XPENDING', 's', 'g']],
        [2, ['XADD', 's', '2-1', 'b', '2']],
        { reply: 1 },
        [2, ['XPENDING', 's', 'g']],
        { send: 0, cmd: ['XREADGROUP', 'GROUP', 'g', 'c0', 'BLOCK', '0', 'STREAMS', 's', '>'] },
        { quiet: 0 },
        [2, ['XGROUP', 'DESTROY', 's', 'g']],
        { reply: 0 },
        [2, ['XREADGROUP', 'GROUP', 'g', 'c0', 'BLOCK', '0', 'STREAMS', 's', '>']],
      ]));
  });

  test('WATCH sees XADD and XDEL on an existing stream, not XGROUP, XREADGROUP, XACK, XSETID or a trim that trims nothing; TTLs stay through XADD; COPY and RENAME', () =>
    s.script(2, [
      [1, ['XADD', 's', '1-1', 'a', '1']],
      [0, ['WATCH', 's']],
      [1, ['XADD', 's', '2-1', 'b', '2']],
      [0, ['MULTI']],
      [0, ['XLEN', 's']],
      [0, ['EXEC']],
      [0, ['WATCH', 's']],
      [1, ['XGROUP', 'CREATE', 's', 'g', '0']],
      [0, ['MULTI']],
      [0, ['XLEN', 's']],
      [0, ['EXEC']],
      [0, ['WATCH', 's']],
      [1, ['XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', '1', 'STREAMS', 's', '>']],
      [0, ['MULTI']],
      [0, ['XLEN', 's']],
      [0, ['EXEC']],
      [0, ['WATCH', 's']],
      [1, ['XDEL', 's', '9-9']],
      [1, ['XACK', 's', 'g', '1-1']],
      [1, ['XRANGE', 's', '-', '+']],
      [0, ['MULTI']],
      [0, ['XLEN', 's']],
      [0, ['EXEC']],
      [0, ['WATCH', 's']],
      [1, ['XDEL', 's', '1-1']],
      [0, ['MULTI']],
      [0, ['XLEN', 's']],
      [0, ['EXEC']],
      [0, ['WATCH', 's']],
      [1, ['XTRIM', 's', 'MAXLEN', '5']],
      [1, ['XSETID', 's', '2-5']],
      [0, ['MULTI']],
      [0, ['XLEN', 's']],
      [0, ['EXEC']],
      [1, ['EXPIRE', 's', '1000']],
      [1, ['XADD', 's', '3-1', 'c', '3']],
      [1, ['TTL', 's']],
      [1, ['COPY', 's', 's2']],
      [1, ['XADD', 's2', '4-1', 'd', '4']],
      [1, ['XLEN', 's']],
      [1, ['XLEN', 's2']],
      [1, ['XINFO', 'GROUPS', 's2']],
      [1, ['RENAME', 's2', 's3']],
      [1, ['TYPE', 's3']],
      [1, ['XRANGE', 's3', '-', '+']],
      [1, ['DEL', 's3']],
      [1, ['EXISTS', 's3']],
    ]));

  for (const seed of [15, 7001]) {
    test(`a seeded random sequence of stream commands (seed ${seed})`, () => {
      const rand = rng(seed);
      const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
      const steps: Step[] = [];
      let ms = 1;
      const keys = ['s1', 's2'];
      const groups = ['g1', 'g2'];
      const someId = (): string => `${Math.floor(rand() * (ms + 2))}-${Math.floor(rand() * 3)}`;
      for (let i = 0; i < 500; i++) {
        const key = pick(keys);
        const r = rand();
        let cmd: Cmd;
        if (r < 0.35) {
          if (rand() < 0.7) ms += Math.floor(rand() * 3);
          const id = rand() < 0.5 ? `${ms}-*` : `${ms}-${Math.floor(rand() * 4)}`;
          const trim = rand() < 0.15 ? [pick(['MAXLEN', 'MINID']), pick(['=', '~']), pick([String(Math.floor(rand() * 30)), someId()])] : [];
          cmd = ['XADD', key, ...trim, id, 'f', String(i)];
        } else if (r < 0.43) cmd = ['XRANGE', key, someId(), pick(['+', someId()]), 'COUNT', String(Math.floor(rand() * 6))];
        else if (r < 0.5) cmd = ['XREVRANGE', key, pick(['+', someId()]), pick(['-', `(${someId()}`])];
        else if (r < 0.57) cmd = ['XDEL', key, someId(), someId()];
        else if (r < 0.6) cmd = ['XTRIM', key, pick(['MAXLEN', 'MINID']), pick(['=', '~']), pick([String(Math.floor(rand() * 40)), someId()]), ...(rand() < 0.3 ? ['LIMIT', String(Math.floor(rand() * 200))] : [])];
        else if (r < 0.65) cmd = ['XREAD', 'COUNT', String(1 + Math.floor(rand() * 4)), 'STREAMS', ...keys, someId(), someId()];
        else if (r < 0.68) cmd = ['XGROUP', 'CREATE', key, pick(groups), pick(['0', '$', someId()]), 'MKSTREAM'];
        else if (r < 0.69) cmd = ['XGROUP', 'SETID', key, pick(groups), pick(['0', '$', someId()])];
        else if (r < 0.76) cmd = ['XREADGROUP', 'GROUP', pick(groups), pick(['a', 'b']), 'COUNT', '2', ...(rand() < 0.2 ? ['NOACK'] : []), 'STREAMS', key, pick(['>', '>', '0'])];
        else if (r < 0.8) cmd = ['XACK', key, pick(groups), someId(), someId()];
        else if (r < 0.83) cmd = ['XPENDING', key, pick(groups)];
        else if (r < 0.86) cmd = ['XCLAIM', key, pick(groups), pick(['a', 'b', 'c']), '0', someId(), someId(), 'JUSTID', 'TIME', String(1000 + i)];
        else if (r < 0.89) cmd = ['XAUTOCLAIM', key, pick(groups), pick(['a', 'b', 'c']), '0', someId(), 'COUNT', String(1 + Math.floor(rand() * 3)), 'JUSTID'];
        else if (r < 0.93) cmd = ['XINFO', 'GROUPS', key];
        else if (r < 0.96) cmd = ['XINFO', 'STREAM', key];
        else if (r < 0.98) cmd = ['XSETID', key, someId()];
        else cmd = ['XGROUP', pick(['DELCONSUMER', 'CREATECONSUMER']), key, pick(groups), pick(['a', 'b', 'c'])];
        steps.push(cmd);
        if (i % 50 === 49) steps.push(['XLEN', 's1'], ['XLEN', 's2'], ['XRANGE', 's1', '-', '+'], ['XRANGE', 's2', '-', '+']);
      }
      return s.same(steps);
    });
  }
});
