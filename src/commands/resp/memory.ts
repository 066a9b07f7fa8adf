// MEMORY (USAGE, STATS, DOCTOR, MALLOC-STATS, PURGE, HELP) and INFO's memory
// section, from the memory manager's estimate (src/servers/memory.ts,
// src/store/memsize.ts) and V8's own heap figures. Also the helpers OBJECT
// IDLETIME / OBJECT FREQ are built on (the OBJECT command lives elsewhere).

import os from 'node:os';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { ReplyWriter } from '../../protocol/reply.js';
import { SYNTAX, parseInt64 } from '../args.js';
import type { CommandContext, CommandSpec, ServerContext } from '../types.js';
import { NO_KEYS, err, isOpt } from '../common.js';
import { KEY_OVERHEAD, keyBytes } from '../../store/memsize.js';
import type { Keyspace } from '../../store/keyspace.js';
import { bytesToHuman, residentBytes } from '../../servers/memory.js';
import type { ScriptEngine } from '../../scripting/engine.js';

// ---- OBJECT IDLETIME / FREQ ----

/** OBJECT IDLETIME's error under an LFU policy (Redis's text). */
export const OBJECT_IDLETIME_LFU_ERROR =
  'ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.';
/** OBJECT FREQ's error under a non-LFU policy (Redis's text). */
export const OBJECT_FREQ_NOT_LFU_ERROR =
  'ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.';

/**
 * OBJECT IDLETIME: seconds since the key was last looked up (Redis's 24-bit
 * LRU clock, 1 s resolution); undefined if the key does not exist. Does not
 * count as an access. Under an LFU policy the field holds the LFU counter, and
 * Redis answers OBJECT_IDLETIME_LFU_ERROR (check objectIdleTimeError after the key lookup, as Redis does).
 */
export function objectIdleTime(store: Keyspace, key: string): number | undefined {
  const m = store.metaOf(key);
  return m === undefined ? undefined : Math.floor(store.idleMs(m) / 1000);
}

/** OBJECT FREQ: the key's LFU counter after decay (not stored back); undefined if the key does not exist. */
export function objectFreq(store: Keyspace, key: string): number | undefined {
  const m = store.metaOf(key);
  return m === undefined ? undefined : store.lfuCounter(m);
}

/** The error OBJECT IDLETIME answers for an existing key under the current policy, or null. */
export function objectIdleTimeError(store: Keyspace): string | null {
  return store.access.lfu ? OBJECT_IDLETIME_LFU_ERROR : null;
}

/** The error OBJECT FREQ answers for an existing key under the current policy, or null. */
export function objectFreqError(store: Keyspace): string | null {
  return store.access.lfu ? null : OBJECT_FREQ_NOT_LFU_ERROR;
}

// ---- the figures ----

/** One snapshot of the memory figures INFO memory and MEMORY STATS report. */
export interface MemoryFigures {
  used: number;
  peak: number;
  startup: number;
  rss: number;
  clientsNormal: number;
  luaCaches: number;
  functionsCaches: number;
  mainTable: number;
  expiresTable: number;
  overhead: number;
  dataset: number;
  keys: number;
  /** Per non-empty database: its index, main-table and expires-table overheads (MEMORY STATS' db.N). */
  dbs: { id: number; main: number; expires: number }[];
  /** V8: heapUsed + external (what the allocator handed out). */
  allocated: number;
  /** V8: heapTotal + external (what it has reserved). */
  active: number;
  resident: number;
}

function engineOf(server: ServerContext): ScriptEngine | undefined {
  return server.registry.get('scripting') as ScriptEngine | undefined;
}

