// BullMQ, unchanged, against redloop: its queue and worker run entirely on
// Lua scripts (EVALSHA of its commands, with cmsgpack, struct-free Lua, ZSETs,
// streams for events, BZPOPMIN/markers to wake workers). A queue, a worker, a
// job that completes, one that fails once and succeeds on its retry
// (attempts 2), one that fails for good, and a delayed job. Waiting is on the
// worker's events, never on a timer.
import { Queue, QueueEvents, Worker, type Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startServer, type TestServer } from './helpers/server.js';

describe('BullMQ against redloop', () => {
  let server: TestServer;
  let queue: Queue;
  let worker: Worker;
  let events: QueueEvents;
  const settled = new Map<string, { resolve: (j: Job) => void; promise: Promise<Job> }>();
  const waitFor = (id: string): Promise<Job> => {
    let entry = settled.get(id);
    if (entry === undefined) {
      let resolve!: (j: Job) => void;
      const promise = new Promise<Job>((r) => (resolve = r));
      entry = { resolve, promise };
      settled.set(id, entry);
    }
    return entry.promise;
  };

  beforeAll(async () => {
    server = await startServer(['--quiet']);
    const connection = { host: '127.0.0.1', port: server.respPort, maxRetriesPerRequest: null };
    queue = new Queue('jobs', { connection });
    events = new QueueEvents('jobs', { connection });
    await events.waitUntilReady();
    worker = new Worker(
      'jobs',
      async (job) => {
        if (job.name === 'double') return { doubled: (job.data as { n: number }).n * 2 };
        if (job.name === 'flaky' && job.attemptsMade === 0) throw new Error('first attempt fails');
        if (job.name === 'flaky') return 'ok on the retry';
        if (job.name === 'doomed') throw new Error('always fails');
        if (job.name === 'later') return 'ran later';
        throw new Error(`unexpected job ${job.name}`);
      },
      { connection },
    );
    const done = (job: Job | undefined) => {
      if (job?.id !== undefined) {
        void waitFor(job.id);
        settled.get(job.id)!.resolve(job);
      }
    };
    worker.on('completed', done);
    // A failure that will be retried is not final: only the last attempt settles the job.
    worker.on('failed', (job) => {
      if (job !== undefined && job.attemptsMade >= (job.opts.attempts ?? 1)) done(job);
    });
    await worker.waitUntilReady();
  });

  afterAll(async () => {
    await worker?.close();
    await events?.close();
    await queue?.close();
    await server?.stop();
  });

  test('a job completes with its return value', async () => {
    const job = await queue.add('double', { n: 21 });
    const finished = await waitFor(job.id!);
    expect(finished.returnvalue).toEqual({ doubled: 42 });
    expect(await queue.getJobState(job.id!)).toBe('completed');
    expect((await queue.getJob(job.id!))!.returnvalue).toEqual({ doubled: 42 });
  });

  test('a job that fails once succeeds on its retry (attempts 2); one that keeps failing ends failed', async () => {
    const flaky = await queue.add('flaky', {}, { attempts: 2 });
    const doomed = await queue.add('doomed', {}, { attempts: 2 });
    const [f, d] = await Promise.all([waitFor(flaky.id!), waitFor(doomed.id!)]);
    expect(f.returnvalue).toBe('ok on the retry');
    expect(f.attemptsMade).toBe(2);
    expect(await queue.getJobState(flaky.id!)).toBe('completed');
    expect(d.failedReason).toBe('always fails');
    expect(d.attemptsMade).toBe(2);
    expect(await queue.getJobState(doomed.id!)).toBe('failed');
    expect(await queue.getJobCounts('completed', 'failed')).toMatchObject({ failed: 1 });
  });

  test('a delayed job waits in the delayed set, then runs', async () => {
    const job = await queue.add('later', {}, { delay: 300 });
    expect(await queue.getJobState(job.id!)).toBe('delayed');
    const finished = await waitFor(job.id!);
    expect(finished.returnvalue).toBe('ran later');
    // BullMQ records when it was added and when a worker took it.
    expect(finished.processedOn! - finished.timestamp).toBeGreaterThanOrEqual(300);
    expect(await queue.getJobState(job.id!)).toBe('completed');
  });
});
