// The server's side of persistence: where the RDB file lives (--dir,
// --dbfilename), SAVE (src/persist/file.ts does the writing), BGSAVE (a
// fork-less snapshot, src/persist/snapshot.ts, serialized in slices on the
// loop and written by the background writer thread, src/persist/bgwriter.ts),
// the save rules (`save <seconds> <changes>`, checked like Redis's
// serverCron), saving at SHUTDOWN and on SIGTERM/SIGINT, -MISCONF after a
// failed background save, the counters INFO reports, and loading the file at
// start-up. A file that cannot be loaded stops the start (it is never
// overwritten).

import { join, resolve } from 'node:path';
import { statSync } from 'node:fs';
import type { CommandHooks, PersistenceControl, ShutdownFlags, TimerService } from '../commands/types.js';
import type { Keyspace } from '../store/keyspace.js';
import { MONOTONIC_UNIX_OFFSET_MS, RdbError, loadRdb, unixNowFine, type SaveOptions } from '../persist/rdb.js';
import { readRdbFile, saveRdbFile, tempRdbPath } from '../persist/file.js';
import { BackgroundWriter, type FdWatcher, type FileJob } from '../persist/bgwriter.js';
import { Snapshot } from '../persist/snapshot.js';
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

/** Redis 7.0's -MISCONF text (writeCommandsGetDiskErrorMessage for an RDB error). */
export const MISCONF =
  "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. " +
  'Commands that may modify the data set are disabled, because this instance is configured to report errors during writes ' +
  'if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.';

/** Time a BGSAVE slice may take on the loop (ms) before clients are served again. */
export const SLICE_BUDGET_MS = 0.5;
/**
 * A slice starts at most this often (ms): between slices the loop polls with
 * a timeout rather than running them back to back, so a request that arrives
 * is served without queueing behind a run of slices, and the process yields
 * the CPU it shares (at most half of the loop goes to the snapshot).
 */
export const SLICE_PERIOD_MS = 1;
/** How often the save rules are checked once one could fire (Redis's serverCron runs at hz 10). */
const CRON_MS = 100;
/** After a failed background save, rules wait this long before trying again (CONFIG_BGSAVE_RETRY_DELAY). */
const RETRY_DELAY_MS = 5000;

/** What the running server lends persistence once its loop exists. */
export interface PersistWiring {
  timers: TimerService;
  /** Watches the background writer's pipe. */
  watcher: FdWatcher;
  /** Ends the server (after SHUTDOWN or a signal has saved, if it had to). */
  stop: () => void;
}

/** A background save in progress. */
interface Bgsave {
  snap: Snapshot;
  job: FileJob;
  startedMs: number;
  dirtyAtStart: number;
  /** The slice timer is armed (else the walk waits for the writer). */
  armed: boolean;
  /** Every byte is handed to the writer; the commit is under way. */
  committing: boolean;
  peakInFlight: number;
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
  dirtyAlarm = Infinity;
  lastSaveUnixSec = Math.floor(Date.now() / 1000);
  private lastSaveMs = Date.now();
  /** rdb_last_bgsave_status. */
  lastSaveOk = true;
  saves = 0;
  lastLoad = { loaded: 0, expired: 0 };
  /** rdb_last_bgsave_time_sec: how long the last background save took (-1: none yet). */
  lastBgsaveSec = -1;
  /** rdb_last_cow_size: bytes the last background save serialized ahead of its walk because a write was about to change them. */
  lastCowBytes = 0;
  /** Keys preserved that way, and the writer's largest backlog (bytes handed over, not yet written) in the last save. */
  lastPreservedKeys = 0;
  lastPeakBacklog = 0;
  /** BGSAVE SCHEDULE (or BGSAVE inside EXEC): start one at the next cron. */
  bgsaveScheduled = false;
  private bg: Bgsave | null = null;
  private lastBgsaveTryMs = 0;
  private wiring: PersistWiring | null = null;
  private writer: BackgroundWriter | null = null;
  private cronTimer: unknown = null;
  private cronAt = Infinity;
  private shuttingDown = false;
  /** Another snapshot runs (an AOF rewrite): a BGSAVE is refused or scheduled, save rules wait. */
  otherBackgroundJob: () => boolean = () => false;
  /** CONFIG SET appendonly yes is writing the AOF's first base (Redis's AOF_WAIT_REWRITE with its child running): shutdown waits for it. */
  writingInitialAof: () => boolean = () => false;

