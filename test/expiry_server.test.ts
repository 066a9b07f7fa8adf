// TTLs over real sockets: keys given a short TTL through the book protocol and
// never touched again are removed by the loop's active expiry (DBSIZE, which
// counts keys not yet removed, drops to 0), and KEYS never lists them.

import { expect, test } from 'vitest';
import { connect } from 'node:net';
import { BookClient, startServer } from './helpers/server.js';
import { RawClient } from './compat/harness.js';

/** Sends one RESP command and resolves with the raw reply text. */
function respCall(port: number, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => {
      s.write(`*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join(''));
    });
    let got = '';
    s.on('data', (d) => {
      got += d.toString('latin1');
      if (got.endsWith('\r\n')) {
        resolve(got);
        s.destroy();
      }
    });
    s.on('error', reject);
  });
}

test('3000 keys with a 100 ms TTL, never touched again, are expired actively', async () => {
  const srv = await startServer([]);
  const c = await BookClient.connect(srv.bookPort);
  const reqs: string[][] = [];
  for (let i = 0; i < 3000; i++) reqs.push(['set', `ttl:${i}`, 'v'], ['pexpire', `ttl:${i}`, '100']);
  reqs.push(['set', 'keeper', 'v']);
  c.send(...reqs);
  const replies = await c.waitReplies(reqs.length);
  // Every pexpire found its key: all 3000 keys existed with a TTL.
  for (let i = 0; i < 3000; i++) expect(replies[2 * i + 1]).toEqual({ type: 'int', value: 1n });
  // Nobody reads the keys again: only the loop's timer step can remove them.
  let size = '';
  for (let i = 0; i < 100; i++) {
    size = await respCall(srv.respPort, 'DBSIZE');
    if (size === ':1\r\n') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(size).toBe(':1\r\n');
  const keys = await c.call('keys');
  expect(keys).toEqual({ type: 'arr', items: [{ type: 'str', value: Buffer.from('keeper') }] });
  c.close();
  await srv.stop();
});

/** One RESP connection, pipelined: the raw reply of each command, in order. */
async function respPipeline(port: number, cmds: string[][]): Promise<string[]> {
  const c = await RawClient.connect(port);
  try {
    const out: string[] = [];
    for (const cmd of cmds) out.push((await c.call(cmd)).toString('latin1'));
    return out;
  } finally {
    c.close();
  }
}

for (const loop of ['poll', 'libuv']) {
  test(`active expiry covers every database (${loop} loop)`, async () => {
    const srv = await startServer(['--loop', loop, '--quiet']);
    try {
      const fill: string[][] = [];
      for (const db of ['0', '5', '15']) {
        fill.push(['SELECT', db]);
        for (let i = 0; i < 200; i++) fill.push(['SET', `ttl:${i}`, 'v', 'PX', '100']);
        fill.push(['SET', `keeper${db}`, 'v']);
      }
      await respPipeline(srv.respPort, fill);
      // Nobody reads the keys again: only active expiry can remove them, in each database.
      const sizes = () => respPipeline(srv.respPort, [['SELECT', '0'], ['DBSIZE'], ['SELECT', '5'], ['DBSIZE'], ['SELECT', '15'], ['DBSIZE']]);
      let got: string[] = [];
      for (let i = 0; i < 100; i++) {
        got = await sizes();
        if (got.every((r) => r === '+OK\r\n' || r === ':1\r\n')) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(got).toEqual(['+OK\r\n', ':1\r\n', '+OK\r\n', ':1\r\n', '+OK\r\n', ':1\r\n']);
    } finally {
      await srv.stop();
    }
  });
}
