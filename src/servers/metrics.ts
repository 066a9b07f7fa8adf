// INFO's instantaneous_ops_per_sec / instantaneous_input_kbps /
// instantaneous_output_kbps: as Redis's trackInstantaneousMetric, a rate
// sampled every 100 ms into a ring of 16 samples, reported as their mean.
//
// Redis samples from a 100 ms cron. Our loop sleeps in poll with no timeout
// when there is nothing to do (the book's loop; a cron would wake it ten times
// a second), so sampling happens at the start of a loop iteration instead, at
// most once per 100 ms: nothing happens while the loop sleeps, so whatever a
// sample finds was done just before the sleep began, and the periods slept
// through are zero-rate samples. The result is the ring Redis's cron fills.

/** Samples per metric (Redis's STATS_METRIC_SAMPLES). */
const SAMPLES = 16;
/** Sampling period, ms (Redis runs trackInstantaneousMetric with run_with_period(100)). */
export const METRICS_PERIOD_MS = 100;

class InstantMetric {
  private readonly samples = new Float64Array(SAMPLES);
  private idx = 0;
  private lastValue = 0;

  /** read() is first called at the first sample (the counters start at 0). */
  constructor(private readonly read: () => number) {}

  /** elapsed ms since the last sample (≥ the period). */
  sample(elapsed: number): void {
    const value = this.read();
    const delta = value - this.lastValue;
    this.lastValue = value;
    const periods = Math.floor(elapsed / METRICS_PERIOD_MS);
    if (periods <= 1) return this.push((delta * 1000) / elapsed);
    // Slept through periods - 1 periods: the work came in the first one.
    this.push((delta * 1000) / METRICS_PERIOD_MS);
    for (let i = 1; i < Math.min(periods, SAMPLES); i++) this.push(0);
  }

  private push(rate: number): void {
    this.samples[this.idx] = rate;
    this.idx = (this.idx + 1) % SAMPLES;
  }

  /** The mean of the samples. */
  get value(): number {
    let sum = 0;
    for (let i = 0; i < SAMPLES; i++) sum += this.samples[i];
    return sum / SAMPLES;
  }

  reset(): void {
    this.samples.fill(0);
    this.idx = 0;
    this.lastValue = this.read();
  }
}

export class InstantMetrics {
  private readonly ops: InstantMetric;
  private readonly input: InstantMetric;
  private readonly output: InstantMetric;
  private lastSampleMs: number;

  constructor(
    commands: () => number,
    netInput: () => number,
    netOutput: () => number,
    nowMs: number,
  ) {
    this.ops = new InstantMetric(commands);
    this.input = new InstantMetric(netInput);
    this.output = new InstantMetric(netOutput);
    this.lastSampleMs = nowMs;
  }

  /** Takes a sample if a period has passed since the last one. */
  maybeSample(nowMs: number): void {
    const elapsed = nowMs - this.lastSampleMs;
    if (elapsed < METRICS_PERIOD_MS) return;
    this.lastSampleMs = nowMs;
    this.ops.sample(elapsed);
    this.input.sample(elapsed);
    this.output.sample(elapsed);
  }

  /** instantaneous_ops_per_sec (Redis truncates to an integer). */
  get opsPerSec(): number {
    return Math.floor(this.ops.value);
  }
  /** instantaneous_input_kbps / _output_kbps (KiB per second, as Redis: /1024). */
  get inputKbps(): number {
    return this.input.value / 1024;
  }
  get outputKbps(): number {
    return this.output.value / 1024;
  }

  /** CONFIG RESETSTAT. */
  reset(nowMs: number): void {
    this.ops.reset();
    this.input.reset();
    this.output.reset();
    this.lastSampleMs = nowMs;
  }
}
