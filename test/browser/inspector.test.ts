// The live view (--inspect-port) and redloop-replay in headless Chromium:
// the page loads from the loop's own listener, a client's request shows up in
// its connection card, Step runs exactly one iteration, and the replay of a
// recorded trace steps back and forth. Set SCREENSHOTS=1 to (re)write the
// screenshots in docs/ from these runs.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServer, type TestServer } from '../helpers/server.js';
import { RawClient } from '../helpers/proc.js';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const REPLAY = fileURLToPath(new URL('../../dist/cli/replay.js', import.meta.url));
const DOCS = fileURLToPath(new URL('../../docs/', import.meta.url));
const shots = process.env.SCREENSHOTS === '1';

let browser: Browser;
beforeAll(async () => {
  if (CHROMIUM === undefined) throw new Error('chromium is not installed: run scripts/install-chromium.sh (npm run test:browser does)');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
});
afterAll(async () => {
  await browser?.close();
});

async function inspectorPort(srv: TestServer): Promise<number> {
  await srv.waitForStderr(/inspector: http:\/\/127\.0\.0\.1:\d+\//);
  return Number(/inspector: http:\/\/127\.0\.0\.1:(\d+)\//.exec(srv.stderr())![1]);
}

/** Starts redloop-replay over the files on a free port; resolves once it says where. */
function startReplay(files: string[]): Promise<{ replay: ChildProcess; port: number }> {
  const replay = spawn(process.execPath, [REPLAY, ...files, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    replay.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /on http:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
      if (m) resolve({ replay, port: Number(m[1]) });
    });
    replay.once('exit', (code) => reject(new Error(`redloop-replay exited (${code})`)));
  });
}

async function openPage(port: number): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(`http://127.0.0.1:${port}/`);
  return page;
}

