// Differential: CONFIG GET/SET and SLOWLOG against redis-server 7.0.
// - CONFIG GET * names the same parameters (aliases included) with the same
//   defaults, but for the deviations listed here (README: Configuration);
// - CONFIG SET of every mutable parameter with valid and invalid values: the
//   same reply bytes (Redis's range, enum and parse errors), and afterwards the
//   same configuration (a refused value leaves the old one);
// - several parameters at once: all or none; duplicates; unknown, immutable
//   and protected parameters; arity; HELP;
// - SLOWLOG with slowlog-log-slower-than 0: the same entries, ids, timestamps,
//   durations and ports masked.

import { describe, expect, test } from 'vitest';
import { parseReply, type RespReply } from '../../src/protocol/resp.js';
import { useServers, type RawClient } from './harness.js';

/** Parameters whose values differ on purpose (README: Configuration, deviations). */
const DEVIATIONS = new Map<string, string>([
  ['port', 'each server its own port'],
  ['dir', 'each server its own directory'],
  ['client-output-buffer-limit', "redloop's normal class has a 256mb hard limit (Redis: none)"],
]);

/** Not changed by the sweep: they would cut the test's own connections or listeners. */
const NOT_SWEPT = new Set(['port', 'bind', 'requirepass', 'maxclients', 'protected-mode', 'client-query-buffer-limit', 'proto-max-bulk-len']);

const VALUES = ['-1', '-2147483649', 'abc', 'maybe', '1.5', '', '0', '1', '70000', '5000000000', '1mb', '2GB', 'bogus', 'yes', 'NO', '3 4'];

function parse(b: Buffer): RespReply {
  const r = parseReply(b);
  if (r === null) throw new Error('incomplete reply');
  return r.reply;
}

function text(r: RespReply): string {
  if (r.type === 'bulk') return r.value === null ? '(nil)' : r.value.toString('latin1');
  if (r.type === 'status' || r.type === 'error') return r.value;
  throw new Error(`unexpected ${r.type}`);
}

/** CONFIG GET's reply (RESP2 flat array or RESP3 map) as a Map. */
async function configGet(c: RawClient, ...patterns: string[]): Promise<Map<string, string>> {
  const r = parse(await c.call(['CONFIG', 'GET', ...patterns]));
  if ((r.type !== 'array' && r.type !== 'map') || r.items === null) throw new Error(`CONFIG GET answered ${r.type}`);
  const m = new Map<string, string>();
  for (let i = 0; i < r.items.length; i += 2) m.set(text(r.items[i]), text(r.items[i + 1]));
  return m;
}

function withoutDeviations(m: Map<string, string>): Map<string, string> {
  return new Map([...m].filter(([k]) => !DEVIATIONS.has(k)));
}

