// Never V8's heap limit (issue #11). Two parts:
//
// 1. The heap's size is chosen at start from the machine's memory: the server
//    runs itself again (execve, same pid) with --max-old-space-size set to
//    HEAP_SHARE_OF_RAM of the machine's (or cgroup's) memory, unless node was
//    given a heap size or REDLOOP_HEAP=keep. So the dataset is bounded by the
//    machine, not by V8's default (about 4 GiB with Node 20 here).
// 2. Whatever maxmemory says, writes stop before that heap is exhausted: the
//    memory manager (memory.ts) treats DATA_SHARE_OF_HEAP of V8's
//    heap_size_limit as a cap on used_memory (the effective maxmemory is the
//    smaller of the two), and checks V8's real heap use every SAMPLE_EVERY
//    writes: past HEAP_SHARE_REFUSE of the limit (after a full GC, so garbage
//    does not count) the cap is lowered to what the estimate says now, so an
//    estimate that under-counts cannot let the heap fill. docs/DESIGN.md:
//    "Never the heap limit".

import v8 from 'node:v8';
import vm from 'node:vm';
import os from 'node:os';
import { readFileSync } from 'node:fs';

/** --max-old-space-size chosen at start: this share of the machine's memory. */
export const HEAP_SHARE_OF_RAM = 0.75;
/** used_memory (the estimate) may reach this share of V8's heap_size_limit. */
export const DATA_SHARE_OF_HEAP = 0.7;
/** V8's real heap use (after a full GC) past this share of the limit: writes are refused. */
export const HEAP_SHARE_REFUSE = 0.85;
/** V8's heap use is sampled once every this many write commands (~0.3 µs a sample). */
export const SAMPLE_EVERY = 64;
/** A forced full GC (to tell live data from garbage) at most this often (ms). */
export const FORCED_GC_INTERVAL_MS = 1000;

/** The machine's memory: the cgroup's limit when one is set and lower (containers), else os.totalmem(). */
export function machineMemory(): { bytes: number; source: string } {
  let bytes = os.totalmem();
  let source = 'os.totalmem()';
  for (const file of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    try {
      const n = Number(readFileSync(file, 'latin1').trim());
      if (Number.isFinite(n) && n > 0 && n < bytes) {
        bytes = n;
        source = file;
      }
    } catch {
      // no such cgroup file
    }
  }
  return { bytes, source };
}

/** Whether node was told a heap size (its own flags or NODE_OPTIONS). */
function heapSizeGiven(): boolean {
  const flags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  return flags.some((f) => /^--max[-_]old[-_]space[-_]size/.test(f) || /^--max[-_]heap[-_]size/.test(f));
}

/**
 * The heap size the server should run with, or null when it should run as it
 * is (a size was given, REDLOOP_HEAP=keep, or the default is already larger).
 */
export function chosenHeapMb(): number | null {
  if (process.env.REDLOOP_HEAP === 'keep' || heapSizeGiven()) return null;
  const mb = Math.floor((machineMemory().bytes * HEAP_SHARE_OF_RAM) / (1024 * 1024));
  const now = v8.getHeapStatistics().heap_size_limit / (1024 * 1024);
  return mb > now * 1.1 ? mb : null;
}

/** Why the heap limit is what it is, for the start-up line. */
export function heapOrigin(): string {
  const chosen = process.env.REDLOOP_HEAP_CHOSEN;
  if (chosen !== undefined) {
    const m = machineMemory();
    return `--max-old-space-size=${chosen}, ${HEAP_SHARE_OF_RAM * 100}% of ${gib(m.bytes)} (${m.source})`;
  }
  if (heapSizeGiven()) return 'the heap size node was given';
  if (process.env.REDLOOP_HEAP === 'keep') return "V8's default (REDLOOP_HEAP=keep)";
  return "V8's default";
}

export function gib(n: number): string {
  return n >= 1024 ** 3 ? `${(n / 1024 ** 3).toFixed(2)} GiB` : `${(n / 1024 ** 2).toFixed(1)} MiB`;
}

/** V8's heap limit and the two thresholds derived from it. */
export interface HeapLimits {
  /** v8 heap_size_limit: the old generation's limit plus the young generation's. */
  limit: number;
  /** The old generation's limit (--max-old-space-size): where V8 aborts. */
  oldLimit: number;
  /** The cap on used_memory (the estimate). */
  dataCap: number;
  /** The old generation's committed pages beyond which writes are refused. */
  refuseAt: number;
}

/** --max-semi-space-size (MB) from node's flags, else V8's default on 64-bit (16). */
function semiSpaceMb(): number {
  const flags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  let mb = 16;
  for (const f of flags) {
    const m = /^--max[-_]semi[-_]space[-_]size=(\d+)$/.exec(f);
    if (m) mb = Number(m[1]);
  }
  return mb;
}

export function heapLimits(limit = v8.getHeapStatistics().heap_size_limit): HeapLimits {
  // heap_size_limit = old generation + young generation (three semi-spaces' worth).
  const young = 3 * semiSpaceMb() * 1024 * 1024;
  const oldLimit = young < limit / 2 ? limit - young : Math.floor(limit / 2);
  return { limit, oldLimit, dataCap: Math.floor(oldLimit * DATA_SHARE_OF_HEAP), refuseAt: Math.floor(oldLimit * HEAP_SHARE_REFUSE) };
}

/**
 * The old generation's committed pages — what V8's limit applies to: its
 * pages, not the objects' bytes (three 64 KiB strings fill a 256 KiB page, so
 * used_heap_size can be 25% short of it). Cheap first (total_heap_size,
 * ~0.3 µs, an upper bound); the per-space figures (~3 µs) only near `near`.
 */
export function oldGenCommitted(near: number): number {
  const total = v8.getHeapStatistics().total_heap_size;
  if (total < near) return total;
  let old = 0;
  for (const s of v8.getHeapSpaceStatistics()) {
    if (s.space_name !== 'new_space' && s.space_name !== 'new_large_object_space') old += s.space_size;
  }
  return old;
}

let gcFn: (() => void) | null | undefined;
/** A full garbage collection, without --expose-gc on the command line. False if unavailable. */
export function fullGc(): boolean {
  if (gcFn === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc');
      gcFn = vm.runInNewContext('gc') as () => void;
    } catch {
      gcFn = null;
    }
  }
  if (gcFn === null) return false;
  gcFn();
  return true;
}

// Commands that build a string larger than their arguments (SETRANGE, APPEND,
// SETBIT…) ask before allocating: set by the memory manager, one per process.
let growthCheck: ((bytes: number) => boolean) | null = null;
export function setGrowthCheck(fn: ((bytes: number) => boolean) | null): void {
  growthCheck = fn;
}
/** Whether a new value of `bytes` may be built now without nearing V8's heap limit. */
export function growthAdmitted(bytes: number): boolean {
  return growthCheck === null || growthCheck(bytes);
}
