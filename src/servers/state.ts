// Server-wide state shared by every backend: the keyspace, the connected
// clients, settings and counters that INFO/CONFIG/CLIENT report.

import { performance } from 'node:perf_hooks';
import { keyListener, KEYSPACE_REPORTED, NOTIFY_KEYEVENT, NOTIFY_KEYSPACE, NOTIFY_NEW } from '../commands/notify.js';
import { KeyAccess, Keyspace } from '../store/keyspace.js';
import type { ClientState, CommandHooks, ServerStats, SlowlogControl, SlowlogEntry, ConnInfo, KeyListener, MultiState, ServerContext, TimerService } from '../commands/types.js';
import type { ReplyWriter } from '../protocol/reply.js';
import { Persistence, type PersistSettings } from './persistence.js';
import { Aof, type AofSettings } from './aof.js';
import { ConfigStore } from './config.js';
import { functionLibrariesOf } from '../commands/resp/scripting.js';
import { CommandCounters } from '../commands/counters.js';
import { LatencyMonitor } from '../commands/latency.js';
import { InstantMetrics } from './metrics.js';
import { MemoryManager } from './memory.js';
import { isNoEvict } from '../commands/resp/client.js';

export interface ServerSettings extends PersistSettings, AofSettings {
  host: string;
  port: number;
  /** null when RESP is disabled. */
  respPort: number | null;
  loop: 'poll' | 'epoll' | 'libuv';
  idleTimeoutMs: number;
  maxClients: number;
  /** Hard client output buffer limit in bytes (normal clients); 0 = none. */
  outputLimit: number;
  /** Hard output limit of pub/sub clients (Redis's pubsub class: 32 MiB); 0 = none. */
  pubsubOutputLimit: number;
  /** Client query buffer limit in bytes (unparsed input of one connection); 0 = none. */
  queryLimit: number;
  protoMaxBulkLen: number;
  /** TCP keepalive idle time on client sockets, seconds; 0 = off (Redis's tcp-keepalive). */
  tcpKeepAlive: number;
  requirePass: string | null;
  /** Refuse non-loopback clients when bound to a non-loopback address with no password. */
  protectedMode: boolean;
  /** SLOWLOG: commands at least this slow (µs) are logged; -1 = off, and no command is timed. */
  slowlogLogSlowerThan: number;
  /** SLOWLOG: entries kept. */
  slowlogMaxLen: number;
  /** LATENCY: events at least this slow (ms) are recorded; 0 = off. */
  latencyMonitorThreshold: number;
  /** INFO latencystats / LATENCY HISTOGRAM: every command's latency goes into its histogram. */
  latencyTracking: boolean;
  /** The percentiles INFO latencystats reports. */
  latencyPercentiles: number[];
  /** DEBUG: 'no', 'yes', or 'local' (loopback clients only), as Redis's enable-debug-command. */
  enableDebugCommand: 'no' | 'yes' | 'local';
  /** notify-keyspace-events as class bits (src/commands/notify.ts); 0 = off. Read by every notify(). */
  notifyKeyspaceEvents: number;
  /** The parameters as CONFIG sees them, with the config file they were read from (cli/server.ts). */
  config?: ConfigStore;
  /** Keys expired actively per loop iteration at most. */
  activeExpireLimit: number;
  /** Number of databases (Redis's `databases`; immutable once the server runs). */
  databases: number;
  trace: boolean;
  /** With trace: each read and write shows its bytes; reads show where each request ends. */
  traceBytes: boolean;
  /** A file to write the structured trace to (JSON lines, docs/trace-json.md), or null. */
  traceJson: string | null;
  step: boolean;
  /** --inspect-port: the live view's HTTP port on 127.0.0.1 (0: any free one), or null (off). */
  inspectPort: number | null;
  quiet: boolean;
  /** maxmemory in bytes; 0 = no limit. */
  maxmemory: number;
  maxmemoryPolicy: string;
  maxmemorySamples: number;
  maxmemoryEvictionTenacity: number;
  lfuLogFactor: number;
  lfuDecayTime: number;
  /** maxmemory-clients as given: bytes, or a percentage of maxmemory ("10%"); "0" = no limit. */
  maxmemoryClients: string;
}

