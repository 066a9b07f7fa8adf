// The session between loop and commands, without sockets: one request in,
// exactly one reply out — even when a command throws.

import { expect, test } from 'vitest';
import { Conn } from '../src/loop/conn.js';
import { bookCodec, decodeResponse, encodeRequest } from '../src/protocol/book.js';
import { ErrCode } from '../src/protocol/reply.js';
import { commandMap } from '../src/commands/dispatch.js';
import type { CommandTable } from '../src/commands/types.js';
import { ProtocolSession, detachedHost } from '../src/servers/session.js';
import { DEFAULT_SETTINGS, NOISY_LINES_PER_SECOND, ServerState } from '../src/servers/state.js';

test('a command that throws costs one error reply; the next request is served', () => {
  const logs: string[] = [];
  const state = new ServerState({ ...DEFAULT_SETTINGS }, (l) => logs.push(l));
  const table: CommandTable = {
    commands: commandMap([
      { name: 'boom', arity: 1, run(_a, w) { w.arr(3); w.str('half'); throw new Error('bug'); } },
      { name: 'ok', arity: 1, run(_a, w) { w.str('fine'); } },
    ]),
    unknownCommand: (_a, w) => w.err(ErrCode.Unknown, 'unknown command'),
    wrongArity: (_s, _a, w) => w.err(ErrCode.Unknown, 'arity'),
    noAuth: (w) => w.err(ErrCode.Unknown, 'noauth'),
  };
  const conn = new Conn(-1);
  const session = new ProtocolSession(bookCodec, table, state, state.newClient(0, () => 'test:0', 'book'), conn, detachedHost);
  conn.incoming.append(Buffer.concat([encodeRequest(['boom']), encodeRequest(['ok'])]));
  expect(session.tryOneRequest(conn)).toBe(true);
  expect(session.tryOneRequest(conn)).toBe(true);
  expect(session.tryOneRequest(conn)).toBe(false);
  const out = conn.outgoing.toBuffer();
  const first = decodeResponse(out)!;
  expect(first.value).toEqual({ type: 'err', code: 1, msg: "ERR internal error running 'boom'" });
  const second = decodeResponse(out, first.size)!;
  expect(second.value).toEqual({ type: 'str', value: Buffer.from('fine') });
  expect(first.size + second.size).toBe(out.length);
  expect(logs.some((l) => l.includes('internal error'))).toBe(true);
});

test('client-provoked log lines are rate-limited, and the suppressed ones counted', () => {
  const logs: string[] = [];
  const state = new ServerState({ ...DEFAULT_SETTINGS }, (l) => logs.push(l));
  for (let i = 0; i < 50; i++) state.logClientError(`bad frame ${i}`);
  // However fast the loop ran, one second holds at most NOISY_LINES_PER_SECOND lines,
  // and 50 calls span at most two windows.
  expect(logs.length).toBeLessThanOrEqual(2 * NOISY_LINES_PER_SECOND + 1);
  expect(logs[0]).toBe('bad frame 0');
});
