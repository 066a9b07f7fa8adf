// RDB files on disk: SAVE's crash-safe write (a temp file in the same
// directory, fsync, rename over the old file, fsync of the directory, so a
// crash at any point leaves either the old file or the new one, whole) and
// the read at start-up. Synchronous: SAVE blocks the server, as Redis's does.

import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Keyspace } from '../store/keyspace.js';
import { writeRdb, type SaveOptions } from './rdb.js';

export interface SaveResult {
  keys: number;
  bytes: number;
}

function writeAll(fd: number, chunk: Uint8Array): void {
  let off = 0;
  while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
}

/** The temp file SAVE writes before renaming it (Redis's name: temp-<pid>.rdb). */
export function tempRdbPath(dir: string): string {
  return join(dir, `temp-${process.pid}.rdb`);
}

/**
 * Writes the keyspace to dir/filename atomically. Throws (a Node fs error or
 * a serializer error) with the old file untouched and no temp file left behind.
 */
export function saveRdbFile(ks: Keyspace | readonly Keyspace[], dir: string, filename: string, opts: SaveOptions): SaveResult {
  const tmp = tempRdbPath(dir);
  let bytes = 0;
  let keys = 0;
  const fd = openSync(tmp, 'w', 0o644);
  try {
    keys = writeRdb(ks, opts, (chunk) => {
      writeAll(fd, chunk);
      bytes += chunk.length;
    });
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    removeQuietly(tmp);
    throw e;
  }
  closeSync(fd);
  try {
    renameSync(tmp, join(dir, filename));
  } catch (e) {
    removeQuietly(tmp);
    throw e;
  }
  // The rename is durable only once the directory entry is.
  const dfd = openSync(dir, 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
  return { keys, bytes };
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

/** The file's bytes, or null if it does not exist. Other errors (EACCES, EISDIR…) are thrown. */
export function readRdbFile(path: string): Uint8Array | null {
  try {
    return readFileSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}
