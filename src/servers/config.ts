// Every Redis 7.0 configuration parameter in one table: its name and aliases,
// its type (bool, int with a range, memory with units, enum, string, or a
// special syntax), its default, whether CONFIG SET may change it, and what it
// does here — applied to the running server, or accepted and stored with no
// effect (replication, cluster, TLS, modules, …). CONFIG GET/SET/REWRITE and
// the config file all go through ConfigStore; commands never see the file.

import { encodingLimits } from '../store/collections.js';
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { dirname, resolve, isAbsolute } from 'node:path';
import type { ServerSettings } from './state.js';
import { notifyFlagsOf, notifyFlagsToString } from '../commands/notify.js';

export type ParamKind = 'bool' | 'int' | 'memory' | 'enum' | 'string' | 'special';
export type ParamMode = 'mutable' | 'immutable' | 'protected';

export interface ParamDef {
  name: string;
  aliases: string[];
  kind: ParamKind;
  /** int/memory: inclusive range (decimal text: 64-bit bounds do not fit a double). */
  min?: bigint;
  max?: bigint;
  /** enum: the accepted words; `multi` accepts several space-separated (shutdown-on-sig*). */
  values?: string[];
  multi?: boolean;
  /** memory: also accepts a percentage (maxmemory-clients). */
  percent?: boolean;
  /** Octal integer (unixsocketperm). */
  octal?: boolean;
  def: string;
  mode: ParamMode;
  /** What it does here: how it is applied, or why it has no effect. */
  effect: string;
  /** Set here: it changes the running server (through ServerSettings). */
  applied: boolean;
  /** special: checks and normalizes a value; returns [normalized] or an error text. */
  parse?: (v: string) => string | { error: string };
  /** Secrets: never echoed back in errors (requirepass, masterauth). */
  sensitive?: boolean;
}

const INT_MIN = -2147483648n;
const INT_MAX = 2147483647n;
const UINT_MAX = 4294967295n;
const LLONG_MAX = 9223372036854775807n;
const ULLONG_MAX = 18446744073709551615n;
const LONG_MAX = LLONG_MAX;

const NO_EFFECT = 'accepted, no effect here';
const REPL = 'accepted, no effect here (no replication)';
const CLUSTER = 'accepted, no effect here (no cluster mode)';
const TLS = 'accepted, no effect here (no TLS)';
const AOF_AUTO = 'automatic AOF rewrite: starts once the AOF is past min-size and has grown by the percentage since the last rewrite';
const ENCODING = 'accepted, no effect here (encodings are decided by the store, see README)';
const ENCODING_APPLIED = 'the encoding OBJECT ENCODING reports (and HSCAN/SSCAN/ZSCAN\'s compact replies) for values that grow after the change; the in-memory structures are the same';
const DEFRAG = 'accepted, no effect here (no allocator defragmentation: V8 owns the heap)';
const LAZY = 'accepted, no effect here (frees are synchronous; V8 collects)';
const THREADS = 'accepted, no effect here (one thread; Node decides CPU placement)';
const PROC = 'accepted, no effect here (process-level option of redis-server)';

const table: ParamDef[] = [];

function add(d: Partial<ParamDef> & Pick<ParamDef, 'name' | 'kind' | 'def'>): void {
  table.push({ aliases: [], mode: 'mutable', effect: NO_EFFECT, applied: false, ...d });
}
function bool(name: string, def: 'yes' | 'no', mode: ParamMode = 'mutable', effect = NO_EFFECT, extra: Partial<ParamDef> = {}): void {
  add({ name, kind: 'bool', def, mode, effect, ...extra });
}
function int(name: string, min: bigint, max: bigint, def: number | string, mode: ParamMode = 'mutable', effect = NO_EFFECT, extra: Partial<ParamDef> = {}): void {
  add({ name, kind: 'int', min, max, def: String(def), mode, effect, ...extra });
}
function mem(name: string, min: bigint, max: bigint, def: number | string, mode: ParamMode = 'mutable', effect = NO_EFFECT, extra: Partial<ParamDef> = {}): void {
  add({ name, kind: 'memory', min, max, def: String(def), mode, effect, ...extra });
}
function enm(name: string, values: string[], def: string, mode: ParamMode = 'mutable', effect = NO_EFFECT, extra: Partial<ParamDef> = {}): void {
  add({ name, kind: 'enum', values, def, mode, effect, ...extra });
}
function str(name: string, def: string, mode: ParamMode = 'mutable', effect = NO_EFFECT, extra: Partial<ParamDef> = {}): void {
  add({ name, kind: 'string', def, mode, effect, ...extra });
}
function special(name: string, def: string, parse: ParamDef['parse'], mode: ParamMode = 'mutable', effect = NO_EFFECT, extra: Partial<ParamDef> = {}): void {
  add({ name, kind: 'special', def, parse, mode, effect, ...extra });
}
const applied = (effect: string): string => `applied: ${effect}`;
const A = { applied: true };

// ---- general, network, clients ----
int('port', 0n, 65535n, 6379, 'mutable', applied('the RESP port, at start-up (CONFIG SET accepts only the current port)'), A);
special('bind', '* -::*', parseBind, 'mutable', applied('the listening address, at start-up: the first address (a leading "-" is dropped); CONFIG SET accepts only the current value'), A);
str('bind-source-addr', '', 'mutable', REPL);
int('tcp-backlog', 0n, INT_MAX, 511, 'immutable', 'accepted, no effect here (the backlog is 511)');
str('unixsocket', '', 'immutable', 'accepted, no effect here (TCP only)');
int('unixsocketperm', 0n, 0o777n, 0, 'immutable', 'accepted, no effect here (TCP only)', { octal: true });
int('timeout', 0n, INT_MAX, 0, 'mutable', applied('idle timeout in seconds (syscall loops: live; libuv: new connections)'), A);
int('tcp-keepalive', 0n, INT_MAX, 300, 'mutable', applied('TCP keepalive of new connections'), A);
int('socket-mark-id', 0n, UINT_MAX, 0, 'immutable', 'accepted, no effect here (SO_MARK not set)');
bool('protected-mode', 'yes', 'mutable', applied('refuse non-loopback clients without a password on a non-loopback bind'), A);
int('maxclients', 1n, UINT_MAX, 10000, 'mutable', applied('more clients are refused (clamped to the fd limit at start-up)'), A);
mem('client-query-buffer-limit', 1048576n, LONG_MAX, 1073741824, 'mutable', applied('a client whose unparsed input passes it is disconnected'), A);
mem('proto-max-bulk-len', 1048576n, LLONG_MAX, 536870912, 'mutable', applied('largest RESP bulk string'), A);
special('client-output-buffer-limit', 'normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60', parseOutputLimits, 'mutable',
  applied('hard limits of the normal and pubsub classes (0 = none); soft limits and the replica class are stored, not enforced'), A);
