// The epoll backend. (STUB: to be written.)

import type { Backend, LoopView } from './backend.js';
import type { Tracer } from './trace.js';

export class EpollBackend implements Backend {
  readonly name = 'epoll';
  readyFds = new Int32Array(0);
  readyMasks = new Int32Array(0);
  constructor(_tracer: Tracer | null = null) {
    throw new Error('--loop epoll is not implemented yet');
  }
  setInterest(): void {}
  wait(_loop: LoopView, _timeoutMs: number): number {
    return 0;
  }
  close(): void {}
}
