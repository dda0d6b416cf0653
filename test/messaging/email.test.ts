// Email notifications through a real SMTP server: aggregated per recipient and window (seed
// 000: "aggregated and sent in 5 minute intervals"; here the window is shortened), each
// window sent once; and, with no SMTP configured, kept in the local outbox.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeEmailWindows } from '../../src/schedule/email-batches.js';
import { KINDS } from '../helpers/stores.js';
import { setupApi, type TestApi } from '../helpers/api.js';
import { waitFor } from '../helpers/receiver.js';
import { startSmtp, type Smtp } from '../helpers/smtp.js';

const WINDOW = 1500;

/** Start just after a window opens, so a short walk's events share one window. */
async function atWindowStart() {
  while (Date.now() % WINDOW > 50) await new Promise((r) => setTimeout(r, 5));
}

async function reviewWalk(api: TestApi, title: string) {
  const p = (await api.call('POST', '/v1/projects', { body: { title } })).body;
  const tasks = (await api.call('POST', `/v1/projects/${p.id}/tasks`, { body: { tasks: [{ data: { n: 1 } }, { data: { n: 2 } }] } })).body.tasks;
  for (const t of tasks) {
    await api.call('POST', `/v1/tasks/${t.id}/labels`, { body: { result: [{ v: t.id }] } });
    await api.call('POST', `/v1/tasks/${t.id}/submit`);
  }
  const labels = (await api.call('GET', `/v1/tasks/${tasks[0].id}/labels`)).body.data;
  await api.call('POST', `/v1/labels/${labels[0].id}/review`, { body: { decision: 'accept' } });
  return { p, tasks };
}