export function memoryFigures(server: ServerContext): MemoryFigures {
  const mm = server.memory;
  const used = mm.used(true);
  const clientsNormal = mm.clientsBytes();
  const engine = engineOf(server);
  const luaCaches = engine?.bodyBytes ?? 0;
  let functionsCaches = 0;
  if (engine !== undefined) for (const lib of engine.libraries.values()) functionsCaches += lib.code.length;
  let mainTable = 0;
  let expiresTable = 0;
  let keys = 0;
  const dbs: MemoryFigures['dbs'] = [];
  for (const db of server.databases) {
    if (db.size === 0 && db.volatileCount === 0) continue;
    const main = db.size * KEY_OVERHEAD;
    const expires = db.ttlBytes();
    dbs.push({ id: db.id, main, expires });
    mainTable += main;
    expiresTable += expires;
    keys += db.size;
  }
  const overhead = clientsNormal + mainTable + expiresTable;
  const heap = process.memoryUsage();
  const rss = residentBytes();
  return {
    used: used + luaCaches + functionsCaches,
    peak: Math.max(mm.peak, used + luaCaches + functionsCaches),
    startup: 0,
    rss,
    clientsNormal,
    luaCaches,
    functionsCaches,
    mainTable,
    expiresTable,
    overhead: overhead + luaCaches + functionsCaches,
    dataset: used - overhead,
    keys,
    dbs,
    allocated: heap.heapUsed + heap.external,
    active: heap.heapTotal + heap.external,
    resident: rss,
  };
}

const pct = (n: number): string => `${n.toFixed(2)}%`;
const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b);

/** INFO's Memory section: Redis 7.0's fields in its order, then V8's heap figures (redloop_*). */
export function infoMemory(ctx: CommandContext): [string, string | number][] {
  const { server } = ctx;
  const f = memoryFigures(server);
  const s = server.memory;
  const max = Number(server.config.get('maxmemory') ?? 0);
  const engine = engineOf(server);
  const heap = process.memoryUsage();
  const net = f.used - f.startup;
  return [
    ['used_memory', f.used],
    ['used_memory_human', bytesToHuman(f.used)],
    ['used_memory_rss', f.rss],
    ['used_memory_rss_human', bytesToHuman(f.rss)],
    ['used_memory_peak', f.peak],
    ['used_memory_peak_human', bytesToHuman(f.peak)],
    ['used_memory_peak_perc', pct(ratio(f.used * 100, f.peak))],
    ['used_memory_overhead', f.overhead],
    ['used_memory_startup', f.startup],
    ['used_memory_dataset', f.dataset],
    ['used_memory_dataset_perc', pct(ratio(f.dataset * 100, net))],
    ['allocator_allocated', f.allocated],
    ['allocator_active', f.active],
    ['allocator_resident', f.resident],
    ['total_system_memory', os.totalmem()],
    ['total_system_memory_human', bytesToHuman(os.totalmem())],
    ['used_memory_lua', 0],
    ['used_memory_vm_eval', 0],
    ['used_memory_lua_human', '0B'],
    ['used_memory_scripts_eval', f.luaCaches],
    ['number_of_cached_scripts', engine?.count ?? 0],
    ['number_of_functions', engine?.functions.size ?? 0],
    ['number_of_libraries', engine?.libraries.size ?? 0],
    ['used_memory_vm_functions', 0],
    ['used_memory_vm_total', 0],
    ['used_memory_vm_total_human', '0B'],
    ['used_memory_functions', f.functionsCaches],
    ['used_memory_scripts', f.luaCaches + f.functionsCaches],
    ['used_memory_scripts_human', bytesToHuman(f.luaCaches + f.functionsCaches)],
    ['maxmemory', max],
    ['maxmemory_human', bytesToHuman(max)],
    ['maxmemory_policy', s.policy],
    ['allocator_frag_ratio', ratio(f.active, f.allocated).toFixed(2)],
    ['allocator_frag_bytes', f.active - f.allocated],
    ['allocator_rss_ratio', ratio(f.resident, f.active).toFixed(2)],
    ['allocator_rss_bytes', f.resident - f.active],
    ['rss_overhead_ratio', ratio(f.rss, f.resident).toFixed(2)],
    ['rss_overhead_bytes', f.rss - f.resident],
    ['mem_fragmentation_ratio', ratio(f.rss, f.used).toFixed(2)],
    ['mem_fragmentation_bytes', f.rss - f.used],
    ['mem_not_counted_for_evict', 0],
    ['mem_replication_backlog', 0],
    ['mem_total_replication_buffers', 0],
    ['mem_clients_slaves', 0],
    ['mem_clients_normal', f.clientsNormal],
    ['mem_cluster_links', 0],
    ['mem_aof_buffer', 0],
    ['mem_allocator', `v8-${process.versions.v8}`],
    ['active_defrag_running', 0],
    ['lazyfree_pending_objects', 0],
    ['lazyfreed_objects', 0],
    ['redloop_heap_used', heap.heapUsed],
    ['redloop_heap_total', heap.heapTotal],
    ['redloop_heap_limit', v8.getHeapStatistics().heap_size_limit],
    ['redloop_effective_maxmemory', s.effectiveMax()],
    ['redloop_heap_refuse_at', s.heap.refuseAt],
    ['redloop_heap_refusals', s.heapRefusals],
    ['redloop_forced_gcs', s.forcedGcs],
    ['redloop_external', heap.external],
    ['redloop_array_buffers', heap.arrayBuffers],
  ];
}

