// Test helper: a ReplyWriter that records a command's writer calls and
// rebuilds them as one nested value, so unit tests can compare replies
// without a wire protocol.

import { expect } from 'vitest';
import type { ErrCode, ReplyWriter } from '../../src/protocol/reply.js';

/** nil → null, str → string, int → number|bigint, arr → array; the rest tagged. */
export type Reply =
  | null
  | string
  | number
  | bigint
  | { err: number; msg: string }
  | { status: string }
  | { dbl: number }
  | { nilArr: true }
  | Reply[];

export class Recorder implements ReplyWriter {
  readonly calls: Array<[string, unknown?, unknown?]> = [];
  nil(): void { this.calls.push(['nil']); }
  err(code: ErrCode, msg: string): void { this.calls.push(['err', code, msg]); }
  str(s: string): void { this.calls.push(['str', s]); }
  status(s: string): void { this.calls.push(['status', s]); }
  int(n: number | bigint): void { this.calls.push(['int', n]); }
  dbl(d: number): void { this.calls.push(['dbl', d]); }
  arr(n: number): void { this.calls.push(['arr', n]); }
  nilArr(): void { this.calls.push(['nilArr']); }

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
      }
      throw new Error(`unexpected call ${kind}`);
    };
    const r = read();
    expect(i).toBe(this.calls.length); // exactly one reply
    return r;
  }
}