describe('CONFIG', () => {
  const s = useServers();

  test('CONFIG GET *: the same parameters and defaults, but for the listed deviations', async () => {
    const [theirs, ours] = [await configGet(s.redis, '*'), await configGet(s.ours, '*')];
    expect([...ours.keys()].sort()).toEqual([...theirs.keys()].sort());
    expect(withoutDeviations(ours)).toEqual(withoutDeviations(theirs));
    expect(ours.get('databases')).toBe('16');
  });

  test('CONFIG GET with several patterns, aliases and cases', async () => {
    for (const patterns of [
      ['maxmemory*', 'timeout'],
      ['hash-max-ziplist-*'],
      ['*listpack*', '*ziplist*'],
      ['SLOWLOG-*', 'slave*'],
      ['nosuch', 'lua-time-limit', 'busy-reply-threshold'],
      ['*-max-*-entries', 'hz', 'hz'],
      ['replica?of', 'slaveof', 'replicaof'],
    ]) {
      expect(await configGet(s.ours, ...patterns), patterns.join(' ')).toEqual(await configGet(s.redis, ...patterns));
    }
  });

  test('CONFIG SET of every mutable parameter, valid and invalid values: the same replies, then the same configuration', async () => {
    const before = await configGet(s.redis, '*');
    const problems: string[] = [];
    for (const name of [...before.keys()].sort()) {
      if (NOT_SWEPT.has(name) || DEVIATIONS.has(name)) continue;
      for (const v of VALUES) {
        const [a, b] = [await s.redis.call(['CONFIG', 'SET', name, v]), await s.ours.call(['CONFIG', 'SET', name, v])];
        if (!a.equals(b)) problems.push(`CONFIG SET ${name} ${JSON.stringify(v)}: redis ${JSON.stringify(a.toString())} ours ${JSON.stringify(b.toString())}`);
      }
    }
    expect(problems).toEqual([]);
    expect(withoutDeviations(await configGet(s.ours, '*'))).toEqual(withoutDeviations(await configGet(s.redis, '*')));
    // Back to the defaults, on both (the sweep left maxmemory and friends changed).
    for (const [name, value] of before) {
      if (NOT_SWEPT.has(name) || DEVIATIONS.has(name)) continue;
      for (const c of [s.redis, s.ours]) await c.call(['CONFIG', 'SET', name, value]);
    }
    expect(withoutDeviations(await configGet(s.ours, '*'))).toEqual(withoutDeviations(before));
  });

  test('several parameters: all or none; duplicates, unknown, immutable and protected parameters; arity; HELP', async () => {
    await s.same([
      ['CONFIG', 'SET', 'timeout', '5', 'maxclients', '0'],
      ['CONFIG', 'GET', 'timeout'],
      ['CONFIG', 'SET', 'timeout', '5', 'hz', '20', 'maxmemory-policy', 'allkeys-lru'],
      ['CONFIG', 'GET', 'timeout'],
      ['CONFIG', 'GET', 'hz'],
      ['CONFIG', 'SET', 'hz', '30', 'maxmemory-policy', 'sometimes'],
      ['CONFIG', 'GET', 'hz'],
      ['CONFIG', 'SET', 'timeout', '1', 'TIMEOUT', '2'],
      ['CONFIG', 'SET', 'hash-max-ziplist-entries', '100', 'hash-max-listpack-entries', '200'],
      ['CONFIG', 'GET', 'hash-max-ziplist-entries'],
      ['CONFIG', 'SET', 'hz', '10', 'nosuch', '1'],
      ['CONFIG', 'SET', 'hz', '11', 'daemonize', 'no'],
      ['CONFIG', 'SET', 'hz', '12', 'dir', '/tmp'],
      ['CONFIG', 'SET', 'hz', '13', 'dbfilename', 'x.rdb'],
      ['CONFIG', 'SET', 'daemonize', 'no', 'nosuch', '1'],
      ['CONFIG', 'GET', 'hz'],
      ['CONFIG', 'SET', 'proto-max-bulk-len', '1000'],
      ['CONFIG', 'SET', 'client-output-buffer-limit', 'pubsub 1mb'],
      ['CONFIG', 'SET', 'client-output-buffer-limit', 'nosuch 1 2 3'],
      ['CONFIG', 'SET', 'client-output-buffer-limit', 'pubsub 64mb 16mb 90'],
      ['CONFIG', 'GET', '*-buffer-limit-nothing'],
      ['CONFIG', 'SET', 'save', '100 1 200'],
      ['CONFIG', 'SET', 'save', '100 1 200 2'],
      ['CONFIG', 'GET', 'save'],
      ['CONFIG', 'SET', 'save', ''],
      ['CONFIG', 'SET', 'notify-keyspace-events', 'KEA'],
      ['CONFIG', 'GET', 'notify-keyspace-events'],
      ['CONFIG', 'SET', 'notify-keyspace-events', 'gxK'],
      ['CONFIG', 'GET', 'notify-keyspace-events'],
      ['CONFIG', 'SET', 'notify-keyspace-events', 'Q'],
      ['CONFIG', 'SET', 'notify-keyspace-events', ''],
      ['CONFIG', 'SET', 'hz', '1000'],
      ['CONFIG', 'GET', 'hz'],
      ['CONFIG', 'SET', 'hz', '10'],
      ['CONFIG', 'SET', 'maxmemory-clients', '10%'],
      ['CONFIG', 'GET', 'maxmemory-clients'],
      ['CONFIG', 'SET', 'maxmemory-clients', '0'],
      ['CONFIG', 'SET', 'oom-score-adj-values', '1 2'],
      ['CONFIG', 'SET', 'oom-score-adj-values', '1 2 3000'],
      ['CONFIG', 'SET', 'latency-tracking-info-percentiles', '50 99.99 100'],
      ['CONFIG', 'GET', 'latency-tracking-info-percentiles'],
      ['CONFIG', 'SET', 'latency-tracking-info-percentiles', '200'],
      ['CONFIG', 'SET', 'latency-tracking-info-percentiles', '50 99 99.9'],
      ['CONFIG', 'SET', 'shutdown-on-sigint', 'save now'],
      ['CONFIG', 'GET', 'shutdown-on-sigint'],
      ['CONFIG', 'SET', 'shutdown-on-sigint', 'default'],
      ['CONFIG', 'SET', 'replicaof', 'localhost 1'],
      ['CONFIG', 'SET', 'timeout', '0', 'hash-max-listpack-entries', '512', 'maxmemory-policy', 'noeviction'],
      ['CONFIG', 'SET', 'timeout'],
      ['CONFIG', 'SET', 'timeout', '1', 'hz'],
      ['CONFIG', 'GET'],
      ['CONFIG', 'REWRITE'],
      ['CONFIG', 'RESETSTAT'],
      ['CONFIG', 'HELP'],
      ['CONFIG', 'NOSUCH'],
    ]);
  });
});

