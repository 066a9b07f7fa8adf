// RESP connection and server commands: PING, ECHO, SELECT, QUIT, HELLO, AUTH,
// CLIENT, INFO, CONFIG, COMMAND, TIME — what redis-cli, redis-benchmark,
// ioredis and node-redis send, with Redis 7's replies and error strings.

import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { ErrCode, type ReplyWriter } from '../../protocol/reply.js';
import { NOT_INTEGER, SYNTAX, parseInt64 } from '../args.js';
import type { ClientState, CommandContext, CommandSpec } from '../types.js';
import { NO_KEYS, arityError, err, isOpt, parseDbIndex, selectDb } from '../common.js';
import { commandCommand } from './command.js';
import { latencyCommand, latencyStats } from './latency.js';
import { pubsubTotals } from './pubsub.js';
import { trackingTotals } from '../tracking.js';
import { validClientName } from './client.js';
import { passwordMatches } from '../book/auth.js';
import { globMatch } from './keys.js';
import { infoMemory } from './memory.js';

/** The Redis version we answer to (HELLO, INFO): the 7.0 command set and replies. */
export const REDIS_VERSION = '7.0.0';

const WRONGPASS = 'WRONGPASS invalid username-password pair or user is disabled.';

/** A random 40-hex run_id, fixed for the process (INFO). */
const RUN_ID = Array.from({ length: 40 }, () => Math.floor(Math.random() * 16).toString(16)).join('');

/** Checks AUTH/HELLO credentials against requirepass (the only user is "default"). */
function credentialsOk(ctx: CommandContext, user: string, pass: string): boolean {
  if (user !== 'default') return false;
  const required = ctx.server.requirePass;
  return required === null || passwordMatches(pass, required); // constant time, as on the book port
}

/** CLIENT's subcommand wrong-arity error, worded as Redis 7 does ("client|setname"). */
function subArity(w: ReplyWriter, cmd: string, sub: string): void {
  arityError(w, `${cmd}|${sub.toLowerCase()}`);
}

function unknownSubcommand(w: ReplyWriter, cmd: string, sub: string): void {
  err(w, `ERR unknown subcommand '${sub.slice(0, 128)}'. Try ${cmd.toUpperCase()} HELP.`);
}

/** Whether args.length satisfies a Redis arity. */
function arityOk(n: number, arity: number): boolean {
  return arity > 0 ? n === arity : n >= -arity;
}

// ---- INFO ----

type Section = [name: string, fields: [string, string | number][]];

