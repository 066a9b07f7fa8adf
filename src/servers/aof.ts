// The append-only file, Redis 7.0's multi-part layout: a directory
// (appenddirname) with a manifest, one base file (an RDB, or commands when
// aof-use-rdb-preamble is no) and incremental files of RESP commands.
//
// What is logged: each write command that succeeded, as its effect (dispatch
// calls `propagate` after every command; a command whose text is not its
// effect is rewritten here: EXPIRE → PEXPIREAT, SET EX → SET PXAT, XADD * →
// the ID it made, …; SPOP and served blocking pops say their effect through
// `propagateAs`), keys that expire (DEL), and MULTI/EXEC around a transaction
// or script with more than one write. Each command is logged with its own
// database: a SELECT goes before it when that differs from the last one
// written to the current incr file (as Redis's feedAppendOnlyFile). Commands collect in `buf`; the server
// calls flush() once per loop iteration before any reply is written (the
// loop's beforeReplies): one write() for the iteration, and under
// appendfsync always one fdatasync, so a reply leaves only once what it
// acknowledges is on disk (group commit, as Redis's beforeSleep).
//
// BGREWRITEAOF runs in the background, as Redis 7.0's multi-part rewrite
// without its fork: at the start the logged commands are flushed to the old
// incr file, a new incr file is opened for every later write and added to the
// manifest (so a crash meanwhile loses nothing), and a point-in-time snapshot
// of the keyspace (src/persist/snapshot.ts, BGSAVE's machinery) is serialized
// in slices between loop iterations and written by the background writer
// thread (temp file, fsync, rename, directory fsync). When the writer reports
// the base committed, the manifest is switched atomically to the new base and
// the incr files opened since, and the old base and incr files (history) are
// deleted. Meanwhile a BGSAVE is refused (or scheduled), and a BGREWRITEAOF
// during a BGSAVE is scheduled, as in Redis. CONFIG SET appendonly yes is
// Redis 7.0's startAppendOnly: the AOF waits for a background rewrite
// (`waiting`, Redis's AOF_WAIT_REWRITE) whose writes go to a temp incr file
// outside the manifest; when the base is committed that file is renamed to the
// next incr file, the manifest lists both, and the AOF is on. Only the first
// files at start-up are written in the foreground (rewriteNow).

import { closeSync, fdatasyncSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Bytes, type Keyspace, type KeyChange } from '../store/keyspace.js';
import { MAX_ID, Stream, ZERO_ID, idText, type ConsumerGroup } from '../store/stream.js';
import { AofError, CommandReader, aofNames, encodeCommand, formatManifest, parseManifest, type ManifestEntry } from '../persist/aof.js';
import { MONOTONIC_UNIX_OFFSET_MS, RdbError, dumpPayload, loadRdb, unixNowFine, writeRdb } from '../persist/rdb.js';
import { REDIS_VERSION } from '../commands/resp/server.js';
import type { BackgroundWriter, FileJob } from '../persist/bgwriter.js';
import { Snapshot, type PieceWriter } from '../persist/snapshot.js';
import type { Stored } from '../store/keyspace.js';
import { unixExpireOf } from '../commands/common.js';
import type { AofControl, CommandContext, CommandSpec, TimerService } from '../commands/types.js';
import type { CommandCounters } from '../commands/counters.js';
import type { BackgroundFsync } from './aof_fsync.js';
import { SLICE_BUDGET_MS, SLICE_PERIOD_MS } from './persistence.js';

export type AppendFsync = 'always' | 'everysec' | 'no';

/** The AOF's settings (ServerSettings has these fields; CONFIG SET changes the mutable ones). */
export interface AofSettings {
  dir: string;
  appendOnly: boolean;
  appendFilename: string;
  appendDirname: string;
  appendFsync: AppendFsync;
  aofUseRdbPreamble: boolean;
  aofLoadTruncated: boolean;
  /** aof-timestamp-enabled: a `#TS:<unix seconds>` line before the commands of each new second. */
  aofTimestampEnabled: boolean;
  rdbCompression: boolean;
  rdbChecksum: boolean;
}

/** Why appendfilename or appenddirname is unusable, or null. */
export function checkAofSettings(s: AofSettings): string | null {
  if (s.appendFilename === '' || s.appendFilename.includes('/')) return `appendfilename can't be a path, just a filename: '${s.appendFilename}'`;
  if (s.appendDirname === '' || s.appendDirname.includes('/')) return `appenddirname can't be a path, just a dirname: '${s.appendDirname}'`;
  return null;
}

const SELECT0 = encodeCommand(['SELECT', '0']);
const selectText = (db: number): string => encodeCommand(['SELECT', String(db)]);
const FUNCTION_WRITES = new Set(['load', 'delete', 'flush', 'restore']);
const MULTI = encodeCommand(['MULTI']);
const EXEC = encodeCommand(['EXEC']);

/** What the AOF needs of the server besides its settings. */
export interface AofHost {
  /** The server's databases (database i is databases[i]). */
  readonly databases: readonly Keyspace[];
  readonly counters: CommandCounters;
  timers(): TimerService;
  log(line: string): void;
  /** The code of each FUNCTION library loaded (a base keeps them as FUNCTION LOAD). */
  functionLibraries(): string[];
  /** The AOF cannot be written (why), or can again (null): writes are refused meanwhile (-MISCONF). */
  writeStatus(why: string | null): void;
  /** The background writer thread (the one BGSAVE uses), or null before the loop exists. */
  writer(): BackgroundWriter | null;
  /** A BGSAVE is running (its snapshot holds the keyspace's hooks): a rewrite waits for it. */
  bgsaveInProgress(): boolean;
  /** Dispatch's beforeWrite hook: the running snapshot's preservation of in-place changes, or null. */
  setBeforeWrite(fn: ((store: Keyspace, args: readonly string[]) => void) | null): void;
  /** auto-aof-rewrite-percentage and auto-aof-rewrite-min-size as set now. */
  autoRewrite(): { percentage: number; minSize: number };
}

/** Auto rewrite (auto-aof-rewrite-percentage) is checked each time this many more bytes are written. */
const AUTO_CHECK_BYTES = 64 * 1024;
/** How often a scheduled rewrite checks whether it may start (Redis's serverCron at hz 10). */
const SCHEDULE_MS = 100;

/** A background rewrite in progress. */
interface Rewrite {
  snap: Snapshot;
  job: FileJob;
  startedMs: number;
  baseName: string;
  baseSeq: number;
  /** The incr file the rewrite opened (every write since is in it or a later one); -1 with the AOF off or waiting. */
  incrSeq: number;
  /** Started by CONFIG SET appendonly yes: writes since the start are in the temp incr file (tempIncrName). */
  initial: boolean;
  /** FUNCTION LOAD of each library at the start, after the RDB (preamble bases). */
  tail: string;
  rdb: boolean;
  /** The slice timer is armed (else the walk waits for the writer). */
  armed: boolean;
  committing: boolean;
}

