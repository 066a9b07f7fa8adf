// What every command sees: its arguments (binary strings, name first), the
// reply writer, and the context (keyspace, this client, the server). A command
// parses its arguments, applies them to the store, writes exactly one reply.

import type { ConfigStore } from '../servers/config.js';
import type { MemoryManager } from '../servers/memory.js';
import type { CommandCounters } from './counters.js';
import type { LatencyHistogram, LatencyMonitor } from './latency.js';
import type { InstantMetrics } from '../servers/metrics.js';
import type { ReplyWriter } from '../protocol/reply.js';
import type { KeyChange, Keyspace } from '../store/keyspace.js';

/** Per-connection state a command may read or change (CLIENT SETNAME, AUTH, ...). */
export interface ClientState {
  readonly id: number;
  name: string;
  authenticated: boolean;
  readonly createdAtMs: number;
  readonly peer: string;
  readonly localPort: number;
  /** The command being run right now, for CLIENT INFO. */
  lastCommand: string;
  /** 'book' or 'resp': which port the client came in on. */
  readonly protocol: 'book' | 'resp';
  /** The RESP version its replies are encoded in: 2 until HELLO 3 (the book port stays 2). */
  resp: 2 | 3;
  /** The connection's fd (where the backend has one to show; -1 otherwise). */
  readonly fd: number;
  /** Its buffers and activity, for CLIENT LIST/INFO. */
  connInfo(): ConnInfo;
  /**
   * Writes output into this client from outside its own request — another
   * client's command (PUBLISH, a push that serves a blocked client) or a timer
   * (a blocking command's timeout). The server arranges for it to be written.
   */
  deliver(write: (w: ReplyWriter) => void): void;
  /** Closes the client's connection without flushing (CLIENT KILL of another client; oneself: closeAfterReply). */
  kill(reason: string): void;
  /**
   * True while the client waits for a reply from elsewhere (a blocked command,
   * CLIENT PAUSE): the server reads none of its further requests meanwhile.
   * Whoever sets it clears it and calls wake().
   */
  waiting: boolean;
  /** Channels, patterns and shard channels subscribed to (the pub/sub module keeps it). */
  subscriptions: number;
  /** Its waiting ended: serve its queued requests. */
  wake(): void;
  /** MULTI's state: the queued commands, or null outside a transaction (src/commands/multi.ts). */
  multi: MultiState | null;
  /** True while EXEC runs its queue: blocking commands then behave as their non-blocking forms. */
  inExec: boolean;
  /** MONITOR: every command the server runs is streamed to it. */
  monitor: boolean;
  /** A WATCHed key was touched: EXEC will fail (Redis's CLIENT_DIRTY_CAS). */
  dirtyCas: boolean;
  /** Closed once its pending output is written (QUIT; CLIENT KILL of oneself). */
  closeAfterReply: boolean;
  /**
   * The index of its selected database (SELECT; CLIENT LIST's db=). Its
   * session's CommandContext.store is that database: change both together
   * (selectDb in src/commands/common.ts).
   */
  db: number;
  /** True for a script's own client (Redis's CLIENT_SCRIPT): SORT then sorts a set it would leave unsorted. */
  script?: boolean;
}

/** A transaction being queued. */
export interface MultiState {
  readonly queue: string[][];
  /** The command of each queued request (looked up when it was queued). */
  readonly specs: CommandSpec[];
  /** A queued command was refused (unknown, arity, ...): EXEC answers EXECABORT. */
  failed: boolean;
  /** Bytes of the queued arguments, and the most the client may queue (its query buffer limit). */
  bytes: number;
  readonly limit: number;
}