function infoSections(ctx: CommandContext): Section[] {
  const { server } = ctx;
  const cpu = process.cpuUsage();
  const uptime = Math.floor((Date.now() - server.startedAtMs) / 1000);
  const pubsub = pubsubTotals(server);
  const tracking = trackingTotals(server);
  // One line per non-empty database, as Redis's INFO keyspace.
  const keyspace: [string, string][] = [];
  let expired = 0;
  let evicted = 0;
  let hits = 0;
  let misses = 0;
  for (const db of server.databases) {
    expired += db.expiredCount;
    evicted += db.evictedCount;
    hits += db.hits;
    misses += db.misses;
    if (db.size !== 0) keyspace.push([`db${db.id}`, `keys=${db.size},expires=${db.volatileCount},avg_ttl=${db.avgTtl()}`]);
  }
  return [
    [
      'Server',
      [
        ['redis_version', REDIS_VERSION],
        ['redis_git_sha1', '00000000'],
        ['redis_git_dirty', 0],
        ['redis_build_id', '0'],
        ['redis_mode', 'standalone'],
        ['os', `${os.type()} ${os.release()} ${os.arch()}`],
        ['arch_bits', /64/.test(os.arch()) ? 64 : 32],
        ['multiplexing_api', server.loopName],
        ['redloop_loop', server.loopName],
        ['process_id', process.pid],
        ['run_id', RUN_ID],
        ['tcp_port', server.ports.resp],
        ['server_time_usec', Math.round((performance.timeOrigin + performance.now()) * 1000)],
        ['uptime_in_seconds', uptime],
        ['uptime_in_days', Math.floor(uptime / 86400)],
        ['hz', server.config.get('hz') ?? '10'],
        ['configured_hz', server.config.get('hz') ?? '10'],
        ['lru_clock', ctx.store.currentLruClock],
        ['executable', process.argv[1] ?? ''],
        ['config_file', server.configStore.configFile ?? ''],
      ],
    ],
    [
      'Clients',
      [
        ['connected_clients', server.connectedClients()],
        ['maxclients', server.config.get('maxclients') ?? '10000'],
        ['blocked_clients', server.clientList().filter((c) => c.waiting).length],
        ['tracking_clients', tracking.clients],
      ],
    ],
    ['Memory', infoMemory(ctx)],
    [
      'Persistence',
      [
        ['loading', 0],
        ['async_loading', 0],
        ['rdb_changes_since_last_save', server.persistence.dirty],
        ['rdb_bgsave_in_progress', server.persistence.bgsaveInProgress ? 1 : 0],
        ['rdb_last_save_time', server.persistence.lastSaveUnixSec],
        ['rdb_last_bgsave_status', server.persistence.lastSaveOk ? 'ok' : 'err'],
        ['rdb_last_bgsave_time_sec', server.persistence.lastBgsaveSec],
        ['rdb_current_bgsave_time_sec', server.persistence.currentBgsaveSec],
        ['rdb_saves', server.persistence.saves],
        ['rdb_last_cow_size', server.persistence.lastCowBytes],
        ['rdb_last_load_keys_expired', server.persistence.lastLoad.expired],
        ['rdb_last_load_keys_loaded', server.persistence.lastLoad.loaded],
        ...server.aof.info(),
      ],
    ],
    [
      'Stats',
      [
        ['total_connections_received', server.stats.totalConnections],
        ['total_commands_processed', server.stats.totalCommands],
        ['instantaneous_ops_per_sec', server.stats.instant.opsPerSec],
        ['total_net_input_bytes', server.stats.netInput() - server.stats.netInputBase],
        ['total_net_output_bytes', server.stats.netOutput() - server.stats.netOutputBase],
        ['instantaneous_input_kbps', server.stats.instant.inputKbps.toFixed(2)],
        ['instantaneous_output_kbps', server.stats.instant.outputKbps.toFixed(2)],
        ['rejected_connections', server.stats.rejectedConnections],
        ['expired_keys', expired - server.stats.expiredKeysBase],
        ['evicted_keys', evicted - server.stats.evictedKeysBase],
        ['evicted_clients', server.memory.evictedClients],
        ['keyspace_hits', hits - server.stats.hitsBase],
        ['keyspace_misses', misses - server.stats.missesBase],
        ['pubsub_channels', pubsub.channels],
        ['pubsub_patterns', pubsub.patterns],
        ['pubsubshard_channels', pubsub.shardChannels],
        ['tracking_total_keys', tracking.keys],
        ['tracking_total_items', tracking.items],
        ['tracking_total_prefixes', tracking.prefixes],
        ['total_error_replies', server.counters.errorReplies],
      ],
    ],
    ['Replication', [['role', 'master'], ['connected_slaves', 0]]],
    [
      'CPU',
      [
        ['used_cpu_sys', (cpu.system / 1e6).toFixed(6)],
        ['used_cpu_user', (cpu.user / 1e6).toFixed(6)],
      ],
    ],
    ['Modules', []],
    ['Commandstats', commandStats(ctx)],
    ['Errorstats', [...server.counters.errorStats].map(([prefix, n]): [string, string] => [`errorstat_${prefix}`, `count=${n}`])],
    // Empty while latency-tracking is off, as Redis.
    ['Latencystats', ctx.counters.settings.latencyTracking ? latencyStats(ctx, (server.config.get('latency-tracking-info-percentiles') ?? '').split(' ').filter((p) => p !== '').map(Number)) : []],
    ['Cluster', [['cluster_enabled', 0]]],
    ['Keyspace', keyspace],
  ];
}

