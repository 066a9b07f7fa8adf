// Memory accounting and maxmemory: used_memory as an estimate kept by the
// keyspace on every write (memsize.ts) plus the clients' buffers, and Redis's
// eviction: before each command, while used_memory is over maxmemory, keys are
// evicted by the policy (approximated LRU/LFU through sampled keys and a pool
// of the 16 best candidates, as Redis's evict.c); when nothing can go, commands
// flagged denyoom are refused with -OOM (dispatch asks oomRefuses).

import type { LatencyMonitor } from '../commands/latency.js';
import { performance } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import type { Keyspace } from '../store/keyspace.js';
import type { ServerSettings } from './state.js';
import type { CommandSpec, ClientState, TimerService } from '../commands/types.js';

export const POLICIES = ['volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl', 'allkeys-lru', 'allkeys-lfu', 'allkeys-random', 'noeviction'] as const;
export type Policy = (typeof POLICIES)[number];

export const OOM_ERROR = "OOM command not allowed when used memory > 'maxmemory'.";
/** What a client evicted by maxmemory-clients in the middle of its own request is told (Redis closes it without a word). */
export const CLIENT_EVICTED_ERROR = 'ERR client evicted: the clients use more memory than maxmemory-clients allows';

/** Redis's EVPOOL_SIZE. */
export const EVICTION_POOL_SIZE = 16;
/** The least maxmemory-clients takes effect as (Redis: 128 KiB). */
const MIN_CLIENTS_LIMIT = 128 * 1024;
/** Clients' buffers are summed at most this often (ms): a scan is O(clients), the check runs per command. */
const CLIENT_SCAN_INTERVAL_MS = 100;

export type EvictResult = 'ok' | 'running' | 'fail';

/** What the memory manager needs of the server (ServerState provides it). */
export interface MemoryHost {
  /** Every database (used_memory is their sum; eviction samples each, as Redis does). */
  readonly databases: readonly Keyspace[];
  readonly settings: ServerSettings;
  clients(): Iterable<ClientState>;
  timers(): TimerService;
  /** CLIENT NO-EVICT ON: maxmemory-clients leaves it alone. */
  noEvict(c: ClientState): boolean;
  log(line: string): void;
  /** LATENCY's monitor: eviction reports eviction-cycle and eviction-del to it (clock read only while it is on). */
  readonly latency?: LatencyMonitor;
}

export class MemoryManager {
  /** Memory was over maxmemory, with nothing to evict, before the current command (scripts' denyoom commands are refused). */
  oomBeforeCommand = false;
  /** used_memory's highest value seen (INFO used_memory_peak). */
  peak = 0;
  /** Runs of performEvictions stopped by the tenacity time limit (continued by a timer). */
  evictionTimerRunning = false;
  /** Total microseconds spent evicting (INFO's total_eviction_exceeded_time is kept as Redis: time over the limit). */
  evictionMicros = 0;
  /** Clients closed by maxmemory-clients (INFO's evicted_clients). */
  evictedClients = 0;
  private clientsCache = 0;
  /** The evictable clients' share of clientsCache (NO-EVICT clients left out, as Redis leaves them out of its buckets). */
  private evictableCache = 0;
  private clientsScannedAt = -Infinity;
  // The eviction pool: candidates in ascending order of "idle" (the best to evict last), with their databases.
  private readonly poolKeys: string[] = [];
  private readonly poolIdle: number[] = [];
  private readonly poolDb: Keyspace[] = [];
  /** allkeys-random / volatile-random: the database the last pick came from (Redis's static next_db). */
  private nextDb = 0;
  private readonly sampleKeys: string[] = [];
  private readonly sampleMeta: number[] = [];

  constructor(private readonly host: MemoryHost) {
    this.syncPolicy();
  }

  get policy(): Policy {
    return this.host.settings.maxmemoryPolicy as Policy;
  }

