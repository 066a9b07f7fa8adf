// The acceptor thread of --mode thread-per-connection: blocks in accept() and
// hands each new fd to the main thread, which starts that client's thread.

import { parentPort, workerData } from 'node:worker_threads';
import { writeSync } from 'node:fs';
import * as sys from '../sys/index.js';
import { C } from '../sys/index.js';
import { sysResult } from '../loop/trace.js';

const { listenFd, trace } = workerData as { listenFd: number; trace: boolean };
const pause = new Int32Array(new SharedArrayBuffer(4));

for (;;) {
  const fd = sys.accept(listenFd); // blocks until a client connects
  if (trace) writeSync(2, `  [acceptor] accept(${listenFd}) = ${sysResult(fd)}\n`);
  if (fd === -C.EINTR) continue;
  if (fd < 0) {
    // Out of fds (EMFILE) or a client gone before accept: wait a little, try again.
    Atomics.wait(pause, 0, 0, 100);
    continue;
  }
  parentPort!.postMessage(fd);
}
