// What every command sees: its arguments (binary strings, name first), the
// reply writer, and the context (keyspace, this client, the server). A command
// parses its arguments, applies them to the store, writes exactly one reply.

import type { ReplyWriter } from '../protocol/reply.js';
import type { Keyspace } from '../store/keyspace.js';

/** Per-connection state a command may read or change (CLIENT SETNAME, AUTH, ...). */
export interface ClientState {
  readonly id: number;
  name: string;
  authenticated: boolean;
  /** Set by QUIT: the server closes the connection once the reply is written. */
  closeAfterReply: boolean;
  readonly createdAtMs: number;
  readonly peer: string;
  readonly localPort: number;
  /** The command being run right now, for CLIENT INFO. */
  lastCommand: string;
  /** 'book' or 'resp': which port the client came in on. */
  readonly protocol: 'book' | 'resp';
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
  /** Closes the client's connection without flushing (CLIENT KILL of another client). */
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
}

/** What CLIENT LIST reports of a connection's buffers. */
export interface ConnInfo {
  /** Unparsed input bytes. */
  qbuf: number;
  /** Free bytes in the input buffer. */
  qbufFree: number;
  /** Unsent output bytes. */
  obl: number;
  /** Output memory beyond the buffer's resting size (Redis: the reply list). */
  omem: number;
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

/** The counters INFO's stats section reports. */
export interface ServerStats {
  totalCommands: number;
  totalConnections: number;
  rejectedConnections: number;
  /** Keys expired at the last RESETSTAT (INFO reports the keyspace's count minus this). */
  expiredKeysBase: number;
}

/** Server-wide facts and settings commands may consult (INFO, CONFIG, ...). */
export interface ServerContext {
  readonly startedAtMs: number;
  readonly config: Map<string, string>;
  /** Applies a CONFIG SET; returns an error message or null. */
  setConfig(name: string, value: string): string | null;
  readonly stats: ServerStats;
  /** Resets every counter INFO reports (CONFIG RESETSTAT). */
  resetStats(): void;
  readonly timers: TimerService;
  /** Trace notes (block, wake-up, timeout) when --trace is on; null otherwise. */
  readonly note: ((text: string) => void) | null;
  connectedClients(): number;
  clientList(): ClientState[];
  readonly loopName: string;
  readonly ports: { book: number; resp: number };
  readonly requirePass: string | null;
}

export interface CommandContext {
  readonly store: Keyspace;
  readonly client: ClientState;
  readonly server: ServerContext;
}

/** A command's body. args[0] is the command name as the client sent it. */
export type CommandFn = (args: string[], w: ReplyWriter, ctx: CommandContext) => void;

export interface CommandSpec {
  /** Lower-case name. */
  readonly name: string;
  /** Redis's arity convention: n > 0 exactly n args (name included); n < 0 at least -n. */
  readonly arity: number;
  readonly run: CommandFn;
  /** Allowed before AUTH (AUTH, HELLO, QUIT). */
  readonly noauth?: boolean;
  /** Redis's COMMAND flags and key positions, for COMMAND/COMMAND DOCS. */
  readonly flags?: readonly string[];
  readonly firstKey?: number;
  readonly lastKey?: number;
  readonly keyStep?: number;
}

/** A protocol's command table with its own wording of dispatch errors. */
export interface CommandTable {
  readonly commands: Map<string, CommandSpec>;
  unknownCommand(args: string[], w: ReplyWriter): void;
  wrongArity(spec: CommandSpec, args: string[], w: ReplyWriter): void;
  noAuth(w: ReplyWriter): void;
}
