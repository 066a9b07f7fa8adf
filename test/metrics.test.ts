// INFO's instantaneous metrics (src/servers/metrics.ts) on a clock the test drives.
import { describe, expect, test } from 'vitest';
import { InstantMetrics } from '../src/servers/metrics.js';

function setup() {
  const c = { ops: 0, in: 0, out: 0 };
  const m = new InstantMetrics(() => c.ops, () => c.in, () => c.out, 0);
  return { c, m };
}

describe('InstantMetrics', () => {
  test('a steady rate reads back once the 16 samples are full', () => {
    const { c, m } = setup();
    for (let t = 100; t <= 1600; t += 100) {
      c.ops += 50; // 500 ops/s
      c.in += 1024 * 10; // 100 KiB/s
      c.out += 512; // 5 KiB/s
      m.maybeSample(t);
    }
    expect(m.opsPerSec).toBe(500);
    expect(m.inputKbps).toBeCloseTo(100, 6);
    expect(m.outputKbps).toBeCloseTo(5, 6);
  });

  test('no sample more often than every 100 ms; a partly filled ring averages over 16', () => {
    const { c, m } = setup();
    c.ops = 100;
    m.maybeSample(50); // too early: nothing
    expect(m.opsPerSec).toBe(0);
    m.maybeSample(100); // 100 ops in 100 ms = 1000/s, one sample of 16
    expect(m.opsPerSec).toBe(Math.floor(1000 / 16));
  });

  test('periods slept through are zero samples: after 1.6 s idle the rate is 0', () => {
    const { c, m } = setup();
    for (let t = 100; t <= 1600; t += 100) {
      c.ops += 100;
      m.maybeSample(t);
    }
    expect(m.opsPerSec).toBe(1000);
    c.ops += 100; // done just before the loop slept
    m.maybeSample(2000); // 400 ms later: one busy period, three idle ones
    expect(m.opsPerSec).toBe(Math.floor((12 * 1000 + 1000 + 0 * 3) / 16));
    m.maybeSample(5000);
    expect(m.opsPerSec).toBe(0);
  });

  test('reset (CONFIG RESETSTAT) empties the ring and takes the counters as they are now', () => {
    const { c, m } = setup();
    c.ops = 1600;
    m.maybeSample(100);
    expect(m.opsPerSec).toBeGreaterThan(0);
    c.ops = 0; // RESETSTAT zeroes the command count first
    m.reset(150);
    expect(m.opsPerSec).toBe(0);
    c.ops = 10;
    m.maybeSample(250);
    expect(m.opsPerSec).toBe(Math.floor(100 / 16));
  });
});