mem('maxmemory-clients', 0n, LLONG_MAX, 0, 'mutable', applied('clients whose buffers together pass it are evicted, the largest first (CLIENT NO-EVICT exempts)'), { ...A, percent: true });
int('busy-reply-threshold', 0n, LONG_MAX, 5000, 'mutable', 'applied: a script running longer is stopped with an error (see README: Scripting)', { aliases: ['lua-time-limit'] });
int('databases', 1n, 4096n, 16, 'immutable', applied('the number of databases (SELECT 0 to N-1), at start-up; at most 4096 here (see README: Limits)'), A);
str('requirepass', '', 'mutable', applied('the default user\'s password, for new AUTH/HELLO (authenticated clients stay so)'), { ...A, sensitive: true });
str('aclfile', '', 'immutable', 'accepted, no effect here (no ACL users)');
int('acllog-max-len', 0n, LONG_MAX, 128, 'mutable', 'accepted, no effect here (no ACL log)');
enm('acl-pubsub-default', ['allchannels', 'resetchannels'], 'resetchannels', 'mutable', 'accepted, no effect here (no ACL users)');
enm('enable-protected-configs', ['no', 'yes', 'local'], 'no', 'immutable', 'accepted; protected configs (dir, dbfilename) stay refused by CONFIG SET');
enm('enable-debug-command', ['no', 'yes', 'local'], 'no', 'immutable', applied('DEBUG is refused (no), allowed (yes), or allowed from loopback clients only (local)'), A);
enm('enable-module-command', ['no', 'yes', 'local'], 'no', 'immutable', 'accepted, no effect here (no modules)');
int('hz', 0n, INT_MAX, 10, 'mutable', 'accepted, no effect here (active expiry runs every loop iteration)');
bool('dynamic-hz', 'yes', 'mutable');
int('active-expire-effort', 1n, 10n, 1, 'mutable', 'accepted, no effect here (active expiry: at most 2000 keys per iteration)');
int('tracking-table-max-keys', 0n, LONG_MAX, 1000000, 'mutable', 'applied: CLIENT TRACKING forgets the oldest keys past it');
special('notify-keyspace-events', '', parseNotify, 'mutable', applied('keyspace notifications (every class; d: no modules here)'), A);

// ---- process ----
bool('daemonize', 'no', 'immutable', PROC);
enm('supervised', ['upstart', 'systemd', 'auto', 'no'], 'no', 'immutable', PROC);
str('pidfile', '', 'immutable', PROC);
enm('loglevel', ['debug', 'verbose', 'notice', 'warning'], 'notice', 'mutable', 'accepted, no effect here (one log level)');
str('logfile', '', 'immutable', 'accepted, no effect here (logs go to stderr)');
bool('syslog-enabled', 'no', 'immutable', PROC);
str('syslog-ident', 'redis', 'immutable', PROC);
enm('syslog-facility', ['user', 'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7'], 'local0', 'immutable', PROC);
bool('crash-log-enabled', 'yes', 'mutable', PROC);
bool('crash-memcheck-enabled', 'yes', 'mutable', PROC);
bool('always-show-logo', 'no', 'immutable', PROC);
bool('set-proc-title', 'yes', 'immutable', PROC);
str('proc-title-template', '{title} {listen-addr} {server-mode}', 'mutable', PROC);
str('ignore-warnings', '', 'mutable', PROC);
bool('disable-thp', 'yes', 'immutable', PROC);
enm('oom-score-adj', ['no', 'yes', 'relative', 'absolute'], 'no', 'mutable', PROC);
special('oom-score-adj-values', '0 200 800', parseOomValues, 'mutable', PROC);
enm('shutdown-on-sigint', ['default', 'save', 'nosave', 'now', 'force'], 'default', 'mutable', applied('SIGINT: default saves if save rules are set; save, nosave, force as SHUTDOWN\'s'), { multi: true, applied: true });
enm('shutdown-on-sigterm', ['default', 'save', 'nosave', 'now', 'force'], 'default', 'mutable', applied('SIGTERM: default saves if save rules are set; save, nosave, force as SHUTDOWN\'s'), { multi: true, applied: true });
int('shutdown-timeout', 0n, INT_MAX, 10, 'mutable', REPL);
bool('jemalloc-bg-thread', 'yes', 'mutable', 'accepted, no effect here (no jemalloc)');
int('io-threads', 1n, 128n, 1, 'immutable', THREADS);
bool('io-threads-do-reads', 'no', 'immutable', THREADS);
str('server_cpulist', '', 'immutable', THREADS);
str('bio_cpulist', '', 'immutable', THREADS);
str('aof_rewrite_cpulist', '', 'immutable', THREADS);
str('bgsave_cpulist', '', 'immutable', THREADS);

// ---- persistence ----
special('save', '3600 1 300 100 60 10000', parseSave, 'mutable', applied('save rules: a background save after <seconds> if <changes> writes were made; "" disables them (and saving at shutdown)'), A);
bool('stop-writes-on-bgsave-error', 'yes', 'mutable', applied('after a failed background save, writes (and PING) get -MISCONF until a save succeeds (while save rules are set)'), A);
bool('rdbcompression', 'yes', 'mutable', applied('LZF-compress strings in the RDB file and DUMP payloads'), A);
bool('rdbchecksum', 'yes', 'immutable', applied('write and verify the RDB file\'s CRC-64 (at start-up)'), A);
enm('sanitize-dump-payload', ['no', 'yes', 'clients'], 'no', 'mutable', 'accepted; RESTORE payloads are always validated fully here');
str('dbfilename', 'dump.rdb', 'protected', applied('the RDB file\'s name in dir (at start-up)'), A);
bool('rdb-del-sync-files', 'no', 'mutable', REPL);
special('dir', '', parseDir, 'protected', applied('the directory of the RDB file (at start-up)'), A);
bool('rdb-save-incremental-fsync', 'yes', 'mutable', 'accepted, no effect here (SAVE fsyncs once)');
bool('appendonly', 'no', 'mutable', applied('log every write to the AOF (CONFIG SET yes writes a base of the data first)'), A);
str('appendfilename', 'appendonly.aof', 'immutable', applied('the AOF files\' name prefix in appenddirname'), A);
str('appenddirname', 'appendonlydir', 'immutable', applied('the AOF directory, in dir'), A);
enm('appendfsync', ['everysec', 'always', 'no'], 'everysec', 'mutable', applied('when the AOF is fsynced: before replies (always), once a second, or never'), A);
bool('no-appendfsync-on-rewrite', 'no', 'mutable', 'accepted, no effect here (the AOF keeps its fsync policy while a rewrite runs; the base is written by the writer thread)');
int('auto-aof-rewrite-percentage', 0n, INT_MAX, 100, 'mutable', AOF_AUTO);
mem('auto-aof-rewrite-min-size', 0n, LLONG_MAX, 67108864, 'mutable', AOF_AUTO);
bool('aof-load-truncated', 'yes', 'mutable', applied('a truncated AOF tail is cut off and logged at start-up (no: refuse to start)'), A);
bool('aof-use-rdb-preamble', 'yes', 'mutable', applied('the AOF base is an RDB file (no: commands)'), A);
bool('aof-rewrite-incremental-fsync', 'yes', 'mutable', 'accepted, no effect here (the base is fsynced once, at its end)');
bool('aof-timestamp-enabled', 'no', 'mutable', applied('a #TS:<unix seconds> annotation in the AOF before the writes of each new second (loading skips them)'), A);
bool('aof-disable-auto-gc', 'no', 'mutable', 'accepted, no effect here (a rewrite removes the old files at once)');

