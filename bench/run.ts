// npm run bench [-- --smoke] [-- --n=5000 --only=throughput,peers,latency,fanout,isolation,scaleout,digest,memory]
// Measures Labelcast against the hardware's ceiling and against what a Node.js team would
// build instead (BullMQ on Redis, graphile-worker on PostgreSQL), side by side in one run.
// Prints a table, writes bench/results/latest.json (smoke: smoke.json), and prints that JSON
// as its last line. Every figure that is a speed is also a ratio to a baseline of the same run.
//
// How each figure is measured (this process is the coordinator; children are forked from
// build/bench/*-proc.js and talk to it over IPC, procs.ts):
// - receiver: every scenario's webhook receiver is a child process of its own
//   (receiver-proc.ts); the coordinator asks it for counts and latencies over IPC.
// - ceiling: a client process (blast-proc.ts, undici, 64 at a time, no queue, no storage)
//   posting to the receiver process. Rate as timed by the client.
// - throughput: the dispatcher runs in this process (and only it: completion is awaited from
//   the receiver's count over IPC, then one count of succeeded rows); the producers run in a
//   child (producer-proc.ts) on the same store: 16 concurrent domain commands (LANES), one
//   project each, each committing a change, its event and its deliveries. From the first
//   command to the last delivery recorded as succeeded. That is the PostgreSQL figure (API
//   and worker processes). SQLite's headline keeps the producers in the dispatcher's process,
//   which is how SQLite is deployed (one process serves API and delivery) and is no help to
//   Labelcast (the producers' work shares its event loop). SQLite with the producers apart
//   is kept as a reference (throughput.sqlite_own_producers): two processes then write one
//   file, each write transaction BEGIN IMMEDIATE waiting out the other's in SQLite's busy
//   handler (busy_timeout 5 s), which polls with sleeps that block the waiting process; a
//   process that commits back to back starves the other (measured: a second writer waited
//   0.4-1.3 s per transaction against a writer leaving 0.2-1 ms gaps), which cut the
//   dispatcher's rate and put latency at 200 events/s near 1 s in smoke runs. A commit's
//   wake-up reaches the dispatcher over IPC there (on PostgreSQL by Labelcast's NOTIFY).
//   On PostgreSQL each producer lane has a connection of its own (a pool of 16), as
//   graphile-worker's producer has.
// - peers: a worker process (peer-proc.ts: consumes, posts to the receiver 64 at a time) and
//   a producer process, the receiver in a third. The headline (peers.bullmq, peers.graphile,
//   and vs_peers) is per-event: 16 concurrent producers (LANES), each adding one job as its
//   event happens (queue.add / addJob, awaited, then the next), like Labelcast's producers.
//   The bulk figure (peers.*_bulk: addBulk / addJobs of 1,000 pre-made jobs per call) is kept
//   as a reference. From the first add to the last job done.
// - latency: producers at a fixed rate, placed as for throughput (SQLite also with them
//   apart, for reference); the receiver records the time from each event's timestamp to its
//   arrival. Measured after a warm-up at the same rate, and with it (see latency below).
// - fan-out, isolation, scale-out, memory: the receiver in its own process; fan-out and
//   isolation still produce from this process (few events); scale-out's workers are
//   `labelcast serve --role worker` processes.
// Durability is not the same on both sides: the peers' Redis is the one already running on
// 127.0.0.1:6379 (the bench does not start it), and there it runs without persistence
// (appendonly no, save ""), so an acknowledged add is in memory only. Labelcast's SQLite runs
// in WAL mode with synchronous=FULL (store/connect.ts; LABELCAST_SQLITE_SYNC), an fsync per
// commit of every command (the dispatcher's own claims and records commit at NORMAL when no
// command shares their group, store/group-commit.ts); PostgreSQL (Labelcast's and graphile-worker's alike) with synchronous_commit=on.
// Each run reads these settings from the running systems (results.durability).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { command, computeDigest, createNotification, createProject, updateProject, type DatabaseKind } from './labelcast.js';
import { freshPgDatabase, instance, PG_URL, percentile, produce as produceIn, produceAtRate, rssSampler, startProducers, startReceiver, waitUntil, BENCH_SECRET_KEY, type Instance } from './harness.js';
import { killAll, startProc } from './procs.js';

