// The background writer (src/persist/bgwriter.ts + writer_worker.ts, run from
// dist/: the thread loads the compiled worker file): chunks far beyond its
// 8 MiB shared ring arrive in order (they queue for space and wrap around),
// the CRC-64 trailer and the rename happen; a failed job reports why, and the
// ring space of what it dropped is free again for the next job.

import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import * as sys from '../src/sys/index.js';
import { crc64 } from '../src/persist/crc64.js';
// @ts-expect-error -- the compiled module (the worker thread needs dist/persist/writer_worker.js beside it)
import { BackgroundWriter } from '../dist/persist/bgwriter.js';

const dir = mkdtempSync(join(tmpdir(), 'redloop-bgwriter-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A watcher that looks at the pipe every few ms (the test has no poll loop). */
function watcher() {
  let timer: NodeJS.Timeout | null = null;
  return {
    watch(_fd: number, _label: string, cb: () => void) {
      timer = setInterval(cb, 2);
    },
    unwatch() {
      if (timer !== null) clearInterval(timer);
    },
    read: (fd: number, buf: Uint8Array, off: number, len: number) => sys.read(fd, buf, off, len),
  };
}

describe('background writer', () => {
  test('40 MiB through the 8 MiB ring, in order, then the CRC-64 trailer and the rename; a failed job frees its ring space', async () => {
    const w = new BackgroundWriter(watcher());
    try {
      // A job that fails at open: its chunks are dropped by the thread but acknowledged.
      const failed = new Promise<string>((resolve) => {
        const bad = w.open(join(dir, 'no-such-dir', 'x.tmp'), {}, { failed: resolve });
        for (let i = 0; i < 12; i++) bad.write(randomBytes(1 << 20));
      });
      expect(await failed).toMatch(/ENOENT/);

      const chunks = Array.from({ length: 40 }, (_, i) => randomBytes((1 << 20) - i * 1000));
      const sizes: number[] = [];
      let job: { inFlight: number } | null = null;
      let maxInFlight = 0;
      const committed = new Promise<void>((resolve, reject) => {
        job = w.open(join(dir, 'out.tmp'), { crcTrailer: true }, { committed: resolve, failed: reject, written: (n: number) => sizes.push(n) });
      });
      for (const c of chunks) {
        (job as unknown as { write(c: Uint8Array): void }).write(Uint8Array.from(c));
        maxInFlight = Math.max(maxInFlight, job!.inFlight);
      }
      expect(maxInFlight).toBeGreaterThan(8 * 1024 * 1024); // more than the ring holds: some waited in the queue
      (job as unknown as { commit(to: string, dir: string): void }).commit(join(dir, 'out.rdb'), dir);
      await committed;
      expect(sizes).toEqual(chunks.map((c) => c.length));
      const file = readFileSync(join(dir, 'out.rdb'));
      const body = Buffer.concat(chunks);
      expect(file.subarray(0, body.length).equals(body)).toBe(true);
      expect(file.readBigUInt64LE(body.length)).toBe(crc64(body));
      expect(existsSync(join(dir, 'out.tmp'))).toBe(false);
    } finally {
      w.close();
    }
  }, 60_000);
});