export const DEFAULT_SETTINGS: ServerSettings = {
  host: '127.0.0.1',
  port: 1234,
  respPort: 6379,
  loop: 'poll',
  idleTimeoutMs: 0,
  maxClients: 10000,
  outputLimit: 256 * 1024 * 1024,
  pubsubOutputLimit: 32 * 1024 * 1024,
  queryLimit: 1024 * 1024 * 1024,
  protoMaxBulkLen: 512 * 1024 * 1024,
  tcpKeepAlive: 300,
  requirePass: null,
  protectedMode: true,
  activeExpireLimit: 2000,
  databases: 16,
  slowlogLogSlowerThan: 10000,
  slowlogMaxLen: 128,
  latencyMonitorThreshold: 0,
  latencyTracking: true,
  latencyPercentiles: [50, 99, 99.9],
  enableDebugCommand: 'no',
  notifyKeyspaceEvents: 0,
  dir: '.',
  dbFilename: 'dump.rdb',
  rdbCompression: true,
  rdbChecksum: true,
  appendOnly: false,
  appendFilename: 'appendonly.aof',
  appendDirname: 'appendonlydir',
  appendFsync: 'everysec',
  aofUseRdbPreamble: true,
  aofLoadTruncated: true,
  aofTimestampEnabled: false,
  trace: false,
  traceBytes: false,
  traceJson: null,
  step: false,
  inspectPort: null,
  quiet: false,
  maxmemory: 0,
  maxmemoryPolicy: 'noeviction',
  maxmemorySamples: 5,
  maxmemoryEvictionTenacity: 10,
  lfuLogFactor: 10,
  lfuDecayTime: 1,
  maxmemoryClients: '0',
};

/** What a client's connection does for it (its session implements this). */
export interface ClientLink {
  readonly fd: number;
  connInfo(): ConnInfo;
  deliver(write: (w: ReplyWriter) => void): void;
  deliveryKey(): string;
  encodeDelivery(write: (w: ReplyWriter) => void): Uint8Array;
  deliverBytes(bytes: Uint8Array): void;
  kill(reason: string): void;
  wake(): void;
}

/** One connected client as commands see it. */
export class Client implements ClientState {
  name = '';
  resp: 2 | 3 = 2;
  authenticated: boolean;
  closeAfterReply = false;
  lastCommand = '';
  waiting = false;
  multi: MultiState | null = null;
  inExec = false;
  monitor = false;
  dirtyCas = false;
  db = 0;
  /** Channels, patterns and shard channels subscribed to (the pub/sub module keeps it). */
  subscriptions = 0;
  readonly createdAtMs = Date.now();
  private peerCache: string | null = null;
  /** Set by the session that serves this client. */
  link: ClientLink | null = null;

  constructor(
    readonly id: number,
    readonly localPort: number,
    readonly protocol: 'book' | 'resp',
    requirePass: string | null,
    private readonly peerLookup: () => string,
  ) {
    this.authenticated = requirePass === null;
  }

  get fd(): number {
    return this.link?.fd ?? -1;
  }

  /** Not closed by --idle-timeout-ms: blocked, subscribed and MONITOR clients (a monitor is a replica to Redis, never timed out). */
  get idleExempt(): boolean {
    return this.waiting || this.subscriptions > 0 || this.monitor;
  }

  connInfo(): ConnInfo {
    return this.link?.connInfo() ?? { qbuf: 0, argvMem: 0, current: 0, qbufFree: 0, pending: 0, obufSize: 0, idleMs: 0, events: '' };
  }

  deliver(write: (w: ReplyWriter) => void): void {
    this.link?.deliver(write);
  }

  kill(reason: string): void {
    this.link?.kill(reason);
  }

  wake(): void {
    this.link?.wake();
  }

  /** "ip:port" of the peer, looked up on first use (no syscall per accept). */
  get peer(): string {
    if (this.peerCache === null) this.peerCache = this.peerLookup();
    return this.peerCache;
  }
}

