// Bad input gets a 4xx with a stable code and a message that says what to fix, never a 500
// and never a partial write.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KINDS } from '../helpers/stores.js';
import { setupApi, type TestApi } from '../helpers/api.js';

describe.each(KINDS)('bad input on %s', (kind) => {
  let api: TestApi;
  let project: any;
  let task: any;
  const eventCount = async () => Number((await api.store.db.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  const rowCount = async (table: 'tasks' | 'labels' | 'projects' | 'users') => Number((await api.store.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

  beforeAll(async () => {
    api = await setupApi(kind, { bodyLimit: 64 * 1024 });
    project = (await api.call('POST', '/v1/projects', { body: { title: 'P' } })).body;
    task = (await api.call('POST', `/v1/projects/${project.id}/tasks`, { body: { tasks: [{ data: { x: 1 } }] } })).body.tasks[0];
  });
  afterAll(async () => api?.close());

  const cases: [string, string, string, { body?: unknown; raw?: string; headers?: Record<string, string> }, number, string, RegExp][] = [
    ['unknown field', 'POST', '/v1/projects', { body: { title: 'x', colour: 'red' } }, 400, 'validation_failed', /unknown field 'colour'/],
    ['wrong type', 'POST', '/v1/projects', { body: { title: 42 } }, 400, 'validation_failed', /body\.title must be string/],
    ['number as string is not coerced', 'POST', '/v1/tasks/{task}/labels', { body: { result: [], time_ms: '5' } }, 400, 'validation_failed', /body\.time_ms must be number/],
    ['missing field', 'POST', '/v1/projects', { body: {} }, 400, 'validation_failed', /missing the required field 'title'/],
    ['empty title', 'POST', '/v1/projects', { body: { title: '' } }, 400, 'validation_failed', /body\.title/],
    ['bad enum', 'PATCH', '/v1/projects/{project}', { body: { status: 'Done' } }, 400, 'validation_failed', /must be one of: "NotStarted"/],
    ['empty patch', 'PATCH', '/v1/projects/{project}', { body: {} }, 400, 'validation_failed', /at least one field/],
    ['nested unknown field', 'POST', '/v1/projects', { body: { title: 'x', workflow: { stages: [{ kind: 'annotate', colour: 1 }, { kind: 'complete' }] } } }, 400, 'validation_failed', /body\.workflow\.stages\.0 has an unknown field 'colour'/],
    ['bad workflow order', 'POST', '/v1/projects', { body: { title: 'x', workflow: { stages: [{ kind: 'complete' }, { kind: 'annotate' }] } } }, 400, 'invalid_workflow', /annotate, review, complete/],
    ['duplicate stage kinds', 'POST', '/v1/projects', { body: { title: 'x', workflow: { stages: [{ kind: 'annotate' }, { kind: 'annotate' }, { kind: 'complete' }] } } }, 400, 'invalid_workflow', /got \[annotate,annotate,complete\]/],
    ['bad email', 'POST', '/v1/users', { body: { email: 'not-an-email', name: 'x', role: 'annotator' } }, 400, 'validation_failed', /body\.email must match format "email"/],
    ['bad role', 'POST', '/v1/users', { body: { email: 'a@b.co', name: 'x', role: 'owner' } }, 400, 'validation_failed', /must be one of: "admin"/],
    ['id not a number', 'GET', '/v1/projects/abc', {}, 400, 'validation_failed', /params\.id must be integer/],
    ['id zero', 'GET', '/v1/tasks/0', {}, 400, 'validation_failed', /params\.id must be >= 1/],
    ['id too large', 'GET', '/v1/labels/99999999999999999999', {}, 400, 'validation_failed', /params\.id/],
    ['event id not a uuid', 'GET', '/v1/events/123', {}, 400, 'validation_failed', /params\.id must match format "uuid"/],
    ['unknown id', 'GET', '/v1/projects/987654', {}, 404, 'not_found', /project 987654 was not found/],
    ['bad cursor', 'GET', '/v1/projects?cursor=bm9wZQ', {}, 400, 'invalid_cursor', /next_cursor/],
    ['limit too large', 'GET', '/v1/events?limit=100000', {}, 400, 'validation_failed', /querystring\.limit must be <= 500/],
    ['unknown query parameter', 'GET', '/v1/projects?colour=red', {}, 400, 'validation_failed', /unknown field 'colour'/],
    ['unknown event type filter', 'GET', '/v1/events?type=task.exploded', {}, 400, 'validation_failed', /must be one of/],
    ['malformed JSON', 'POST', '/v1/projects', { raw: '{"title": ', headers: { 'content-type': 'application/json' } }, 400, 'invalid_json', /not valid JSON/],
    ['wrong content type', 'POST', '/v1/projects', { raw: 'title=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415, 'unsupported_media_type', /application\/json/],
    ['too many tasks in one import', 'POST', '/v1/projects/{project}/tasks', { body: { tasks: Array.from({ length: 1001 }, () => ({ data: {} })) } }, 400, 'validation_failed', /must NOT have more than 1000 items/],
    ['body over the limit', 'POST', '/v1/projects', { body: { title: 'x', description: 'y'.repeat(70 * 1024) } }, 413, 'body_too_large', /larger than 65536 bytes/],
    ['unknown route', 'GET', '/v1/nothing-here', {}, 404, 'route_not_found', /No endpoint GET \/v1\/nothing-here/],
    ['no key', 'GET', '/v1/projects', { headers: {} }, 401, 'unauthorized', /Authorization: Bearer/],
  ];

  it.each(cases)('%s', async (_name, method, url, opts, status, code, message) => {
    const events = await eventCount();
    const target = url.replace('{project}', project.id).replace('{task}', task.id);
    const key = _name === 'no key' ? '' : undefined;
    const res = await api.call(method, target, { ...opts, ...(key !== undefined ? { key } : {}) });
    expect(res.status).toBe(status);
    expect(res.body.code).toBe(code);
    expect(res.body.status).toBe(status);
    expect(res.body.message).toMatch(message);
    expect(await eventCount()).toBe(events);
  });

  it('rejects an unknown API key', async () => {
    const res = await api.call('GET', '/v1/projects', { key: 'lc_not-a-real-key-at-all' });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('unauthorized');
  });

  it('writes nothing when a command fails half-way', async () => {
    // An import whose last task names a user of another organization fails after the
    // checks on earlier rows: no task and no event may remain.
    const before = { tasks: await rowCount('tasks'), events: await eventCount() };
    const res = await api.call('POST', `/v1/projects/${project.id}/tasks`, {
      body: { tasks: [{ data: { ok: 1 } }, { data: { ok: 2 }, assignee: api.b.adminId }] },
    });
    expect(res.status).toBe(404);
    expect(res.body.message).toMatch(/assignee/);
    expect({ tasks: await rowCount('tasks'), events: await eventCount() }).toEqual(before);
  });

  it('a failure inside the transaction after rows were written rolls all of them back', async () => {
    // Submitting a task with no labels fails after the task row was locked and read; and a
    // duplicate user is refused with a conflict and no row.
    const users = await rowCount('users');
    const first = await api.call('POST', '/v1/users', { body: { email: 'dup@a.test', name: 'D', role: 'annotator' } });
    expect(first.status).toBe(201);
    const dup = await api.call('POST', '/v1/users', { body: { email: 'DUP@a.test', name: 'D2', role: 'reviewer' } });
    expect(dup.status).toBe(409);
    expect(dup.body.code).toBe('conflict');
    expect(await rowCount('users')).toBe(users + 1);
    const events = await eventCount();
    const submit = await api.call('POST', `/v1/tasks/${task.id}/submit`);
    expect(submit.status).toBe(409);
    expect(submit.body.code).toBe('invalid_state');
    expect(submit.body.message).toMatch(/has no labels/);
    expect(await eventCount()).toBe(events);
  });
});