  /** After CONFIG SET of a memory parameter: the keyspace's access mode follows the policy. */
  syncPolicy(): void {
    const s = this.host.settings;
    // One access policy and clock for every database (ServerState gives them the same KeyAccess).
    const a = this.host.databases[0].access;
    a.lfu = s.maxmemoryPolicy.endsWith('-lfu');
    a.lfuLogFactor = s.lfuLogFactor;
    a.lfuDecayTime = s.lfuDecayTime;
    if (this.poolKeys.length !== 0) this.poolKeys.length = this.poolIdle.length = this.poolDb.length = 0;
    if (s.maxmemory === 0) this.oomBeforeCommand = false;
    if (s.maxmemoryClients.endsWith('%') && s.maxmemory === 0 && s.maxmemoryClients !== '0%') {
      this.host.log('maxmemory-clients is a percentage of maxmemory, which is 0: no client eviction');
    }
  }

  /** The clients' query and output buffers and queued transactions, summed every CLIENT_SCAN_INTERVAL_MS at most. */
  clientsBytes(fresh = false): number {
    const now = performance.now();
    if (fresh || now - this.clientsScannedAt >= CLIENT_SCAN_INTERVAL_MS) {
      let sum = 0;
      let evictable = 0;
      for (const c of this.host.clients()) {
        const n = clientBytes(c);
        sum += n;
        if (!this.host.noEvict(c)) evictable += n;
      }
      this.clientsCache = sum;
      this.evictableCache = evictable;
      this.clientsScannedAt = now;
    }
    return this.clientsCache;
  }

  /** maxmemory-clients in bytes (a percentage is of maxmemory); 0 = no limit. */
  clientsLimit(): number {
    const s = this.host.settings;
    const v = s.maxmemoryClients;
    if (v.endsWith('%')) return Math.floor((Number(v.slice(0, -1)) * s.maxmemory) / 100);
    return Number(v);
  }

  /** Whether the per-command check is needed: maxmemory or maxmemory-clients is set. */
  active(): boolean {
    return this.host.settings.maxmemory > 0 || this.clientsLimit() > 0;
  }

  /**
   * Redis 7.0's evictClients: while the evictable clients' memory is over
   * maxmemory-clients, close the client using the most. Checked on the
   * clients' scan (every CLIENT_SCAN_INTERVAL_MS at most). True if `current`
   * itself was evicted.
   */
  evictClients(current: ClientState | null): boolean {
    const set = this.clientsLimit();
    if (set === 0) return false;
    // As Redis: never under 128 KiB, so that a bad setting cannot cut every client off.
    const limit = Math.max(set, MIN_CLIENTS_LIMIT);
    this.clientsBytes();
    if (this.evictableCache < limit) return false;
    const sized: [ClientState, number][] = [];
    for (const c of this.host.clients()) if (!this.host.noEvict(c)) sized.push([c, clientBytes(c)]);
    sized.sort((a, b) => b[1] - a[1]);
    let total = sized.reduce((t, [, n]) => t + n, 0);
    let self = false;
    for (const [c, n] of sized) {
      if (total < limit) break;
      total -= n;
      this.evictedClients++;
      if (c === current) {
        // The current client's command is refused and its connection closed after that reply.
        c.closeAfterReply = true;
        self = true;
      } else {
        c.kill('maxmemory-clients');
      }
    }
    this.clientsBytes(true);
    return self;
  }

  /** The dataset estimate: every database's keys, values and TTL entries. */
  datasetBytes(): number {
    let n = 0;
    for (const db of this.host.databases) n += db.datasetBytes();
    return n;
  }

  /** used_memory: the dataset estimate of every database plus the clients' buffers. */
  used(fresh = false): number {
    const n = this.datasetBytes() + this.clientsBytes(fresh);
    if (n > this.peak) this.peak = n;
    return n;
  }

  /**
   * Redis's processCommand memory check: evicts as needed (when maxmemory is
   * set), then says whether this command must be refused with OOM_ERROR — a
   * denyoom command, EXEC of a transaction holding one, or anything queued
   * inside MULTI (but EXEC, DISCARD, QUIT, RESET), when nothing more can go.
   */
  oomRefuses(spec: CommandSpec, client: ClientState): string | null {
    if (this.evictClients(client)) return CLIENT_EVICTED_ERROR;
    if (this.host.settings.maxmemory === 0) return null;
    const out = this.performEvictions() === 'fail';
    // Scripts' denyoom commands are refused in that state (Redis's server.pre_command_oom_state).
    if (client.multi === null || spec.name === 'exec') this.oomBeforeCommand = out;
    if (!out) return null;
    if (spec.denyoom === true) return OOM_ERROR;
    const multi = client.multi;
    if (multi === null) return null;
    if (spec.name === 'exec') return multi.specs.some((s) => s.denyoom === true) ? OOM_ERROR : null;
    return spec.name !== 'discard' && spec.name !== 'quit' && spec.name !== 'reset' ? OOM_ERROR : null;
  }

