// Digests: the seed's statistics from a hand-made activity history, checked against
// hand-computed values; each run sent once across processes; a missed run sent once, late;
// empty digests skipped unless asked for; and the preview endpoint.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeDigest } from '../../src/domain/digest-stats.js';
import { runDueDigests } from '../../src/schedule/digests.js';
import { lastFire, nextFire } from '../../src/model/cron.js';
import { KINDS } from '../helpers/stores.js';
import { setupApi, type TestApi } from '../helpers/api.js';

const H = 3_600_000;

describe('digest schedules', () => {
  it('default to 17:00 UTC daily, and follow a cron in a time zone', () => {
    const at = Date.parse('2026-11-23T18:30:00Z');
    expect(new Date(lastFire({}, at)!).toISOString()).toBe('2026-11-23T17:00:00.000Z');
    expect(new Date(nextFire({}, at)).toISOString()).toBe('2026-11-24T17:00:00.000Z');
    // 09:00 in Paris is 08:00 UTC in winter.
    expect(new Date(lastFire({ cron: '0 9 * * 1-5', tz: 'Europe/Paris' }, at)!).toISOString()).toBe('2026-11-23T08:00:00.000Z');
    expect(lastFire({}, Date.parse('2026-11-23T17:00:00Z'))).toBe(Date.parse('2026-11-23T17:00:00Z'));
  });
});

