// One client's thread in --mode thread-per-connection: the notes' blocking
// echo loop. read_full the 4-byte length, read_full the message, write_all it
// back; on EOF or an error, close the socket and end the thread.

import { workerData } from 'node:worker_threads';
import { writeSync } from 'node:fs';
import * as sys from '../sys/index.js';
import { C } from '../sys/index.js';
import { sysResult } from '../loop/trace.js';
import { K_MAX_MSG } from '../protocol/book.js';

const { fd, id, trace } = workerData as { fd: number; id: number; trace: boolean };
const tag = `  [thread ${id}] `;
let buf = Buffer.alloc(64 * 1024);

function readFull(at: number, n: number): boolean {
  let got = 0;
  while (got < n) {
    const rv = sys.read(fd, buf, at + got, n - got); // blocks: this thread sleeps until data comes
    if (trace) writeSync(2, `${tag}read(${fd}, ${n - got}) = ${rv === 0 ? '0 (EOF)' : sysResult(rv)}\n`);
    if (rv === -C.EINTR) continue;
    if (rv <= 0) return false;
    got += rv;
  }
  return true;
}

function writeAll(n: number): boolean {
  let off = 0;
  while (off < n) {
    const rv = sys.write(fd, buf, off, n - off);
    if (trace) writeSync(2, `${tag}write(${fd}, ${n - off}) = ${sysResult(rv)}\n`);
    if (rv === -C.EINTR) continue;
    if (rv <= 0) return false;
    off += rv;
  }
  return true;
}

for (;;) {
  if (!readFull(0, 4)) break;
  const len = buf.readUInt32LE(0);
  if (len > K_MAX_MSG) break; // too long: close, as the event loop's echo does
  if (4 + len > buf.length) {
    const bigger = Buffer.alloc(4 + len);
    buf.copy(bigger, 0, 0, 4);
    buf = bigger;
  }
  if (!readFull(4, len)) break;
  if (!writeAll(4 + len)) break;
}
const rv = sys.close(fd);
if (trace) writeSync(2, `${tag}close(${fd}) = ${sysResult(rv)}\n`);