describe.each(KINDS)('email over SMTP on %s', (kind) => {
  let api: TestApi;
  let smtp: Smtp;
  beforeAll(async () => {
    smtp = await startSmtp();
    api = await setupApi(kind, { worker: true, scheduler: true, delivery: { emailWindowMs: WINDOW, scheduleTickMs: 100 }, messaging: { smtpUrl: smtp.url, emailFrom: 'Labelcast <noreply@labelcast.test>' } });
  });
  afterAll(async () => {
    await api?.close();
    await smtp?.close();
  });

  it('sends one message per recipient per window, listing its events, with a project link', async () => {
    const bad = await api.call('POST', '/v1/notifications', { body: { title: 'x', triggers: ['task.submitted'], channels: [{ type: 'email', recipients: ['not an email'] }] } });
    expect(bad.status).toBe(400);
    const n = await api.call('POST', '/v1/notifications', {
      body: { title: 'Reviewers', triggers: ['task.submitted', 'task.completed'], channels: [{ type: 'email', recipients: ['Rev@Example.com', 'lead@example.com'] }] },
    });
    expect(n.status).toBe(201);
    expect(n.body.channels[0].recipients).toEqual(['rev@example.com', 'lead@example.com']);
    await atWindowStart();
    const { p, tasks } = await reviewWalk(api, 'Street scenes');
    const mails = await waitFor(() => (smtp.mails.length >= 2 ? smtp.mails : null), 'two emails', 15_000);
    await new Promise((r) => setTimeout(r, 600));
    expect(smtp.mails).toHaveLength(2);
    expect(mails.map((m) => m.envelopeTo[0]).sort()).toEqual(['lead@example.com', 'rev@example.com']);
    for (const m of mails) {
      expect(m.from?.value[0]).toMatchObject({ name: 'Labelcast', address: 'noreply@labelcast.test' });
      expect(m.subject).toMatch(/^3 updates: Task \d+ was submitted for review in "Street scenes"/);
      // All three events, in order, in both bodies, with the project link.
      expect(m.text).toContain(`Task ${tasks[0].id} was submitted for review in "Street scenes"`);
      expect(m.text).toContain(`Task ${tasks[1].id} was submitted for review`);
      expect(m.text).toContain(`Task ${tasks[0].id} is complete`);
      expect(m.text!.indexOf(`Task ${tasks[1].id} was submitted`)).toBeLessThan(m.text!.indexOf(`Task ${tasks[0].id} is complete`));
      expect(m.text).toContain(`http://labelcast.test/projects/${p.id}`);
      expect(m.html).toContain(`href="http://labelcast.test/projects/${p.id}"`);
      expect(m.html).toContain('<li>');
    }
    // The attempt log shows the SMTP exchange like any delivery.
    const ds = (await api.call('GET', `/v1/deliveries?notification_id=${n.body.id}`)).body.data;
    expect(ds.map((d: any) => [d.event_type, d.status])).toEqual([['email.batch', 'succeeded'], ['email.batch', 'succeeded']]);
    const attempt = (await api.call('GET', `/v1/deliveries/${ds[0].id}`)).body.attempts[0];
    expect(attempt.url).toBe(smtp.url.replace(/\/$/, ''));
    expect(attempt.request_headers.subject).toMatch(/3 updates/);
  });

  it('sends a window once, also when schedulers race, and late items go out with the next window', async () => {
    const before = smtp.mails.length;
    await api.call('POST', '/v1/notifications', { body: { title: 'Race', triggers: ['project.created'], channels: [{ type: 'email', recipients: ['race@example.com'] }] } });
    await api.call('POST', '/v1/projects', { body: { title: 'Raced' } });
    // Race the windows by hand too: any number of closers make one message.
    const now = Date.now() + WINDOW + 3000;
    await Promise.all([closeEmailWindows(api.store, WINDOW, now), closeEmailWindows(api.store, WINDOW, now), closeEmailWindows(api.store, WINDOW, now)]);
    await waitFor(() => smtp.mails.length > before, 'the race email', 15_000);
    await new Promise((r) => setTimeout(r, WINDOW * 3));
    expect(smtp.mails.filter((m) => m.envelopeTo[0] === 'race@example.com')).toHaveLength(1);
    const batches = await api.store.db.selectFrom('deliveries').select('dedupe_key').where('dedupe_key', 'like', 'email:%race@example.com%').execute();
    expect(batches).toHaveLength(1);

    // An item that arrives for a window whose message already went moves to the open window.
    const [item] = await api.store.db.selectFrom('email_items').selectAll().where('recipient', '=', 'race@example.com').execute();
    await api.store.db.insertInto('email_items').values({ ...item!, id: undefined as never, event_id: 'late-event', batch_id: null }).execute();
    await closeEmailWindows(api.store, WINDOW, Date.now() + 10_000);
    const late = await api.store.db.selectFrom('email_items').select(['window_start', 'batch_id']).where('event_id', '=', 'late-event').executeTakeFirstOrThrow();
    expect(late.window_start).toBeGreaterThan(item!.window_start);
  });
});

describe.each(KINDS)('email outbox without SMTP on %s', (kind) => {
  let api: TestApi;
  beforeAll(async () => {
    api = await setupApi(kind, { worker: true, scheduler: true, delivery: { emailWindowMs: WINDOW, scheduleTickMs: 100 } });
  });
  afterAll(async () => api?.close());

  it('keeps every message in the outbox, listed and shown by the API', async () => {
    await api.call('POST', '/v1/notifications', { body: { title: 'Outbox', triggers: ['task.submitted'], channels: [{ type: 'email', recipients: ['someone@example.com'] }] } });
    await atWindowStart();
    await reviewWalk(api, 'Kept');
    const list = await waitFor(async () => {
      const l = (await api.call('GET', '/v1/outbox')).body.data;
      return l.length ? l : null;
    }, 'an outbox message', 15_000);
    expect(list[0]).toMatchObject({ recipients: ['someone@example.com'] });
    expect(list[0].subject).toMatch(/2 updates: Task \d+ was submitted for review in "Kept"/);
    const one = (await api.call('GET', `/v1/outbox/${list[0].id}`)).body;
    expect(one.html).toContain('<ul>');
    // The outbox row is written while sending; the attempt is recorded right after.
    await waitFor(async () => (await api.call('GET', `/v1/deliveries/${list[0].delivery}`)).body.status === 'succeeded', 'the delivery to succeed');
  });
});
