// Creating a listening socket, the notes' way: socket → setsockopt(SO_REUSEADDR)
// → bind → listen, made non-blocking so accept() in the loop never blocks.

import * as sys from '../sys/index.js';
import { C } from '../sys/index.js';

/** Opens a non-blocking listening TCP socket; returns its fd and the bound port. */
export function listenTcp(host: string, port: number, backlog = C.SOMAXCONN): { fd: number; port: number } {
  const fd = sys.socket(host.includes(':') ? C.AF_INET6 : C.AF_INET, C.SOCK_STREAM, 0);
  try {
    // Lets a restarted server bind while old connections sit in TIME_WAIT.
    sys.setsockopt(fd, C.SOL_SOCKET, C.SO_REUSEADDR, 1);
    sys.bind(fd, host, port);
    sys.listen(fd, backlog);
    sys.setNonBlocking(fd);
    return { fd, port: sys.getsockname(fd).port };
  } catch (err) {
    sys.close(fd);
    throw err;
  }
}
