// The scripted walk of issue 2: a whole annotation session through the API produces exactly
// the expected events, in order, on both databases.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KINDS } from '../helpers/stores.js';
import { setupApi, type TestApi } from '../helpers/api.js';

async function allEvents(api: TestApi, key?: string) {
  const out: any[] = [];
  let cursor: string | null = null;
  do {
    const q: string = cursor ? `?limit=4&cursor=${cursor}` : '?limit=4';
    const res = await api.call('GET', `/v1/events${q}`, key ? { key } : {});
    expect(res.status).toBe(200);
    out.push(...res.body.data);
    cursor = res.body.next_cursor;
  } while (cursor);
  return out;
}

describe.each(KINDS)('annotation walk on %s', (kind) => {
  let api: TestApi;
  beforeAll(async () => {
    api = await setupApi(kind);
  });
  afterAll(async () => api?.close());

  it('produces exactly the expected events in order', async () => {
    const { call } = api;
    // Team: one annotator and one reviewer, each with their own key.
    const ann = (await call('POST', '/v1/users', { body: { email: 'Ann@Example.com', name: 'Ann', role: 'annotator' } })).body;
    expect(ann.email).toBe('ann@example.com');
    const rev = (await call('POST', '/v1/users', { body: { email: 'rev@example.com', name: 'Rev', role: 'reviewer' } })).body;
    const annKey = (await call('POST', '/v1/api-keys', { body: { name: 'ann', user_id: ann.id } })).body.key;
    const revKey = (await call('POST', '/v1/api-keys', { body: { name: 'rev', user_id: rev.id } })).body.key;

    const created = await call('POST', '/v1/projects', { body: { title: 'Street scenes', label_config: '<View/>' } });
    expect(created.status).toBe(201);
    const project = created.body;
    expect(project.workflow.stages.map((s: any) => s.kind)).toEqual(['annotate', 'review', 'complete']);
    expect(project.project_hash).toMatch(/^[0-9a-f-]{36}$/);

    const imported = await call('POST', `/v1/projects/${project.id}/tasks`, {
      body: { tasks: [{ data: { image: 's3://b/1.png' } }, { data: { image: 's3://b/2.png' }, meta: { camera: 'front' }, assignee: ann.id }] },
    });
    expect(imported.status).toBe(201);
    const [t1, t2] = imported.body.tasks;
    expect(t1.stage.kind).toBe('annotate');
    expect(t2.assignee).toBe(ann.id);

    const l1 = await call('POST', `/v1/tasks/${t1.id}/labels`, { key: annKey, body: { result: [{ type: 'rectanglelabels', value: { x: 1 } }], time_ms: 4000 } });
    expect(l1.status).toBe(201);
    expect(l1.body.completed_by).toBe(ann.id);
    expect(l1.body.lead_time).toBe(4);
    const e1 = await call('PATCH', `/v1/labels/${l1.body.id}`, { key: annKey, body: { result: [{ type: 'rectanglelabels', value: { x: 2 } }], time_ms: 1500 } });
    expect(e1.status).toBe(200);
    expect(e1.body.lead_time).toBe(5.5);

    const s1 = await call('POST', `/v1/tasks/${t1.id}/submit`, { key: annKey, body: { time_ms: 200 } });
    expect(s1.status).toBe(200);
    expect(s1.body.stage.kind).toBe('review');

    const rejected = await call('POST', `/v1/labels/${l1.body.id}/review`, { key: revKey, body: { decision: 'reject', time_ms: 900, comment: 'box too loose' } });
    expect(rejected.status).toBe(200);
    expect(rejected.body.task.stage.kind).toBe('annotate');
    expect(rejected.body.label.review_status).toBe('rejected');

    await call('PATCH', `/v1/labels/${l1.body.id}`, { key: annKey, body: { result: [{ type: 'rectanglelabels', value: { x: 3 } }], time_ms: 700 } });
    expect((await call('POST', `/v1/tasks/${t1.id}/submit`, { key: annKey })).status).toBe(200);
    const accepted = await call('POST', `/v1/labels/${l1.body.id}/review`, { key: revKey, body: { decision: 'accept', time_ms: 300 } });
    expect(accepted.status).toBe(200);
    expect(accepted.body.task.stage.kind).toBe('complete');

    // The second task: a label, then deleted, then the task itself deleted.
    const l2 = await call('POST', `/v1/tasks/${t2.id}/labels`, { key: annKey, body: { result: [], was_cancelled: true } });
    expect((await call('DELETE', `/v1/labels/${l2.body.id}`, { key: annKey })).status).toBe(204);
    expect((await call('DELETE', `/v1/tasks/${t2.id}`)).status).toBe(204);

    // A project without a review stage: submission completes the task at once.
    const quick = (await call('POST', '/v1/projects', { body: { title: 'Quick', workflow: { stages: [{ kind: 'annotate' }, { kind: 'complete' }] } } })).body;
    const [q1] = (await call('POST', `/v1/projects/${quick.id}/tasks`, { body: { tasks: [{ data: { text: 'hello' } }] } })).body.tasks;
    const ql = (await call('POST', `/v1/tasks/${q1.id}/labels`, { key: annKey, body: { result: [{ value: 'greeting' }], lead_time: 2 } })).body;
    const qs = await call('POST', `/v1/tasks/${q1.id}/submit`, { key: annKey });
    expect(qs.body.stage.kind).toBe('complete');

    const upd = await call('PATCH', `/v1/projects/${project.id}`, { body: { title: 'Street scenes v2', status: 'InProgress' } });
    expect(upd.status).toBe(200);
    expect(upd.body.title).toBe('Street scenes v2');
    expect((await call('DELETE', `/v1/projects/${quick.id}`)).status).toBe(204);

    const events = await allEvents(api);
    const summary = events.map((e) => [e.type, e.project_id]);
    expect(summary).toEqual([
      ['project.created', project.id],
      ['task.created', project.id],
      ['annotation.created', project.id],
      ['annotation.updated', project.id],
      ['task.submitted', project.id],
      ['review.rejected', project.id],
      ['annotation.updated', project.id],
      ['task.submitted', project.id],
      ['review.accepted', project.id],
      ['task.completed', project.id],
      ['annotation.created', project.id],
      ['annotation.deleted', project.id],
      ['task.deleted', project.id],
      ['project.created', quick.id],
      ['task.created', quick.id],
      ['annotation.created', quick.id],
      ['task.submitted', quick.id],
      ['task.completed', quick.id],
      ['project.updated', project.id],
      ['project.status_changed', project.id],
      ['project.deleted', quick.id],
    ]);

    // Ids are UUIDv7 and strictly increasing in commit order.
    const ids = events.map((e) => e.id);
    expect(ids.every((id) => /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id))).toBe(true);
    expect([...ids].sort()).toEqual(ids);

    const byType = (type: string, n = 0) => events.filter((e) => e.type === type)[n];
    // task.created: one event for the batch, listing every task.
    expect(byType('task.created').data.tasks.map((t: any) => t.id)).toEqual([t1.id, t2.id]);
    // Actors are the users whose keys acted.
    expect(byType('annotation.created').actor).toMatchObject({ user_id: ann.id, email: 'ann@example.com' });
    expect(byType('review.rejected').actor.user_id).toBe(rev.id);
    // before/after snapshots where an entity changed.
    const edit = byType('annotation.updated');
    expect(edit.before.result[0].value.x).toBe(1);
    expect(edit.after.result[0].value.x).toBe(2);
    const submitted = byType('task.submitted');
    expect(submitted.data).toMatchObject({ from_stage: 'annotate', to_stage: 'review', submitted_by: ann.id });
    expect(submitted.data.labels).toEqual([{ id: l1.body.id, label_hash: l1.body.label_hash, completed_by: ann.id }]);
    expect(submitted.before.stage.kind).toBe('annotate');
    expect(submitted.after.stage.kind).toBe('review');
    expect(byType('review.rejected').data.review).toMatchObject({ decision: 'reject', reviewer: rev.id, time_ms: 900, comment: 'box too loose' });
    expect(byType('review.rejected').data.task.stage.kind).toBe('annotate');
    const completed = byType('task.completed');
    expect(completed.data.task.data_hash).toBe(t1.data_hash);
    expect(completed.data.labels[0].label_hash).toBe(l1.body.label_hash);
    expect(completed.after.stage.kind).toBe('complete');
    expect(byType('task.submitted', 2).data.to_stage).toBe('complete');
    expect(byType('task.completed', 1).data.labels[0].id).toBe(ql.id);
    expect(byType('annotation.deleted').data.labels).toEqual([{ id: l2.body.id, label_hash: l2.body.label_hash }]);
    expect(byType('task.deleted').data.tasks).toEqual([{ id: t2.id, data_hash: t2.data_hash }]);
    expect(byType('project.updated').data.changed).toEqual(['title']);
    expect(byType('project.status_changed').data).toMatchObject({ from: 'NotStarted', to: 'InProgress' });
    expect(byType('project.deleted').data.project).toEqual({ id: quick.id, project_hash: quick.project_hash, title: 'Quick' });
    expect(byType('project.deleted').before.title).toBe('Quick');

    // Filters: by type (repeatable) and by project.
    const filtered = await call('GET', `/v1/events?type=task.submitted&type=task.completed&project_id=${project.id}`);
    expect(filtered.body.data.map((e: any) => e.type)).toEqual(['task.submitted', 'task.submitted', 'task.completed']);
    const one = await call('GET', `/v1/events/${completed.id}`);
    expect(one.body).toEqual(completed);

    // Label history records who did what and how long it took.
    const history = await call('GET', `/v1/labels/${l1.body.id}/history`);
    expect(history.body.data.map((a: any) => [a.kind, a.user, a.duration_ms])).toEqual([
      ['label_add', ann.id, 4000],
      ['label_edit', ann.id, 1500],
      ['label_submit', ann.id, 200],
      ['review_reject', rev.id, 900],
      ['label_edit', ann.id, 700],
      ['label_submit', ann.id, 0],
      ['review_accept', rev.id, 300],
    ]);

    // Label Studio counters, derived now: t1 labelled, t2 deleted.
    const counters = (await call('GET', `/v1/projects/${project.id}`)).body;
    expect(counters).toMatchObject({
      task_number: 1,
      finished_task_number: 1,
      total_annotations_number: 1,
      num_tasks_with_annotations: 1,
      useful_annotation_number: 1,
      ground_truth_number: 0,
      skipped_annotations_number: 0,
      total_predictions_number: 0,
    });

    // The other organization sees none of it.
    const other = await call('GET', '/v1/events', { key: api.b.key });
    expect(other.body.data).toEqual([]);
  });
});
