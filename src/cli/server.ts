#!/usr/bin/env node
// redloop-server's entry: first the V8 heap's size (src/servers/heap.ts) —
// possibly running itself again with --max-old-space-size, before the server's
// modules are loaded, so the restart costs one bare node start — then the
// server (server_main.ts).

import { writeSync } from 'node:fs';
import { chosenHeapMb } from '../servers/heap.js';
import * as sys from '../sys/index.js';

/**
 * Runs this server again (execve: same pid, same fds) with a V8 heap sized
 * from the machine's memory, unless node was given a heap size or
 * REDLOOP_HEAP=keep. An addon built without execve: carry on as is (the
 * start-up line says which heap limit applies).
 */
function reexecWithHeap(): void {
  const mb = chosenHeapMb();
  if (mb === null || !sys.canExecve()) return;
  const argv = [process.execPath, ...process.execArgv, `--max-old-space-size=${mb}`, process.argv[1], ...process.argv.slice(2)];
  try {
    sys.execve(process.execPath, argv, { ...process.env, REDLOOP_HEAP_CHOSEN: String(mb) });
  } catch (err) {
    writeSync(2, `redloop-server: could not restart with a ${mb} MB heap (${(err as Error).message}); V8's default heap applies\n`);
  }
}

reexecWithHeap();
const { main } = await import('./server_main.js');
main();
