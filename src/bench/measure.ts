// The measured window of a run, shared by both client engines: between
// start() and stop() it counts replies, records their latency in an
// HdrHistogram, and brackets the server's and the client's CPU time.

import { performance } from 'node:perf_hooks';
import * as hdr from 'hdr-histogram-js';
import { processCpuUs } from './cpu.js';
import type { LoadOptions, LoadResult } from './loadgen.js';

export interface WindowFigures {
  received: number;
  elapsedSec: number;
  serverCpuUs: number | null;
  clientCpuUs: number;
  latencyUs: { p50: number; p99: number; p999: number; max: number; mean: number };
}

export class Window {
  measuring = false;
  /** Replies received inside the window. */
  received = 0;
  private readonly hist = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  private t0 = 0;
  private t1 = 0;
  private server0 = 0;
  private server1 = 0;
  private client0: NodeJS.CpuUsage = { user: 0, system: 0 };
  private clientCpu: NodeJS.CpuUsage = { user: 0, system: 0 };
  private errors0 = 0;
  private errors1 = 0;

  constructor(private readonly pid: number | null) {}

  /** Opens the window; `errors` is the error-reply count so far. */
  start(errors: number): void {
    this.hist.reset();
    this.received = 0;
    this.errors0 = errors;
    if (this.pid !== null) this.server0 = processCpuUs(this.pid);
    this.client0 = process.cpuUsage();
    this.t0 = performance.now();
    this.measuring = true;
  }

  /** `n` replies to a batch sent at `sentAt` arrived at `now` (performance.now() ms). */
  record(n: number, sentAt: number, now: number): void {
    this.hist.recordValueWithCount(Math.max(1, Math.round((now - sentAt) * 1000)), n);
    this.received += n;
  }

  stop(errors: number): void {
    if (!this.measuring) return;
    this.t1 = performance.now();
    if (this.pid !== null) this.server1 = processCpuUs(this.pid);
    this.clientCpu = process.cpuUsage(this.client0);
    this.errors1 = errors;
    this.measuring = false;
  }

  /** The window's raw figures: what other scenarios (pub/sub, blocking) build their results from. */
  figures(): WindowFigures {
    const h = this.hist;
    return {
      received: this.received,
      elapsedSec: (this.t1 - this.t0) / 1000,
      serverCpuUs: this.pid !== null ? this.server1 - this.server0 : null,
      clientCpuUs: this.clientCpu.user + this.clientCpu.system,
      latencyUs: { p50: h.getValueAtPercentile(50), p99: h.getValueAtPercentile(99), p999: h.getValueAtPercentile(99.9), max: h.maxValue, mean: h.mean },
    };
  }

  result(o: LoadOptions, idle: number, disconnects: number): LoadResult {
    const { received, elapsedSec, serverCpuUs, clientCpuUs, latencyUs } = this.figures();
    const per = (us: number) => (received > 0 ? us / received : 0);
    return {
      protocol: o.protocol,
      engine: o.engine ?? 'raw',
      connections: o.connections,
      pipeline: o.pipeline,
      idle,
      valueSize: o.valueSize,
      keyspace: o.keyspace,
      mix: o.request?.label ?? o.mix.map((m) => `${m.command}:${m.weight}`).join(','),
      requests: received,
      errors: this.errors1 - this.errors0,
      disconnects,
      elapsedSec,
      throughput: elapsedSec > 0 ? received / elapsedSec : 0,
      latencyUs,
      serverCpuUs,
      serverCpuUsPerRequest: serverCpuUs !== null ? per(serverCpuUs) : null,
      serverCpuPercent: serverCpuUs !== null && elapsedSec > 0 ? (serverCpuUs / (elapsedSec * 1e6)) * 100 : null,
      clientCpuUs,
      clientCpuUsPerRequest: per(clientCpuUs),
      clientCpuPercent: elapsedSec > 0 ? (clientCpuUs / (elapsedSec * 1e6)) * 100 : 0,
    };
  }
}