// ---- memory ----
mem('maxmemory', 0n, ULLONG_MAX, 0, 'mutable', applied('over it, keys are evicted by maxmemory-policy before each command, or denyoom commands refused with -OOM (used_memory: see README)'), A);
enm('maxmemory-policy', ['volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl', 'allkeys-lru', 'allkeys-lfu', 'allkeys-random', 'noeviction'], 'noeviction', 'mutable', applied('which keys maxmemory evicts (all eight Redis policies)'), A);
int('maxmemory-samples', 1n, INT_MAX, 5, 'mutable', applied('keys sampled per eviction round (LRU, LFU)'), A);
int('maxmemory-eviction-tenacity', 0n, 100n, 10, 'mutable', applied('time one eviction run may take before a timer carries on'), A);
int('lfu-log-factor', 0n, INT_MAX, 10, 'mutable', applied('growth of the LFU counter'), A);
int('lfu-decay-time', 0n, INT_MAX, 1, 'mutable', applied('minutes per decrement of an idle key\'s LFU counter'), A);
bool('lazyfree-lazy-eviction', 'no', 'mutable', LAZY);
bool('lazyfree-lazy-expire', 'no', 'mutable', LAZY);
bool('lazyfree-lazy-server-del', 'no', 'mutable', LAZY);
bool('lazyfree-lazy-user-del', 'no', 'mutable', LAZY);
bool('lazyfree-lazy-user-flush', 'no', 'mutable', LAZY);
bool('activerehashing', 'yes', 'mutable', 'accepted, no effect here (JavaScript Maps rehash themselves)');
bool('activedefrag', 'no', 'mutable', DEFRAG);
mem('active-defrag-ignore-bytes', 1n, LLONG_MAX, 104857600, 'mutable', DEFRAG);
int('active-defrag-threshold-lower', 0n, 1000n, 10, 'mutable', DEFRAG);
int('active-defrag-threshold-upper', 0n, 1000n, 100, 'mutable', DEFRAG);
int('active-defrag-cycle-min', 1n, 99n, 1, 'mutable', DEFRAG);
int('active-defrag-cycle-max', 1n, 99n, 25, 'mutable', DEFRAG);
int('active-defrag-max-scan-fields', 1n, LONG_MAX, 1000, 'mutable', DEFRAG);

// ---- encodings ----
int('hash-max-listpack-entries', 0n, LONG_MAX, 512, 'mutable', applied(ENCODING_APPLIED), { aliases: ['hash-max-ziplist-entries'], ...A });
mem('hash-max-listpack-value', 0n, LONG_MAX, 64, 'mutable', applied(ENCODING_APPLIED), { aliases: ['hash-max-ziplist-value'], ...A });
int('list-max-listpack-size', INT_MIN, INT_MAX, -2, 'mutable', ENCODING, { aliases: ['list-max-ziplist-size'] });
int('list-compress-depth', 0n, INT_MAX, 0, 'mutable', ENCODING);
int('set-max-intset-entries', 0n, LONG_MAX, 512, 'mutable', applied(ENCODING_APPLIED), A);
int('zset-max-listpack-entries', 0n, LONG_MAX, 128, 'mutable', applied(ENCODING_APPLIED), { aliases: ['zset-max-ziplist-entries'], ...A });
mem('zset-max-listpack-value', 0n, LONG_MAX, 64, 'mutable', applied(ENCODING_APPLIED), { aliases: ['zset-max-ziplist-value'], ...A });
mem('hll-sparse-max-bytes', 0n, LONG_MAX, 3000, 'mutable', ENCODING);
mem('stream-node-max-bytes', 0n, LONG_MAX, 4096, 'mutable', 'accepted, no effect here (streams keep Redis\'s default, 4096)');
int('stream-node-max-entries', 0n, LLONG_MAX, 100, 'mutable', 'accepted, no effect here (streams keep Redis\'s default, 100)');

// ---- observability ----
int('slowlog-log-slower-than', -1n, LLONG_MAX, 10000, 'mutable', applied('commands at least this slow (µs) enter the slowlog; -1 = off (with latency-tracking no and latency-monitor-threshold 0: no timing at all)'), A);
int('slowlog-max-len', 0n, LONG_MAX, 128, 'mutable', applied('entries the slowlog keeps'), A);
int('latency-monitor-threshold', 0n, LLONG_MAX, 0, 'mutable', applied('LATENCY records command, fast-command and expire-cycle events at least this slow (ms); 0 = off'), A);
bool('latency-tracking', 'yes', 'mutable', applied('per-command latency histograms for INFO latencystats and LATENCY HISTOGRAM'), A);
special('latency-tracking-info-percentiles', '50 99 99.9', parsePercentiles, 'mutable', applied('the percentiles INFO latencystats reports'), A);

// ---- replication ----
special('replicaof', '', parseReplicaof, 'immutable', 'accepted at start-up, no effect here (no replication; REPLICAOF is not a command here)', { aliases: ['slaveof'] });
str('masterauth', '', 'mutable', REPL, { sensitive: true });
str('masteruser', '', 'mutable', REPL);
bool('replica-serve-stale-data', 'yes', 'mutable', REPL, { aliases: ['slave-serve-stale-data'] });
bool('replica-read-only', 'yes', 'mutable', REPL, { aliases: ['slave-read-only'] });
bool('repl-diskless-sync', 'yes', 'mutable', REPL);
int('repl-diskless-sync-delay', 0n, INT_MAX, 5, 'mutable', REPL);
int('repl-diskless-sync-max-replicas', 0n, INT_MAX, 0, 'mutable', REPL);
enm('repl-diskless-load', ['disabled', 'on-empty-db', 'swapdb'], 'disabled', 'mutable', REPL);
int('repl-ping-replica-period', 1n, INT_MAX, 10, 'mutable', REPL, { aliases: ['repl-ping-slave-period'] });
int('repl-timeout', 1n, INT_MAX, 60, 'mutable', REPL);
bool('repl-disable-tcp-nodelay', 'no', 'mutable', REPL);
mem('repl-backlog-size', 1n, LLONG_MAX, 1048576, 'mutable', REPL);
int('repl-backlog-ttl', 0n, LONG_MAX, 3600, 'mutable', REPL);
int('replica-priority', 0n, INT_MAX, 100, 'mutable', REPL, { aliases: ['slave-priority'] });
bool('replica-announced', 'yes', 'mutable', REPL);
str('replica-announce-ip', '', 'mutable', REPL, { aliases: ['slave-announce-ip'] });
int('replica-announce-port', 0n, 65535n, 0, 'mutable', REPL, { aliases: ['slave-announce-port'] });
int('min-replicas-to-write', 0n, INT_MAX, 0, 'mutable', REPL, { aliases: ['min-slaves-to-write'] });
int('min-replicas-max-lag', 0n, INT_MAX, 10, 'mutable', REPL, { aliases: ['min-slaves-max-lag'] });
bool('replica-lazy-flush', 'no', 'mutable', REPL, { aliases: ['slave-lazy-flush'] });
bool('replica-ignore-maxmemory', 'yes', 'mutable', REPL, { aliases: ['slave-ignore-maxmemory'] });
bool('replica-ignore-disk-write-errors', 'no', 'mutable', REPL);
enm('propagation-error-behavior', ['ignore', 'panic', 'panic-on-replicas'], 'ignore', 'mutable', REPL);

