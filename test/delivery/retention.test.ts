// Retention prunes old attempts, finished deliveries and events whose deliveries are gone,
// in small batches; pending work and recent rows stay. Finished means every status only a
// resend leaves (store/delivery-states.ts): expired custom-action runs included.
import { describe, expect, it } from 'vitest';
import { pruneOnce } from '../../src/schedule/retention.js';
import { KINDS, openTestStore, TEST_DATABASE_URL } from '../helpers/stores.js';
import { openStore } from '../../src/store/connect.js';
import { setupApi } from '../helpers/api.js';

describe.each(KINDS)('retention on %s', (kind) => {
  it('deletes what is old and finished, keeps what is pending or recent', async () => {
    const { store, cleanup } = await openTestStore(kind);
    try {
      const db = store.db;
      const day = 86_400_000;
      const now = Date.now();
      const old = now - 40 * day;
      // Each event counts its deliveries, as routing writes them (store/queue/enqueue.ts).
      const ev = (id: string, at: number, deliveries_left = 1) => ({ id, org_id: 1, project_id: null, type: 'project.updated', occurred_at: at, actor: '{}', data: '{}', before: null, after: null, deliveries_left });
      // 1,200 old finished deliveries (more than one batch; the first, whose event is
      // e-old-done, expired), one old pending, one old in flight, one recent.
      await db.insertInto('events').values([ev('e-old-done', old), ev('e-old-pending', old), ev('e-new', now), ev('e-old-alone', old, 0), ev('e-old-sending', old)]).execute();
      const delivery = (event_id: string, status: string, at: number) => ({
        org_id: 1, notification_id: 1, channel_id: 1, event_id, event_type: 'project.updated', part: 0, payload: null, status, attempt_count: 1, retry_index: 0,
        next_attempt_at: at, lease_until: null, leased_by: null, last_status: 200, last_error: null, created_at: at, updated_at: at, completed_at: at,
      });
      const rows = Array.from({ length: 1200 }, (_, i) => delivery(i === 0 ? 'e-old-done' : `x-${i}`, (['expired', 'succeeded', 'failed', 'cancelled'] as const)[i % 4]!, old));
      for (let i = 0; i < rows.length; i += 200) await db.insertInto('deliveries').values(rows.slice(i, i + 200)).execute();
      await db.insertInto('deliveries').values([delivery('e-old-pending', 'pending', old), delivery('e-old-sending', 'sending', old), delivery('e-new', 'succeeded', now)]).execute();
      const ids = (await db.selectFrom('deliveries').select('id').where('created_at', '=', old).limit(5).execute()).map((r) => r.id);
      await db
        .insertInto('attempts')
        .values(ids.map((id) => ({ delivery_id: id, channel_id: 1, attempt_no: 1, started_at: old, latency_ms: 1, url: 'u', request_headers: '{}', request_body: '{}', response_status: 200, response_body: '', outcome: 'success', worker: 'w', error_kind: null, error_message: null })))
        .execute();

      // Old messaging rows: a sent email item, an unsent one (kept: its email is owed), an
      // outbox message and a digest run; plus a recent digest run (kept).
      await db.insertInto('email_items').values([
        { org_id: 1, recipient: 'a@x.test', window_start: old, event_id: 'e-old-done', notification_id: 1, channel_id: 1, batch_id: 1, created_at: old },
        { org_id: 1, recipient: 'b@x.test', window_start: old, event_id: 'e-old-done', notification_id: 1, channel_id: 1, batch_id: null, created_at: old },
      ]).execute();
      await db.insertInto('outbox').values({ org_id: 1, delivery_id: 1, recipients: '[]', subject: 's', text: 't', html: 'h', created_at: old }).execute();
      await db.insertInto('digest_windows').values([{ notification_id: 1, fire_at: old, outcome: 'sent', created_at: old }, { notification_id: 1, fire_at: now, outcome: 'sent', created_at: now }]).execute();

      const result = await pruneOnce(store, now - 30 * day, { pauseMs: 0 });
      expect(result).toEqual({ attempts: 5, deliveries: 1200, events: 2, messaging: 3 });
      expect((await db.selectFrom('email_items').select('recipient').execute()).map((r) => r.recipient)).toEqual(['b@x.test']);
      expect(await db.selectFrom('outbox').select('id').execute()).toEqual([]);
      expect((await db.selectFrom('digest_windows').select('fire_at').execute()).map((r) => r.fire_at)).toEqual([now]);
      const left = await db.selectFrom('deliveries').select(['event_id', 'status']).orderBy('id').execute();
      expect(left).toEqual([{ event_id: 'e-old-pending', status: 'pending' }, { event_id: 'e-old-sending', status: 'sending' }, { event_id: 'e-new', status: 'succeeded' }]);
      const events = await db.selectFrom('events').select(['id', 'deliveries_left']).orderBy('seq').execute();
      expect(events).toEqual([{ id: 'e-old-pending', deliveries_left: 1 }, { id: 'e-new', deliveries_left: 1 }, { id: 'e-old-sending', deliveries_left: 1 }]);
    } finally {
      await cleanup();
    }
  });

  it("counts an event's deliveries as routing writes them and as retention deletes them", async () => {
    const api = await setupApi(kind);
    try {
      const db = api.store.db;
      const project = (await api.call('POST', '/v1/projects', { body: { title: 'counted' } })).body;
      const hook = (url: string) => ({ type: 'webhook', url });
      expect((await api.call('POST', '/v1/notifications', { body: { title: 'two', triggers: ['project.updated'], channels: [hook('http://127.0.0.1:9/a'), hook('http://127.0.0.1:9/b')] } })).status).toBe(201);
      expect((await api.call('POST', '/v1/notifications', { body: { title: 'other', triggers: ['task.created'], channels: [hook('http://127.0.0.1:9/c')] } })).status).toBe(201);
      for (const d of ['one', 'two']) expect((await api.call('PATCH', `/v1/projects/${project.id}`, { body: { description: d } })).status).toBe(200);
      const counted = async () => {
        const events = await db.selectFrom('events').select(['id', 'type', 'deliveries_left']).orderBy('seq').execute();
        const per = await db.selectFrom('deliveries').select(['event_id', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('event_id').execute();
        return events.map((e) => ({ type: e.type, left: Number(e.deliveries_left), written: Number(per.find((p) => p.event_id === e.id)?.n ?? 0) }));
      };
      // The creation came before any notification; each update went to both channels.
      expect(await counted()).toEqual([
        { type: 'project.created', left: 0, written: 0 },
        { type: 'project.updated', left: 2, written: 2 },
        { type: 'project.updated', left: 2, written: 2 },
      ]);
      // Everything finished and old: retention deletes the deliveries, counts them off, and
      // then the events, none of which has a delivery left.
      const old = Date.now() - 40 * 86_400_000;
      await db.updateTable('deliveries').set({ status: 'succeeded', created_at: old, completed_at: old }).execute();
      await db.updateTable('events').set({ occurred_at: old }).execute();
      const first = await db.selectFrom('deliveries').select('id').orderBy('id').limit(1).executeTakeFirstOrThrow();
      await db.updateTable('deliveries').set({ status: 'pending' }).where('id', '=', first.id).execute();
      expect(await pruneOnce(api.store, Date.now() - 30 * 86_400_000, { pauseMs: 0 })).toMatchObject({ deliveries: 3, events: 2 });
      // The first update's event keeps its one pending delivery, and says so.
      expect(await counted()).toEqual([{ type: 'project.updated', left: 1, written: 1 }]);
    } finally {
      await api.close();
    }
  });

  it('counts each deleted delivery off once when two processes prune at the same moment', async () => {
    const { store, location, cleanup } = await openTestStore(kind);
    // A second process on the same database (every worker process runs retention). SQLite
    // has one writing process, whose transactions group commit runs one after another: there
    // the two runs share the store (two connections in one process would wait on each other
    // inside SQLite's synchronous busy handler).
    const other = kind === 'sqlite' ? store : await openStore({ databaseUrl: TEST_DATABASE_URL, pgSchema: location });
    try {
      const old = Date.now() - 40 * 86_400_000;
      const cutoff = Date.now() - 30 * 86_400_000;
      const delivery = (event_id: string, status: string) => ({
        org_id: 1, notification_id: 1, channel_id: 1, event_id, event_type: 'project.updated', part: 0, payload: null, status, attempt_count: 1, retry_index: 0,
        next_attempt_at: old, lease_until: null, leased_by: null, last_status: 200, last_error: null, created_at: old, updated_at: old, completed_at: old,
      });
      // Whether both runs pick the same rows is up to timing: several rounds make it likely
      // (with the count taken from the rows selected, a round failed about one time in three).
      for (let round = 0; round < 5; round++) {
        // Events of three deliveries each: two finished and old, one still pending (its
        // channel held), so each event must stay, counting one delivery left.
        const events = Array.from({ length: 20 }, (_, i) => `r${round}e${i}`);
        await store.db.insertInto('events').values(events.map((id) => ({ id, org_id: 1, project_id: null, type: 'project.updated', occurred_at: old, actor: '{}', data: '{}', before: null, after: null, deliveries_left: 3 }))).execute();
        await store.db.insertInto('deliveries').values(events.flatMap((e) => [delivery(e, 'succeeded'), delivery(e, 'failed'), delivery(e, 'pending')])).execute();

        const [a, b] = await Promise.all([pruneOnce(store, cutoff, { pauseMs: 0 }), pruneOnce(other, cutoff, { pauseMs: 0 })]);
        expect(a.deliveries + b.deliveries).toBe(40);
        const left = await store.db.selectFrom('events').select(['id', 'deliveries_left']).where('id', 'in', events).orderBy('seq').execute();
        expect(left).toEqual(events.map((id) => ({ id, deliveries_left: 1 })));
      }
    } finally {
      if (other !== store) await other.close();
      await cleanup();
    }
  });
});
