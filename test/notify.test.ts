// Keyspace notifications beyond what the differential suite can force
// (test/compat/notifications.test.ts compares every family with redis-server):
// the class parsing and spelling, the keyspace's own events (new, expired,
// evicted) with the database index in the channel, the listener installed
// only while needed, and a lazy expiry (a command finding its key past the
// TTL) publishing in the middle of a pipelined batch.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  keyListener,
  notifyFlagsOf,
  notifyFlagsToString,
  NOTIFY_ALL,
  NOTIFY_EVICTED,
  NOTIFY_KEYEVENT,
  NOTIFY_KEYSPACE,
  NOTIFY_NEW,
  setPublisher,
} from '../src/commands/notify.js';
import '../src/commands/resp/pubsub.js';
import type { ServerContext } from '../src/commands/types.js';
import { ConfigStore } from '../src/servers/config.js';
import { DEFAULT_SETTINGS, ServerState } from '../src/servers/state.js';
import { Keyspace } from '../src/store/keyspace.js';
import { startServer, type TestServer } from './helpers/server.js';

describe('classes', () => {
  test('parsing and the spelling CONFIG GET shows (keyspaceEventsStringToFlags / FlagsToString)', () => {
    expect(notifyFlagsOf('')).toBe(0);
    expect(notifyFlagsOf('KEA')).toBe(NOTIFY_KEYSPACE | NOTIFY_KEYEVENT | NOTIFY_ALL);
    expect(notifyFlagsOf('KEq')).toBe(-1);
    expect(notifyFlagsToString(notifyFlagsOf('EKA'))).toBe('AKE');
    expect(notifyFlagsToString(notifyFlagsOf('KEAn'))).toBe('AKE'); // n kept in the bits, not shown
    expect(notifyFlagsOf('KEAn') & NOTIFY_NEW).toBe(NOTIFY_NEW);
    expect(notifyFlagsToString(notifyFlagsOf('nmxgE'))).toBe('gxnEm');
    expect(notifyFlagsToString(notifyFlagsOf('g$lshzxetd'))).toBe('A');
  });
});

