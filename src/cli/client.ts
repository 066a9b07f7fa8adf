#!/usr/bin/env node
// redloop-cli: sends one command over the book's binary protocol and prints
// the reply in the book client's format: (nil), (err) code msg, (str) s,
// (int) n, (dbl) n, (arr) len=n … (arr) end.
//
//   redloop-cli [--host 127.0.0.1] [--port 1234] <command> [args...]

import { connect } from 'node:net';
import { decodeResponse, encodeRequest, formatValue } from '../protocol/book.js';

const USAGE = 'Usage: redloop-cli [--host <addr>] [--port <n>] <command> [args...]\n';

function main(): void {
  const argv = process.argv.slice(2);
  let host = '127.0.0.1';
  let port = 1234;
  // Options come first; everything from the command on is passed verbatim
  // (so negative numbers such as zquery offsets are not mistaken for flags).
  while (argv.length && argv[0].startsWith('--')) {
    const flag = argv.shift()!;
    if (flag === '--') break;
    if (flag === '--help') {
      process.stdout.write(USAGE);
      return;
    }
    const value = argv.shift();
    if (value === undefined) return usage(`${flag} needs a value`);
    if (flag === '--host') host = value;
    else if (flag === '--port') {
      port = Number(value);
      if (!Number.isInteger(port) || port <= 0 || port > 65535) return usage(`bad port '${value}'`);
    } else return usage(`unknown option ${flag}`);
  }
  if (argv.length === 0) return usage('no command given');

  const sock = connect({ host, port });
  let buf = Buffer.alloc(0);
  sock.on('connect', () => sock.write(encodeRequest(argv)));
  sock.on('data', (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    const res = decodeResponse(buf);
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

function usage(msg: string): void {
  process.stderr.write(`redloop-cli: ${msg}\n${USAGE}`);
  process.exitCode = 2;
}

main();
