// CLIENT TRACKING behaviour the differential suite cannot pin down because
// Redis picks at random: the bounded tracking table (Redis evicts random keys
// over tracking-table-max-keys; redloop the oldest remembered ones).
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startServer, type TestServer } from './helpers/server.js';

describe('CLIENT TRACKING: the tracking table is bounded', () => {
  let server: TestServer;
  const clients: ReturnType<typeof createClient>[] = [];
  beforeAll(async () => {
    server = await startServer(['--quiet']);
  });
  afterAll(async () => {
    for (const c of clients) if (c.isOpen) c.destroy();
    await server.stop();
  });

  test('over tracking-table-max-keys the oldest keys are invalidated and forgotten', async () => {
    const tracked = createClient({ url: `redis://127.0.0.1:${server.respPort}`, RESP: 3, emitInvalidate: true });
    const writer = createClient({ url: `redis://127.0.0.1:${server.respPort}` });
    clients.push(tracked, writer);
    await Promise.all([tracked.connect(), writer.connect()]);
    const told: (string | null)[] = [];
    tracked.on('invalidate', (k: unknown) => told.push(k === null ? null : String(k)));

    expect(await writer.configGet('tracking-table-max-keys')).toEqual({ 'tracking-table-max-keys': '1000000' });
    await writer.configSet('tracking-table-max-keys', '2');
    await tracked.sendCommand(['CLIENT', 'TRACKING', 'ON']);
    await tracked.get('a');
    await tracked.get('b');
    expect(told).toEqual([]);
    await tracked.mGet(['c', 'd']); // four keys now: a and b are pushed out
    await tracked.ping();
    expect(told).toEqual(['a', 'b']);
    await writer.mSet({ a: '1', b: '1' }); // forgotten: nothing more
    await writer.mSet({ c: '1', d: '1' });
    await tracked.ping();
    expect(told).toEqual(['a', 'b', 'c', 'd']);

    await writer.configSet('tracking-table-max-keys', '0'); // no bound
    for (let i = 0; i < 10; i++) await tracked.get(`k${i}`);
    await tracked.ping();
    expect(told).toHaveLength(4);
  });
});
