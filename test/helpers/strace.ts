// Test helper for the trace tests: reduces both a --trace log and an strace log
// to the same list of calls (name, fd, result), so the two can be compared
// line for line. Used by test/trace.test.ts only.

import { spawnSync } from 'node:child_process';

/** One syscall, reduced to what both logs show the same way. */
export interface Call {
  name: string;
  /** The first argument's fd; for poll, the fds of the pollfd array ("19,20,22"). */
  fd: string;
  /** The return value: "25", "0x2", or "-1 EAGAIN". */
  result: string;
}

const show = (c: Call): string => `${c.name}(${c.fd}) = ${c.result}`;
export const showCalls = (calls: Call[]): string[] => calls.map(show);

/** Whether strace is installed and allowed to trace here (ptrace may be forbidden in containers). */
export function straceWorks(): boolean {
  const r = spawnSync('strace', ['-f', '-o', '/dev/null', '-e', 'trace=close', 'true']);
  return r.status === 0;
}

/** The syscall lines of a --trace log ("  name(args) = result"). */
export function traceCalls(trace: string): Call[] {
  const calls: Call[] = [];
  for (const line of trace.split('\n')) {
    const m = /^  (\w+)\((.*)\) = (-1 \w+|0x[0-9a-f]+|-?\d+)/.exec(line);
    if (m === null) continue;
    const fd = m[1] === 'poll' ? [...m[2].matchAll(/(\d+):/g)].map((x) => x[1]).join(',') : m[2].split(',')[0];
    calls.push({ name: m[1], fd, result: m[3] });
  }
  return calls;
}

/**
 * The calls one thread made, from an `strace -f -o FILE` log: from its first
 * poll on, with `<unfinished ...>` / `<... resumed>` halves joined. Left out:
 * writes to fd 2 (the trace and log lines themselves) and the write a signal
 * handler makes right after `--- SIGxxx ---` (the addon's handler filling the
 * signal pipe: no part of the loop).
 */
export function straceCalls(log: string, pid: number): Call[] {
  const calls: Call[] = [];
  let pending = '';
  let afterSignal = false;
  let started = false;
  for (const raw of log.split('\n')) {
    const m = /^(\d+)\s+(.*)$/.exec(raw);
    if (m === null || Number(m[1]) !== pid) continue;
    let line = m[2];
    if (line.startsWith('---')) {
      afterSignal = true;
      continue;
    }
    if (line.startsWith('+++')) continue;
    if (line.endsWith('<unfinished ...>')) {
      pending = line.slice(0, -'<unfinished ...>'.length).trimEnd();
      continue;
    }
    const resumed = /^<\.\.\. \w+ resumed>\s?(.*)$/.exec(line);
    if (resumed !== null) {
      line = pending + resumed[1];
      pending = '';
    }
    // The args may hold quoted data; the result never holds ") = ", so match the last one.
    const c = /^(\w+)\((.*)\)\s+=\s+(.+)$/.exec(line);
    if (c === null) continue;
    const [, name, args, res] = c;
    if (!started && name !== 'poll') continue;
    started = true;
    if (name === 'write' && afterSignal) {
      afterSignal = false;
      continue;
    }
    if (name === 'write' && args.startsWith('2,')) continue;
    const fd = name === 'poll' ? [...args.matchAll(/fd=(\d+), events/g)].map((x) => x[1]).join(',') : args.split(',')[0];
    calls.push({ name, fd, result: straceResult(res) });
  }
  return calls;
}

/** "0x2 (flags O_RDWR)" → "0x2"; "-1 EAGAIN (Resource …)" → "-1 EAGAIN"; "? ERESTART…" → "-1 EINTR". */
function straceResult(res: string): string {
  if (res.startsWith('?')) return /ERESTART|EINTR/.test(res) ? '-1 EINTR' : res;
  const err = /^(-1 \w+)/.exec(res);
  if (err !== null) return err[1];
  return res.split(' ')[0];
}