  constructor(
    private readonly settings: PersistSettings,
    private readonly dbs: () => readonly Keyspace[],
    private readonly config: ReadonlyMap<string, string>,
    private readonly hooks: CommandHooks,
    private readonly log: (line: string) => void,
  ) {}

  /** Called by the server once its loop (timers, fd watching) exists. */
  attach(wiring: PersistWiring): void {
    this.wiring = wiring;
    this.configChanged();
  }

  get rdbCompression(): boolean {
    return this.settings.rdbCompression;
  }

  /** The RDB file's full path. */
  get path(): string {
    return join(resolve(this.settings.dir), this.settings.dbFilename);
  }

  /** The save rules in force: [seconds, changes] pairs (CONFIG's `save`). */
  get rules(): [number, number][] {
    const parts = (this.config.get('save') ?? '').split(' ').filter((p) => p !== '');
    const out: [number, number][] = [];
    for (let i = 0; i + 1 < parts.length; i += 2) out.push([Number(parts[i]), Number(parts[i + 1])]);
    return out;
  }

  get bgsaveInProgress(): boolean {
    return this.bg !== null;
  }

  /** rdb_current_bgsave_time_sec: seconds the running background save has taken, or -1. */
  get currentBgsaveSec(): number {
    return this.bg === null ? -1 : Math.floor((Date.now() - this.bg.startedMs) / 1000);
  }

  private saveOptions(): SaveOptions {
    return {
      compression: this.settings.rdbCompression,
      checksum: this.settings.rdbChecksum,
      redisVersion: REDIS_VERSION,
      unixNowMs: unixNowFine(),
      unixOffsetMs: MONOTONIC_UNIX_OFFSET_MS,
      usedMem: process.memoryUsage().heapUsed,
      functions: this.functions?.codes() ?? [],
    };
  }

  /** dirty reached a save rule's number of changes: check that rule when its time comes. */
  dirtied(): void {
    this.armCron();
  }

  /** CONFIG SET of save / stop-writes-on-bgsave-error: re-check the rules and the write refusal. */
  configChanged(): void {
    this.refreshDeny();
    this.armCron();
    // Save rules mean background saves: start the writer thread now, not inside the first one
    // (creating a Worker stalls the calling thread for tens of ms).
    if (this.wiring !== null && this.rules.length > 0) (this.writer ??= new BackgroundWriter(this.wiring.watcher)).start();
  }

  /** Why the AOF cannot be written (its last write or fsync failed), or null. */
  private aofWriteError: string | null = null;

  /** The AOF's write status (src/servers/aof.ts): an error refuses writes until it clears (null). */
  setAofWriteError(why: string | null): void {
    this.aofWriteError = why;
    this.refreshDeny();
  }

  /**
   * The one place hooks.denyWrites is set, from both conditions (Redis's
   * writeCommandsDeniedByDiskError, in its order): -MISCONF while the last
   * background save failed, save rules are set and stop-writes-on-bgsave-error
   * is yes; else while the AOF cannot be written. Neither clears the other.
   */
  private refreshDeny(): void {
    const rdb = !this.lastSaveOk && this.config.get('stop-writes-on-bgsave-error') !== 'no' && this.rules.length > 0;
    this.hooks.denyWrites = rdb ? MISCONF : this.aofWriteError === null ? null : `MISCONF Errors writing to the AOF file: ${this.aofWriteError}`;
  }

