// The addon's contract, through src/sys: constants from the headers, hot-path
// calls returning -errno, setup calls throwing Node-shaped errors.

import { expect, test } from 'vitest';
import * as sys from '../src/sys/index.js';
import { C } from '../src/sys/index.js';

test('constants come from the system headers', () => {
  expect(C.SIZEOF_POLLFD).toBe(8);
  expect(C.OFFSETOF_POLLFD_EVENTS).toBe(4);
  expect(C.OFFSETOF_POLLFD_REVENTS).toBe(6);
  expect(C.POLLIN).toBe(1);
  expect(C.EAGAIN).toBeGreaterThan(0);
});

test('setup calls throw errors shaped like Node’s', () => {
  const a = sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
  const b = sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
  try {
    sys.bind(a, '127.0.0.1', 0);
    sys.listen(a, 16);
    const { port } = sys.getsockname(a);
    let err: (Error & { code?: string; errno?: number; syscall?: string }) | undefined;
    try {
      sys.bind(b, '127.0.0.1', port);
    } catch (e) {
      err = e as typeof err;
    }
    expect(err).toBeInstanceOf(Error);
    expect(err!.message).toMatch(/^bind EADDRINUSE/);
    expect(err!.code).toBe('EADDRINUSE');
    expect(err!.errno).toBe(-C.EADDRINUSE);
    expect(err!.syscall).toBe('bind');
    expect(() => sys.fcntl(-1, C.F_GETFL)).toThrow(expect.objectContaining({ code: 'EBADF', syscall: 'fcntl' }));
  } finally {
    sys.close(a);
    sys.close(b);
  }
});

test('hot-path calls return -errno instead of throwing', () => {
  const fd = sys.socket(C.AF_INET, C.SOCK_STREAM, 0);
  sys.bind(fd, '127.0.0.1', 0);
  sys.listen(fd, 16);
  sys.setNonBlocking(fd);
  expect(sys.accept(fd)).toBe(-C.EAGAIN);
  expect(sys.read(-1, Buffer.alloc(4), 0, 4)).toBe(-C.EBADF);
  expect(sys.write(-1, Buffer.alloc(4), 0, 4)).toBe(-C.EBADF);
  // poll on the listener alone, timeout 0: nothing ready, revents untouched.
  const pfd = new Int32Array(2);
  pfd[0] = fd;
  new Int16Array(pfd.buffer)[2] = C.POLLIN;
  expect(sys.poll(pfd, 1, 0)).toBe(0);
  expect(sys.close(fd)).toBe(0);
  expect(sys.close(fd)).toBe(-C.EBADF);
});

test('read/write refuse ranges outside the buffer', () => {
  expect(() => sys.read(0, Buffer.alloc(4), 2, 4)).toThrow(RangeError);
  expect(() => sys.write(1, Buffer.alloc(4), -1, 1)).toThrow(RangeError);
});
