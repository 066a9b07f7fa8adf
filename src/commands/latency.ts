// Latency observability, as Redis's latency.c and its latency tracking:
// - the latency monitor: events ("command", "fast-command", "expire-cycle",
//   and whatever other parts of the server report) that took at least
//   latency-monitor-threshold ms, kept as a time series of 160 one-second
//   samples per event (LATENCY LATEST/HISTORY/RESET/GRAPH/DOCTOR);
// - per-command latency histograms (latency-tracking), with two significant
//   digits as Redis's HdrHistogram, for INFO latencystats and LATENCY HISTOGRAM.

/** Samples kept per event (Redis's LATENCY_TS_LEN). */
export const LATENCY_TS_LEN = 160;

/** One event's time series. */
export interface LatencySeries {
  /** Unix seconds and ms of each sample, oldest first. */
  readonly samples: { time: number; latency: number }[];
  /** The largest latency ever seen for the event. */
  max: number;
}

/**
 * The latency monitor's events. Any part of the server may report one through
 * addSampleIfNeeded (Redis's latencyAddSampleIfNeeded): eviction would report
 * "eviction-cycle" / "eviction-del", persistence "aof-fsync-always",
 * "aof-write", "rdb-unlink-temp-file" …, with the names Redis uses.
 */
export class LatencyMonitor {
  readonly events = new Map<string, LatencySeries>();

  constructor(readonly settings: { readonly latencyMonitorThreshold: number }) {}

  /** Whether anything is recorded at all (latency-monitor-threshold > 0): callers read the clock only then. */
  get enabled(): boolean {
    return this.settings.latencyMonitorThreshold > 0;
  }

  /** Records `ms` for `event` if the monitor is on and it is at least the threshold. */
  addSampleIfNeeded(event: string, ms: number): void {
    const t = this.settings.latencyMonitorThreshold;
    if (t > 0 && ms >= t) this.addSample(event, ms);
  }

  /** Records a sample; a second sample within the same second keeps the larger latency (Redis's latencyAddSample). */
  addSample(event: string, ms: number, nowSec = Math.floor(Date.now() / 1000)): void {
    let ts = this.events.get(event);
    if (ts === undefined) this.events.set(event, (ts = { samples: [], max: 0 }));
    ms = Math.floor(ms);
    if (ms > ts.max) ts.max = ms;
    const last = ts.samples[ts.samples.length - 1];
    if (last !== undefined && last.time === nowSec) {
      if (ms > last.latency) last.latency = ms;
      return;
    }
    ts.samples.push({ time: nowSec, latency: ms });
    if (ts.samples.length > LATENCY_TS_LEN) ts.samples.shift();
  }

  /** LATENCY RESET: the named events (all without names); how many were reset. */
  reset(names: string[]): number {
    if (names.length === 0) {
      const n = this.events.size;
      this.events.clear();
      return n;
    }
    let n = 0;
    for (const e of names) if (this.events.delete(e)) n++;
    return n;
  }
}

/** latencyAddSampleIfNeeded(event, ms) for code that holds the server's monitor. */
export function latencyAddSampleIfNeeded(monitor: LatencyMonitor, event: string, ms: number): void {
  monitor.addSampleIfNeeded(event, ms);
}

// ---- LATENCY GRAPH: Redis's sparkline ----

const GRAPH_COLS = 80;
const CHARSET_FILL = '_o#';

