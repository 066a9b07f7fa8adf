// LATENCY LATEST/HISTORY/RESET/GRAPH/DOCTOR/HISTOGRAM/HELP over the server's
// latency monitor and per-command histograms (src/commands/latency.ts), and
// INFO's latencystats section.

import type { CommandContext, CommandSpec, CommandStat } from '../types.js';
import { NO_KEYS, err } from '../common.js';
import { LatencyHistogram, latencyDoctor, latencyGraph } from '../latency.js';

const LATENCY_HELP = [
  'LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'DOCTOR',
  '    Return a human readable latency analysis report.',
  'GRAPH <event>',
  '    Return an ASCII latency graph for the <event> class.',
  'HISTORY <event>',
  '    Return time-latency samples for the <event> class.',
  'LATEST',
  '    Return the latest latency samples for all events.',
  'RESET [<event> ...]',
  '    Reset latency data of one or more <event> classes.',
  '    (default: reset all data for all event classes)',
  'HISTOGRAM [COMMAND ...]',
  '    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.',
  '    If no commands are specified then all histograms are replied.',
  'HELP',
  '    Prints this help.',
];

/** Each command's counters that have a histogram, by command name (a container's subcommands together). */
function histograms(ctx: CommandContext): Map<string, LatencyHistogram> {
  const out = new Map<string, LatencyHistogram>();
  for (const st of ctx.counters.commandStats) {
    if (st === undefined || st.hist === undefined || st.hist.total === 0) continue;
    out.set(st.name, st.hist);
  }
  return out;
}

/** `p50=1.003,p99=…`: a percentile's value in µs, as Redis prints it (%.3f). */
function percentiles(hist: LatencyHistogram, wanted: number[]): string {
  return wanted.map((p) => `p${String(Number(p.toPrecision(6)))}=${(hist.valueAtPercentile(p) / 1000).toFixed(3)}`).join(',');
}

/** INFO latencystats: `latency_percentiles_usec_<command>:p50=…,p99=…,p99.9=…` for each command run since RESETSTAT. */
export function latencyStats(ctx: CommandContext, wanted: number[]): [string, string][] {
  const stats: CommandStat[] = ctx.counters.commandStats.filter((s): s is CommandStat => s !== undefined && s.hist !== undefined && s.hist.total > 0);
  return stats.map((s) => [`latency_percentiles_usec_${s.name}`, percentiles(s.hist!, wanted)]);
}

export function latencyCommand(table: () => Map<string, CommandSpec>): CommandSpec {
  return {
    name: 'latency',
    arity: -2,
    ...NO_KEYS,
    run(args, w, ctx) {
      const monitor = ctx.server.latency;
      switch (args[1].toLowerCase()) {
        case 'latest': {
          w.arr(monitor.events.size);
          for (const [event, ts] of monitor.events) {
            const last = ts.samples[ts.samples.length - 1];
            w.arr(4);
            w.str(event);
            w.int(last.time);
            w.int(last.latency);
            w.int(ts.max);
          }
          return;
        }
        case 'history': {
          const ts = monitor.events.get(args[2]);
          const samples = ts?.samples ?? [];
          w.arr(samples.length);
          for (const s of samples) {
            w.arr(2);
            w.int(s.time);
            w.int(s.latency);
          }
          return;
        }
        case 'reset':
          return w.int(monitor.reset(args.slice(2)));
        case 'graph': {
          const ts = monitor.events.get(args[2]);
          if (ts === undefined) return err(w, `ERR No samples available for event '${args[2]}'`);
          return w.verbatim('txt', latencyGraph(args[2], ts));
        }
        case 'doctor':
          return w.verbatim('txt', latencyDoctor(monitor, ctx.counters.settings.slowlogLogSlowerThan));
        case 'histogram': {
          const all = histograms(ctx);
          let picked: [string, LatencyHistogram][];
          if (args.length === 2) picked = [...all];
          else {
            picked = [];
            const specs = table();
            for (const arg of args.slice(2)) {
              // A command, a container (its subcommands that have data), or a full name (config|get).
              const name = arg.toLowerCase();
              const spec = specs.get(name.split('|')[0]);
              if (spec === undefined) continue;
              for (const [stat, h] of all) {
                if (stat === (name.includes('|') ? name : spec.name) || (!name.includes('|') && stat.startsWith(`${spec.name}|`))) picked.push([stat, h]);
              }
            }
          }
          w.map(picked.length);
          for (const [name, h] of picked) {
            w.str(name);
            w.map(2);
            w.str('calls');
            w.int(h.total);
            w.str('histogram_usec');
            const buckets = h.cumulative();
            w.map(buckets.length);
            for (const [us, n] of buckets) {
              w.int(us);
              w.int(n);
            }
          }
          return;
        }
        default: {
          w.arr(LATENCY_HELP.length);
          for (const l of LATENCY_HELP) w.status(l);
        }
      }
    },
  };
}