export class Aof implements AofControl {
  /** appendonly as it is running (settings.appendOnly is what was asked): AOF_ON. */
  enabled = false;
  /**
   * CONFIG SET appendonly yes is waiting for its first background rewrite
   * (Redis's AOF_WAIT_REWRITE): writes are logged to the temp incr file while
   * that rewrite runs, dropped while it is only scheduled (its snapshot will
   * hold them).
   */
  waiting = false;
  /** Unix seconds before which a rewrite that keeps failing is not retried (Redis's aofRewriteLimited). */
  private retryNotBefore = 0;
  private retryDelayMin = 0;
  /** The open incr file, or -1. */
  private fd = -1;
  private manifest: ManifestEntry[] = [];
  /** Commands logged but not yet written. */
  private buf = '';
  /** Commands of the running top-level command (a transaction's or script's writes) and their databases, committed when it ends. */
  private pending: { db: number; cmd: string }[] = [];
  /** A command's own account of its effect (propagateAs), replacing its text, and its database. */
  private override: { db: number; argvs: string[][] } | null = null;
  /** The database the current incr file last SELECTed (-1: none yet; a new incr file starts so). */
  private selected = -1;
  /** The second of the last `#TS:` annotation (aof-timestamp-enabled). */
  private lastTimestamp = 0;
  /** Bytes written to the incr file and not yet fsynced. */
  private unsynced = false;
  private lastFsyncMs = 0;
  private fsyncTimer: unknown = null;
  private retryTimer: unknown = null;
  /** everysec: when a write began waiting for the worker's fsync (0: none waits). */
  private postponedSince = 0;
  /** Bytes in the current incr file (where a failed write is cut back to). */
  private incrSize = 0;
  /**
   * everysec's fsync thread (the syscall loops set it; its completions come
   * back through the poll set). Null: fsync on the loop (the libuv twin).
   */
  private bg: BackgroundFsync | null = null;
  /** Makes `bg` when everysec first needs it (a server that never fsyncs in the background starts no thread). */
  private makeBg: (() => BackgroundFsync) | null = null;
  // INFO persistence
  currentSize = 0;
  baseSize = 0;
  lastWriteOk = true;
  lastRewriteOk = true;
  lastRewriteSec = -1;
  rewrites = 0;
  rewriteFailures = 0;
  delayedFsync = 0;
  /** The running background rewrite, or null. */
  private rw: Rewrite | null = null;
  /** BGREWRITEAOF during a BGSAVE (or inside EXEC): starts once nothing else runs (aof_rewrite_scheduled). */
  rewriteScheduled = false;
  private scheduleTimer: unknown = null;
  /** Bytes the last rewrite's snapshot serialized ahead of its walk because a write was about to change them (aof_last_cow_size). */
  lastCowBytes = 0;
  /** The next currentSize at which auto rewrite is checked again (cheap gate on the write path). */
  private autoCheckAt = 0;
  /** The AOF's size after the last rewrite or load (auto-aof-rewrite-percentage grows from it). */
  private rewriteBaseSize = 0;

  constructor(
    private readonly settings: AofSettings,
    private readonly host: AofHost,
  ) {}

  /** everysec fsyncs on a worker made by `make` (when first needed) from now on. */
  useBackgroundFsync(make: () => BackgroundFsync): void {
    this.makeBg = make;
  }

  /** The fsync thread, started now if it was not. */
  private background(): BackgroundFsync | null {
    if (this.bg !== null || this.makeBg === null) return this.bg;
    const bg = (this.bg = this.makeBg());
    bg.onDone = (error) => {
      if (error === null) return;
      // The data may not be on disk: fsync again at the next chance, and say so.
      this.unsynced = true;
      this.lastWriteOk = false;
      this.host.writeStatus(`fsync: ${error}`);
      this.host.log(`Error syncing the AOF file in the background: ${error}`);
    };
    return bg;
  }

  /** Shutdown: the fsync thread (if one was started) ends. */
  closeBackground(): void {
    if (this.bg !== null) this.bg.close();
    this.bg = null;
  }

  get dirPath(): string {
    return join(resolve(this.settings.dir), this.settings.appendDirname);
  }

  // ---- capturing what to log ------------------------------------------------------

  /**
   * Dispatch's hook, after every command run (depth: counters.execDepth, 1 at
   * top level). A write that did not fail is logged as its effect; the
   * writes of a top-level command are committed together when it ends.
   */
  readonly propagate = (spec: CommandSpec, args: string[], ctx: CommandContext, failed: boolean): void => {
    const override = this.override;
    this.override = null;
    // The command's database: the client's when it ran (a SELECT inside a transaction moves it on).
    const store = ctx.store;
    const db = store.id;
    if (override !== null) for (const a of override.argvs) this.pending.push({ db: override.db, cmd: encodeCommand(a) });
    // FUNCTION LOAD/DELETE/FLUSH/RESTORE change the libraries, which Redis 7.0 keeps in the AOF too.
    else if (spec.name === 'function' && !failed && FUNCTION_WRITES.has(args[1].toLowerCase())) this.pending.push({ db, cmd: encodeCommand(args) });
    // A blocking command that blocked did nothing yet: its pop is logged when it is served.
    // SWAPDB, MOVE, COPY … DB and FLUSHALL are deterministic: logged as they came (as Redis propagates them).
    else if (spec.write === true && !failed && !ctx.client.waiting) {
      const effect = ctx.client.protocol === 'book' ? bookEffectOf(spec.name, args, store) : effectOf(spec.name, args, store);
      if (effect === null) this.pending.push({ db, cmd: encodeCommand(args) });
      else for (const a of effect) this.pending.push({ db, cmd: encodeCommand(a) });
    }
    if (this.host.counters.execDepth <= 1) this.commit();
  };

  /** A command's (or a served blocked client's) effect, logged instead of its text. */
  readonly propagateAs = (store: Keyspace, argvs: string[][], keys?: readonly string[], group?: string): void => {
    if (keys !== undefined) {
      argvs = argvs.slice();
      for (const k of keys) argvs.push(...(group === undefined ? keyState(k, store, this.settings.rdbCompression) : groupState(k, group, store)));
    }
    if (this.host.counters.execDepth > 0) {
      this.override = { db: store.id, argvs: (this.override?.argvs ?? []).concat(argvs) };
      return;
    }
    for (const a of argvs) this.pending.push({ db: store.id, cmd: encodeCommand(a) });
    this.commit();
  };

  /** Keyspace listener: an expired or evicted key is logged as DEL in its own database (Redis's propagateDeletion). */
  readonly keyChanged = (key: string | null, why: KeyChange, db?: Keyspace): void => {
    // Expired and evicted keys are logged as a DEL, as Redis propagates them.
    if ((why !== 'expire' && why !== 'evict') || key === null) return;
    this.pending.push({ db: db === undefined ? 0 : db.id, cmd: encodeCommand(['DEL', key]) });
    if (this.host.counters.execDepth === 0) this.commit();
  };

  private commit(): void {
    const p = this.pending;
    if (p.length === 0) return;
    if (this.waiting && this.rw === null) {
      // Waiting for a rewrite that has not started: its snapshot will hold these (as Redis's feedAppendOnlyFile).
      this.pending = [];
      return;
    }
    if (this.settings.aofTimestampEnabled) {
      // Redis's genAofTimestampAnnotationIfNeeded: one annotation per second that has writes.
      const sec = Math.floor(Date.now() / 1000);
      if (sec !== this.lastTimestamp) {
        this.buf += `#TS:${sec}\r\n`;
        this.lastTimestamp = sec;
      }
    }
    if (p.length === 1) this.append(p[0].db, p[0].cmd);
    else {
      // As Redis 7.0's propagatePendingCommands: MULTI in the first command's database, EXEC in the last's.
      this.append(p[0].db, MULTI);
      for (const c of p) this.append(c.db, c.cmd);
      this.append(p[p.length - 1].db, EXEC);
    }
    this.pending = [];
  }

  /** One command for the buffer, after a SELECT if its database is not the one the incr file last selected. */
  private append(db: number, cmd: string): void {
    if (db !== this.selected) {
      this.buf += selectText(db);
      this.selected = db;
    }
    this.buf += cmd;
  }

  // ---- writing ----------------------------------------------------------------------

