// redloop-server started from a redis.conf written like the one Debian ships
// (comments, include, quoted values, units, repeated save lines, a bind list),
// command-line overrides, refusals of bad files, and CONFIG REWRITE's round trip.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import Redis from 'ioredis';
import { afterAll, describe, expect, test } from 'vitest';
import { startServer } from './helpers/server.js';
import { CONFIG_TABLE, ConfigStore, splitArgs } from '../src/servers/config.js';
import { DEFAULT_SETTINGS } from '../src/servers/state.js';

const SERVER = fileURLToPath(new URL('../dist/cli/server.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'redloop-conf-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A redis.conf in the shape of Debian's (abridged: its comments and directives, in its order). */
function debianConf(dir: string, include: string): string {
  return `# Redis configuration file example.
#
# Note that in order to read the configuration file, Redis must be
# started with the file path as first argument:
#
# ./redis-server /path/to/redis.conf

# Note on units: when memory size is needed, it is possible to specify
# it in the usual form of 1k 5GB 4M and so forth:
#
# 1k => 1000 bytes
# 1kb => 1024 bytes

################################## INCLUDES ###################################

# include /path/to/local.conf
include ${include}

################################## NETWORK #####################################

bind 127.0.0.1 -::1
protected-mode yes
port 6379
tcp-backlog 511
# unixsocket /run/redis/redis-server.sock
# unixsocketperm 700
timeout 0
tcp-keepalive 300

################################# GENERAL #####################################

daemonize yes
supervised auto
pidfile /run/redis/redis-server.pid
loglevel notice
logfile /var/log/redis/redis-server.log
databases 16
always-show-logo no
set-proc-title yes
proc-title-template "{title} {listen-addr} {server-mode}"

################################ SNAPSHOTTING  ################################

# save ""
save 3600 1
save 300 100
save 60 10000
stop-writes-on-bgsave-error yes
rdbcompression yes
rdbchecksum yes
dbfilename dump.rdb
rdb-del-sync-files no
dir ${dir}

################################# REPLICATION #################################

# replicaof <masterip> <masterport>
replica-serve-stale-data yes
replica-read-only yes
repl-diskless-sync yes
repl-diskless-sync-delay 5
repl-diskless-load disabled
repl-disable-tcp-nodelay no
replica-priority 100

################################## SECURITY ###################################

# rename-command CONFIG ""
requirepass 'pass "word"'
acllog-max-len 128

################################### CLIENTS ####################################

maxclients 5000

############################## MEMORY MANAGEMENT ################################

maxmemory 1gb
maxmemory-policy allkeys-lru
maxmemory-samples 5

############################# LAZY FREEING ####################################

lazyfree-lazy-eviction no
lazyfree-lazy-expire no
lazyfree-lazy-server-del no
replica-lazy-flush no
lazyfree-lazy-user-del no

############################## APPEND ONLY MODE ###############################

appendonly no
appendfilename "appendonly.aof"
appenddirname "appendonlydir"
appendfsync everysec
no-appendfsync-on-rewrite no
auto-aof-rewrite-percentage 100
auto-aof-rewrite-min-size 64mb
aof-load-truncated yes
aof-use-rdb-preamble yes

################################## SLOW LOG ###################################

slowlog-log-slower-than 10000
slowlog-max-len 128

############################# EVENT NOTIFICATION ##############################

notify-keyspace-events ""

############################### ADVANCED CONFIG ###############################

hash-max-ziplist-entries 512
hash-max-ziplist-value 64
list-max-ziplist-size -2
list-compress-depth 0
set-max-intset-entries 512
zset-max-ziplist-entries 128
zset-max-ziplist-value 64
hll-sparse-max-bytes 3000
stream-node-max-bytes 4kb
stream-node-max-entries 100
activerehashing yes
client-output-buffer-limit normal 0 0 0
client-output-buffer-limit replica 256mb 64mb 60
client-output-buffer-limit pubsub 32mb 8mb 60
hz 10
dynamic-hz yes
aof-rewrite-incremental-fsync yes
rdb-save-incremental-fsync yes
jemalloc-bg-thread yes
`;
}

async function configMap(r: Redis, pattern = '*'): Promise<Map<string, string>> {
  const flat = (await r.config('GET', pattern)) as string[];
  const m = new Map<string, string>();
  for (let i = 0; i < flat.length; i += 2) m.set(flat[i], flat[i + 1]);
  return m;
}

/** One inline request on a fresh connection; resolves with the first reply's bytes. */
function rawRequest(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1', () => sock.write(request));
    sock.setEncoding('latin1');
    sock.once('data', (d: string) => {
      sock.destroy();
      resolve(d);
    });
    sock.once('error', reject);
  });
}