/** SLOWLOG's memory: entries newest first, ids from 0 up (RESET does not restart them, as in Redis). */
export class Slowlog implements SlowlogControl {
  entries: SlowlogEntry[] = [];
  nextId = 0;

  constructor(readonly settings: { slowlogLogSlowerThan: number; slowlogMaxLen: number }) {}

  record(args: string[], micros: number, client: ClientState): void {
    const t = this.settings.slowlogLogSlowerThan;
    if (t >= 0 && micros >= t) this.push(args, micros, client.peer, client.name, this.settings.slowlogMaxLen);
  }

  /** Logs a command that took `micros` (arguments trimmed as Redis's slowlogCreateEntry). */
  push(args: string[], micros: number, peer: string, name: string, maxLen: number): void {
    const argc = Math.min(args.length, SLOWLOG_MAX_ARGC);
    const kept: string[] = new Array(argc);
    for (let i = 0; i < argc; i++) {
      if (argc !== args.length && i === argc - 1) {
        kept[i] = `... (${args.length - argc + 1} more arguments)`;
      } else {
        const a = args[i];
        kept[i] = a.length > SLOWLOG_MAX_STRING ? `${a.slice(0, SLOWLOG_MAX_STRING)}... (${a.length - SLOWLOG_MAX_STRING} more bytes)` : a;
      }
    }
    redactSecrets(kept);
    this.entries.unshift({ id: this.nextId++, unixSec: Math.floor(Date.now() / 1000), micros, args: kept, peer, name });
    if (this.entries.length > maxLen) this.entries.length = maxLen;
  }

  reset(): void {
    this.entries = [];
  }
}

const SLOWLOG_MAX_ARGC = 32;
const SLOWLOG_MAX_STRING = 128;

/** Passwords never reach the slowlog (Redis redacts AUTH's, HELLO AUTH's and CONFIG SET requirepass/masterauth values). */
function redactSecrets(args: string[]): void {
  const cmd = args[0].toLowerCase();
  if (cmd === 'auth') {
    for (let i = 1; i < args.length; i++) args[i] = '(redacted)';
  } else if (cmd === 'hello') {
    for (let i = 1; i < args.length; i++) {
      if (args[i].toLowerCase() === 'auth') {
        for (let j = i + 1; j <= i + 2 && j < args.length; j++) args[j] = '(redacted)';
      }
    }
  } else if (cmd === 'config' && args.length > 1 && args[1].toLowerCase() === 'set') {
    for (let i = 2; i + 1 < args.length; i += 2) {
      if (['requirepass', 'masterauth', 'tls-key-file-pass', 'tls-client-key-file-pass'].includes(args[i].toLowerCase())) args[i + 1] = '(redacted)';
    }
  }
}

/** The parameters the memory manager follows. */
const MEMORY_PARAMS = new Set(['maxmemory', 'maxmemory-clients', 'maxmemory-policy', 'maxmemory-samples', 'maxmemory-eviction-tenacity', 'lfu-log-factor', 'lfu-decay-time']);

/** Client-provoked log lines allowed per second (see logClientError). */
export const NOISY_LINES_PER_SECOND = 10;

/** The most databases a server may have (Redis allows up to INT_MAX; each empty database costs a few KB here, and active expiry looks at each one per loop turn). */
export const MAX_DATABASES = 4096;

export class ServerState {
  /** The databases, by index: databases[i].id === i. */
  readonly databases: Keyspace[];
  /** Database 0 (the book port's, and what tools that know one database look at). */
  readonly store: Keyspace;
  readonly clients = new Map<number, Client>();
  readonly context: ServerContext;
  private nextClientId = 1;
  /** Actual ports once bound (0 if disabled). */
  readonly ports = { book: 0, resp: 0 };

  /** CONFIG's parameters (the applied ones write into settings). */
  readonly configStore: ConfigStore;
  /** SLOWLOG's entries, newest first. */
  readonly slowlog: Slowlog;
  /** Called by CONFIG RESETSTAT (modules that keep counters INFO reports). */
  readonly onResetStats: (() => void)[] = [];
  /** Called after CONFIG SET changed settings the loop copies (timeout, tcp-keepalive). */
  onSettingsChanged: (() => void) | null = null;