describe('SLOWLOG', () => {
  const s = useServers();

  /** SLOWLOG GET's reply with ids, unix times, durations and client ports masked. */
  const mask = (b: Buffer): string =>
    b
      .toString('latin1')
      .replace(/\*6\r\n:\d+\r\n:\d+\r\n:\d+\r\n/g, '*6\r\n:ID\r\n:TIME\r\n:US\r\n')
      .replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:PORT');

  test('slowlog-log-slower-than 0: the same entries, arguments trimmed as Redis', async () => {
    const long = 'v'.repeat(300);
    const many = Array.from({ length: 40 }, (_, i) => `e${i}`);
    const steps: string[][] = [
      ['CONFIG', 'SET', 'slowlog-log-slower-than', '0'],
      ['CLIENT', 'SETNAME', 'slow-one'],
      ['SLOWLOG', 'RESET'],
      ['SET', 'k', long],
      ['RPUSH', 'l', ...many],
      ['AUTH', 'secret'],
      ['MULTI'],
      ['INCR', 'n'],
      ['EXEC'],
      ['CONFIG', 'SET', 'requirepass', ''],
      ['GET', 'k'.repeat(129)],
    ];
    for (const c of [s.redis, s.ours]) await c.call(['FLUSHALL']);
    for (const step of steps) {
      const [a, b] = [await s.redis.call(step), await s.ours.call(step)];
      expect(b.toString('latin1'), step.join(' ').slice(0, 60)).toBe(a.toString('latin1'));
    }
    for (const cmd of [['SLOWLOG', 'LEN'], ['SLOWLOG', 'GET', '-1'], ['SLOWLOG', 'GET', '3'], ['SLOWLOG', 'GET'], ['SLOWLOG', 'GET', '0']]) {
      const [a, b] = [await s.redis.call(cmd), await s.ours.call(cmd)];
      expect(mask(b), cmd.join(' ')).toBe(mask(a));
    }
    // The durations are microseconds: whole numbers, and small for these commands.
    const last = parse(await s.ours.call(['SLOWLOG', 'GET', '1']));
    if (last.type !== 'array' || last.items === null || last.items[0].type !== 'array') throw new Error('no entry');
    const [id, when, us] = last.items[0].items!;
    expect([id.type, when.type, us.type]).toEqual(['int', 'int', 'int']);
    expect(Number((when as { value: bigint }).value)).toBeCloseTo(Date.now() / 1000, -2);
    for (const c of [s.redis, s.ours]) await c.call(['CONFIG', 'SET', 'slowlog-log-slower-than', '10000']);
  });

  test('slowlog-max-len, -1 (off), errors and HELP', async () => {
    const steps: string[][] = [
      ['CONFIG', 'SET', 'slowlog-log-slower-than', '0', 'slowlog-max-len', '2'],
      ['SLOWLOG', 'RESET'],
      ['PING'],
      ['PING'],
      ['PING'],
      ['SLOWLOG', 'LEN'],
      ['CONFIG', 'SET', 'slowlog-log-slower-than', '-1'],
      ['SLOWLOG', 'RESET'],
      ['PING'],
      ['SLOWLOG', 'LEN'],
      ['SLOWLOG', 'GET'],
      ['SLOWLOG', 'GET', '-2'],
      ['SLOWLOG', 'GET', 'abc'],
      ['SLOWLOG', 'GET', '1', '2'],
      ['SLOWLOG', 'LEN', '1'],
      ['SLOWLOG', 'RESET', '1'],
      ['SLOWLOG', 'NOSUCH'],
      ['SLOWLOG'],
      ['SLOWLOG', 'HELP'],
      ['CONFIG', 'SET', 'slowlog-log-slower-than', '10000', 'slowlog-max-len', '128'],
    ];
    for (const step of steps) {
      const [a, b] = [await s.redis.call(step), await s.ours.call(step)];
      expect(b.toString('latin1'), step.join(' ')).toBe(a.toString('latin1'));
    }
  });
});