  save(): string | null {
    if (this.bg !== null) return 'Background save already in progress';
    const started = performance.now();
    this.saves++; // attempts, as Redis's rdb_saves counts them
    try {
      const { keys, bytes } = saveRdbFile(this.dbs(), resolve(this.settings.dir), this.settings.dbFilename, this.saveOptions());
      this.saved();
      this.lastSaveOk = true;
      this.refreshDeny();
      this.log(`DB saved on disk: ${this.path} (${keys} keys, ${bytes} bytes, ${(performance.now() - started).toFixed(1)} ms)`);
      return null;
    } catch (e) {
      const why = (e as Error).message;
      this.log(`failed saving the DB to ${this.path}: ${why}`);
      return why;
    }
  }

  private saved(): void {
    this.dirty = 0;
    this.lastSaveMs = Date.now();
    this.lastSaveUnixSec = Math.floor(this.lastSaveMs / 1000);
    this.armCron();
  }

  /**
   * BGSAVE [SCHEDULE]: 'started', 'scheduled' (inside EXEC, or with SCHEDULE
   * while an AOF rewrite runs, as Redis), or an
   * error text (Redis's words).
   */
  bgsave(schedule: boolean, inExec: boolean): 'started' | 'scheduled' | { error: string } {
    if (this.bg !== null) return { error: 'Background save already in progress' };
    if (inExec) {
      this.bgsaveScheduled = true;
      this.armCron();
      return 'scheduled';
    }
    if (this.otherBackgroundJob()) {
      // As Redis while its AOF rewrite child runs.
      if (!schedule) return { error: "Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible." };
      this.bgsaveScheduled = true;
      this.armCron();
      return 'scheduled';
    }
    const why = this.startBgsave();
    return why === null ? 'started' : { error: why };
  }

  /** The background writer thread (made now if the loop exists), shared with the AOF rewrite. */
  backgroundWriter(): BackgroundWriter | null {
    if (this.wiring === null) return null;
    return (this.writer ??= new BackgroundWriter(this.wiring.watcher));
  }

  /** Starts a background save; null, or why it could not start. */
  private startBgsave(): string | null {
    if (this.wiring === null) return 'background saves need the server loop';
    this.bgsaveScheduled = false;
    this.lastBgsaveTryMs = Date.now();
    this.saves++;
    const dir = resolve(this.settings.dir);
    this.writer ??= new BackgroundWriter(this.wiring.watcher);
    let bg: Bgsave | null = null;
    const job = this.writer.open(tempRdbPath(dir), { crcTrailer: this.settings.rdbChecksum }, {
      written: () => {
        if (bg !== null && !bg.armed && !bg.committing) this.armSlice(bg);
      },
      committed: () => {
        if (bg !== null) this.finishBgsave(bg, null);
      },
      failed: (why) => {
        if (bg !== null) this.finishBgsave(bg, why);
      },
    });
    let snap: Snapshot;
    try {
      snap = new Snapshot(this.dbs(), this.saveOptions(), {
        chunk: (bytes) => job.write(bytes),
        backlog: () => job.inFlight,
      });
    } catch (e) {
      job.abort();
      return (e as Error).message;
    }
    bg = { snap, job, startedMs: Date.now(), dirtyAtStart: this.dirty, armed: false, committing: false, peakInFlight: 0 };
    this.bg = bg;
    // In-place changes (LPUSH onto an existing list) reach the snapshot before the command runs.
    this.hooks.beforeWrite = (store, args) => snap.preserveArgs(store, args);
    this.log(`Background saving started (fork-less snapshot, written by the writer thread to ${tempRdbPath(dir)})`);
    this.armSlice(bg);
    return null;
  }

  /** The next slice, at once or at `at` (monotonic ms). */
  private armSlice(bg: Bgsave, at?: number): void {
    const timers = this.wiring!.timers;
    bg.armed = true;
    timers.add(at ?? timers.now(), () => this.slice(bg), 'bgsave slice');
  }

