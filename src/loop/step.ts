// --step: the loop waits for Enter before each poll(). Stdin (fd 0) waits the
// way everything else does: as one more fd in a poll set (the notes' point that
// anything with an fd can join the loop), never as a blocking read.
//
// While paused, the loop polls only its watched fds (stdin and the signal pipe,
// so Ctrl-C still works) until a line arrives; then the iteration runs in full,
// its poll including stdin. Each line is one iteration: the line that ends a
// pause lets that iteration run, and a line typed while the iteration's poll
// blocks wakes that poll and so ends the iteration (the next one pauses again).
// Several lines read at once count one iteration each. `c` + Enter, or stdin
// reaching EOF, stops stepping: the loop runs freely (still traced).
//
// The live inspector (--inspect-port) drives the same gate from the browser:
// its listener and its clients are watched fds too, so the paused poll keeps
// serving them, and pause(), step() and resume() do what Enter and `c` do.

import * as sys from '../sys/index.js';
import { C } from '../sys/index.js';
import type { EventLoop } from './loop.js';
import { pollBits } from './poll.js';
import { sysResult, type Tracer } from './trace.js';

const SIZE = C.SIZEOF_POLLFD;
const EV = C.OFFSETOF_POLLFD_EVENTS / 2; // int16 index of events within an entry
const REV = C.OFFSETOF_POLLFD_REVENTS / 2;

export class Stepper {
  /** Not stepping: `c`, stdin closed, or the inspector's Continue (its Pause steps again). */
  private free = false;
  /** Called when the loop pauses before iteration n (the inspector tells its pages). */
  onPause: ((n: number) => void) | null = null;
  /** Called when the loop runs freely again. */
  onResume: (() => void) | null = null;
  /** Waiting in the paused poll for a line. */
  private paused = false;
  /** Lines typed ahead: iterations that will run without pausing. */
  private ahead = 0;
  /** Text after the last newline read (a line not finished yet). */
  private partial = '';
  private readonly input = Buffer.alloc(256);
  /** The paused poll's struct pollfd[] (only the watched fds: a handful). */
  private mem = new ArrayBuffer(4 * SIZE);

  constructor(
    private readonly loop: EventLoop,
    private readonly tracer: Tracer,
    /** The fd lines come from (stdin), or -1: no keyboard, only the inspector's controls. */
    private readonly fd = 0,
  ) {}

  /** Puts stdin in the loop's poll set and the pause before each iteration's poll. */
  attach(): void {
    if (this.fd < 0) {
      // The inspector alone: the loop starts running freely, and Pause gates it.
      this.free = true;
      this.loop.beforePoll = () => this.gate();
      return;
    }
    try {
      this.loop.addWatch(this.fd, () => this.onInput());
    } catch (err) {
      // epoll refuses regular files and /dev/null (EPERM): nothing to wait on.
      this.loop.removeWatch(this.fd);
      this.tracer.note(`step: stdin cannot join the poll set (${(err as Error).message}): running freely`);
      this.free = true;
      return;
    }
    // After what the server already does there (its stats sampling).
    const before = this.loop.beforePoll;
    this.loop.beforePoll = before === null ? () => this.gate() : () => before() && this.gate();
  }

  /** Before an iteration's poll: returns once it may run (false: the loop was stopped). */
  private gate(): boolean {
    if (this.free) return true;
    if (this.ahead > 0) {
      this.ahead--;
      return true;
    }
    this.tracer.note(this.fd < 0 ? `step: paused before iteration #${this.tracer.current}` : `step: Enter runs iteration #${this.tracer.current}, c+Enter runs freely`);
    this.paused = true;
    if (this.onPause !== null) this.onPause(this.tracer.current);
    while (this.paused && this.loop.isRunning) this.pausedPoll();
    this.paused = false;
    return this.loop.isRunning;
  }

  /** poll() over the watched fds only, then their callbacks (ours reads the line). */
  private pausedPoll(): void {
    const fds = this.loop.watchFds;
    const n = fds.length;
    if (n * SIZE > this.mem.byteLength) this.mem = new ArrayBuffer(n * SIZE);
    const fd32 = new Int32Array(this.mem);
    const ev16 = new Int16Array(this.mem);
    for (let i = 0; i < n; i++) {
      fd32[i * 2] = fds[i];
      ev16[i * 4 + EV] = C.POLLIN;
      ev16[i * 4 + REV] = 0;
    }
    this.tracer.flush();
    const rv = sys.poll(new Uint8Array(this.mem), n, -1);
    const set: string[] = [];
    const ready: string[] = [];
    for (let i = 0; i < n; i++) {
      set.push(`${fd32[i * 2]}:${pollBits(ev16[i * 4 + EV])}`);
      if (ev16[i * 4 + REV] !== 0) ready.push(`${fd32[i * 2]}:${pollBits(ev16[i * 4 + REV])}`);
    }
    this.tracer.syscall('poll', `[${set.join(' ')}], ${n}, -1`, rv < 0 ? sysResult(rv) : `${rv} [${ready.join(' ')}]`);
    if (rv <= 0) return; // EINTR: a signal's byte is waiting in the signal pipe
    for (let i = 0; i < n; i++) if (ev16[i * 4 + REV] !== 0) this.loop.runWatch(fd32[i * 2]);
  }

  /** Stdin is readable: each complete line is one iteration; `c` runs freely. */
  private onInput(): void {
    const rv = sys.read(this.fd, this.input, 0, this.input.length);
    this.tracer.syscall('read', `${this.fd}, ${this.input.length}`, rv === 0 ? '0 (EOF)' : sysResult(rv));
    if (rv === -C.EAGAIN || rv === -C.EINTR) return;
    if (rv <= 0) return this.runFreely(rv === 0 ? 'stdin closed' : `stdin ${sys.errnoName(rv)}`);
    const lines = (this.partial + this.input.latin1Slice(0, rv)).split('\n');
    this.partial = lines.pop()!;
    if (lines.length === 0) return;
    if (lines.some((line) => line.trim() === 'c')) return this.runFreely('c');
    // The first line is this iteration's (it ended the pause, or woke the poll).
    this.ahead += lines.length - 1;
    this.paused = false;
  }

  private runFreely(why: string): void {
    this.tracer.note(`step: ${why}: running freely`);
    this.free = true;
    this.paused = false;
    if (this.fd >= 0) this.loop.removeWatch(this.fd);
    if (this.onResume !== null) this.onResume();
  }

  /** Paused before an iteration's poll (waiting for a step). */
  get isPaused(): boolean {
    return this.paused;
  }

  /** The inspector's Pause: the next iteration waits for step() or resume(). */
  pause(): void {
    this.free = false;
    this.ahead = 0;
  }

  /** The inspector's Step: the paused iteration runs, and the next one pauses. */
  step(): void {
    if (this.paused) this.paused = false;
    else this.pause();
  }

  /** The inspector's Continue: run freely until the next pause(). */
  resume(): void {
    if (this.free) return;
    this.tracer.note('step: inspector: continue: running freely');
    this.free = true;
    this.paused = false;
    if (this.onResume !== null) this.onResume();
  }
}
