// The server's side of persistence: where the RDB file lives (--dir,
// --dbfilename), SAVE (src/persist/file.ts does the writing), the counters
// INFO reports, and loading the file at start-up. A file that cannot be
// loaded stops the start (it is never overwritten: nothing is saved unless
// a client asks).

import { join, resolve } from 'node:path';
import { statSync } from 'node:fs';
import type { PersistenceControl } from '../commands/types.js';
import type { Keyspace } from '../store/keyspace.js';
import { MONOTONIC_UNIX_OFFSET_MS, RdbError, loadRdb, unixNowFine } from '../persist/rdb.js';
import { readRdbFile, saveRdbFile } from '../persist/file.js';
import { REDIS_VERSION } from '../commands/resp/server.js';

/** What persistence needs of the server's settings (ServerSettings has these fields). */
export interface PersistSettings {
  /** --dir: where dump.rdb is read and written. */
  dir: string;
  /** --dbfilename: the RDB file's name in dir (a name, not a path). */
  dbFilename: string;
  /** --rdbcompression. */
  rdbCompression: boolean;
  /** --rdbchecksum: write the CRC-64 trailer, and check it when loading. */
  rdbChecksum: boolean;
}

/** Why a --dir or --dbfilename is unusable, or null (Redis's wording where it has one). */
export function checkPersistSettings(s: PersistSettings): string | null {
  if (s.dbFilename.includes('/')) return `dbfilename can't be a path, just a filename: '${s.dbFilename}'`;
  if (s.dbFilename === '') return 'dbfilename can\'t be empty';
  try {
    if (!statSync(s.dir).isDirectory()) return `Can't chdir to '${s.dir}': Not a directory`;
  } catch (e) {
    return `Can't chdir to '${s.dir}': ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : (e as Error).message}`;
  }
  return null;
}

/** The function libraries, as persistence sees them (the scripting layer provides them). */
export interface FunctionLibraries {
  /** Every library's code, to save. */
  codes(): string[];
  /** Loads libraries read from the file; null, or why not. */
  load(codes: string[]): string | null;
}

export class Persistence implements PersistenceControl {
  /** Functions are part of the dataset: saved with the keys and loaded with them. Set by the server. */
  functions: FunctionLibraries | null = null;
  dirty = 0;
  lastSaveUnixSec = Math.floor(Date.now() / 1000);
  lastSaveOk = true;
  saves = 0;
  lastLoad = { loaded: 0, expired: 0 };

  constructor(
    private readonly settings: PersistSettings,
    private readonly store: Keyspace,
    private readonly log: (line: string) => void,
  ) {}

  get rdbCompression(): boolean {
    return this.settings.rdbCompression;
  }

  /** The RDB file's full path. */
  get path(): string {
    return join(resolve(this.settings.dir), this.settings.dbFilename);
  }

  save(): string | null {
    const started = performance.now();
    this.saves++; // attempts, as Redis's rdb_saves counts them
    try {
      const { keys, bytes } = saveRdbFile(this.store, resolve(this.settings.dir), this.settings.dbFilename, {
        compression: this.settings.rdbCompression,
        checksum: this.settings.rdbChecksum,
        redisVersion: REDIS_VERSION,
        unixNowMs: unixNowFine(),
        unixOffsetMs: MONOTONIC_UNIX_OFFSET_MS,
        usedMem: process.memoryUsage().heapUsed,
        functions: this.functions?.codes() ?? [],
      });
      this.dirty = 0;
      this.lastSaveUnixSec = Math.floor(Date.now() / 1000);
      this.lastSaveOk = true;
      this.log(`DB saved on disk: ${this.path} (${keys} keys, ${bytes} bytes, ${(performance.now() - started).toFixed(1)} ms)`);
      return null;
    } catch (e) {
      const why = (e as Error).message;
      this.log(`failed saving the DB to ${this.path}: ${why}`);
      return why;
    }
  }

  /**
   * Loads the RDB file into the (empty) keyspace if there is one. Throws an
   * Error whose message names the file and, for a corrupt one, the byte offset.
   */
  loadAtStartup(): void {
    const path = this.path;
    let data: Uint8Array | null;
    try {
      data = readRdbFile(path);
    } catch (e) {
      throw new Error(`cannot read ${path}: ${(e as Error).message}`);
    }
    if (data === null) return;
    const started = performance.now();
    try {
      const r = loadRdb(data, this.store, {
        checksum: this.settings.rdbChecksum,
        unixNowMs: unixNowFine(),
        unixOffsetMs: MONOTONIC_UNIX_OFFSET_MS,
      });
      if (r.functions.length > 0) {
        const why = this.functions === null ? 'this server has no scripting' : this.functions.load(r.functions);
        if (why !== null) {
          this.store.flush();
          throw new Error(`cannot load ${path}: its function libraries: ${why}. The file was left as it is.`);
        }
      }
      this.lastLoad = { loaded: r.keys, expired: r.expiredSkipped };
      const extra = [
        r.expiredSkipped > 0 ? `${r.expiredSkipped} expired keys skipped` : '',
        r.emptySkipped > 0 ? `${r.emptySkipped} empty keys skipped` : '',
        r.checksumVerified ? '' : 'checksum not verified',
      ].filter((x) => x !== '');
      this.log(
        `DB loaded from disk: ${path} (RDB v${r.version}${r.aux.has('redis-ver') ? `, redis-ver ${r.aux.get('redis-ver')}` : ''}): ` +
          `${r.keys} keys${r.functions.length > 0 ? `, ${r.functions.length} function librar${r.functions.length > 1 ? 'ies' : 'y'}` : ''} in ${(performance.now() - started).toFixed(1)} ms${extra.length > 0 ? `; ${extra.join(', ')}` : ''}`,
      );
    } catch (e) {
      if (e instanceof RdbError) {
        throw new Error(`cannot load ${path}: bad RDB file at byte offset ${e.offset}: ${e.reason}. The file was left as it is.`);
      }
      throw e;
    }
  }
}