  /** Active expiry on; DEBUG SET-ACTIVE-EXPIRE 0 turns it off. */
  activeExpire = true;

  /** used_memory and maxmemory's eviction. */
  readonly memory: MemoryManager;

  /** SAVE, the RDB file, and the counters INFO reports. */
  readonly persistence: Persistence;

  /** The append-only file (src/servers/aof.ts); its hooks are installed while it is on. */
  readonly aof: Aof;
  /** The AOF was turned on or off: the backend flushes it before replies only while it is on. */
  onAofToggled: ((on: boolean) => void) | null = null;

  /** Timers for commands (blocking timeouts); the wiring sets them before serving. */
  timers: TimerService = nodeTimers;
  /** One loop iteration from inside a running command (a busy script); the syscall server wires it. */
  processEventsWhileBusy: (() => void) | null = null;
  /** SHUTDOWN's stop; the wiring sets it. */
  shutdown: (() => void) | null = null;
  /** Trace notes for commands (block, wake-up, timeout); set when tracing. */
  note: ((text: string) => void) | null = null;

  constructor(
    readonly settings: ServerSettings,
    readonly log: (line: string) => void,
  ) {
    const state = this;
    const dbCount = Math.max(1, Math.min(MAX_DATABASES, settings.databases));
    const databases: Keyspace[] = [];
    // One access policy and LRU/LFU clock for all databases, as Redis has one server.lruclock.
    const access = new KeyAccess();
    for (let i = 0; i < dbCount; i++) databases.push(new Keyspace(undefined, i, access));
    this.databases = databases;
    this.store = databases[0];
    this.slowlog = new Slowlog(settings);
    const keyListeners = new Set<KeyListener>();
    const fanOut: KeyListener = (key, why, db) => {
      for (const fn of keyListeners) fn(key, why, db);
    };
    const swapHooks: ((a: Keyspace, b: Keyspace) => void)[] = [];
    const configStore = settings.config ?? new ConfigStore(settings);
    // A server copies the settings it was given: applied parameters must write to this copy.
    configStore.bind(settings);
    configStore.syncFromSettings();
    this.configStore = configStore;
    const slowlog = this.slowlog;
    const counters = new CommandCounters(settings, slowlog, new LatencyMonitor(settings));
    const st: ServerStats = {
      totalCommands: 0,
      totalConnections: 0,
      rejectedConnections: 0,
      expiredKeysBase: 0,
      evictedKeysBase: 0,
      netInput: () => 0,
      netOutput: () => 0,
      netInputBase: 0,
      netOutputBase: 0,
      instant: new InstantMetrics(
        () => st.totalCommands,
        () => st.netInput(),
        () => st.netOutput(),
        performance.now(),
      ),
      hitsBase: 0,
      missesBase: 0,
    };
    const hooks: CommandHooks = { afterCommand: null, beforeWrite: null, denyWrites: null, aroundWrite: null, trackWrite: null, afterRead: null, afterReply: null, monitors: new Set(), postpone: null, oomRefuses: null, propagate: null, propagateAs: null, busy: null };
    // The keyspaces a save writes (database i = list[i]).
    this.persistence = new Persistence(settings, () => state.databases, configStore.values, hooks, log);
    this.aof = new Aof(settings, {
      databases,
      get counters() {
        return state.context.counters;
      },
      timers: () => state.timers,
      log,
      functionLibraries: () => {
        // The scripting module's engine, if a script or function ran (src/commands/resp/scripting.ts).
        const engine = state.context.registry.get('scripting') as { libraries: Map<string, { code: string }> } | undefined;
        return engine === undefined ? [] : [...engine.libraries.values()].map((l) => l.code);
      },
      writeStatus: (why) => state.persistence.setAofWriteError(why),
      writer: () => state.persistence.backgroundWriter(),
      bgsaveInProgress: () => state.persistence.bgsaveInProgress,
      setBeforeWrite: (fn) => {
        hooks.beforeWrite = fn;
      },
      autoRewrite: () => ({
        percentage: Number(configStore.values.get('auto-aof-rewrite-percentage') ?? 100),
        minSize: Number(configStore.values.get('auto-aof-rewrite-min-size') ?? 67108864),
      }),
    });
    const memory = new MemoryManager({
      databases,
      settings,
      clients: () => state.clients.values(),
      timers: () => state.timers,
      noEvict: isNoEvict,
      log,
      latency: counters.latency,
    });
    this.memory = memory;
    // CONFIG RESETSTAT zeroes aof_delayed_fsync, as Redis's resetServerStats.
    this.onResetStats.push(() => (this.aof.delayedFsync = 0));
    // Only one snapshot may run: a BGSAVE waits for (or is refused during) an AOF rewrite.
    this.persistence.otherBackgroundJob = () => state.aof.rewriteInProgress;
    this.persistence.writingInitialAof = () => state.aof.waiting && state.aof.rewriteInProgress;
    this.context = {
      startedAtMs: Date.now(),
      memory,
      config: configStore.values,
      configStore,
      get host() {
        return settings.host;
      },
      slowlog,
      counters,
      latency: counters.latency,
      get activeExpire() {
        return state.activeExpire;
      },
      set activeExpire(on: boolean) {
        state.activeExpire = on;
      },
      stats: st,
      resetStats() {
        for (const hook of state.onResetStats) hook();
        const st = state.context.stats;
        st.totalCommands = 0;
        st.totalConnections = 0;
        st.rejectedConnections = 0;
        st.expiredKeysBase = state.expiredCount();
        st.evictedKeysBase = state.evictedCount();
        state.memory.evictedClients = 0;
        state.memory.peak = 0;
        st.netInputBase = st.netInput();
        st.netOutputBase = st.netOutput();
        st.hitsBase = state.keyspaceHits();
        st.missesBase = state.keyspaceMisses();
        counters.reset();
        st.instant.reset(performance.now());
      },
      get timers() {
        return state.timers;
      },
      get note() {
        return state.note;
      },
      hooks,
      registry: new Map(),
      databases,
      swapDatabases(a, b) {
        if (a === b) return;
        databases[a].swapContents(databases[b]);
        for (const fn of swapHooks) fn(databases[a], databases[b]);
      },
      onSwapDb(fn) {
        swapHooks.push(fn);
      },
      addKeyListener(fn) {
        keyListeners.add(fn);
        for (const db of databases) db.onChange = fanOut;
      },
      removeKeyListener(fn) {
        keyListeners.delete(fn);
        if (keyListeners.size === 0) for (const db of databases) db.onChange = null;
      },
      clientById: (id) => state.clients.get(id),
      deliverAll(clients, write) {
        // One encoding per wire format (RESP2, RESP3, book), shared by every client that speaks it,
        // as Redis shares one message object among a channel's subscribers.
        let key0 = '';
        let bytes0: Uint8Array | null = null;
        let others: Map<string, Uint8Array> | null = null;
        for (const c of clients) {
          const link = (c as Client).link;
          if (link === null) continue;
          const key = link.deliveryKey();
          let bytes: Uint8Array | undefined;
          if (bytes0 !== null && key === key0) bytes = bytes0;
          else if (bytes0 === null) {
            key0 = key;
            bytes = bytes0 = link.encodeDelivery(write);
          } else {
            others ??= new Map();
            bytes = others.get(key);
            if (bytes === undefined) others.set(key, (bytes = link.encodeDelivery(write)));
          }
          link.deliverBytes(bytes);
        }
      },
      onClientClosed: (fn) => state.onClientClosed.push(fn),
      connectedClients: () => state.clients.size,
      clientList: () => [...state.clients.values()],
      get loopName() {
        return settings.loop;
      },
      ports: this.ports,
      get requirePass() {
        return settings.requirePass;
      },
      persistence: this.persistence,
      aof: {
        get enabled() {
          return state.aof.enabled || state.aof.waiting;
        },
        bgrewrite: (inExec) => state.aof.bgrewrite(inExec),
        start: (inExec) => {
          const why = state.aof.start(inExec);
          if (why === null) state.aofHooks(true);
          return why;
        },
        stop: () => {
          state.aofHooks(false);
          state.aof.stop();
        },
        info: () => state.aof.info(),
      },
      get processEventsWhileBusy() {
        return state.processEventsWhileBusy;
      },
      get shutdown() {
        return state.shutdown;
      },
      log,
    };
    this.persistence.functions = functionLibrariesOf(this.context);
    // Keyspace notifications: the keyspace's own events (new, expired, evicted) need its
    // listener, installed only while one of their classes is on.
    const notifyListener = keyListener(this.context, () => settings.notifyKeyspaceEvents);
    let listening = false;
    const syncNotify = (): void => {
      const f = settings.notifyKeyspaceEvents;
      const want = (f & (NOTIFY_KEYSPACE | NOTIFY_KEYEVENT)) !== 0 && (f & KEYSPACE_REPORTED) !== 0;
      for (const db of state.databases) db.reportNew = want && (f & NOTIFY_NEW) !== 0;
      if (want === listening) return;
      listening = want;
      if (want) this.context.addKeyListener(notifyListener);
      else this.context.removeKeyListener(notifyListener);
    };
    configStore.onNotifyChanged = syncNotify;
    syncNotify();
    // maxmemory and its policy take effect at once, from the file or CONFIG SET.
    const applyMemory = (): void => {
      memory.syncPolicy();
      this.context.hooks.oomRefuses = memory.active() ? (spec, client) => memory.oomRefuses(spec, client) : null;
    };
    applyMemory();
    configStore.appliedListeners.push((name) => {
      if (!MEMORY_PARAMS.has(name)) return;
      applyMemory();
      if (name !== 'maxmemory' || settings.maxmemory === 0) return;
      const used = memory.used(true);
      if (used > settings.maxmemory) {
        log(
          `WARNING: the new maxmemory value set via CONFIG SET (${settings.maxmemory}) is smaller than the current memory usage (${used}). ` +
            'This will result in key eviction and/or the inability to accept new write commands depending on the maxmemory-policy.',
        );
        memory.performEvictions();
      }
    });
  }