/** INFO commandstats: every command run or refused since RESETSTAT, by name (a container's subcommands each on their own: config|get). */
function commandStats(ctx: CommandContext): [string, string][] {
  const byName = new Map<string, { calls: number; usec: number; timed: number; rejected: number; failed: number }>();
  for (const st of ctx.server.counters.commandStats) {
    if (st === undefined) continue;
    const sum = byName.get(st.name) ?? { calls: 0, usec: 0, timed: 0, rejected: 0, failed: 0 };
    sum.calls += st.calls;
    sum.usec += st.usec;
    sum.timed += st.timed;
    sum.rejected += st.rejected;
    sum.failed += st.failed;
    byName.set(st.name, sum);
  }
  return [...byName].map(([name, s]) => [
    `cmdstat_${name}`,
    `calls=${s.calls},usec=${s.usec},usec_per_call=${(s.timed === 0 ? 0 : s.usec / s.timed).toFixed(2)},rejected_calls=${s.rejected},failed_calls=${s.failed}`,
  ]);
}

/** Sections `INFO` and `INFO default` leave out (Redis 7.0: `all` and `everything` add them). */
const NOT_DEFAULT = new Set(['commandstats', 'latencystats']);

/** INFO's text: "# Name\r\nfield:value\r\n…" per section, sections separated by an empty line. */
function infoText(ctx: CommandContext, wanted: string[]): string {
  const lower = wanted.map((s) => s.toLowerCase());
  const all = lower.includes('all') || lower.includes('everything');
  const dflt = wanted.length === 0 || lower.includes('default');
  const names = new Set(lower);
  const parts: string[] = [];
  for (const [name, fields] of infoSections(ctx)) {
    const key = name.toLowerCase();
    if (!all && !names.has(key) && !(dflt && !NOT_DEFAULT.has(key))) continue;
    parts.push(`# ${name}\r\n${fields.map(([k, v]) => `${k}:${v}\r\n`).join('')}`);
  }
  return parts.join('\r\n');
}

/**
 * The connection and server commands. `table` gives the RESP table's specs
 * (COMMAND lists them); it is a function because the table is built from this list.
 */
