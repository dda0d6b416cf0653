// A project update (domain/projects.ts updateProject), on both databases: a change is
// written with its events (before and after), a patch that changes nothing writes nothing
// and emits nothing, and another organization's project is a 404 with nothing written.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KINDS } from '../helpers/stores.js';
import { setupApi, type TestApi } from '../helpers/api.js';

describe.each(KINDS)('updating a project on %s', (kind) => {
  let api: TestApi;
  let project: any;
  beforeEach(async () => {
    api = await setupApi(kind);
    project = (await api.call('POST', '/v1/projects', { body: { title: 'P', description: 'first' } })).body;
  });
  afterEach(async () => {
    await api.close();
  });
  const events = async () => (await api.call('GET', '/v1/events?limit=500')).body.data.filter((e: any) => e.type !== 'project.created');

  it('writes a change with its event, and a patch that changes nothing not at all', async () => {
    await new Promise((r) => setTimeout(r, 5));
    const same = await api.call('PATCH', `/v1/projects/${project.id}`, { body: { title: 'P', description: 'first' } });
    expect(same.status).toBe(200);
    expect(same.body.updated_at).toBe(project.updated_at);
    expect(await events()).toEqual([]);

    const res = await api.call('PATCH', `/v1/projects/${project.id}`, { body: { description: 'second' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ title: 'P', description: 'second' });
    expect(res.body.updated_at).not.toBe(project.updated_at);
    const [ev] = await events();
    expect(ev).toMatchObject({ type: 'project.updated', data: { changed: ['description'] }, before: { description: 'first' }, after: { description: 'second' } });
    expect(ev.before.workflow.stages).toHaveLength(3);
    expect((await api.call('GET', `/v1/projects/${project.id}`)).body).toMatchObject({ description: 'second', updated_at: res.body.updated_at });
  });

  it('emits a status change as its own event beside the fields that changed', async () => {
    const res = await api.call('PATCH', `/v1/projects/${project.id}`, { body: { title: 'Q', status: project.status === 'InProgress' ? 'Completed' : 'InProgress' } });
    expect(res.status).toBe(200);
    const types = (await events()).map((e: any) => e.type);
    expect(types).toEqual(['project.updated', 'project.status_changed']);
    const status = (await events())[1];
    expect(status.data).toMatchObject({ from: project.status, to: res.body.status });
  });

  it('answers 404 for a project of another organization, with nothing written', async () => {
    const res = await api.call('PATCH', `/v1/projects/${project.id}`, { key: api.b.key, body: { description: 'theirs' } });
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('not_found');
    expect((await api.call('GET', `/v1/projects/${project.id}`)).body.description).toBe('first');
  });

  it('stores the after snapshot once, inside the data, and reads it back whole', async () => {
    await api.call('PATCH', `/v1/projects/${project.id}`, { body: { description: 'second' } });
    const [ev] = await events();
    // The row keeps data.project's text once; `after` names where it sits (event-rows.ts).
    const row = await api.store.db.selectFrom('events').select(['data', 'after']).where('id', '=', ev.id).executeTakeFirstOrThrow();
    expect(row.after).toMatch(/^@data:\d+:\d+$/);
    expect(row.data).toContain('"description":"second"');
    expect(ev.after).toEqual(ev.data.project);
    expect(ev.after).toMatchObject({ id: project.id, description: 'second' });
    expect((await api.call('GET', `/v1/events/${ev.id}`)).body.after).toEqual(ev.data.project);
  });
});
