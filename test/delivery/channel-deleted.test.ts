// Issue 10, defect 1: deleting a channel (through a notification, a /v1/webhooks webhook or
// a pipeline) while one of its requests is in flight used to stall the dispatcher for good:
// recording the finished attempt threw (the channel's health row was gone), the batch was
// retried every 500 ms forever, every later completion joined it, and stop() never
// returned. Here a real receiver on 127.0.0.1 holds the request while the owner is deleted;
// then other channels must still deliver and shutdown must complete; on both databases.
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { KINDS } from '../helpers/stores.js';
import { setupApi, type TestApi } from '../helpers/api.js';
import { api as http, freshDatabase, startChild } from '../helpers/process.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ok, startReceiver, waitFor, type Receiver } from '../helpers/receiver.js';

type Owner = 'notification' | 'webhook' | 'pipeline';

/** A receiver that holds every request until release() is called, then answers 200. */
async function heldReceiver(): Promise<{ slow: Receiver; release: () => void }> {
  let release: () => void = () => undefined;
  const held = new Promise<void>((r) => (release = r));
  const slow = await startReceiver(async (r, n, res) => {
    await held;
    ok(r, n, res);
  });
  return { slow, release };
}

const OWNERS: { owner: Owner; create: (api: TestApi, url: string, project: number) => Promise<number>; remove: string }[] = [
  {
    owner: 'notification',
    create: async (api, url, project) =>
      (await api.call('POST', '/v1/notifications', { body: { title: 'held', triggers: ['project.updated'], scope: { projects: [project] }, channels: [{ type: 'webhook', url }] } })).body.id,
    remove: '/v1/notifications/',
  },
  {
    owner: 'webhook',
    create: async (api, url, project) => (await api.call('POST', '/v1/webhooks', { body: { url, project, send_for_all_actions: false, actions: ['PROJECT_UPDATED'] } })).body.id,
    remove: '/v1/webhooks/',
  },
  {
    owner: 'pipeline',
    create: async (api, url, project) =>
      (await api.call('POST', '/v1/pipelines', { body: { name: 'held', project, trigger: { event: 'project.updated' }, action: { type: 'send_webhook', request_url: url } } })).body.id,
    remove: '/v1/pipelines/',
  },
];

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} did not finish in ${ms} ms`)), ms))]);
}

describe.each(KINDS)('a channel deleted while its request is in flight, on %s', (kind) => {
  let api: TestApi | null = null;
  const receivers: Receiver[] = [];
  afterEach(async () => {
    for (const r of receivers.splice(0)) await r.close();
    // Bounded, so that a stalled engine fails this test instead of hanging the run.
    if (api) await within(api.close(), 15_000, 'closing the API and its dispatcher').finally(() => (api = null));
  });

  it.each(OWNERS)('deleting its $owner ends the delivery as cancelled and keeps the engine going', { timeout: 30_000 }, async ({ create, remove }) => {
    api = await setupApi(kind, { worker: true });
    const a = api;
    const { slow, release } = await heldReceiver();
    const fast = await startReceiver();
    receivers.push(slow, fast);
    const project = (await a.call('POST', '/v1/projects', { body: { title: 'Held' } })).body;
    const ownerId = await create(a, `${slow.url}/held`, project.id);
    expect(ownerId).toBeGreaterThan(0);
    const other = (await a.call('POST', '/v1/notifications', { body: { title: 'other', triggers: ['project.updated'], channels: [{ type: 'webhook', url: `${fast.url}/other` }] } })).body;

    await a.call('PATCH', `/v1/projects/${project.id}`, { body: { description: 'first' } });
    await waitFor(() => slow.received.length === 1 && fast.received.length === 1, 'both receivers to get the first change');
    const heldDelivery = await waitFor(async () => {
      const ds = (await a.call('GET', '/v1/deliveries?status=sending')).body.data as any[];
      return ds.find((d) => d.channel !== other.channels[0].id);
    }, 'the held delivery to be in flight');

    expect((await a.call('DELETE', `${remove}${ownerId}`)).status).toBe(204);
    release();

    // The held request's attempt is recorded; its delivery stays cancelled, not revived.
    const ended = await waitFor(async () => {
      const d = (await a.call('GET', `/v1/deliveries/${heldDelivery.id}`)).body;
      return d.attempts?.length === 1 ? d : null;
    }, 'the held attempt to be recorded');
    expect(ended).toMatchObject({ status: 'cancelled', attempt_count: 1, last_status: 200 });
    expect(ended.last_error).toMatch(/channel was deleted/);
    expect(ended.completed_at).not.toBeNull();
    expect(ended.attempts[0]).toMatchObject({ outcome: 'success', response_status: 200 });

    // Other channels keep delivering, and their attempts are recorded.
    for (let i = 0; i < 3; i++) await a.call('PATCH', `/v1/projects/${project.id}`, { body: { description: `later ${i}` } });
    const done = await waitFor(async () => {
      const ds = (await a.call('GET', `/v1/deliveries?channel_id=${other.channels[0].id}`)).body.data as any[];
      return ds.length === 4 && ds.every((d) => d.status === 'succeeded') ? ds : null;
    }, 'the other channel to record four deliveries');
    expect(done).toHaveLength(4);
    expect(fast.received).toHaveLength(4);
    expect(slow.received).toHaveLength(1);

    await within(a.dispatcher!.stop(1000), 5000, 'dispatcher shutdown');
  });
});

describe.each(KINDS)('a completion that cannot be recorded, on %s', (kind) => {
  let api: TestApi | null = null;
  let rx: Receiver | null = null;
  afterEach(async () => {
    await rx?.close();
    if (api) await within(api.close(), 15_000, 'closing the API and its dispatcher').finally(() => (api = null));
  });

  it('is ended as failed on its own while the rest of its batch is recorded', { timeout: 30_000 }, async () => {
    api = await setupApi(kind, { worker: true });
    const a = api;
    rx = await startReceiver();
    const make = async (title: string) =>
      (await a.call('POST', '/v1/notifications', { body: { title, triggers: ['project.updated'], channels: [{ type: 'webhook', url: `${rx!.url}/${title}` }] } })).body.channels[0].id as number;
    const good = await make('good');
    const bad = await make('bad');
    // A bad row made in the database itself: marking this channel's deliveries succeeded
    // throws, whatever the batch (a stand-in for any row-specific failure).
    if (kind === 'sqlite') {
      await sql`create trigger poison before update on deliveries when new.status = 'succeeded' and new.channel_id = ${sql.lit(bad)}
                begin select raise(abort, 'poisoned row'); end`.execute(a.store.db);
    } else {
      await sql`create function poison() returns trigger language plpgsql as $$
                begin if new.status = 'succeeded' and new.channel_id = ${sql.lit(bad)} then raise exception 'poisoned row'; end if; return new; end $$`.execute(a.store.db);
      await sql`create trigger poison before update on deliveries for each row execute function poison()`.execute(a.store.db);
    }
    const project = (await a.call('POST', '/v1/projects', { body: { title: 'Poison' } })).body;
    for (let i = 0; i < 3; i++) await a.call('PATCH', `/v1/projects/${project.id}`, { body: { description: `change ${i}` } });
    const goodDone = await waitFor(async () => {
      const ds = (await a.call('GET', `/v1/deliveries?channel_id=${good}`)).body.data as any[];
      return ds.length === 3 && ds.every((d) => d.status === 'succeeded') ? ds : null;
    }, 'the good channel to record its deliveries');
    expect(goodDone).toHaveLength(3);
    const badDone = await waitFor(async () => {
      const ds = (await a.call('GET', `/v1/deliveries?channel_id=${bad}`)).body.data as any[];
      return ds.length === 3 && ds.every((d) => d.status === 'failed') ? ds : null;
    }, 'the bad rows to be ended as failed');
    for (const d of badDone) expect(d.last_error).toMatch(/could not be recorded: .*poisoned row/);
    // Once ended, it can be sent again (the bad condition gone).
    await sql`drop trigger poison${sql.raw(kind === 'postgres' ? ' on deliveries' : '')}`.execute(a.store.db);
    expect((await a.call('POST', `/v1/deliveries/${badDone[0].id}/resend`)).status).toBe(202);
    await waitFor(async () => (await a.call('GET', `/v1/deliveries/${badDone[0].id}`)).body.status === 'succeeded', 'the resent delivery');
    await within(a.dispatcher!.stop(1000), 5000, 'dispatcher shutdown');
  });
});

describe.each(KINDS)('a Labelcast process on %s', (kind) => {
  it('still exits on SIGTERM after a channel was deleted under a request in flight', { timeout: 60_000 }, async () => {
    const cleanups: (() => Promise<unknown>)[] = [];
    try {
      let env: Record<string, string>;
      if (kind === 'sqlite') {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labelcast-stall-'));
        cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
        env = { LABELCAST_DATA_DIR: dir };
      } else {
        const db = await freshDatabase();
        cleanups.push(db.drop);
        env = { DATABASE_URL: db.url };
      }
      const { slow, release } = await heldReceiver();
      const fast = await startReceiver();
      cleanups.push(() => slow.close(), () => fast.close());
      const proc = await startChild(env);
      cleanups.push(() => proc.kill());
      const project = (await http(proc.url, 'POST', '/v1/projects', { title: 'held' })).body;
      const doomed = (await http(proc.url, 'POST', '/v1/notifications', { title: 'doomed', triggers: ['project.updated'], channels: [{ type: 'webhook', url: `${slow.url}/held` }] })).body;
      await http(proc.url, 'POST', '/v1/notifications', { title: 'other', triggers: ['project.updated'], channels: [{ type: 'webhook', url: `${fast.url}/other` }] });
      await http(proc.url, 'PATCH', `/v1/projects/${project.id}`, { description: 'first' });
      await waitFor(() => slow.received.length === 1, 'the held request');
      expect((await http(proc.url, 'DELETE', `/v1/notifications/${doomed.id}`)).status).toBe(204);
      release();
      await http(proc.url, 'PATCH', `/v1/projects/${project.id}`, { description: 'second' });
      await waitFor(() => fast.received.length === 2, 'the other channel to get both changes');
      await waitFor(async () => {
        const ds = (await http(proc.url, 'GET', '/v1/deliveries')).body.data as any[];
        return ds.length === 3 && ds.every((d) => d.status !== 'sending' && d.status !== 'pending');
      }, 'every delivery to be recorded');
      const started = Date.now();
      expect(await within(proc.kill('SIGTERM'), 20_000, 'the process to exit on SIGTERM')).toBe(0);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      for (const c of cleanups.reverse()) await c().catch(() => undefined);
    }
  });
});
