// The backend interface, after Redis's ae.c: a backend only waits for
// readiness and reports (fd, mask) pairs; all dispatch stays in the loop.
// poll.ts rebuilds its pollfd array from the want flags every iteration (the
// notes' loop); epoll.ts keeps interest in the kernel and changes it only when
// a want flag changes.

/** Readiness and interest bits, independent of poll's and epoll's constants. */
export const READABLE = 1;
export const WRITABLE = 2;
/** An error or hang-up on the fd. */
export const ERROR = 4;
export const HANGUP = 8;

/** What a backend may ask the loop while building its wait. */
export interface LoopView {
  /** Listening sockets, in the order they were added. */
  readonly listenFds: readonly number[];
  /** Other fds watched for readability (signal pipe, stdin in step mode). */
  readonly watchFds: readonly number[];
  /** The notes' fd2conn: indexed by fd, null where no connection lives. */
  readonly fd2conn: readonly ({ readonly fd: number; wantRead: boolean; wantWrite: boolean } | null)[];
}

export interface Backend {
  readonly name: string;
  /** The fd's interest changed (0 = removed). poll ignores this; epoll applies it. */
  setInterest(fd: number, mask: number, prevMask: number): void;
  /**
   * Waits up to timeoutMs (-1 forever) and fills readyFds/readyMasks.
   * Returns the number of ready fds, or a negative errno (EINTR: just retry).
   */
  wait(loop: LoopView, timeoutMs: number): number;
  readonly readyFds: Int32Array;
  readonly readyMasks: Int32Array;
  /** Releases kernel resources (the epoll fd). */
  close(): void;
}