/** What a feature module does around every command; null when idle, so the hot path pays one check each. */
export interface CommandHooks {
  /** After each top-level command (and after EXEC as a whole): serve blocked clients whose keys became ready. */
  afterCommand: (() => void) | null;
  /**
   * While a background save runs: before a write command (or a blocked
   * client's pop) runs, with its arguments — any of them may be a key it is
   * about to change in place (src/persist/snapshot.ts preserves it first).
   */
  beforeWrite: ((store: Keyspace, args: readonly string[]) => void) | null;
  /**
   * Set while writes are refused (a failed background save with
   * stop-writes-on-bgsave-error, or an AOF that cannot be written): the error
   * text write commands and PING get. Persistence computes it from both
   * conditions (src/servers/persistence.ts refreshDeny).
   */
  denyWrites: string | null;
  /** While any key is WATCHed: run a write command (in database db), noticing which watched keys it changed. */
  aroundWrite: ((args: string[], run: () => void, db: Keyspace) => void) | null;
  /** While some client has CLIENT TRACKING on: run a write command, noticing which tracked keys it changed (and who changed them). */
  trackWrite: ((ctx: CommandContext, args: string[], run: () => void) => void) | null;
  /** While some client has CLIENT TRACKING on: after a read-only command ran (remember the keys it read). */
  afterRead: ((spec: CommandSpec, args: string[], ctx: CommandContext) => void) | null;
  /**
   * After a top-level command's reply is written (client: who sent it) and
   * after an active-expiry cycle (client null): deliver what tracking queued.
   */
  afterReply: ((client: ClientState | null) => void) | null;
  /** MONITOR clients: each command run is streamed to them. */
  readonly monitors: Set<ClientState>;
  /**
   * While CLIENT PAUSE is on: returns true when the command must wait (its
   * client then waits; `rerun` makes the closure that runs it at the end).
   */
  postpone: ((spec: CommandSpec, ctx: CommandContext, rerun: () => (w: ReplyWriter) => void) => boolean) | null;
  /**
   * While maxmemory or maxmemory-clients is set: evict keys (and clients) as
   * needed before a command; the error to refuse it with (-OOM, or the
   * client's own eviction), or null (src/servers/memory.ts).
   */
  oomRefuses: ((spec: CommandSpec, client: ClientState) => string | null) | null;
  /**
   * While the AOF is on: after every command run (`failed`: it replied an
   * error). Write commands are logged as their effect (src/servers/aof.ts).
   */
  propagate: ((spec: CommandSpec, args: string[], ctx: CommandContext, failed: boolean) => void) | null;
  /**
   * While the AOF is on: a command whose effect its text does not say (SPOP's
   * members, a served blocking pop) logs these commands instead of itself,
   * then the whole state of `keys` (when the effect is easiest said so), or
   * of their consumer group `group`, all in database `db` (a served client's, not the server's current one).
   */
  propagateAs: ((db: Keyspace, argvs: string[][], keys?: readonly string[], group?: string) => void) | null;
  /**
   * While a script runs past busy-reply-threshold and the loop serves other
   * clients from inside it: the -BUSY error a command gets, or null for the
   * commands allowed then (SCRIPT KILL, FUNCTION KILL, SHUTDOWN NOSAVE, …).
   * Blocked clients are not served meanwhile (afterCommand and afterReply do not run).
   */
  busy: ((spec: CommandSpec, args: string[], ctx: CommandContext) => string | null) | null;
}

/**
 * Told of keys stored ('put': none was there; 'overwrite': replace() over a live key), deleted,
 * expired, evicted, and of a flush (key null); 'new' before a key's creation while the keyspace's
 * reportNew is on. db: the database (Keyspace; its id is the index) where it happened.
 */
export type KeyListener = (key: string | null, why: KeyChange, db: Keyspace) => void;

/** What CLIENT LIST reports of a connection's buffers. */
export interface ConnInfo {
  /** Unparsed input bytes (a partly received request's parsed arguments are in argvMem instead). */
  qbuf: number;
  /** Bytes of the arguments already parsed out of a partly received request (Redis's argv-mem). */
  argvMem: number;
  /** Bytes of the request being run (still in the query buffer, as Redis 7.0 reports its own client's qbuf). */
  current: number;
  /** Free bytes in the input buffer. */
  qbufFree: number;
  /** Unsent output bytes (CLIENT LIST splits them as Redis's 16 KiB buffer and reply list: obl, oll, omem). */
  pending: number;
  /** Output buffer capacity (Redis's rbs). */
  obufSize: number;
  /** Milliseconds since the last read or write. */
  idleMs: number;
  /** Poll interest: 'r', 'w', 'rw' or ''. */
  events: string;
}

/** Timers commands may set (a blocking command's timeout). The loop's timers, or Node's on the libuv twin. */
export interface TimerService {
  /** Monotonic milliseconds. */
  now(): number;
  /** Calls fire() at the monotonic time deadlineMs; `what` names it in the trace. */
  add(deadlineMs: number, fire: () => void, what: string): unknown;
  /** Cancels a timer returned by add() (no-op if it fired already). */
  cancel(timer: unknown): void;
}

