// Redis 7.0's multi-part append-only file, as bytes: the manifest that lists
// the files of an AOF directory (`file appendonly.aof.1.base.rdb seq 1 type b`),
// the files' names, the RESP encoding of a logged command, and a reader that
// walks a file of logged commands telling a clean end, a truncated tail (a
// command cut short by a crash) and a corrupt byte (with its offset) apart.
// No file I/O here: src/servers/aof.ts owns the files.

/** Redis's sdscatrepr: double-quoted, with \n \r \t \a \b \\ \" escaped and other non-printables as \xHH. */
function quoteRepr(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const esc: Record<number, string> = { 0x5c: '\\\\', 0x22: '\\"', 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t', 0x07: '\\a', 0x08: '\\b' };
    out += esc[c] ?? (c >= 0x20 && c < 0x7f ? s[i] : `\\x${c.toString(16).padStart(2, '0')}`);
  }
  return out + '"';
}

/** A manifest entry's type: base, history (a base or incr superseded by a rewrite, kept until deleted), incremental. */
export type AofFileType = 'b' | 'h' | 'i';

export interface ManifestEntry {
  readonly name: string;
  readonly seq: number;
  readonly type: AofFileType;
}

/** Something wrong with a manifest or an AOF file: `offset` is the byte (or, for the manifest, the line) where it was seen. */
export class AofError extends Error {
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`${file}: ${reason} (at byte offset ${offset})`);
  }
}

/** Redis's names: <appendfilename>.<seq>.base.rdb|aof, <appendfilename>.<seq>.incr.aof, <appendfilename>.manifest. */
export const aofNames = {
  base: (prefix: string, seq: number, rdb: boolean): string => `${prefix}.${seq}.base.${rdb ? 'rdb' : 'aof'}`,
  incr: (prefix: string, seq: number): string => `${prefix}.${seq}.incr.aof`,
  manifest: (prefix: string): string => `${prefix}.manifest`,
  /** The temp file a manifest is written to before its rename (Redis's temp-<name>). */
  tempManifest: (prefix: string): string => `temp-${prefix}.manifest`,
  /** Where writes go while CONFIG SET appendonly yes waits for its first rewrite (Redis's getTempIncrAofName). */
  tempIncr: (prefix: string): string => `temp-${prefix}.incr`,
};

/** A name as the manifest writes it: bare when it has no space, quote or control byte, else quoted as Redis's sdscatrepr. */
function manifestName(name: string): string {
  return /^[\x21-\x7e]+$/.test(name) && !name.includes('"') && !name.includes("'") ? name : quoteRepr(name);
}

/** The manifest's text: one line per file, in Redis 7.0's order (base, history, then incr files by seq). */
export function formatManifest(entries: readonly ManifestEntry[]): string {
  let out = '';
  for (const e of entries) out += `file ${manifestName(e.name)} seq ${e.seq} type ${e.type}\n`;
  return out;
}

/** Splits a manifest line into words, honouring "double-quoted" names with sdscatrepr's escapes. */
function splitWords(line: string): string[] | null {
  const words: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && (line[i] === ' ' || line[i] === '\t')) i++;
    if (i >= line.length) break;
    if (line[i] === '"') {
      let w = '';
      i++;
      for (;;) {
        if (i >= line.length) return null;
        const c = line[i];
        if (c === '"') {
          i++;
          break;
        }
        if (c === '\\' && i + 1 < line.length) {
          const n = line[i + 1];
          if (n === 'x' && /^[0-9a-fA-F]{2}$/.test(line.slice(i + 2, i + 4))) {
            w += String.fromCharCode(parseInt(line.slice(i + 2, i + 4), 16));
            i += 4;
            continue;
          }
          w += ({ n: '\n', r: '\r', t: '\t', a: '\x07', b: '\b' } as Record<string, string>)[n] ?? n;
          i += 2;
          continue;
        }
        w += c;
        i++;
      }
      words.push(w);
    } else {
      let j = i;
      while (j < line.length && line[j] !== ' ' && line[j] !== '\t') j++;
      words.push(line.slice(i, j));
      i = j;
    }
  }
  return words;
}

/**
 * Parses a manifest as Redis 7.0's aofLoadManifestFromFile: `#` lines are
 * comments, each other line is key/value pairs (file, seq, type; unknown keys
 * are ignored), at most one base. Throws AofError naming the line.
 */
