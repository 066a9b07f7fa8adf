// Server-wide state shared by every backend: the keyspace, the connected
// clients, settings and counters that INFO/CONFIG/CLIENT report.

import { Keyspace } from '../store/keyspace.js';
import type { ClientState, ServerContext } from '../commands/types.js';

export interface ServerSettings {
  host: string;
  port: number;
  /** null when RESP is disabled. */
  respPort: number | null;
  loop: 'poll' | 'epoll' | 'libuv';
  idleTimeoutMs: number;
  maxClients: number;
  /** Hard client output buffer limit in bytes; 0 = none. */
  outputLimit: number;
  /** Client query buffer limit in bytes (unparsed input of one connection); 0 = none. */
  queryLimit: number;
  protoMaxBulkLen: number;
  requirePass: string | null;
  /** Refuse non-loopback clients when bound to a non-loopback address with no password. */
  protectedMode: boolean;
  /** Keys expired actively per loop iteration at most. */
  activeExpireLimit: number;
  trace: boolean;
  step: boolean;
  quiet: boolean;
}

export const DEFAULT_SETTINGS: ServerSettings = {
  host: '127.0.0.1',
  port: 1234,
  respPort: 6379,
  loop: 'poll',
  idleTimeoutMs: 0,
  maxClients: 10000,
  outputLimit: 256 * 1024 * 1024,
  queryLimit: 1024 * 1024 * 1024,
  protoMaxBulkLen: 512 * 1024 * 1024,
  requirePass: null,
  protectedMode: true,
  activeExpireLimit: 2000,
  trace: false,
  step: false,
  quiet: false,
};

/** One connected client as commands see it. */
export class Client implements ClientState {
  name = '';
  authenticated: boolean;
  closeAfterReply = false;
  lastCommand = '';
  readonly createdAtMs = Date.now();
  private peerCache: string | null = null;

  constructor(
    readonly id: number,
    readonly localPort: number,
    requirePass: string | null,
    private readonly peerLookup: () => string,
  ) {
    this.authenticated = requirePass === null;
  }

  /** "ip:port" of the peer, looked up on first use (no syscall per accept). */
  get peer(): string {
    if (this.peerCache === null) this.peerCache = this.peerLookup();
    return this.peerCache;
  }
}

/** Client-provoked log lines allowed per second (see logClientError). */
export const NOISY_LINES_PER_SECOND = 10;

export class ServerState {
  readonly store = new Keyspace();
  readonly clients = new Map<number, Client>();
  readonly context: ServerContext;
  private nextClientId = 1;
  /** Actual ports once bound (0 if disabled). */
  readonly ports = { book: 0, resp: 0 };

  constructor(
    readonly settings: ServerSettings,
    readonly log: (line: string) => void,
  ) {
    const state = this;
    const config = new Map<string, string>([
      ['port', String(settings.respPort ?? 0)],
      ['bind', settings.host],
      ['timeout', String(Math.floor(settings.idleTimeoutMs / 1000))],
      ['maxclients', String(settings.maxClients)],
      ['proto-max-bulk-len', String(settings.protoMaxBulkLen)],
      ['requirepass', settings.requirePass ?? ''],
      ['protected-mode', settings.protectedMode ? 'yes' : 'no'],
      ['save', ''],
      ['appendonly', 'no'],
      ['databases', '1'],
      ['maxmemory', '0'],
      ['maxmemory-policy', 'noeviction'],
      ['client-output-buffer-limit', `normal ${settings.outputLimit} ${settings.outputLimit} 0`],
      ['client-query-buffer-limit', String(settings.queryLimit)],
    ]);
    this.context = {
      startedAtMs: Date.now(),
      config,
      setConfig(name: string, value: string): string | null {
        if (!config.has(name)) return `ERR Unknown option or number of arguments for CONFIG SET - '${name}'`;
        config.set(name, value);
        return null;
      },
      stats: { totalCommands: 0, totalConnections: 0, rejectedConnections: 0, expiredKeys: 0 },
      connectedClients: () => state.clients.size,
      clientList: () => [...state.clients.values()],
      get loopName() {
        return settings.loop;
      },
      ports: this.ports,
      get requirePass() {
        return settings.requirePass;
      },
    };
  }

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

  newClient(localPort: number, peerLookup: () => string): Client {
    const c = new Client(this.nextClientId++, localPort, this.settings.requirePass, peerLookup);
    this.clients.set(c.id, c);
    this.context.stats.totalConnections++;
    return c;
  }
}
