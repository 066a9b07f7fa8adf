// --mode thread-per-connection: the notes' concurrency-models chapter made
// runnable. One thread blocks in accept(); every accepted client gets a thread
// of its own that blocks in read() and write() (blocking sockets, no poll, no
// O_NONBLOCK), as a thread-per-connection server in C would. The kernel's
// scheduler does what the event loop does by hand: it runs whichever thread's
// socket has data.
//
// Threads here are Node worker threads, each a V8 isolate of its own with its
// own heap: they share no JavaScript objects, so there is no keyspace to share
// without a lock-free store in shared memory. So this stage serves the echo
// protocol (each [u32 len][bytes] message sent back), as --mode echo does on
// the event loop — which keeps the comparison about the IO model alone:
// `npm run bench:models` runs both, plus the blocking server, with 10, 100
// and 1000 clients (memory per client, context switches, latency).
//
// The main thread only spawns threads: the acceptor thread posts it each new
// fd. maxclients, and at most MAX_THREADS, bound the threads (a client over
// it is closed at once).

import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import * as sys from '../sys/index.js';
import { C } from '../sys/index.js';
import type { ServerSettings } from './state.js';

const ACCEPTOR = fileURLToPath(new URL('./thread_acceptor.js', import.meta.url));
const WORKER = fileURLToPath(new URL('./thread_worker.js', import.meta.url));

/** Threads at most, whatever maxclients says: each is a V8 isolate of about 8 MiB. */
export const MAX_THREADS = 2000;

/** A small heap per thread: a client's thread holds one message at a time. */
const LIMITS = { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 2 };

export interface ThreadServer {
  readonly ports: { book: number; resp: number };
  /** Serves until the process is signalled. */
  run(): Promise<void>;
}

export function createThreadServer(settings: ServerSettings, log: (line: string) => void): ThreadServer {
  // socket → setsockopt(SO_REUSEADDR) → bind → listen, blocking (no fcntl).
  const listenFd = sys.socket(settings.host.includes(':') ? C.AF_INET6 : C.AF_INET, C.SOCK_STREAM, 0);
  sys.setsockopt(listenFd, C.SOL_SOCKET, C.SO_REUSEADDR, 1);
  sys.bind(listenFd, settings.host, settings.port);
  sys.listen(listenFd, C.SOMAXCONN);
  const port = sys.getsockname(listenFd).port;
  const trace = settings.trace;
  let threads = 0;
  let spawned = 0;
  const limit = Math.min(settings.maxClients, MAX_THREADS);

  return {
    ports: { book: port, resp: 0 },
    run() {
      return new Promise<void>(() => {
        const acceptor = new Worker(ACCEPTOR, { workerData: { listenFd, trace }, resourceLimits: LIMITS });
        acceptor.on('message', (fd: number) => {
          if (threads >= limit) {
            log(`client on fd ${fd} refused: ${threads} threads already (maxclients ${settings.maxClients}, at most ${MAX_THREADS} threads)`);
            sys.close(fd);
            return;
          }
          threads++;
          const id = ++spawned;
          const w = new Worker(WORKER, { workerData: { fd, id, trace }, resourceLimits: LIMITS });
          w.on('error', (err) => log(`thread ${id} (fd ${fd}) failed: ${err.message}`));
          w.on('exit', () => threads--);
        });
        acceptor.on('error', (err) => log(`acceptor thread failed: ${err.message}`));
        // SIGINT and SIGTERM end the process (Node's default): every thread with it.
      });
    },
  };
}
