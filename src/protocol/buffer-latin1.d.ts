// Node's Buffer has fast one-byte-per-char codecs that @types/node does not
// declare; the codecs use them to turn bytes into "binary strings" and back.

export {};

declare global {
  interface Buffer {
    /** Bytes [start, end) as a string with one char (0–255) per byte. */
    latin1Slice(start: number, end: number): string;
    /** Writes the string's chars as bytes at offset; returns bytes written. */
    latin1Write(s: string, offset: number, length: number): number;
  }
}