function failToStart(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [SERVER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    proc.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (d.includes('redloop ready')) {
        proc.kill('SIGKILL');
        reject(new Error('the server started'));
      }
    });
    proc.on('exit', (code) => resolve({ code, stderr }));
  });
}

describe('config file', () => {
  test("starts from a Debian-like redis.conf; command-line options win; CONFIG REWRITE round-trips it", async () => {
    const dir = mkdtempSync(join(root, 'deb-'));
    const include = join(dir, 'local.conf');
    writeFileSync(include, '# local overrides\nhz 20\nlfu-log-factor 20\n');
    const conf = join(dir, 'redis.conf');
    const original = debianConf(dir, include);
    writeFileSync(conf, original);
    const srv = await startServer(['--maxmemory', '2gb', '--quiet'], { configFile: conf });
    const r = new Redis({ port: srv.respPort, lazyConnect: true, password: 'pass "word"', retryStrategy: () => null });
    await r.connect();
    let m = await configMap(r);
    expect(m.get('maxmemory')).toBe(String(2 * 1024 ** 3)); // --maxmemory after the file wins over its 1gb
    expect(m.get('maxmemory-policy')).toBe('allkeys-lru');
    expect(m.get('hz')).toBe('10'); // the include says 20, a later line 10: the later wins
    expect(m.get('lfu-log-factor')).toBe('20'); // from the include
    expect(m.get('save')).toBe('3600 1 300 100 60 10000'); // repeated lines accumulate
    expect(m.get('bind')).toBe('127.0.0.1 -::1');
    expect(m.get('maxclients')).toBe('5000');
    expect(m.get('requirepass')).toBe('pass "word"'); // single quotes keep the double quotes
    expect(m.get('hash-max-listpack-entries')).toBe('512');
    expect(m.get('auto-aof-rewrite-min-size')).toBe(String(64 * 1024 * 1024));
    expect(m.get('stream-node-max-bytes')).toBe('4096');
    expect(m.get('client-output-buffer-limit')).toBe('normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60');
    expect(m.get('dir')).toBe(dir);
    expect(m.get('port')).toBe('0'); // --resp-port 0 (the helper's: any free port) overrides the file's port
    expect(((await r.info('server')) as string)).toContain(`config_file:${conf}\r\n`);
    // The file's password is required of new connections.
    expect(await rawRequest(srv.respPort, 'GET k\r\n')).toBe('-NOAUTH Authentication required.\r\n');

    // Change a few parameters, some in the file, some not, then rewrite.
    expect(await r.config('SET', 'timeout', '7', 'maxmemory-policy', 'noeviction', 'lfu-decay-time', '5', 'lazyfree-lazy-expire', 'yes')).toBe('OK');
    expect(await r.config('SET', 'client-output-buffer-limit', 'pubsub 64mb 16mb 90')).toBe('OK');
    expect(await r.config('REWRITE')).toBe('OK');
    const rewritten = readFileSync(conf, 'latin1');
    // Comments, blank lines and the include line are kept, in place.
    for (const kept of ['# Redis configuration file example.', '# include /path/to/local.conf', `include ${include}`, '# rename-command CONFIG ""', '############################## APPEND ONLY MODE ###############################']) {
      expect(rewritten).toContain(kept + '\n');
    }
    const lines = rewritten.split('\n');
    // Values replaced where they stood, in the spelling the file used.
    expect(lines.indexOf('timeout 7')).toBe(original.split('\n').indexOf('timeout 0'));
    expect(lines.indexOf('maxmemory-policy noeviction')).toBe(original.split('\n').indexOf('maxmemory-policy allkeys-lru'));
    expect(lines).toContain('lazyfree-lazy-expire yes');
    expect(lines).toContain('hash-max-ziplist-entries 512');
    expect(lines).toContain('maxmemory 2gb');
    expect(lines).toContain('client-output-buffer-limit pubsub 64mb 16mb 90');
    expect(lines).toContain('requirepass "pass \\"word\\""');
    // New ones appended after Redis's marker; parameters at their default not added.
    const mark = lines.indexOf('# Generated by CONFIG REWRITE');
    expect(mark).toBeGreaterThan(0);
    expect(lines.slice(mark + 1)).toContain('lfu-decay-time 5');
    expect(lines.slice(mark + 1)).not.toContain('activedefrag no');
    m = await configMap(r);
    r.disconnect();
    await srv.stop();

    // Round trip: a server started from the rewritten file has the same configuration.
    const again = await startServer(['--quiet'], { configFile: conf });
    const r2 = new Redis({ port: again.respPort, lazyConnect: true, password: 'pass "word"', retryStrategy: () => null });
    await r2.connect();
    const m2 = await configMap(r2);
    m.delete('port');
    m2.delete('port');
    expect(m2).toEqual(m);
    // Rewriting an unchanged configuration leaves the file as it is.
    expect(await r2.config('REWRITE')).toBe('OK');
    expect(readFileSync(conf, 'latin1')).toBe(rewritten);
    r2.disconnect();
    await again.stop();
  });

  test('save "" clears the save points; later lines add again', async () => {
    const dir = mkdtempSync(join(root, 'save-'));
    const conf = join(dir, 'redis.conf');
    writeFileSync(conf, `dir ${dir}\nsave 900 1\nsave ""\nsave 60 5\n`);
    const srv = await startServer(['--quiet'], { configFile: conf });
    const r = new Redis({ port: srv.respPort, lazyConnect: true });
    await r.connect();
    expect(await r.config('GET', 'save')).toEqual(['save', '60 5']);
    r.disconnect();
    await srv.stop();
  });

  test('Redis parameters on the command line, without a file', async () => {
    const srv = await startServer(['--hz', '33', '--save', '', '--client-query-buffer-limit', '2097152', '--quiet']);
    const r = new Redis({ port: srv.respPort, lazyConnect: true });
    await r.connect();
    expect(await r.config('GET', 'hz')).toEqual(['hz', '33']);
    expect(await r.config('GET', 'client-query-buffer-limit')).toEqual(['client-query-buffer-limit', '2097152']);
    await expect(r.config('REWRITE')).rejects.toThrow('ERR The server is running without a config file');
    r.disconnect();
    await srv.stop();
  });

  test('an unknown directive, a bad value, unbalanced quotes or a missing include stop the start, naming file and line', async () => {
    const dir = mkdtempSync(join(root, 'bad-'));
    const cases: [string, RegExp][] = [
      ['# fine\nport 6379\nno-such-directive yes\n', /at line 3\n>>> 'no-such-directive yes'\nBad directive or wrong number of arguments/],
      ['maxmemory-policy sometimes\n', /at line 1\n>>> 'maxmemory-policy sometimes'\nargument\(s\) must be one of the following: volatile-lru/],
      ['timeout 1 2\n', /at line 1\n>>> 'timeout 1 2'\nwrong number of arguments/],
      ['requirepass "abc\n', /at line 1\n.*\nUnbalanced quotes/],
      ['proto-max-bulk-len 1000\n', /argument must be between 1048576 and 9223372036854775807 inclusive/],
      [`include ${join(dir, 'missing.conf')}\n`, /can't open config file '.*missing\.conf'/],
    ];
    for (const [text, expected] of cases) {
      const conf = join(dir, 'redis.conf');
      writeFileSync(conf, text);
      const { code, stderr } = await failToStart([conf, '--port', '0', '--resp-port', '0']);
      expect(code).toBe(1);
      expect(stderr).toMatch(expected);
      if (!text.startsWith('include')) expect(stderr).toContain(conf);
    }
    // An unknown --<parameter> is still an unknown option.
    const { code } = await failToStart(['--port', '0', '--no-such-thing', '1']);
    expect(code).toBe(2);
  });
});

describe('config parsing', () => {
  test("splitArgs: Redis's quoting rules", () => {
    expect(splitArgs('save 3600 1')).toEqual(['save', '3600', '1']);
    expect(splitArgs('save ""')).toEqual(['save', '']);
    expect(splitArgs('requirepass "a\\"b\\x41\\n"')).toEqual(['requirepass', 'a"bA\n']);
    expect(splitArgs("requirepass 'it\\'s'")).toEqual(['requirepass', "it's"]);
    expect(() => splitArgs('requirepass "abc')).toThrow();
    expect(() => splitArgs('requirepass "abc"def')).toThrow();
  });

  test('every parameter has a default its own parser accepts, and CONFIG SET keeps it unchanged', () => {
    const store = new ConfigStore({ ...DEFAULT_SETTINGS });
    for (const d of CONFIG_TABLE) {
      if (d.mode !== 'mutable' || d.name === 'port' || d.name === 'bind') continue;
      const before = store.values.get(d.name)!;
      expect(store.set([[d.name, before]]), d.name).toBeNull();
      expect(store.values.get(d.name), d.name).toBe(before);
    }
  });

  test('a failed CONFIG SET leaves every value as it was', () => {
    const settings = { ...DEFAULT_SETTINGS };
    const store = new ConfigStore(settings);
    expect(store.set([['timeout', '5'], ['maxclients', '0']])).toBe(
      "ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument must be between 1 and 4294967295 inclusive",
    );
    expect(store.values.get('timeout')).toBe('0');
    expect(settings.idleTimeoutMs).toBe(0);
    expect(store.set([['timeout', '5'], ['maxclients', '20']])).toBeNull();
    expect([settings.idleTimeoutMs, settings.maxClients]).toEqual([5000, 20]);
  });
});
