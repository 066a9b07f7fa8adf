// Runs the live fuzzer (src/cli/fuzz.ts) for a few seconds against a spawned
// server: random and mutated frames on both ports must neither crash it nor
// disturb the control client's keys. CI runs it longer: npm run fuzz -- --seconds 60.

import { expect, test } from 'vitest';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const FUZZ = fileURLToPath(new URL('../dist/cli/fuzz.js', import.meta.url));

function runFuzz(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [FUZZ, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    p.on('exit', (code) => resolve({ code, out }));
  });
}

test('a few seconds of live fuzzing on both ports: the server survives and the control keys are intact', async () => {
  const { code, out } = await runFuzz(['--seconds', '3', '--conns', '8', '--seed', '12345']);
  expect(out).toContain('fuzz: OK');
  expect(code).toBe(0);
  expect(out).toMatch(/fuzz: [1-9]\d* connections/);
}, 60_000);
