// npm run bench [-- --smoke]
// Measures Labelcast against the hardware's ceiling and against what a Node.js team would
// build instead (BullMQ on Redis, graphile-worker on PostgreSQL), side by side in one run.
// Prints a table, writes bench/results/latest.json, and prints that JSON as its last line.
// Every figure that is a speed is also a ratio to a baseline measured in the same run.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { request, Agent } from 'undici';
import pg from 'pg';
import { command } from '../src/domain/context.js';
import { createNotification } from '../src/domain/notifications.js';
import { createProject, updateProject } from '../src/domain/projects.js';
import { computeDigest } from '../src/domain/digest-stats.js';
import type { DatabaseKind } from '../src/store/kind.js';
import { BENCH_SECRET_KEY, instance, percentile, rssSampler, startReceiver, waitUntil, freshPgDatabase, PG_URL, type Instance } from './harness.js';

const SMOKE = process.argv.includes('--smoke');
const N = SMOKE ? 500 : 50_000;
const CONCURRENCY = 64;
const results: Record<string, any> = { machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memory_gib: Math.round(os.totalmem() / 2 ** 30), node: process.version }, smoke: SMOKE, n: N };
const rows: [string, string, string][] = [];
const log = (s: string) => process.stderr.write(s + '\n');
const r1 = (x: number) => Math.round(x * 10) / 10;
const r3 = (x: number) => Math.round(x * 1000) / 1000;

// ---------------------------------------------------------------- ceiling
async function ceiling(): Promise<number> {
  const rx = await startReceiver();
  const agent = new Agent({ connections: CONCURRENCY });
  const body = JSON.stringify({ type: 'project.updated', timestamp: new Date().toISOString(), data: { project: { id: 1, title: 'x'.repeat(200) } } });
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < N) {
        const res = await request(`${rx.url}/hook`, { method: 'POST', body, headers: { 'content-type': 'application/json' }, dispatcher: agent });
        await res.body.dump();
      }
    }),
  );
  const perS = N / ((performance.now() - start) / 1000);
  await agent.close();
  await rx.close();
  return perS;
}

// ---------------------------------------------------------------- Labelcast throughput
// Producers work on different projects, as a team's annotators do: 16 lanes, one project
// each (all 16 producers on one project row serialized them on its row lock on PostgreSQL).
const LANES = 16;

async function setupHook(inst: Instance, url: string, channels = 1, maxInFlight = CONCURRENCY) {
  const ids: number[] = [];
  for (let i = 0; i < LANES; i++) ids.push((await command(inst.svc, inst.actor, (ctx) => createProject(ctx, { title: `bench ${i}` }))).id);
  const project = { id: ids[0]!, ids };
  for (let i = 0; i < channels; i += 50) {
    const count = Math.min(50, channels - i);
    await command(inst.svc, inst.actor, (ctx) =>
      createNotification(ctx, {
        title: `bench ${i}`,
        triggers: ['project.updated'],
        channels: Array.from({ length: count }, (_, k) => ({ type: 'webhook' as const, url: typeof url === 'string' ? `${url}/c${i + k}` : url, secret: true, max_in_flight: maxInFlight })),
      }),
    );
  }
  return project;
}

async function produce(inst: Instance, project: { ids: number[] }, n: number, parallel = LANES): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async (_, lane) => {
      while (next < n) {
        const i = next++;
        await command(inst.svc, inst.actor, (ctx) => updateProject(ctx, project.ids[lane % project.ids.length]!, { description: `change ${i}` }));
      }
    }),
  );
}

async function succeeded(inst: Instance): Promise<number> {
  const row = await inst.store.db.selectFrom('deliveries').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'succeeded').executeTakeFirstOrThrow();
  return Number(row.n);
}