  /**
   * Once per loop iteration, before replies are written: one write() of what
   * the iteration logged, and under `always` the fdatasync that makes it
   * durable before any reply acknowledges it.
   */
  flush(force = false): void {
    if (!this.logging) return;
    if (this.buf.length !== 0 && !force && this.postponeWrite()) return;
    if (this.buf.length !== 0) {
      const bytes = Buffer.from(this.buf, 'latin1');
      let off = 0;
      // LATENCY: the write's duration, read only while latency-monitor-threshold is on.
      const latency = this.host.counters.latency;
      const started = latency.enabled ? performance.now() : -1;
      try {
        while (off < bytes.length) off += writeSync(this.fd, bytes, off, bytes.length - off);
      } catch (e) {
        this.partialWrite(off);
        this.writeFailed(e as Error);
        return;
      }
      if (started >= 0) {
        // As Redis's flushAppendOnlyFile: the write under its circumstance, and as aof-write.
        const ms = Math.floor(performance.now() - started);
        latency.addSampleIfNeeded(this.bg !== null && this.bg.busy ? 'aof-write-pending-fsync' : 'aof-write-alone', ms);
        latency.addSampleIfNeeded('aof-write', ms);
      }
      this.buf = '';
      this.incrSize += bytes.length;
      this.currentSize += bytes.length;
      this.unsynced = true;
      if (this.currentSize >= this.autoCheckAt) this.autoCheck();
      if (!this.lastWriteOk) {
        this.host.log('AOF write error looks solved: writes are accepted again.');
        this.lastWriteOk = true;
        this.host.writeStatus(null);
      }
    }
    if (!this.unsynced) return;
    const mode = this.settings.appendFsync;
    if (mode === 'always') {
      const latency = this.host.counters.latency;
      const started = latency.enabled ? performance.now() : -1;
      this.fsyncNow();
      if (started >= 0) latency.addSampleIfNeeded('aof-fsync-always', Math.floor(performance.now() - started));
    }
    else if (mode === 'everysec') {
      if (this.host.timers().now() - this.lastFsyncMs >= 1000) this.fsyncEverysec();
      else this.armFsyncTimer();
    }
  }

  /**
   * everysec, while the worker's fsync runs: a write() to the file could wait
   * for it (the filesystem serializes them), stalling the loop, so the write
   * waits instead — up to 2 s, then it goes ahead anyway and is counted in
   * aof_delayed_fsync (Redis's flushAppendOnlyFile does the same).
   */
  private postponeWrite(): boolean {
    if (this.settings.appendFsync !== 'everysec' || this.bg === null || !this.bg.busy) {
      this.postponedSince = 0;
      return false;
    }
    const now = this.host.timers().now();
    if (this.postponedSince === 0) this.postponedSince = now;
    if (now - this.postponedSince < 2000) {
      this.armRetry(50); // the worker's completion wakes the loop too; this covers a stuck one
      return true;
    }
    this.delayedFsync++;
    this.postponedSince = 0;
    this.host.log('Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF buffer without waiting for fsync to complete, this may slow down Redis.');
    return false;
  }

  /** everysec's fsync, on the worker if there is one (a running one makes this one wait for the next chance). */
  private fsyncEverysec(): void {
    const bg = this.background();
    if (bg === null) return this.fsyncNow();
    if (!bg.start(this.fd)) {
      this.armFsyncTimer();
      return;
    }
    this.unsynced = false;
    this.lastFsyncMs = this.host.timers().now();
  }

  /** The fd is about to be closed or replaced: no fsync of it may still be running. */
  private settleBackground(): void {
    if (this.bg !== null) this.bg.wait();
  }

  /**
   * A write() failed after `written` bytes: cut them off again so the retry
   * does not log them twice (Redis's ftruncate); if even that fails, keep them
   * and retry only the rest.
   */
  private partialWrite(written: number): void {
    if (written === 0) return;
    try {
      ftruncateSync(this.fd, this.incrSize);
    } catch {
      this.buf = this.buf.slice(written);
      this.incrSize += written;
      this.currentSize += written;
    }
  }

  /**
   * The AOF could not be written or fsynced. Under `always` the server stops
   * (it may neither acknowledge nor hold the replies forever: Redis exits
   * too); otherwise writes are refused with -MISCONF (as Redis does) and the
   * write is retried every 100 ms until it works.
   */
  private writeFailed(e: Error): void {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOSPC' ? 'No space left on device' : e.message;
    if (this.lastWriteOk) this.host.log(`Error writing to the AOF file: ${why}`);
    this.lastWriteOk = false;
    this.host.writeStatus(why);
    if (this.settings.appendFsync === 'always') {
      this.host.log("Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...");
      process.exit(1);
    }
    this.armRetry(100);
  }

  /** Tries flush() again in `ms` (a failed write, a postponed one). */
  private armRetry(ms: number): void {
    if (this.retryTimer !== null) return;
    const timers = this.host.timers();
    this.retryTimer = timers.add(
      timers.now() + ms,
      () => {
        this.retryTimer = null;
        if (!this.logging) return;
        this.flush();
        if (this.unsynced && !this.lastWriteOk) this.fsyncNow();
      },
      'AOF write retry',
    );
  }

  private fsyncNow(): void {
    try {
      fdatasyncSync(this.fd);
      this.unsynced = false;
      this.lastFsyncMs = this.host.timers().now();
      if (!this.lastWriteOk && this.buf.length === 0) {
        this.lastWriteOk = true;
        this.host.writeStatus(null);
      }
    } catch (e) {
      this.writeFailed(e as Error);
    }
  }

  /** everysec: data written and not yet synced gets its fsync within a second even if the server goes idle. */
  private armFsyncTimer(): void {
    if (this.fsyncTimer !== null) return;
    const timers = this.host.timers();
    this.fsyncTimer = timers.add(
      this.lastFsyncMs + 1000,
      () => {
        this.fsyncTimer = null;
        if (this.logging && this.unsynced && this.settings.appendFsync === 'everysec') this.fsyncEverysec();
      },
      'AOF everysec fsync',
    );
  }

  /** Commands are being written to an incr file: the AOF is on, or waits for a rewrite that runs. */
  private get logging(): boolean {
    return this.fd >= 0 && (this.enabled || this.waiting);
  }

  // ---- files ------------------------------------------------------------------------

  private path(name: string): string {
    return join(this.dirPath, name);
  }

  private writeManifest(entries: ManifestEntry[]): void {
    const prefix = this.settings.appendFilename;
    const tmp = this.path(aofNames.tempManifest(prefix));
    const fd = openSync(tmp, 'w', 0o644);
    try {
      writeSync(fd, formatManifest(entries));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path(aofNames.manifest(prefix)));
    fsyncDir(this.dirPath);
    this.manifest = entries;
  }

