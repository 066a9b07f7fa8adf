// The notes' backend: every iteration rebuilds the struct pollfd array from
// scratch — listening sockets first with POLLIN, then watched fds, then each
// connection with POLLERR plus POLLIN/POLLOUT from its want flags — and calls
// poll(2) on it. The array lives in one ArrayBuffer that the kernel reads and
// writes in place (typed-array views: fd at +0, events at +4, revents at +6).
// Building it is O(connections) per iteration, in JavaScript and in the
// kernel: that cost with many idle connections is the lesson epoll answers.

import * as sys from '../sys/index.js';
import { C } from '../sys/index.js';
import { ERROR, HANGUP, READABLE, WRITABLE, type Backend, type LoopView } from './backend.js';
import { sysResult, type Tracer } from './trace.js';
import type { FdEvents } from './trace_json.js';

/** "IN|ERR" → ["IN", "ERR"]; "0" → []. */
export const bitNames = (bits: string): string[] => (bits === '0' ? [] : bits.split('|'));

const SIZE = C.SIZEOF_POLLFD; // 8
const EV = C.OFFSETOF_POLLFD_EVENTS / 2; // int16 index of events within an entry
const REV = C.OFFSETOF_POLLFD_REVENTS / 2;

export class PollBackend implements Backend {
  readonly name = 'poll';
  private mem = new ArrayBuffer(64 * SIZE);
  private bytes = new Uint8Array(this.mem);
  private fds = new Int32Array(this.mem); // fd of entry i at fds[i * 2]
  private ev = new Int16Array(this.mem); // events of entry i at ev[i * 4 + EV]
  readyFds = new Int32Array(64);
  readyMasks = new Int32Array(64);

  constructor(private readonly tracer: Tracer | null = null) {}

  setInterest(): void {
    // Nothing to do: the array is rebuilt from the want flags every iteration.
  }

  private ensure(n: number): void {
    if (n * SIZE <= this.mem.byteLength) return;
    let cap = this.mem.byteLength / SIZE;
    while (cap < n) cap *= 2;
    this.mem = new ArrayBuffer(cap * SIZE);
    this.bytes = new Uint8Array(this.mem);
    this.fds = new Int32Array(this.mem);
    this.ev = new Int16Array(this.mem);
    this.readyFds = new Int32Array(cap);
    this.readyMasks = new Int32Array(cap);
  }

  private put(i: number, fd: number, events: number): void {
    this.fds[i * 2] = fd;
    this.ev[i * 4 + EV] = events;
    this.ev[i * 4 + REV] = 0;
  }

  wait(loop: LoopView, timeoutMs: number): number {
    const { listenFds, watchFds, fd2conn } = loop;
    this.ensure(listenFds.length + watchFds.length + fd2conn.length);
    // 1. Build the pollfd array: listening sockets first...
    let n = 0;
    for (let i = 0; i < listenFds.length; i++) this.put(n++, listenFds[i], C.POLLIN);
    for (let i = 0; i < watchFds.length; i++) this.put(n++, watchFds[i], C.POLLIN);
    // ...then every connection, asking for what its want flags say.
    for (let fd = 0; fd < fd2conn.length; fd++) {
      const conn = fd2conn[fd];
      if (conn === null) continue;
      let events = C.POLLERR;
      if (conn.wantRead) events |= C.POLLIN;
      if (conn.wantWrite) events |= C.POLLOUT;
      this.put(n++, fd, events);
    }
    // 2. poll(): the only call in the loop that blocks.
    if (this.tracer !== null) this.tracer.flush();
    const rv = sys.poll(this.bytes, n, timeoutMs);
    if (this.tracer !== null) this.traceCall(n, timeoutMs, rv);
    if (rv <= 0) return rv;
    // 3. Report the ready entries as (fd, mask) pairs.
    let k = 0;
    for (let i = 0; i < n && k < rv; i++) {
      const re = this.ev[i * 4 + REV];
      if (re === 0) continue;
      let mask = 0;
      if (re & C.POLLIN) mask |= READABLE;
      if (re & C.POLLOUT) mask |= WRITABLE;
      if (re & (C.POLLERR | C.POLLNVAL)) mask |= ERROR;
      if (re & C.POLLHUP) mask |= HANGUP;
      this.readyFds[k] = this.fds[i * 2];
      this.readyMasks[k] = mask;
      k++;
    }
    return k;
  }

  close(): void {}

  private traceCall(n: number, timeoutMs: number, rv: number): void {
    const args: string[] = [];
    const ready: string[] = [];
    for (let i = 0; i < n; i++) {
      const fd = this.fds[i * 2];
      args.push(`${fd}:${pollBits(this.ev[i * 4 + EV])}`);
      const re = this.ev[i * 4 + REV];
      if (re !== 0) ready.push(`${fd}:${pollBits(re)}`);
    }
    const result = rv < 0 ? sysResult(rv) : `${rv}${ready.length ? ' [' + ready.join(' ') + ']' : ''}`;
    const json = this.tracer!.json;
    if (json !== null) {
      const set: FdEvents[] = [];
      for (let i = 0; i < n; i++) {
        set.push({ fd: this.fds[i * 2], events: bitNames(pollBits(this.ev[i * 4 + EV])), revents: bitNames(pollBits(this.ev[i * 4 + REV])) });
      }
      json.pollSet(set);
    }
    this.tracer!.syscall('poll', `[${args.join(' ')}], ${n}, ${timeoutMs}`, result);
  }
}

/** POLLIN|POLLERR → "IN|ERR", for the trace. */
export function pollBits(bits: number): string {
  const names: string[] = [];
  if (bits & C.POLLIN) names.push('IN');
  if (bits & C.POLLOUT) names.push('OUT');
  if (bits & C.POLLERR) names.push('ERR');
  if (bits & C.POLLHUP) names.push('HUP');
  if (bits & C.POLLNVAL) names.push('NVAL');
  return names.join('|') || '0';
}
