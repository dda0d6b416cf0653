// An API instance on a test store with two organizations, for app.inject() tests.
import { buildApp } from '../../src/api/app.js';
import type { Api } from '../../src/api/http.js';
import type { TargetPolicy } from '../../src/model/addresses.js';
import { Dispatcher } from '../../src/delivery/dispatcher.js';
import { Scheduler } from '../../src/schedule/scheduler.js';
import { createMetrics, type Metrics } from '../../src/delivery/metrics.js';
import { loadDeliverySettings, type DeliverySettings } from '../../src/model/delivery-settings.js';
import type { Services } from '../../src/domain/context.js';
import { loadMessagingSettings, type MessagingSettings } from '../../src/model/messaging-settings.js';
import { createOrganization } from '../../src/domain/organizations.js';
import type { Store } from '../../src/store/connect.js';
import type { DatabaseKind } from '../../src/store/kind.js';
import { openTestStore, testKeyring } from './stores.js';
import type { Keyring } from '../../src/store/seal.js';
import type { ActionRunner } from '../../src/model/action-run.js';

export interface OrgHandle {
  id: number;
  adminId: number;
  key: string;
}

export interface Response<T = any> {
  status: number;
  body: T;
  headers: Record<string, unknown>;
}

export interface TestApi {
  app: Api;
  store: Store;
  svc: Services;
  metrics: Metrics;
  /** Present when setupApi was asked for a worker. */
  dispatcher: Dispatcher | null;
  /** The SQLite file or PostgreSQL schema behind store. */
  location: string;
  a: OrgHandle;
  b: OrgHandle;
  call<T = any>(method: string, url: string, opts?: { key?: string; body?: unknown; headers?: Record<string, string>; raw?: string }): Promise<Response<T>>;
  close(): Promise<void>;
}

export interface SetupOptions {
  bodyLimit?: number;
  busyTimeoutMs?: number;
  /** Run a dispatcher in the same process (role all). */
  worker?: boolean;
  /** Run the scheduler loop too (email windows, digests); tests may call tick() instead. */
  scheduler?: boolean;
  delivery?: Partial<DeliverySettings>;
  /** Default: private targets allowed, since test receivers listen on 127.0.0.1. */
  targets?: TargetPolicy;
  messaging?: Partial<MessagingSettings>;
  /** Custom actions' runner for the worker (tests only: the sandbox is wired by the server). */
  actionRunner?: ActionRunner;
  /** The built console to serve at `/` (default: web/dist). */
  consoleDir?: string;
  /** The sealing key ring (default: a fresh random key). */
  ring?: Keyring;
}

/** Test defaults: short retry schedule and timeouts, so failure paths finish in seconds. */
export function testDelivery(overrides: Partial<DeliverySettings> = {}): DeliverySettings {
  return { ...loadDeliverySettings({}), schedule: [0, 50, 100], jitter: 0, timeoutMs: 2000, pollMs: 200, ...overrides };
}

export async function setupApi(kind: DatabaseKind, opts: SetupOptions = {}): Promise<TestApi> {
  const ts = await openTestStore(kind, opts.busyTimeoutMs ? { busyTimeoutMs: opts.busyTimeoutMs } : {});
  const store = ts.store;
  const orgA = await createOrganization(store, { name: 'Org A', admin_email: 'admin@a.test' });
  const orgB = await createOrganization(store, { name: 'Org B', admin_email: 'admin@b.test' });
  let dispatcher: Dispatcher | null = null;
  const svc: Services = {
    store,
    targets: opts.targets ?? { allowPrivate: true, allowlist: null },
    delivery: testDelivery(opts.delivery),
    messaging: { ...loadMessagingSettings({ LABELCAST_PUBLIC_URL: 'http://labelcast.test' }), ...opts.messaging },
    ring: opts.ring ?? testKeyring(),
    wake: (channels) => dispatcher?.wake(channels),
    handoff: () => dispatcher,
  };
  const metrics = createMetrics(store);
  const app = await buildApp({ svc, metrics, logger: false, ...(opts.bodyLimit ? { bodyLimit: opts.bodyLimit } : {}), ...(opts.consoleDir ? { consoleDir: opts.consoleDir } : {}) });
  await app.ready();
  let scheduler: Scheduler | null = null;
  if (opts.worker) {
    dispatcher = new Dispatcher({ svc, metrics, log: app.log, actionRunner: opts.actionRunner });
    await dispatcher.start();
  }
  if (opts.scheduler) {
    scheduler = new Scheduler(svc, app.log);
    scheduler.start();
  }
  const a = { id: orgA.org_id, adminId: orgA.admin_user_id, key: orgA.key.key };
  const b = { id: orgB.org_id, adminId: orgB.admin_user_id, key: orgB.key.key };
  return {
    app,
    store,
    svc,
    metrics,
    dispatcher,
    location: ts.location,
    a,
    b,
    async call(method, url, o = {}) {
      const headers: Record<string, string> = { ...(o.headers ?? {}) };
      const key = o.key === undefined ? a.key : o.key;
      if (key) headers.authorization = `Bearer ${key}`;
      let payload: string | undefined;
      if (o.raw !== undefined) payload = o.raw;
      else if (o.body !== undefined) {
        payload = JSON.stringify(o.body);
        headers['content-type'] ??= 'application/json';
      }
      const res = await app.inject({ method: method as 'GET', url, headers, ...(payload !== undefined ? { payload } : {}) });
      let body: unknown = res.body;
      if ((res.headers['content-type'] ?? '').toString().includes('json') && res.body) body = JSON.parse(res.body);
      return { status: res.statusCode, body: body as any, headers: res.headers };
    },
    async close() {
      await scheduler?.stop();
      await dispatcher?.stop(1000);
      await app.close();
      await ts.cleanup();
    },
  };
}