describe("the keyspace's own events", () => {
  const published: [string, string][] = [];
  beforeAll(() => setPublisher((_server, channel, message) => (published.push([channel, message]), 1)));
  afterAll(async () => {
    // Back to pub/sub's own delivery for the other files of this worker.
    (await import('../src/commands/resp/pubsub.js')).registerNotifyPublisher();
  });

  test('evicted, expired and new on the channels of the keyspace that reports them; other changes publish nothing', () => {
    let flags = notifyFlagsOf('KEA');
    const listen = keyListener({} as ServerContext, () => flags);
    const db3 = new Keyspace(() => 0, 3);
    published.length = 0;
    listen('k', 'evict', db3);
    listen('k', 'expire', db3);
    listen('k', 'delete', db3);
    listen('k', 'put', db3);
    listen('k', 'new', db3); // n is not part of A
    listen(null, 'flush', db3);
    expect(published).toEqual([
      ['__keyspace@3__:k', 'evicted'],
      ['__keyevent@3__:evicted', 'k'],
      ['__keyspace@3__:k', 'expired'],
      ['__keyevent@3__:expired', 'k'],
    ]);
    flags = notifyFlagsOf('En');
    published.length = 0;
    listen('k', 'new', db3);
    listen('k', 'evict', db3);
    expect(published).toEqual([['__keyevent@3__:new', 'k']]);
    expect(NOTIFY_EVICTED & notifyFlagsOf('KEA')).toBe(NOTIFY_EVICTED);
  });

  test('the server installs its listener only while x, e or n is on with K or E; reportNew only with n', () => {
    const st = new ServerState({ ...DEFAULT_SETTINGS, respPort: null }, () => {});
    const set = (v: string) => expect(st.configStore.set([['notify-keyspace-events', v]])).toBeNull();
    expect(st.store.onChange).toBeNull();
    set('KEg$lshzt'); // no class the keyspace reports
    expect(st.store.onChange).toBeNull();
    set('x'); // neither K nor E: nothing is published at all
    expect(st.store.onChange).toBeNull();
    set('Kx');
    expect(st.store.onChange).not.toBeNull();
    expect(st.store.reportNew).toBe(false);
    set('KEAn');
    expect(st.store.reportNew).toBe(true);
    expect(st.configStore.values.get('notify-keyspace-events')).toBe('AKE');
    expect(st.settings.notifyKeyspaceEvents & NOTIFY_NEW).toBe(NOTIFY_NEW);
    set('');
    expect(st.store.onChange).toBeNull();
    expect(st.store.reportNew).toBe(false);
    expect(st.store.id).toBe(0);
  });

  test('a config file line turns notifications on for the server started with it (n kept beside A)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'redloop-notify-'));
    try {
      const file = join(dir, 'redis.conf');
      writeFileSync(file, 'notify-keyspace-events "KEAn"\n');
      const settings = { ...DEFAULT_SETTINGS, respPort: null };
      const config = new ConfigStore(settings);
      config.loadFile(file);
      const st = new ServerState({ ...settings, config }, () => {});
      expect(st.configStore.values.get('notify-keyspace-events')).toBe('AKE');
      expect(st.store.onChange).not.toBeNull();
      expect(st.store.reportNew).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('new: reported before the put of a key that was absent, not for a key that exists', () => {
    const ks = new Keyspace(() => 0);
    const seen: string[] = [];
    ks.onChange = (key, why) => seen.push(`${key}:${why}`);
    ks.reportNew = true;
    ks.put('a', '1');
    ks.put('a', '2');
    ks.replace('b', '1');
    ks.replace('b', '2');
    expect(seen).toEqual(['a:new', 'a:put', 'a:put', 'b:new', 'b:put', 'b:overwrite']);
  });
});

describe('a lazy expiry on the server', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(['--quiet']);
  });
  afterAll(async () => {
    await server?.stop();
  });

  test('a command that finds its key past the TTL publishes expired before its own reply (the loop has not expired it yet)', async () => {
    // One connection in RESP3, subscribed to expired events, sends one pipelined batch: the
    // key gets a 1 ms TTL, a script spins for 5 ms, GET finds the key expired. The loop runs a
    // batch's requests before its timers, so only GET's lookup can have expired the key: the
    // push comes between the script's reply and GET's null. (An active expiry would put it after.)
    const enc = (a: string[]) => `*${a.length}\r\n` + a.map((x) => `$${Buffer.byteLength(x)}\r\n${x}\r\n`).join('');
    const spin = "local t0 = redis.call('TIME') repeat local t = redis.call('TIME') until (t[1] - t0[1]) * 1000000 + (t[2] - t0[2]) > 5000 return 1";
    const sock = connect({ port: server.respPort, host: '127.0.0.1' });
    let got = '';
    const until = (text: string) =>
      new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`waited for ${JSON.stringify(text)}; got ${JSON.stringify(got)}`)), 5000);
        const check = () => {
          if (got.includes(text)) {
            clearTimeout(t);
            sock.off('data', check);
            resolve();
          }
        };
        sock.on('data', check);
        check();
      });
    sock.on('data', (d) => (got += d.toString('latin1')));
    await new Promise<void>((r) => sock.once('connect', () => r()));
    sock.write(enc(['HELLO', '3']) + enc(['CONFIG', 'SET', 'notify-keyspace-events', 'Ex']) + enc(['PSUBSCRIBE', '__keyevent@*__:expired']));
    await until('__keyevent@*__:expired\r\n:1\r\n');
    got = '';
    sock.write(enc(['SET', 'k', 'v', 'PX', '1']) + enc(['EVAL', spin, '0']) + enc(['GET', 'k']) + enc(['PING', 'end']));
    await until('$3\r\nend\r\n');
    sock.destroy();
    expect(got).toBe(
      '+OK\r\n' + ':1\r\n' + '>4\r\n$8\r\npmessage\r\n$22\r\n__keyevent@*__:expired\r\n$22\r\n__keyevent@0__:expired\r\n$1\r\nk\r\n' + '_\r\n' + '$3\r\nend\r\n',
    );
  });
});
