// The counters INFO commandstats/errorstats report and SLOWLOG's timing
// switch, in one plain object that every command context holds directly
// (dispatch touches them on every command: a class instance's fields are
// fast loads, unlike the server context's getters).

import type { CommandStat, SlowlogControl } from './types.js';
import type { LatencyMonitor } from './latency.js';

/** What decides whether a command is timed, and what its time feeds. */
export interface CounterSettings {
  readonly slowlogLogSlowerThan: number;
  readonly slowlogMaxLen: number;
  readonly latencyMonitorThreshold: number;
  readonly latencyTracking: boolean;
  /** notify-keyspace-events as class bits (src/commands/notify.ts). */
  readonly notifyKeyspaceEvents: number;
}

export class CommandCounters {
  /** INFO commandstats, by CommandSpec.index. */
  readonly commandStats: (CommandStat | undefined)[] = [];
  /** INFO errorstats: error replies by their first word (at most 128 kinds, as Redis). */
  readonly errorStats = new Map<string, number>();
  /** Error replies ever; execute() compares it before and after a command for failed_calls. */
  errorCount = 0;
  /** Error replies since RESETSTAT (total_error_replies). */
  errorReplies = 0;
  /** Errors of commands run inside another (EXEC's), and the nesting depth. */
  nestedErrors = 0;
  execDepth = 0;

  constructor(
    /** The settings read on every command: whether and how it is timed. */
    readonly settings: CounterSettings,
    readonly slowlog: SlowlogControl,
    /** LATENCY's events (command, fast-command, expire-cycle, …). */
    readonly latency: LatencyMonitor,
  ) {}

  /** The writers' errorSink: told of every error reply. */
  readonly errorSink = (msg: string): void => {
    this.errorCount++;
    this.errorReplies++;
    const sp = msg.indexOf(' ');
    const prefix = sp < 0 ? msg : msg.slice(0, sp);
    const n = this.errorStats.get(prefix);
    if (n !== undefined) this.errorStats.set(prefix, n + 1);
    else if (this.errorStats.size < 128) this.errorStats.set(prefix, 1);
  };

  /** CONFIG RESETSTAT. */
  reset(): void {
    this.commandStats.length = 0;
    this.errorStats.clear();
    this.errorReplies = 0;
  }
}
