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
}

/** Server-wide facts and settings commands may consult (INFO, CONFIG, ...). */
export interface ServerContext {
  readonly startedAtMs: number;
  readonly config: Map<string, string>;
  /** Applies a CONFIG SET; returns an error message or null. */
  setConfig(name: string, value: string): string | null;
  readonly stats: { totalCommands: number; totalConnections: number; rejectedConnections: number; expiredKeys: number };
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
