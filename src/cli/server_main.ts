// redloop-server (after src/cli/server.ts chose the heap): parses flags and runs the server (the syscall loop by
// default, or the libuv twin, or one of the notes' lesson stages).

import { parseArgs } from 'node:util';
import { writeSync } from 'node:fs';
import * as sys from '../sys/index.js';
import { C } from '../sys/index.js';
import { DEFAULT_SETTINGS, type ServerSettings } from '../servers/state.js';
import { createSyscallServer } from '../servers/syscall_server.js';
import { runLibuvServer } from '../servers/libuv_server.js';
import { createBlockingServer } from '../servers/blocking.js';
import { createThreadServer } from '../servers/threads.js';
import { createEchoServer } from '../servers/echo.js';
import { checkAofSettings } from '../servers/aof.js';
import { checkPersistSettings } from '../servers/persistence.js';
import { ConfigFileError, ConfigStore, isDirective } from '../servers/config.js';

/** What runs: the full server, or one of the notes' earlier stages. */
export type ServerMode = 'server' | 'echo' | 'blocking' | 'thread-per-connection';

const HELP = `Usage: redloop-server [/path/to/redis.conf] [options] [--<redis parameter> <value> ...]

  A config file in Redis's format comes first (include, quoted values, units such as 1gb,
  save "", repeated directives); an unknown directive stops the start. Any Redis 7.0
  parameter may also be given as --<name> <value...> (after the file: it wins), and the
  options below override both. In the file, "port" is the RESP port.

  --bind <addr>                     address to listen on (default 127.0.0.1; --host is an alias)
  --port <n>                        book-protocol port (default 1234; 0 = any free port)
  --resp-port <n>                   RESP port (default 6379; 0 = any free port)
  --no-resp                         do not listen for RESP
  --loop <poll|epoll|libuv>         event-loop backend (default poll)
  --idle-timeout-ms <n>             close connections idle this long (default 0 = never;
                                    the book uses 5000)
  --maxclients <n>                  maximum connected clients (default 10000)
  --client-output-buffer-limit <n>  disconnect a client whose unsent replies exceed n bytes
                                    (default 268435456; 0 = no limit)
  --client-output-buffer-limit-pubsub <n>
                                    the same for subscribed (pub/sub) clients
                                    (default 33554432; 0 = no limit)
  --client-query-buffer-limit <n>   disconnect a client whose unparsed input exceeds n bytes
                                    (default 1073741824; 0 = no limit)
  --proto-max-bulk-len <n>          largest RESP bulk string (default 536870912)
  --tcp-keepalive <seconds>         TCP keepalive on client sockets: probes after this long idle,
                                    so dead peers free their slot (default 300, as Redis; 0 = off)
  --requirepass <password>          require AUTH before other commands
  --protected-mode <yes|no>         with a non-loopback --host and no --requirepass, refuse
                                    non-loopback clients (default yes)
  --dir <path>                      directory of the RDB file, loaded at start-up and written
                                    by SAVE (default: the current directory)
  --dbfilename <name>               the RDB file's name in --dir (default dump.rdb)
  --rdbcompression <yes|no>         LZF-compress strings over 20 bytes in the RDB file and
                                    DUMP payloads (default yes)
  --rdbchecksum <yes|no>            write the RDB file's CRC-64 trailer and check it when
                                    loading (default yes)
  --mode <server|echo|blocking|thread-per-connection>
                                    the full server (default), or one of the notes' stages:
                                    echo (the event loop echoing each message), blocking
                                    (one client at a time; a second client stalls), or
                                    thread-per-connection (a blocking thread per client, echoing)
  --trace                           print every loop iteration and syscall to stderr
  --trace-bytes                     trace, and show the bytes of each read and write (hex and
                                    printable, first 64) and where each request read ends
  --trace-json <file>               write the structured trace to file, one JSON object per
                                    loop iteration (docs/trace-json.md); with or without --trace
  --step                            trace, and wait for Enter before each poll()
  --inspect-port <port>             serve the live view of the loop on http://127.0.0.1:<port>/
                                    (loopback only; off by default; 0 picks a free port)
  --quiet                           no log lines (the ready line is still printed)
  -h, --help                        show this help

  Memory: the server runs itself again (same pid) with node --max-old-space-size set to 75% of
  the machine's memory, unless node was given a heap size or REDLOOP_HEAP=keep is set; whatever
  --maxmemory says, writes get -OOM before V8's heap fills (the start-up line gives the limits).
`;

