#!/usr/bin/env node
// `npm run bench:micro`: microbenchmarks of the per-request hot path without
// sockets — decoding a request (book, RESP), encoding a reply, dispatching a
// command against a filled keyspace, and a whole Session turn over a pipelined
// buffer. Each task runs a batch of ops so the timer's own cost (≈0.3 µs for
// performance.now() on a VM) does not swamp nanosecond figures.

import { Bench, hrtimeNow } from 'tinybench';
import { writeSync } from 'node:fs';
import { ByteBuffer } from '../loop/buffer.js';
import { Conn } from '../loop/conn.js';
import { BookWriter, decodeRequest, encodeRequest } from '../protocol/book.js';
import { decodeResp, respCodec, RespWriter } from '../protocol/resp.js';
import type { ReplyWriter } from '../protocol/reply.js';
import { dispatch } from '../commands/dispatch.js';
import { bookTable } from '../commands/book/index.js';
import { respTable } from '../commands/resp/index.js';
import { ProtocolSession, detachedHost } from '../servers/session.js';
import { DEFAULT_SETTINGS, ServerState } from '../servers/state.js';
import { bookCodec } from '../protocol/book.js';
import { encodeCommand, keyName } from '../bench/loadgen.js';
import { sha1hex } from '../scripting/engine.js';

const OPS = 1000; // ops per task call
const KEYS = 10_000;

const value = 'x'.repeat(16);
// --slowlog-log-slower-than N: the session's timing (-1 = off: no clock reads; Redis's default 10000 times every command).
const slowArg = process.argv.indexOf('--slowlog-log-slower-than');
const slowlogLogSlowerThan = slowArg > 0 ? Number(process.argv[slowArg + 1]) : DEFAULT_SETTINGS.slowlogLogSlowerThan;
// --latency-tracking yes|no: per-command latency histograms (Redis's default: yes; with the slowlog off and this no, no clock reads).
const trackArg = process.argv.indexOf('--latency-tracking');
const latencyTracking = trackArg > 0 ? process.argv[trackArg + 1] === 'yes' : DEFAULT_SETTINGS.latencyTracking;
const state = new ServerState({ ...DEFAULT_SETTINGS, respPort: null, slowlogLogSlowerThan, latencyTracking }, () => {});
for (let i = 0; i < KEYS; i++) state.store.put(keyName(i), value);
// --notify CLASSES: notify-keyspace-events (default "": off). Nobody subscribes: the cost of building and not delivering.
const notifyArg = process.argv.indexOf('--notify');
if (notifyArg > 0 && state.configStore.set([['notify-keyspace-events', process.argv[notifyArg + 1]]]) !== null) throw new Error('bad --notify');
// --config NAME VALUE (repeatable): any CONFIG SET parameter, e.g. --config latency-monitor-threshold 1.
for (let i = process.argv.indexOf('--config'); i > 0; i = process.argv.indexOf('--config', i + 1)) {
  const [name, val] = [process.argv[i + 1], process.argv[i + 2]];
  if (name === undefined || val === undefined || state.configStore.set([[name, val]]) !== null) throw new Error(`bad --config ${name} ${val}`);
}
const client = state.newClient(0, () => 'bench:0');
const ctx = { store: state.store, client, server: state.context, hooks: state.context.hooks, persistence: state.context.persistence, counters: state.context.counters };

const bookGet = encodeRequest(['get', keyName(1234)]);
const bookSet = encodeRequest(['set', keyName(1234), value]);
const respGet = encodeCommand('resp', ['GET', keyName(1234)]);
const respSet = encodeCommand('resp', ['SET', keyName(1234), value]);
const args: string[] = [];
const out = new ByteBuffer(1 << 16);
const bookW = new BookWriter();
const respW = new RespWriter();
const getArgs = ['get', keyName(1234)];
const GETArgs = ['GET', keyName(1234)];
const SETArgs = ['SET', keyName(1234), value];
/** A writer that drops everything, to time dispatch and the command alone. */
const nullWriter: ReplyWriter = {
  nil() {}, err() {}, str() {}, bytes() {}, status() {}, int() {}, dbl() {}, arr() {}, nilArr() {},
  map() {}, set() {}, bool() {}, verbatim() {}, bigNumber() {}, dblText() {}, push() {}, pairs() {}, pair() {},
};

/** 16 pipelined GETs of different keys, replayed into a Conn's incoming buffer. */
function pipelined(protocol: 'book' | 'resp'): Buffer {
  return Buffer.concat(Array.from({ length: 16 }, (_, i) => encodeCommand(protocol, ['GET', keyName(i * 613)])));
}