  /** The manifest on disk, or null if there is none. Throws AofError if it is malformed. */
  private readManifest(): ManifestEntry[] | null {
    const p = this.path(aofNames.manifest(this.settings.appendFilename));
    let text: string;
    try {
      text = readFileSync(p, 'latin1');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    return parseManifest(text, p);
  }

  /**
   * The base file's bytes from the keyspace now, synchronously (rewriteNow:
   * the first files at start-up): an RDB with
   * aof-base 1, or (aof-use-rdb-preamble no) commands. BGREWRITEAOF makes the
   * same bytes from a background snapshot instead (startRewrite).
   */
  private writeBase(sink: (chunk: Uint8Array) => void): void {
    const { databases } = this.host;
    if (this.settings.aofUseRdbPreamble) {
      writeRdb(
        databases,
        {
          compression: this.settings.rdbCompression,
          checksum: this.settings.rdbChecksum,
          redisVersion: REDIS_VERSION,
          unixNowMs: unixNowFine(),
          unixOffsetMs: MONOTONIC_UNIX_OFFSET_MS,
          usedMem: process.memoryUsage().heapUsed,
          aofBase: true,
        },
        sink,
      );
      // The function libraries follow the RDB as commands (Redis loads a base's command tail).
      const tail = this.functionsText();
      if (tail !== '') sink(Buffer.from(SELECT0 + tail, 'latin1'));
      return;
    }
    // Redis's rewriteAppendOnlyFileRio: each non-empty database after its SELECT.
    let text = SELECT0 + this.functionsText();
    for (const store of databases) {
      if (store.size === 0) continue;
      if (store.id !== 0) text += selectText(store.id);
      for (const key of store.keys()) {
        for (const a of keyState(key, store, this.settings.rdbCompression)) text += encodeCommand(a);
        if (text.length >= 1 << 20) {
          sink(Buffer.from(text, 'latin1'));
          text = '';
        }
      }
    }
    sink(Buffer.from(text, 'latin1'));
  }

  /** FUNCTION LOAD of every library (Redis's rewriteFunctions). */
  private functionsText(): string {
    let text = '';
    for (const code of this.host.functionLibraries()) text += encodeCommand(['FUNCTION', 'LOAD', code]);
    return text;
  }

  // ---- background rewrite (BGREWRITEAOF) -----------------------------------------------

  get rewriteInProgress(): boolean {
    return this.rw !== null;
  }

  /**
   * BGREWRITEAOF, as Redis 7.0's bgrewriteaofCommand: an error while one runs;
   * scheduled while a BGSAVE runs or inside EXEC; else started in the background.
   */
  bgrewrite(inExec: boolean): 'started' | 'scheduled' | { error: string } {
    if (this.rw !== null) return { error: 'Background append only file rewriting already in progress' };
    if (inExec || this.host.bgsaveInProgress()) {
      this.schedule();
      return 'scheduled';
    }
    const why = this.startRewrite();
    return why === null ? 'started' : { error: "Can't execute an AOF background rewriting. Please check the server logs for more information." };
  }

  private schedule(): void {
    this.rewriteScheduled = true;
    this.armSchedule();
  }

  private armSchedule(): void {
    if (this.scheduleTimer !== null) return;
    const timers = this.host.timers();
    this.scheduleTimer = timers.add(timers.now() + SCHEDULE_MS, () => this.scheduledCheck(), 'AOF rewrite scheduled');
  }

  private cancelSchedule(): void {
    this.rewriteScheduled = false;
    if (this.scheduleTimer !== null) this.host.timers().cancel(this.scheduleTimer);
    this.scheduleTimer = null;
  }

  /** A scheduled rewrite starts once no BGSAVE runs (Redis's serverCron). */
  private scheduledCheck(): void {
    this.scheduleTimer = null;
    if (!this.rewriteScheduled) return;
    if (this.rw !== null || this.host.bgsaveInProgress() || this.rewriteLimited()) {
      this.armSchedule();
      return;
    }
    this.rewriteScheduled = false;
    if (this.startRewrite() !== null && this.waiting) this.schedule(); // AOF_WAIT_REWRITE keeps trying
  }

  /**
   * Redis's aofRewriteLimited: after 3 consecutive failures a scheduled
   * rewrite waits 1 minute, then 2, 4, … up to an hour, before it is retried.
   */
  private rewriteLimited(): boolean {
    if (this.rewriteFailures < 3 || this.lastRewriteOk) {
      this.retryNotBefore = 0;
      this.retryDelayMin = 0;
      return false;
    }
    const now = Math.floor(Date.now() / 1000);
    if (this.retryNotBefore !== 0) {
      if (now < this.retryNotBefore) return true;
      this.retryNotBefore = 0;
      return false;
    }
    this.retryDelayMin = this.retryDelayMin === 0 ? 1 : Math.min(60, this.retryDelayMin * 2);
    this.retryNotBefore = now + this.retryDelayMin * 60;
    this.host.log(`Background AOF rewrite has repeatedly failed and triggered the limit, will retry in ${this.retryDelayMin} minutes`);
    return true;
  }

  /**
   * auto-aof-rewrite-percentage / -min-size (Redis's serverCron): after a
   * flush, a rewrite starts when the AOF is at least min-size and has grown by
   * the percentage since the last rewrite (or load).
   */
  private autoCheck(): void {
    this.autoCheckAt = this.currentSize + AUTO_CHECK_BYTES;
    // After this flush, not inside it (a rewrite's start flushes and switches files).
    const timers = this.host.timers();
    timers.add(timers.now(), () => this.checkAutoRewrite(), 'AOF auto rewrite check');
  }

  private checkAutoRewrite(): void {
    if (this.rw !== null || this.rewriteScheduled || !this.enabled) return;
    const { percentage, minSize } = this.host.autoRewrite();
    if (percentage === 0 || this.currentSize <= minSize) return;
    const base = this.rewriteBaseSize === 0 ? 1 : this.rewriteBaseSize;
    const growth = Math.floor((this.currentSize * 100) / base) - 100;
    if (growth < percentage) return;
    this.host.log(`Starting automatic rewriting of AOF on ${growth}% growth`);
    if (this.host.bgsaveInProgress()) this.schedule();
    else this.startRewrite();
  }

  /**
   * Before a rewrite: what is logged so far goes to the current incr file
   * (durably under always); the manifest as it stands, and the sequence
   * numbers the new base and incr files take.
   */
  private closeOutForRewrite(): { old: ManifestEntry[]; baseSeq: number; incrSeq: number } {
    if (this.enabled) {
      this.settleBackground();
      this.flush(true);
      if (this.unsynced) this.fsyncNow();
    }
    const old = this.manifest.length > 0 ? this.manifest : (this.readManifest() ?? []);
    const baseSeq = Math.max(0, ...old.filter((e) => e.type !== 'i').map((e) => e.seq)) + 1;
    const incrSeq = Math.max(0, ...old.filter((e) => e.type === 'i').map((e) => e.seq)) + 1;
    return { old, baseSeq, incrSeq };
  }

  /** Commands go to fd from now on (-1: none): the old incr file is closed, the next write starts with a SELECT. */
  private switchIncrFile(fd: number): void {
    this.settleBackground();
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = fd;
    this.selected = -1;
    this.lastTimestamp = 0;
    this.unsynced = false;
    this.incrSize = 0;
  }

  /**
   * Starts a background rewrite: flushes what is logged to the current incr
   * file, opens the next incr file and adds it to the manifest (with the AOF
   * on), and starts the snapshot that becomes the new base. Null, or why not
   * (logged; the files are as they were).
   */
  private startRewrite(): string | null {
    const writer = this.host.writer();
    if (writer === null) return 'background rewrites need the server loop';
    const prefix = this.settings.appendFilename;
    const dir = this.dirPath;
    let incrFd = -1;
    let incrName = '';
    try {
      mkdirSync(dir, { recursive: true });
      const { old, baseSeq, incrSeq } = this.closeOutForRewrite();
      const rdb = this.settings.aofUseRdbPreamble;
      if (this.waiting) {
        // AOF_WAIT_REWRITE: later writes go to a temp incr file the manifest does not list yet
        // (renamed to the next incr file when the base is committed).
        this.manifest = old;
        incrName = aofNames.tempIncr(prefix);
        incrFd = openSync(this.path(incrName), 'w', 0o644);
        this.switchIncrFile(incrFd);
        incrFd = -1;
        this.buf = '';
        this.currentSize = 0;
      } else if (this.enabled) {
        // Redis's openNewIncrAofForAppend: later writes go to a new incr file the manifest already lists.
        incrName = aofNames.incr(prefix, incrSeq);
        incrFd = openSync(this.path(incrName), 'a', 0o644);
        fsyncDir(dir);
        this.writeManifest([...old, { name: incrName, seq: incrSeq, type: 'i' }]);
        this.switchIncrFile(incrFd);
        incrFd = -1;
      }
      this.rewrites++; // as Redis's stat_aof_rewrites: counted once the directory and incr file are in place
      const tail = this.functionsText();
      const opts = {
        compression: this.settings.rdbCompression,
        checksum: this.settings.rdbChecksum,
        redisVersion: REDIS_VERSION,
        unixNowMs: unixNowFine(),
        unixOffsetMs: MONOTONIC_UNIX_OFFSET_MS,
        usedMem: process.memoryUsage().heapUsed,
        aofBase: true,
      };
      const tmp = join(dir, `temp-rewriteaof-bg-${process.pid}.aof`);
      let rw: Rewrite | null = null;
      const job = writer.open(tmp, { crcTrailer: rdb && this.settings.rdbChecksum }, {
        written: () => {
          if (rw !== null && !rw.armed && !rw.committing) this.armSlice(rw);
        },
        committed: () => {
          if (rw !== null) this.finishRewrite(rw, null);
        },
        failed: (why) => {
          if (rw !== null) this.finishRewrite(rw, why);
        },
      });
      let snap: Snapshot;
      try {
        snap = new Snapshot(this.host.databases, opts, { chunk: (b) => job.write(b), backlog: () => job.inFlight }, undefined, rdb ? undefined : new CommandPieceWriter(tail, this.settings.rdbCompression));
      } catch (e) {
        job.abort();
        throw e;
      }
      rw = { snap, job, startedMs: Date.now(), baseName: aofNames.base(prefix, baseSeq, rdb), baseSeq, incrSeq: this.enabled ? incrSeq : -1, initial: this.waiting, tail: rdb ? tail : '', rdb, armed: false, committing: false };
      this.rw = rw;
      this.rewriteScheduled = false; // a scheduled one is this one now (Redis clears aof_rewrite_scheduled on a start)
      this.host.setBeforeWrite((store, args) => snap.preserveArgs(store, args));
      this.host.log(`Background append only file rewriting started (fork-less snapshot, written by the writer thread to ${tmp}${incrName === '' ? '' : `; new writes go to ${incrName}`})`);
      this.armSlice(rw);
      return null;
    } catch (e) {
      if (incrFd >= 0) {
        closeSync(incrFd);
        removeQuietly(this.path(incrName));
      }
      if (this.waiting) this.dropTempIncr();
      this.lastRewriteOk = false;
      this.rewriteFailures++;
      const why = (e as Error).message;
      this.host.log(`Can't rewrite append only file in background: ${why}`);
      return why;
    }
  }

  /** AOF_WAIT_REWRITE's rewrite failed or was abandoned: its temp incr file and the unwritten buffer go (Redis's aofDelTempIncrAofFile). */
  private dropTempIncr(): void {
    this.settleBackground();
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    this.buf = '';
    this.pending = [];
    this.unsynced = false;
    removeQuietly(this.path(aofNames.tempIncr(this.settings.appendFilename)));
  }

  /** The next slice, at once or at `at` (monotonic ms): as BGSAVE's, at most one per SLICE_PERIOD_MS. */
  private armSlice(rw: Rewrite, at?: number): void {
    const timers = this.host.timers();
    rw.armed = true;
    timers.add(at ?? timers.now(), () => this.slice(rw), 'AOF rewrite slice');
  }

  /** One slice of the snapshot's walk; then the next, a wait for the writer, or the commit. */
  private slice(rw: Rewrite): void {
    rw.armed = false;
    if (this.rw !== rw) return;
    const startedAt = this.host.timers().now();
    switch (rw.snap.step(SLICE_BUDGET_MS)) {
      case 'more':
        this.armSlice(rw, startedAt + SLICE_PERIOD_MS);
        break;
      case 'waiting':
        break; // the writer's next "written" arms the slice again
      case 'done': {
        rw.committing = true;
        this.host.setBeforeWrite(null);
        if (rw.rdb) {
          // The RDB's CRC trailer (8 zero bytes without rdbchecksum), then the libraries as commands.
          if (this.settings.rdbChecksum) rw.job.trailer();
          else rw.job.write(new Uint8Array(8));
          if (rw.tail !== '') rw.job.write(Buffer.from(SELECT0 + rw.tail, 'latin1'));
        }
        rw.job.commit(join(this.dirPath, rw.baseName), this.dirPath);
        break;
      }
      case 'failed':
        rw.job.abort();
        this.finishRewrite(rw, rw.snap.error ?? 'snapshot failed');
        break;
    }
  }

  /**
   * The writer committed the new base (renamed into place, directory fsynced)
   * or failed. On success the manifest switches to the new base and the incr
   * files opened since the start, with the superseded files marked history;
   * they are deleted and the manifest written once more without them (Redis's
   * backgroundRewriteDoneHandler and aofDelHistoryFiles).
   */
  private finishRewrite(rw: Rewrite, error: string | null): void {
    if (this.rw !== rw) return;
    this.rw = null;
    rw.snap.detach();
    this.host.setBeforeWrite(null);
    const secs = Math.floor((Date.now() - rw.startedMs) / 1000);
    const st = rw.snap.stats;
    this.lastCowBytes = st.preservedBytes;
    if (error === null) {
      const dir = this.dirPath;
      const base: ManifestEntry = { name: rw.baseName, seq: rw.baseSeq, type: 'b' };
      const keep = rw.incrSeq < 0 ? [] : this.manifest.filter((e) => e.type === 'i' && e.seq >= rw.incrSeq);
      const history = this.manifest.filter((e) => e.type === 'h' || e.type === 'b' || (e.type === 'i' && !keep.includes(e))).filter((e) => e.name !== rw.baseName);
      let renamed = '';
      if (rw.initial) {
        // AOF_WAIT_REWRITE: the temp incr file (every write since the start) becomes the next incr file.
        const seq = Math.max(0, ...this.manifest.filter((e) => e.type === 'i').map((e) => e.seq)) + 1;
        const name = aofNames.incr(this.settings.appendFilename, seq);
        try {
          renameSync(this.path(aofNames.tempIncr(this.settings.appendFilename)), join(dir, name));
          keep.push({ name, seq, type: 'i' });
          renamed = name;
        } catch (e) {
          removeQuietly(join(dir, rw.baseName));
          error = `cannot rename the temp incr file: ${(e as Error).message}`;
        }
      }
      if (error === null) {
        try {
          this.writeManifest([base, ...history.map((e): ManifestEntry => ({ name: e.name, seq: e.seq, type: 'h' })), ...keep]);
        } catch (e) {
          removeQuietly(join(dir, rw.baseName));
          if (renamed !== '') removeQuietly(join(dir, renamed));
          error = `cannot switch the manifest to the new base: ${(e as Error).message}`;
        }
      }
      if (error === null) {
        for (const e of history) removeQuietly(join(dir, e.name));
        try {
          this.writeManifest([base, ...keep]);
        } catch (e) {
          // The history entries stay listed; the next start-up or rewrite deletes them.
          this.host.log(`AOF history files deleted, but the manifest still lists them: ${(e as Error).message}`);
        }
        // The file's size: the job's bytes plus the CRC trailer the thread wrote (Redis stats the base too).
        const size = sizeOf(join(dir, rw.baseName)) || rw.job.written;
        this.baseSize = size;
        if (rw.initial) {
          // Redis's "Change state from WAIT_REWRITE to ON".
          this.waiting = false;
          this.enabled = true;
          this.selected = -1;
          this.lastFsyncMs = this.host.timers().now();
        }
        this.currentSize = size + (this.enabled ? keep.reduce((n, e, i) => n + (i === keep.length - 1 ? this.incrSize : sizeOf(join(dir, e.name))), 0) : 0);
        this.rewriteBaseSize = this.currentSize;
        this.autoCheckAt = this.currentSize + AUTO_CHECK_BYTES;
        this.lastRewriteOk = true;
        this.rewriteFailures = 0;
        this.lastRewriteSec = secs;
        this.host.log(
          `Background AOF rewrite terminated with success: base ${rw.baseName} (${st.keys} keys, ${size} bytes, ${Date.now() - rw.startedMs} ms; ` +
            `${st.preservedKeys} keys / ${st.preservedBytes} bytes preserved before a write; longest slice ${st.longestStepMs.toFixed(1)} ms)`,
        );
        this.host.log('Background AOF rewrite finished successfully');
        return;
      }
    }
    this.lastRewriteOk = false;
    this.rewriteFailures++;
    this.lastRewriteSec = secs;
    this.host.log(`Background AOF rewrite terminated with error: ${error}`);
    if (rw.initial && this.waiting) {
      // Still waiting to turn the AOF on: drop what the temp incr file holds and try again (as Redis).
      this.dropTempIncr();
      this.schedule();
    }
  }

  /** Abandons a running rewrite (its temp file is removed); the manifest keeps the incr file it opened. */
  private killRewrite(why: string): void {
    const rw = this.rw;
    if (rw === null) return;
    this.host.log(why);
    this.rw = null;
    rw.snap.detach();
    this.host.setBeforeWrite(null);
    rw.job.abort();
  }

  /**
   * In the foreground (the first files at start-up, when the keyspace is
   * empty): writes a new base and a new (empty) incr file, points the
   * manifest at them, and removes the files it no longer lists. On failure
   * the old files and manifest stay as they were; returns why, or null.
   */
  rewriteNow(opening = false, counted = true): string | null {
    const started = performance.now();
    if (counted) this.rewrites++; // the files made at start-up are no rewrite to INFO (as in Redis)
    const prefix = this.settings.appendFilename;
    const dir = this.dirPath;
    let tmpBase = '';
    let newIncr = '';
    let incrFd = -1;
    try {
      mkdirSync(dir, { recursive: true });
      const { old, baseSeq, incrSeq } = this.closeOutForRewrite();
      const rdb = this.settings.aofUseRdbPreamble;
      const baseName = aofNames.base(prefix, baseSeq, rdb);
      tmpBase = join(dir, `temp-rewriteaof-${process.pid}.aof`);
      const fd = openSync(tmpBase, 'w', 0o644);
      let size = 0;
      try {
        this.writeBase((chunk) => {
          let off = 0;
          while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
          size += chunk.length;
        });
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmpBase, join(dir, baseName));
      tmpBase = '';
      newIncr = aofNames.incr(prefix, incrSeq);
      incrFd = openSync(join(dir, newIncr), 'a', 0o644);
      fsyncDir(dir);
      this.writeManifest([
        { name: baseName, seq: baseSeq, type: 'b' },
        { name: newIncr, seq: incrSeq, type: 'i' },
      ]);
      // Switch: from here on commands go to the new incr file. With the AOF off the files are
      // written (as Redis's BGREWRITEAOF does) but nothing is kept open.
      const keep = this.enabled || opening;
      this.switchIncrFile(keep ? incrFd : -1);
      if (!keep) closeSync(incrFd);
      incrFd = -1;
      // Writes of a running transaction before this BGREWRITEAOF are in the new base already.
      this.pending = [];
      this.baseSize = size;
      this.currentSize = size;
      this.rewriteBaseSize = size;
      this.autoCheckAt = size + AUTO_CHECK_BYTES;
      for (const e of old) if (e.name !== baseName && e.name !== newIncr) removeQuietly(join(dir, e.name));
      this.lastRewriteOk = true;
      this.lastRewriteSec = Math.round((performance.now() - started) / 1000);
      this.host.log(`AOF rewritten: base ${baseName} (${size} bytes), incr ${newIncr}, in ${(performance.now() - started).toFixed(1)} ms`);
      return null;
    } catch (e) {
      if (tmpBase !== '') removeQuietly(tmpBase);
      if (incrFd >= 0) {
        closeSync(incrFd);
        removeQuietly(join(dir, newIncr));
      }
      this.lastRewriteOk = false;
      this.rewriteFailures++;
      const why = e instanceof AofError ? e.message : (e as Error).message;
      this.host.log(`AOF rewrite failed: ${why}`);
      return why;
    }
  }

  /**
   * CONFIG SET appendonly yes, as Redis 7.0's startAppendOnly: the AOF waits
   * for a background rewrite (started now, or scheduled while a BGSAVE runs
   * or inside EXEC) and is on once that rewrite's base is committed. Null, or
   * why the rewrite cannot start (the AOF stays off).
   */
  start(inExec = false): string | null {
    if (this.enabled || this.waiting) return null;
    this.waiting = true;
    if (this.host.bgsaveInProgress()) {
      this.host.log('AOF was enabled but there is already another background operation. An AOF background was scheduled to start when possible.');
      this.schedule();
    } else if (inExec) {
      this.host.log('AOF was enabled during a transaction. An AOF background was scheduled to start when possible.');
      this.schedule();
    } else {
      // A running rewrite does not log the writes since its start: a new one replaces it.
      this.killRewrite('AOF was enabled but there is already an AOF rewriting in background. Stopping background AOF and starting a rewrite now.');
      const why = this.startRewrite();
      if (why !== null) {
        this.waiting = false;
        this.host.log("Redis needs to enable the AOF but can't trigger a background AOF rewrite operation. Check the above logs for more info about the error.");
        return why;
      }
    }
    this.lastFsyncMs = this.host.timers().now();
    return null;
  }

  /** Start-up with appendonly yes and no AOF yet: the first base and incr files, written now. */
  private startNow(): string | null {
    const why = this.rewriteNow(true, false);
    if (why !== null) return why;
    this.enabled = true;
    this.lastFsyncMs = this.host.timers().now();
    return null;
  }

  /** CONFIG SET appendonly no, and shutdown: write and fsync what is logged, close the file. */
  stop(): void {
    this.killRewrite('Killing running AOF rewrite');
    this.cancelSchedule();
    if (this.waiting) {
      // The AOF never turned on: its temp incr file goes, the manifest stays as it was.
      this.waiting = false;
      this.dropTempIncr();
      return;
    }
    if (!this.enabled) return;
    this.settleBackground();
    this.flush(true);
    if (this.unsynced) this.fsyncNow();
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    this.enabled = false;
    if (!this.lastWriteOk) {
      // Nothing is logged any more: writes are no longer refused for the AOF's sake.
      this.lastWriteOk = true;
      this.host.writeStatus(null);
    }
    if (this.fsyncTimer !== null) this.host.timers().cancel(this.fsyncTimer);
    this.fsyncTimer = null;
  }

  // ---- loading ----------------------------------------------------------------------

  /**
   * Start-up with appendonly yes: loads the manifest's base and incr files in
   * order through `replay` (one command at a time), then keeps appending to
   * the last incr file. No AOF yet: starts empty and writes a base (as Redis
   * 7.0 does). A truncated tail of the last file (or an unfinished MULTI) is
   * cut off and logged when aof-load-truncated is yes; anything else wrong
   * throws an Error naming the file and byte offset, and nothing is changed.
   */
  loadAtStartup(replay: (args: string[]) => string | null): void {
    let manifest = this.readManifest();
    if (manifest === null) {
      this.host.log(`no AOF in ${this.dirPath}: starting empty, creating its base and incr files`);
      const why = this.startNow();
      if (why !== null) throw new Error(`cannot create the AOF in ${this.dirPath}: ${why}`);
      return;
    }
    const started = performance.now();
    // History files (a rewrite that ended before it could delete them) go now.
    if (manifest.some((e) => e.type === 'h')) {
      for (const e of manifest) if (e.type === 'h') removeQuietly(this.path(e.name));
      manifest = manifest.filter((e) => e.type !== 'h');
      this.writeManifest(manifest);
    }
    const base = manifest.find((e) => e.type === 'b');
    const incrs = manifest.filter((e) => e.type === 'i');
    const files = base === undefined ? incrs : [base, ...incrs];
    let commands = 0;
    let lastIncrSize = 0;
    files.forEach((entry, i) => {
      const p = this.path(entry.name);
      let data: Buffer;
      try {
        data = readFileSync(p);
      } catch (e) {
        throw new Error(`cannot read AOF file ${p} (listed in the manifest): ${(e as Error).message}`);
      }
      const last = i === files.length - 1;
      let from = 0;
      if (data.length >= 5 && data.latin1Slice(0, 5) === 'REDIS') {
        if (entry.type !== 'b') throw new Error(`cannot load ${p}: an incr file cannot hold an RDB`);
        try {
          const r = loadRdb(data, this.host.databases, { checksum: this.settings.rdbChecksum, unixNowMs: unixNowFine(), unixOffsetMs: MONOTONIC_UNIX_OFFSET_MS });
          // Libraries saved in the preamble (as redis-server 7.0 writes them) load as FUNCTION LOAD would.
          for (const code of r.functions) {
            const refused = replay(['FUNCTION', 'LOAD', code]);
            if (refused !== null) throw new Error(`cannot load ${p}: a function library in its RDB preamble: ${refused}`);
          }
          this.host.log(`loaded the AOF base ${entry.name} (RDB preamble): ${r.keys} keys${r.end < data.length ? ', then its command tail' : ''}`);
          from = r.end;
        } catch (e) {
          if (e instanceof RdbError) throw new Error(`cannot load ${p}: bad RDB preamble at byte offset ${e.offset}: ${e.reason}. The file was left as it is.`);
          throw e;
        }
      }
      const reader = new CommandReader(data.subarray(from), p, from);
      let inMulti = -1;
      let validEnd = from;
      try {
        for (let c = reader.next(); c !== null; c = reader.next()) {
          const name = c.args[0].toLowerCase();
          if (name === 'multi') inMulti = c.start;
          else if (name === 'exec') inMulti = -1;
          const refused = replay(c.args);
          if (refused !== null) throw new AofError(p, c.start, refused);
          commands++;
          validEnd = c.end;
        }
      } catch (e) {
        if (e instanceof AofError) throw new Error(`cannot load the AOF: ${e.message}. The files were left as they are.`);
        throw e;
      }
      const end = reader.end;
      let cutAt = -1;
      let why = '';
      if (end.kind === 'truncated') {
        cutAt = inMulti >= 0 ? inMulti : validEnd;
        why = end.reason;
      } else if (inMulti >= 0) {
        cutAt = inMulti;
        why = 'it ends inside a MULTI/EXEC transaction';
      }
      if (cutAt >= 0) {
        if (!last || entry.type === 'b') throw new Error(`cannot load the AOF: ${p} is truncated at byte offset ${end.kind === 'truncated' ? end.offset : cutAt} (${why}), and only the last file may be`);
        if (!this.settings.aofLoadTruncated) throw new Error(`cannot load the AOF: ${p} is truncated at byte offset ${cutAt} (${why}); aof-load-truncated is no`);
        if (inMulti >= 0) replay(['DISCARD']);
        this.host.log(`!!! Warning: short read while loading the AOF file ${p}: ${why}. AOF loaded anyway because aof-load-truncated is enabled; truncating the file to ${cutAt} bytes (it had ${data.length})`);
        ftruncateFile(p, cutAt);
        if (last) lastIncrSize = cutAt;
      } else if (last) lastIncrSize = data.length;
      if (entry.type === 'b') this.baseSize = cutAt >= 0 ? cutAt : data.length;
    });
    this.manifest = manifest;
    this.currentSize = this.baseSize + incrs.reduce((n, e, i) => n + (i === incrs.length - 1 ? 0 : sizeOf(this.path(e.name))), 0) + (incrs.length > 0 ? lastIncrSize : 0);
    this.host.log(`DB loaded from append only file: ${files.length} files, ${commands} commands in ${(performance.now() - started).toFixed(1)} ms`);
    if (incrs.length === 0) {
      // A base alone: add an incr file to append to.
      const seq = 1;
      const name = aofNames.incr(this.settings.appendFilename, seq);
      this.fd = openSync(this.path(name), 'a', 0o644);
      this.writeManifest([...manifest, { name, seq, type: 'i' }]);
    } else {
      this.fd = openSync(this.path(incrs[incrs.length - 1].name), 'a', 0o644);
    }
    this.selected = -1;
    this.incrSize = incrs.length === 0 ? 0 : lastIncrSize;
    this.rewriteBaseSize = this.currentSize;
    this.autoCheckAt = this.currentSize + AUTO_CHECK_BYTES;
    this.enabled = true;
    this.lastFsyncMs = this.host.timers().now();
  }

  /** INFO persistence's aof_* fields, as Redis 7.0 prints them. */
  info(): [string, string | number][] {
    const fields: [string, string | number][] = [
      ['aof_enabled', this.enabled || this.waiting ? 1 : 0],
      ['aof_rewrite_in_progress', this.rw !== null ? 1 : 0],
      ['aof_rewrite_scheduled', this.rewriteScheduled ? 1 : 0],
      ['aof_last_rewrite_time_sec', this.lastRewriteSec],
      ['aof_current_rewrite_time_sec', this.rw === null ? -1 : Math.floor((Date.now() - this.rw.startedMs) / 1000)],
      ['aof_last_bgrewrite_status', this.lastRewriteOk ? 'ok' : 'err'],
      ['aof_rewrites', this.rewrites],
      ['aof_rewrites_consecutive_failures', this.lastRewriteOk ? 0 : this.rewriteFailures],
      ['aof_last_write_status', this.lastWriteOk ? 'ok' : 'err'],
      ['aof_last_cow_size', this.lastCowBytes],
      ['module_fork_in_progress', 0],
      ['module_fork_last_cow_size', 0],
    ];
    if (this.enabled || this.waiting) {
      fields.push(
        ['aof_current_size', this.currentSize],
        ['aof_base_size', this.baseSize],
        ['aof_pending_rewrite', this.rewriteScheduled ? 1 : 0],
        ['aof_buffer_length', this.buf.length],
        ['aof_pending_bio_fsync', this.bg !== null && this.bg.busy ? 1 : 0],
        ['aof_delayed_fsync', this.delayedFsync],
      );
    }
    return fields;
  }
}

// ---- effects: what a write command is logged as -------------------------------------------

const EXPIRY_OPTS = new Set(['ex', 'px', 'exat', 'pxat']);

/**
 * The commands that log a write whose text is not its effect, or null to log
 * the text as it came (deterministic commands). Runs after the command, so
 * it reads the effect off the keyspace.
 */
export function effectOf(name: string, args: string[], store: Keyspace): string[][] | null {
  switch (name) {
    case 'set':
      // SET … EX/PX/EXAT → SET … PXAT (an absolute deadline survives a replay later).
      for (let i = 3; i < args.length; i++) if (EXPIRY_OPTS.has(args[i].toLowerCase())) return stringState(args[1], store);
      return null;
    case 'setex':
    case 'psetex':
    case 'getex':
    case 'incrbyfloat':
      return stringState(args[1], store);
    case 'expire':
    case 'pexpire':
    case 'expireat':
    case 'pexpireat':
      return ttlState(args[1], store);
    case 'hincrbyfloat': {
      const h = store.get(args[1]);
      if (!(h instanceof Map)) return [];
      const v = h.get(args[2]);
      return v === undefined ? [] : [['HSET', args[1], args[2], v]];
    }
    case 'xadd':
      return xaddEffect(args, store);
    case 'xtrim': {
      const s = store.get(args[1]);
      return s instanceof Stream ? [['XTRIM', args[1], 'MAXLEN', '=', String(s.length)]] : [];
    }
    case 'restore':
      return keyState(args[1], store, true);
    case 'xclaim':
    case 'xautoclaim':
      // Which entries an idle time selects depends on the clock: log the group as it is now.
      return groupState(args[1], args[2], store);
    case 'xreadgroup': {
      // XREADGROUP GROUP <group> <consumer> … STREAMS <keys> <ids>: each group as it is now.
      const at = args.findIndex((a) => a.toLowerCase() === 'streams');
      if (at < 0) return [];
      const n = Math.floor((args.length - at - 1) / 2);
      const out: string[][] = [];
      for (const k of args.slice(at + 1, at + 1 + n)) out.push(...groupState(k, args[2], store));
      return out;
    }
    default:
      return null;
  }
}

/**
 * The book protocol's writes (port 1234) as RESP commands: its SET keeps a
 * TTL (Redis's drops it) and its PEXPIRE is relative, so both are logged as
 * the key's resulting state; DEL, ZADD and ZREM mean what Redis's do.
 */
function bookEffectOf(name: string, args: string[], store: Keyspace): string[][] | null {
  if (name === 'set') return stringState(args[1], store);
  if (name === 'pexpire') return ttlState(args[1], store);
  return null;
}

/** XADD with `*`, a partial ID or `~` → XADD with the ID it made (and an exact trim to the length it left). */
function xaddEffect(args: string[], store: Keyspace): string[][] {
  const key = args[1];
  const s = store.get(key);
  if (!(s instanceof Stream)) return []; // NOMKSTREAM on a missing key: nothing happened
  let i = 2;
  let trims = false;
  for (;;) {
    const a = args[i].toLowerCase();
    if (a === 'nomkstream') i++;
    else if (a === 'maxlen' || a === 'minid') {
      trims = true;
      i++;
      if (args[i] === '=' || args[i] === '~') i++;
      i++;
    } else if (a === 'limit') i += 2;
    else break;
  }
  const out: string[][] = [['XADD', key, idText(s.lastId), ...args.slice(i + 1)]];
  if (trims) out.push(['XTRIM', key, 'MAXLEN', '=', String(s.length)]);
  return out;
}

/**
 * A consumer group as it is now, as commands: XGROUP DESTROY, then CREATE
 * with its last ID and entries-read, its consumers, and each pending entry
 * (XCLAIM … FORCE JUSTID with its delivery time and count). O(PEL + consumers),
 * not O(stream): what XREADGROUP and XCLAIM change is the group.
 */
export function groupState(key: string, group: string, store: Keyspace): string[][] {
  const s = store.get(key);
  if (!(s instanceof Stream)) return [];
  const g = s.groups.get(group);
  if (g === undefined) return [];
  return [['XGROUP', 'DESTROY', key, group], ...groupCommands(key, g)];
}

function groupCommands(key: string, g: ConsumerGroup): string[][] {
  const out: string[][] = [['XGROUP', 'CREATE', key, g.name, idText(g.lastId), 'ENTRIESREAD', String(g.entriesRead)]];
  for (const c of g.consumers.values()) out.push(['XGROUP', 'CREATECONSUMER', key, g.name, c.name]);
  for (const [id, nack] of g.pel.range(ZERO_ID, MAX_ID)) {
    out.push(['XCLAIM', key, g.name, nack.consumer.name, '0', idText(id), 'TIME', String(nack.deliveryTime), 'RETRYCOUNT', String(nack.deliveryCount), 'FORCE', 'JUSTID']);
  }
  return out;
}

/** A key's TTL as it is now: PEXPIREAT, PERSIST, or DEL if the key is gone (EXPIRE in the past deletes). */
function ttlState(key: string, store: Keyspace): string[][] {
  if (store.peek(key) === undefined) return [['DEL', key]];
  const at = unixExpireOf(store, key);
  return at < 0 ? [['PERSIST', key]] : [['PEXPIREAT', key, String(at)]];
}

/** A string key as it is now: SET key value [PXAT t], DEL if gone; nothing for another type (the command did not change it). */
function stringState(key: string, store: Keyspace): string[][] {
  // As stored, not expired now: a SET … PX 1 is logged as the SET it did (its deadline may be past on reload).
  const raw = store.peek(key);
  if (raw === undefined) return [['DEL', key]];
  const v = raw instanceof Bytes ? raw.toString() : raw;
  if (typeof v !== 'string') return [];
  const at = unixExpireOf(store, key);
  return [at < 0 ? ['SET', key, v] : ['SET', key, v, 'PXAT', String(at)]];
}

/**
 * The snapshot's serializer for a base of commands (aof-use-rdb-preamble no),
 * as Redis's rewriteAppendOnlyFileRio: the function libraries, then each
 * database's keys after its SELECT, each key as the commands that rebuild it.
 */
class CommandPieceWriter implements PieceWriter {
  private text = '';
  constructor(
    private readonly functions: string,
    private readonly compression: boolean,
  ) {}

