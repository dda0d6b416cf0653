// Retention prunes old attempts, finished deliveries and events whose deliveries are gone,
// in small batches; pending work and recent rows stay. Finished means every status only a
// resend leaves (store/delivery-states.ts): expired custom-action runs included.
import { describe, expect, it } from 'vitest';
import { pruneOnce } from '../../src/schedule/retention.js';
import { KINDS, openTestStore } from '../helpers/stores.js';

describe.each(KINDS)('retention on %s', (kind) => {
  it('deletes what is old and finished, keeps what is pending or recent', async () => {
    const { store, cleanup } = await openTestStore(kind);
    try {
      const db = store.db;
      const day = 86_400_000;
      const now = Date.now();
      const old = now - 40 * day;
      const ev = (id: string, at: number) => ({ id, org_id: 1, project_id: null, type: 'project.updated', occurred_at: at, actor: '{}', data: '{}', before: null, after: null });
      // 1,200 old finished deliveries (more than one batch; the first, whose event is
      // e-old-done, expired), one old pending, one old in flight, one recent.
      await db.insertInto('events').values([ev('e-old-done', old), ev('e-old-pending', old), ev('e-new', now), ev('e-old-alone', old), ev('e-old-sending', old)]).execute();
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
      const events = (await db.selectFrom('events').select('id').orderBy('seq').execute()).map((e) => e.id);
      expect(events).toEqual(['e-old-pending', 'e-new', 'e-old-sending']);
    } finally {
      await cleanup();
    }
  });
});
