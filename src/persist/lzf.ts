// LZF, the compressor of RDB strings (Redis vendors liblzf 3.6). The format:
// a control byte c < 32 starts a run of c+1 literal bytes; otherwise the top 3
// bits are a length L (7 means "add the next byte") and the low 5 bits with the
// following byte an offset: copy L+2 bytes starting offset+1 bytes back in the
// output (the copy may overlap itself).
//
// The compressor follows liblzf's algorithm as Redis builds it (HLOG 16,
// VERY_FAST): a 64K-slot hash table of the last position each 3-byte prefix
// was seen at, matches of 3..264 bytes up to 8 KiB back, literal runs of up to
// 32 bytes, and the same bound checks on the output, so that a value compresses
// to the bytes redis-server writes for it. (Redis keeps its table on the stack
// uninitialised, so in rare cases a stale slot gives it a match a fresh table
// does not: the output then differs but both decompress to the same bytes.)

const HLOG = 16;
const HSIZE = 1 << HLOG;
const MAX_LIT = 1 << 5;
const MAX_OFF = 1 << 13;
const MAX_REF = (1 << 8) + (1 << 3);

const htab = new Int32Array(HSIZE);
/**
 * The hash table is not cleared per call (256 KiB: clearing it cost more than
 * compressing a short value, ~10 µs per key in a save). Each call stores
 * positions offset by its own stamp, above every position an earlier call
 * stored, so an earlier call's entry reads as a position before the input —
 * rejected exactly as an empty (zero) entry is. Cleared only when the stamps
 * would overflow.
 */
let nextStamp = 0;

/** liblzf's IDX() for VERY_FAST: the slot of a 24-bit (rolling, 32-bit) prefix hash. */
const idx = (h: number): number => ((h >>> (3 * 8 - HLOG)) - Math.imul(h, 5)) & (HSIZE - 1);

/**
 * Compresses input into at most outLimit bytes; null if it does not fit (then
 * the caller stores the bytes as they are, as Redis does).
 */
export function lzfCompress(input: Uint8Array, outLimit: number): Uint8Array | null {
  if (input.length === 0 || outLimit <= 0) return null;
  const out = new Uint8Array(outLimit + 4); // slack: the C code's last checks allow a few bytes' overrun of op before returning
  const n = lzfCompressInto(input, input.length, outLimit, out);
  return n === 0 ? null : out.subarray(0, n);
}

/**
 * lzfCompress without allocating: compresses input[0, inEnd) into out (at
 * least outLimit + 4 bytes long), returning the compressed length, or 0 when
 * it does not fit in outLimit bytes. A save calls this for every string over
 * 20 bytes, with scratch buffers of its own: no garbage per key.
 */
export function lzfCompressInto(input: Uint8Array, inEnd: number, outLimit: number, out: Uint8Array): number {
  if (inEnd === 0 || outLimit <= 0) return 0;
  const outEnd = outLimit;
  if (nextStamp + inEnd + 1 > 0x7fffffff) {
    htab.fill(0);
    nextStamp = 0;
  }
  const g = nextStamp;
  nextStamp = g + inEnd + 1;
  let ip = 0;
  let op = 0;
  let lit = 0;
  op++; // start run
  let hval = (input[0] << 8) | (inEnd > 1 ? input[1] : 0);
  while (ip < inEnd - 2) {
    hval = ((hval << 8) | input[ip + 2]) >>> 0;
    const slot = idx(hval);
    const ref = htab[slot] - g; // ≤ 0 for an empty or earlier call's entry
    htab[slot] = ip + g;
    const off = ip - ref - 1;
    if (
      ref < ip &&
      off < MAX_OFF &&
      ref > 0 &&
      input[ref + 2] === input[ip + 2] &&
      input[ref] === input[ip] &&
      input[ref + 1] === input[ip + 1]
    ) {
      let len = 2;
      let maxlen = inEnd - ip - len;
      if (maxlen > MAX_REF) maxlen = MAX_REF;
      if (op + 3 + 1 >= outEnd && op - (lit === 0 ? 1 : 0) + 3 + 1 >= outEnd) return 0;
      out[op - lit - 1] = lit - 1; // stop run
      if (lit === 0) op--; // undo run if length is zero
      matching: {
        if (maxlen > 16) {
          // liblzf compares the next 16 bytes unrolled, without the maxlen bound (they are in range).
          for (let k = 0; k < 16; k++) {
            len++;
            if (input[ref + len] !== input[ip + len]) break matching;
          }
        }
        do len++;
        while (len < maxlen && input[ref + len] === input[ip + len]);
      }
      len -= 2; // now the number of bytes - 2
      ip++;
      if (len < 7) {
        out[op++] = (off >> 8) + (len << 5);
      } else {
        out[op++] = (off >> 8) + (7 << 5);
        out[op++] = len - 7;
      }
      out[op++] = off & 0xff;
      lit = 0;
      op++; // start run
      ip += len + 1;
      if (ip >= inEnd - 2) break;
      ip -= 2;
      hval = (input[ip] << 8) | input[ip + 1];
      hval = ((hval << 8) | input[ip + 2]) >>> 0;
      htab[idx(hval)] = ip + g;
      ip++;
      hval = ((hval << 8) | input[ip + 2]) >>> 0;
      htab[idx(hval)] = ip + g;
      ip++;
    } else {
      if (op >= outEnd) return 0;
      lit++;
      out[op++] = input[ip++];
      if (lit === MAX_LIT) {
        out[op - lit - 1] = lit - 1; // stop run
        lit = 0;
        op++; // start run
      }
    }
  }
  if (op + 3 > outEnd) return 0; // at most 3 bytes can be missing here
  while (ip < inEnd) {
    lit++;
    out[op++] = input[ip++];
    if (lit === MAX_LIT) {
      out[op - lit - 1] = lit - 1;
      lit = 0;
      op++;
    }
  }
  out[op - lit - 1] = lit - 1; // end run
  if (lit === 0) op--;
  if (op > outEnd) return 0;
  return op;
}

/** Thrown by lzfDecompress on malformed input; `at` is the offset within the compressed bytes. */
export class LzfError extends Error {
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(message);
  }
}

/** Decompresses input, which must expand to exactly outLength bytes. */
export function lzfDecompress(input: Uint8Array, outLength: number): Uint8Array {
  const out = new Uint8Array(outLength);
  const inEnd = input.length;
  let ip = 0;
  let op = 0;
  while (ip < inEnd) {
    const at = ip;
    const ctrl = input[ip++];
    if (ctrl < 32) {
      const n = ctrl + 1;
      if (op + n > outLength) throw new LzfError('LZF literal run goes past the declared length', at);
      if (ip + n > inEnd) throw new LzfError('LZF literal run goes past the compressed data', at);
      out.set(input.subarray(ip, ip + n), op);
      ip += n;
      op += n;
    } else {
      let len = ctrl >> 5;
      let ref = op - ((ctrl & 0x1f) << 8) - 1;
      if (len === 7) {
        if (ip >= inEnd) throw new LzfError('LZF back-reference cut short', at);
        len += input[ip++];
      }
      if (ip >= inEnd) throw new LzfError('LZF back-reference cut short', at);
      ref -= input[ip++];
      len += 2;
      if (op + len > outLength) throw new LzfError('LZF back-reference goes past the declared length', at);
      if (ref < 0) throw new LzfError('LZF back-reference points before the start', at);
      for (let k = 0; k < len; k++) out[op++] = out[ref++];
    }
  }
  if (op !== outLength) throw new LzfError(`LZF data expands to ${op} bytes, ${outLength} declared`, inEnd);
  return out;
}