function fail(msg: string): never {
  writeSync(2, `redloop-server: ${msg}\n\n${HELP}`);
  process.exit(2);
}

function intFlag(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) fail(`--${name} expects a whole number, got '${v}'`);
  const n = Number(v);
  if (n < min || n > max) fail(`--${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

/** Options of redloop-server itself; with a value unless boolean. */
const BOOLEAN_FLAGS = new Set(['no-resp', 'trace', 'step', 'quiet', 'help']);
const OWN_FLAGS = new Set([
  'bind', 'host', 'port', 'resp-port', 'loop', 'idle-timeout-ms', 'maxclients', 'client-output-buffer-limit',
  'client-output-buffer-limit-pubsub', 'tcp-keepalive', 'client-query-buffer-limit', 'proto-max-bulk-len', 'requirepass',
  'protected-mode', 'dir', 'dbfilename', 'rdbcompression', 'rdbchecksum', 'mode', ...BOOLEAN_FLAGS,
]);

/**
 * Splits the command line as redis-server does: an optional config file first,
 * redloop's own options, and `--<redis parameter> <value…>` directives (every
 * word up to the next `--option`).
 */
function splitCommandLine(argv: string[]): { file: string | null; own: string[]; directives: [string, string[]][] } {
  let file: string | null = null;
  let i = 0;
  if (argv.length > 0 && !argv[0].startsWith('-')) file = argv[i++];
  const own: string[] = [];
  const directives: [string, string[]][] = [];
  while (i < argv.length) {
    const a = argv[i];
    const name = a.startsWith('--') ? a.slice(2).split('=')[0] : '';
    if (name !== '' && !OWN_FLAGS.has(name) && isDirective(name)) {
      const values: string[] = [];
      i++;
      while (i < argv.length && !(argv[i].startsWith('--') && argv[i].length > 2)) values.push(argv[i++]);
      directives.push([name, values]);
      continue;
    }
    own.push(a);
    if (name !== '' && OWN_FLAGS.has(name) && !BOOLEAN_FLAGS.has(name) && !a.includes('=') && i + 1 < argv.length) own.push(argv[++i]);
    i++;
  }
  return { file, own, directives };
}

export function parseServerArgs(argv: string[]): ServerSettings & { mode: ServerMode } {
  const line = splitCommandLine(argv);
  // Defaults, then the file, then --<parameter> directives, then redloop's own options.
  const base: ServerSettings = { ...DEFAULT_SETTINGS };
  const config = new ConfigStore(base);
  try {
    if (line.file !== null) config.loadFile(line.file);
    config.applyArgs(line.directives);
  } catch (err) {
    if (!(err instanceof ConfigFileError)) throw err;
    writeSync(2, `${err.message}\n`);
    process.exit(1);
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: line.own,
      strict: true,
      allowPositionals: false,
      options: {
        bind: { type: 'string' },
        host: { type: 'string' },
        port: { type: 'string' },
        'resp-port': { type: 'string' },
        'no-resp': { type: 'boolean' },
        loop: { type: 'string' },
        'idle-timeout-ms': { type: 'string' },
        maxclients: { type: 'string' },
        'client-output-buffer-limit': { type: 'string' },
        'client-output-buffer-limit-pubsub': { type: 'string' },
        'tcp-keepalive': { type: 'string' },
        'client-query-buffer-limit': { type: 'string' },
        'proto-max-bulk-len': { type: 'string' },
        requirepass: { type: 'string' },
        'protected-mode': { type: 'string' },
        dir: { type: 'string' },
        dbfilename: { type: 'string' },
        rdbcompression: { type: 'string' },
        rdbchecksum: { type: 'string' },
        mode: { type: 'string' },
        trace: { type: 'boolean' },
        'trace-bytes': { type: 'boolean' },
        'trace-json': { type: 'string' },
        step: { type: 'boolean' },
        'inspect-port': { type: 'string' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    fail((err as Error).message);
  }
  const v = parsed.values;
  if (v.help) {
    writeSync(1, HELP);
    process.exit(0);
  }
  const loop = v.loop ?? base.loop;
  if (loop !== 'poll' && loop !== 'epoll' && loop !== 'libuv') fail(`--loop must be poll, epoll or libuv, got '${loop}'`);
  const mode = v.mode ?? 'server';
  if (mode !== 'server' && mode !== 'echo' && mode !== 'blocking' && mode !== 'thread-per-connection') {
    fail(`--mode must be server, echo, blocking or thread-per-connection, got '${mode}'`);
  }
  if (mode !== 'server' && loop === 'libuv') fail(`--mode ${mode} runs on redloop's own syscalls; it cannot use --loop libuv`);
  if (v['inspect-port'] !== undefined && (loop === 'libuv' || mode !== 'server')) {
    fail("--inspect-port shows redloop's own event loop serving data: it needs --mode server with --loop poll or epoll");
  }
  if (loop === 'libuv' && (v.trace || v.step || v['trace-bytes'] || v['trace-json'] !== undefined)) {
    // Refused rather than silently ignored: libuv's loop runs inside Node, in C. Its epoll_wait,
    // accept4, reads and writes never pass through our syscall facade, and its iterations are not
    // ours to step; Node's net events would show a different loop than the one the trace teaches.
    fail(
      "--trace, --trace-bytes, --trace-json and --step show redloop's own event loop; with --loop libuv the loop is libuv's, " +
        'inside Node, and its syscalls never pass through redloop (use --loop poll or --loop epoll, or watch libuv with ' +
        '`strace -f -e trace=epoll_wait,epoll_ctl,accept4,read,write`)',
    );
  }
  if (mode === 'blocking' && v.loop !== undefined) fail('--mode blocking has no event loop; drop --loop');
  if (mode === 'thread-per-connection' && (v.loop !== undefined || v.step || v['trace-bytes'] || v['trace-json'] !== undefined)) {
    fail('--mode thread-per-connection has no event loop (a blocking thread per client): drop --loop, --step, --trace-bytes and --trace-json (--trace shows each thread\'s syscalls)');
  }
  if ((mode === 'blocking' || mode === 'thread-per-connection') && v['idle-timeout-ms'] !== undefined && Number(v['idle-timeout-ms']) !== 0) {
    // Refused rather than ignored: a thread blocked in read() has no idle timer to wake it.
    fail(`--idle-timeout-ms needs the event loop's idle timers; --mode ${mode} blocks in read() and has none (use --mode echo)`);
  }
  if (mode === 'blocking' && v.step) fail('--step steps the event loop; --mode blocking has none (use --trace)');
  if (mode === 'blocking' && (v['trace-bytes'] || v['trace-json'] !== undefined)) fail('--trace-bytes and --trace-json trace the event loop; --mode blocking has none (use --trace)');
  if (v['trace-json'] === '') fail('--trace-json needs a file name');
  const pm = v['protected-mode'];
  if (pm !== undefined && pm !== 'yes' && pm !== 'no') fail(`--protected-mode must be yes or no, got '${pm}'`);
  const yesNo = (name: string, x: string | undefined, dflt: boolean): boolean => {
    if (x === undefined) return dflt;
    if (x !== 'yes' && x !== 'no') fail(`--${name} must be yes or no, got '${x}'`);
    return x === 'yes';
  };
  const persist = {
    dir: v.dir ?? base.dir,
    dbFilename: v.dbfilename ?? base.dbFilename,
    rdbCompression: yesNo('rdbcompression', v.rdbcompression, base.rdbCompression),
    rdbChecksum: yesNo('rdbchecksum', v.rdbchecksum, base.rdbChecksum),
  };
  const persistProblem = checkPersistSettings(persist) ?? checkAofSettings(base);
  if (persistProblem !== null) fail(persistProblem);
  const settings: ServerSettings & { mode: ServerMode } = {
    ...base,
    host: v.bind ?? v.host ?? base.host,
    port: intFlag('port', v.port, 0, 65535) ?? base.port,
    respPort: v['no-resp'] ? null : (intFlag('resp-port', v['resp-port'], 0, 65535) ?? base.respPort),
    loop,
    idleTimeoutMs: intFlag('idle-timeout-ms', v['idle-timeout-ms'], 0, 2 ** 31 - 1) ?? base.idleTimeoutMs,
    // A thread per client costs ~8 MiB: that mode's default is 256 threads, not 10000.
    maxClients: intFlag('maxclients', v.maxclients, 1, 1_000_000) ?? (mode === 'thread-per-connection' && base.maxClients === DEFAULT_SETTINGS.maxClients ? 256 : base.maxClients),
    outputLimit: intFlag('client-output-buffer-limit', v['client-output-buffer-limit'], 0, 2 ** 52) ?? base.outputLimit,
    pubsubOutputLimit:
      intFlag('client-output-buffer-limit-pubsub', v['client-output-buffer-limit-pubsub'], 0, 2 ** 52) ?? base.pubsubOutputLimit,
    queryLimit: intFlag('client-query-buffer-limit', v['client-query-buffer-limit'], 0, 2 ** 52) ?? base.queryLimit,
    protoMaxBulkLen: intFlag('proto-max-bulk-len', v['proto-max-bulk-len'], 1, 2 ** 52) ?? base.protoMaxBulkLen,
    tcpKeepAlive: intFlag('tcp-keepalive', v['tcp-keepalive'], 0, 2 ** 31 - 1) ?? base.tcpKeepAlive,
    requirePass: v.requirepass ?? base.requirePass,
    protectedMode: pm === undefined ? base.protectedMode : pm !== 'no',
    ...persist,
    trace: Boolean(v.trace || v.step || v['trace-bytes']),
    traceBytes: Boolean(v['trace-bytes']),
    traceJson: v['trace-json'] ?? null,
    step: Boolean(v.step),
    inspectPort: intFlag('inspect-port', v['inspect-port'], 0, 65535) ?? base.inspectPort,
    quiet: Boolean(v.quiet),
    mode,
    config,
  };
  // CONFIG GET shows what the options made of the file's values.
  config.bind(settings);
  config.syncFromSettings();
  return settings;
}

