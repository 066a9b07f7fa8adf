// File work off the loop: a background writer thread (writer_worker.ts) that
// writes chunks, fsyncs and renames for the main thread, and a pipe through
// which it reports back. The pipe's read end is handed to the loop as a
// watched fd ("watch this fd, call this back"), so a completion arrives as
// poll readiness — visible in --trace as `bgwriter-pipe` — and the loop never
// blocks on a disk. The writer knows files, not what is in them: a
// background save (snapshot.ts) and, later, the AOF feed it.
//
// Main → thread: postMessage of a WriterRequest. A chunk's bytes are copied
// into a ring of shared memory (a SharedArrayBuffer both threads see) and the
// message says where; the ring's space is reused as soon as the thread reports
// the chunk written. (Transferring each chunk's own ArrayBuffer instead left
// the written chunks for the thread's garbage collector to free, which it did
// only every few tens of MB: the save's peak memory.) A chunk larger than the
// ring is transferred. While the ring is full, requests wait in order in a
// queue on the main thread. Thread → main: one line per completed step in the pipe:
//   o <id>         opened            w <id> <bytes>  a chunk is written
//   f <id>         fsynced           t <id>          CRC trailer written
//   c <id>          committed (trailer, fsync, close, rename, dir fsync)
//   a <id>         aborted           x <id> <why>    failed: the file is closed and removed

import { Worker } from 'node:worker_threads';
import * as sys from '../sys/index.js';

export type WriterRequest =
  | { op: 'open'; id: number; path: string; append: boolean; crcTrailer: boolean }
  | { op: 'write'; id: number; chunk: Uint8Array }
  | { op: 'ringwrite'; id: number; off: number; len: number }
  | { op: 'fsync'; id: number }
  | { op: 'trailer'; id: number }
  | { op: 'commit'; id: number; renameTo: string | null; dir: string }
  | { op: 'abort'; id: number };

/**
 * The loop's "watch this fd, call this back" facility, as the wiring offers
 * it (EventLoop.addWatch on poll/epoll; a timer on the libuv twin). `read`
 * is the loop's read(2), traced when tracing.
 */
export interface FdWatcher {
  watch(fd: number, label: string, onReadable: () => void): void;
  unwatch(fd: number): void;
  read(fd: number, buf: Uint8Array, offset: number, length: number): number;
  /** A trace note (--trace), or absent. */
  note?: ((text: string) => void) | null;
}

/** What a job hears back. */
export interface FileJobEvents {
  /** A chunk of this many bytes reached the file (in order). */
  written?(bytes: number): void;
  fsynced?(): void;
  committed?(): void;
  /** The job failed (its file is closed and removed); no other event follows. */
  failed?(why: string): void;
}

/** One file being written in the background. */
export class FileJob {
  /** Bytes handed to write() and not yet reported written. */
  inFlight = 0;
  /** Bytes reported written. */
  written = 0;
  done = false;

  constructor(
    private readonly writer: BackgroundWriter,
    readonly id: number,
    readonly events: FileJobEvents,
  ) {}

  /** Appends a chunk: its bytes are copied (into the ring, or kept while they wait), so the caller may reuse its buffer. */
  write(chunk: Uint8Array): void {
    if (this.done || chunk.length === 0) return;
    this.inFlight += chunk.length;
    this.writer.send({ op: 'write', id: this.id, chunk });
  }

  fsync(): void {
    if (!this.done) this.writer.send({ op: 'fsync', id: this.id });
  }

  /** Writes the CRC-64 trailer (asked at open) now, after the bytes sent so far; what follows is not covered (an AOF base's command tail). */
  trailer(): void {
    if (!this.done) this.writer.send({ op: 'trailer', id: this.id });
  }

  /** Finishes the file: trailer (if asked at open), fsync, close, rename to renameTo, fsync of dir. */
  commit(renameTo: string | null, dir: string): void {
    if (!this.done) this.writer.send({ op: 'commit', id: this.id, renameTo, dir });
  }

  /** Gives up: the thread closes and removes the file; no further event is delivered. */
  abort(): void {
    if (this.done) return;
    this.done = true;
    this.writer.send({ op: 'abort', id: this.id });
    this.writer.forget(this.id);
  }
}

/** An event line in words, for the trace. */
function describe(line: string): string {
  const [code, id, ...rest] = line.split(' ');
  const what: Record<string, string> = { o: 'opened', w: `wrote ${rest[0]} bytes`, f: 'fsynced', t: 'wrote the CRC trailer', c: 'committed (fsync, rename, directory fsync)', a: 'aborted', x: `failed: ${rest.join(' ')}` };
  return `job ${id} ${what[code] ?? line}`;
}

/** The shared ring's size: chunks up to this are copied into it. */
const RING_BYTES = 8 * 1024 * 1024;

export class BackgroundWriter {
  private worker: Worker | null = null;
  private ring: Uint8Array | null = null;
  /** Where the next chunk goes in the ring, and the bytes in use (padding at the wrap included). */
  private ringHead = 0;
  private ringUsed = 0;
  /** Each write sent, in order: the ring bytes its "w" line frees (0 for a transferred chunk). */
  private readonly spans: number[] = [];
  /** Requests waiting for ring space, in order (nothing overtakes them). */
  private readonly queue: WriterRequest[] = [];
  private readFd = -1;
  private writeFd = -1;
  private nextId = 1;
  private readonly jobs = new Map<number, FileJob>();
  private readonly buf = Buffer.alloc(4096);
  private partial = '';