// ---- cluster ----
bool('cluster-enabled', 'no', 'immutable', CLUSTER);
str('cluster-config-file', 'nodes.conf', 'immutable', CLUSTER);
int('cluster-port', 0n, 65535n, 0, 'immutable', CLUSTER);
int('cluster-node-timeout', 0n, LLONG_MAX, 15000, 'mutable', CLUSTER);
int('cluster-replica-validity-factor', 0n, INT_MAX, 10, 'mutable', CLUSTER, { aliases: ['cluster-slave-validity-factor'] });
int('cluster-migration-barrier', 0n, INT_MAX, 1, 'mutable', CLUSTER);
bool('cluster-allow-replica-migration', 'yes', 'mutable', CLUSTER);
bool('cluster-require-full-coverage', 'yes', 'mutable', CLUSTER);
bool('cluster-replica-no-failover', 'no', 'mutable', CLUSTER, { aliases: ['cluster-slave-no-failover'] });
bool('cluster-allow-reads-when-down', 'no', 'mutable', CLUSTER);
bool('cluster-allow-pubsubshard-when-down', 'yes', 'mutable', CLUSTER);
str('cluster-announce-ip', '', 'mutable', CLUSTER);
str('cluster-announce-hostname', '', 'mutable', CLUSTER);
int('cluster-announce-port', 0n, 65535n, 0, 'mutable', CLUSTER);
int('cluster-announce-bus-port', 0n, 65535n, 0, 'mutable', CLUSTER);
int('cluster-announce-tls-port', 0n, 65535n, 0, 'mutable', CLUSTER);
enm('cluster-preferred-endpoint-type', ['ip', 'hostname', 'unknown-endpoint'], 'ip', 'mutable', CLUSTER);
mem('cluster-link-sendbuf-limit', 0n, ULLONG_MAX, 0, 'mutable', CLUSTER);

// ---- TLS ----
int('tls-port', 0n, 65535n, 0, 'mutable', TLS);
str('tls-cert-file', '', 'mutable', TLS);
str('tls-key-file', '', 'mutable', TLS);
str('tls-key-file-pass', '', 'mutable', TLS, { sensitive: true });
str('tls-client-cert-file', '', 'mutable', TLS);
str('tls-client-key-file', '', 'mutable', TLS);
str('tls-client-key-file-pass', '', 'mutable', TLS, { sensitive: true });
str('tls-dh-params-file', '', 'mutable', TLS);
str('tls-ca-cert-file', '', 'mutable', TLS);
str('tls-ca-cert-dir', '', 'mutable', TLS);
enm('tls-auth-clients', ['no', 'yes', 'optional'], 'yes', 'mutable', TLS);
bool('tls-replication', 'no', 'mutable', TLS);
bool('tls-cluster', 'no', 'mutable', TLS);
str('tls-protocols', '', 'mutable', TLS);
str('tls-ciphers', '', 'mutable', TLS);
str('tls-ciphersuites', '', 'mutable', TLS);
bool('tls-prefer-server-ciphers', 'no', 'mutable', TLS);
bool('tls-session-caching', 'yes', 'mutable', TLS);
int('tls-session-cache-size', 0n, INT_MAX, 20480, 'mutable', TLS);
int('tls-session-cache-timeout', 0n, INT_MAX, 300, 'mutable', TLS);

/** Every parameter, in the order above. */
export const CONFIG_TABLE: readonly ParamDef[] = table;

/** Name or alias → definition. */
const byName = new Map<string, ParamDef>();
for (const d of table) {
  byName.set(d.name, d);
  for (const a of d.aliases) byName.set(a, d);
}

export function lookupParam(name: string): ParamDef | undefined {
  return byName.get(name.toLowerCase());
}

/**
 * Directives of a config file that are not parameters but that redis-server
 * accepts: accepted and ignored here, said so in the log.
 */
const FILE_ONLY = new Set(['include', 'rename-command', 'user', 'loadmodule', 'sentinel']);

// ---- value parsing ----

/** A name the config file (or a --<name> option) accepts. */
export function isDirective(name: string): boolean {
  return lookupParam(name) !== undefined || FILE_ONLY.has(name.toLowerCase());
}

/** Redis's memtoull: digits with an optional unit (b, k, kb, m, mb, g, gb; case-insensitive). */
export function parseMemory(v: string): bigint | null {
  if (v === '') return 0n; // as Redis's memtoull
  const m = /^(-?\d+)(b|k|kb|m|mb|g|gb)?$/i.exec(v);
  if (m === null) return null;
  const unit = (m[2] ?? 'b').toLowerCase();
  const mul: Record<string, bigint> = { b: 1n, k: 1000n, kb: 1024n, m: 1000000n, mb: 1048576n, g: 1000000000n, gb: 1073741824n };
  return BigInt(m[1]) * mul[unit];
}

/** Redis's string2ll: an optional '-', digits, no leading zeros, no '+', no spaces. */
function parseLL(v: string): bigint | null {
  if (!/^(0|-?[1-9]\d*)$/.test(v)) return null;
  const n = BigInt(v);
  if (n > LLONG_MAX || n < -LLONG_MAX - 1n) return null;
  return n;
}

/** A value as CONFIG GET shows it, or an error text (CONFIG SET's "- <text>"). */
export function normalizeValue(d: ParamDef, raw: string): string | { error: string } {
  switch (d.kind) {
    case 'bool': {
      const v = raw.toLowerCase();
      if (v !== 'yes' && v !== 'no') return { error: "argument must be 'yes' or 'no'" };
      return v;
    }
    case 'enum': {
      const words = d.multi === true ? raw.toLowerCase().split(' ').filter((s) => s !== '') : [raw.toLowerCase()];
      if (words.length === 0 || words.some((w) => !d.values!.includes(w))) {
        return { error: `argument(s) must be one of the following: ${d.values!.join(', ')}` };
      }
      return words.join(' ');
    }
    case 'string':
      return raw;
    case 'special':
      return d.parse!(raw);
    case 'int':
    case 'memory': {
      let n: bigint | null;
      if (d.kind === 'memory') {
        if (d.percent === true && /^\d+%$/.test(raw)) return raw;
        n = parseMemory(raw);
        if (n === null || n < 0n) return { error: d.percent === true ? 'argument must be a memory or percent value' : 'argument must be a memory value' };
      } else if (d.octal === true) {
        n = /^[0-7]+$/.test(raw) ? BigInt(`0o${raw}`) : null;
        if (n === null) return { error: "argument couldn't be parsed into an integer" };
      } else {
        n = parseLL(raw);
        if (n === null) return { error: "argument couldn't be parsed into an integer" };
      }
      if (n < d.min! || n > d.max!) return { error: `argument must be between ${d.min} and ${d.max} inclusive` };
      // Redis clamps hz to 1..500 (CONFIG_MIN_HZ, CONFIG_MAX_HZ).
      if (d.name === 'hz') n = n < 1n ? 1n : n > 500n ? 500n : n;
      return d.octal === true ? n.toString(8) : String(n);
    }
  }
}

