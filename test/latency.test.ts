// The latency monitor's time series and the per-command histograms, unit by unit.
import { describe, expect, test } from 'vitest';
import { LATENCY_TS_LEN, LatencyHistogram, LatencyMonitor, latencyGraph } from '../src/commands/latency.js';

describe('LatencyMonitor', () => {
  test('records only at or over the threshold, and nothing while it is 0', () => {
    const settings = { latencyMonitorThreshold: 0 };
    const m = new LatencyMonitor(settings);
    m.addSampleIfNeeded('command', 500);
    expect(m.events.size).toBe(0);
    settings.latencyMonitorThreshold = 10;
    m.addSampleIfNeeded('command', 9);
    expect(m.events.size).toBe(0);
    m.addSampleIfNeeded('command', 10);
    expect(m.events.get('command')!.samples.map((s) => s.latency)).toEqual([10]);
  });

  test('samples in the same second keep the largest; max is all-time; 160 samples at most', () => {
    const m = new LatencyMonitor({ latencyMonitorThreshold: 1 });
    m.addSample('e', 5, 1000);
    m.addSample('e', 3, 1000);
    m.addSample('e', 7, 1000);
    m.addSample('e', 2, 1001);
    const ts = m.events.get('e')!;
    expect(ts.samples).toEqual([
      { time: 1000, latency: 7 },
      { time: 1001, latency: 2 },
    ]);
    expect(ts.max).toBe(7);
    for (let i = 0; i < 200; i++) m.addSample('e', 1, 2000 + i);
    expect(ts.samples.length).toBe(LATENCY_TS_LEN);
    expect(ts.samples[0].time).toBe(2000 + 200 - LATENCY_TS_LEN);
    expect(ts.max).toBe(7);
  });

  test('RESET: named events or all; the count reset', () => {
    const m = new LatencyMonitor({ latencyMonitorThreshold: 1 });
    m.addSample('a', 1);
    m.addSample('b', 1);
    expect(m.reset(['a', 'zz'])).toBe(1);
    expect([...m.events.keys()]).toEqual(['b']);
    expect(m.reset([])).toBe(1);
    expect(m.events.size).toBe(0);
  });

  test('GRAPH: header, 80 dashes, the bar rows and the labels written downwards', () => {
    const m = new LatencyMonitor({ latencyMonitorThreshold: 1 });
    m.addSample('command', 10, 100);
    m.addSample('command', 40, 130);
    const g = latencyGraph('command', m.events.get('command')!, 160).split('\n');
    expect(g[0]).toBe('command - high 40 ms, low 10 ms (all time high 40 ms)');
    expect(g[1]).toBe('-'.repeat(80));
    // The higher sample fills the top row; the lower one is the bottom '_'.
    expect(g.slice(2, 6)).toEqual([' #', ' |', ' |', '_|']);
    expect(g.slice(6)).toEqual(['  ', '13', 'm0', ' s', '']); // 1m and 30s ago
  });
});

describe('LatencyHistogram (two significant digits, as Redis)', () => {
  test('a value reads back as the top of its slot: 5000 ns is 5023 ns, 1 ns is 1 ns', () => {
    const h = new LatencyHistogram();
    h.record(5000);
    expect(h.valueAtPercentile(50)).toBe(5023);
    const one = new LatencyHistogram();
    one.record(0.2);
    expect(one.valueAtPercentile(99)).toBe(1);
  });

  test('percentiles over 1..1000 µs are within 1% of the exact ones; values are clamped to 1 s', () => {
    const h = new LatencyHistogram();
    for (let us = 1; us <= 1000; us++) h.record(us * 1000);
    expect(h.total).toBe(1000);
    for (const [p, exact] of [[50, 500_000], [99, 990_000], [99.9, 999_000]]) {
      const v = h.valueAtPercentile(p);
      expect(v).toBeGreaterThanOrEqual(exact);
      expect(v).toBeLessThanOrEqual(exact * 1.01);
    }
    const big = new LatencyHistogram();
    big.record(5e9);
    expect(big.valueAtPercentile(100)).toBeLessThanOrEqual(1.01e9);
  });

  test('the cumulative buckets grow at powers of two from 1 µs and end at the total', () => {
    const h = new LatencyHistogram();
    for (const us of [0.5, 3, 3, 100]) h.record(us * 1000);
    expect(h.cumulative()).toEqual([
      [1, 1],
      [4, 3],
      [132, 4],
    ]);
  });
});