  /** One slice of the walk; then the next slice, a wait for the writer, or the commit. */
  private slice(bg: Bgsave): void {
    bg.armed = false;
    if (this.bg !== bg) return;
    const startedAt = this.wiring!.timers.now();
    const r = bg.snap.step(SLICE_BUDGET_MS);
    if (bg.job.inFlight > bg.peakInFlight) bg.peakInFlight = bg.job.inFlight;
    switch (r) {
      case 'more':
        this.armSlice(bg, startedAt + SLICE_PERIOD_MS);
        break;
      case 'waiting':
        break; // the writer's next "written" arms the slice again
      case 'done': {
        bg.committing = true;
        this.hooks.beforeWrite = null;
        const dir = resolve(this.settings.dir);
        // Without rdbchecksum the trailer is 8 zero bytes (the writer adds the CRC otherwise).
        if (!this.settings.rdbChecksum) bg.job.write(new Uint8Array(8));
        bg.job.commit(join(dir, this.settings.dbFilename), dir);
        break;
      }
      case 'failed':
        bg.job.abort();
        this.finishBgsave(bg, bg.snap.error ?? 'snapshot failed');
        break;
    }
  }

  private finishBgsave(bg: Bgsave, error: string | null): void {
    if (this.bg !== bg) return;
    this.bg = null;
    bg.snap.detach();
    this.hooks.beforeWrite = null;
    const st = bg.snap.stats;
    this.lastBgsaveSec = Math.floor((Date.now() - bg.startedMs) / 1000);
    this.lastCowBytes = st.preservedBytes;
    this.lastPreservedKeys = st.preservedKeys;
    this.lastPeakBacklog = Math.max(st.peakBacklog, bg.peakInFlight);
    const ms = Date.now() - bg.startedMs;
    if (error === null) {
      this.dirty -= bg.dirtyAtStart;
      this.lastSaveMs = Date.now();
      this.lastSaveUnixSec = Math.floor(this.lastSaveMs / 1000);
      this.lastSaveOk = true;
      this.log(
        `DB saved on disk: ${this.path} (${st.keys} keys, ${st.bytes} bytes, ${ms} ms; ` +
          `${st.preservedKeys} keys / ${st.preservedBytes} bytes preserved before a write; longest slice ${st.longestStepMs.toFixed(1)} ms)`,
      );
      this.log('Background saving terminated with success');
    } else {
      this.lastSaveOk = false;
      this.log(`Background saving error: ${error}`);
    }
    this.refreshDeny();
    this.armCron();
  }

  /** Abandons a running background save (its temp file is removed); the old file stays. */
  private killBgsave(why: string): void {
    const bg = this.bg;
    if (bg === null) return;
    this.log(why);
    this.bg = null;
    bg.snap.detach();
    this.hooks.beforeWrite = null;
    bg.job.abort();
  }

  // ---- save rules (serverCron) ----

  /** Arms the rules' check at the earliest moment one could fire (or soon, for a scheduled BGSAVE). */
  private armCron(): void {
    if (this.wiring === null || this.shuttingDown) return;
    const now = Date.now();
    let at = Infinity;
    // The next number of changes that would make a rule due: dispatch calls dirtied() there.
    let alarm = Infinity;
    for (const [, changes] of this.rules) if (changes > this.dirty) alarm = Math.min(alarm, changes);
    this.dirtyAlarm = alarm;
    if (this.bgsaveScheduled || this.otherBackgroundJob()) at = now + CRON_MS;
    else if (this.bg === null) {
      for (const [secs, changes] of this.rules) {
        if (this.dirty < changes) continue; // not enough changes yet: dirtied() re-arms
        // Redis: unixtime - lastsave > seconds, in whole seconds.
        at = Math.min(at, Math.max(now + CRON_MS, (Math.floor(this.lastSaveMs / 1000) + secs + 1) * 1000));
      }
      if (!this.lastSaveOk && at !== Infinity) at = Math.max(at, this.lastBgsaveTryMs + RETRY_DELAY_MS);
    }
    if (at >= this.cronAt && this.cronTimer !== null) return; // an earlier check is armed
    const timers = this.wiring.timers;
    if (this.cronTimer !== null) timers.cancel(this.cronTimer);
    this.cronTimer = null;
    this.cronAt = Infinity;
    if (at === Infinity) return;
    this.cronAt = at;
    this.cronTimer = timers.add(timers.now() + (at - now), () => this.cron(), 'save rules');
  }