function parseBind(v: string): string | { error: string } {
  const addrs = v.split(' ').filter((s) => s !== '');
  if (addrs.length === 0) return { error: 'Too many bind addresses specified.' };
  if (addrs.length > 16) return { error: 'Too many bind addresses specified.' };
  return addrs.join(' ');
}

function parseSave(v: string): string | { error: string } {
  const parts = v.split(' ').filter((s) => s !== '');
  if (parts.length % 2 !== 0) return { error: 'Invalid save parameters' };
  for (const p of parts) if (parseLL(p) === null || BigInt(p) < 0n || BigInt(p) > INT_MAX) return { error: 'Invalid save parameters' };
  return parts.join(' ');
}

function parseNotify(v: string): string | { error: string } {
  const flags = notifyFlagsOf(v);
  if (flags < 0) return { error: "Invalid event class character. Use 'Ag$lshzxeKEtmdn'." };
  // CONFIG GET shows Redis's canonical spelling (keyspaceEventsFlagsToString).
  return notifyFlagsToString(flags);
}

function parseOomValues(v: string): string | { error: string } {
  const parts = v.split(' ').filter((s) => s !== '');
  if (parts.length !== 3) return { error: 'wrong number of arguments' };
  for (const p of parts) {
    const n = parseLL(p);
    if (n === null || n < -2000n || n > 2000n) return { error: 'Invalid oom-score-adj-values, elements must be between -2000 and 2000.' };
  }
  return parts.join(' ');
}

function parsePercentiles(v: string): string | { error: string } {
  const parts = v.split(' ').filter((s) => s !== '');
  for (const p of parts) {
    const n = Number(p);
    if (!/^[0-9.eE+-]+$/.test(p) || !Number.isFinite(n)) return { error: 'Invalid latency-tracking-info-percentiles parameters' };
    if (n < 0 || n > 100) return { error: 'latency-tracking-info-percentiles parameters should sit between [0.0,100.0]' };
  }
  return parts.map((p) => fmtG(Number(p))).join(' ');
}

/** printf %g-like, as Redis prints percentiles (99.9, 50). */
function fmtG(n: number): string {
  return String(Number(n.toPrecision(6)));
}

function parseReplicaof(v: string): string | { error: string } {
  const parts = v.split(' ').filter((s) => s !== '');
  if (parts.length === 0) return '';
  if (parts.length === 2 && parts[0].toLowerCase() === 'no' && parts[1].toLowerCase() === 'one') return '';
  if (parts.length !== 2) return { error: 'wrong number of arguments' };
  const port = parseLL(parts[1]);
  if (port === null || port < 0n || port > 65535n) return { error: 'Invalid master port' };
  return `${parts[0]} ${port}`;
}

function parseDir(v: string): string | { error: string } {
  return resolve(v);
}

/** client-output-buffer-limit: `<class> <hard> <soft> <seconds>` groups; classes normal, replica (slave), pubsub. */
function parseOutputLimits(v: string): string | { error: string } {
  const parts = v.split(' ').filter((s) => s !== '');
  if (parts.length % 4 !== 0) return { error: 'Wrong number of arguments in buffer limit configuration.' };
  const groups: [string, bigint, bigint, bigint][] = [];
  for (let i = 0; i < parts.length; i += 4) {
    const cls = parts[i].toLowerCase();
    const klass = cls === 'replica' ? 'slave' : cls;
    if (klass !== 'normal' && klass !== 'slave' && klass !== 'pubsub') return { error: 'Invalid client class specified in buffer limit configuration.' };
    const hard = parseMemory(parts[i + 1]);
    const soft = parseMemory(parts[i + 2]);
    const secs = parseLL(parts[i + 3]);
    if (hard === null || soft === null || secs === null || hard < 0n || soft < 0n || secs < 0n) {
      return { error: 'Error in hard, soft or soft_seconds setting in buffer limit configuration.' };
    }
    groups.push([klass, hard, soft, secs]);
  }
  return groups.map((g) => g.join(' ')).join(' ');
}

/** Merges class groups into a full `normal … slave … pubsub …` value (unnamed classes keep their old limits). */
function mergeOutputLimits(old: string, change: string): string {
  const classes = new Map<string, string>();
  const put = (s: string) => {
    const p = s.split(' ').filter((x) => x !== '');
    for (let i = 0; i + 3 < p.length; i += 4) classes.set(p[i], p.slice(i + 1, i + 4).join(' '));
  };
  put(old);
  put(change);
  return ['normal', 'slave', 'pubsub'].map((c) => `${c} ${classes.get(c) ?? '0 0 0'}`).join(' ');
}

// ---- the store ----

/** A config file line problem, reported as Redis reports it (and the start refused). */
export class ConfigFileError extends Error {}

/** One directive as read from a file (or the command line): where it came from, for errors. */
interface Directive {
  file: string;
  line: number;
  text: string;
  args: string[];
}

export class ConfigStore {
  /** Canonical name → value as CONFIG GET shows it. */
  readonly values = new Map<string, string>();
  /** The config file the server was started with (absolute), or null. */
  configFile: string | null = null;
  /** Directives from the file for rename-command, user, loadmodule… (accepted, ignored). */
  readonly ignored: string[] = [];
  private settings: ServerSettings;
  /** Called after CONFIG SET stored an applied parameter (the loop copies timeout and tcp-keepalive). */
  onApplied: (() => void) | null = null;
  /** Called when notify-keyspace-events changed (the server installs or removes its keyspace listener). */
  onNotifyChanged: (() => void) | null = null;
  /** Told the name of each applied parameter set (by CONFIG SET, or the file before the server starts). */
  readonly appliedListeners: ((name: string) => void)[] = [];

  constructor(settings: ServerSettings) {
    this.settings = settings;
    for (const d of table) this.values.set(d.name, d.def);
    this.values.set('dir', resolve(settings.dir));
    this.syncFromSettings();
  }

  /** The settings object applied parameters write to (a server copies its settings: it rebinds). */
  bind(settings: ServerSettings): void {
    this.settings = settings;
  }