function sessionTask(protocol: 'book' | 'resp'): () => void {
  const bytes = pipelined(protocol);
  const conn = new Conn(-1);
  const session = new ProtocolSession(protocol === 'book' ? bookCodec : respCodec, protocol === 'book' ? bookTable : respTable, state, client, conn, detachedHost);
  conn.session = session;
  return () => {
    for (let k = 0; k < OPS / 16; k++) {
      conn.incoming.clear();
      conn.incoming.append(bytes);
      while (session.tryOneRequest(conn));
      conn.outgoing.clear();
    }
  };
}

// Scripts as npm run bench:lua runs them (the handler alone: no sockets).
const ONE_GET = "return redis.call('GET', KEYS[1])";
const TEN_GETS = "local v\nfor i = 1, 10 do v = redis.call('GET', KEYS[1]) end\nreturn v";
dispatch(respTable, ['SCRIPT', 'LOAD', ONE_GET], nullWriter, ctx);
dispatch(respTable, ['SCRIPT', 'LOAD', TEN_GETS], nullWriter, ctx);
const evalsha1 = ['EVALSHA', sha1hex(ONE_GET), '1', keyName(1234)];
const evalsha10 = ['EVALSHA', sha1hex(TEN_GETS), '1', keyName(1234)];

const tasks: [string, () => void][] = [
  ['book decode GET', () => { for (let i = 0; i < OPS; i++) decodeRequest(bookGet, 0, bookGet.length, args); }],
  ['book decode SET 16 B', () => { for (let i = 0; i < OPS; i++) decodeRequest(bookSet, 0, bookSet.length, args); }],
  ['resp decode GET', () => { for (let i = 0; i < OPS; i++) decodeResp(respGet, 0, respGet.length, args); }],
  ['resp decode SET 16 B', () => { for (let i = 0; i < OPS; i++) decodeResp(respSet, 0, respSet.length, args); }],
  ['book encode str 16 B', () => {
    out.clear();
    for (let i = 0; i < OPS; i++) { bookW.begin(out); bookW.str(value); bookW.end(); }
  }],
  ['resp encode bulk 16 B', () => {
    out.clear();
    for (let i = 0; i < OPS; i++) { respW.begin(out); respW.str(value); respW.end(); }
  }],
  ['dispatch book get (10k keys)', () => { for (let i = 0; i < OPS; i++) dispatch(bookTable, getArgs, nullWriter, ctx); }],
  ['dispatch resp GET (10k keys)', () => { for (let i = 0; i < OPS; i++) dispatch(respTable, GETArgs, nullWriter, ctx); }],
  ['dispatch resp SET (10k keys)', () => { for (let i = 0; i < OPS; i++) dispatch(respTable, SETArgs, nullWriter, ctx); }],
  ['dispatch EVALSHA, 1 redis.call GET', () => { for (let i = 0; i < OPS; i++) dispatch(respTable, evalsha1, nullWriter, ctx); }],
  ['dispatch EVALSHA, 10 redis.call GET', () => { for (let i = 0; i < OPS; i++) dispatch(respTable, evalsha10, nullWriter, ctx); }],
  ['keyspace get (10k keys)', () => { for (let i = 0; i < OPS; i++) state.store.get(keyName(i * 7 % KEYS)); }],
  ['session book, 16 pipelined GETs', sessionTask('book')],
  ['session resp, 16 pipelined GETs', sessionTask('resp')],
];

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const bench = new Bench({ time: quick ? 150 : 600, warmupTime: quick ? 50 : 200, now: hrtimeNow });
  // --tasks 'A|B': only the tasks whose names start with one of these (bench:notify runs three).
  const only = process.argv.indexOf('--tasks');
  const prefixes = only > 0 ? process.argv[only + 1].split('|') : null;
  for (const [name, fn] of tasks) if (prefixes === null || prefixes.some((p) => name.startsWith(p))) bench.add(name, fn);
  await bench.run();
  // The best batch is the figure least disturbed by other processes on a shared
  // machine; the mean is shown beside it.
  const rows = bench.tasks.map((t) => {
    const r = t.result!;
    return { task: t.name, best: (r.min * 1e6) / OPS, mean: (r.mean * 1e6) / OPS };
  });
  const w = Math.max(...rows.map((r) => r.task.length));
  const lines = [`${'task'.padEnd(w)}   best    mean   (ns per op, batches of ${OPS} ops)`];
  for (const r of rows) lines.push(`${r.task.padEnd(w)}  ${r.best.toFixed(1).padStart(6)}  ${r.mean.toFixed(1).padStart(6)}`);
  writeSync(1, lines.join('\n') + '\n');
}

main();
