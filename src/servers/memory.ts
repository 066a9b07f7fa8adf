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
import { FORCED_GC_INTERVAL_MS, SAMPLE_EVERY, fullGc, gib, heapLimits, heapOrigin, oldGenCommitted, setGrowthCheck, type HeapLimits } from './heap.js';

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

/** Commands that run scripts: they need oomBeforeCommand even while maxmemory is 0. */
const SCRIPT_COMMANDS = new Set(['eval', 'evalsha', 'eval_ro', 'evalsha_ro', 'fcall', 'fcall_ro']);

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
  /** maxmemory-clients in bytes (0: not set), kept by syncPolicy: the per-command check reads it. */
  private clientsLimitSet = 0;
  /** Unparsed input seen by checkClientsOnRead since the last scan of the clients. */
  private pendingSinceScan = 0;
  // The eviction pool: candidates in ascending order of "idle" (the best to evict last), with their databases.
  private readonly poolKeys: string[] = [];
  private readonly poolIdle: number[] = [];
  private readonly poolDb: Keyspace[] = [];
  /** allkeys-random / volatile-random: the database the last pick came from (Redis's static next_db). */
  private nextDb = 0;
  private readonly sampleKeys: string[] = [];
  private readonly sampleMeta: number[] = [];
  /** V8's heap limit and the thresholds derived from it (heap.ts). */
  readonly heap: HeapLimits;
  /**
   * The cap on used_memory that keeps V8's heap from filling, whatever
   * maxmemory says: DATA_SHARE_OF_HEAP of the heap limit, lowered when V8's
   * real heap use shows that the estimate under-counts.
   */
  heapCap: number;
  /** Write commands since V8's heap was last sampled. */
  private writesSinceSample = 0;
  private commandsSinceClientCheck = 0;
  private lastForcedGc = -Infinity;
  /** The dataset estimate at the last forced GC. */
  private estimateAtGc = 0;
  /** Full GCs forced to tell live data from garbage near the limit (INFO redloop_forced_gcs). */
  forcedGcs = 0;
  /** Writes refused because V8's heap was past HEAP_SHARE_REFUSE (INFO redloop_heap_refusals). */
  heapRefusals = 0;

  constructor(private readonly host: MemoryHost) {
    this.heap = heapLimits();
    this.heapCap = this.heap.dataCap;
    this.syncPolicy();
    setGrowthCheck((bytes) => this.growthAdmitted(bytes));
  }

  /** The start-up line (the servers log it once): the heap limit, where writes stop, and why. */
  describeLimits(): string {
    const h = this.heap;
    const host = this.host;
    return (
      `memory: V8 heap limit ${gib(h.limit)} (${heapOrigin()}); writes are refused with -OOM (or keys evicted by maxmemory-policy) ` +
        `when used_memory passes ${gib(this.effectiveMax())} (${host.settings.maxmemory > 0 && host.settings.maxmemory < h.dataCap ? 'maxmemory' : `70% of the old generation's ${gib(h.oldLimit)}${host.settings.maxmemory > 0 ? ', below maxmemory' : ', maxmemory is 0'}`}) ` +
        `or V8's old generation passes ${gib(h.refuseAt)} (85%); clients' buffers together are limited to ${gib(this.clientsLimitNow())}`
    );
  }

  /**
   * The limit used_memory is held under: maxmemory, or the heap cap if lower
   * (or if maxmemory is 0). Never 0: the heap is always finite.
   */
  effectiveMax(): number {
    const max = this.host.settings.maxmemory;
    return max > 0 && max < this.heapCap ? max : this.heapCap;
  }

  /**
   * Whether a command may build a value of `bytes` now (SETRANGE, APPEND,
   * SETBIT… ask before allocating): it must fit under the heap cap and in V8's
   * old generation below the refusal threshold (after a full GC if that could help).
   */
  growthAdmitted(bytes: number): boolean {
    if (this.datasetBytes() + bytes > this.heapCap) return false;
    const h = this.heap;
    if (oldGenCommitted(h.refuseAt - bytes) + bytes < h.refuseAt) return true;
    return this.collect() && oldGenCommitted(0) + bytes < h.refuseAt;
  }

  /**
   * A denyoom command called from a script: Redis judges it by the state when
   * the script began (oomBeforeCommand), which cannot stop a script that
   * loops over writes; so the heap cap and V8's figures are checked here too
   * (the same sampling as for clients' writes). True: refuse it.
   */
  scriptWriteRefused(): boolean {
    if (this.datasetBytes() > this.heapCap) return true;
    if (++this.writesSinceSample < SAMPLE_EVERY) return false;
    this.writesSinceSample = 0;
    return this.heapOver();
  }

  /**
   * Samples V8's old generation (every SAMPLE_EVERY writes). Past the refusal
   * threshold, a full GC tells live data from garbage (collect()); if it is
   * still past, this write is refused. True: refuse this write.
   */
  private heapOver(): boolean {
    const h = this.heap;
    if (oldGenCommitted(h.refuseAt) < h.refuseAt) return false;
    if (this.collect() && oldGenCommitted(h.refuseAt) < h.refuseAt) return false;
    this.heapRefusals++;
    return true;
  }

  /**
   * A full GC, when it can help: at most one a second, unless keys worth 5% of
   * the threshold were freed since the last. Afterwards the heap cap is set
   * from what V8 holds against what used_memory says (an estimate that
   * under-counts — fragmentation of V8's pages, per-object overheads — gets
   * a lower cap, so the maxmemory path refuses or evicts before the heap
   * fills). False: no GC was run.
   */
  private collect(): boolean {
    const now = performance.now();
    const est = this.datasetBytes();
    const h = this.heap;
    if (now - this.lastForcedGc < FORCED_GC_INTERVAL_MS && this.estimateAtGc - est < h.refuseAt * 0.05) return false;
    if (!fullGc()) return false;
    this.lastForcedGc = now;
    this.estimateAtGc = est;
    this.forcedGcs++;
    if (est < h.refuseAt * 0.2) return true; // too little data to judge the estimate by
    const live = oldGenCommitted(0);
    const cap = Math.min(h.dataCap, Math.floor((est * h.refuseAt * 0.9) / live));
    if (Math.abs(cap - this.heapCap) > h.dataCap * 0.02) {
      this.host.log(
        `memory: after a full GC V8's old generation holds ${gib(live)} for ${gib(est)} of used_memory: ` +
          `the cap on used_memory is now ${gib(cap)} (refusing writes past ${gib(h.refuseAt)} of old generation)`,
      );
    }
    this.heapCap = cap;
    return true;
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
    this.clientsLimitSet = this.clientsLimit();
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
      this.pendingSinceScan = 0;
      this.clientsScannedAt = now;
    }
    return this.clientsCache;
  }

  /**
   * The limit on all clients' buffers together: maxmemory-clients, or when it
   * is 0 half the heap cap (not of maxmemory: Redis evicts no client then), so that clients (partial requests,
   * unread replies) cannot take the server past its memory either.
   */
  clientsLimitNow(): number {
    const set = this.clientsLimit();
    return set > 0 ? set : Math.floor(this.heapCap / 2);
  }

  /** maxmemory-clients in bytes (a percentage is of maxmemory); 0 = no limit. */
  clientsLimit(): number {
    const s = this.host.settings;
    const v = s.maxmemoryClients;
    if (v.endsWith('%')) return Math.floor((Number(v.slice(0, -1)) * s.maxmemory) / 100);
    return Number(v);
  }

  /** Whether the per-command check is needed: always, since the heap is finite (it was: maxmemory or maxmemory-clients is set). */
  active(): boolean {
    return true;
  }

  /**
   * A connection's unparsed input passed 1 MiB (a large request arriving):
   * the clients' total is checked now rather than at the next command, so
   * partial requests that never complete cannot go past the clients' limit.
   */
  checkClientsOnRead(pending: number): void {
    // The scan is O(clients): it runs again once the pending inputs seen since the last one add up
    // to 1/16 of the limit (an over-count: a buffer is counted on each read), so the total is never
    // more than that out of date.
    const limit = Math.max(this.clientsLimitNow(), MIN_CLIENTS_LIMIT);
    this.pendingSinceScan += pending;
    this.clientsBytes(this.pendingSinceScan >= limit / 16);
    if (this.evictableCache >= limit) this.evictClients(null);
  }

  /**
   * Redis 7.0's evictClients: while the evictable clients' memory is over
   * maxmemory-clients, close the client using the most. Checked on the
   * clients' scan (every CLIENT_SCAN_INTERVAL_MS at most). True if `current`
   * itself was evicted.
   */
  evictClients(current: ClientState | null): boolean {
    const set = this.clientsLimitNow();
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
    // An empty database holds no bytes (its keys' and TTLs' costs went with them): most servers use one
    // of the sixteen, and this runs before every write while the heap cap is checked.
    for (const db of this.host.databases) if (db.size !== 0) n += db.datasetBytes();
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
    // With maxmemory-clients set, every command (as Redis); the implicit limit every 64th.
    if ((this.clientsLimitSet > 0 || (++this.commandsSinceClientCheck & 63) === 0) && this.evictClients(client)) return CLIENT_EVICTED_ERROR;
    const denyoom = spec.denyoom === true;
    const sample = denyoom && ++this.writesSinceSample >= SAMPLE_EVERY;
    if (this.host.settings.maxmemory === 0 && !sample) {
      // Without maxmemory only writes can take memory toward the heap cap: reads pass at once.
      if (!denyoom && client.multi === null && !SCRIPT_COMMANDS.has(spec.name)) return null;
      // Under the heap cap by the figures at hand (the clients' sum is at most 100 ms old): no clock read.
      if (this.datasetBytes() + this.clientsCache <= this.heapCap) {
        if (client.multi === null || spec.name === 'exec') this.oomBeforeCommand = false;
        return null;
      }
    }
    if (sample) {
      this.writesSinceSample = 0;
      if (this.heapOver()) {
        if (client.multi === null || spec.name === 'exec') this.oomBeforeCommand = true;
        return OOM_ERROR;
      }
    }
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
    const max = this.effectiveMax();
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