  get pending(): number {
    return this.text.length;
  }

  header(): void {
    this.text += SELECT0 + this.functions;
  }

  selectDb(db: number): void {
    this.text += selectText(db);
  }

  entry(key: string, v: Stored, deadlineUnixMs: number | undefined): void {
    let t = '';
    for (const a of storedCommands(key, v, deadlineUnixMs === undefined ? -1 : deadlineUnixMs, this.compression)) t += encodeCommand(a);
    this.text += t;
  }

  eof(): void {}

  drainTo(fn: (bytes: Uint8Array) => void): void {
    const t = this.text;
    this.text = '';
    fn(Buffer.from(t, 'latin1'));
  }
}

/** A stored value as the commands that rebuild it (at: its deadline, unix ms, or -1). */
function storedCommands(key: string, v: Stored, at: number, compression: boolean): string[][] {
  const s = v instanceof Bytes ? v.toString() : v;
  if (typeof s === 'string') return [at < 0 ? ['SET', key, s] : ['SET', key, s, 'PXAT', String(at)]];
  if (v instanceof Stream) {
    const out = [['DEL', key], ...streamCommands(key, v)];
    if (at >= 0) out.push(['PEXPIREAT', key, String(at)]);
    return out;
  }
  const payload = dumpPayload(v, { compression });
  const text = Buffer.from(payload.buffer, payload.byteOffset, payload.length).toString('latin1');
  return [at < 0 ? ['RESTORE', key, '0', text, 'REPLACE'] : ['RESTORE', key, String(at), text, 'REPLACE', 'ABSTTL']];
}

/**
 * A key's whole state as commands: SET for a string, RESTORE … REPLACE for
 * another type (its DUMP payload), with the deadline as an absolute TTL; DEL
 * if it is gone. Used by the commands base and for the few commands whose
 * effect is easiest said as the resulting value (stream group changes).
 */
export function keyState(key: string, store: Keyspace, compression: boolean): string[][] {
  const v = store.getRaw(key);
  if (v === undefined) return [['DEL', key]];
  return storedCommands(key, v, unixExpireOf(store, key), compression);
}

/**
 * A stream as the commands that rebuild it, as Redis's rewriteStreamObject
 * writes them: its entries (an empty stream: XADD MAXLEN 0 with its last ID),
 * XSETID with its counters, each group (XGROUP CREATE … ENTRIESREAD), each
 * consumer, and each pending entry (XCLAIM … FORCE JUSTID with its delivery
 * time and count).
 */
function streamCommands(key: string, s: Stream): string[][] {
  const out: string[][] = [];
  for (const e of s.range(ZERO_ID, MAX_ID)) out.push(['XADD', key, idText(e.id), ...e.fields]);
  if (s.length === 0) out.push(['XADD', key, 'MAXLEN', '0', idText(s.lastId), 'x', 'y']);
  out.push(['XSETID', key, idText(s.lastId), 'ENTRIESADDED', String(s.entriesAdded), 'MAXDELETEDID', idText(s.maxDeletedId)]);
  for (const g of s.groups.values()) out.push(...groupCommands(key, g));
  return out;
}

// ---- small file helpers ----------------------------------------------------------------------

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function ftruncateFile(path: string, size: number): void {
  const fd = openSync(path, 'r+');
  try {
    ftruncateSync(fd, size);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