/** INFO commandstats: one command's counters on one server. */
export interface CommandStat {
  readonly name: string;
  calls: number;
  /** Microseconds spent, measured while slowlog-log-slower-than >= 0 (the clock is read only then). */
  usec: number;
  /** Calls timed (usec covers these; usec_per_call divides by it). */
  timed: number;
  rejected: number;
  failed: number;
  /** Its latencies (latency-tracking), created at its first timed call. */
  hist?: LatencyHistogram;
}

/** One SLOWLOG entry. */
export interface SlowlogEntry {
  id: number;
  unixSec: number;
  micros: number;
  args: string[];
  peer: string;
  name: string;
}

export interface SlowlogControl {
  /** Newest first. */
  readonly entries: readonly SlowlogEntry[];
  reset(): void;
  /** slowlog-log-slower-than now (µs; -1 = off) and slowlog-max-len: read on every command. */
  readonly settings: { readonly slowlogLogSlowerThan: number; readonly slowlogMaxLen: number };
  /** Logs a command run inside EXEC if it took at least the threshold. */
  record(args: string[], micros: number, client: ClientState): void;
}

/** The counters INFO's stats section reports. */
export interface ServerStats {
  totalCommands: number;
  totalConnections: number;
  rejectedConnections: number;
  /** Keys expired at the last RESETSTAT (INFO reports the keyspace's count minus this). */
  expiredKeysBase: number;
  /** Keys evicted at the last RESETSTAT. */
  evictedKeysBase: number;
  /** Bytes read from / written to client sockets since start-up (the backend counts them). */
  netInput: () => number;
  netOutput: () => number;
  /** Their values at the last RESETSTAT. */
  netInputBase: number;
  netOutputBase: number;
  /** instantaneous_ops_per_sec and _input/_output_kbps (sampled by the server's loop, src/servers/metrics.ts). */
  readonly instant: InstantMetrics;
  /** keyspace_hits / keyspace_misses at the last RESETSTAT. */
  hitsBase: number;
  missesBase: number;
}

/** Persistence as commands see it (SAVE, LASTSAVE, DUMP, INFO); the server wires the files. */
export interface PersistenceControl {
  /** Write commands run since the last successful save (INFO's rdb_changes_since_last_save). */
  dirty: number;
  /** Unix seconds of the last successful save (start-up counts as one, as in Redis). */
  readonly lastSaveUnixSec: number;
  /** rdb_last_bgsave_status: set by a successful save; a failed SAVE leaves it, as in Redis (only a background save's failure clears it). */
  readonly lastSaveOk: boolean;
  /** Saves attempted since start-up (rdb_saves, which Redis counts at the start of each). */
  readonly saves: number;
  /** Keys loaded, and keys skipped as already expired, by the load at start-up. */
  readonly lastLoad: { readonly loaded: number; readonly expired: number };
  /** rdbcompression (CONFIG SET may change it): DUMP and SAVE compress strings over 20 bytes. */
  readonly rdbCompression: boolean;
  /** SAVE: writes the RDB file now, synchronously. Null on success; otherwise why not (also logged). */
  save(): string | null;
  /** Dispatch calls dirtied() when dirty reaches this (the next save rule's number of changes; Infinity: none). */
  readonly dirtyAlarm: number;
  /** dirty reached dirtyAlarm: a save rule may fire once its time has come. */
  dirtied(): void;
  /** BGSAVE [SCHEDULE]: started, scheduled (inside EXEC), or Redis's error text. */
  bgsave(schedule: boolean, inExec: boolean): 'started' | 'scheduled' | { error: string };
  readonly bgsaveInProgress: boolean;
  /** rdb_current_bgsave_time_sec, rdb_last_bgsave_time_sec (-1: none). */
  readonly currentBgsaveSec: number;
  readonly lastBgsaveSec: number;
  /** rdb_last_cow_size: bytes the last background save serialized early because a write was about to change them. */
  readonly lastCowBytes: number;
  /** SHUTDOWN: null when the server is stopping; else the error text (it keeps running). */
  shutdown(flags: ShutdownFlags): string | null;
}

/** SHUTDOWN's modifiers. */
export interface ShutdownFlags {
  nosave: boolean;
  save: boolean;
  now: boolean;
  force: boolean;
}