// ---- MEMORY ----

const MEMORY_HELP = [
  'MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'DOCTOR',
  '    Return memory problems reports.',
  'MALLOC-STATS',
  '    Return internal statistics report from the memory allocator.',
  'PURGE',
  '    Attempt to purge dirty pages for reclamation by the allocator.',
  'STATS',
  '    Return information about the memory usage of the server.',
  'USAGE <key> [SAMPLES <count>]',
  '    Return memory in bytes used by <key> and its value. Nested values are',
  '    sampled up to <count> times (default: 5, 0 means sample all).',
  'HELP',
  '    Prints this help.',
];

function memoryUsage(args: string[], w: ReplyWriter, store: Keyspace): void {
  let samples = 5;
  for (let j = 3; j < args.length; j++) {
    if (isOpt(args[j].toLowerCase(), 'samples') && j + 1 < args.length) {
      const n = parseInt64(args[j + 1]);
      if (n === null) return err(w, 'ERR value is not an integer or out of range');
      if (n < 0n) return err(w, SYNTAX);
      samples = n === 0n ? 0 : Number(n);
      j++;
    } else {
      return err(w, SYNTAX);
    }
  }
  // Not a lookup: neither an access nor a keyspace hit.
  const v = store.peekLive(args[2]);
  if (v === undefined) return w.nil();
  w.int(Math.round(keyBytes(args[2], v, samples)));
}

function memoryStats(w: ReplyWriter, ctx: CommandContext): void {
  const f = memoryFigures(ctx.server);
  const net = Math.max(1, f.used - f.startup);
  const fields: [string, (w: ReplyWriter) => void][] = [
    ['peak.allocated', (w) => w.int(f.peak)],
    ['total.allocated', (w) => w.int(f.used)],
    ['startup.allocated', (w) => w.int(f.startup)],
    ['replication.backlog', (w) => w.int(0)],
    ['clients.slaves', (w) => w.int(0)],
    ['clients.normal', (w) => w.int(f.clientsNormal)],
    ['cluster.links', (w) => w.int(0)],
    ['aof.buffer', (w) => w.int(0)],
    ['lua.caches', (w) => w.int(f.luaCaches)],
    ['functions.caches', (w) => w.int(f.functionsCaches)],
  ];
  for (const db of f.dbs) {
    fields.push([
      `db.${db.id}`,
      (w) => {
        w.map(2);
        w.str('overhead.hashtable.main');
        w.int(db.main);
        w.str('overhead.hashtable.expires');
        w.int(db.expires);
      },
    ]);
  }
  fields.push(
    ['overhead.total', (w) => w.int(f.overhead)],
    ['keys.count', (w) => w.int(f.keys)],
    ['keys.bytes-per-key', (w) => w.int(f.keys === 0 ? 0 : Math.floor((f.used - f.startup) / f.keys))],
    ['dataset.bytes', (w) => w.int(f.dataset)],
    ['dataset.percentage', (w) => w.dbl((f.dataset * 100) / net)],
    ['peak.percentage', (w) => w.dbl(ratio(f.used * 100, f.peak))],
    ['allocator.allocated', (w) => w.int(f.allocated)],
    ['allocator.active', (w) => w.int(f.active)],
    ['allocator.resident', (w) => w.int(f.resident)],
    ['allocator-fragmentation.ratio', (w) => w.dbl(ratio(f.active, f.allocated))],
    ['allocator-fragmentation.bytes', (w) => w.int(f.active - f.allocated)],
    ['allocator-rss.ratio', (w) => w.dbl(ratio(f.resident, f.active))],
    ['allocator-rss.bytes', (w) => w.int(f.resident - f.active)],
    ['rss-overhead.ratio', (w) => w.dbl(ratio(f.rss, f.resident))],
    ['rss-overhead.bytes', (w) => w.int(f.rss - f.resident)],
    ['fragmentation', (w) => w.dbl(ratio(f.rss, f.used))],
    ['fragmentation.bytes', (w) => w.int(f.rss - f.used)],
  );
  w.map(fields.length);
  for (const [name, write] of fields) {
    w.str(name);
    write(w);
  }
}