describe('INFO commandstats, errorstats, net bytes', () => {
  const s = useServers();

  /** INFO <section>'s field:value lines as a Map. */
  async function info(c: RawClient, section: string): Promise<Map<string, string>> {
    const body = verbatim(parse(await c.call(['INFO', section])));
    return new Map(body.split('\r\n').filter((l) => l.includes(':')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]));
  }
  const verbatim = (r: RespReply): string => (r.type === 'verbatim' ? r.value.toString('latin1') : text(r));

  test('after known traffic: the same calls, rejected and failed calls, error counts; usec measured', async () => {
    const steps: string[][] = [
      ['CONFIG', 'RESETSTAT'],
      ['SET', 'k', 'v'],
      ['GET', 'k'],
      ['GET'],
      ['INCR', 'k'],
      ['INCR', 'k'],
      ['NOSUCHCOMMAND', 'x'],
      ['LPUSH', 'k', 'x'],
      ['MULTI'],
      ['INCR', 'n'],
      ['GET'],
      ['EXEC'],
      ['MULTI'],
      ['INCR', 'k'],
      ['EXEC'],
    ];
    for (const c of [s.redis, s.ours]) await c.call(['FLUSHALL']);
    for (const step of steps) {
      const [a, b] = [await s.redis.call(step), await s.ours.call(step)];
      expect(b.toString('latin1'), step.join(' ')).toBe(a.toString('latin1'));
    }
    const [theirs, ours] = [await info(s.redis, 'commandstats'), await info(s.ours, 'commandstats')];
    const counts = (v: string | undefined) => v?.replace(/usec=\d+,usec_per_call=[\d.]+,/, '');
    for (const cmd of ['set', 'get', 'incr', 'lpush', 'multi', 'exec']) {
      expect(counts(ours.get(`cmdstat_${cmd}`)), cmd).toBe(counts(theirs.get(`cmdstat_${cmd}`)));
    }
    expect(ours.get('cmdstat_nosuchcommand')).toBeUndefined();
    // The default slowlog-log-slower-than (10000) times every command: usec is measured, per call consistent.
    const [calls, usec, perCall] = /calls=(\d+),usec=(\d+),usec_per_call=([\d.]+)/.exec(ours.get('cmdstat_incr')!)!.slice(1).map(Number) as number[];
    expect(calls).toBe(3);
    expect(perCall).toBeCloseTo(usec / calls, 1);
    expect(await info(s.ours, 'errorstats')).toEqual(await info(s.redis, 'errorstats'));
    const [rs, os] = [await info(s.redis, 'stats'), await info(s.ours, 'stats')];
    expect(os.get('total_error_replies')).toBe(rs.get('total_error_replies'));
    // Bytes on the wire: the same requests were sent to both since RESETSTAT, and this connection is the only one that spoke.
    expect(Number(os.get('total_net_input_bytes'))).toBe(Number(rs.get('total_net_input_bytes')));
    expect(Number(os.get('total_net_output_bytes'))).toBeGreaterThan(0);
  });

  test('INFO, INFO default, INFO all, INFO everything: the same sections as Redis 7.0 (latencystats aside)', async () => {
    const sections = (b: Buffer) => [...verbatim(parse(b)).matchAll(/^# (\w+)/gm)].map((m) => m[1]).filter((n) => n !== 'Latencystats');
    for (const args of [['INFO'], ['INFO', 'default'], ['INFO', 'all'], ['INFO', 'everything'], ['INFO', 'commandstats', 'errorstats'], ['INFO', 'STATS']]) {
      expect(sections(await s.ours.call(args)), args.join(' ')).toEqual(sections(await s.redis.call(args)));
    }
  });
});