  /**
   * Start-up: with appendonly yes the AOF is loaded (it takes precedence over
   * dump.rdb, as in Redis) through `replay`, else the RDB file. Throws an Error
   * that names the file (and offset) when a file cannot be loaded.
   */
  loadData(replay: (args: string[]) => string | null): void {
    if (!this.settings.appendOnly) {
      this.persistence.loadAtStartup();
      return;
    }
    this.aof.loadAtStartup(replay);
    this.persistence.dirty = 0;
    this.aofHooks(true);
  }

  /** Whether writes are logged to the AOF: its hooks in dispatch, blocking and the keyspace. */
  aofHooks(on: boolean): void {
    const { hooks } = this.context;
    if (this.onAofToggled !== null) this.onAofToggled(on);
    if (on) {
      hooks.propagate = this.aof.propagate;
      hooks.propagateAs = this.aof.propagateAs;
      this.context.addKeyListener(this.aof.keyChanged);
    } else {
      hooks.propagate = null;
      hooks.propagateAs = null;
      this.context.removeKeyListener(this.aof.keyChanged);
    }
  }

  /** Keys expired (lazily or actively) in every database since start-up. */
  expiredCount(): number {
    let n = 0;
    for (const db of this.databases) n += db.expiredCount;
    return n;
  }