/** The line tools and tests wait for: `redloop ready: book=H:P resp=H:P loop=L pid=N`. */
function printReady(settings: ServerSettings, ports: { book: number; resp: number }, loopName: string = settings.loop): void {
  const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host; // [::1]:port, as URLs write it
  const where = `book=${host}:${ports.book} resp=${settings.respPort === null ? 'off' : `${host}:${ports.resp}`}`;
  writeSync(1, `redloop ready: ${where} loop=${loopName} pid=${process.pid}\n`);
}

export function main(): void {
  const settings = parseServerArgs(process.argv.slice(2));
  const log = settings.quiet ? () => {} : (line: string) => writeSync(2, `redloop: ${line}\n`);
  // SIGHUP is ignored, as Redis ignores it (a closed terminal must not stop the
  // server); SIGUSR1 would open Node's inspector, with no password, on 9229.
  sys.signalIgnore([C.SIGHUP, C.SIGUSR1]);
  if (settings.loop === 'libuv') {
    // The libuv twin listens asynchronously; it prints the same ready line.
    runLibuvServer(settings, log, (ports) => printReady(settings, ports)).then(
      () => log('bye'),
      (err: NodeJS.ErrnoException) => {
        writeSync(2, `redloop-server: cannot start: ${err.message}\n`);
        process.exit(1);
      },
    );
    return;
  }
  if (settings.mode === 'thread-per-connection') {
    const lesson = { ...settings, respPort: null };
    let server;
    try {
      server = createThreadServer(lesson, log);
    } catch (err) {
      writeSync(2, `redloop-server: cannot start: ${(err as Error).message}\n`);
      process.exit(1);
    }
    printReady(lesson, server.ports, 'thread-per-connection');
    void server.run();
    return;
  }
  if (settings.mode !== 'server') {
    // The notes' stages speak the book protocol only.
    const lesson = { ...settings, respPort: null };
    let server;
    try {
      server = settings.mode === 'echo' ? createEchoServer(lesson, log) : createBlockingServer(lesson, log);
    } catch (err) {
      writeSync(2, `redloop-server: cannot start: ${(err as Error).message}\n`);
      process.exit(1);
    }
    printReady(lesson, server.ports, settings.mode === 'blocking' ? 'blocking' : settings.loop);
    server.run();
    log('bye');
    return;
  }
  let server;
  try {
    server = createSyscallServer(settings, log);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    writeSync(2, `redloop-server: cannot start: ${e.message}\n`);
    process.exit(1);
  }
  printReady(settings, server.state.ports);
  server.run();
  log('bye');
}

