// RESP2. (STUB: to be written.)

import type { ByteBuffer } from '../loop/buffer.js';
import type { ReplyWriter } from './reply.js';

class StubWriter implements ReplyWriter {
  private out!: ByteBuffer;
  begin(out: ByteBuffer): void {
    this.out = out;
  }
  end(): void {}
  private put(s: string): void {
    this.out.reserve(s.length);
    this.out.buf.latin1Write(s, this.out.end, s.length);
    this.out.end += s.length;
  }
  nil(): void { this.put('$-1\r\n'); }
  err(_code: number, msg: string): void { this.put(`-${msg}\r\n`); }
  str(s: string): void { this.put(`$${s.length}\r\n${s}\r\n`); }
  status(s: string): void { this.put(`+${s}\r\n`); }
  int(n: number | bigint): void { this.put(`:${n}\r\n`); }
  dbl(d: number): void { this.str(String(d)); }
  arr(n: number): void { this.put(`*${n}\r\n`); }
  nilArr(): void { this.put('*-1\r\n'); }
}

export const respCodec = {
  name: 'resp' as const,
  decode(_buf: Buffer, _start: number, _end: number, _args: string[]): number {
    return 0;
  },
  protocolError(_code: number): { reply: string | null; message: string } {
    return { reply: 'ERR Protocol error', message: 'protocol error' };
  },
  writer: new StubWriter(),
};