const SMOKE = process.argv.includes('--smoke');
const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
// For measuring one change: --n=5000 sets the event count, --only=throughput,peers picks
// scenarios (the ceiling always runs). A partial run prints its JSON but writes no file.
const ONLY = arg('only')?.split(',');
const PARTIAL = ONLY !== undefined || arg('n') !== undefined;
const want = (section: string) => !ONLY || ONLY.includes(section);
const N = Number(arg('n') ?? (SMOKE ? 500 : 50_000));
const CONCURRENCY = 64;
const results: Record<string, any> = { machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memory_gib: Math.round(os.totalmem() / 2 ** 30), node: process.version }, smoke: SMOKE, n: N, ...(ONLY ? { only: ONLY } : {}) };
const rows: [string, string, string][] = [];
const log = (s: string) => process.stderr.write(s + '\n');
const r1 = (x: number) => Math.round(x * 10) / 10;
const r3 = (x: number) => Math.round(x * 1000) / 1000;

// ---------------------------------------------------------------- ceiling
async function ceiling(): Promise<number> {
  const rx = await startReceiver();
  const client = await startProc('blast-proc');
  try {
    return await client.call<number>('blast', { url: rx.url, n: N, concurrency: CONCURRENCY });
  } finally {
    await client.stop();
    await rx.close();
  }
}

// ---------------------------------------------------------------- Labelcast throughput
// Producers work on different projects, as a team's annotators do: 16 lanes, one project
// each (all 16 producers on one project row serialized them on its row lock on PostgreSQL).
// The peers' per-event producers use the same number of lanes.
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

/** Producers in this process (the dispatcher's, when one runs here). */
function produce(inst: Instance, project: { ids: number[] }, n: number, parallel = LANES): Promise<void> {
  return produceIn(inst.svc, inst.actor, project.ids, n, parallel);
}

async function succeeded(inst: Instance): Promise<number> {
  const row = await inst.store.db.selectFrom('deliveries').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'succeeded').executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * From the first command to the last delivery recorded. producers: 'own' runs them in a
 * process of their own, 'inproc' in this one, beside the dispatcher.
 */
async function throughput(kind: DatabaseKind, producers: 'own' | 'inproc'): Promise<Record<string, number>> {
  const rx = await startReceiver();
  const inst = await instance(kind);
  const project = await setupHook(inst, rx.url);
  // Each producer lane has its own connection on PostgreSQL, as graphile-worker's producer has.
  const remote = producers === 'own' ? await startProducers(inst, LANES) : null;
  await inst.startWorker();
  const mem = rssSampler();
  const start = performance.now();
  let producePerS: number;
  if (remote) {
    producePerS = (await remote.produce(project.ids, N, LANES)).produce_per_s;
  } else {
    await produce(inst, project, N);
    producePerS = N / ((performance.now() - start) / 1000);
  }
  // Waiting costs the dispatcher's process nothing until the receiver has seen every
  // delivery; then the records are checked (the last batch may still be committing).
  await rx.waitCount(N, 600_000);
  await waitUntil(async () => (await succeeded(inst)) >= N, 60_000, `${N} deliveries recorded on ${kind}`);
  const perS = N / ((performance.now() - start) / 1000);
  mem.stop();
  // Every delivery arrived once: a failed or repeated send would show here.
  const received = await rx.count();
  if (received !== N) log(`   note: the receiver got ${received} requests for ${N} deliveries`);
  const producerRss = remote ? (await remote.close()).rss_mib : null;
  await inst.close();
  await rx.close();
  return { per_s: r1(perS), produce_per_s: r1(producePerS), rss_mib: mem.peakMiB(), ...(producerRss !== null ? { producer_rss_mib: producerRss } : {}) };
}