/** The append-only file as commands see it (BGREWRITEAOF, INFO, CONFIG SET appendonly). */
export interface AofControl {
  /** appendonly is on, or waits for its first background rewrite (Redis's aof_state != AOF_OFF). */
  readonly enabled: boolean;
  /**
   * BGREWRITEAOF: starts a background rewrite (a new incr file now, a new base
   * from a point-in-time snapshot), schedules it (a BGSAVE runs, or inside
   * EXEC), or says why not (Redis's error text).
   */
  bgrewrite(inExec: boolean): 'started' | 'scheduled' | { error: string };
  /**
   * CONFIG SET appendonly yes (Redis's startAppendOnly): logging starts and
   * a background rewrite writes the first base (scheduled during a BGSAVE or
   * inside EXEC); the AOF is on when it is committed. Null, or why the
   * rewrite cannot start.
   */
  start(inExec: boolean): string | null;
  /** CONFIG SET appendonly no: flush, fsync and close. */
  stop(): void;
  /** INFO persistence's aof_* fields. */
  info(): [string, string | number][];
}

/** Server-wide facts and settings commands may consult (INFO, CONFIG, ...). */
export interface ServerContext {
  readonly startedAtMs: number;
  /** used_memory, maxmemory and eviction (INFO memory, MEMORY). */
  readonly memory: MemoryManager;
  /** Parameter → value as CONFIG GET shows it (read-only for commands: CONFIG SET goes through configStore). */
  readonly config: Map<string, string>;
  /** Every Redis 7.0 parameter: CONFIG GET/SET/REWRITE. */
  readonly configStore: ConfigStore;
  /** The address the server listens on. */
  readonly host: string;
  readonly slowlog: SlowlogControl;
  /** Active expiry on (DEBUG SET-ACTIVE-EXPIRE 0 turns it off: keys then expire only when touched). */
  activeExpire: boolean;
  /** LATENCY's monitor: latencyAddSampleIfNeeded for any event (eviction, fsync, …). */
  readonly latency: LatencyMonitor;
  /** INFO commandstats/errorstats counters and SLOWLOG's switch (also held directly by every CommandContext). */
  readonly counters: CommandCounters;
  readonly stats: ServerStats;
  /** Resets every counter INFO reports (CONFIG RESETSTAT). */
  resetStats(): void;
  readonly timers: TimerService;
  /** Trace notes (block, wake-up, timeout) when --trace is on; null otherwise. */
  readonly note: ((text: string) => void) | null;
  readonly hooks: CommandHooks;
  /** Per-server state of feature modules (pub/sub channels, blocked keys, watched keys), by module name. */
  readonly registry: Map<string, unknown>;
  /** The databases, by index (SELECT's number); every one is a Keyspace whose id is its index. */
  readonly databases: readonly Keyspace[];
  /**
   * SWAPDB: exchanges the contents of databases a and b (valid indexes), then
   * calls the onSwapDb hooks (blocked clients, WATCH), as Redis's dbSwapDatabases.
   */
  swapDatabases(a: number, b: number): void;
  /** Called after SWAPDB exchanged two databases' contents. */
  onSwapDb(fn: (a: Keyspace, b: Keyspace) => void): void;
  /** Listen to every key stored, deleted, expired or flushed, in any database (WATCH, blocked clients). */
  addKeyListener(fn: KeyListener): void;
  removeKeyListener(fn: KeyListener): void;
  /** Calls fn when a client disconnects (free its waits, subscriptions, watched keys). */
  onClientClosed(fn: (client: ClientState) => void): void;
  /**
   * The same output to many clients (PUBLISH's fan-out): encoded once per wire
   * format and appended to each client's output, as deliver() would.
   */
  deliverAll(clients: Iterable<ClientState>, write: (w: ReplyWriter) => void): void;
  /** A connected client by id (CLIENT KILL, CLIENT UNBLOCK). */
  clientById(id: number): ClientState | undefined;
  connectedClients(): number;
  clientList(): ClientState[];
  readonly loopName: string;
  readonly ports: { book: number; resp: number };
  readonly requirePass: string | null;
  readonly persistence: PersistenceControl;
  readonly aof: AofControl;
  /**
   * Runs one loop iteration now, from inside the command that is running
   * (file events only: no timers, no key expiry; the running client's
   * connection is left alone) — how a busy script lets the server answer
   * other clients. Null where the server cannot (the libuv twin, tests that
   * build a context by hand).
   */
  readonly processEventsWhileBusy: (() => void) | null;
  /** SHUTDOWN: stop serving (the loop ends after this iteration). Null where there is no loop to stop. */
  readonly shutdown: (() => void) | null;
  /** The server log (redis.log from scripts); absent in tests that build a context by hand. */
  readonly log?: (line: string) => void;
}

