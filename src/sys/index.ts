// Typed wrappers over our syscall addon: the only module that loads the .node
// file. Hot-path calls (accept, poll, read, write, epoll_*) return a negative
// errno as a value, so EAGAIN costs no exception; setup calls throw errors
// shaped like Node's own (`bind EADDRINUSE`, code, negative errno, syscall).

import { createRequire } from 'node:module';
import { getSystemErrorName } from 'node:util';

/** The raw addon surface: one function per syscall, see native/redloop.cc. */
interface Addon {
  socket(domain: number, type: number, protocol: number): number;
  setsockopt(fd: number, level: number, optname: number, value: number): number;
  bind(fd: number, address: string, port: number): number;
  connect(fd: number, address: string, port: number): number;
  listen(fd: number, backlog: number): number;
  accept(fd: number): number;
  getsockname(fd: number): SockAddr | number;
  getpeername(fd: number): SockAddr | number;
  shutdown(fd: number, how: number): number;
  fcntl(fd: number, cmd: number, arg: number): number;
  read(fd: number, buf: Uint8Array, offset: number, length: number): number;
  write(fd: number, buf: Uint8Array, offset: number, length: number): number;
  close(fd: number): number;
  pipe(): [number, number] | number;
  poll(pollfds: Uint8Array | Int32Array, nfds: number, timeoutMs: number): number;
  epoll_create1(flags: number): number;
  epoll_ctl(epfd: number, op: number, fd: number, events: number): number;
  epoll_wait(epfd: number, events: Uint8Array, maxevents: number, timeoutMs: number): number;
  signalpipe(signals: number[]): number;
  signaldefault(signals: number[]): number;
  signalignore(signals: number[]): number;
  getrlimit_nofile(): { soft: number; hard: number } | number;
  setrlimit_nofile(soft: number, hard: number): number;
  /** Absent from an addon built before it was added (then the caller carries on without it). */
  execve?: (path: string, argv: string[], env: string[]) => number;
  constants: Record<string, number>;
}

/** A socket address as getsockname/getpeername report it. */
export interface SockAddr {
  address: string;
  port: number;
  family: 'IPv4' | 'IPv6' | 'unknown';
}

function load(): Addon {
  const require = createRequire(import.meta.url);
  try {
    // dist/sys/index.js and src/sys/index.ts are both two levels below the root.
    return require('../../build/Release/redloop.node') as Addon;
  } catch (cause) {
    const err = new Error(
      'redloop: the syscall addon is not built (build/Release/redloop.node is missing or ' +
        'failed to load). Run `npm install` (or `npx node-gyp rebuild`) in the project root.',
      { cause },
    );
    throw err;
  }
}

const addon = load();

/** Constants taken from the system headers by the addon; never hard-coded. */
export const C = addon.constants as Readonly<{
  AF_INET: number; AF_INET6: number; SOCK_STREAM: number; SOCK_NONBLOCK: number;
  SOCK_CLOEXEC: number; IPPROTO_TCP: number; SOL_SOCKET: number; SO_REUSEADDR: number;
  SO_RCVBUF: number; SO_SNDBUF: number; SO_KEEPALIVE: number; TCP_NODELAY: number;
  SOMAXCONN: number; SHUT_RD: number; SHUT_WR: number; SHUT_RDWR: number;
  F_GETFL: number; F_SETFL: number; F_GETFD: number; F_SETFD: number; FD_CLOEXEC: number;
  O_NONBLOCK: number;
  POLLIN: number; POLLOUT: number; POLLERR: number; POLLHUP: number; POLLNVAL: number;
  POLLPRI: number; POLLRDHUP: number;
  EPOLLIN: number; EPOLLOUT: number; EPOLLERR: number; EPOLLHUP: number; EPOLLRDHUP: number;
  EPOLLET: number; EPOLL_CTL_ADD: number; EPOLL_CTL_MOD: number; EPOLL_CTL_DEL: number;
  EPOLL_CLOEXEC: number;
  EAGAIN: number; EWOULDBLOCK: number; EINTR: number; ECONNRESET: number; EPIPE: number;
  EMFILE: number; ENFILE: number; ENOBUFS: number; ENOMEM: number; ECONNABORTED: number;
  EBADF: number; EINVAL: number; EADDRINUSE: number; ENOTCONN: number;
  SIGINT: number; SIGTERM: number; SIGPIPE: number; SIGHUP: number; SIGUSR1: number;
  TCP_KEEPIDLE: number; TCP_KEEPINTVL: number; TCP_KEEPCNT: number;
  SIZEOF_POLLFD: number; OFFSETOF_POLLFD_EVENTS: number; OFFSETOF_POLLFD_REVENTS: number;
  SIZEOF_EPOLL_EVENT: number; OFFSETOF_EPOLL_EVENT_DATA: number;
}>;

/** An error shaped like Node's system errors: `bind EADDRINUSE`. */
export class SysError extends Error {
  readonly code: string;
  readonly errno: number;
  readonly syscall: string;
  constructor(syscall: string, negErrno: number, detail?: string) {
    const code = errnoName(negErrno);
    super(detail ? `${syscall} ${code} ${detail}` : `${syscall} ${code}`);
    this.name = 'Error';
    this.code = code;
    this.errno = negErrno;
    this.syscall = syscall;
  }
}

