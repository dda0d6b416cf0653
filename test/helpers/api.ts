// An API instance on a test store with two organizations, for app.inject() tests.
import { buildApp, type Api } from '../../src/api/app.js';
import { createOrganization } from '../../src/domain/organizations.js';
import type { DialectName, Store } from '../../src/store/connect.js';
import { openTestStore } from './stores.js';

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
  /** The SQLite file or PostgreSQL schema behind store. */
  location: string;
  a: OrgHandle;
  b: OrgHandle;
  call<T = any>(method: string, url: string, opts?: { key?: string; body?: unknown; headers?: Record<string, string>; raw?: string }): Promise<Response<T>>;
  close(): Promise<void>;
}

export async function setupApi(dialect: DialectName, opts: { bodyLimit?: number; busyTimeoutMs?: number } = {}): Promise<TestApi> {
  const ts = await openTestStore(dialect, opts.busyTimeoutMs ? { busyTimeoutMs: opts.busyTimeoutMs } : {});
  const store = ts.store;
  const orgA = await createOrganization(store, { name: 'Org A', admin_email: 'admin@a.test' });
  const orgB = await createOrganization(store, { name: 'Org B', admin_email: 'admin@b.test' });
  const app = await buildApp({ store, logger: false, ...(opts.bodyLimit ? { bodyLimit: opts.bodyLimit } : {}) });
  await app.ready();
  const a = { id: orgA.org_id, adminId: orgA.admin_user_id, key: orgA.key.key };
  const b = { id: orgB.org_id, adminId: orgB.admin_user_id, key: orgB.key.key };
  return {
    app,
    store,
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
      await app.close();
      await ts.cleanup();
    },
  };
}