/** The ASCII graph of an event's samples (Redis's latencyCommandGenSparkeline, rendered with SPARKLINE_FILL on 4 rows). */
export function latencyGraph(event: string, ts: LatencySeries, nowSec = Math.floor(Date.now() / 1000)): string {
  const values: number[] = [];
  const labels: string[] = [];
  for (const s of ts.samples) {
    values.push(s.latency);
    const elapsed = nowSec - s.time;
    labels.push(elapsed < 60 ? `${elapsed}s` : elapsed < 3600 ? `${Math.floor(elapsed / 60)}m` : elapsed < 86400 ? `${Math.floor(elapsed / 3600)}h` : `${Math.floor(elapsed / 86400)}d`);
  }
  const min = values.length === 0 ? 0 : Math.min(...values);
  const max = values.length === 0 ? 0 : Math.max(...values);
  let out = `${event} - high ${max} ms, low ${min} ms (all time high ${ts.max} ms)\n${'-'.repeat(GRAPH_COLS)}\n`;
  for (let j = 0; j < values.length; j += GRAPH_COLS) {
    if (j !== 0) out += '\n';
    out += sparklineRange(values, labels, min, max, 4, j, Math.min(GRAPH_COLS, values.length - j));
  }
  return out;
}

/** Rows of bars (the higher the value the taller), then the labels written downwards, one column per sample. */
function sparklineRange(values: number[], labels: string[], min: number, max: number, rows: number, offset: number, len: number): string {
  const charsetLen = CHARSET_FILL.length;
  const steps = charsetLen * rows;
  const relmax = max - min === 0 ? 1 : max - min;
  let out = '';
  for (let row = 0; ; row++) {
    let more = false;
    const chars = new Array<string>(len).fill(' ');
    for (let j = 0; j < len; j++) {
      const i = j + offset;
      if (row < rows) {
        let step = Math.trunc(((values[i] - min) * steps) / relmax);
        if (step < 0) step = 0;
        if (step >= steps) step = steps - 1;
        const charIdx = step - (rows - row - 1) * charsetLen;
        more = true;
        if (charIdx >= 0 && charIdx < charsetLen) chars[j] = CHARSET_FILL[charIdx];
        else if (charIdx >= charsetLen) chars[j] = '|';
      } else {
        // One blank line between the bars and the labels.
        if (row - rows < 1) {
          more = true;
          break;
        }
        const labelChar = row - rows - 1;
        if (labels[i].length > labelChar) {
          more = true;
          chars[j] = labels[i][labelChar];
        }
      }
    }
    if (!more) return out;
    out += chars.join('') + '\n';
  }
}

// ---- LATENCY DOCTOR ----

/** A human report on the events (the shape of Redis's createLatencyReport). */
export function latencyDoctor(monitor: LatencyMonitor, slowlogLogSlowerThan: number): string {
  if (monitor.events.size === 0) {
    if (!monitor.enabled) {
      return "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n";
    }
    return 'Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sleep tonight.\n';
  }
  let report = "Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n";
  let n = 1;
  let commands = false;
  let fast = false;
  let expires = false;
  for (const [event, ts] of monitor.events) {
    const lat = ts.samples.map((s) => s.latency);
    const avg = lat.reduce((a, b) => a + b, 0) / lat.length;
    const mad = lat.reduce((a, b) => a + Math.abs(b - avg), 0) / lat.length;
    // The period: seconds between spikes over the time the samples span.
    const first = ts.samples[0].time;
    const last = ts.samples[ts.samples.length - 1].time;
    const period = lat.length > 1 ? (last - first) / (lat.length - 1) : 1;
    report += `${n++}. ${event}: ${lat.length} latency spikes (average ${Math.round(avg)}ms, mean deviation ${Math.round(mad)}ms, period ${period.toFixed(2)} sec). Worst all time event ${ts.max}ms.\n`;
    if (event === 'command') commands = true;
    if (event === 'fast-command') fast = true;
    if (event === 'expire-cycle') expires = true;
  }
  report += '\nI have a few advices for you:\n\n';
  if (commands) {
    const threshold = monitor.settings.latencyMonitorThreshold;
    if (slowlogLogSlowerThan < 0) report += "- The slow log is disabled, please enable it with 'CONFIG SET slowlog-log-slower-than <microseconds>'.\n";
    else if (Math.floor(slowlogLogSlowerThan / 1000) > threshold) {
      report += `- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than ${threshold * 1000}'.\n`;
    }
    report += '- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n';
    report +=
      '- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n';
  }
  if (fast) {
    report +=
      '- Commands that should run in a few microseconds took milliseconds: the process was not given the CPU at a fast enough pace (an overloaded host or virtual machine, or a garbage-collection pause).\n';
  }
  if (expires) {
    report +=
      '- Many keys expired in the same second: the active expiry cycle took long. Spread the expire times (add a random part to the TTLs) so that they do not all fall in the same second.\n';
  }
  return report;
}