/** The symbolic name of a (negative) errno, e.g. -11 → 'EAGAIN'. */
export function errnoName(negErrno: number): string {
  try {
    return getSystemErrorName(negErrno);
  } catch {
    return `E${-negErrno}`;
  }
}

function check(syscall: string, rv: number, detail?: string): number {
  if (rv < 0) throw new SysError(syscall, rv, detail);
  return rv;
}

// ---- setup calls: throw on failure -------------------------------------------

export function socket(domain: number, type: number, protocol = 0): number {
  return check('socket', addon.socket(domain, type, protocol));
}

export function setsockopt(fd: number, level: number, optname: number, value: number): void {
  check('setsockopt', addon.setsockopt(fd, level, optname, value));
}

/** Binds to a numeric IPv4/IPv6 address ("127.0.0.1", "::1", "0.0.0.0"). */
export function bind(fd: number, address: string, port: number): void {
  check('bind', addon.bind(fd, address, port), `${address}:${port}`);
}

export function listen(fd: number, backlog: number): void {
  check('listen', addon.listen(fd, backlog));
}

export function getsockname(fd: number): SockAddr {
  const r = addon.getsockname(fd);
  if (typeof r === 'number') throw new SysError('getsockname', r);
  return r;
}

/** The peer's address, or null if the socket is no longer connected. */
export function getpeername(fd: number): SockAddr | null {
  const r = addon.getpeername(fd);
  return typeof r === 'number' ? null : r;
}

export function fcntl(fd: number, cmd: number, arg = 0): number {
  return check('fcntl', addon.fcntl(fd, cmd, arg));
}

/** fcntl(F_GETFL) then fcntl(F_SETFL, flags | O_NONBLOCK), as the notes do it. */
export function setNonBlocking(fd: number): void {
  const flags = fcntl(fd, C.F_GETFL, 0);
  fcntl(fd, C.F_SETFL, flags | C.O_NONBLOCK);
}

export function pipe(): [number, number] {
  const r = addon.pipe();
  if (typeof r === 'number') throw new SysError('pipe', r);
  return r;
}

export function epollCreate1(flags = 0): number {
  return check('epoll_create1', addon.epoll_create1(flags));
}

/** Installs a self-pipe handler for the signals and returns the pipe's read end. */
export function signalPipe(signals: number[]): number {
  return check('sigaction', addon.signalpipe(signals));
}

export function signalDefault(signals: number[]): void {
  check('signal', addon.signaldefault(signals));
}

/** Ignores the signals (SIG_IGN), as Redis ignores SIGHUP. */
export function signalIgnore(signals: number[]): void {
  check('signal', addon.signalignore(signals));
}

export function getNofileLimit(): { soft: number; hard: number } {
  const r = addon.getrlimit_nofile();
  if (typeof r === 'number') throw new SysError('getrlimit', r);
  return r;
}

export function setNofileLimit(soft: number, hard: number): void {
  check('setrlimit', addon.setrlimit_nofile(soft, hard));
}

/** Whether the addon has execve (an addon built before it was added has not). */
export function canExecve(): boolean {
  return typeof addon.execve === 'function';
}

/** Replaces the process image (same pid, same fds); returns only by throwing. */
export function execve(path: string, argv: string[], env: Record<string, string | undefined>): never {
  // stdin, stdout and stderr go to the new image: Node may have marked them close-on-exec.
  for (const fd of [0, 1, 2]) {
    const flags = addon.fcntl(fd, C.F_GETFD, 0);
    if (flags >= 0 && (flags & C.FD_CLOEXEC) !== 0) addon.fcntl(fd, C.F_SETFD, flags & ~C.FD_CLOEXEC);
  }
  const pairs = Object.entries(env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
  const r = addon.execve!(path, argv, pairs);
  throw new SysError('execve', r);
}

// ---- hot-path calls: return -errno -------------------------------------------

/** accept(2): the new fd, or -errno (-EAGAIN when nothing is pending). */
export const accept: (fd: number) => number = addon.accept;
/** read(2) into buf[offset, offset+length): bytes read, 0 at EOF, or -errno. */
export const read: (fd: number, buf: Uint8Array, offset: number, length: number) => number =
  addon.read;
/** write(2) from buf[offset, offset+length): bytes written, or -errno. */
export const write: (fd: number, buf: Uint8Array, offset: number, length: number) => number =
  addon.write;
/** poll(2) over a struct pollfd[] the caller filled in place: ready count or -errno. */
export const poll: (pollfds: Uint8Array | Int32Array, nfds: number, timeoutMs: number) => number =
  addon.poll;
/** close(2): 0 or -errno. */
export const close: (fd: number) => number = addon.close;
/** connect(2): 0 or -errno (EINPROGRESS for a non-blocking socket). */
export const connect: (fd: number, address: string, port: number) => number = addon.connect;
/** shutdown(2): 0 or -errno. */
export const shutdown: (fd: number, how: number) => number = addon.shutdown;
/** epoll_ctl(2): 0 or -errno; the event's data.fd is the fd itself. */
export const epollCtl: (epfd: number, op: number, fd: number, events: number) => number =
  addon.epoll_ctl;
/** epoll_wait(2) into a struct epoll_event[] the caller owns: ready count or -errno. */
export const epollWait: (epfd: number, events: Uint8Array, maxevents: number, timeoutMs: number) => number =
  addon.epoll_wait;
