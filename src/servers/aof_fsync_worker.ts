// The AOF's background fsync thread (appendfsync everysec): it waits for a
// message naming an fd, fdatasyncs it, records the outcome in shared memory
// and writes one byte into a pipe whose read end sits in the event loop's
// poll set — so the loop hears of the completion as it hears of a socket.

import { fdatasyncSync, writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';

const { state, pipeFd } = workerData as { state: SharedArrayBuffer; pipeFd: number };
/** [0] busy (1 while an fsync runs), [1] errno of the last one (0 = ok), [2] its duration in µs. */
const cells = new Int32Array(state);
const done = Buffer.from([1]);

parentPort!.on('message', (msg: { fd: number }) => {
  const started = performance.now();
  let errno = 0;
  try {
    fdatasyncSync(msg.fd);
  } catch (e) {
    errno = -((e as NodeJS.ErrnoException).errno ?? -1);
  }
  Atomics.store(cells, 1, errno);
  Atomics.store(cells, 2, Math.min(2 ** 31 - 1, Math.round((performance.now() - started) * 1000)));
  Atomics.store(cells, 0, 0);
  Atomics.notify(cells, 0);
  try {
    writeSync(pipeFd, done);
  } catch {
    // The pipe is full (the loop has a byte to read already) or closed (shutting down).
  }
});