  private cron(): void {
    this.cronTimer = null;
    this.cronAt = Infinity;
    if (this.bg === null && !this.otherBackgroundJob()) {
      const now = Date.now();
      const elapsed = Math.floor(now / 1000) - Math.floor(this.lastSaveMs / 1000);
      const retryOk = this.lastSaveOk || now - this.lastBgsaveTryMs > RETRY_DELAY_MS;
      const rule = this.rules.find(([secs, changes]) => this.dirty >= changes && elapsed > secs);
      if (rule !== undefined && retryOk) {
        this.log(`${rule[1]} changes in ${rule[0]} seconds. Saving...`);
        const why = this.startBgsave();
        if (why !== null) this.log(`cannot start a background save: ${why}`);
      } else if (this.bgsaveScheduled) {
        const why = this.startBgsave();
        if (why !== null) this.log(`cannot start a background save: ${why}`);
      }
    }
    this.armCron();
  }

  // ---- shutdown ----

  /**
   * SHUTDOWN (and SIGTERM/SIGINT): saves first when asked or when save rules
   * are set (unless NOSAVE), then stops the server. Null when the server is
   * stopping; otherwise the error (the server keeps running), as Redis's
   * prepareForShutdown.
   */
  shutdown(flags: ShutdownFlags): string | null {
    this.killBgsave('There is a child saving an .rdb. Killing it!');
    // Exiting now would lose the data set: the AOF being turned on has no base yet (Redis's prepareForShutdown).
    if (this.writingInitialAof()) {
      if (!flags.force) {
        this.log("Writing initial AOF, can't exit.");
        this.log('Errors trying to shut down the server. Check the logs for more information.');
        return 'Errors trying to SHUTDOWN. Check logs.';
      }
      this.log('Writing initial AOF. Exit anyway.');
    }
    if ((this.rules.length > 0 && !flags.nosave) || flags.save) {
      this.log('Saving the final RDB snapshot before exiting.');
      if (this.save() !== null) {
        if (!flags.force) {
          this.log("Error trying to save the DB, can't exit.");
          this.log('Errors trying to shut down the server. Check the logs for more information.');
          return 'Errors trying to SHUTDOWN. Check logs.';
        }
        this.log('Error trying to save the DB. Exit anyway.');
      }
    }
    this.shuttingDown = true;
    if (this.cronTimer !== null) this.wiring?.timers.cancel(this.cronTimer);
    this.cronTimer = null;
    this.log('Redis is now ready to exit, bye bye...');
    this.wiring?.stop();
    return null;
  }

  /** SIGTERM/SIGINT: shutdown-on-sigterm / shutdown-on-sigint decide (default: save if save rules are set). */
  shutdownOnSignal(sig: 'SIGTERM' | 'SIGINT'): void {
    const words = (this.config.get(sig === 'SIGTERM' ? 'shutdown-on-sigterm' : 'shutdown-on-sigint') ?? 'default').split(' ');
    const why = this.shutdown({ nosave: words.includes('nosave'), save: words.includes('save'), now: words.includes('now'), force: words.includes('force') });
    if (why !== null) this.log(`${sig} received but errors trying to shut down the server, check the logs for more information`);
  }

  /** The server is exiting: stop the writer thread. */
  close(): void {
    this.killBgsave('Background save abandoned: the server is exiting');
    this.writer?.close();
  }

  /**
   * Loads the RDB file into the (empty) databases if there is one. Throws an
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
      const r = loadRdb(data, this.dbs(), {
        checksum: this.settings.rdbChecksum,
        unixNowMs: unixNowFine(),
        unixOffsetMs: MONOTONIC_UNIX_OFFSET_MS,
      });
      if (r.functions.length > 0) {
        const why = this.functions === null ? 'this server has no scripting' : this.functions.load(r.functions);
        if (why !== null) {
          for (const db of this.dbs()) db.flush();
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
