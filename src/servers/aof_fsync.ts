// appendfsync everysec off the loop: a worker thread (aof_fsync_worker.ts)
// runs the fdatasync; its completion comes back as a byte in a pipe the loop
// polls (EventLoop.addWatch), as shared/DESIGN.md's "File — thread pool" row
// asks. Only the syscall loops use it; the libuv twin fsyncs on its thread.

import { Worker } from 'node:worker_threads';
import * as sys from '../sys/index.js';

export interface BackgroundFsync {
  /** Whether an fsync is running on the worker. */
  readonly busy: boolean;
  /** Starts an fdatasync of fd on the worker; false if one is still running. */
  start(fd: number): boolean;
  /** Blocks until the running fsync (if any) is done: before its fd is closed or replaced. */
  wait(): void;
  /** Told of each completion: an errno name or null, and how long it took (ms). */
  onDone: ((error: string | null, ms: number) => void) | null;
  /** The pipe's read end, for the poll set. */
  readonly fd: number;
  /** The loop saw the pipe readable: drain it and report. Returns what the read returned (for the trace). */
  readable(): number;
  close(): void;
}

export function createBackgroundFsync(): BackgroundFsync {
  const state = new SharedArrayBuffer(12);
  const cells = new Int32Array(state);
  const [readFd, writeFd] = sys.pipe();
  sys.setNonBlocking(readFd);
  sys.setNonBlocking(writeFd);
  const worker = new Worker(new URL('./aof_fsync_worker.js', import.meta.url), { workerData: { state, pipeFd: writeFd } });
  worker.unref();
  const buf = Buffer.alloc(64);
  const bg: BackgroundFsync = {
    get busy() {
      return Atomics.load(cells, 0) === 1;
    },
    start(fd) {
      if (Atomics.load(cells, 0) === 1) return false;
      Atomics.store(cells, 0, 1);
      worker.postMessage({ fd });
      return true;
    },
    wait() {
      while (Atomics.load(cells, 0) === 1) Atomics.wait(cells, 0, 1, 1000);
    },
    onDone: null,
    fd: readFd,
    readable() {
      const first = sys.read(readFd, buf, 0, buf.length);
      let n = first;
      while (n === buf.length) n = sys.read(readFd, buf, 0, buf.length);
      if (first < 0) return first; // EAGAIN: nothing after all
      const errno = Atomics.load(cells, 1);
      bg.onDone?.(errno === 0 ? null : sys.errnoName(-errno), Atomics.load(cells, 2) / 1000);
      return first;
    },
    close() {
      bg.wait();
      void worker.terminate();
      sys.close(readFd);
      sys.close(writeFd);
    },
  };
  return bg;
}
