#!/usr/bin/env node
// redloop-replay trace.jsonl [--port N]: serves the live view's page over a
// recorded structured trace (redloop-server --trace-json FILE), so that a
// lesson recorded once can be studied anywhere, stepping forward and back.
// This is a tool, not the server: it uses Node's own http module.

import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { PAGE_HTML } from '../inspect/page.js';

const HELP = `usage: redloop-replay <trace.jsonl> [--port N] [--host H]

Serves the live view of the loop (as redloop-server --inspect-port does) over a
trace recorded with redloop-server --trace-json <file>: step forward and back
through its iterations in the browser.

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
if (parsed.positionals.length !== 1) fail('give one trace file (recorded with redloop-server --trace-json <file>)');
const file = parsed.positionals[0];
const port = parsed.values.port === undefined ? 8080 : Number(parsed.values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be 0..65535, got '${parsed.values.port}'`);

let lines: string[];
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

const server = createServer((req, res) => {
  const url = (req.url ?? '/').split('?')[0];
  if (req.method === 'GET' && (url === '/' || url === '/index.html')) {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(PAGE_HTML);
  } else if (req.method === 'GET' && url === '/events') {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' });
    const first = lines.length > 0 ? (JSON.parse(lines[0]) as { backend?: string }) : {};
    res.write(`event: hello\ndata: ${JSON.stringify({ mode: 'replay', backend: first.backend ?? null, paused: false, iteration: 0, last: null })}\n\n`);
    for (const line of lines) res.write(`event: iteration\ndata: ${line}\n\n`);
    res.end('event: end\ndata: {}\n\n');
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
  process.stdout.write(`redloop-replay: ${lines.length} iterations from ${file} on http://${parsed.values.host ?? '127.0.0.1'}:${bound}/\n`);
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => server.close(() => process.exit(0)));