  /** Keys evicted by maxmemory in every database since start-up. */
  evictedCount(): number {
    let n = 0;
    for (const db of this.databases) n += db.evictedCount;
    return n;
  }

  /** INFO's keyspace_hits and keyspace_misses: the lookups counted in every database. */
  keyspaceHits(): number {
    let n = 0;
    for (const db of this.databases) n += db.hits;
    return n;
  }

  keyspaceMisses(): number {
    let n = 0;
    for (const db of this.databases) n += db.misses;
    return n;
  }

  /** The nearest TTL deadline over every database, or null (the loop's key timer). */
  nextDeadline(): number | null {
    let best: number | null = null;
    for (const db of this.databases) {
      if (db.volatileCount === 0) continue;
      const d = db.nextDeadline();
      if (d !== null && (best === null || d < best)) best = d;
    }
    return best;
  }

  /**
   * Active expiry over every database: up to max keys in all, each database
   * in turn from where the last call stopped (so a busy database 0 cannot keep
   * the others' keys from ever expiring). Returns how many.
   */
  expireSome(max: number): number {
    const dbs = this.databases;
    let n = 0;
    for (let k = 0; k < dbs.length && n < max; k++) {
      const db = dbs[this.expireCursor];
      if (db.volatileCount !== 0) n += db.expireSome(max - n);
      if (n < max) this.expireCursor = (this.expireCursor + 1) % dbs.length;
    }
    return n;
  }

