// The memory benchmark's control client, in a worker thread of its own (so the
// writers' load generation in the main thread does not delay it): one
// connection sending GET of a random existing key, one request at a time, and
// recording each round trip's latency until told to stop.

import { parentPort, workerData } from 'node:worker_threads';
import net from 'node:net';

interface Data {
  port: number;
  keys: number;
  keyOf: string; // a template: KEY with {i} replaced
}

const { port, keys, keyOf } = workerData as Data;

function keyName(i: number): string {
  return keyOf.replace('{i}', String(i).padStart(12, '0'));
}

const sock = net.connect(port, '127.0.0.1');
sock.setNoDelay(true);
const lat: number[] = [];
let stop = false;
let sentAt = 0n;
let want = -1; // bytes of the current reply still expected (-1: header not read yet)
let buf: Buffer = Buffer.alloc(0);

parentPort!.on('message', (m) => {
  if (m === 'stop') stop = true;
});

function send(): void {
  if (stop) {
    sock.destroy();
    parentPort!.postMessage(lat);
    return;
  }
  const k = keyName(Math.floor(Math.random() * keys));
  sentAt = process.hrtime.bigint();
  want = -1;
  sock.write(`*2\r\n$3\r\nGET\r\n$${k.length}\r\n${k}\r\n`);
}

sock.on('connect', send);
sock.on('data', (d: Buffer) => {
  buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
  if (want < 0) {
    const nl = buf.indexOf('\r\n');
    if (nl < 0) return;
    const head = buf.toString('latin1', 0, nl);
    // $len\r\n<bytes>\r\n, or $-1 / an error line.
    want = head[0] === '$' && head !== '$-1' ? nl + 2 + Number(head.slice(1)) + 2 : nl + 2;
  }
  if (buf.length < want) return;
  lat.push(Number(process.hrtime.bigint() - sentAt) / 1000);
  buf = buf.subarray(want);
  send();
});
sock.on('error', (e) => {
  parentPort!.postMessage({ error: e.message, lat });
});
