#!/usr/bin/env node
// redloop-cli: sends one command over the book's binary protocol and prints
// the reply in the book client's format: (nil), (err) code msg, (str) s,
// (int) n, (dbl) n, (arr) len=n … (arr) end.
//
//   redloop-cli [--host 127.0.0.1] [--port 1234] <command> [args...]
//
// Without a command it is a REPL on our own blocking syscalls (src/cli/repl.ts);
// --pipeline N sends N requests in one write() and prints the replies in order.
//
//   redloop-cli [--host 127.0.0.1] [--port 1234] [--pipeline N]
//   redloop-cli [--host 127.0.0.1] [--port 1234] --pipeline N <command> [args...]
//
// With --echo it talks to `redloop-server --mode echo` instead: each argument
// is sent as one length-prefixed message ([u32 len][bytes]), all in one write
// (pipelined), and each message that comes back is printed on its own line.
//
//   redloop-cli [--host 127.0.0.1] [--port 1234] --echo <message> [message...]

import { connect } from 'node:net';
import { decodeResponse, encodeRequest, formatValue, K_MAX_MSG } from '../protocol/book.js';
import { pipelineOnce, repl } from './repl.js';

const USAGE =
  'Usage: redloop-cli [--host <addr>] [--port <n>] <command> [args...]\n' +
  '       redloop-cli [--host <addr>] [--port <n>] [--pipeline <n>]                  (a REPL: type commands)\n' +
  '       redloop-cli [--host <addr>] [--port <n>] --pipeline <n> <command> [args...] (the command n times in one write)\n' +
  '       redloop-cli [--host <addr>] [--port <n>] --echo <message> [message...]   (for --mode echo)\n';

function main(): void {
  const argv = process.argv.slice(2);
  let host = '127.0.0.1';
  let port = 1234;
  let echo = false;
  let pipeline = 0;
  // Options come first; everything from the command on is passed verbatim
  // (so negative numbers such as zquery offsets are not mistaken for flags).
  while (argv.length && argv[0].startsWith('--')) {
    const flag = argv.shift()!;
    if (flag === '--') break;
    if (flag === '--help') {
      process.stdout.write(USAGE);
      return;
    }
    if (flag === '--echo') {
      echo = true;
      break; // everything after it is a message, even if it starts with --
    }
    const value = argv.shift();
    if (value === undefined) return usage(`${flag} needs a value`);
    if (flag === '--host') host = value;
    else if (flag === '--pipeline') {
      pipeline = Number(value);
      if (!Number.isInteger(pipeline) || pipeline < 1 || pipeline > 100000) return usage(`--pipeline needs a count from 1 to 100000, got '${value}'`);
    } else if (flag === '--port') {
      port = Number(value);
      if (!Number.isInteger(port) || port <= 0 || port > 65535) return usage(`bad port '${value}'`);
    } else return usage(`unknown option ${flag}`);
  }
  if (echo) {
    if (pipeline > 0) return usage('--echo sends each message once; drop --pipeline');
    return echoMessages(host, port, argv);
  }
  if (argv.length === 0) return repl(host, port, Math.max(pipeline, 1));
  if (pipeline > 0) {
    try {
      pipelineOnce(host, port, pipeline, argv);
    } catch (err) {
      process.stderr.write(`redloop-cli: ${(err as Error).message}\n`);
      process.exitCode = 1;
    }
    return;
  }

  const sock = connect({ host, port });
  let buf = Buffer.alloc(0);
  sock.on('connect', () => sock.write(encodeRequest(argv)));
  sock.on('data', (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    let res;
    try {
      res = decodeResponse(buf);
    } catch (err) {
      // An echo server sends the request back: not a reply at all.
      process.stderr.write(`redloop-cli: ${(err as Error).message} (a server in --mode echo answers with the message itself: use redloop-cli --echo)\n`);
      process.exitCode = 1;
      sock.destroy();
      return;
    }
    if (res === null) return;
    process.stdout.write(formatValue(res.value).join('\n') + '\n');
    sock.end();
  });
  sock.on('error', (err) => {
    process.stderr.write(`redloop-cli: ${err.message}\n`);
    process.exitCode = 1;
  });
  sock.on('close', () => {
    if (buf.length === 0 && process.exitCode === undefined) {
      process.stderr.write('redloop-cli: the server closed the connection without replying\n');
      process.exitCode = 1;
    }
  });
}

/** --echo: one write of length-prefixed messages; prints each one echoed back, in order. */
function echoMessages(host: string, port: number, messages: string[]): void {
  if (messages.length === 0) return usage('--echo needs at least one message');
  const frames: Buffer[] = [];
  for (const m of messages) {
    const body = Buffer.from(m, 'utf8');
    if (body.length > K_MAX_MSG) return usage(`message of ${body.length} bytes is over the protocol's ${K_MAX_MSG}`);
    const hdr = Buffer.alloc(4);
    hdr.writeUInt32LE(body.length);
    frames.push(hdr, body);
  }
  const sock = connect({ host, port });
  let buf = Buffer.alloc(0);
  let got = 0;
  sock.on('connect', () => sock.write(Buffer.concat(frames)));
  sock.on('data', (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    // Every complete [u32 len][bytes] frame at the front of the buffer is one echoed message.
    while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32LE(0)) {
      const len = buf.readUInt32LE(0);
      process.stdout.write(buf.toString('utf8', 4, 4 + len) + '\n');
      buf = buf.subarray(4 + len);
      got++;
    }
    if (got === messages.length) sock.end();
  });
  sock.on('error', (err) => {
    process.stderr.write(`redloop-cli: ${err.message}\n`);
    process.exitCode = 1;
  });
  sock.on('close', () => {
    if (got < messages.length && process.exitCode === undefined) {
      process.stderr.write(`redloop-cli: the server closed the connection after ${got} of ${messages.length} messages\n`);
      process.exitCode = 1;
    }
  });
}

function usage(msg: string): void {
  process.stderr.write(`redloop-cli: ${msg}\n${USAGE}`);
  process.exitCode = 2;
}

main();