async function throughput(kind: DatabaseKind): Promise<{ per_s: number; rss_mib: number }> {
  const rx = await startReceiver();
  const inst = await instance(kind);
  const project = await setupHook(inst, rx.url);
  await inst.startWorker();
  const mem = rssSampler();
  const start = performance.now();
  await produce(inst, project, N);
  await waitUntil(async () => (await succeeded(inst)) >= N, 600_000, `${N} deliveries on ${kind}`);
  const perS = N / ((performance.now() - start) / 1000);
  mem.stop();
  await inst.close();
  await rx.close();
  return { per_s: r1(perS), rss_mib: mem.peakMiB() };
}

// ---------------------------------------------------------------- latency
async function latency(kind: DatabaseKind): Promise<Record<string, number>> {
  const rate = SMOKE ? 200 : 1000;
  const seconds = SMOKE ? 3 : 30;
  const rx = await startReceiver();
  rx.recordLatency = true;
  const inst = await instance(kind);
  const project = await setupHook(inst, rx.url);
  await inst.startWorker();
  const mem = rssSampler();
  const total = rate * seconds;
  const start = performance.now();
  let sent = 0;
  const inflight: Promise<unknown>[] = [];
  while (sent < total) {
    const due = Math.floor(((performance.now() - start) / 1000) * rate);
    while (sent < Math.min(due, total)) {
      const i = sent++;
      inflight.push(command(inst.svc, inst.actor, (ctx) => updateProject(ctx, project.ids[i % LANES]!, { description: `l${i}` })));
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(inflight);
  await waitUntil(() => rx.latencies.length >= total, 120_000, 'latency deliveries');
  mem.stop();
  const sorted = [...rx.latencies].sort((a, b) => a - b);
  await inst.close();
  await rx.close();
  return { rate_per_s: rate, seconds, p50_ms: percentile(sorted, 50), p99_ms: percentile(sorted, 99), max_ms: sorted[sorted.length - 1]!, rss_mib: mem.peakMiB() };
}

// ---------------------------------------------------------------- fan-out
async function fanout(): Promise<Record<string, number>> {
  const k = SMOKE ? 100 : 1000;
  const rx = await startReceiver();
  // One event to k channels.
  let inst = await instance('sqlite');
  let project = await setupHook(inst, rx.url, k, 4);
  await inst.startWorker();
  let start = performance.now();
  await command(inst.svc, inst.actor, (ctx) => updateProject(ctx, project.id, { description: 'fan' }));
  await waitUntil(async () => (await succeeded(inst)) >= k, 120_000, 'fan-out');
  const oneToMany = (performance.now() - start) / k;
  await inst.close();
  // k events to one channel.
  inst = await instance('sqlite');
  project = await setupHook(inst, rx.url, 1);
  await inst.startWorker();
  start = performance.now();
  await produce(inst, project, k);
  await waitUntil(async () => (await succeeded(inst)) >= k, 120_000, 'fan-in');
  const manyToOne = (performance.now() - start) / k;
  await inst.close();
  await rx.close();
  return { deliveries: k, one_event_to_many_ms_per_delivery: r3(oneToMany), many_events_to_one_ms_per_delivery: r3(manyToOne), ratio: r3(oneToMany / manyToOne) };
}

// ---------------------------------------------------------------- isolation
async function isolation(): Promise<Record<string, number>> {
  const n = SMOKE ? 500 : 10_000;
  const run = async (withHang: boolean) => {
    const rx = await startReceiver();
    const inst = await instance('sqlite', { timeoutMs: 2000 });
    const project = await setupHook(inst, rx.url, 100, 8);
    if (withHang) {
      await command(inst.svc, inst.actor, (ctx) => createNotification(ctx, { title: 'hang', triggers: ['project.updated'], channels: [{ type: 'webhook', url: `${rx.url}/hang`, max_in_flight: 32 }] }));
    }
    await inst.startWorker();
    const start = performance.now();
    await produce(inst, project, n / 100);
    await waitUntil(() => rx.count >= n, 300_000, 'isolation deliveries');
    const perS = n / ((performance.now() - start) / 1000);
    await inst.close();
    await rx.close();
    return perS;
  };
  const healthy = await run(false);
  const withHang = await run(true);
  return { healthy_per_s: r1(healthy), with_hanging_per_s: r1(withHang), ratio: r3(withHang / healthy) };
}

// ---------------------------------------------------------------- scale-out
// Each worker sends at most 16 requests at a time, against receivers answering after 50 ms:
// at most 320 deliveries/s per worker, so the run is bound by waiting rather than by the two
// cores it shares with PostgreSQL (the intent). At 64 per worker it was CPU-bound.
const SCALE_OUT_CONCURRENCY = 16;
async function scaleOut(): Promise<Record<string, number>> {
  const n = SMOKE ? 300 : 6000;
  const run = async (workers: number) => {
    const rx = await startReceiver(50);
    const inst = await instance('postgres');
    const project = await setupHook(inst, rx.url, 20, 16);
    await produce(inst, project, n / 20);
    const children = [];
    const start = performance.now();
    for (let i = 0; i < workers; i++) {
      children.push(
        spawn(process.execPath, ['dist/cli.js', 'serve', '--role', 'worker', '--port', '0', '--host', '127.0.0.1'], {
          env: { PATH: process.env.PATH ?? '', DATABASE_URL: inst.databaseUrl!, LABELCAST_ALLOW_PRIVATE_TARGETS: 'true', LOG_LEVEL: 'warn', LABELCAST_WORKER_CONCURRENCY: String(SCALE_OUT_CONCURRENCY), LABELCAST_ADMIN_KEY: 'lc_bench-admin-key-0000', LABELCAST_SECRET_KEY: BENCH_SECRET_KEY },
          stdio: 'ignore',
        }),
      );
    }
    try {
      // Measured from the first arrival, so process start-up is not counted.
      await waitUntil(() => rx.count > 0, 60_000, 'the workers to start');
      const t1 = performance.now();
      const c1 = rx.count;
      void start;
      await waitUntil(() => rx.count >= n, 300_000, `scale-out with ${workers} workers`);
      return (n - c1) / ((performance.now() - t1) / 1000);
    } finally {
      // Also on failure: a bench leaves no worker process behind.
      for (const c of children) c.kill('SIGKILL');
      await inst.close();
      await rx.close();
    }
  };
  const one = await run(1);
  const two = await run(2);
  return { one_worker_per_s: r1(one), two_workers_per_s: r1(two), ratio: r3(two / one) };
}

// ---------------------------------------------------------------- peers
// Installed by `npm run bench` into bench/peers (see its package.json for why not here).
async function peer(name: string): Promise<unknown> {
  const require = createRequire(path.resolve('bench/peers/package.json'));
  return import(pathToFileURL(require.resolve(name)).href);
}

async function bullmq(): Promise<number> {
  const { Queue, Worker } = (await peer('bullmq')) as any;
  const rx = await startReceiver();
  const connection = { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null };
  const name = `bench-${Date.now()}`;
  const queue = new Queue(name, { connection });
  const agent = new Agent({ connections: CONCURRENCY });
  let done = 0;
  const worker = new Worker(
    name,
    async (job: { data: unknown }) => {
      const res = await request(`${rx.url}/bull`, { method: 'POST', body: JSON.stringify(job.data), headers: { 'content-type': 'application/json' }, dispatcher: agent });
      await res.body.dump();
      if (res.statusCode < 200 || res.statusCode >= 300) throw new Error(`status ${res.statusCode}`);
      done++;
    },
    { connection, concurrency: CONCURRENCY },
  );
  const start = performance.now();
  for (let i = 0; i < N; i += 1000) {
    await queue.addBulk(Array.from({ length: Math.min(1000, N - i) }, (_, k) => ({ name: 'webhook', data: { type: 'project.updated', timestamp: new Date().toISOString(), data: { i: i + k } }, opts: { attempts: 8, removeOnComplete: true } })));
  }
  await waitUntil(() => done >= N, 600_000, 'bullmq jobs');
  const perS = N / ((performance.now() - start) / 1000);
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  await agent.close();
  await rx.close();
  return perS;
}

async function graphile(): Promise<number> {
  const gwm = (await peer('graphile-worker')) as any;
  const { run, makeWorkerUtils } = gwm;
  const db = await freshPgDatabase();
  const rx = await startReceiver();
  const agent = new Agent({ connections: CONCURRENCY });
  let done = 0;
  // Our own pool, ended before the database is dropped: graphile-worker's internal pools
  // could still hold a client when the drop terminated it, and an unhandled pool 'error'
  // crashed the bench (seen once in CI).
  const pool = new pg.Pool({ connectionString: db.url, max: CONCURRENCY + 4 });
  pool.on('error', () => undefined);
  const utils = await makeWorkerUtils({ pgPool: pool });
  await utils.migrate();
  const runner = await run({
    pgPool: pool,
    concurrency: CONCURRENCY,
    noHandleSignals: true,
    pollInterval: 1000,
    logger: new gwm.Logger(() => () => undefined),
    taskList: {
      webhook: async (payload: unknown) => {
        const res = await request(`${rx.url}/graphile`, { method: 'POST', body: JSON.stringify(payload), headers: { 'content-type': 'application/json' }, dispatcher: agent });
        await res.body.dump();
        if (res.statusCode < 200 || res.statusCode >= 300) throw new Error(`status ${res.statusCode}`);
        done++;
      },
    },
  });
  const start = performance.now();
  for (let i = 0; i < N; i += 1000) {
    await utils.addJobs(Array.from({ length: Math.min(1000, N - i) }, (_, k) => ({ identifier: 'webhook', payload: { type: 'project.updated', timestamp: new Date().toISOString(), data: { i: i + k } }, maxAttempts: 8 })));
  }
  await waitUntil(() => done >= N, 600_000, 'graphile-worker jobs');
  const perS = N / ((performance.now() - start) / 1000);
  await runner.stop();
  await utils.release();
  await pool.end();
  await agent.close();
  await rx.close();
  await db.drop();
  return perS;
}

// ---------------------------------------------------------------- digest
async function digest(kind: DatabaseKind): Promise<Record<string, number>> {
  const rowsN = SMOKE ? 20_000 : 1_000_000;
  const inst = await instance(kind);
  const project = await command(inst.svc, inst.actor, (ctx) => createProject(ctx, { title: 'digest' }));
  const now = Date.now();
  const users = 50;
  for (let u = 0; u < users; u++) {
    await inst.store.db.insertInto('users').values({ org_id: inst.actor.org_id, email: `u${u}@bench`, name: `u${u}`, role: 'annotator', created_at: now, updated_at: now }).execute();
  }
  const firstUser = inst.actor.user_id + 1;
  // Rows spread over 48 hours; half fall in the digest's 24-hour window.
  const kinds = `'label_add','label_edit','label_submit','review_accept','review_reject'`;
  if (kind === 'postgres') {
    await sql`insert into activity (org_id, project_id, task_id, label_id, user_id, subject_user_id, kind, duration_ms, comment, occurred_at)
      select ${inst.actor.org_id}, ${project.id}, g % 1000, g, ${firstUser} + (g % ${users}), ${firstUser} + ((g / 7) % ${users}),
             (array[${sql.raw(kinds)}])[1 + g % 5], (g % 5000), null, ${now}::bigint - (g % 172800) * 1000
      from generate_series(1, ${rowsN}) g`.execute(inst.store.db);
  } else {
    await sql`with recursive g(x) as (select 1 union all select x + 1 from g where x < ${rowsN})
      insert into activity (org_id, project_id, task_id, label_id, user_id, subject_user_id, kind, duration_ms, comment, occurred_at)
      select ${inst.actor.org_id}, ${project.id}, x % 1000, x, ${firstUser} + (x % ${users}), ${firstUser} + ((x / 7) % ${users}),
             case x % 5 when 0 then 'label_add' when 1 then 'label_edit' when 2 then 'label_submit' when 3 then 'review_accept' else 'review_reject' end,
             (x % 5000), null, ${now} - (x % 172800) * 1000
      from g`.execute(inst.store.db);
  }
  if (kind === 'postgres') await sql`analyze activity`.execute(inst.store.db);
  const start = performance.now();
  const d = await computeDigest(inst.store.db, inst.actor.org_id, 'all', now - 24 * 3600_000, now);
  const seconds = (performance.now() - start) / 1000;
  await inst.close();
  return { rows: rowsN, seconds: r3(seconds), annotators: d.projects_stats[0]?.annotator_stats.length ?? 0 };
}

// ---------------------------------------------------------------- memory under a backlog
async function backlog(): Promise<Record<string, number>> {
  const sizes = SMOKE ? [2_000, 20_000] : [10_000, 1_000_000];
  const out: Record<string, number> = {};
  for (const size of sizes) {
    const rx = await startReceiver();
    const inst = await instance('sqlite', { timeoutMs: 60_000 });
    const project = await setupHook(inst, `${rx.url}/hang`, 1, 32);
    const channel = await inst.store.db.selectFrom('channels').select(['id', 'notification_id']).executeTakeFirstOrThrow();
    // One real event, and the backlog as its parts: every delivery can be rendered.
    await command(inst.svc, inst.actor, (ctx) => updateProject(ctx, project.ids[0]!, { description: 'backlog' }));
    const ev = await inst.store.db.selectFrom('events').select('id').where('type', '=', 'project.updated').executeTakeFirstOrThrow();
    await inst.store.db.deleteFrom('deliveries').execute();
    const now = Date.now();
    await sql`with recursive g(x) as (select 1 union all select x + 1 from g where x < ${size})
      insert into deliveries (org_id, notification_id, channel_id, event_id, event_type, part, payload, status, attempt_count, retry_index, next_attempt_at, created_at, updated_at, dedupe_key)
      select ${inst.actor.org_id}, ${channel.notification_id}, ${channel.id}, ${ev.id}, 'project.updated', x, null, 'pending', 0, 0, ${now}, ${now}, ${now}, null from g`.execute(inst.store.db);
    global.gc?.();
    const mem = rssSampler(50);
    await inst.startWorker();
    await new Promise((r) => setTimeout(r, SMOKE ? 1500 : 5000));
    mem.stop();
    out[`rss_mib_backlog_${size}`] = mem.peakMiB();
    await inst.close();
    await rx.close();
  }
  out.ratio = r3(out[`rss_mib_backlog_${sizes[1]}`]! / out[`rss_mib_backlog_${sizes[0]}`]!);
  return out;
}

/** Runs one scenario with a time limit, so a stuck scenario is reported, not waited for. */
async function scenario<T>(name: string, limitS: number, fn: () => Promise<T>): Promise<T | { error: string }> {
  const t = performance.now();
  log(`-- ${name}`);
  try {
    const r = await Promise.race([fn(), new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`did not finish in ${limitS} s`)), limitS * 1000))]);
    log(`   ${name}: ${JSON.stringify(r)} (${r1((performance.now() - t) / 1000)} s)`);
    return r;
  } catch (err) {
    log(`   ${name} FAILED: ${(err as Error).message}`);
    return { error: (err as Error).message };
  }
}