  /**
   * Redis's performEvictions: frees keys by the policy until used_memory is
   * under maxmemory. Gives up after maxmemory-eviction-tenacity's time limit
   * ('running': a timer carries on, as Redis's eviction time proc); 'fail'
   * when there is nothing (more) to evict.
   */
  performEvictions(): EvictResult {
    const s = this.host.settings;
    const max = s.maxmemory;
    if (max === 0) return 'ok';
    let used = this.used();
    if (used <= max) return 'ok';
    if (this.policy === 'noeviction') return 'fail';
    const started = performance.now();
    const limitUs = evictionTimeLimitUs(s.maxmemoryEvictionTenacity);
    let evicted = 0;
    // Redis's latency events: each key's deletion (eviction-del) and the whole run (eviction-cycle).
    const monitor = this.host.latency !== undefined && this.host.latency.enabled ? this.host.latency : null;
    while (used > max) {
      const best = this.bestKey();
      if (best === undefined) break;
      if (monitor !== null) {
        const t = performance.now();
        best[0].evict(best[1]);
        monitor.addSampleIfNeeded('eviction-del', performance.now() - t);
      } else best[0].evict(best[1]);
      evicted++;
      used = this.used();
      // Redis checks the clock every 16 keys.
      if (evicted % 16 === 0 && used > max && (performance.now() - started) * 1000 > limitUs) {
        this.evictionMicros += (performance.now() - started) * 1000;
        if (monitor !== null) monitor.addSampleIfNeeded('eviction-cycle', performance.now() - started);
        this.startEvictionTimer();
        return 'running';
      }
    }
    this.evictionMicros += (performance.now() - started) * 1000;
    if (monitor !== null) monitor.addSampleIfNeeded('eviction-cycle', performance.now() - started);
    if (used <= max) return 'ok';
    // Nothing evictable left: still running only if a timer is at work (Redis: EVICT_RUNNING then).
    return this.evictionTimerRunning ? 'running' : 'fail';
  }

  private startEvictionTimer(): void {
    if (this.evictionTimerRunning) return;
    this.evictionTimerRunning = true;
    const timers = this.host.timers();
    const tick = (): void => {
      this.evictionTimerRunning = false;
      if (this.performEvictions() === 'running' && !this.evictionTimerRunning) {
        this.evictionTimerRunning = true;
        timers.add(timers.now() + 1, tick, 'eviction');
      }
    };
    timers.add(timers.now() + 1, tick, 'eviction');
  }

  /** The key the policy evicts next, with its database, or undefined if there is none. */
  bestKey(): [Keyspace, string] | undefined {
    const dbs = this.host.databases;
    switch (this.policy) {
      case 'allkeys-random':
      case 'volatile-random': {
        // As Redis: the databases in turn, from the one after the last pick; the first that has a candidate gives it.
        const volatile = this.policy === 'volatile-random';
        for (let i = 0; i < dbs.length; i++) {
          this.nextDb = (this.nextDb + 1) % dbs.length;
          const db = dbs[this.nextDb];
          const key = volatile ? db.sampleVolatileKey() : db.sampleKey();
          if (key !== undefined) return [db, key];
        }
        return undefined;
      }
      case 'volatile-ttl': {
        // Each TTL heap knows its nearest deadline exactly: no need to sample for it.
        let best: [Keyspace, string] | undefined;
        let bestAt = Infinity;
        for (const db of dbs) {
          const key = db.soonestExpiring();
          if (key === undefined) continue;
          const at = db.deadline(key)!;
          if (at < bestAt) {
            bestAt = at;
            best = [db, key];
          }
        }
        return best;
      }
      case 'noeviction':
        return undefined;
      default:
        return this.fromPool();
    }
  }

