// Child process: one side of a peer (BullMQ on Redis, graphile-worker on PostgreSQL). The
// bench starts two of these per peer run, one as the worker (consumes jobs, posts each to the
// receiver, 64 at a time) and one as the producer (adds the jobs), as a team would deploy
// them, and as Labelcast's producers and dispatcher are split.
//
// Producing: 'per_event' is the headline: LANES concurrent producers each add one job per
// event as it happens (queue.add / addJob, awaited, then the next), the way workflow events
// arrive from concurrent requests; 'bulk' adds pre-made jobs 1,000 per call (addBulk /
// addJobs), kept as a reference.
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { request, Agent } from 'undici';
import { serve, whenTrue } from './procs.js';

// Installed by `npm run bench` into bench/peers (see its package.json for why not here).
async function peer(name: string): Promise<any> {
  const require = createRequire(path.resolve('bench/peers/package.json'));
  return import(pathToFileURL(require.resolve(name)).href);
}

const connection = { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null };
export type ProduceMode = 'per_event' | 'bulk';
const job = (i: number) => ({ type: 'project.updated', timestamp: new Date().toISOString(), data: { i } });

let done = 0;
const closers: (() => Promise<void>)[] = [];

async function post(agent: Agent, url: string, payload: unknown) {
  const res = await request(url, { method: 'POST', body: JSON.stringify(payload), headers: { 'content-type': 'application/json' }, dispatcher: agent });
  await res.body.dump();
  if (res.statusCode < 200 || res.statusCode >= 300) throw new Error(`status ${res.statusCode}`);
  done++;
}

/** Runs `lanes` producers, each adding one job and awaiting it before the next, until n. */
async function perEvent(n: number, lanes: number, add: (i: number) => Promise<unknown>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (next < n) await add(next++);
    }),
  );
}

serve({
  async bullmqWorker({ name, url, concurrency }: { name: string; url: string; concurrency: number }) {
    const { Worker } = await peer('bullmq');
    const agent = new Agent({ connections: concurrency });
    const worker = new Worker(name, (j: { data: unknown }) => post(agent, `${url}/bull`, j.data), { connection, concurrency });
    await worker.waitUntilReady();
    closers.push(async () => {
      await worker.close();
      await agent.close();
    });
  },
  async bullmqProduce({ name, n, lanes, mode }: { name: string; n: number; lanes: number; mode: ProduceMode }) {
    const { Queue } = await peer('bullmq');
    const queue = new Queue(name, { connection });
    await queue.waitUntilReady();
    const opts = { attempts: 8, removeOnComplete: true };
    const start = performance.now();
    if (mode === 'per_event') {
      await perEvent(n, lanes, (i) => queue.add('webhook', job(i), opts));
    } else {
      for (let i = 0; i < n; i += 1000) {
        await queue.addBulk(Array.from({ length: Math.min(1000, n - i) }, (_, k) => ({ name: 'webhook', data: job(i + k), opts })));
      }
    }
    const seconds = (performance.now() - start) / 1000;
    closers.push(async () => {
      await queue.obliterate({ force: true });
      await queue.close();
    });
    return { produce_per_s: n / seconds };
  },
  async graphileWorker({ databaseUrl, url, concurrency }: { databaseUrl: string; url: string; concurrency: number }) {
    const gwm = await peer('graphile-worker');
    const agent = new Agent({ connections: concurrency });
    // Our own pool, ended before the database is dropped: graphile-worker's internal pools
    // could still hold a client when the drop terminated it, and an unhandled pool 'error'
    // crashed the bench (seen once in CI).
    const pool = new pg.Pool({ connectionString: databaseUrl, max: concurrency + 4 });
    pool.on('error', () => undefined);
    pool.on('connect', (c) => c.on('error', () => undefined));
    const runner = await gwm.run({
      pgPool: pool,
      concurrency,
      noHandleSignals: true,
      pollInterval: 1000,
      logger: new gwm.Logger(() => () => undefined),
      taskList: { webhook: (payload: unknown) => post(agent, `${url}/graphile`, payload) },
    });
    closers.push(async () => {
      await runner.stop();
      await pool.end();
      await agent.close();
    });
  },
  async graphileProduce({ databaseUrl, n, lanes, mode }: { databaseUrl: string; n: number; lanes: number; mode: ProduceMode }) {
    const gwm = await peer('graphile-worker');
    // One connection per producer lane, as Labelcast's producer process has.
    const pool = new pg.Pool({ connectionString: databaseUrl, max: lanes });
    pool.on('error', () => undefined);
    pool.on('connect', (c) => c.on('error', () => undefined));
    const utils = await gwm.makeWorkerUtils({ pgPool: pool });
    await utils.migrate();
    const start = performance.now();
    if (mode === 'per_event') {
      await perEvent(n, lanes, (i) => utils.addJob('webhook', job(i), { maxAttempts: 8 }));
    } else {
      for (let i = 0; i < n; i += 1000) {
        await utils.addJobs(Array.from({ length: Math.min(1000, n - i) }, (_, k) => ({ identifier: 'webhook', payload: job(i + k), maxAttempts: 8 })));
      }
    }
    const seconds = (performance.now() - start) / 1000;
    closers.push(async () => {
      await utils.release();
      await pool.end();
    });
    return { produce_per_s: n / seconds };
  },
  /** How the Redis the peers use keeps its data: appendonly and save (RDB snapshots). */
  async redisDurability() {
    const { default: Redis } = await peer('ioredis');
    const redis = new Redis(connection);
    try {
      const [, appendonly] = (await redis.config('GET', 'appendonly')) as string[];
      const [, save] = (await redis.config('GET', 'save')) as string[];
      return { appendonly, save };
    } finally {
      redis.disconnect();
    }
  },
  /** Worker side: resolves once n jobs were delivered (2xx). */
  waitDone: ({ n, timeoutMs }: { n: number; timeoutMs: number }) => whenTrue(() => done >= n, timeoutMs, `${n} jobs (done ${done})`),
  async close() {
    for (const c of closers.reverse()) await c();
  },
});