export function respServerCommands(table: () => Map<string, CommandSpec>): CommandSpec[] {
  return [
    {
      name: 'ping',
      arity: -1,
      flags: ['fast'],
      ...NO_KEYS,
      run(args, w, ctx) {
        if (args.length > 2) return arityError(w, 'ping');
        if (ctx.client.subscriptions > 0 && ctx.client.resp === 2 && ctx.client.protocol === 'resp') {
          // RESP2's subscribed context: a reply shaped like a message, `pong` and the argument ('' without one).
          w.arr(2);
          w.str('pong');
          w.str(args.length === 2 ? args[1] : '');
          return;
        }
        if (args.length === 2) w.str(args[1]);
        else w.status('PONG');
      },
    },
    {
      name: 'echo',
      arity: 2,
      flags: ['loading', 'stale', 'fast'],
      ...NO_KEYS,
      run(args, w) {
        w.str(args[1]);
      },
    },
    {
      name: 'select',
      arity: 2,
      flags: ['loading', 'stale', 'fast'],
      ...NO_KEYS,
      run(args, w, ctx) {
        const id = parseDbIndex(args[1], ctx.server.databases.length, w);
        if (id === null) return;
        selectDb(ctx, id);
        w.status('OK');
      },
    },
    {
      name: 'quit',
      arity: -1,
      flags: ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'],
      noauth: true,
      ...NO_KEYS,
      run(_args, w, { client }) {
        client.closeAfterReply = true;
        w.status('OK');
      },
    },
    {
      name: 'auth',
      arity: -2,
      flags: ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'],
      noauth: true,
      ...NO_KEYS,
      run(args, w, ctx) {
        if (args.length > 3) return err(w, SYNTAX);
        if (args.length === 2 && ctx.server.requirePass === null) {
          return err(
            w,
            'ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?',
          );
        }
        const [user, pass] = args.length === 2 ? ['default', args[1]] : [args[1], args[2]];
        if (!credentialsOk(ctx, user, pass)) return err(w, WRONGPASS);
        ctx.client.authenticated = true;
        w.status('OK');
      },
    },
    {
      name: 'hello',
      arity: -1,
      flags: ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'],
      noauth: true,
      ...NO_KEYS,
      run(args, w, ctx) {
        let ver = 0;
        let next = 1;
        if (args.length >= 2) {
          const v = parseInt64(args[next++]);
          if (v === null) return err(w, 'ERR Protocol version is not an integer or out of range');
          if (v < 2 || v > 3) return w.err(ErrCode.BadArg, 'NOPROTO unsupported protocol version');
          ver = Number(v);
        }
        let user: string | null = null;
        let pass = '';
        let name: string | null = null;
        for (let j = next; j < args.length; j++) {
          const more = args.length - 1 - j;
          if (isOpt(args[j], 'auth') && more >= 2) {
            user = args[j + 1];
            pass = args[j + 2];
            j += 2;
          } else if (isOpt(args[j], 'setname') && more >= 1) {
            name = args[++j];
            if (!validClientName(name)) return err(w, 'ERR Client names cannot contain spaces, newlines or special characters.');
          } else return err(w, `ERR Syntax error in HELLO option '${args[j]}'`);
        }
        if (!ctx.client.authenticated && user === null) {
          return w.err(
            ErrCode.BadArg,
            'NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time',
          );
        }
        if (user !== null) {
          if (!credentialsOk(ctx, user, pass)) return err(w, WRONGPASS);
          ctx.client.authenticated = true;
        }
        if (name !== null) ctx.client.name = name;
        // Switched before the reply is written: HELLO 3 answers in RESP3, HELLO 2 in RESP2.
        if (ver !== 0) ctx.client.resp = ver as 2 | 3;
        w.map(7);
        w.str('server');
        w.str('redis');
        w.str('version');
        w.str(REDIS_VERSION);
        w.str('proto');
        w.int(ctx.client.resp);
        w.str('id');
        w.int(ctx.client.id);
        w.str('mode');
        w.str('standalone');
        w.str('role');
        w.str('master');
        w.str('modules');
        w.arr(0);
      },
    },
    {
      name: 'info',
      arity: -1,
      flags: ['loading', 'stale'],
      ...NO_KEYS,
      run(args, w, ctx) {
        w.verbatim('txt', infoText(ctx, args.slice(1)));
      },
    },
    {
      name: 'config',
      arity: -2,
      flags: [],
      // CONFIG GET/SET/RESETSTAT/REWRITE are admin in Redis 7.0 (HELP is not): MONITOR does not show them.
      skipMonitor: (args) => !isOpt(args[1], 'help'),
      ...NO_KEYS,
      run(args, w, ctx) {
        const sub = args[1];
        const config = ctx.server.config;
        if (isOpt(sub, 'get')) {
          if (!arityOk(args.length, -3)) return subArity(w, 'config', sub);
          const found = ctx.server.configStore.get(args.slice(2), (p, name) => globMatch(p, name, true));
          w.map(found.length);
          for (const [name, value] of found) {
            w.str(name);
            w.str(value);
          }
        } else if (isOpt(sub, 'set')) {
          if (!arityOk(args.length, -4)) return subArity(w, 'config', sub);
          if (args.length % 2 !== 0) return err(w, SYNTAX);
          const pairs: [string, string][] = [];
          for (let i = 2; i < args.length; i += 2) pairs.push([args[i], args[i + 1]]);
          // Listeners are not re-bound while running: the current address and port only.
          const problem = ctx.server.configStore.set(pairs, (d, value) => {
            if (d.name === 'port' && value !== config.get('port')) return 'Unable to listen on this port';
            if (d.name === 'bind' && value !== config.get('bind')) return 'Failed to bind to specified addresses.';
            // appendonly yes starts a background rewrite for the first base (Redis's startAppendOnly); no flushes and closes.
            if (d.name === 'appendonly' && (value === 'yes') !== ctx.server.aof.enabled) {
              if (value === 'no') ctx.server.aof.stop();
              else if (ctx.server.aof.start(ctx.client.inExec) !== null) return 'Unable to turn on AOF. Check server logs.';
            }
            return null;
          });
          if (problem !== null) return err(w, problem);
          w.status('OK');
        } else if (isOpt(sub, 'resetstat')) {
          ctx.server.resetStats();
          w.status('OK');
        } else if (isOpt(sub, 'rewrite')) {
          if (!arityOk(args.length, 2)) return subArity(w, 'config', sub);
          const problem = ctx.server.configStore.rewrite();
          if (problem !== null) return err(w, problem);
          w.status('OK');
        } else if (isOpt(sub, 'help')) {
          const lines = [
            'CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
            'GET <pattern>',
            '    Return parameters matching the glob-like <pattern> and their values.',
            'SET <directive> <value>',
            '    Set the configuration <directive> to <value>.',
            'RESETSTAT',
            '    Reset statistics reported by the INFO command.',
            'REWRITE',
            '    Rewrite the configuration file.',
            'HELP',
            '    Prints this help.',
          ];
          w.arr(lines.length);
          for (const l of lines) w.status(l);
        } else unknownSubcommand(w, 'config', sub);
      },
    },
    commandCommand(table),
    latencyCommand(table),
    {
      name: 'slowlog',
      arity: -2,
      ...NO_KEYS,
      run(args, w, ctx) {
        const sub = args[1];
        const log = ctx.server.slowlog;
        if (isOpt(sub, 'get')) {
          if (args.length > 3) return err(w, `ERR unknown subcommand or wrong number of arguments for '${sub.slice(0, 128)}'. Try SLOWLOG HELP.`);
          let count = 10;
          if (args.length === 3) {
            const n = parseInt64(args[2]);
            if (n === null || n < -1) return err(w, 'ERR count should be greater than or equal to -1');
            count = n === -1 ? Infinity : Number(n);
          }
          const entries = log.entries.slice(0, Math.min(count, log.entries.length));
          w.arr(entries.length);
          for (const e of entries) {
            w.arr(6);
            w.int(e.id);
            w.int(e.unixSec);
            w.int(e.micros);
            w.arr(e.args.length);
            for (const a of e.args) w.str(a);
            w.str(e.peer);
            w.str(e.name);
          }
        } else if (isOpt(sub, 'len')) {
          if (args.length !== 2) return subArity(w, 'slowlog', sub);
          w.int(log.entries.length);
        } else if (isOpt(sub, 'reset')) {
          if (args.length !== 2) return subArity(w, 'slowlog', sub);
          log.reset();
          w.status('OK');
        } else if (isOpt(sub, 'help')) {
          if (args.length !== 2) return subArity(w, 'slowlog', sub);
          const lines = [
            'SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
            'GET [<count>]',
            '    Return top <count> entries from the slowlog (default: 10, -1 mean all).',
            '    Entries are made of:',
            '    id, timestamp, time in microseconds, arguments array, client IP and port,',
            '    client name',
            'LEN',
            '    Return the length of the slowlog.',
            'RESET',
            '    Reset the slowlog.',
            'HELP',
            '    Prints this help.',
          ];
          w.arr(lines.length);
          for (const l of lines) w.status(l);
        } else unknownSubcommand(w, 'slowlog', sub);
      },
    },
    {
      name: 'time',
      arity: 1,
      flags: ['loading', 'stale', 'fast'],
      ...NO_KEYS,
      run(_args, w) {
        const us = Math.round((performance.timeOrigin + performance.now()) * 1000);
        w.arr(2);
        w.str(String(Math.floor(us / 1e6)));
        w.str(String(us % 1e6));
      },
    },
  ];
}
