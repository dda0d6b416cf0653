// GET /v1/activity: attempts per minute by outcome, dead letters, and the backlog at the end of
// each minute, for the caller's organization only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveryActivity, MINUTE } from '../../src/domain/activity.js';
import { setupApi, type TestApi } from '../helpers/api.js';
import { KINDS } from '../helpers/stores.js';

describe.each(KINDS)('delivery activity on %s', (kind) => {
  let t: TestApi;
  beforeAll(async () => {
    t = await setupApi(kind);
  });
  afterAll(() => t.close());

  it('counts per minute and carries the backlog forward', async () => {
    const db = t.store.db;
    const now = Math.floor(Date.now() / MINUTE) * MINUTE + 30_000; // mid-minute
    const m = (k: number) => now - k * MINUTE; // k minutes ago
    const delivery = (org: number, status: string, created: number, completed: number | null) => ({
      org_id: org, notification_id: 1, channel_id: 1, event_id: null, event_type: 'ping', part: 0, payload: null, status, attempt_count: 1, retry_index: 0,
      next_attempt_at: created, lease_until: null, leased_by: null, last_status: null, last_error: null, created_at: created, updated_at: created, completed_at: completed,
    });
    const ins = async (row: ReturnType<typeof delivery>) => (await db.insertInto('deliveries').values(row).returning('id').executeTakeFirstOrThrow()).id;
    // Before the window (4 hours ago): one still pending, one finished long ago (not backlog).
    await ins(delivery(t.a.id, 'pending', m(240), null));
    await ins(delivery(t.a.id, 'succeeded', m(240), m(239)));
    // 10 minutes ago: two created; one succeeds at once, one fails twice and is dead-lettered 5 minutes ago.
    const ok = await ins(delivery(t.a.id, 'succeeded', m(10), m(10)));
    const dead = await ins(delivery(t.a.id, 'failed', m(10), m(5)));
    // Another organization's traffic is not counted.
    const other = await ins(delivery(t.b.id, 'failed', m(10), m(5)));
    const attempt = (delivery_id: number, at: number, outcome: string) => ({ delivery_id, channel_id: 1, attempt_no: 1, started_at: at, latency_ms: 1, url: 'u', request_headers: '{}', request_body: '{}', response_status: null, response_body: null, outcome, worker: 'w', error_kind: null, error_message: null });
    await db.insertInto('attempts').values([attempt(ok, m(10), 'success'), attempt(dead, m(10), 'failure'), attempt(dead, m(5), 'failure'), attempt(other, m(10), 'failure')]).execute();

    const a = await deliveryActivity(db, t.a.id, 3, now);
    expect(a.minutes).toHaveLength(180);
    const at = (k: number) => a.minutes[a.minutes.length - 1 - k]!; // the minute k minutes ago
    expect(at(11)).toMatchObject({ success: 0, failure: 0, backlog: 1 });
    expect(at(10)).toMatchObject({ success: 1, failure: 1, dead_lettered: 0, backlog: 2 });
    expect(at(6)).toMatchObject({ success: 0, failure: 0, backlog: 2 });
    expect(at(5)).toMatchObject({ success: 0, failure: 1, dead_lettered: 1, backlog: 1 });
    expect(at(0)).toMatchObject({ backlog: 1 });
    expect(a.minutes.reduce((s, x) => s + x.success + x.failure, 0)).toBe(3);
    expect(a.due_now).toBe(1);
    expect(Date.parse(a.end) - Date.parse(a.start)).toBe(3 * 60 * MINUTE);

    const r = await t.call('GET', '/v1/activity?hours=1');
    expect(r.status).toBe(200);
    expect(r.body.minutes).toHaveLength(60);
    expect(r.body.due_now).toBe(1);
    const theirs = await t.call('GET', '/v1/activity', { key: t.b.key });
    expect(theirs.body.due_now).toBe(0);
    expect(theirs.body.minutes.reduce((s: number, x: { failure: number }) => s + x.failure, 0)).toBe(1);
  });

  it('refuses a window longer than a day', async () => {
    const r = await t.call('GET', '/v1/activity?hours=25');
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('validation_failed');
  });
});
