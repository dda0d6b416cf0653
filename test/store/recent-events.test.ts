// The events a process committed lately (store/queue/event-rows.ts RecentEvents), which its
// dispatcher's prepare stage uses instead of reading each claimed event back: a kept event
// must be the row the database holds, text for text, and an event whose command rolled back
// must never be kept.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KINDS } from '../helpers/stores.js';
import { setupApi, type TestApi } from '../helpers/api.js';
import { command, type Actor } from '../../src/domain/context.js';
import { emit, eventFromRow } from '../../src/domain/events.js';
import { renderStandardBody } from '../../src/dialects/standard.js';
import { RecentEvents, type EventRow } from '../../src/store/queue/event-rows.js';

describe.each(KINDS)('recent events on %s', (kind) => {
  let api: TestApi;
  let project: any;
  beforeEach(async () => {
    api = await setupApi(kind);
    // As a dispatcher's start does (no worker runs here: nothing is sent).
    api.store.recentEvents.keep();
    // Nothing listens on port 9: no worker runs, the deliveries only need to be routed.
    const hook = await api.call('POST', '/v1/notifications', { body: { title: 'hook', triggers: ['project.updated'], channels: [{ type: 'webhook', url: 'http://127.0.0.1:9/hook' }] } });
    expect(hook.status).toBe(201);
    project = (await api.call('POST', '/v1/projects', { body: { title: 'P', description: 'first' } })).body;
  });
  afterEach(async () => {
    await api.close();
  });

  const stored = (id: string) => api.store.db.selectFrom('events').selectAll().where('id', '=', id).executeTakeFirst();

  it('keeps a routed event once its command committed, as the database holds it', async () => {
    expect((await api.call('PATCH', `/v1/projects/${project.id}`, { body: { description: 'second' } })).status).toBe(200);
    const events = (await api.call('GET', '/v1/events?limit=500')).body.data;
    const ev = events.find((e: any) => e.type === 'project.updated');
    const kept = api.store.recentEvents.get(ev.id);
    const row = await stored(ev.id);
    expect(kept).toBeDefined();
    expect(row).toBeDefined();
    const { seq: _seq, deliveries_left: _left, ...columns } = row!;
    expect(kept).toEqual(columns);
    expect(renderStandardBody(eventFromRow(kept!))).toBe(renderStandardBody(eventFromRow(row!)));
    // An event no channel wanted is not kept: nothing will claim it.
    const created = events.find((e: any) => e.type === 'project.created');
    expect(api.store.recentEvents.get(created.id)).toBeUndefined();
  });

  it('never keeps an event whose command rolled back', async () => {
    const actor: Actor = { org_id: api.a.id, user_id: api.a.adminId, email: 'admin@a.test', role: 'admin', api_key_id: null };
    let id = '';
    const failed = command(api.svc, actor, async (ctx) => {
      id = await emit(ctx, { type: 'project.updated', project_id: project.id, data: { project, changed: ['description'] }, before: project, after: project });
      throw new Error('the command failed after its event');
    });
    await expect(failed).rejects.toThrow('the command failed after its event');
    expect(id).not.toBe('');
    expect(await stored(id)).toBeUndefined();
    expect(api.store.recentEvents.get(id)).toBeUndefined();
  });
});

describe('RecentEvents', () => {
  const row = (id: string, data = '{}'): EventRow => ({ id, org_id: 1, project_id: null, type: 'project.updated', occurred_at: 1, actor: '{}', data, before: null, after: null });

  it('keeps nothing in a process that does not deliver', () => {
    const idle = new RecentEvents();
    idle.add(row('a'));
    expect(idle.get('a')).toBeUndefined();
    idle.keep();
    idle.add(row('a'));
    expect(idle.get('a')?.id).toBe('a');
  });

  it('holds at most its bound, dropping the oldest first', () => {
    const recent = new RecentEvents(2);
    recent.keep();
    recent.add(row('a'));
    recent.add(row('b'));
    recent.add(row('c'));
    expect(recent.get('a')).toBeUndefined();
    expect(recent.get('b')?.id).toBe('b');
    expect(recent.get('c')?.id).toBe('c');
  });

  it('holds at most its size in text, and never a row larger than ROW_CHARS', () => {
    const recent = new RecentEvents(100, 1_000);
    recent.keep();
    const text = (n: number) => JSON.stringify('x'.repeat(n - 2));
    recent.add(row('a', text(400)));
    recent.add(row('b', text(400)));
    recent.add(row('c', text(400)));
    // Each row is its data plus its actor '{}': the third pushed out the first.
    expect(recent.get('a')).toBeUndefined();
    expect(recent.get('b')).toBeDefined();
    expect(recent.get('c')).toBeDefined();
    const large = new RecentEvents();
    large.keep();
    large.add(row('big', text(RecentEvents.ROW_CHARS + 1)));
    expect(large.get('big')).toBeUndefined();
  });
});