  /** CONFIG GET's view of the parameters that live in ServerSettings. */
  syncFromSettings(): void {
    const s = this.settings;
    const v = this.values;
    v.set('port', String(s.respPort ?? 0));
    // bind keeps every address the file listed while the first is the one listened on.
    if (v.get('bind')!.split(' ')[0].replace(/^-/, '') !== s.host) v.set('bind', s.host);
    v.set('timeout', String(Math.floor(s.idleTimeoutMs / 1000)));
    v.set('tcp-keepalive', String(s.tcpKeepAlive));
    v.set('protected-mode', s.protectedMode ? 'yes' : 'no');
    v.set('maxclients', String(s.maxClients));
    v.set('databases', String(s.databases));
    v.set('client-query-buffer-limit', String(s.queryLimit));
    v.set('proto-max-bulk-len', String(s.protoMaxBulkLen));
    const old = v.get('client-output-buffer-limit')!;
    const keepSoft = (cls: string, hard: number) => {
      const m = new RegExp(`${cls} (\\d+) (\\d+) (\\d+)`).exec(old);
      return m !== null && m[1] === String(hard) ? `${cls} ${hard} ${m[2]} ${m[3]}` : `${cls} ${hard} ${m?.[2] ?? 0} ${m?.[3] ?? 0}`;
    };
    const slave = /slave (\d+ \d+ \d+)/.exec(old)?.[1] ?? '268435456 67108864 60';
    v.set('client-output-buffer-limit', `${keepSoft('normal', s.outputLimit)} slave ${slave} ${keepSoft('pubsub', s.pubsubOutputLimit)}`);
    v.set('requirepass', s.requirePass ?? '');
    v.set('dir', resolve(s.dir));
    v.set('dbfilename', s.dbFilename);
    v.set('rdbcompression', s.rdbCompression ? 'yes' : 'no');
    v.set('rdbchecksum', s.rdbChecksum ? 'yes' : 'no');
    v.set('appendonly', s.appendOnly ? 'yes' : 'no');
    v.set('appendfilename', s.appendFilename);
    v.set('appenddirname', s.appendDirname);
    v.set('appendfsync', s.appendFsync);
    v.set('aof-load-truncated', s.aofLoadTruncated ? 'yes' : 'no');
    v.set('aof-use-rdb-preamble', s.aofUseRdbPreamble ? 'yes' : 'no');
    v.set('aof-timestamp-enabled', s.aofTimestampEnabled ? 'yes' : 'no');
    v.set('slowlog-log-slower-than', String(s.slowlogLogSlowerThan));
    v.set('slowlog-max-len', String(s.slowlogMaxLen));
    v.set('latency-monitor-threshold', String(s.latencyMonitorThreshold));
    v.set('latency-tracking', s.latencyTracking ? 'yes' : 'no');
    v.set('latency-tracking-info-percentiles', s.latencyPercentiles.map((p) => fmtG(p)).join(' '));
    v.set('enable-debug-command', s.enableDebugCommand);
    v.set('notify-keyspace-events', notifyFlagsToString(s.notifyKeyspaceEvents));
    v.set('maxmemory', String(s.maxmemory));
    v.set('maxmemory-policy', s.maxmemoryPolicy);
    v.set('maxmemory-samples', String(s.maxmemorySamples));
    v.set('maxmemory-eviction-tenacity', String(s.maxmemoryEvictionTenacity));
    v.set('lfu-log-factor', String(s.lfuLogFactor));
    v.set('lfu-decay-time', String(s.lfuDecayTime));
    v.set('maxmemory-clients', s.maxmemoryClients);
  }

  /** Writes an applied parameter's (normalized) value into the settings. */
  private apply(d: ParamDef, value: string, raw: string): void {
    const s = this.settings;
    switch (d.name) {
      case 'port': s.respPort = Number(value); break;
      case 'bind': s.host = value.split(' ')[0].replace(/^-/, ''); break;
      case 'timeout': s.idleTimeoutMs = Number(value) * 1000; break;
      case 'tcp-keepalive': s.tcpKeepAlive = Number(value); break;
      case 'protected-mode': s.protectedMode = value === 'yes'; break;
      case 'maxclients': s.maxClients = Number(value); break;
      case 'databases': s.databases = Number(value); break;
      case 'client-query-buffer-limit': s.queryLimit = Number(value); break;
      case 'proto-max-bulk-len': s.protoMaxBulkLen = Number(value); break;
      case 'client-output-buffer-limit': {
        const p = value.split(' ');
        for (let i = 0; i < p.length; i += 4) {
          if (p[i] === 'normal') s.outputLimit = Number(p[i + 1]);
          if (p[i] === 'pubsub') s.pubsubOutputLimit = Number(p[i + 1]);
        }
        break;
      }
      case 'requirepass': s.requirePass = value === '' ? null : value; break;
      case 'dir': s.dir = value; break;
      case 'dbfilename': s.dbFilename = value; break;
      case 'rdbcompression': s.rdbCompression = value === 'yes'; break;
      case 'rdbchecksum': s.rdbChecksum = value === 'yes'; break;
      case 'appendonly': s.appendOnly = value === 'yes'; break;
      case 'appendfilename': s.appendFilename = value; break;
      case 'appenddirname': s.appendDirname = value; break;
      case 'appendfsync': s.appendFsync = value as 'always' | 'everysec' | 'no'; break;
      case 'aof-load-truncated': s.aofLoadTruncated = value === 'yes'; break;
      case 'aof-use-rdb-preamble': s.aofUseRdbPreamble = value === 'yes'; break;
      case 'aof-timestamp-enabled': s.aofTimestampEnabled = value === 'yes'; break;
      case 'slowlog-log-slower-than': s.slowlogLogSlowerThan = Number(value); break;
      case 'slowlog-max-len': s.slowlogMaxLen = Number(value); break;
      // Process-wide, as Redis's are server-wide: the store reads them on every write.
      case 'hash-max-listpack-entries': encodingLimits.hashMaxListpackEntries = Number(value); break;
      case 'hash-max-listpack-value': encodingLimits.hashMaxListpackValue = Number(value); break;
      case 'set-max-intset-entries': encodingLimits.setMaxIntsetEntries = Number(value); break;
      case 'zset-max-listpack-entries': encodingLimits.zsetMaxListpackEntries = Number(value); break;
      case 'zset-max-listpack-value': encodingLimits.zsetMaxListpackValue = Number(value); break;
      case 'latency-monitor-threshold': s.latencyMonitorThreshold = Number(value); break;
      case 'latency-tracking': s.latencyTracking = value === 'yes'; break;
      case 'latency-tracking-info-percentiles': s.latencyPercentiles = value === '' ? [] : value.split(' ').map(Number); break;
      case 'enable-debug-command': s.enableDebugCommand = value as 'no' | 'yes' | 'local'; break;
      case 'notify-keyspace-events':
        // From the value as given: CONFIG GET's spelling drops n and d beside A (as Redis's does), the classes stay.
        s.notifyKeyspaceEvents = notifyFlagsOf(raw);
        this.onNotifyChanged?.();
        break;
      // Past 2^53 a byte count is beyond any machine's memory: the double's rounding does not matter.
      case 'maxmemory': s.maxmemory = Number(value); break;
      case 'maxmemory-policy': s.maxmemoryPolicy = value; break;
      case 'maxmemory-samples': s.maxmemorySamples = Number(value); break;
      case 'maxmemory-eviction-tenacity': s.maxmemoryEvictionTenacity = Number(value); break;
      case 'lfu-log-factor': s.lfuLogFactor = Number(value); break;
      case 'lfu-decay-time': s.lfuDecayTime = Number(value); break;
      case 'maxmemory-clients': s.maxmemoryClients = value; break;
    }
    for (const fn of this.appliedListeners) fn(d.name);
  }

