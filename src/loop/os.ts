// The syscalls the loop makes, behind one small interface, and a traced facade
// over them. The loop calls `os.read(...)` and never decides whether to trace:
// with --trace it is handed `tracedOs(tracer)`, which makes the same call and
// prints one strace-shaped line for it (`read(23, 65536) = 25`, `-1 EAGAIN`).
// Without it the loop holds `plainOs`, the addon's functions themselves.

import * as sys from '../sys/index.js';
import { C } from '../sys/index.js';
import { hexRows, sysResult, type Tracer } from './trace.js';

/** The syscalls the loop and its accept guard make (hot ones return -errno). */
export interface LoopOs {
  accept(fd: number): number;
  read(fd: number, buf: Uint8Array, offset: number, length: number): number;
  write(fd: number, buf: Uint8Array, offset: number, length: number): number;
  close(fd: number): number;
  /** Makes a connection socket non-blocking (the notes' fcntl pair). */
  setNonBlocking(fd: number): void;
  /** TCP_NODELAY: replies go out as soon as they are written. */
  setNoDelay(fd: number): void;
  /** SO_KEEPALIVE with probes after `seconds` idle (then every seconds/3, 3 times: Redis's anetKeepAlive). */
  setKeepAlive(fd: number, seconds: number): void;
  /** A spare socket (the EMFILE reserve), or -1 if no fd is free. */
  spareSocket(): number;
  /** Trace notes: what a handler made of a syscall (null when not tracing). */
  readonly note: ((text: string) => void) | null;
}

export const plainOs: LoopOs = {
  accept: sys.accept,
  read: sys.read,
  write: sys.write,
  close: sys.close,
  setNonBlocking(fd) {
    sys.fcntl(fd, C.F_SETFL, sys.fcntl(fd, C.F_GETFL, 0) | C.O_NONBLOCK);
  },
  setNoDelay(fd) {
    sys.setsockopt(fd, C.IPPROTO_TCP, C.TCP_NODELAY, 1);
  },
  setKeepAlive(fd, seconds) {
    for (const [level, opt, v] of keepAliveOptions(seconds)) sys.setsockopt(fd, level, opt, v);
  },
  spareSocket,
  note: null,
};

/**
 * The same calls, each printed to the tracer exactly once, in strace's shape.
 * With `bytes` (--trace-bytes) each read and write is followed by the bytes it moved.
 */
export function tracedOs(tr: Tracer, bytes = false): LoopOs {
  const dump = (fd: number, what: string, buf: Uint8Array, offset: number, n: number): void => {
    tr.note(`fd ${fd} ${what} ${n} byte${n === 1 ? '' : 's'}:`);
    for (const row of hexRows(buf, offset, n)) tr.note(`  ${row}`);
  };
  return {
    accept(fd) {
      const rv = sys.accept(fd);
      tr.syscall('accept', `${fd}`, sysResult(rv));
      return rv;
    },
    read(fd, buf, offset, length) {
      const rv = sys.read(fd, buf, offset, length);
      tr.syscall('read', `${fd}, ${length}`, rv === 0 ? '0 (EOF)' : sysResult(rv));
      if (bytes && rv > 0) dump(fd, 'read', buf, offset, rv);
      if (rv > 0 && tr.json !== null && tr.json.keepBytes) tr.json.data(fd, 'read', buf, offset, rv);
      return rv;
    },
    write(fd, buf, offset, length) {
      const rv = sys.write(fd, buf, offset, length);
      tr.syscall('write', `${fd}, ${length}`, sysResult(rv));
      if (bytes && rv > 0) dump(fd, 'wrote', buf, offset, rv);
      if (rv > 0 && tr.json !== null && tr.json.keepBytes) tr.json.data(fd, 'wrote', buf, offset, rv);
      if (rv >= 0 && rv < length) tr.note(`fd ${fd}: wrote ${rv} of ${length} bytes, ${length - rv} left for when it is writable`);
      return rv;
    },
    close(fd) {
      const rv = sys.close(fd);
      tr.syscall('close', `${fd}`, sysResult(rv));
      return rv;
    },
    setNonBlocking(fd) {
      const flags = sys.fcntl(fd, C.F_GETFL, 0);
      tr.syscall('fcntl', `${fd}, F_GETFL`, `0x${flags.toString(16)}`);
      sys.fcntl(fd, C.F_SETFL, flags | C.O_NONBLOCK);
      tr.syscall('fcntl', `${fd}, F_SETFL, 0x${(flags | C.O_NONBLOCK).toString(16)} (+O_NONBLOCK)`, '0');
    },
    setNoDelay(fd) {
      sys.setsockopt(fd, C.IPPROTO_TCP, C.TCP_NODELAY, 1);
      tr.syscall('setsockopt', `${fd}, IPPROTO_TCP, TCP_NODELAY, 1`, '0');
    },
    setKeepAlive(fd, seconds) {
      for (const [level, opt, v, name] of keepAliveOptions(seconds)) {
        sys.setsockopt(fd, level, opt, v);
        tr.syscall('setsockopt', `${fd}, ${level === C.SOL_SOCKET ? 'SOL_SOCKET' : 'IPPROTO_TCP'}, ${name}, ${v}`, '0');
      }
    },
    spareSocket() {
      const fd = spareSocket();
      tr.syscall('socket', 'AF_INET, SOCK_STREAM, 0', fd < 0 ? '-1 (no fd free)' : `${fd}`);
      return fd;
    },
    note: (text) => tr.note(text),
  };
}

/** Redis's anetKeepAlive: on, idle time, probe interval (a third of it, at least 1 s), 3 probes. */
/** Linux refuses TCP_KEEPIDLE and TCP_KEEPINTVL above this (MAX_TCP_KEEPIDLE): larger settings are clamped. */
const MAX_TCP_KEEPIDLE = 32767;

function keepAliveOptions(seconds: number): [number, number, number, string][] {
  seconds = Math.min(seconds, MAX_TCP_KEEPIDLE);
  return [
    [C.SOL_SOCKET, C.SO_KEEPALIVE, 1, 'SO_KEEPALIVE'],
    [C.IPPROTO_TCP, C.TCP_KEEPIDLE, seconds, 'TCP_KEEPIDLE'],
    [C.IPPROTO_TCP, C.TCP_KEEPINTVL, Math.max(1, Math.floor(seconds / 3)), 'TCP_KEEPINTVL'],
    [C.IPPROTO_TCP, C.TCP_KEEPCNT, 3, 'TCP_KEEPCNT'],
  ];
}

function spareSocket(): number {
  try {
    return sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
  } catch {
    return -1;
  }
}
