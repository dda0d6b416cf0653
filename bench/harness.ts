// Shared parts of the benchmark: the receiver in a process of its own, fresh databases, a
// Labelcast instance in this process, and memory sampling. All traffic stays on 127.0.0.1.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { command, createMetrics, createOrganization, updateProject, Dispatcher, keyFrom, keyring, loadDeliverySettings, loadMessagingSettings, openStore, type Actor, type DeliverySettings, type DatabaseKind, type Services, type Store } from './labelcast.js';
import { startProc } from './procs.js';

/**
 * One sealing key for the whole run: processes started by a scenario (workers for scale-out,
 * producers) read the secrets this process sealed, and refuse to start under a different key
 * (docs/security.md). Children inherit it through the environment.
 */
export const BENCH_SECRET_KEY = (process.env.BENCH_SECRET_KEY ??= crypto.randomBytes(32).toString('base64'));

export const PG_URL = process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';

/** SQLite's synchronous setting for every bench store: FULL (an fsync per commit) unless set. */
export const SQLITE_SYNC: 'NORMAL' | 'FULL' = (process.env.LABELCAST_SQLITE_SYNC as 'NORMAL' | 'FULL' | undefined) ?? 'FULL';

/** The receiver (receiver.ts), running in a child process; counts are asked for over IPC. */
export interface RemoteReceiver {
  url: string;
  count(): Promise<number>;
  /** Resolves once n requests were answered (checked inside the receiver's process). */
  waitCount(n: number, timeoutMs: number): Promise<void>;
  /** Record, from now on, ms from each body's "timestamp" (the event's time) to arrival. */
  recordLatency(): Promise<void>;
  latencies(): Promise<number[]>;
  close(): Promise<void>;
}

/** Answers 200 at once (or after delayMs; or never, for paths starting with /hang). */
export async function startReceiver(delayMs = 0): Promise<RemoteReceiver> {
  const p = await startProc('receiver-proc', [String(delayMs)]);
  return {
    url: await p.call<string>('url'),
    count: () => p.call<number>('count'),
    waitCount: (n, timeoutMs) => p.call('waitCount', { n, timeoutMs }),
    recordLatency: () => p.call('record', true),
    latencies: () => p.call<number[]>('latencies'),
    close: () => p.stop(),
  };
}

/** Where an instance's store is, for another process to open it. */
export interface StoreLocation {
  sqliteFile?: string;
  databaseUrl?: string;
}

export function openBenchStore(at: StoreLocation, pgPoolSize = 10): Promise<Store> {
  return at.databaseUrl ? openStore({ databaseUrl: at.databaseUrl, pgPoolSize }) : openStore({ sqliteFile: at.sqliteFile!, sqliteSync: SQLITE_SYNC });
}

export function services(store: Store, delivery: Partial<DeliverySettings>, wake: Services['wake']): Services {
  return {
    store,
    targets: { allowPrivate: true, allowlist: null },
    delivery: { ...loadDeliverySettings({}), pollMs: 250, ...delivery },
    messaging: loadMessagingSettings({}),
    ring: keyring(keyFrom(Buffer.from(BENCH_SECRET_KEY, 'base64'))),
    wake,
  };
}

export interface Instance {
  store: Store;
  svc: Services;
  actor: Actor;
  dispatcher: Dispatcher | null;
  /** For PostgreSQL: the database URL other processes can use. */
  databaseUrl: string | null;
  /** The store, for another process (a producer) to open. */
  location: StoreLocation;
  startWorker(): Promise<void>;
  close(): Promise<void>;
}

export async function freshPgDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = 'lc_bench_' + crypto.randomBytes(4).toString('hex');
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const u = new URL(PG_URL);
  u.pathname = '/' + name;
  return {
    url: u.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

export async function instance(kind: DatabaseKind, delivery: Partial<DeliverySettings> = {}): Promise<Instance> {
  let dir: string | null = null;
  let db: { url: string; drop(): Promise<void> } | null = null;
  let store: Store;
  let location: StoreLocation;
  if (kind === 'sqlite') {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labelcast-bench-'));
    location = { sqliteFile: path.join(dir, 'bench.db') };
  } else {
    db = await freshPgDatabase();
    location = { databaseUrl: db.url };
  }
  store = await openBenchStore(location);
  await store.migrate();
  const org = await createOrganization(store, { name: 'bench', admin_email: 'bench@localhost' });
  const actor: Actor = { org_id: org.org_id, user_id: org.admin_user_id, email: 'bench@localhost', role: 'admin', api_key_id: null };
  let dispatcher: Dispatcher | null = null;
  const svc: Services = { ...services(store, delivery, (channels) => dispatcher?.wake(channels)), handoff: () => dispatcher };
  const log = pino({ level: 'warn' });
  return {
    store,
    svc,
    actor,
    get dispatcher() {
      return dispatcher;
    },
    databaseUrl: db?.url ?? null,
    location,
    async startWorker() {
      dispatcher = new Dispatcher({ svc, metrics: createMetrics(store), log: log as never });
      await dispatcher.start();
    },
    async close() {
      await dispatcher?.stop(2000);
      await store.close();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
      await db?.drop();
    },
  } as Instance;
}

export { rssSampler } from './procs.js';

// ---------------------------------------------------------------- producers
// Events are produced the way users produce them: concurrent domain commands (a project
// update each: one transaction writing the change, its event and its deliveries), lane k
// always on project k, as a team's annotators work on different projects.

/** `lanes` concurrent producers, each committing one update and then the next, until n. */
export async function produce(svc: Services, actor: Actor, ids: number[], n: number, lanes: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: lanes }, async (_, lane) => {
      while (next < n) {
        const i = next++;
        await command(svc, actor, (ctx) => updateProject(ctx, ids[lane % ids.length]!, { description: `change ${i}` }));
      }
    }),
  );
}

/** Updates at a fixed rate for `seconds`, whether or not earlier ones have committed. */
export async function produceAtRate(svc: Services, actor: Actor, ids: number[], rate: number, seconds: number): Promise<void> {
  const total = rate * seconds;
  const start = performance.now();
  let sent = 0;
  const inflight: Promise<unknown>[] = [];
  while (sent < total) {
    const due = Math.floor(((performance.now() - start) / 1000) * rate);
    while (sent < Math.min(due, total)) {
      const i = sent++;
      inflight.push(command(svc, actor, (ctx) => updateProject(ctx, ids[i % ids.length]!, { description: `l${i}` })));
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(inflight);
}

/** Labelcast's producers in a process of their own (producer-proc.ts), on inst's store. */
export interface RemoteProducers {
  /** Resolves when all n commands have committed; the rate they committed at. */
  produce(ids: number[], n: number, lanes: number): Promise<{ produce_per_s: number }>;
  atRate(ids: number[], rate: number, seconds: number): Promise<void>;
  /** Closes the producers' store; their process's peak RSS. */
  close(): Promise<{ rss_mib: number }>;
}

export async function startProducers(inst: Instance, pgPoolSize: number): Promise<RemoteProducers> {
  const p = await startProc('producer-proc');
  // SQLite: the wake-up a command gives the dispatcher of its own process arrives over IPC.
  p.on('wake', () => inst.dispatcher?.wake());
  await p.call('open', { location: inst.location, actor: inst.actor, pgPoolSize });
  return {
    produce: (ids, n, lanes) => p.call('produce', { ids, n, lanes }),
    atRate: (ids, rate, seconds) => p.call('atRate', { ids, rate, seconds }),
    async close() {
      const r = await p.call<{ rss_mib: number }>('close');
      await p.stop();
      return r;
    },
  };
}

export async function waitUntil(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