export function parseManifest(text: string, file: string): ManifestEntry[] {
  const out: ManifestEntry[] = [];
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  let bases = 0;
  let lastIncr = 0;
  lines.forEach((raw, n) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const bad = (why: string): never => {
      throw new AofError(file, n + 1, `invalid AOF manifest line ${n + 1} (${JSON.stringify(line)}): ${why}`);
    };
    if (line.startsWith('#')) return;
    if (line.trim() === '') bad('empty line');
    const words = splitWords(line);
    if (words === null || words.length % 2 !== 0) bad('unbalanced key/value pairs');
    const kv = new Map<string, string>();
    for (let i = 0; i < words!.length; i += 2) kv.set(words![i], words![i + 1]);
    const name = kv.get('file');
    const seqText = kv.get('seq');
    const type = kv.get('type');
    if (name === undefined || seqText === undefined || type === undefined) bad('file, seq and type are all needed');
    if (name!.includes('/')) bad('a file name cannot be a path');
    if (!/^\d+$/.test(seqText!)) bad('seq must be a number');
    if (type !== 'b' && type !== 'h' && type !== 'i') bad(`unknown type '${type}'`);
    const seq = Number(seqText);
    if (type === 'b' && ++bases > 1) bad('more than one base file');
    if (type === 'i') {
      if (seq <= lastIncr) bad('incr files out of order');
      lastIncr = seq;
    }
    out.push({ name: name!, seq, type: type as AofFileType });
  });
  return out;
}

/** A command as logged: RESP's array of bulk strings (args are binary strings, one char a byte). */
export function encodeCommand(args: readonly string[]): string {
  let s = `*${args.length}\r\n`;
  for (const a of args) s += `$${a.length}\r\n${a}\r\n`;
  return s;
}

/** One command read back, with the byte range it took in the file. */
export interface LoggedCommand {
  args: string[];
  start: number;
  end: number;
}

/** What the reader met after the last whole command. */
export type ReadEnd = { kind: 'eof' } | { kind: 'truncated'; offset: number; reason: string };

const CR = 13;
const LF = 10;

/**
 * Reads logged commands one at a time, as Redis's loader does: `*argc`, then
 * argc × `$len` + bytes, each line ending in CRLF; a `#` line is an annotation
 * (aof-timestamp-enabled) and skipped. A file that ends inside a command is
 * truncated (end() says where the last whole command ended); any other
 * deviation throws AofError with the offset.
 */
export class CommandReader {
  pos = 0;
  private ending: ReadEnd = { kind: 'eof' };

  constructor(
    private readonly data: Buffer,
    private readonly file: string,
    /** Where this part of the file starts (after an RDB preamble), for the offsets reported. */
    private readonly base = 0,
  ) {}

  get end(): ReadEnd {
    return this.ending;
  }

  /** The next command, or null at the end (clean or truncated: see end). */
  next(): LoggedCommand | null {
    const d = this.data;
    for (;;) {
      if (this.pos >= d.length) return null;
      const start = this.pos;
      const line = this.line(start, 'a command header');
      if (line === null) return null;
      const [text, after] = line;
      if (text.startsWith('#')) {
        this.pos = after;
        continue;
      }
      if (!text.startsWith('*')) this.fail(start, `expected '*' (a command), got ${quoteRepr(text.slice(0, 16))}`);
      const argc = /^\*[1-9]\d{0,8}$/.test(text) ? Number(text.slice(1)) : 0;
      if (argc < 1) this.fail(start, `bad argument count ${quoteRepr(text)}`);
      let p = after;
      const args: string[] = new Array(argc);
      for (let i = 0; i < argc; i++) {
        const l = this.line(p, `argument ${i + 1} of ${argc}`, start);
        if (l === null) return null;
        const [lenText, afterLen] = l;
        if (!/^\$\d{1,10}$/.test(lenText)) this.fail(p, `expected '$<length>', got ${quoteRepr(lenText.slice(0, 16))}`);
        const len = Number(lenText.slice(1));
        if (afterLen + len + 2 > d.length) {
          this.truncate(start, `the file ends inside argument ${i + 1} of ${argc}`);
          return null;
        }
        if (d[afterLen + len] !== CR || d[afterLen + len + 1] !== LF) this.fail(afterLen + len, 'an argument is not followed by CRLF');
        args[i] = d.latin1Slice(afterLen, afterLen + len);
        p = afterLen + len + 2;
      }
      this.pos = p;
      return { args, start: this.base + start, end: this.base + p };
    }
  }

  /** The line at p (without CRLF) and where the next begins; null (truncated at `cmdStart`) if the file ends first. */
  private line(p: number, what: string, cmdStart = p): [string, number] | null {
    const d = this.data;
    const nl = d.indexOf(LF, p);
    // A header line longer than any count or length could be: corruption, not a cut.
    const limit = Math.min(d.length, p + 64);
    if (nl < 0 || nl >= limit) {
      if (d.length - p < 64 && nl < 0) {
        this.truncate(cmdStart, `the file ends inside ${what}`);
        return null;
      }
      this.fail(p, `no line end in ${what}`);
    }
    if (nl === p || d[nl - 1] !== CR) this.fail(p, `${what} does not end in CRLF`);
    return [d.latin1Slice(p, nl - 1), nl + 1];
  }

  private truncate(at: number, reason: string): void {
    this.ending = { kind: 'truncated', offset: this.base + at, reason };
    this.pos = this.data.length;
  }

  private fail(at: number, reason: string): never {
    throw new AofError(this.file, this.base + at, `bad AOF format: ${reason}`);
  }
}
