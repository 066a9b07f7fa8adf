#!/usr/bin/env node
// redloop-replay trace.jsonl [--port N]: serves the live view's page over a
// recorded structured trace (redloop-server --trace-json FILE), so that a
// lesson recorded once can be studied anywhere, stepping forward and back.
// Given two files (say the same traffic recorded under --loop poll and
// --loop epoll), it shows them side by side. This is a tool, not the server:
// it uses Node's own http module.

import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { basename } from 'node:path';
import { PAGE_HTML, comparePage } from '../inspect/page.js';

const HELP = `usage: redloop-replay <trace.jsonl> [other.jsonl] [--port N] [--host H]

Serves the live view of the loop (as redloop-server --inspect-port does) over a
trace recorded with redloop-server --trace-json <file>: step forward and back
through its iterations in the browser. With two files, side by side (e.g. the
same traffic under --loop poll and --loop epoll: docs/lessons/).

  --port <n>   HTTP port (default 8080; 0 picks a free one)
  --host <h>   address to listen on (default 127.0.0.1)
`;

function fail(msg: string): never {
  process.stderr.write(`redloop-replay: ${msg}\n`);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({ allowPositionals: true, options: { port: { type: 'string' }, host: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
} catch (err) {
  fail((err as Error).message);
}
if (parsed.values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
if (parsed.positionals.length < 1 || parsed.positionals.length > 2) fail('give one trace file, or two to compare (recorded with redloop-server --trace-json <file>)');
const files = parsed.positionals;
const port = parsed.values.port === undefined ? 8080 : Number(parsed.values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be 0..65535, got '${parsed.values.port}'`);

function load(file: string): string[] {
  let lines: string[] = [];
  try {
    lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
  } catch (err) {
    fail(`cannot read ${file}: ${(err as Error).message}`);
  }
  lines.forEach((line, i) => {
    try {
      const rec = JSON.parse(line) as { iteration?: unknown };
      if (typeof rec.iteration !== 'number') throw new Error('no iteration number');
    } catch (err) {
      fail(`${file}:${i + 1}: not a trace record (${(err as Error).message})`);
    }
  });
  return lines;
}
const traces = files.map(load);

/** The page's events: a hello, every recorded iteration, then the end. */
function events(res: import('node:http').ServerResponse, file: string, lines: string[]): void {
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' });
  const first = lines.length > 0 ? (JSON.parse(lines[0]) as { backend?: string }) : {};
  const hello = { mode: 'replay', backend: first.backend ?? null, paused: false, iteration: 0, last: null, title: `${basename(file)} (${first.backend ?? '?'})` };
  res.write(`event: hello\ndata: ${JSON.stringify(hello)}\n\n`);
  for (const line of lines) res.write(`event: iteration\ndata: ${line}\n\n`);
  res.end('event: end\ndata: {}\n\n');
}

const html = (res: import('node:http').ServerResponse, body: string) => {
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(body);
};

const server = createServer((req, res) => {
  const url = (req.url ?? '/').split('?')[0];
  const pane = /^\/([ab])\/(.*)$/.exec(url);
  const which = pane === null ? -1 : pane[1] === 'a' ? 0 : 1;
  if (req.method === 'GET' && url === '/') {
    html(res, files.length === 2 ? comparePage(basename(files[0]), basename(files[1])) : PAGE_HTML);
  } else if (req.method === 'GET' && files.length === 1 && url === '/events') {
    events(res, files[0], traces[0]);
  } else if (req.method === 'GET' && files.length === 2 && pane !== null && pane[2] === '') {
    html(res, PAGE_HTML);
  } else if (req.method === 'GET' && files.length === 2 && pane !== null && pane[2] === 'events') {
    events(res, files[which], traces[which]);
  } else if (req.method === 'POST') {
    res.writeHead(409, { 'Content-Type': 'text/plain' });
    res.end('a replay has no live loop to step: use the history buttons\n');
  } else {
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('not found\n');
  }
});
server.listen(port, parsed.values.host ?? '127.0.0.1', () => {
  const a = server.address();
  const bound = typeof a === 'object' && a !== null ? a.port : port;
  const what = files.map((f, i) => `${traces[i].length} iterations from ${f}`).join(' and ');
  process.stdout.write(`redloop-replay: ${what} on http://${parsed.values.host ?? '127.0.0.1'}:${bound}/\n`);
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => server.close(() => process.exit(0)));