describe('--inspect-port', () => {
  for (const loop of ['poll', 'epoll']) {
    test(`${loop}: the page loads from the loop; a client's request and reply appear in its connection card`, async () => {
      const srv = await startServer(['--loop', loop, '--inspect-port', '0']);
      const page = await openPage(await inspectorPort(srv));
      try {
        await page.locator('#status.running').waitFor();
        // The page's own connection is an fd in the poll set, labelled as what it is.
        await page.locator('#interest tr', { hasText: 'inspector 127.0.0.1' }).first().waitFor();
        const c = await RawClient.connect(srv.respPort);
        c.sock.write('*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nhello\r\n');
        await c.waitFor(() => c.received.toString('latin1') === '+OK\r\n', 'OK');
        const card = page.locator('.conn', { hasText: `client 127.0.0.1:${c.sock.localPort} (resp)` });
        await card.locator('.bytes.in', { hasText: 'hello' }).waitFor();
        await expect(card.locator('.bytes.in').innerText()).resolves.toBe('*3\\r\\n$3\\r\\nSET\\r\\n$3\\r\\nkey\\r\\n$5\\r\\nhello\\r\\n▍');
        await expect(card.locator('.bytes.out').innerText()).resolves.toBe('+OK\\r\\n');
        await expect(card.locator('.flag.on').allInnerTexts()).resolves.toEqual(['want_read']);
        if (shots && loop === 'poll') await page.screenshot({ path: join(DOCS, 'inspector-live.png') });
        // The client leaves: its card goes.
        c.sock.end();
        await card.waitFor({ state: 'detached' });
      } finally {
        await page.close();
        await srv.stop();
      }
    });
  }

  test('Pause, then Step runs exactly one iteration: the request waiting in the kernel is served, and the loop pauses again', async () => {
    const srv = await startServer(['--inspect-port', '0']);
    const page = await openPage(await inspectorPort(srv));
    try {
      await page.locator('#status.running').waitFor();
      await page.click('#pause');
      await page.locator('#status.paused').waitFor();
      const pausedAt = Number(/#(\d+)/.exec(await page.locator('#status').innerText())![1]);
      // A client's request reaches the kernel while the loop is paused: no reply.
      const c = await RawClient.connect(srv.respPort);
      await new Promise<void>((resolve, reject) => c.sock.write('*1\r\n$4\r\nPING\r\n', (e) => (e ? reject(e) : resolve())));
      // Iteration pausedAt polls (the new connection is accepted), and the loop pauses again before the next.
      await page.click('#step');
      await page.locator('#status', { hasText: `paused before iteration #${pausedAt + 1}` }).waitFor();
      await expect(page.locator('#iteration').getAttribute('data-iteration')).resolves.toBe(String(pausedAt));
      await expect(page.locator('#syscalls li').allInnerTexts()).resolves.toContainEqual(expect.stringMatching(/^accept\(\d+\) = \d+$/));
      expect(c.received.length).toBe(0);
      // One more step: the PING is read and answered in exactly that iteration.
      await page.click('#step');
      await c.waitFor(() => c.received.toString('latin1') === '+PONG\r\n', 'PONG');
      await page.locator('#status', { hasText: `paused before iteration #${pausedAt + 2}` }).waitFor();
      await expect(page.locator('#iteration').getAttribute('data-iteration')).resolves.toBe(String(pausedAt + 1));
      const calls = await page.locator('#syscalls li').allInnerTexts();
      expect(calls.filter((s) => /^read\(/.test(s))).toHaveLength(1);
      expect(calls).toContainEqual(expect.stringMatching(/^write\(\d+, 7\) = 7$/));
      await page.click('#continue');
      await page.locator('#status.running').waitFor();
      // Running freely again: requests are served without steps.
      c.sock.write('*1\r\n$4\r\nPING\r\n');
      await c.waitFor(() => c.received.length === 14, 'second PONG');
    } finally {
      await page.close();
      await srv.stop();
    }
  });

});

describe('redloop-replay', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'redloop-replay-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('serves a recorded trace: the page steps forward and back through its iterations', async () => {
    const file = join(dir, 'trace.jsonl');
    const srv = await startServer(['--trace-json', file]);
    const c = await RawClient.connect(srv.respPort);
    c.sock.write('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n');
    await c.waitFor(() => c.received.toString('latin1') === '+OK\r\n$1\r\nv\r\n', 'replies');
    c.sock.end();
    await c.waitFor(() => c.closed, 'close');
    expect(await srv.stop()).toBe(0);

    const { replay, port } = await startReplay([file]);
    try {
      const page = await openPage(port);
      await page.locator('#status.replay').waitFor();
      await expect(page.locator('#live-controls').isVisible()).resolves.toBe(false);
      await expect(page.locator('#iteration').getAttribute('data-iteration')).resolves.toBe('1');
      // Forward to the iteration that read both requests: both frame ends are marked.
      for (let i = 0; i < 20; i++) {
        if ((await page.locator('.bytes.in', { hasText: 'GET' }).count()) > 0) break;
        await page.click('#forward');
      }
      const at = Number(await page.locator('#iteration').getAttribute('data-iteration'));
      await expect(page.locator('.bytes.in').innerText()).resolves.toBe('*3\\r\\n$3\\r\\nSET\\r\\n$1\\r\\nk\\r\\n$1\\r\\nv\\r\\n▍*2\\r\\n$3\\r\\nGET\\r\\n$1\\r\\nk\\r\\n▍');
      if (shots) await page.screenshot({ path: join(DOCS, 'inspector-replay.png') });
      // And back one: the iteration before.
      await page.click('#back');
      await expect(page.locator('#iteration').getAttribute('data-iteration')).resolves.toBe(String(at - 1));
      await page.close();
    } finally {
      replay.kill('SIGTERM');
    }
  });

  test('two recordings side by side: the committed poll and epoll lessons, stepped together', async () => {
    const lessons = fileURLToPath(new URL('../../docs/lessons/', import.meta.url));
    const { replay, port } = await startReplay([join(lessons, 'poll.jsonl'), join(lessons, 'epoll.jsonl')]);
    try {
      const page = await openPage(port);
      const a = page.frameLocator('#a');
      const b = page.frameLocator('#b');
      await a.locator('#status.replay').waitFor();
      await b.locator('#status.replay').waitFor();
      await expect(a.locator('h1').innerText()).resolves.toBe('poll.jsonl (poll)');
      await expect(b.locator('h1').innerText()).resolves.toBe('epoll.jsonl (epoll)');
      // Step both panes to the iteration where the busy client's pipelined SET and GET are read.
      for (let i = 0; i < 40 && (await a.locator('.bytes.in', { hasText: 'greeting' }).count()) === 0; i++) await a.locator('#forward').click();
      for (let i = 0; i < 40 && (await b.locator('.bytes.in', { hasText: 'greeting' }).count()) === 0; i++) await b.locator('#forward').click();
      // poll: the whole array, 20 idle clients included; epoll: just the ready fd.
      await expect(a.locator('#interest-title').textContent()).resolves.toContain('pollfd array');
      expect(await a.locator('#interest tbody tr').count()).toBeGreaterThanOrEqual(24);
      await expect(b.locator('#interest-title').textContent()).resolves.toContain('epoll_wait');
      expect(await b.locator('#interest tbody tr').count()).toBe(1);
      if (shots) await page.screenshot({ path: join(DOCS, 'inspector-compare.png') });
      // The header's ◀ steps both panes back one iteration.
      const at = [Number(await a.locator('#iteration').getAttribute('data-iteration')), Number(await b.locator('#iteration').getAttribute('data-iteration'))];
      await page.click('#back');
      await expect(a.locator('#iteration').getAttribute('data-iteration')).resolves.toBe(String(at[0] - 1));
      await expect(b.locator('#iteration').getAttribute('data-iteration')).resolves.toBe(String(at[1] - 1));
      await page.close();
    } finally {
      replay.kill('SIGTERM');
    }
  });

  test('the BLPOP lesson: a blocked client, the timer that sets poll\'s timeout, and its firing', async () => {
    const lessons = fileURLToPath(new URL('../../docs/lessons/', import.meta.url));
    const { replay, port } = await startReplay([join(lessons, 'blpop.jsonl')]);
    try {
      const page = await openPage(port);
      await page.locator('#status.replay').waitFor();
      for (let i = 0; i < 20 && !(await page.locator('#timeout').innerText()).includes('BLPOP timeout'); i++) await page.click('#forward');
      await expect(page.locator('#timeout').innerText()).resolves.toBe('timeout 100 ms — BLPOP timeout of client 1');
      if (shots) await page.screenshot({ path: join(DOCS, 'inspector-blpop.png') });
      // The same iteration: poll returns 0 when the timeout ends, and the timer fires (the client gets its nil array).
      await expect(page.locator('#syscalls li').first().innerText()).resolves.toMatch(/^poll\(.*, 100\) = 0/);
      await expect(page.locator('#timers').innerText()).resolves.toContain('timers fired: BLPOP timeout of client 1');
      await page.close();
    } finally {
      replay.kill('SIGTERM');
    }
  });

  test('a file that is not a trace is refused with its line', async () => {
    const bad = join(dir, 'bad.jsonl');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(bad, '{"iteration":1}\nnot json\n');
    const code = await new Promise<number | null>((resolve) => {
      const p = spawn(process.execPath, [REPLAY, bad], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      p.stderr!.on('data', (d) => (err += d));
      p.on('exit', (c) => {
        expect(err).toMatch(/bad\.jsonl:2: not a trace record/);
        resolve(c);
      });
    });
    expect(code).toBe(2);
  });
});
