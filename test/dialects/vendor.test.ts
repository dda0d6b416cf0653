// Vendor-compatible webhooks: the seeds' three ways of declaring webhooks, through the API
// on both databases, and receivers that check every body against the seed's example for the
// same situation (same keys, same JSON types at every depth) and, for SuperAnnotate, the HMAC.
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KINDS } from '../helpers/stores.js';
import { setupApi, type TestApi } from '../helpers/api.js';
import { startReceiver, waitFor, type Receiver } from '../helpers/receiver.js';
import { LS_COUNTERS, seed, shapeOf } from '../helpers/shape.js';

const NER_CONFIG = seed('label-studio-ANNOTATION_CREATED').project.label_config as string;
const IMAGE_CONFIG = seed('label-studio-ANNOTATION_UPDATED').project.label_config as string;
const lsExtras = new Set(LS_COUNTERS);

function expectSeedShape(body: unknown, seedName: string, extras = lsExtras) {
  expect(shapeOf(body, extras), seedName).toEqual(shapeOf(seed(seedName)));
}

describe.each(KINDS)('vendor webhooks on %s', (kind) => {
  let api: TestApi;
  let rx: Receiver;
  let users: { ann: any; rev: any };

  beforeAll(async () => {
    api = await setupApi(kind, { worker: true });
    rx = await startReceiver();
    const ann = (await api.call('POST', '/v1/users', { body: { email: 'annotator@example.com', name: 'Annotator Name', role: 'annotator' } })).body;
    const rev = (await api.call('POST', '/v1/users', { body: { email: 'qa@example.com', name: 'QA Name', role: 'reviewer' } })).body;
    users = { ann, rev };
  });
  afterAll(async () => {
    await rx?.close();
    await api?.close();
  });

  const at = (path: string) => rx.received.filter((r) => r.path === path);

  it('Encord stage webhooks: Annotate fires task_submitted_event, Complete fires task_completed_event', async () => {
    const refused = await api.call('POST', '/v1/projects', {
      body: { title: 'x', workflow: { stages: [{ kind: 'annotate' }, { kind: 'review', webhooks: [`${rx.url}/review`] }, { kind: 'complete' }] } },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.message).toMatch(/only be added to Annotate and Complete stages/);

    const p = (await api.call('POST', '/v1/projects', {
      body: { title: 'Encord style', workflow: { stages: [{ kind: 'annotate', webhooks: [`${rx.url}/enc-annotate`] }, { kind: 'review' }, { kind: 'complete', webhooks: [`${rx.url}/enc-complete`] }] } },
    })).body;
    const wf = (await api.call('GET', `/v1/projects/${p.id}/workflow`)).body;
    expect(wf.stages.map((s: any) => s.webhooks.map((w: any) => w.url))).toEqual([[`${rx.url}/enc-annotate`], [], [`${rx.url}/enc-complete`]]);
    // Each stage webhook is a notification like any other.
    const n = (await api.call('GET', `/v1/notifications/${wf.stages[0].webhooks[0].notification}`)).body;
    expect(n).toMatchObject({ origin: 'stage', stage_id: wf.stages[0].id, triggers: ['task.submitted'], scope: { projects: [p.id] } });
    expect(n.channels[0].dialect).toBe('encord');

    const t = (await api.call('POST', `/v1/projects/${p.id}/tasks`, { body: { tasks: [{ data: { image: 'a.png' } }] } })).body.tasks[0];
    const l = (await api.call('POST', `/v1/tasks/${t.id}/labels`, { body: { result: [] } })).body;
    await api.call('POST', `/v1/tasks/${t.id}/submit`);
    await api.call('POST', `/v1/labels/${l.id}/review`, { body: { decision: 'accept' } });
    const [submitted] = await waitFor(() => (at('/enc-annotate').length === 1 ? at('/enc-annotate') : null), 'task_submitted_event');
    const [completed] = await waitFor(() => (at('/enc-complete').length === 1 ? at('/enc-complete') : null), 'task_completed_event');
    expectSeedShape(submitted!.json, 'encord-task_submitted_event');
    expectSeedShape(completed!.json, 'encord-task_completed_event');
    expect(submitted!.json).toMatchObject({ version: 1, source: 'Encord', event_type: 'task_submitted_event', payload: { project_hash: p.project_hash, data_hashes: [t.data_hash], label_hashes: [l.label_hash] } });
    expect(completed!.json.payload).toEqual({ label_hash: l.label_hash, project_hash: p.project_hash, data_hash: t.data_hash });
    expect(submitted!.json.event_created_timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/);

    // Editing the workflow replaces a stage's webhooks; the rest stay.
    await api.call('PUT', `/v1/projects/${p.id}/workflow`, { body: { stages: [{ kind: 'annotate', webhooks: [] }, { kind: 'review' }, { kind: 'complete' }] } });
    const after = (await api.call('GET', `/v1/projects/${p.id}/workflow`)).body;
    expect(after.stages.map((s: any) => s.webhooks.length)).toEqual([0, 0, 1]);
  });

  it('Label Studio webhooks: every action of the walk matches the seed payloads', async () => {
    const hook = await api.call('POST', '/v1/webhooks', { body: { url: `${rx.url}/ls`, headers: { 'X-Token': 'abc' } } });
    expect(hook.status).toBe(201);
    expect(hook.body).toMatchObject({ project: null, send_payload: true, send_for_all_actions: true, is_active: true, actions: [], headers: { 'X-Token': '****' } });

    // Three projects reproduce the seed's three situations (label configs and data shapes).
    const empty = (await api.call('POST', '/v1/projects', { body: { title: 'New Project #3', label_config: '<View></View>' } })).body;
    const ner = (await api.call('POST', '/v1/projects', { body: { title: 'New Project #2', label_config: NER_CONFIG } })).body;
    const image = (await api.call('POST', '/v1/projects', { body: { title: 'New Project #5', label_config: IMAGE_CONFIG } })).body;
    const created = seed('label-studio-TASKS_CREATED').tasks.map((t: any) => ({ data: t.data }));
    await api.call('POST', `/v1/projects/${empty.id}/tasks`, { body: { tasks: created } });
    const nerTasks = (await api.call('POST', `/v1/projects/${ner.id}/tasks`, { body: { tasks: created } })).body.tasks;
    const a1 = seed('label-studio-ANNOTATION_CREATED').annotation;
    const label = (await api.call('POST', `/v1/tasks/${nerTasks[0].id}/labels`, { body: { result: a1.result, lead_time: a1.lead_time } })).body;
    await api.call('DELETE', `/v1/labels/${label.id}`);
    await api.call('DELETE', `/v1/tasks/${nerTasks[1].id}`);
    const imgTask = (await api.call('POST', `/v1/projects/${image.id}/tasks`, { body: { tasks: [{ data: { image: 's3://b/1.png' } }] } })).body.tasks[0];
    const a2 = seed('label-studio-ANNOTATION_UPDATED').annotation;
    const imgLabel = (await api.call('POST', `/v1/tasks/${imgTask.id}/labels`, { body: { result: [], lead_time: 1 } })).body;
    // Another user updates it: ANNOTATION_UPDATED names them (seed 003: "ID of the user that
    // updated the annotation"), not the label's creator.
    await api.call('PATCH', `/v1/labels/${imgLabel.id}`, { body: { result: a2.result, lead_time: 298.3, edited_by: users.ann.id } });
    await api.call('PATCH', `/v1/projects/${image.id}`, { body: { title: 'New Project #5b' } });
    await api.call('DELETE', `/v1/projects/${empty.id}`);

    const bodies = await waitFor(() => (at('/ls').some((r) => r.json.action === 'PROJECT_DELETED') ? at('/ls') : null), 'the Label Studio webhooks');
    const first = (action: string, projectId?: number) =>
      bodies.find((r) => r.json.action === action && (projectId === undefined || r.json.project?.id === projectId))!.json;
    for (const r of bodies) expect(r.headers['x-token']).toBe('abc');
    expectSeedShape(first('PROJECT_CREATED', empty.id), 'label-studio-PROJECT_CREATED');
    expectSeedShape(first('TASKS_CREATED', empty.id), 'label-studio-TASKS_CREATED');
    expectSeedShape(first('ANNOTATION_CREATED', ner.id), 'label-studio-ANNOTATION_CREATED');
    expectSeedShape(first('ANNOTATIONS_DELETED', ner.id), 'label-studio-ANNOTATIONS_DELETED');
    // One task deleted is TASK_DELETED (seed 003: "TASK_DELETED or TASKS_DELETED if multiple
    // tasks were deleted at once"), in the same shape as the seed's TASKS_DELETED example.
    expect(bodies.some((r) => r.json.action === 'TASKS_DELETED')).toBe(false);
    expectSeedShape(first('TASK_DELETED', ner.id), 'label-studio-TASKS_DELETED');
    expectSeedShape(first('ANNOTATION_UPDATED', image.id), 'label-studio-ANNOTATION_UPDATED');
    expectSeedShape(first('PROJECT_UPDATED', image.id), 'label-studio-PROJECT_UPDATED');
    expectSeedShape(first('PROJECT_DELETED'), 'label-studio-PROJECT_DELETED');
    // Values, not only shapes: the entity and the project's counters as Label Studio names them.
    const annCreated = first('ANNOTATION_CREATED', ner.id);
    expect(annCreated.annotation).toMatchObject({ id: label.id, task: nerTasks[0].id, result: a1.result, lead_time: a1.lead_time, was_cancelled: false, ground_truth: false });
    expect(annCreated.project.control_weights).toEqual(seed('label-studio-ANNOTATION_CREATED').project.control_weights);
    expect(annCreated.project.data_types).toEqual({ ner: 'Text' });
    expect(first('ANNOTATION_UPDATED', image.id).project.data_types).toEqual({ image: 'Image' });
    expect(first('TASKS_CREATED', empty.id).project).toMatchObject({ task_number: 3 });
    expect(first('TASK_DELETED', ner.id).tasks).toEqual([{ id: nerTasks[1].id }]);
    expect(imgLabel.completed_by).toBe(api.a.adminId);
    expect(first('ANNOTATION_UPDATED', image.id).annotation.completed_by).toBe(users.ann.id);
    expect(first('ANNOTATION_CREATED', ner.id).annotation.completed_by).toBe(api.a.adminId);
    expect(first('PROJECT_DELETED')).toEqual({ action: 'PROJECT_DELETED', project: { id: empty.id } });
    // Workflow-only events have no Label Studio action and are not sent.
    expect(bodies.every((r) => typeof r.json.action === 'string')).toBe(true);
  });

  it('Label Studio: a retry sends the project counters as they were when the event happened', async () => {
    const p = (await api.call('POST', '/v1/projects', { body: { title: 'Counters' } })).body;
    await api.call('POST', `/v1/projects/${p.id}/tasks`, { body: { tasks: [{ data: { n: 1 } }] } });
    const hook = (await api.call('POST', '/v1/webhooks', { body: { url: `${rx.url}/ls-snap`, project: p.id, send_for_all_actions: false, actions: ['PROJECT_UPDATED'] } })).body;
    const seen: any[] = [];
    const raw: string[] = [];
    const flaky = await startReceiver(async (r, n, res) => {
      seen.push(r.json);
      raw.push(r.body);
      if (n === 1) {
        // Between the first attempt and its retry the project grows.
        await api.call('POST', `/v1/projects/${p.id}/tasks`, { body: { tasks: [{ data: { n: 2 } }, { data: { n: 3 } }] } });
        res.writeHead(500).end('try again');
      } else res.writeHead(200).end('ok');
    });
    try {
      await api.call('PATCH', `/v1/webhooks/${hook.id}`, { body: { url: `${flaky.url}/ls-snap` } });
      await api.call('PATCH', `/v1/projects/${p.id}`, { body: { description: 'one task so far' } });
      await waitFor(() => seen.length >= 2, 'the retry');
      expect(seen[0].project.task_number).toBe(1);
      expect(seen[1].project).toEqual(seen[0].project);
      // A Label Studio body depends on more than the event (the counters loaded to send it):
      // the attempt log stores it as sent, unlike a Standard Webhooks body (migration 0009).
      await waitFor(async () => (await api.store.db.selectFrom('attempts').select('id').where('url', '=', `${flaky.url}/ls-snap`).execute()).length === 2, 'both attempts recorded');
      const stored = await api.store.db.selectFrom('attempts').select(['request_body', 'request_body_from']).where('url', '=', `${flaky.url}/ls-snap`).orderBy('id').execute();
      expect(stored).toEqual(raw.slice(0, 2).map((body) => ({ request_body: body, request_body_from: null })));
      // The API's view of the event does not carry the internal snapshot.
      const events = (await api.call('GET', `/v1/events?type=project.updated&project_id=${p.id}`)).body.data;
      expect(events.at(-1).data.project_state).toBeUndefined();
    } finally {
      await flaky.close();
    }
  });

  it('Label Studio: project level, send_payload false, actions filter, validation, 50-failure disable and re-enable', async () => {
    const p = (await api.call('POST', '/v1/projects', { body: { title: 'LS project level' } })).body;
    const bad = await api.call('POST', '/v1/webhooks', { body: { url: `${rx.url}/x`, project: p.id, send_for_all_actions: false, actions: ['PROJECT_CREATED'] } });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/organization-level webhooks only/);
    expect((await api.call('POST', '/v1/webhooks', { body: { url: `${rx.url}/x`, headers: { 'bad name': 'x' } } })).status).toBe(400);
    expect((await api.call('POST', '/v1/webhooks', { body: { url: `${rx.url}/x`, headers: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`H${i}`, 'v'])) } })).status).toBe(400);
    expect((await api.call('POST', '/v1/webhooks', { body: { url: `${rx.url}/x`, actions: ['TASK_EXPLODED'] } })).status).toBe(400);

    const hook = (await api.call('POST', '/v1/webhooks', { body: { url: `${rx.url}/ls-min`, project: p.id, send_payload: false, send_for_all_actions: false, actions: ['PROJECT_UPDATED'] } })).body;
    await api.call('POST', `/v1/projects/${p.id}/tasks`, { body: { tasks: [{ data: {} }] } });
    await api.call('PATCH', `/v1/projects/${p.id}`, { body: { status: 'InProgress' } });
    const got = await waitFor(() => at('/ls-min')[0], 'PROJECT_UPDATED');
    await new Promise((r) => setTimeout(r, 200));
    expect(at('/ls-min').map((r) => r.body)).toEqual(['{"action":"PROJECT_UPDATED"}']);
    expect(got.json).toEqual({ action: 'PROJECT_UPDATED' });
    expect((await api.call('GET', `/v1/webhooks?project=${p.id}`)).body.data.map((w: any) => w.id)).toEqual([hook.id]);

    // Label Studio's health rule: disabled after 50 consecutive failures.
    const n = (await api.call('GET', `/v1/notifications/${hook.id}`)).body;
    expect(n.channels[0].disable_after_failures).toBe(50);
    // A 410 disables it at once; a new URL re-enables it and starts its health afresh.
    const gone = await startReceiver((_r, _n, res) => res.writeHead(410).end());
    try {
      await api.call('PATCH', `/v1/webhooks/${hook.id}`, { body: { url: `${gone.url}/gone` } });
      await api.call('PATCH', `/v1/projects/${p.id}`, { body: { title: 'again' } });
      await waitFor(async () => (await api.call('GET', `/v1/webhooks/${hook.id}`)).body.is_active === false, 'the webhook to be disabled');
      const back = await api.call('PATCH', `/v1/webhooks/${hook.id}`, { body: { url: `${rx.url}/ls-min` } });
      expect(back.body.is_active).toBe(true);
      expect((await api.call('GET', `/v1/notifications/${hook.id}`)).body.channels[0].health).toMatchObject({ state: 'healthy', failure_streak: 0 });
    } finally {
      await gone.close();
    }
    expect((await api.call('DELETE', `/v1/webhooks/${hook.id}`)).status).toBe(204);
    expect((await api.call('GET', `/v1/webhooks/${hook.id}`)).status).toBe(404);
  });

  it('SuperAnnotate pipelines: item bodies match the seed, HMAC verifies, status filters apply', async () => {
    const secret = 'sa-pipeline-secret-42';
    const p = (await api.call('POST', '/v1/projects', { body: { title: 'MyProject' } })).body;
    const items = (await api.call('POST', '/v1/pipelines', {
      body: { name: 'Items to my service', project: p.id, trigger: { event: 'task.created' }, action: { type: 'send_webhook', request_url: `${rx.url}/sa-items`, secret } },
    })).body;
    expect(items).toMatchObject({ name: 'Items to my service', project: p.id, trigger: { event: 'task.created' }, action: { type: 'send_webhook', request_url: `${rx.url}/sa-items`, signed: true } });
    const status = (await api.call('POST', '/v1/pipelines', {
      body: { name: 'Started', trigger: { event: 'project.status_changed', from: ['NotStarted'], to: ['InProgress'] }, action: { type: 'send_webhook', request_url: `${rx.url}/sa-status` } },
    })).body;
    expect(status.trigger).toEqual({ event: 'project.status_changed', from: ['NotStarted'], to: ['InProgress'] });
    const created = (await api.call('POST', '/v1/pipelines', {
      body: { name: 'New projects', trigger: { event: 'project.created' }, action: { type: 'send_webhook', request_url: `${rx.url}/sa-projects` } },
    })).body;

    await api.call('POST', `/v1/projects/${p.id}/tasks`, {
      body: { tasks: [1, 2, 3].map((i) => ({ data: { image: `s3://bucket/image_${i}.jpg` }, assignee: users.ann.id, reviewer: users.rev.id })) },
    });
    // One message per item, each signed over its exact bytes.
    const got = await waitFor(() => (at('/sa-items').length === 3 ? at('/sa-items') : null), 'three item messages');
    for (const r of got) {
      expect(r.headers['x-authorization-content-sha256']).toBe(crypto.createHmac('sha256', secret).update(r.body).digest('hex'));
      expect(r.headers['x-event']).toBe('item c');
      expect(r.headers['accept']).toBe('application/json;charset=UTF-8');
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['x-delivery']).toMatch(/^\d+$/);
      expectSeedShape(r.json, 'superannotate-item-c', new Set());
      expect(r.json.after).toMatchObject({ project_id: p.id, annotation_status: 'New', annotator_id: 'annotator@example.com', annotator_name: 'Annotator Name', qa_id: 'qa@example.com', qa_name: 'QA Name', approval_status: null });
    }
    expect(got.map((r) => r.json.after.name).sort()).toEqual(['image_1.jpg', 'image_2.jpg', 'image_3.jpg']);
    expect(new Set(got.map((r) => r.headers['x-delivery'])).size).toBe(3);
    expect(Object.keys(seed('superannotate-headers')).map((h) => h.toLowerCase()).every((h) => h in got[0]!.headers)).toBe(true);

    // Status filter: NotStarted -> OnHold is not wanted; OnHold -> InProgress neither (from);
    // a new project NotStarted -> InProgress is.
    await api.call('PATCH', `/v1/projects/${p.id}`, { body: { status: 'OnHold' } });
    await api.call('PATCH', `/v1/projects/${p.id}`, { body: { status: 'InProgress' } });
    const q = (await api.call('POST', '/v1/projects', { body: { title: 'Q' } })).body;
    await api.call('PATCH', `/v1/projects/${q.id}`, { body: { status: 'InProgress' } });
    const [s] = await waitFor(() => (at('/sa-status').length ? at('/sa-status') : null), 'the status message');
    await new Promise((r) => setTimeout(r, 200));
    expect(at('/sa-status')).toHaveLength(1);
    expect(s!.headers['x-event']).toBe('project u');
    expect(s!.json).toMatchObject({ op: 'u', before: { id: q.id, status: 'NotStarted' }, after: { id: q.id, status: 'InProgress', name: 'Q' } });
    expect(s!.headers['x-authorization-content-sha256']).toBeUndefined();
    // Seed 004's project example, key by key (issue 10: only 8 of its fields were sent).
    const projectSeed = seed('superannotate-project-c');
    expect(shapeOf(s!.json.after), 'project u after').toEqual(shapeOf(projectSeed.after));
    expect(shapeOf(s!.json.before), 'project u before').toEqual(shapeOf(projectSeed.after));
    expect(s!.json.after).toMatchObject({ type: 'Vector', options: 0, deletedAt: 0, is_pinned: false, creator_id: 'admin@a.test', description: null, upload_state: 'Initial', entropy_status: 'NotStarted' });
    const [c] = await waitFor(() => (at('/sa-projects').length >= 1 ? at('/sa-projects') : null), 'the project created message');
    expect(c!.headers['x-event']).toBe('project c');
    expectSeedShape(c!.json, 'superannotate-project-c', new Set());
    expect(c!.json.after).toMatchObject({ name: 'Q', status: 'NotStarted', creator_id: 'admin@a.test' });
    expect((await api.call('GET', '/v1/pipelines')).body.data.map((x: any) => x.id)).toEqual([items.id, status.id, created.id]);
    expect((await api.call('DELETE', `/v1/pipelines/${status.id}`)).status).toBe(204);
  });

  it('refuses triggers a dialect cannot express', async () => {
    const res = await api.call('POST', '/v1/notifications', {
      body: { title: 'x', triggers: ['review.accepted'], channels: [{ type: 'webhook', url: `${rx.url}/x`, dialect: 'encord' }] },
    });
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/encord dialect has no message for review.accepted/);
    const sp = await api.call('POST', '/v1/notifications', { body: { title: 'x', triggers: ['all'], channels: [{ type: 'webhook', url: `${rx.url}/x`, send_payload: false }] } });
    expect(sp.body.message).toMatch(/send_payload applies to the label-studio dialect only/);
  });
});
