// Shared parts of the benchmark: a fast receiver, fresh databases, a Labelcast instance in
// this process, and memory sampling. All traffic stays on 127.0.0.1.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import pino from 'pino';
import { Dispatcher } from '../src/delivery/dispatcher.js';
import { createMetrics } from '../src/delivery/metrics.js';
import { loadDeliverySettings, type DeliverySettings } from '../src/model/delivery-settings.js';
import { loadMessagingSettings } from '../src/model/messaging-settings.js';
import type { Actor, Services } from '../src/domain/context.js';
import { createOrganization } from '../src/domain/organizations.js';
import { openStore, type Store } from '../src/store/connect.js';
import { type DatabaseKind } from '../src/store/kind.js';
import { keyFrom, keyring } from '../src/store/seal.js';

/**
 * One sealing key for the whole run: worker processes started by a scenario (scale-out) read
 * the secrets this process sealed, and refuse to start under a different key (docs/security.md).
 */
export const BENCH_SECRET_KEY = crypto.randomBytes(32).toString('base64');

export const PG_URL = process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';

export interface Receiver {
  url: string;
  count: number;
  /** ms from the body's "timestamp" (the event's time) to arrival, when asked to record. */
  latencies: number[];
  recordLatency: boolean;
  close(): Promise<void>;
}

/** Answers 200 at once (or after delayMs; or never, for paths starting with /hang). */
export async function startReceiver(delayMs = 0): Promise<Receiver> {
  const r: Receiver = { url: '', count: 0, latencies: [], recordLatency: false, close: async () => undefined };
  const server = http.createServer((req, res) => {
    if (req.url?.startsWith('/hang')) {
      req.resume();
      return; // never answers: the sender's timeout ends it
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (r.recordLatency) {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as { timestamp?: string };
        if (body.timestamp) r.latencies.push(Date.now() - Date.parse(body.timestamp));
      }
      const answer = () => {
        r.count++;
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      };
      if (delayMs > 0) setTimeout(answer, delayMs);
      else answer();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  r.close = () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); });
  return r;
}

export interface Instance {
  store: Store;
  svc: Services;
  actor: Actor;
  dispatcher: Dispatcher | null;
  /** For PostgreSQL: the database URL other processes can use. */
  databaseUrl: string | null;
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
  if (kind === 'sqlite') {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labelcast-bench-'));
    store = await openStore({ sqliteFile: path.join(dir, 'bench.db'), sqliteSync: (process.env.LABELCAST_SQLITE_SYNC as 'NORMAL' | 'FULL' | undefined) ?? 'FULL' });
  } else {
    db = await freshPgDatabase();
    store = await openStore({ databaseUrl: db.url, pgPoolSize: 10 });
  }
  await store.migrate();
  const org = await createOrganization(store, { name: 'bench', admin_email: 'bench@localhost' });
  const actor: Actor = { org_id: org.org_id, user_id: org.admin_user_id, email: 'bench@localhost', role: 'admin', api_key_id: null };
  let dispatcher: Dispatcher | null = null;
  const svc: Services = {
    store,
    targets: { allowPrivate: true, allowlist: null },
    delivery: { ...loadDeliverySettings({}), pollMs: 250, ...delivery },
    messaging: loadMessagingSettings({}),
    ring: keyring(keyFrom(Buffer.from(BENCH_SECRET_KEY, 'base64'))),
    wake: () => dispatcher?.wake(),
  };
  const log = pino({ level: 'warn' });
  return {
    store,
    svc,
    actor,
    get dispatcher() {
      return dispatcher;
    },
    databaseUrl: db?.url ?? null,
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

/** Samples this process's RSS; peak() is the highest seen since start(). */
export function rssSampler(everyMs = 100) {
  let peak = process.memoryUsage().rss;
  const t = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), everyMs);
  return {
    peakMiB: () => Math.round((Math.max(peak, process.memoryUsage().rss) / 1048576) * 10) / 10,
    stop: () => clearInterval(t),
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