  /**
   * Redis's evictionPoolPopulate + pick: sample maxmemory-samples keys of
   * each database into the pool (kept sorted by idle score, the 16 best, each
   * with its database), then take the best entry whose key still exists.
   */
  private fromPool(): [Keyspace, string] | undefined {
    const policy = this.policy;
    const lfu = policy.endsWith('-lfu');
    const volatile = policy.startsWith('volatile-');
    const n = Math.max(1, this.host.settings.maxmemorySamples);
    const dbs = this.host.databases;
    for (let attempt = 0; attempt < 8; attempt++) {
      let sampled = 0;
      for (const db of dbs) {
        if ((volatile ? db.volatileCount : db.size) === 0) continue;
        const got = volatile ? db.sampleVolatile(n, this.sampleKeys, this.sampleMeta) : db.sample(n, this.sampleKeys, this.sampleMeta);
        sampled += got;
        for (let i = 0; i < got; i++) {
          const m = this.sampleMeta[i];
          const idle = lfu ? 255 - db.lfuCounter(m) : db.idleMs(m);
          this.poolInsert(db, this.sampleKeys[i], idle);
        }
      }
      if (sampled === 0 && this.poolKeys.length === 0) return undefined;
      while (this.poolKeys.length > 0) {
        const key = this.poolKeys.pop()!;
        this.poolIdle.pop();
        const db = this.poolDb.pop()!;
        // A pooled key may have gone since (or lost its TTL, for volatile-*).
        if (db.metaOf(key) === undefined) continue;
        if (volatile && db.deadline(key) === undefined) continue;
        return [db, key];
      }
    }
    return undefined;
  }

  private poolInsert(db: Keyspace, key: string, idle: number): void {
    const keys = this.poolKeys;
    const idles = this.poolIdle;
    const pdbs = this.poolDb;
    for (let at = 0; at < keys.length; at++) {
      if (keys[at] === key && pdbs[at] === db) {
        keys.splice(at, 1);
        idles.splice(at, 1);
        pdbs.splice(at, 1);
        break;
      }
    }
    let i = 0;
    while (i < keys.length && idles[i] < idle) i++;
    if (keys.length === EVICTION_POOL_SIZE) {
      if (i === 0) return; // worse than every pooled candidate
      keys.shift();
      idles.shift();
      pdbs.shift();
      i--;
    }
    keys.splice(i, 0, key);
    idles.splice(i, 0, idle);
    pdbs.splice(i, 0, db);
  }
}

/**
 * A client's memory in used_memory: the input it has sent and we hold
 * unparsed, the arguments already parsed out of a partly received request,
 * its output buffer beyond the resting size, its queued transaction, and a
 * fixed share for its objects. The resting buffers every connection has
 * (input, 4 KiB output) are a per-connection cost bounded by maxclients, not
 * counted (README: Limits and safety).
 */
export function clientBytes(c: ClientState): number {
  const info = c.connInfo();
  return CLIENT_FIXED_BYTES + info.qbuf + info.argvMem + Math.max(0, info.obufSize - RESTING_OUTPUT_BYTES) + (c.multi?.bytes ?? 0);
}

/** The output buffer's size at rest (src/loop/buffer.ts's default capacity). */
const RESTING_OUTPUT_BYTES = 4096;

/** The Client, Conn and session objects of a connection, roughly. */
export const CLIENT_FIXED_BYTES = 1024;

/** Redis's evictionTimeLimitUs: 50 µs per tenacity step up to 10, then growing 15% per step; 100 = no limit. */
export function evictionTimeLimitUs(tenacity: number): number {
  if (tenacity <= 10) return 50 * tenacity;
  if (tenacity < 100) return 500 * Math.pow(1.15, tenacity - 10);
  return Infinity;
}

/** The process's resident set size in bytes, from /proc/self/statm (process.memoryUsage().rss elsewhere). */
export function residentBytes(): number {
  try {
    const pages = Number(readFileSync('/proc/self/statm', 'latin1').split(' ')[1]);
    if (Number.isFinite(pages)) return pages * 4096;
  } catch {
    // not Linux: fall through
  }
  return process.memoryUsage.rss();
}

/** Redis's bytesToHuman: B, K, M, G, T, P with two decimals. */
export function bytesToHuman(n: number): string {
  if (n < 1024) return `${n}B`;
  const units = ['K', 'M', 'G', 'T', 'P'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(2)}${units[u]}`;
}
