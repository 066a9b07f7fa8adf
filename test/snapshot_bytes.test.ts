// Large values (Bytes off V8's heap, src/store/bytes.ts) beside a running
// fork-less snapshot (src/persist/snapshot.ts): an overwritten value's buffer
// goes to the reuse pool and is handed to the next value of its length, and
// APPEND/SETRANGE change a value's bytes in place — neither may reach the
// file, which must hold every key as it was when the snapshot started.
// Commands run as dispatch runs them while a save is on: the snapshot's
// preserveArgs (hooks.beforeWrite) first for APPEND and SETRANGE; for SET,
// nothing but the keyspace's own beforeChange, which is what reuse relies on.

import { describe, expect, test } from 'vitest';
import { respStringCommands } from '../src/commands/resp/strings.js';
import type { CommandContext } from '../src/commands/types.js';
import { loadRdb } from '../src/persist/rdb.js';
import { Snapshot } from '../src/persist/snapshot.js';
import { BIG_VALUE, Bytes } from '../src/store/bytes.js';
import { Keyspace } from '../src/store/keyspace.js';
import { Recorder } from './helpers/recorder.js';

const OPTS = { compression: false, checksum: false, redisVersion: '7.0.0', unixNowMs: 1e12, unixOffsetMs: 1e12, usedMem: 0 };
const LOAD = { checksum: false, unixNowMs: 1e12, unixOffsetMs: 1e12 };
const specs = new Map(respStringCommands.map((c) => [c.name, c]));

class MemSink {
  chunks: Uint8Array[] = [];
  chunk(b: Uint8Array): void {
    this.chunks.push(b.slice());
  }
  backlog(): number {
    return 0;
  }
  file(): Uint8Array {
    return Buffer.concat([...this.chunks, new Uint8Array(8)]);
  }
}

const LEN = 64 * 1024;
const valueOf = (i: number, len = LEN): string => String.fromCharCode(65 + (i % 26)).repeat(len - 8) + String(i).padStart(8, '0');

describe('large values beside a running snapshot', () => {
  test('buffer reuse and in-place APPEND/SETRANGE leave the file at the point in time', () => {
    const ks = new Keyspace(() => 1000);
    const config = new Map<string, string>();
    for (let i = 0; i < 40; i++) ks.put(`big:${i}`, valueOf(i));
    for (let i = 0; i < 200; i++) ks.put(`small:${i}`, `s${i}`);
    const atStart = new Map<string, string>();
    for (const k of ks.keys()) atStart.set(k, ks.get(k) as string);
    expect(ks.getRaw('big:0')).toBeInstanceOf(Bytes);

    const sink = new MemSink();
    const snap = new Snapshot([ks], OPTS, sink, 1 << 30);
    const run = (...args: string[]): void => {
      // dispatch's execute: beforeWrite (the snapshot's preserveArgs) only where the test says so.
      specs.get(args[0].toLowerCase())!.run(args, new Recorder(), { store: ks, server: { config }, counters: { settings: { notifyKeyspaceEvents: 0 } } } as unknown as CommandContext);
    };
    let step = 0;
    for (let i = 0; i < 40; i += 4) {
      // Overwrite big:i (its buffer is retired), then store a new value of the same length
      // under big:i+1, which takes that very buffer and writes over its bytes.
      const old = (ks.getRaw(`big:${i}`) as Bytes).buf;
      run('SET', `big:${i}`, valueOf(1000 + i));
      run('SET', `big:${i + 1}`, valueOf(2000 + i));
      expect((ks.getRaw(`big:${i + 1}`) as Bytes).buf).toBe(old); // the reuse really happened
      // In place, as dispatch runs them during a save: preserveArgs first.
      const b = ks.getRaw(`big:${i + 2}`) as Bytes;
      snap.preserveArgs(ks, ['append', `big:${i + 2}`, 'tail']);
      run('APPEND', `big:${i + 2}`, 'tail');
      snap.preserveArgs(ks, ['setrange', `big:${i + 3}`, '0', 'HEAD']);
      run('SETRANGE', `big:${i + 3}`, '0', 'HEAD');
      expect(ks.getRaw(`big:${i + 2}`)).toBe(b); // changed in place, not replaced
      // Let the walk go on between rounds, so some keys are written by it and some preserved.
      if (step++ % 2 === 1) snap.step(0.05);
    }
    expect(ks.get('big:5')).toBe(valueOf(2004));
    for (let i = 0; i < 1e6; i++) {
      const r = snap.step(0.05);
      if (r === 'done') break;
      if (r === 'failed') throw new Error(snap.error!);
    }
    const back = new Keyspace(() => 1000);
    loadRdb(sink.file(), back, LOAD);
    expect(back.size).toBe(atStart.size);
    for (const [k, v] of atStart) expect(back.get(k), k).toBe(v);
    expect(BIG_VALUE).toBeLessThanOrEqual(LEN);
  });
});