// ---- per-command histograms (latency-tracking) ----

// HdrHistogram with 2 significant digits over 1 ns .. 1 s, as Redis's
// (LATENCY_HISTOGRAM_MIN_VALUE, _MAX_VALUE, _PRECISION): 256 sub-buckets, the
// upper half of each bucket counted, 23 buckets.
const SUB_BUCKET_HALF_MAGNITUDE = 7;
const SUB_BUCKET_HALF = 1 << SUB_BUCKET_HALF_MAGNITUDE;
const SUB_BUCKET_MASK = (SUB_BUCKET_HALF << 1) - 1;
const BUCKETS = 23;
const COUNTS = (BUCKETS + 1) * SUB_BUCKET_HALF;
const MIN_NS = 1;
const MAX_NS = 1_000_000_000;

function bucketOf(v: number): number {
  return 32 - Math.clz32(v | SUB_BUCKET_MASK) - (SUB_BUCKET_HALF_MAGNITUDE + 1);
}
function countsIndex(v: number): number {
  const b = bucketOf(v);
  return ((b + 1) << SUB_BUCKET_HALF_MAGNITUDE) + ((v >>> b) - SUB_BUCKET_HALF);
}
function valueAt(index: number): number {
  let b = (index >> SUB_BUCKET_HALF_MAGNITUDE) - 1;
  let sub = (index & (SUB_BUCKET_HALF - 1)) + SUB_BUCKET_HALF;
  if (b < 0) {
    sub -= SUB_BUCKET_HALF;
    b = 0;
  }
  return sub * 2 ** b;
}
/** The largest value counted in the same slot as v. */
function highestEquivalent(v: number): number {
  const b = bucketOf(v);
  const sub = v >>> b;
  const size = 2 ** (sub >= SUB_BUCKET_HALF << 1 ? b + 1 : b);
  return Math.floor(v / size) * size + size - 1;
}

/** One command's latencies, in nanoseconds. */
export class LatencyHistogram {
  private readonly counts = new Uint32Array(COUNTS);
  total = 0;

  record(ns: number): void {
    const v = ns < MIN_NS ? MIN_NS : ns > MAX_NS ? MAX_NS : Math.floor(ns);
    this.counts[countsIndex(v)]++;
    this.total++;
  }

  /** The value (ns) at a percentile (hdr_value_at_percentile). */
  valueAtPercentile(p: number): number {
    const requested = Math.min(p, 100);
    const target = Math.max(Math.floor((requested / 100) * this.total + 0.5), 1);
    let seen = 0;
    for (let i = 0; i < COUNTS; i++) {
      seen += this.counts[i];
      if (seen >= target) {
        const v = valueAt(i);
        return p === 0 ? v : highestEquivalent(v);
      }
    }
    return 0;
  }

  /**
   * LATENCY HISTOGRAM's buckets: [µs, cumulative count] at powers of two from
   * 1024 ns (Redis's log iterator, 1024 then doubling), only where the count grew.
   */
  cumulative(): [number, number][] {
    const out: [number, number][] = [];
    let i = 0;
    let seen = 0;
    let previous = 0;
    for (let level = 1024; seen < this.total && level <= MAX_NS * 2; level *= 2) {
      const top = highestEquivalent(level);
      while (i < COUNTS && valueAt(i) <= top) seen += this.counts[i++];
      if (seen > previous) out.push([Math.floor(top / 1000), seen]);
      previous = seen;
    }
    return out;
  }
}