/** MEMORY DOCTOR: Redis's checks that apply here (empty instance, peak, fragmentation, big client buffers). */
function memoryDoctor(ctx: CommandContext): string {
  const f = memoryFigures(ctx.server);
  if (f.used < 5 * 1024 * 1024) {
    return "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.";
  }
  const problems: string[] = [];
  if (f.peak / f.used > 1.5) {
    problems.push(
      ` * Peak memory: In the past this instance used more than 150% the memory that is currently using. The estimated used memory does not shrink back the process's resident size at once: V8 returns pages to the system as it collects. Peak: ${bytesToHuman(f.peak)}, now: ${bytesToHuman(f.used)}.`,
    );
  }
  if (f.rss > 10 * 1024 * 1024 && f.rss / f.used > 1.4) {
    problems.push(
      ` * High total RSS: The process's resident size is ${ratio(f.rss, f.used).toFixed(2)} times the estimated used memory (${bytesToHuman(f.rss)} vs ${bytesToHuman(f.used)}). Part of it is the runtime itself (V8's heap, code, and garbage not yet collected); MEMORY PURGE runs a full collection.`,
    );
  }
  const clients = ctx.server.connectedClients();
  if (clients > 0 && f.clientsNormal / clients > 200 * 1024) {
    problems.push(
      ` * Big client buffers: The clients' buffers average ${bytesToHuman(f.clientsNormal / clients)} per client. Check CLIENT LIST's qbuf and omem, and client-output-buffer-limit.`,
    );
  }
  if (problems.length === 0) {
    return "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.";
  }
  return `Sam, I detected a few issues in this instance memory implants:\n\n${problems.join('\n\n')}\n\nI'm here to keep you safe, Sam. I want to help you.\n`;
}

/** MALLOC-STATS: V8's heap statistics and spaces (the allocator here is V8's, not jemalloc). */
function mallocStats(): string {
  const lines = ['___ Begin V8 heap statistics ___'];
  for (const [k, v] of Object.entries(v8.getHeapStatistics())) lines.push(`${k}: ${v}`);
  for (const sp of v8.getHeapSpaceStatistics()) {
    lines.push(`${sp.space_name}: size ${sp.space_size} used ${sp.space_used_size} available ${sp.space_available_size} physical ${sp.physical_space_size}`);
  }
  lines.push('--- End V8 heap statistics ---');
  return lines.join('\n') + '\n';
}

let fullGc: (() => void) | null = null;

/** MEMORY PURGE: a full garbage collection (V8 then returns free pages to the system). */
function purge(): void {
  if (fullGc === null) {
    const g = (globalThis as { gc?: () => void }).gc;
    if (typeof g === 'function') fullGc = g;
    else {
      v8.setFlagsFromString('--expose-gc');
      fullGc = vm.runInNewContext('gc') as () => void;
    }
  }
  fullGc();
}

export const respMemoryCommands: CommandSpec[] = [
  {
    name: 'memory',
    arity: -2,
    flags: [],
    ...NO_KEYS,
    // Unknown subcommands and their arity are refused from the command's description (src/commands/meta.ts).
    run(args, w, ctx) {
      switch (args[1].toLowerCase()) {
        case 'usage':
          return memoryUsage(args, w, ctx.store);
        case 'stats':
          return memoryStats(w, ctx);
        case 'doctor':
          return w.verbatim('txt', memoryDoctor(ctx));
        case 'malloc-stats':
          return w.verbatim('txt', mallocStats());
        case 'purge':
          purge();
          return w.status('OK');
        default: {
          w.arr(MEMORY_HELP.length);
          for (const line of MEMORY_HELP) w.status(line);
        }
      }
    },
  },
];
