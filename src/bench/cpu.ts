// CPU time of another process, from /proc/<pid>/stat: utime + stime (fields 14
// and 15, all threads included) in clock ticks. On a small machine where the
// load generator and the server share cores, the server's CPU per request is
// the fair figure; throughput alone mostly measures who got the CPU.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticksPerSecond: number | null = null;

/** sysconf(_SC_CLK_TCK), via getconf; 100 on every common Linux. */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond === null) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** User + system CPU time consumed so far by process `pid`, in microseconds. */
export function processCpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  // The command name (field 2) may contain spaces and parentheses: fields are
  // counted from the last ')'. After it come field 3 (state), 4, ...
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[14 - 3]);
  const stime = Number(fields[15 - 3]);
  return ((utime + stime) * 1e6) / clockTicksPerSecond();
}