  constructor(private readonly watcher: FdWatcher) {}

  /** Opens path (truncating, or appending) on the writer thread, starting the thread on first use. */
  open(path: string, opts: { append?: boolean; crcTrailer?: boolean }, events: FileJobEvents): FileJob {
    this.start();
    const job = new FileJob(this, this.nextId++, events);
    this.jobs.set(job.id, job);
    this.send({ op: 'open', id: job.id, path, append: opts.append ?? false, crcTrailer: opts.crcTrailer ?? false });
    return job;
  }

  /** Sends a request now, or queues it behind others waiting for ring space. */
  send(m: WriterRequest): void {
    if (this.queue.length === 0 && this.trySend(m)) return;
    // It waits: a chunk gets a copy of its own (the caller's buffer is reused).
    this.queue.push(m.op === 'write' ? { ...m, chunk: m.chunk.slice() } : m);
  }

  /** Sends m unless it is a chunk that must wait for ring space. */
  private trySend(m: WriterRequest): boolean {
    if (m.op !== 'write') {
      this.post(m);
      return true;
    }
    const len = m.chunk.length;
    if (len > RING_BYTES) {
      this.spans.push(0);
      const own = m.chunk.slice(); // too big for the ring: a copy of its own is transferred
      this.post({ ...m, chunk: own }, own);
      return true;
    }
    // Contiguous space at the head, or from 0 with the end of the ring as padding.
    const wrap = this.ringHead + len > RING_BYTES;
    const span = wrap ? RING_BYTES - this.ringHead + len : len;
    if (this.ringUsed + span > RING_BYTES) return false;
    const off = wrap ? 0 : this.ringHead;
    this.ring!.set(m.chunk, off);
    this.ringHead = off + len;
    this.ringUsed += span;
    this.spans.push(span);
    this.post({ op: 'ringwrite', id: m.id, off, len });
    return true;
  }

  /** A chunk was written: its ring space is free; send what waited for it. */
  private freed(): void {
    this.ringUsed -= this.spans.shift() ?? 0;
    while (this.queue.length !== 0 && this.trySend(this.queue[0])) this.queue.shift();
  }

  /** Whether the thread and its pipe exist (they are created at the first open and kept). */
  get started(): boolean {
    return this.worker !== null;
  }

  post(m: WriterRequest, transfer?: Uint8Array): void {
    if (transfer !== undefined && transfer.byteOffset === 0 && transfer.byteLength === transfer.buffer.byteLength) {
      this.worker!.postMessage(m, [transfer.buffer as ArrayBuffer]);
    } else this.worker!.postMessage(m);
  }

  forget(id: number): void {
    this.jobs.delete(id);
  }

  /**
   * Starts the thread and its pipe now (open() does it otherwise). Creating a
   * Worker takes tens of ms on the calling thread: a server that will save
   * does it at start-up rather than inside its first BGSAVE.
   */
  start(): void {
    if (this.worker !== null) return;
    const [r, w] = sys.pipe();
    sys.setNonBlocking(r);
    this.readFd = r;
    this.writeFd = w;
    const shared = new SharedArrayBuffer(RING_BYTES);
    this.ring = new Uint8Array(shared);
    this.worker = new Worker(new URL('./writer_worker.js', import.meta.url), { workerData: { notifyFd: w, ring: shared } });
    this.watcher.watch(r, 'bgwriter-pipe', () => this.onReadable());
  }

  /** The pipe is readable: read the thread's event lines and hand them to their jobs. */
  private onReadable(): void {
    for (;;) {
      const n = this.watcher.read(this.readFd, this.buf, 0, this.buf.length);
      if (n <= 0) return; // EAGAIN: all read
      let text = this.partial + this.buf.toString('utf8', 0, n);
      let nl: number;
      while ((nl = text.indexOf('\n')) >= 0) {
        this.event(text.slice(0, nl));
        text = text.slice(nl + 1);
      }
      this.partial = text;
      if (n < this.buf.length) return;
    }
  }

  private event(line: string): void {
    this.watcher.note?.(`writer thread: ${describe(line)}`);
    const sp = line.indexOf(' ', 2);
    const id = Number(line.slice(2, sp < 0 ? undefined : sp));
    // Every write sent gets its "w" line, a failed job's too: its ring space is free again.
    if (line[0] === 'w') this.freed();
    const job = this.jobs.get(id);
    if (job === undefined) return; // aborted meanwhile
    const ev = job.events;
    switch (line[0]) {
      case 'w': {
        const bytes = Number(line.slice(sp + 1));
        job.inFlight -= bytes;
        job.written += bytes;
        ev.written?.(bytes);
        break;
      }
      case 'f':
        ev.fsynced?.();
        break;
      case 'c':
        job.done = true;
        this.jobs.delete(id);
        ev.committed?.();
        break;
      case 'x':
        job.done = true;
        this.jobs.delete(id);
        ev.failed?.(line.slice(sp + 1));
        break;
    }
  }

  /** Stops the thread and closes the pipe (the server is exiting). */
  close(): void {
    if (this.worker === null) return;
    this.watcher.unwatch(this.readFd);
    void this.worker.terminate();
    sys.close(this.readFd);
    sys.close(this.writeFd);
    this.worker = null;
  }
}
