// Routing from a per-process cache (store/queue/routes.ts), on both databases: a second
// connection to the same database stands for another process. Whatever it commits to what
// routing reads is seen by the next event routed here; the dispatcher's own updates to a
// channel (health, pacing) leave the version alone; a version seen inside a rolled-back
// transaction is never the version of a later change.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { KINDS, TEST_DATABASE_URL } from '../helpers/stores.js';
import { setupApi, type TestApi } from '../helpers/api.js';
import { openStore, type Store } from '../../src/store/connect.js';
import { loadRoutes } from '../../src/store/queue/routes.js';

describe.each(KINDS)('routes cached per process on %s', (kind) => {
  let api: TestApi;
  let other: Store;
  let projectId: number;
  let notificationId: number;
  let channelId: number;

  beforeEach(async () => {
    api = await setupApi(kind);
    other = await openStore(kind === 'sqlite' ? { sqliteFile: api.location } : { databaseUrl: TEST_DATABASE_URL, pgSchema: api.location, pgPoolSize: 2 });
    projectId = (await api.call('POST', '/v1/projects', { body: { title: 'routes' } })).body.id;
    const n = await api.call('POST', '/v1/notifications', {
      body: { title: 'updates', triggers: ['project.updated'], channels: [{ type: 'webhook', url: 'http://127.0.0.1:9/hook' }] },
    });
    expect(n.status).toBe(201);
    notificationId = n.body.id;
    channelId = n.body.channels[0].id;
  });
  afterEach(async () => {
    await other.close();
    await api.close();
  });

  /** Updates the project here; how many deliveries its event got. */
  const routedNow = async (): Promise<number> => {
    const res = await api.call('PATCH', `/v1/projects/${projectId}`, { body: { description: `at ${Math.random()}` } });
    expect(res.status).toBe(200);
    const ev = await api.store.db.selectFrom('events').select('id').where('type', '=', 'project.updated').orderBy('seq', 'desc').limit(1).executeTakeFirstOrThrow();
    return (await api.store.db.selectFrom('deliveries').select('id').where('event_id', '=', ev.id).execute()).length;
  };
  const version = async (store: Store): Promise<number> => {
    const row = await store.db.selectFrom('routing_versions').select('version').where('org_id', '=', api.a.id).executeTakeFirst();
    return Number(row?.version ?? 0);
  };

  it('routes the next event by what another connection committed', async () => {
    expect(await routedNow()).toBe(1);
    expect(await routedNow()).toBe(1);
    expect(api.store.routes.get(api.a.id)?.targets).toHaveLength(1);

    await other.db.updateTable('notifications').set({ active: 0 }).where('id', '=', notificationId).execute();
    expect(await routedNow()).toBe(0);
    await other.db.updateTable('notifications').set({ active: 1, triggers: JSON.stringify(['task.created']) }).where('id', '=', notificationId).execute();
    expect(await routedNow()).toBe(0);
    await other.db.updateTable('notifications').set({ triggers: JSON.stringify(['project.updated']) }).where('id', '=', notificationId).execute();
    expect(await routedNow()).toBe(1);
    await other.db.updateTable('channels').set({ active: 0 }).where('id', '=', channelId).execute();
    expect(await routedNow()).toBe(0);
    await other.db.updateTable('channels').set({ active: 1 }).where('id', '=', channelId).execute();
    expect(await routedNow()).toBe(1);
    // A channel added by the other connection (a copy of this one) is routed at once.
    await sql`insert into channels (org_id, notification_id, kind, config, active, max_in_flight, failure_streak, created_at, updated_at, min_interval_ms)
      select org_id, notification_id, kind, config, active, max_in_flight, failure_streak, created_at, updated_at, min_interval_ms from channels where id = ${channelId}`.execute(other.db);
    expect(await routedNow()).toBe(2);
    await other.db.deleteFrom('channels').where('id', '>', channelId).where('notification_id', '=', notificationId).execute();
    expect(await routedNow()).toBe(1);
  });

  it("leaves the version alone on the dispatcher's health and pacing updates", async () => {
    const before = await version(api.store);
    expect(before).not.toBe(0);
    await other.db.updateTable('channels').set({ last_sent_at: Date.now(), failure_streak: 3, first_failure_at: Date.now(), not_before: Date.now() + 1000, updated_at: Date.now() }).where('id', '=', channelId).execute();
    await other.db.updateTable('channels').set({ disabled_at: Date.now(), disabled_reason: 'failing' }).where('id', '=', channelId).execute();
    await other.db.updateTable('notifications').set({ title: 'renamed', updated_at: Date.now() }).where('id', '=', notificationId).execute();
    expect(await version(api.store)).toBe(before);
    // Organization B's changes are not organization A's.
    await api.call('POST', '/v1/notifications', { key: api.b.key, body: { title: 'b', triggers: ['all'], channels: [{ type: 'webhook', url: 'http://127.0.0.1:9/b' }] } });
    expect(await version(api.store)).toBe(before);
    const config = (await other.db.selectFrom('channels').select('config').where('id', '=', channelId).executeTakeFirstOrThrow()).config;
    await other.db.updateTable('channels').set({ config }).where('id', '=', channelId).execute();
    expect(await version(api.store)).not.toBe(before);
  });

  it('never gives a later change the version a rolled-back one had', async () => {
    expect(await routedNow()).toBe(1);
    const before = await version(api.store);
    let seen = 0;
    await expect(
      api.store.tx(async (trx) => {
        await trx.updateTable('notifications').set({ active: 0 }).where('id', '=', notificationId).execute();
        // This process caches what the doomed transaction sees (as routesFor does on a miss):
        // no targets, at its version.
        const routes = await loadRoutes(trx, kind, api.a.id);
        api.store.routes.set(api.a.id, routes);
        expect(routes.targets).toHaveLength(0);
        seen = routes.version;
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(seen).not.toBe(before);
    expect(await version(api.store)).toBe(before);
    // Another process commits a different change; a counter would give it the rolled-back
    // version, and the cached empty routes would pass the check.
    await other.db.updateTable('notifications').set({ triggers: JSON.stringify(['all']) }).where('id', '=', notificationId).execute();
    const after = await version(api.store);
    expect(after).not.toBe(before);
    expect(after).not.toBe(seen);
    expect(await routedNow()).toBe(1);
  });
});
