// The background file writer's thread (a worker_threads Worker): it writes,
// fsyncs, renames and fsyncs directories for the main thread, whose loop is
// busy serving clients. It reports each step by writing one short line to a
// pipe whose read end sits in the loop's poll set (see bgwriter.ts for the
// protocol), so a completion wakes poll like a readable socket — the main
// thread never waits on this thread, and Node's own event loop (which never
// runs while ours does) is not involved.

import { parentPort, workerData } from 'node:worker_threads';
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { Crc64 } from './crc64.js';
import type { WriterRequest } from './bgwriter.js';

const { notifyFd, ring: shared } = workerData as { notifyFd: number; ring: SharedArrayBuffer };
/** The ring of shared memory the main thread copies chunks into (bgwriter.ts). */
const ring = new Uint8Array(shared);

interface Job {
  fd: number;
  path: string;
  crc: Crc64 | null;
}

const jobs = new Map<number, Job>();

/** One event line into the pipe (a blocking write: the loop reads them every iteration). */
function notify(line: string): void {
  const b = Buffer.from(line.replace(/\n/g, ' ') + '\n', 'utf8');
  let off = 0;
  while (off < b.length) off += writeSync(notifyFd, b, off, b.length - off);
}

function writeAll(fd: number, chunk: Uint8Array): void {
  let off = 0;
  while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

function fail(id: number, job: Job | undefined, e: unknown): void {
  if (job !== undefined) {
    try {
      closeSync(job.fd);
    } catch {
      // closed already
    }
    removeQuietly(job.path);
    jobs.delete(id);
  }
  notify(`x ${id} ${(e as Error).message}`);
}

function handle(m: WriterRequest): void {
  const job = jobs.get(m.id);
  // A job that failed is forgotten: what the main thread sent after it is dropped — but a
  // chunk is still acknowledged, so that the main thread can reuse its ring space.
  if (m.op !== 'open' && job === undefined) {
    if (m.op === 'write' || m.op === 'ringwrite') notify(`w ${m.id} ${m.op === 'write' ? m.chunk.length : m.len}`);
    return;
  }
  try {
    switch (m.op) {
      case 'open':
        jobs.set(m.id, { fd: openSync(m.path, m.append ? 'a' : 'w', 0o644), path: m.path, crc: m.crcTrailer ? new Crc64() : null });
        notify(`o ${m.id}`);
        break;
      case 'write':
      case 'ringwrite': {
        const chunk = m.op === 'write' ? m.chunk : ring.subarray(m.off, m.off + m.len);
        try {
          writeAll(job!.fd, chunk);
          job!.crc?.update(chunk);
        } finally {
          // Acknowledged even when it failed (then "x" follows): its ring space is free.
          notify(`w ${m.id} ${chunk.length}`);
        }
        break;
      }
      case 'fsync':
        fsyncSync(job!.fd);
        notify(`f ${m.id}`);
        break;
      case 'trailer': {
        const j = job!;
        if (j.crc !== null) {
          const trailer = new Uint8Array(8);
          j.crc.writeLE(trailer, 0);
          writeAll(j.fd, trailer);
          j.crc = null;
        }
        notify(`t ${m.id}`);
        break;
      }
      case 'commit': {
        const j = job!;
        if (j.crc !== null) {
          const trailer = new Uint8Array(8);
          j.crc.writeLE(trailer, 0);
          writeAll(j.fd, trailer);
        }
        fsyncSync(j.fd);
        closeSync(j.fd);
        jobs.delete(m.id);
        if (m.renameTo !== null) {
          try {
            renameSync(j.path, m.renameTo);
          } catch (e) {
            removeQuietly(j.path);
            throw e;
          }
          // The rename is durable only once the directory entry is.
          const dfd = openSync(m.dir, 'r');
          try {
            fsyncSync(dfd);
          } finally {
            closeSync(dfd);
          }
        }
        notify(`c ${m.id}`);
        break;
      }
      case 'abort':
        closeSync(job!.fd);
        removeQuietly(job!.path);
        jobs.delete(m.id);
        notify(`a ${m.id}`);
        break;
    }
  } catch (e) {
    // The job is gone with its temp file; the main thread hears why.
    fail(m.id, m.op === 'open' ? undefined : job, e);
  }
}

parentPort!.on('message', handle);