// ---------------------------------------------------------------- latency
// The first seconds after the processes start are a phase of their own: at 1,000 events/s
// on PostgreSQL the first second's p99 read 62-174 ms in thirteen probes, the seconds after it
// mostly 20-50 ms, and only ~3,000 commands before (at 300 or 1,000/s) took that away, not
// 300 or 500, not the pool's connections opened first, not an ANALYZE: most likely V8
// optimizing the hot paths of three processes on two cores already 70-80% busy at that rate
// (docs/performance.md, round 8). So the scenario runs WARMUP_S at the same rate first,
// waits for those events to arrive, and measures the next `seconds`; `p99_with_start_ms` is
// the p99 over both, as earlier rounds measured it.
const WARMUP_S = 3;

async function latency(kind: DatabaseKind, producers: 'own' | 'inproc'): Promise<Record<string, number>> {
  const rate = SMOKE ? 200 : 1000;
  const seconds = SMOKE ? 3 : 30;
  const warmup = SMOKE ? 1 : WARMUP_S;
  const rx = await startReceiver();
  await rx.recordLatency();
  const inst = await instance(kind);
  const project = await setupHook(inst, rx.url);
  const remote = producers === 'own' ? await startProducers(inst, LANES) : null;
  await inst.startWorker();
  const mem = rssSampler();
  const atRate = (s: number) => (remote ? remote.atRate(project.ids, rate, s) : produceAtRate(inst.svc, inst.actor, project.ids, rate, s));
  await atRate(warmup);
  await rx.waitCount(rate * warmup, 120_000);
  const atStart = (await rx.latencies()).length;
  await atRate(seconds);
  await rx.waitCount(rate * (warmup + seconds), 120_000);
  mem.stop();
  const all = await rx.latencies();
  const sorted = all.slice(atStart).sort((a, b) => a - b);
  const withStart = [...all].sort((a, b) => a - b);
  if (remote) await remote.close();
  await inst.close();
  await rx.close();
  return {
    rate_per_s: rate,
    seconds,
    warmup_s: warmup,
    p50_ms: percentile(sorted, 50),
    p99_ms: percentile(sorted, 99),
    max_ms: sorted[sorted.length - 1]!,
    p99_with_start_ms: percentile(withStart, 99),
    max_with_start_ms: withStart[withStart.length - 1]!,
    rss_mib: mem.peakMiB(),
  };
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
    await rx.waitCount(n, 300_000);
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
      await rx.waitCount(1, 60_000);
      const t1 = performance.now();
      const c1 = await rx.count();
      void start;
      await rx.waitCount(n, 300_000);
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

// ---------------------------------------------------------------- durability
/** What each side does before it acknowledges a write, read from the running systems. */
async function durability(): Promise<Record<string, unknown>> {
  const p = await startProc('peer-proc');
  const redis = await p.call('redisDurability').finally(() => p.stop());
  const inst = await instance('sqlite');
  const sync = await sql<{ synchronous: number }>`pragma synchronous`.execute(inst.store.db);
  const mode = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(inst.store.db);
  await inst.close();
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  const pgSync = (await c.query('show synchronous_commit')).rows[0]?.synchronous_commit;
  const pgFsync = (await c.query('show fsync')).rows[0]?.fsync;
  await c.end();
  const names = ['OFF', 'NORMAL', 'FULL', 'EXTRA'];
  return {
    redis_for_bullmq: redis,
    labelcast_sqlite: { journal_mode: mode.rows[0]?.journal_mode, synchronous: names[Number(sync.rows[0]?.synchronous)] ?? sync.rows[0]?.synchronous },
    postgres: { synchronous_commit: pgSync, fsync: pgFsync },
  };
}

// ---------------------------------------------------------------- peers
// Worker, producer and receiver each in a process of their own (peer-proc.ts); from the
// first add to the last job done. mode: see peer-proc.ts ('per_event' is the headline).
type PeerResult = { per_s: number; produce_per_s: number };

async function peerRun(start: (worker: Awaited<ReturnType<typeof startProc>>, rxUrl: string) => Promise<void>, produceOp: string, produceArg: Record<string, unknown>): Promise<PeerResult> {
  const rx = await startReceiver();
  const worker = await startProc('peer-proc');
  const producer = await startProc('peer-proc');
  try {
    await start(worker, rx.url);
    const t = performance.now();
    const [produced] = await Promise.all([
      producer.call<{ produce_per_s: number }>(produceOp, { ...produceArg, n: N, lanes: LANES }),
      worker.call('waitDone', { n: N, timeoutMs: 600_000 }),
    ]);
    const perS = N / ((performance.now() - t) / 1000);
    return { per_s: r1(perS), produce_per_s: r1(produced.produce_per_s) };
  } finally {
    await worker.stop();
    await producer.stop();
    await rx.close();
  }
}

function bullmq(mode: 'per_event' | 'bulk'): Promise<PeerResult> {
  const name = `bench-${mode}-${Date.now()}`;
  return peerRun((w, url) => w.call('bullmqWorker', { name, url, concurrency: CONCURRENCY }), 'bullmqProduce', { name, mode });
}

async function graphile(mode: 'per_event' | 'bulk'): Promise<PeerResult> {
  const db = await freshPgDatabase();
  try {
    return await peerRun((w, url) => w.call('graphileWorker', { databaseUrl: db.url, url, concurrency: CONCURRENCY }), 'graphileProduce', { databaseUrl: db.url, mode });
  } finally {
    await db.drop();
  }
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
    killAll();
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
  const dur = await scenario('durability settings', 30, durability);
  results.durability = dur;
  if (ok(dur)) {
    const d = dur as any;
    rows.push(['durability (what an acknowledged write survives)', `Redis appendonly=${d.redis_for_bullmq.appendonly} save="${d.redis_for_bullmq.save}"; SQLite ${d.labelcast_sqlite.journal_mode} synchronous=${d.labelcast_sqlite.synchronous}; PostgreSQL synchronous_commit=${d.postgres.synchronous_commit}`, '']);
  }

  // Headline: PostgreSQL with the producers in a process of their own (API and worker
  // processes); SQLite with the producers beside the dispatcher, its deployed layout (one
  // process). SQLite with the producers apart is kept for reference: two processes writing
  // one file starve each other in SQLite's busy handler (see the header).
  results.throughput = {};
  results.peers = {};
  results.latency = {};
  const variants = [['sqlite', 'inproc', 'sqlite'], ['sqlite', 'own', 'sqlite_own_producers'], ['postgres', 'own', 'postgres']] as const;
  for (const [d, producers, key] of want('throughput') ? variants : []) {
    const t = await scenario(`throughput ${key}`, 240, () => throughput(d, producers));
    results.throughput[key] = ok(t) ? { ...t, ratio: r3(t.per_s! / ceil) } : t;
    const where = producers === 'own' ? 'producers in own process' : 'producers in dispatcher process';
    rows.push([`throughput ${d} (${where})`, ok(t) ? `${t.per_s} /s` : t.error, ok(t) ? `${r3(t.per_s! / ceil)} of ceiling` : '']);
  }

  // Headline: one add per event from LANES concurrent producers; bulk adds for reference.
  const peerRows: [string, string, () => Promise<PeerResult>][] = [
    ['bullmq', 'BullMQ + Redis, per-event add', () => bullmq('per_event')],
    ['bullmq_bulk', 'BullMQ + Redis, addBulk of 1,000 (reference)', () => bullmq('bulk')],
    ['graphile', 'graphile-worker + PostgreSQL, per-event addJob', () => graphile('per_event')],
    ['graphile_bulk', 'graphile-worker + PostgreSQL, addJobs of 1,000 (reference)', () => graphile('bulk')],
  ];
  for (const [key, , fn] of want('peers') ? peerRows : []) {
    const r = await scenario(`peer ${key}`, 180, fn);
    results.peers[key] = ok(r) ? { ...r, ratio: r3(r.per_s / ceil) } : r;
  }
  const over = (ours: string, peer: string) => {
    const a = results.throughput[ours]?.per_s;
    const b = results.peers[peer]?.per_s;
    return a && b ? r3(a / b) : null;
  };
  results.vs_peers = {
    sqlite_over_bullmq: over('sqlite', 'bullmq'),
    postgres_over_graphile: over('postgres', 'graphile'),
    sqlite_own_producers_over_bullmq: over('sqlite_own_producers', 'bullmq'),
    sqlite_over_bullmq_bulk: over('sqlite', 'bullmq_bulk'),
    postgres_over_graphile_bulk: over('postgres', 'graphile_bulk'),
  };
  const vs: Record<string, string> = {
    bullmq: `Labelcast SQLite = ${results.vs_peers.sqlite_over_bullmq}x`,
    bullmq_bulk: `Labelcast SQLite = ${results.vs_peers.sqlite_over_bullmq_bulk}x`,
    graphile: `Labelcast PostgreSQL = ${results.vs_peers.postgres_over_graphile}x`,
    graphile_bulk: `Labelcast PostgreSQL = ${results.vs_peers.postgres_over_graphile_bulk}x`,
  };
  for (const [key, label] of peerRows) {
    const r = results.peers[key];
    if (!r) continue;
    rows.push([`peer: ${label}`, ok(r) ? `${r.per_s} /s` : (r as { error: string }).error, vs[key]!]);
  }

  const lvariants = [['sqlite', 'inproc', 'sqlite'], ['sqlite', 'own', 'sqlite_own_producers'], ['postgres', 'own', 'postgres']] as const;
  for (const [d, producers, key] of want('latency') ? lvariants : []) {
    const l = await scenario(`latency ${key}`, 150, () => latency(d, producers));
    results.latency[key] = l;
    const where = producers === 'own' ? 'producers in own process' : 'producers in dispatcher process';
    rows.push([`latency ${d} (${where})`, ok(l) ? `@${l.rate_per_s}/s after ${l.warmup_s} s: p50 ${l.p50_ms} ms, p99 ${l.p99_ms} ms, max ${l.max_ms} ms; with the start p99 ${l.p99_with_start_ms} ms, max ${l.max_with_start_ms} ms` : l.error, '']);
  }

  if (want('fanout')) {
    const f = await scenario('fan-out', 120, fanout);
    results.fanout = f;
    rows.push(['fan-out 1 event -> channels', ok(f) ? `${f.one_event_to_many_ms_per_delivery} ms/delivery` : f.error, ok(f) ? `${f.ratio} of many->1` : '']);
  }
  if (want('isolation')) {
    const iso = await scenario('isolation', 120, isolation);
    results.isolation = iso;
    rows.push(['isolation (1 hanging of 101)', ok(iso) ? `${iso.with_hanging_per_s} /s` : iso.error, ok(iso) ? `${iso.ratio} of healthy-only` : '']);
  }
  if (want('scaleout')) {
    const so = await scenario('scale-out', 150, scaleOut);
    results.scale_out = so;
    rows.push(['scale-out PostgreSQL 2 vs 1 worker', ok(so) ? `${so.two_workers_per_s} /s` : so.error, ok(so) ? `${so.ratio}x` : '']);
  }
  if (want('digest')) {
    results.digest = {};
    for (const d of ['sqlite', 'postgres'] as const) {
      const g = await scenario(`digest ${d}`, 120, () => digest(d));
      results.digest[d] = g;
      rows.push([`digest (${d})`, ok(g) ? `${g.rows} rows: ${g.seconds} s` : g.error, '']);
    }
  }
  if (want('memory')) {
    const m = await scenario('memory under a backlog', 120, backlog);
    results.memory = m;
    rows.push(['memory under a pending backlog', JSON.stringify(m), '']);
  }
  results.seconds = r1((performance.now() - t0) / 1000);

  const w = Math.max(...rows.map((r) => r[0].length));
  const w2 = Math.max(...rows.map((r) => r[1].length));
  process.stdout.write(`\n${'scenario'.padEnd(w)}  ${'result'.padEnd(w2)}  ratio\n`);
  for (const [a, b, c] of rows) process.stdout.write(`${a.padEnd(w)}  ${b.padEnd(w2)}  ${c}\n`);
  const json = JSON.stringify(results);
  if (!PARTIAL) {
    fs.mkdirSync(path.resolve('bench/results'), { recursive: true });
    fs.writeFileSync(path.resolve('bench/results', SMOKE ? 'smoke.json' : 'latest.json'), JSON.stringify(results, null, 2) + '\n');
  }
  process.stdout.write(`\n${json}\n`);
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
