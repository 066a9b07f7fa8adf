// The wiring's side of tracing (--trace, --trace-bytes, --step, --trace-json):
// builds the Tracer the loop is handed, and names the fds it cannot know
// (the loop knows fds, not what they are: listeners, the signal pipe, stdin,
// clients with their address and protocol).

import { openSync, writeSync } from 'node:fs';
import * as sys from '../sys/index.js';
import { Tracer } from '../loop/trace.js';
import { JsonTrace } from '../loop/trace_json.js';
import type { Pipeline } from './pipeline.js';
import type { ServerSettings } from './state.js';

/** The tracer the settings ask for, or null (then nothing in the loop traces). */
export function createTracer(settings: ServerSettings, now: () => number): Tracer | null {
  if (!settings.trace && !settings.step && settings.traceJson === null && settings.inspectPort === null) return null;
  // --trace-json or --inspect-port alone: the text trace is collected but written nowhere.
  const tracer = new Tracer(settings.trace || settings.step ? 2 : -1);
  tracer.showBytes = settings.traceBytes;
  if (settings.traceJson !== null || settings.inspectPort !== null) {
    const sinks: ((line: string) => void)[] = [];
    if (settings.traceJson !== null) {
      const fd = openSync(settings.traceJson, 'w');
      sinks.push((line) => {
        try {
          writeSync(fd, line + '\n');
        } catch {
          // A full disk must not take the server down.
        }
      });
    }
    tracer.json = new JsonTrace(sinks, settings.loop, now, (f) => tracer.describe(f));
    // The records keep the first bytes of each read and write (the live view and replays show them).
    tracer.json.keepBytes = true;
  }
  return tracer;
}

/** Trace notes and frame boundaries from the pipeline. */
export function tracePipeline(tracer: Tracer, pipeline: Pipeline): void {
  pipeline.note = (text) => tracer.note(text);
  pipeline.frames = (fd, before, ends, unparsed) => tracer.frames(fd, before, ends, unparsed);
}

/** Names a new connection: `client 127.0.0.1:50312 (resp)` (looked up only when tracing). */
export function labelClient(tracer: Tracer, fd: number, protocol: string): void {
  const p = sys.getpeername(fd);
  const peer = p === null ? '?' : `${p.address.includes(':') ? `[${p.address}]` : p.address}:${p.port}`;
  tracer.label(fd, `client ${peer} (${protocol})`, { peer, protocol });
}
