// The workflow's rules: who may do what, which transitions are allowed, how workflows
// change, and how tasks are paged; on both databases.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KINDS } from '../helpers/stores.js';
import { setupApi, type TestApi } from '../helpers/api.js';

describe.each(KINDS)('workflow rules on %s', (kind) => {
  let api: TestApi;
  let keys: Record<'manager' | 'annotator' | 'reviewer', string>;
  let users: Record<'manager' | 'annotator' | 'reviewer', any>;

  beforeAll(async () => {
    api = await setupApi(kind);
    users = {} as typeof users;
    keys = {} as typeof keys;
    for (const role of ['manager', 'annotator', 'reviewer'] as const) {
      users[role] = (await api.call('POST', '/v1/users', { body: { email: `${role}@a.test`, name: role, role } })).body;
      keys[role] = (await api.call('POST', '/v1/api-keys', { body: { name: role, user_id: users[role].id } })).body.key;
    }
  });
  afterAll(async () => api?.close());

  async function newTask(stages?: string[]) {
    const body: any = { title: 'P' };
    if (stages) body.workflow = { stages: stages.map((kind) => ({ kind })) };
    const p = (await api.call('POST', '/v1/projects', { key: keys.manager, body })).body;
    const t = (await api.call('POST', `/v1/projects/${p.id}/tasks`, { key: keys.manager, body: { tasks: [{ data: { n: 1 } }] } })).body.tasks[0];
    return { p, t };
  }

  it('enforces roles with a 403 that names the needed role', async () => {
    const denied = await api.call('POST', '/v1/projects', { key: keys.annotator, body: { title: 'nope' } });
    expect(denied.status).toBe(403);
    expect(denied.body.code).toBe('forbidden');
    expect(denied.body.message).toMatch(/'annotator' may not create projects; it needs one of: admin, manager/);
    const { t } = await newTask();
    expect((await api.call('POST', `/v1/tasks/${t.id}/labels`, { key: keys.reviewer, body: { result: [] } })).status).toBe(403);
    const label = (await api.call('POST', `/v1/tasks/${t.id}/labels`, { key: keys.annotator, body: { result: [] } })).body;
    await api.call('POST', `/v1/tasks/${t.id}/submit`, { key: keys.annotator });
    expect((await api.call('POST', `/v1/labels/${label.id}/review`, { key: keys.annotator, body: { decision: 'accept' } })).status).toBe(403);
    expect((await api.call('POST', '/v1/users', { key: keys.reviewer, body: { email: 'x@a.test', name: 'x', role: 'annotator' } })).status).toBe(403);
    expect((await api.call('POST', '/v1/users', { key: keys.manager, body: { email: 'boss@a.test', name: 'x', role: 'admin' } })).status).toBe(403);
    // Only admins and managers may record work on someone else's behalf.
    const other = await api.call('POST', `/v1/tasks/${(await newTask()).t.id}/labels`, { key: keys.annotator, body: { result: [], completed_by: users.manager.id } });
    expect(other.status).toBe(403);
    expect(other.body.message).toMatch(/act on behalf/);
    // An annotator may create a key for themself but not for another user.
    expect((await api.call('POST', '/v1/api-keys', { key: keys.annotator, body: { name: 'mine' } })).status).toBe(201);
    expect((await api.call('POST', '/v1/api-keys', { key: keys.annotator, body: { name: 'theirs', user_id: users.reviewer.id } })).status).toBe(403);
  });

  it('records work on behalf of another member for admins and managers', async () => {
    const { t } = await newTask();
    const label = await api.call('POST', `/v1/tasks/${t.id}/labels`, { key: keys.manager, body: { result: [], completed_by: users.annotator.id } });
    expect(label.status).toBe(201);
    expect(label.body.completed_by).toBe(users.annotator.id);
  });

  it('refuses transitions the workflow does not allow', async () => {
    const { t } = await newTask();
    const label = (await api.call('POST', `/v1/tasks/${t.id}/labels`, { key: keys.annotator, body: { result: [{ a: 1 }] } })).body;
    // Not yet submitted: cannot be reviewed.
    const early = await api.call('POST', `/v1/labels/${label.id}/review`, { key: keys.reviewer, body: { decision: 'accept' } });
    expect(early.status).toBe(409);
    expect(early.body.code).toBe('invalid_state');
    await api.call('POST', `/v1/tasks/${t.id}/submit`, { key: keys.annotator });
    // In review: no new labels, no second submission.
    const add = await api.call('POST', `/v1/tasks/${t.id}/labels`, { key: keys.annotator, body: { result: [] } });
    expect(add.status).toBe(409);
    expect(add.body.message).toMatch(/review stage; labels are added in the annotate stage/);
    expect((await api.call('POST', `/v1/tasks/${t.id}/submit`, { key: keys.annotator })).body.code).toBe('invalid_state');
    expect((await api.call('POST', `/v1/labels/${label.id}/review`, { key: keys.reviewer, body: { decision: 'accept' } })).status).toBe(200);
    // Complete: labels are frozen, and a decided label cannot be reviewed again.
    expect((await api.call('PATCH', `/v1/labels/${label.id}`, { key: keys.annotator, body: { result: [] } })).body.code).toBe('invalid_state');
    expect((await api.call('DELETE', `/v1/labels/${label.id}`, { key: keys.annotator })).body.code).toBe('invalid_state');
    expect((await api.call('POST', `/v1/labels/${label.id}/review`, { key: keys.reviewer, body: { decision: 'reject' } })).body.code).toBe('invalid_state');
  });

  it('completes a task only when its last label is accepted', async () => {
    const { t } = await newTask();
    const l1 = (await api.call('POST', `/v1/tasks/${t.id}/labels`, { key: keys.annotator, body: { result: [1] } })).body;
    const l2 = (await api.call('POST', `/v1/tasks/${t.id}/labels`, { key: keys.annotator, body: { result: [2] } })).body;
    await api.call('POST', `/v1/tasks/${t.id}/submit`, { key: keys.annotator });
    const first = await api.call('POST', `/v1/labels/${l1.id}/review`, { key: keys.reviewer, body: { decision: 'accept' } });
    expect(first.body.task.stage.kind).toBe('review');
    // Reject the second: back to annotate; l1 stays accepted through the next round.
    const rej = await api.call('POST', `/v1/labels/${l2.id}/review`, { key: keys.reviewer, body: { decision: 'reject' } });
    expect(rej.body.task.stage.kind).toBe('annotate');
    await api.call('POST', `/v1/tasks/${t.id}/submit`, { key: keys.annotator });
    expect((await api.call('GET', `/v1/labels/${l1.id}`)).body.review_status).toBe('accepted');
    expect((await api.call('GET', `/v1/labels/${l2.id}`)).body.review_status).toBe('pending');
    const last = await api.call('POST', `/v1/labels/${l2.id}/review`, { key: keys.reviewer, body: { decision: 'accept' } });
    expect(last.body.task.stage.kind).toBe('complete');
    const completed = (await api.call('GET', `/v1/events?type=task.completed`)).body.data.filter((e: any) => e.data.task.id === t.id);
    expect(completed).toHaveLength(1);
    expect(completed[0].data.labels.map((l: any) => l.id)).toEqual([l1.id, l2.id]);
  });

  it('changes a workflow, keeping stage identity and refusing to drop a stage that holds tasks', async () => {
    const { p, t } = await newTask();
    const wf = (await api.call('GET', `/v1/projects/${p.id}/workflow`)).body;
    expect(wf.stages.map((s: any) => [s.kind, s.task_count])).toEqual([['annotate', 1], ['review', 0], ['complete', 0]]);
    const renamed = await api.call('PUT', `/v1/projects/${p.id}/workflow`, { key: keys.manager, body: { stages: [{ kind: 'annotate', title: 'Label' }, { kind: 'complete' }] } });
    expect(renamed.status).toBe(200);
    expect(renamed.body.stages.map((s: any) => [s.kind, s.title])).toEqual([['annotate', 'Label'], ['complete', 'Complete']]);
    expect(renamed.body.stages[0].stage_hash).toBe(wf.stages[0].stage_hash);
    // Now without review: a submission completes at once.
    await api.call('POST', `/v1/tasks/${t.id}/labels`, { key: keys.annotator, body: { result: [] } });
    expect((await api.call('POST', `/v1/tasks/${t.id}/submit`, { key: keys.annotator })).body.stage.kind).toBe('complete');
    // Put review back, move a task into it, then try to remove it.
    await api.call('PUT', `/v1/projects/${p.id}/workflow`, { key: keys.manager, body: { stages: [{ kind: 'annotate' }, { kind: 'review' }, { kind: 'complete' }] } });
    const t2 = (await api.call('POST', `/v1/projects/${p.id}/tasks`, { key: keys.manager, body: { tasks: [{ data: {} }] } })).body.tasks[0];
    await api.call('POST', `/v1/tasks/${t2.id}/labels`, { key: keys.annotator, body: { result: [] } });
    await api.call('POST', `/v1/tasks/${t2.id}/submit`, { key: keys.annotator });
    const refused = await api.call('PUT', `/v1/projects/${p.id}/workflow`, { key: keys.manager, body: { stages: [{ kind: 'annotate' }, { kind: 'complete' }] } });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('stage_in_use');
    expect(refused.body.message).toMatch(new RegExp(`task ${t2.id}`));
    const types = (await api.call('GET', `/v1/events?project_id=${p.id}&type=project.updated`)).body.data.map((e: any) => e.data.changed);
    expect(types).toEqual([['workflow'], ['workflow']]);
  });

  it('pages tasks and filters them by stage and projects by title', async () => {
    const p = (await api.call('POST', '/v1/projects', { body: { title: 'Paging 100%_test' } })).body;
    await api.call('POST', `/v1/projects/${p.id}/tasks`, { body: { tasks: Array.from({ length: 7 }, (_, i) => ({ data: { i } })) } });
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const page: any = (await api.call('GET', `/v1/projects/${p.id}/tasks?limit=3${cursor ? `&cursor=${cursor}` : ''}`)).body;
      seen.push(...page.data.map((t: any) => t.data.i));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect((await api.call('GET', `/v1/projects/${p.id}/tasks?stage=review`)).body.data).toEqual([]);
    expect((await api.call('GET', `/v1/projects/${p.id}/tasks?stage=annotate&limit=500`)).body.data).toHaveLength(7);
    const found = (await api.call('GET', '/v1/projects?search=100%25_')).body.data;
    expect(found.map((x: any) => x.id)).toEqual([p.id]);
    // LIKE wildcards in the search are literal: '%' alone matches only titles containing '%'.
    expect((await api.call('GET', '/v1/projects?search=%25')).body.data.map((x: any) => x.id)).toEqual([p.id]);
  });

  it('manages users and keys: shown once, revocable', async () => {
    const me = await api.call('GET', '/v1/users/me', { key: keys.reviewer });
    expect(me.body.role).toBe('reviewer');
    const created = (await api.call('POST', '/v1/api-keys', { key: keys.reviewer, body: { name: 'ci' } })).body;
    expect(created.key).toMatch(/^lc_/);
    const listed = (await api.call('GET', '/v1/api-keys', { key: keys.reviewer })).body.data;
    expect(listed.every((k: any) => k.key === undefined && k.user === users.reviewer.id)).toBe(true);
    expect(listed.map((k: any) => k.id)).toContain(created.id);
    expect((await api.call('GET', '/v1/projects', { key: created.key })).status).toBe(200);
    expect((await api.call('DELETE', `/v1/api-keys/${created.id}`, { key: keys.reviewer })).status).toBe(204);
    expect((await api.call('GET', '/v1/projects', { key: created.key })).status).toBe(401);
    const promoted = await api.call('PATCH', `/v1/users/${users.reviewer.id}`, { body: { role: 'manager' } });
    expect(promoted.body.role).toBe('manager');
    await api.call('PATCH', `/v1/users/${users.reviewer.id}`, { body: { role: 'reviewer' } });
  });
});