  private expireCursor = 0;

  private noisyWindowStart = 0;
  private noisyInWindow = 0;
  private noisySuppressed = 0;

  /**
   * Logs a line a client can provoke (protocol errors): at most
   * NOISY_LINES_PER_SECOND per second, so a flood of bad clients cannot flood
   * the log; what was held back is counted in the next line that gets through.
   */
  logClientError(line: string): void {
    const now = Date.now();
    if (now - this.noisyWindowStart >= 1000) {
      this.noisyWindowStart = now;
      this.noisyInWindow = 0;
    }
    if (this.noisyInWindow >= NOISY_LINES_PER_SECOND) {
      this.noisySuppressed++;
      return;
    }
    this.noisyInWindow++;
    if (this.noisySuppressed > 0) {
      this.log(`(${this.noisySuppressed} similar lines suppressed)`);
      this.noisySuppressed = 0;
    }
    this.log(line);
  }

  /**
   * One active-expiry pass (at most activeExpireLimit keys): tracking's
   * invalidations of what expired, and, while the latency monitor is on, its
   * duration as the "expire-cycle" event. Returns how many keys expired.
   */
  expireCycle(): number {
    if (!this.activeExpire) return 0;
    const monitor = this.context.latency;
    const started = monitor.enabled ? performance.now() : -1;
    const n = this.expireSome(this.settings.activeExpireLimit);
    this.context.hooks.afterReply?.(null); // tracking's invalidations of the expired keys
    if (started >= 0) monitor.addSampleIfNeeded('expire-cycle', Math.floor(performance.now() - started));
    return n;
  }

  /** A client's connection is gone: forget it (and, through the hooks, its waits and subscriptions). */
  clientClosed(client: Client): void {
    this.clients.delete(client.id);
    for (const hook of this.onClientClosed) hook(client);
  }

  /** Called when a client disconnects (blocked keys, subscriptions, WATCH free what it held). */
  readonly onClientClosed: ((client: Client) => void)[] = [];

  /** The hard output limit of a client's class (pub/sub clients have their own, as in Redis). */
  outputLimitOf(client: Client): number {
    return client.subscriptions > 0 ? this.settings.pubsubOutputLimit : this.settings.outputLimit;
  }

  newClient(localPort: number, peerLookup: () => string, protocol: 'book' | 'resp' = 'resp'): Client {
    const c = new Client(this.nextClientId++, localPort, protocol, this.settings.requirePass, peerLookup);
    this.clients.set(c.id, c);
    this.context.stats.totalConnections++;
    return c;
  }
}

/** Node's own timers (the libuv twin, and tests without a loop). */
export const nodeTimers: TimerService = {
  now: () => performance.now(),
  add(deadlineMs, fire) {
    // Node fires a timer set further than 2^31 - 1 ms away after 1 ms: wait in
    // steps of at most that, re-arming until the deadline.
    const handle: { t: NodeJS.Timeout | null } = { t: null };
    const arm = (): void => {
      const left = deadlineMs - performance.now();
      handle.t = left > MAX_NODE_DELAY_MS ? setTimeout(arm, MAX_NODE_DELAY_MS) : setTimeout(fire, Math.max(0, left));
    };
    arm();
    return handle;
  },
  cancel(timer) {
    const handle = timer as { t: NodeJS.Timeout | null };
    if (handle.t !== null) clearTimeout(handle.t);
    handle.t = null;
  },
};

/** setTimeout's largest delay. */
const MAX_NODE_DELAY_MS = 2 ** 31 - 1;