  /** Sets one parameter (already normalized) and applies it. */
  private store(d: ParamDef, value: string, raw = value): void {
    const v = d.name === 'client-output-buffer-limit' ? mergeOutputLimits(this.values.get(d.name)!, value) : value;
    this.values.set(d.name, v);
    if (d.applied) this.apply(d, v, raw);
  }

  /** CONFIG GET: name → value pairs whose name or alias matches any pattern. */
  get(patterns: string[], match: (pattern: string, name: string) => boolean): [string, string][] {
    const out: [string, string][] = [];
    const seen = new Set<string>();
    for (const d of table) {
      for (const name of [d.name, ...d.aliases]) {
        if (seen.has(name)) continue;
        const exact = patterns.some((p) => p.toLowerCase() === name);
        if (exact || patterns.some((p) => match(p, name))) {
          seen.add(name);
          out.push([name, this.values.get(d.name)!]);
        }
      }
    }
    return out;
  }

  /**
   * CONFIG SET of name/value pairs, all or none, checked in Redis's order:
   * every name (unknown, immutable/protected, duplicate), then every value;
   * only then is anything stored. Returns null, or the error reply.
   */
  set(pairs: [string, string][], live: (d: ParamDef, value: string) => string | null = () => null): string | null {
    const defs: ParamDef[] = [];
    const names = new Set<string>();
    for (const [name] of pairs) {
      const d = lookupParam(name);
      if (d === undefined) return `ERR Unknown option or number of arguments for CONFIG SET - '${name}'`;
      if (d.mode === 'immutable') return failed(name, "can't set immutable config");
      if (d.mode === 'protected') return failed(name, "can't set protected config");
      // As Redis 7.0: the same name twice is refused; a name and its alias are not (the last one wins).
      if (names.has(name.toLowerCase())) return failed(name, 'duplicate parameter');
      names.add(name.toLowerCase());
      defs.push(d);
    }
    const values: string[] = [];
    for (let i = 0; i < pairs.length; i++) {
      const v = normalizeValue(defs[i], pairs[i][1]);
      if (typeof v !== 'string') return failed(pairs[i][0], v.error);
      const problem = refusedHere(defs[i], v) ?? live(defs[i], v);
      if (problem !== null) return failed(pairs[i][0], problem);
      values.push(v);
    }
    for (let i = 0; i < defs.length; i++) this.store(defs[i], values[i], pairs[i][1]);
    if (this.onApplied !== null && defs.some((d) => d.applied)) this.onApplied();
    return null;
  }

  // ---- the config file ----

  /** Reads a redis.conf (and its includes) into this store; throws ConfigFileError on a bad line. */
  loadFile(path: string): void {
    const abs = resolve(path);
    this.configFile = abs;
    const directives: Directive[] = [];
    readDirectives(abs, directives, 0);
    this.applyDirectives(directives);
  }

  /** Command-line `--name value…` pairs given as Redis directives (after the file: they win). */
  applyArgs(directives: [string, string[]][]): void {
    this.applyDirectives(directives.map(([name, args]) => ({ file: '(command line)', line: 0, text: [name, ...args].join(' '), args: [name, ...args] })));
  }

  private applyDirectives(directives: Directive[]): void {
    // `save` and client-output-buffer-limit accumulate over repeated lines; `save ""` resets.
    let save: string[] | null = null;
    for (const dir of directives) {
      const name = dir.args[0].toLowerCase();
      const rest = dir.args.slice(1);
      if (FILE_ONLY.has(name)) {
        this.ignored.push(dir.text);
        continue;
      }
      const d = lookupParam(name);
      if (d === undefined) throw fileError(dir, 'Bad directive or wrong number of arguments');
      let raw: string;
      if (d.name === 'save') {
        if (rest.length === 1 && rest[0] === '') save = [];
        else {
          if (save === null) save = [];
          save.push(...rest);
        }
        raw = save.join(' ');
      } else if (d.kind === 'special' || d.multi === true) raw = rest.join(' ');
      else if (rest.length !== 1) throw fileError(dir, 'wrong number of arguments');
      else raw = rest[0];
      const v = normalizeValue(d, raw);
      if (typeof v !== 'string') throw fileError(dir, v.error);
      this.store(d, v, raw);
    }
  }

  /**
   * CONFIG REWRITE: the file the server started with, rewritten as Redis does —
   * comments, blank lines and directives it does not know are kept; each known
   * parameter's lines are replaced by its current value (in place of its first
   * line), parameters that differ from their default and were not in the file
   * are appended, and lines of parameters now at their default are dropped.
   */
  rewrite(): string | null {
    const path = this.configFile;
    if (path === null) return 'ERR The server is running without a config file';
    let old: string;
    try {
      old = readFileSync(path, 'latin1');
    } catch (e) {
      return `ERR Rewriting config file: ${(e as Error).message}`;
    }
    const lines = old.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    const out: string[] = [];
    const done = new Set<string>();
    const MARK = '# Generated by CONFIG REWRITE';
    for (const line of lines) {
      const trimmed = line.trim();
      if (trimmed === '' || trimmed.startsWith('#')) {
        out.push(line);
        continue;
      }
      let args: string[];
      try {
        args = splitArgs(trimmed);
      } catch {
        out.push(line);
        continue;
      }
      const d = args.length > 0 ? lookupParam(args[0]) : undefined;
      if (d === undefined) {
        out.push(line); // include, rename-command, user …: kept as written
        continue;
      }
      if (done.has(d.name)) continue; // a repeated directive: its value is written once
      done.add(d.name);
      out.push(...this.linesFor(d, args[0].toLowerCase()));
    }
    const extra: string[] = [];
    for (const d of table) {
      if (done.has(d.name)) continue;
      if (this.values.get(d.name) === defaultOf(d)) continue;
      extra.push(...this.linesFor(d, d.name));
    }
    // Redis's signature is written once: a file that has it already gets the new lines at its end.
    if (extra.length > 0) out.push(...(lines.includes(MARK) ? [] : [MARK]), ...extra);
    const text = out.join('\n') + '\n';
    try {
      const tmp = `${path}.tmp-${process.pid}`;
      writeFileSync(tmp, text, 'latin1');
      renameSync(tmp, path);
    } catch (e) {
      return `ERR Rewriting config file: ${(e as Error).message}`;
    }
    return null;
  }