// ---------------------------------------------------------------- main
async function main() {
  const t0 = performance.now();
  log(`Labelcast bench (${SMOKE ? 'smoke' : 'full'}): N=${N}, concurrency ${CONCURRENCY}, ${results.machine.cpus} cpus`);
  const ok = <T,>(r: T | { error: string }): r is T => !(r && typeof r === 'object' && 'error' in r);
  const ceil = await ceiling();
  results.ceiling = { per_s: r1(ceil) };
  rows.push(['ceiling (undici, no queue)', `${r1(ceil)} /s`, '1.00']);
  log(`ceiling ${r1(ceil)}/s`);

  results.throughput = {};
  for (const d of ['sqlite', 'postgres'] as const) {
    const t = await scenario(`throughput ${d}`, 240, () => throughput(d));
    results.throughput[d] = ok(t) ? { ...t, ratio: r3(t.per_s / ceil) } : t;
    rows.push([`throughput ${d}`, ok(t) ? `${t.per_s} /s` : t.error, ok(t) ? `${r3(t.per_s / ceil)} of ceiling` : '']);
  }

  const bull = await scenario('peer bullmq', 180, bullmq);
  const gw = await scenario('peer graphile-worker', 180, graphile);
  results.peers = { bullmq: ok(bull) ? { per_s: r1(bull), ratio: r3(bull / ceil) } : bull, graphile: ok(gw) ? { per_s: r1(gw), ratio: r3(gw / ceil) } : gw };
  results.vs_peers = {
    sqlite_over_bullmq: ok(bull) && results.throughput.sqlite.per_s ? r3(results.throughput.sqlite.per_s / bull) : null,
    postgres_over_graphile: ok(gw) && results.throughput.postgres.per_s ? r3(results.throughput.postgres.per_s / gw) : null,
  };
  rows.push(['peer: BullMQ + Redis', ok(bull) ? `${r1(bull)} /s` : bull.error, `Labelcast SQLite = ${results.vs_peers.sqlite_over_bullmq}x`]);
  rows.push(['peer: graphile-worker + PostgreSQL', ok(gw) ? `${r1(gw)} /s` : gw.error, `Labelcast PostgreSQL = ${results.vs_peers.postgres_over_graphile}x`]);

  results.latency = {};
  for (const d of ['sqlite', 'postgres'] as const) {
    const l = await scenario(`latency ${d}`, 150, () => latency(d));
    results.latency[d] = l;
    rows.push([`latency ${d}`, ok(l) ? `@${l.rate_per_s}/s: p50 ${l.p50_ms} ms, p99 ${l.p99_ms} ms, max ${l.max_ms} ms` : l.error, '']);
  }

  const f = await scenario('fan-out', 120, fanout);
  results.fanout = f;
  rows.push(['fan-out 1 event -> channels', ok(f) ? `${f.one_event_to_many_ms_per_delivery} ms/delivery` : f.error, ok(f) ? `${f.ratio} of many->1` : '']);
  const iso = await scenario('isolation', 120, isolation);
  results.isolation = iso;
  rows.push(['isolation (1 hanging of 101)', ok(iso) ? `${iso.with_hanging_per_s} /s` : iso.error, ok(iso) ? `${iso.ratio} of healthy-only` : '']);
  const so = await scenario('scale-out', 150, scaleOut);
  results.scale_out = so;
  rows.push(['scale-out PostgreSQL 2 vs 1 worker', ok(so) ? `${so.two_workers_per_s} /s` : so.error, ok(so) ? `${so.ratio}x` : '']);
  results.digest = {};
  for (const d of ['sqlite', 'postgres'] as const) {
    const g = await scenario(`digest ${d}`, 120, () => digest(d));
    results.digest[d] = g;
    rows.push([`digest (${d})`, ok(g) ? `${g.rows} rows: ${g.seconds} s` : g.error, '']);
  }
  const m = await scenario('memory under a backlog', 120, backlog);
  results.memory = m;
  rows.push(['memory under a pending backlog', JSON.stringify(m), '']);
  results.seconds = r1((performance.now() - t0) / 1000);

  const w = Math.max(...rows.map((r) => r[0].length));
  const w2 = Math.max(...rows.map((r) => r[1].length));
  process.stdout.write(`\n${'scenario'.padEnd(w)}  ${'result'.padEnd(w2)}  ratio\n`);
  for (const [a, b, c] of rows) process.stdout.write(`${a.padEnd(w)}  ${b.padEnd(w2)}  ${c}\n`);
  const json = JSON.stringify(results);
  fs.mkdirSync(path.resolve('bench/results'), { recursive: true });
  fs.writeFileSync(path.resolve('bench/results', SMOKE ? 'smoke.json' : 'latest.json'), JSON.stringify(results, null, 2) + '\n');
  process.stdout.write(`\n${json}\n`);
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
void PG_URL;