export interface CommandContext {
  /**
   * The client's selected database. Not readonly: SELECT (and RESET, and
   * SELECT inside a script, on the script's own context) points it at
   * another database, together with client.db (selectDb in common.ts).
   */
  store: Keyspace;
  readonly client: ClientState;
  readonly server: ServerContext;
  /**
   * server.hooks and server.persistence, held directly: dispatch reads them on
   * every command, and a load through the server context (an object with
   * getters) is a generic, slower property access.
   */
  readonly hooks: CommandHooks;
  readonly persistence: PersistenceControl;
  /** server.counters, held directly for the same reason. */
  readonly counters: CommandCounters;
}

/** A command's body. args[0] is the command name as the client sent it. */
export type CommandFn = (args: string[], w: ReplyWriter, ctx: CommandContext) => void;

export interface CommandSpec {
  /** Its slot in a server's commandStats (assigned by commandMap). */
  index?: number;
  /** Lower-case name. */
  readonly name: string;
  /**
   * Redis's arity convention: n > 0 exactly n args (name included); n < 0 at
   * least -n. On the RESP table it, flags and the key positions come from the
   * command's Redis 7.0 description (src/commands/meta.ts), whatever the spec says.
   */
  arity: number;
  readonly run: CommandFn;
  /** Allowed before AUTH (AUTH, HELLO, QUIT). */
  readonly noauth?: boolean;
  /** Refused inside MULTI (the transaction then fails at EXEC). */
  readonly noMulti?: boolean;
  /**
   * Not shown to MONITOR (admin commands, as Redis: CMD_ADMIN or CMD_SKIP_MONITOR).
   * A function decides per request, for a container whose admin flag is per
   * subcommand (CLIENT KILL is admin, CLIENT ID is not).
   */
  skipMonitor?: boolean | ((args: string[]) => boolean);
  /**
   * A container command's subcommand check, run where Redis's lookup would
   * reject it (after the container's arity, before AUTH, the subscribed-context
   * rule and MULTI's queue): writes the unknown-subcommand or arity error and
   * returns false. Absent: the command checks its subcommands itself.
   */
  subcommand?: (args: string[], w: ReplyWriter, ctx: CommandContext) => boolean;
  /** Redis's COMMAND flags and key positions (filled from the description on the RESP table). */
  flags?: readonly string[];
  firstKey?: number;
  lastKey?: number;
  keyStep?: number;
  /**
   * A container's subcommands that redloop implements (lower-case), when not
   * all of Redis's: COMMAND shows only these. test/command_meta.test.ts checks
   * that every subcommand shown answers something other than "unknown subcommand".
   */
  readonly subcommands?: readonly string[];
  /** Set from the description and `subcommands`: the subcommands served (undefined: not a container). */
  subcommandNames?: ReadonlySet<string>;
  /** Set by commandMap: each served subcommand's slot in commandStats (INFO commandstats shows config|get). */
  subStats?: ReadonlyMap<string, { readonly index: number; readonly name: string }>;
  /** Set by commandMap from flags: a write command (counted for rdb_changes_since_last_save). */
  write?: boolean;
  /** Set by commandMap from flags: a read-only command (CLIENT TRACKING remembers its keys). */
  readOnly?: boolean;
  /** Set by commandMap from flags: a fast command (its latency is the fast-command event). */
  fast?: boolean;
  /** Set by commandMap from flags: refused with -OOM when used memory is over maxmemory and nothing can be evicted. */
  denyoom?: boolean;
}

/** A protocol's command table with its own wording of dispatch errors. */
export interface CommandTable {
  readonly commands: Map<string, CommandSpec>;
  unknownCommand(args: string[], w: ReplyWriter): void;
  wrongArity(spec: CommandSpec, args: string[], w: ReplyWriter): void;
  noAuth(w: ReplyWriter): void;
}
