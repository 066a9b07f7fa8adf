// Test helper: a ReplyWriter that records a command's writer calls and
// rebuilds them as one nested value, so unit tests can compare replies
// without a wire protocol.

import { expect } from 'vitest';
import type { ErrCode, ReplyWriter } from '../../src/protocol/reply.js';

/**
 * nil → null, str → string, int → number|bigint, arr → array; the rest
 * tagged, the RESP3 shapes included (a map's entries flat, pairs as [a, b]).
 */
export type Reply =
  | null
  | string
  | number
  | bigint
  | { err: number; msg: string }
  | { status: string }
  | { dbl: number }
  | { nilArr: true }
  | { map: Reply[] }
  | { set: Reply[] }
  | { bool: boolean }
  | { verbatim: string; format: string }
  | { big: string }
  | { push: Reply[] }
  | { pairs: [Reply, Reply][] }
  | Reply[];

export class Recorder implements ReplyWriter {
  readonly calls: Array<[string, unknown?, unknown?]> = [];
  nil(): void { this.calls.push(['nil']); }
  err(code: ErrCode, msg: string): void { this.calls.push(['err', code, msg]); }
  str(s: string): void { this.calls.push(['str', s]); }
  /** The same reply as str() of those bytes: recorded as one. */
  bytes(b: Uint8Array, n: number): void { this.calls.push(['str', Buffer.from(b.buffer, b.byteOffset, n).toString('latin1')]); }
  status(s: string): void { this.calls.push(['status', s]); }
  int(n: number | bigint): void { this.calls.push(['int', n]); }
  dbl(d: number): void { this.calls.push(['dbl', d]); }
  arr(n: number): void { this.calls.push(['arr', n]); }
  nilArr(): void { this.calls.push(['nilArr']); }
  map(n: number): void { this.calls.push(['map', n]); }
  set(n: number): void { this.calls.push(['set', n]); }
  bool(b: boolean): void { this.calls.push(['bool', b]); }
  verbatim(format: string, text: string): void { this.calls.push(['verbatim', format, text]); }
  bigNumber(digits: string): void { this.calls.push(['big', digits]); }
  dblText(d: number): void { this.calls.push(['dbl', d]); }
  push(n: number): void { this.calls.push(['push', n]); }
  pairs(n: number): void { this.calls.push(['pairs', n]); }
  pair(): void { this.calls.push(['pair']); }

  /** The single reply written, as a nested value; fails the test if there is not exactly one. */
  reply(): Reply {
    let i = 0;
    const read = (): Reply => {
      const [kind, a, b] = this.calls[i++];
      switch (kind) {
        case 'nil': return null;
        case 'nilArr': return { nilArr: true };
        case 'err': return { err: a as number, msg: b as string };
        case 'str': return a as string;
        case 'status': return { status: a as string };
        case 'int': return a as number | bigint;
        case 'dbl': return { dbl: a as number };
        case 'arr': return Array.from({ length: a as number }, read);
        case 'map': return { map: Array.from({ length: 2 * (a as number) }, read) };
        case 'set': return { set: Array.from({ length: a as number }, read) };
        case 'bool': return { bool: a as boolean };
        case 'verbatim': return { verbatim: b as string, format: a as string };
        case 'big': return { big: a as string };
        case 'push': return { push: Array.from({ length: a as number }, read) };
        case 'pairs':
          return {
            pairs: Array.from({ length: a as number }, () => {
              const [mark] = this.calls[i++];
              if (mark !== 'pair') throw new Error(`a pairs() element must start with pair(), not ${mark}`);
              return [read(), read()] as [Reply, Reply];
            }),
          };
      }
      throw new Error(`unexpected call ${kind}`);
    };
    const r = read();
    expect(i).toBe(this.calls.length); // exactly one reply
    return r;
  }
}