  /** A parameter's current value as config file lines (spelled with the name the file used). */
  private linesFor(d: ParamDef, spelled: string): string[] {
    const value = this.values.get(d.name)!;
    if (d.name === 'save') {
      if (value === '') return [`${spelled} ""`];
      const p = value.split(' ');
      const lines: string[] = [];
      for (let i = 0; i < p.length; i += 2) lines.push(`${spelled} ${p[i]} ${p[i + 1]}`);
      return lines;
    }
    if (d.name === 'client-output-buffer-limit') {
      const p = value.split(' ');
      const lines: string[] = [];
      for (let i = 0; i < p.length; i += 4) lines.push(`${spelled} ${p[i]} ${formatMemory(p[i + 1])} ${formatMemory(p[i + 2])} ${p[i + 3]}`);
      return lines;
    }
    if (d.kind === 'special' && d.name !== 'dir') return value === '' ? [`${spelled} ""`] : [`${spelled} ${value}`];
    if (d.kind === 'memory') return [`${spelled} ${formatMemory(value)}`];
    return [`${spelled} ${quoteIfNeeded(value)}`];
  }
}

/** A byte count as CONFIG REWRITE writes it: gb, mb or kb when it divides evenly (Redis's rewriteConfigFormatMemory). */
function formatMemory(v: string): string {
  if (!/^\d+$/.test(v) || v === '0') return v;
  const n = BigInt(v);
  for (const [unit, size] of [['gb', 1n << 30n], ['mb', 1n << 20n], ['kb', 1n << 10n]] as const) {
    if (n % size === 0n) return `${n / size}${unit}`;
  }
  return v;
}

/** The default as CONFIG GET would show it. */
function defaultOf(d: ParamDef): string {
  return d.def;
}

/**
 * Values CONFIG SET refuses because what they ask for cannot happen here —
 * with the words redis-server 7.0 (as packaged, without TLS certificates or
 * a defragmenting jemalloc) uses when it cannot either.
 */
function refusedHere(d: ParamDef, v: string): string | null {
  if (d.name === 'activedefrag' && v === 'yes') {
    return 'Active defragmentation cannot be enabled: it requires a Redis server compiled with a modified Jemalloc like the one shipped by default with the Redis source distribution';
  }
  if ((d.name === 'tls-port' && v !== '0') || ((d.name === 'tls-cluster' || d.name === 'tls-replication') && v === 'yes')) {
    return 'Unable to update TLS configuration. Check server logs.';
  }
  if (d.name === 'cluster-announce-hostname' && !/^[A-Za-z0-9.-]*$/.test(v)) return 'Hostnames may only contain alphanumeric characters, hyphens or dots';
  if (d.name === 'proc-title-template' && !validTitleTemplate(v)) return 'template format is invalid or contains unknown variables';
  return null;
}

/** Redis's validateProcTitleTemplate: known {variables} only, balanced braces, not empty. */
function validTitleTemplate(v: string): boolean {
  const known = new Set(['title', 'listen-addr', 'server-mode', 'port', 'tls-port', 'unixsocket', 'config-file']);
  if (v.trim() === '') return false;
  const rest = v.replace(/\{([^{}]*)\}/g, (_m, name: string) => (known.has(name) ? '' : '\u0000'));
  return !rest.includes('\u0000') && !rest.includes('{') && !rest.includes('}');
}

function failed(name: string, why: string): string {
  return `ERR CONFIG SET failed (possibly related to argument '${name}') - ${why}`;
}

function fileError(dir: Directive, why: string): ConfigFileError {
  const where = dir.line > 0 ? `Reading the configuration file ${dir.file}, at line ${dir.line}` : 'Reading the command line arguments';
  return new ConfigFileError(`\n*** FATAL CONFIG FILE ERROR (redloop) ***\n${where}\n>>> '${dir.text}'\n${why}`);
}

function quoteIfNeeded(v: string): string {
  if (v !== '' && /^[\x21-\x7e]+$/.test(v) && !/["'\\]/.test(v)) return v;
  let out = '"';
  for (const ch of v) {
    const c = ch.charCodeAt(0);
    if (ch === '\\' || ch === '"') out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c >= 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + '"';
}

const MAX_INCLUDE_DEPTH = 16;

function readDirectives(path: string, out: Directive[], depth: number): void {
  if (depth > MAX_INCLUDE_DEPTH) throw new ConfigFileError(`include nesting deeper than ${MAX_INCLUDE_DEPTH} at ${path}`);
  let text: string;
  try {
    text = readFileSync(path, 'latin1');
  } catch (e) {
    throw new ConfigFileError(`Fatal error, can't open config file '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const trimmed = lines[i].replace(/\r$/, '').trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    let args: string[];
    const dir: Directive = { file: path, line: i + 1, text: trimmed, args: [] };
    try {
      args = splitArgs(trimmed);
    } catch {
      throw fileError(dir, 'Unbalanced quotes in configuration line');
    }
    if (args.length === 0) continue;
    dir.args = args;
    if (args[0].toLowerCase() === 'include') {
      if (args.length !== 2) throw fileError(dir, 'wrong number of arguments');
      const target = isAbsolute(args[1]) ? args[1] : resolve(dirname(path), args[1]);
      readDirectives(target, out, depth + 1);
      continue;
    }
    out.push(dir);
  }
}

/**
 * Redis's sdssplitargs: words separated by spaces; "double quotes" with \n \r
 * \t \b \a \\ \" and \xHH escapes; 'single quotes' with \' only. A closing
 * quote must be followed by a space or the end. Throws on unbalanced quotes.
 */
export function splitArgs(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  const n = line.length;
  const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v' || c === '\f';
  for (;;) {
    while (i < n && isSpace(line[i])) i++;
    if (i >= n) return out;
    let cur = '';
    let inDq = false;
    let inSq = false;
    for (;;) {
      if (inDq) {
        if (i >= n) throw new Error('unbalanced quotes');
        const c = line[i];
        if (c === '\\' && line[i + 1] === 'x' && /^[0-9a-fA-F]{2}$/.test(line.slice(i + 2, i + 4))) {
          cur += String.fromCharCode(parseInt(line.slice(i + 2, i + 4), 16));
          i += 3;
        } else if (c === '\\' && i + 1 < n) {
          i++;
          const e = line[i];
          cur += e === 'n' ? '\n' : e === 'r' ? '\r' : e === 't' ? '\t' : e === 'b' ? '\b' : e === 'a' ? '\x07' : e;
        } else if (c === '"') {
          if (i + 1 < n && !isSpace(line[i + 1])) throw new Error('closing quote must be followed by a space');
          inDq = false;
          i++;
          break;
        } else cur += c;
        i++;
      } else if (inSq) {
        if (i >= n) throw new Error('unbalanced quotes');
        const c = line[i];
        if (c === '\\' && line[i + 1] === "'") {
          i++;
          cur += "'";
        } else if (c === "'") {
          if (i + 1 < n && !isSpace(line[i + 1])) throw new Error('closing quote must be followed by a space');
          inSq = false;
          i++;
          break;
        } else cur += c;
        i++;
      } else {
        if (i >= n) break;
        const c = line[i];
        if (isSpace(c)) break;
        if (c === '"') inDq = true;
        else if (c === "'") inSq = true;
        else cur += c;
        i++;
      }
    }
    out.push(cur);
  }
}