describe.each(KINDS)('digests on %s', (kind) => {
  let api: TestApi;
  let users: Record<'ann' | 'bob' | 'rev', number>;
  let p1: any;
  let p2: any;
  const fire = Date.parse('2030-01-10T17:00:00Z');
  const start = fire - 24 * H;

  beforeAll(async () => {
    api = await setupApi(kind);
    users = {} as typeof users;
    for (const [k, role] of [['ann', 'annotator'], ['bob', 'annotator'], ['rev', 'reviewer']] as const) {
      users[k] = (await api.call('POST', '/v1/users', { body: { email: `${k}@example.com`, name: k, role } })).body.id;
    }
    p1 = (await api.call('POST', '/v1/projects', { body: { title: 'P1' } })).body;
    p2 = (await api.call('POST', '/v1/projects', { body: { title: 'P2' } })).body;
    // The hand-made history. [project, user, subject, kind, duration ms, minutes after start]
    const rows: [number, number, number | null, string, number, number][] = [
      [p1.id, users.ann, null, 'label_add', 1000, 10],
      [p1.id, users.ann, null, 'label_add', 3000, 20],
      [p1.id, users.ann, null, 'label_edit', 500, 30],
      [p1.id, users.ann, users.ann, 'label_submit', 0, 40],
      [p1.id, users.ann, users.ann, 'label_submit', 0, 40],
      [p1.id, users.ann, users.ann, 'label_submit', 0, 41],
      [p1.id, users.bob, null, 'label_add', 2000, 50],
      [p1.id, users.bob, users.bob, 'label_submit', 0, 55],
      [p1.id, users.rev, users.ann, 'review_accept', 400, 60],
      [p1.id, users.rev, users.ann, 'review_accept', 600, 61],
      [p1.id, users.rev, users.ann, 'review_reject', 1000, 62],
      [p1.id, users.rev, users.bob, 'review_reject', 2000, 63],
      // Outside the window: before its start, and exactly at its end (the end is exclusive).
      [p1.id, users.ann, null, 'label_add', 99_999, -1],
      [p1.id, users.rev, users.ann, 'review_accept', 99_999, 24 * 60],
      // Another project: its own stats.
      [p2.id, users.bob, null, 'label_edit', 700, 100],
    ];
    await api.store.db
      .insertInto('activity')
      .values(rows.map(([project_id, user_id, subject_user_id, kind, duration_ms, min]) => ({ org_id: api.a.id, project_id, task_id: 1, label_id: null, user_id, subject_user_id, kind, duration_ms, comment: null, occurred_at: start + min * 60_000 })))
      .execute();
  });
  afterAll(async () => api?.close());

  it('computes the seed statistics exactly as by hand', async () => {
    const d = await computeDigest(api.store.db, api.a.id, 'all', start, fire);
    expect(d.window).toEqual({ start: new Date(start).toISOString(), end: new Date(fire).toISOString() });
    expect(d.projects_stats).toEqual([
      {
        project_hash: p1.project_hash,
        annotator_stats: [
          { user_email: 'ann@example.com', submitted_labels: 3, accepted_labels: 2, rejected_labels: 1, avg_time_for_add: 2000, avg_time_for_edit: 500, rejection_rate: 1 / 3, total_add_or_edit_time: 4500 },
          { user_email: 'bob@example.com', submitted_labels: 1, accepted_labels: 0, rejected_labels: 1, avg_time_for_add: 2000, rejection_rate: 1, total_add_or_edit_time: 2000 },
        ],
        reviewer_stats: [{ user_email: 'rev@example.com', reject_count: 2, accept_count: 2, average_time: 1000, reviews_count: 4, total_time: 4000, rejection_rate: 0.5 }],
      },
      {
        project_hash: p2.project_hash,
        annotator_stats: [{ user_email: 'bob@example.com', submitted_labels: 0, accepted_labels: 0, rejected_labels: 0, avg_time_for_edit: 700, rejection_rate: 0, total_add_or_edit_time: 700 }],
        reviewer_stats: [],
      },
    ]);
    // Scoped to one project.
    expect((await computeDigest(api.store.db, api.a.id, [p2.id], start, fire)).projects_stats.map((p) => p.project_hash)).toEqual([p2.project_hash]);
  });

  it('runs each window once across processes, sends a missed one once and late, and skips empty ones', async () => {
    const webhook = { type: 'webhook', url: 'http://127.0.0.1:9/digest' };
    const n = (await api.call('POST', '/v1/notifications', { body: { title: 'Daily', triggers: [{ digest: {} }], channels: [webhook, { type: 'email', recipients: ['mgr@example.com'] }] } })).body;
    const empty = (await api.call('POST', '/v1/notifications', { body: { title: 'Quiet', scope: { projects: [p2.id] }, triggers: [{ digest: { cron: '0 6 * * *' } }], channels: [webhook] } })).body;
    const forced = (await api.call('POST', '/v1/notifications', { body: { title: 'Always', scope: { projects: [p2.id] }, triggers: [{ digest: { cron: '0 6 * * *', send_empty: true } }], channels: [webhook] } })).body;
    // They were created "long ago", so the 2030 runs are owed to them.
    await api.store.db.updateTable('notifications').set({ created_at: start - 10 * 24 * H }).where('id', 'in', [n.id, empty.id, forced.id]).execute();

    // Three processes reach 17:05 together: one run, one delivery per channel.
    const at = fire + 5 * 60_000;
    const results = await Promise.all([runDueDigests(api.store, at), runDueDigests(api.store, at), runDueDigests(api.store, at)]);
    expect(results.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1);
    expect(await runDueDigests(api.store, at)).toBe(0);
    const runs = await api.store.db.selectFrom('digest_windows').selectAll().where('notification_id', '=', n.id).execute();
    expect(runs.map((r) => r.fire_at)).toEqual([fire]);
    const ds = (await api.call('GET', `/v1/deliveries?notification_id=${n.id}`)).body.data;
    expect(ds.map((d: any) => d.event_type)).toEqual(['digest', 'digest']);

    // The 06:00 digests' run of Jan 10 (covering P2's activity of Jan 9) went out at 17:05
    // too. At 06:00 on Jan 11 their window is empty: skipped, unless send_empty.
    expect((await api.call('GET', `/v1/deliveries?notification_id=${empty.id}`)).body.data).toHaveLength(1);
    const six = Date.parse('2030-01-11T06:00:30Z');
    await runDueDigests(api.store, six);
    const sixRun = await api.store.db.selectFrom('digest_windows').select('outcome').where('notification_id', '=', empty.id).where('fire_at', '=', Date.parse('2030-01-11T06:00:00Z')).executeTakeFirstOrThrow();
    expect(sixRun.outcome).toBe('skipped_empty');
    expect((await api.call('GET', `/v1/deliveries?notification_id=${empty.id}`)).body.data).toHaveLength(1);
    expect((await api.call('GET', `/v1/deliveries?notification_id=${forced.id}`)).body.data).toHaveLength(2);

    // Down for three days: on return, only the latest missed run is sent, once.
    const back = Date.parse('2030-01-13T20:00:00Z');
    await runDueDigests(api.store, back);
    await runDueDigests(api.store, back + 60_000);
    const after = await api.store.db.selectFrom('digest_windows').select('fire_at').where('notification_id', '=', n.id).orderBy('fire_at').execute();
    expect(after.map((r) => new Date(r.fire_at).toISOString())).toEqual(['2030-01-10T17:00:00.000Z', '2030-01-13T17:00:00.000Z']);
  });

  it('previews a digest for any window', async () => {
    const n = (await api.call('POST', '/v1/notifications', { body: { title: 'Preview', scope: { projects: [p1.id] }, triggers: [{ digest: { window_hours: 48 } }] } })).body;
    const res = await api.call('GET', `/v1/notifications/${n.id}/digest?start=${new Date(start).toISOString()}&end=${new Date(fire).toISOString()}`);
    expect(res.status).toBe(200);
    expect(res.body.projects_stats[0].annotator_stats[0]).toMatchObject({ user_email: 'ann@example.com', submitted_labels: 3, rejection_rate: 1 / 3 });
    expect((await api.call('GET', `/v1/notifications/${n.id}/digest?start=2030-01-02T00:00:00Z&end=2030-01-01T00:00:00Z`)).status).toBe(400);
    const bad = await api.call('POST', '/v1/notifications', { body: { title: 'x', triggers: [{ digest: { cron: 'every day' } }] } });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/5-field cron/);
    const badTz = await api.call('POST', '/v1/notifications', { body: { title: 'x', triggers: [{ digest: { tz: 'Mars/Olympus' } }] } });
    expect(badTz.status).toBe(400);
  });
});
