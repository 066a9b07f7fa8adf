// The epoll backend (Redis's ae_epoll.c): interest lives in the kernel, and
// the loop changes it only when a connection's want flags change
// (setInterest → epoll_ctl ADD/MOD/DEL). epoll_wait reports only the ready fds,
// into a struct epoll_event[] that TypeScript owns and the kernel fills in
// place, so an iteration costs O(ready), not O(connections) as with poll.

import * as sys from '../sys/index.js';
import { C } from '../sys/index.js';
import { ERROR, HANGUP, READABLE, WRITABLE, type Backend, type LoopView } from './backend.js';
import { sysResult, type Tracer } from './trace.js';
import { bitNames } from './poll.js';

// struct epoll_event is { uint32_t events; epoll_data_t data; }: 12 bytes and
// packed on x86_64, 16 with data at +8 elsewhere. Both sizes and the offset are
// multiples of 4, so one Int32Array view addresses every field.
const SIZE = C.SIZEOF_EPOLL_EVENT;
const STRIDE = SIZE / 4; // int32 slots per entry
const DATA = C.OFFSETOF_EPOLL_EVENT_DATA / 4; // int32 index of data.fd within an entry
const INITIAL_EVENTS = 64;

export class EpollBackend implements Backend {
  readonly name = 'epoll';
  private readonly epfd: number;
  /** Capacity of the events array (maxevents). */
  private cap = INITIAL_EVENTS;
  private bytes = new Uint8Array(INITIAL_EVENTS * SIZE);
  private words = new Int32Array(this.bytes.buffer); // events of entry i at words[i * STRIDE]
  readyFds = new Int32Array(INITIAL_EVENTS);
  readyMasks = new Int32Array(INITIAL_EVENTS);

  constructor(private readonly tracer: Tracer | null = null) {
    // CLOEXEC: a child process (none today) must not inherit the epoll set.
    this.epfd = sys.epollCreate1(C.EPOLL_CLOEXEC);
    if (this.tracer !== null) this.tracer.syscall('epoll_create1', 'EPOLL_CLOEXEC', `${this.epfd}`);
  }

  /** mask 0 removes the fd (DEL); prevMask 0 adds it (ADD); otherwise MOD. */
  setInterest(fd: number, mask: number, prevMask: number): void {
    if (mask === prevMask) return;
    let op: number;
    let events = 0;
    if (mask === 0) {
      op = C.EPOLL_CTL_DEL;
    } else {
      op = prevMask === 0 ? C.EPOLL_CTL_ADD : C.EPOLL_CTL_MOD;
      if (mask & READABLE) events |= C.EPOLLIN;
      if (mask & WRITABLE) events |= C.EPOLLOUT;
    }
    const rv = sys.epollCtl(this.epfd, op, fd, events);
    if (this.tracer !== null) this.traceCtl(op, fd, events, rv);
    // A failed DEL means the kernel already forgot the fd; it is going away anyway.
    // ADD/MOD fail only if the loop's bookkeeping is wrong: say so loudly.
    if (rv < 0 && op !== C.EPOLL_CTL_DEL) throw new sys.SysError('epoll_ctl', rv, `fd ${fd}`);
  }

  wait(_loop: LoopView, timeoutMs: number): number {
    if (this.tracer !== null) this.tracer.flush();
    const rv = sys.epollWait(this.epfd, this.bytes, this.cap, timeoutMs);
    if (this.tracer !== null) this.traceWait(timeoutMs, rv);
    if (rv <= 0) return rv;
    // Report each ready entry as an (fd, mask) pair; the addon stored the fd in data.fd.
    const words = this.words;
    for (let i = 0; i < rv; i++) {
      const ev = words[i * STRIDE];
      let mask = 0;
      if (ev & C.EPOLLIN) mask |= READABLE;
      if (ev & C.EPOLLOUT) mask |= WRITABLE;
      if (ev & C.EPOLLERR) mask |= ERROR;
      if (ev & C.EPOLLHUP) mask |= HANGUP;
      this.readyFds[i] = words[i * STRIDE + DATA];
      this.readyMasks[i] = mask;
    }
    // A full array means more may have been ready: make room for next time
    // (the rest are still reported, level-triggered, by the next call).
    if (rv === this.cap) this.grow();
    return rv;
  }

  private grow(): void {
    this.cap *= 2;
    this.bytes = new Uint8Array(this.cap * SIZE);
    this.words = new Int32Array(this.bytes.buffer);
    // The loop reads readyFds/readyMasks after wait() returns: keep this call's results.
    const fds = new Int32Array(this.cap);
    const masks = new Int32Array(this.cap);
    fds.set(this.readyFds);
    masks.set(this.readyMasks);
    this.readyFds = fds;
    this.readyMasks = masks;
  }

  close(): void {
    const rv = sys.close(this.epfd);
    if (this.tracer !== null) this.tracer.syscall('close', `${this.epfd}`, sysResult(rv));
  }

  private traceCtl(op: number, fd: number, events: number, rv: number): void {
    const opName = op === C.EPOLL_CTL_ADD ? 'ADD' : op === C.EPOLL_CTL_MOD ? 'MOD' : ('DEL' as const);
    const args = op === C.EPOLL_CTL_DEL ? `${this.epfd}, DEL, ${fd}` : `${this.epfd}, ${opName}, ${fd}, ${epollBits(events)}`;
    this.tracer!.json?.ctl({ op: opName, fd, events: bitNames(epollBits(events)), ret: rv < 0 ? -1 : rv });
    this.tracer!.syscall('epoll_ctl', args, sysResult(rv));
  }

  private traceWait(timeoutMs: number, rv: number): void {
    const ready: string[] = [];
    for (let i = 0; i < rv; i++) {
      ready.push(`${this.words[i * STRIDE + DATA]}:${epollBits(this.words[i * STRIDE])}`);
    }
    const result = rv < 0 ? sysResult(rv) : `${rv}${ready.length ? ' [' + ready.join(' ') + ']' : ''}`;
    const json = this.tracer!.json;
    if (json !== null) {
      const list = [];
      for (let i = 0; i < rv; i++) list.push({ fd: this.words[i * STRIDE + DATA], events: bitNames(epollBits(this.words[i * STRIDE])) });
      json.ready(list);
    }
    this.tracer!.syscall('epoll_wait', `${this.epfd}, ${this.cap}, ${timeoutMs}`, result);
  }
}

/** EPOLLIN|EPOLLOUT → "IN|OUT", for the trace. */
export function epollBits(bits: number): string {
  const names: string[] = [];
  if (bits & C.EPOLLIN) names.push('IN');
  if (bits & C.EPOLLOUT) names.push('OUT');
  if (bits & C.EPOLLERR) names.push('ERR');
  if (bits & C.EPOLLHUP) names.push('HUP');
  return names.join('|') || '0';
}
